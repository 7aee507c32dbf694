"""Light-curve rows: one per source, the newest packet's values whatever the arrival order,
nothing rewritten when a packet repeats stored history; upgrade from the first layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lanner.batch import AlertBatch
from lanner.ingest import assemble
from lanner.ingest.packets import RawPacket
from lanner.store import StoreError, open_store
from lanner.store.backends import backend_for
from lanner.store.upgrade import LEGACY_FORCED, upgrade_light_curves
from tests.helpers import SERIES, enriched, packets_of

DEEP = "lsst/astrolabsoftware__fink-client/datatest/lsst/part-2-918301.avro"
LIGHT_CURVES = ("detections", "forced_photometry", "upper_limits")


def _table(store, name: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    cur = store.con.execute(f'SELECT * FROM "{name}"')
    return sorted((tuple(r) for r in cur.fetchall()), key=repr)


def _revised(batch: AlertBatch) -> AlertBatch:
    """The batch with every history detection's reliability changed, as a reprocessing
    would; the triggering detections keep theirs."""
    det = batch.detections
    history = ~np.isin(det["source_id"].to_numpy(), batch.alerts["alert_id"].to_numpy())
    rel = det["reliability"].to_numpy(zero_copy_only=False)
    new = np.where(history, np.round(1.0 - np.nan_to_num(rel, nan=0.5), 6), rel)
    i = det.column_names.index("reliability")
    batch.detections = det.set_column(i, "reliability", pa.array(new))
    return batch


def test_distinct_sources_of_one_visit_are_two_rows(db_url: str, alerts_dir: Path) -> None:
    """diaObject 313897383979122767 has nDiaSources 320, two of them in one visit and band."""
    store = open_store(db_url, "lsst")
    store.write_batch(enriched(packets_of([alerts_dir / DEEP]), "lsst"))
    ph = store.backend.placeholder
    n, visits = store.con.execute(
        f'SELECT COUNT(*), COUNT(DISTINCT mjd || band) FROM detections WHERE "diaObjectId" = {ph}',
        (313897383979122767,),
    ).fetchone()
    assert (n, visits) == (320, 319)
    store.close()


def test_newest_packet_wins_in_either_order(db_url: str, alerts_dir: Path, tmp_path: Path) -> None:
    files = sorted((alerts_dir / SERIES).glob("*.avro"))
    older, newer = (
        enriched(packets_of(files[:10]), "ztf"),
        _revised(enriched(packets_of(files[10:20]), "ztf")),
    )
    archives = []
    for order in ((older, newer), (newer, older)):
        url = db_url if not archives else _second(db_url, tmp_path)
        store = open_store(url, "ztf")
        reports = [store.write_batch(b) for b in order]
        archives.append(_light_curve_tables(store))
        if order[0] is newer:
            # The older alerts' own candidates replace the newer packets' revised copies.
            assert reports[1].rows_updated["detections"] > 0
        store.close()
    assert archives[0] == archives[1]
    # The stored reliabilities are the newer packets' wherever they carry the source, except
    # for a source that is an alert of its own: its own copy outranks every history copy.
    own = {
        s: r
        for b in (older, newer)
        for s, r, a in zip(
            b.detections["source_id"].to_pylist(),
            b.detections["reliability"].to_pylist(),
            b.alerts["alert_id"].take(b.detections["row"]).to_pylist(),
            strict=True,
        )
        if s == a  # the row of the alert's own candidate
    }
    revised = dict(
        zip(
            newer.detections["source_id"].to_pylist(),
            newer.detections["reliability"].to_pylist(),
            strict=True,
        )
    )
    expected = {s: own.get(s, r) for s, r in revised.items()}
    assert any(own[s] != revised[s] for s in set(own) & set(revised))  # the rule matters
    store = open_store(db_url, "ztf")
    rows = store.con.execute("SELECT source_id, reliability FROM detections").fetchall()
    assert {s: r for s, r in rows if s in revised} == expected
    store.close()


def _light_curve_tables(store) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    return {t: _table(store, t) for t in (*LIGHT_CURVES, "light_curve_state")}


def _second(db_url: str, tmp_path: Path) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'second.db'}"
    # A second PostgreSQL schema: the same URL with the first one's tables cleared.
    store = open_store(db_url)
    for table in (*LIGHT_CURVES, "light_curve_state", "alerts", "objects", "cutouts"):
        store.con.execute(f'DELETE FROM "{table}"')
    store.con.commit()
    store.close()
    return db_url


def test_repeated_history_is_not_rewritten(db_url: str, alerts_dir: Path) -> None:
    """Equal values: nothing written again, and the provenance is the oldest packet's."""
    files = sorted((alerts_dir / SERIES).glob("*.avro"))
    first, later = enriched(packets_of(files[:5]), "ztf"), enriched(packets_of(files[5:]), "ztf")
    store = open_store(db_url, "ztf")
    store.write_batch(later)
    before = _table(store, "detections")
    report = store.write_batch(first)  # older packets carrying the same values
    assert report.rows_updated["detections"] > 0  # provenance moves to the older packet
    again = store.write_batch(later)
    assert sum(again.rows_added.values()) == 0 and sum(again.rows_updated.values()) == 0
    after = _table(store, "detections")
    assert len(after) == len(before)
    ids = {r[0] for r in store.con.execute("SELECT alert_id FROM detections").fetchall()}
    assert ids & set(first.alerts["alert_id"].to_pylist())
    store.close()


_D = "DOUBLE PRECISION"
_HEAD = f'"objectId" TEXT NOT NULL, mjd {_D} NOT NULL, band TEXT NOT NULL'
_KEY = 'PRIMARY KEY ("objectId", mjd, band)'
#: The light-curve tables as the first layout declared them (keyed by time and band).
LAYOUT_1 = {
    "detections": f"{_HEAD}, source_id INTEGER, ra {_D}, dec {_D}, flux {_D}, flux_err {_D}, "
    f"mag {_D}, mag_err {_D}, reliability {_D}, is_positive BOOLEAN, {_KEY}",
    "forced_photometry": f"{_HEAD}, flux {_D}, flux_err {_D}, {_KEY}",
    "upper_limits": f"{_HEAD}, limit_mag {_D}, limit_flux {_D}, {_KEY}",
}


def test_upgrade_from_the_first_layout(db_url: str) -> None:
    backend = backend_for(db_url)
    con = backend.connect()
    ph = backend.placeholder
    con.execute("CREATE TABLE lanner_meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute(f"INSERT INTO lanner_meta VALUES ({ph}, {ph})", ("survey", "ztf"))
    for name, body in LAYOUT_1.items():
        con.execute(f'CREATE TABLE "{name}" ({body})')
    con.execute(
        f"INSERT INTO detections VALUES ({', '.join([ph] * 12)})",
        ("ZTF1", 1.0, "g", 11, 1.0, 2.0, 3.0, 0.1, 18.0, 0.1, 0.9, True),
    )
    con.execute(
        f"INSERT INTO forced_photometry VALUES ({', '.join([ph] * 5)})",
        ("ZTF1", 1.0, "g", 1.0, 0.1),
    )
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="lanner db upgrade"):
        open_store(db_url)
    report = upgrade_light_curves(db_url)
    assert report.rows_copied == {"detections": 1}
    assert report.rows_set_aside == {"forced_photometry": 1}
    assert upgrade_light_curves(db_url).steps == []  # idempotent
    store = open_store(db_url)
    assert store.con.execute("SELECT source_id, mag FROM detections").fetchall() == [(11, 18.0)]
    assert store.con.execute(f'SELECT COUNT(*) FROM "{LEGACY_FORCED}"').fetchone()[0] == 1
    store.close()


def _later(batch: AlertBatch, k: int) -> AlertBatch:
    """The batch's alerts as their objects' alerts ``k`` days later: each triggering source
    moves to a new id one day later per round, and the history carries rounds 1..k-1."""
    shift = np.int64(10**6)
    alerts = batch.alerts
    ids = alerts["alert_id"].to_numpy()
    det = batch.detections
    trigger = det.filter(pc.is_in(det["source_id"], pa.array(ids)))
    parts = [det]
    for j in range(1, k + 1):
        moved = _with(trigger, source_id=trigger["source_id"].to_numpy() + j * shift)
        parts.append(_with(moved, mjd=moved["mjd"].to_numpy() + j))
    det = pa.concat_tables(parts)
    det = det.take(pc.sort_indices(det, [("row", "ascending"), ("mjd", "ascending")]))
    objects = batch.enriched["objects"]
    recency = objects["lastDiaSourceMjdTai"].to_numpy(zero_copy_only=False) + k
    return AlertBatch(
        survey="lsst",
        alerts=_with(alerts, alert_id=ids + k * shift, mjd=alerts["mjd"].to_numpy() + k),
        detections=det,
        forced=batch.forced,
        upper_limits=batch.upper_limits,
        cutouts=batch.cutouts.slice(0, 0),
        enriched={**batch.enriched, "objects": _with(objects, lastDiaSourceMjdTai=recency)},
    )


def _with(table: pa.Table, **columns: np.ndarray) -> pa.Table:
    for name, values in columns.items():
        field = table.schema.field(name)
        table = table.set_column(
            table.column_names.index(name), field, pa.array(values, field.type)
        )
    return table


def test_repeated_deep_history_is_not_read_back(
    db_url: str, alerts_dir: Path, tmp_path: Path
) -> None:
    """Rubin alerts repeating a year of stored history, in time order: each object's summary
    shows the packet repeats what is stored, so nothing is read back and only the new source
    is written; the archive equals one built in reverse order, which reads everything back."""
    base = enriched(packets_of([alerts_dir / DEEP]), "lsst")
    rounds = [_later(base, k) for k in range(4)]
    store = open_store(db_url, "lsst")
    reports = [store.write_batch(b) for b in rounds]
    in_order = _light_curve_tables(store)
    store.close()
    assert [sum(r.rows_read.values()) for r in reports] == [0, 0, 0, 0]
    assert [r.rows_added["detections"] for r in reports[1:]] == [len(base)] * 3
    store = open_store(_second(db_url, tmp_path), "lsst")
    backwards = [store.write_batch(b) for b in reversed(rounds)]
    assert sum(backwards[-1].rows_read.values()) > 0
    assert _light_curve_tables(store) == in_order
    store.close()


def _rubin_packet(history: list[dict[str, object]]) -> RawPacket:
    source = {
        "diaSourceId": 9,
        "diaObjectId": 5,
        "midpointMjdTai": 61000.5,
        "band": "g",
        "ra": 10.0,
        "dec": -5.0,
        "psfFlux": 1000.0,
        "psfFluxErr": 10.0,
    }
    record = {
        "diaSourceId": 9,
        "diaSource": source,
        "prvDiaSources": [{**source, **h} for h in history],
        "diaObject": {"diaObjectId": 5, "ra": 10.0, "dec": -5.0},
        "lsst_schema_version": "lsst.v10_0",
    }
    return RawPacket(json.dumps(record).encode(), "test.json")


def test_sources_are_kept_by_id_and_a_source_without_id_is_dead_lettered() -> None:
    same_visit = [
        {"diaSourceId": 7, "midpointMjdTai": 61000.0},
        {"diaSourceId": 8, "midpointMjdTai": 61000.0},
    ]
    repeated = [{"diaSourceId": 7, "midpointMjdTai": 61000.0}] * 2
    batch = assemble(iter([_rubin_packet(same_visit), _rubin_packet(repeated)]), "lsst").batch
    det = batch.detections
    assert det.filter(pc.equal(det["row"], 0))["source_id"].to_pylist() == [7, 8, 9]
    assert det.filter(pc.equal(det["row"], 1))["source_id"].to_pylist() == [7, 9]
    result = assemble(iter([_rubin_packet([{"diaSourceId": None}])]), "lsst")
    assert len(result.batch) == 0
    [dead] = result.dead_letters
    assert "prvDiaSources entry without diaSourceId" in dead.reason


def test_a_candidates_own_copy_outranks_later_history_copies(
    db_url: str, alerts_dir: Path, tmp_path: Path
) -> None:
    """Real ZTF alerts repeat earlier candidates in ``prv_candidates``, rounded and with
    ``rb`` for ``drb``: each stored detection that is an alert of its own holds that alert's
    copy, with the alert as provenance, in any arrival order and batch composition."""
    files = sorted((alerts_dir / SERIES).glob("*.avro"))
    whole = enriched(packets_of(files), "ztf")
    det = whole.detections
    alert_of_row = whole.alerts["alert_id"].take(det["row"]).to_pylist()
    sources = det["source_id"].to_pylist()
    reliability = det["reliability"].to_pylist()
    own = {s: r for s, r, a in zip(sources, reliability, alert_of_row, strict=True) if s == a}
    history = {s: r for s, r, a in zip(sources, reliability, alert_of_row, strict=True) if s != a}
    assert any(history[s] != own[s] for s in set(own) & set(history))  # the copies differ
    archives = []
    for split in ("forward", "backward", "one batch"):
        url = db_url if not archives else _second(db_url, tmp_path)
        store = open_store(url, "ztf")
        if split == "one batch":
            store.write_batch(enriched(packets_of(files), "ztf"))
        else:
            for f in files if split == "forward" else files[::-1]:
                store.write_batch(enriched(packets_of([f]), "ztf"))
        rows = store.con.execute("SELECT source_id, reliability, alert_id FROM detections")
        stored = {s: (r, a) for s, r, a in rows.fetchall()}
        assert {s: stored[s] for s in own} == {s: (r, s) for s, r in own.items()}, split
        archives.append(_table(store, "detections"))
        store.close()
    assert archives[0] == archives[1] == archives[2]
