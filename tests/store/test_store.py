"""The archive on both backends: idempotent writes, out-of-order arrivals, exact 64-bit ids,
cone search and cutouts."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from lanner.store import StoreError, open_store
from lanner.store.reading import (
    angular_separation_deg,
    cone_search,
    cutout,
    light_curve,
    object_position,
)
from tests.helpers import SERIES, enriched, packets_of


def _objects(store, oid: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    cur = store.con.execute(f'SELECT * FROM objects ORDER BY "{oid}"')
    return [tuple(r) for r in cur.fetchall()]


def test_reingest_changes_nothing(db_url: str, alerts_dir: Path) -> None:
    packets = packets_of([alerts_dir / "ztf" / "skyportal__kowalski"])
    store = open_store(db_url, "ztf")
    first = store.write_batch(enriched(packets, "ztf"))
    assert first.alerts_new == len(packets) and first.objects_updated > 0
    counts, rows = store.counts(), _objects(store, "objectId")
    again = store.write_batch(enriched(packets, "ztf"))
    assert again.alerts_new == 0 and again.objects_updated == 0
    assert sum(again.rows_added.values()) == 0
    assert store.counts() == counts and _objects(store, "objectId") == rows
    store.close()


def test_out_of_order_arrival_keeps_newest_alert(db_url: str, alerts_dir: Path) -> None:
    """34 alerts of one object, stored one by one in shuffled order, end as in time order."""
    files = sorted((alerts_dir / SERIES).glob("*.avro"))
    assert len(files) == 34
    packets = packets_of(files)
    shuffled = packets[:]
    random.Random(7).shuffle(shuffled)
    store = open_store(db_url, "ztf")
    for p in shuffled:
        store.write_batch(enriched([p], "ztf"))
    newest = enriched(packets, "ztf")
    jdmax = newest.enriched["objects"]["jdmax"].to_numpy()
    row = store.con.execute(
        'SELECT jdmax, ncand FROM objects WHERE "objectId" = '
        + ("?" if db_url.startswith("sqlite") else "%s"),
        ("ZTF21abiuvdk",),
    ).fetchone()
    assert row[0] == pytest.approx(jdmax.max(), abs=1e-9)
    assert row[1] == newest.enriched["objects"]["ncand"].to_numpy()[np.argmax(jdmax)]
    # The light curve is the union of every packet's detections, without duplicates.
    det = newest.detections
    union = {
        (round(m, 7), b)
        for m, b in zip(det["mjd"].to_pylist(), det["band"].to_pylist(), strict=True)
    }
    curve = light_curve(store, "ZTF21abiuvdk")["detections"]
    assert {(round(r["mjd"], 7), r["band"]) for r in curve} == union
    assert len(curve) == len(union)
    store.close()


def test_rubin_ids_stay_exact(db_url: str, alerts_dir: Path) -> None:
    packets = packets_of([alerts_dir / "lsst" / "alercebroker__pipeline" / "libs"])
    store = open_store(db_url, "lsst")
    store.write_batch(enriched(packets, "lsst"))
    ids = {r[0] for r in store.con.execute('SELECT "diaObjectId" FROM objects').fetchall()}
    assert 169298433221853273 in ids  # > 2**53: would change through a float
    assert float(169298433221853273) != 169298433221853273
    store.close()


def test_cone_search_finds_objects_by_exact_separation(db_url: str, alerts_dir: Path) -> None:
    packets = packets_of([alerts_dir / "ztf" / "skyportal__kowalski"])
    store = open_store(db_url, "ztf")
    store.write_batch(enriched(packets, "ztf"))
    rows = store.con.execute('SELECT "objectId", ramean, decmean FROM objects').fetchall()
    oid, ra, dec = rows[0]
    ras = np.array([r[1] for r in rows])
    decs = np.array([r[2] for r in rows])
    for radius in (1.0, 3600.0 * 5):
        expected = {
            rows[i][0]
            for i in np.flatnonzero(angular_separation_deg(ras, decs, ra, dec) * 3600 <= radius)
        }
        found = cone_search(store, ra, dec, radius)
        assert {f["objectId"] for f in found} == expected
        assert found[0]["objectId"] == oid and found[0]["separation_arcsec"] < 1e-6
    assert object_position(store, oid) == pytest.approx((ra, dec))
    with pytest.raises(ValueError, match="out of range"):
        cone_search(store, 400.0, 0.0, 10.0)
    store.close()


def test_cutouts_come_back_as_fits(db_url: str, alerts_dir: Path) -> None:
    packets = packets_of([alerts_dir / "ztf" / "boom-astro__boom" / "data"])
    batch = enriched(packets, "ztf")
    store = open_store(db_url, "ztf")
    store.write_batch(batch)
    alert_id = batch.alerts["alert_id"][0].as_py()
    for kind in ("science", "template", "difference"):
        fits = cutout(store, alert_id, kind)
        assert fits is not None and fits.startswith(b"SIMPLE  =")
    assert cutout(store, alert_id + 1, "science") is None
    store.close()


def test_survey_mismatch_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    open_store(url, "ztf").close()
    with pytest.raises(StoreError, match="serves survey 'ztf'"):
        open_store(url, "lsst")
    with pytest.raises(StoreError, match="unsupported database URL"):
        open_store("mysql://x")
