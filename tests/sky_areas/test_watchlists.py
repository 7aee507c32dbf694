"""Watchlists on both surveys and both databases: upload, retroactive match, per-batch match
seen by the filters of the same batch, radius precedence, privacy, expiry."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from lanner.filter.errors import FilterError
from lanner.filter.saved import add_filter, lasair_to_sql
from lanner.filter.users import create_user
from lanner.ingest.packets import RawPacket
from lanner.pipeline import Pipeline
from lanner.sky_areas.cone_files import ConeFileError, read_cones
from lanner.sky_areas.watchlists import (
    WatchlistError,
    add_watchlist,
    delete_watchlist,
    find_watchlist,
    set_active,
    watchlist_hits,
)
from lanner.store import Store
from lanner.store.sky_areas import expire_active
from tests.sky_areas.conftest import positions


def _offset(ra: float, dec: float, arcsec: float) -> tuple[float, float]:
    """A position ``arcsec`` north of (ra, dec) [deg]."""
    return ra, dec + arcsec / 3600.0


def test_radius_precedence_retro_match_and_batch_hits_seen_by_filters(
    archive: tuple[Store, Pipeline],
    survey: str,
    ztf_packets: list[RawPacket],
    lsst_packets: list[RawPacket],
) -> None:
    store, pipeline = archive
    ids, ra, dec = positions(store)
    oid = store.object_id_column
    # Cones 3 arcsec from three stored objects: own radius 2 (miss), none (default 5:
    # hit), own radius 4 (hit); and one far from everything.
    lines = []
    for i, own in enumerate(["2", "", "4"]):
        r, d = _offset(ra[i], dec[i], 3.0)
        lines.append(f"{r:.8f}, {d:.8f}, near{i}" + (f", {own}" if own else ""))
    lines.append("0.5, -89.9, nowhere")
    wl, retro = add_watchlist(store, "near", read_cones("\n".join(lines).encode()), radius=5.0)
    assert retro == 2
    hits = watchlist_hits(store, wl)
    assert [(h[oid], h["cone_id"], h["name"]) for h in hits] == [
        (ids[1], 2, "near1"),
        (ids[2], 3, "near2"),
    ]
    assert all(abs(h["arcsec"] - 3.0) < 0.01 for h in hits)

    # Inactive: a new batch adds no hits. Active: the batch's hits reach its filters.
    flt = add_filter(
        store,
        "in my list",
        f"SELECT objects.{oid}, watchlist_hits.name FROM objects, watchlist_hits "
        f"WHERE objects.{oid} = watchlist_hits.{oid} AND watchlist_hits.wl_id = {wl.wl_id}",
        active=True,
    )
    packets = ztf_packets if survey == "ztf" else lsst_packets
    assert pipeline.process(packets).sky_hits["watchlist_hits"] == 0
    set_active(store, wl, True)
    report = pipeline.process(packets)
    assert report.sky_hits["watchlist_hits"] == 2
    assert report.matches[flt.name] == 2

    # Expiry after 180 days stops it.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=181)
    assert expire_active(store, "watchlists", "wl_id", later) == [wl.wl_id]
    assert not find_watchlist(store, "near").active
    delete_watchlist(store, wl)
    assert store.counts()["watchlist_cones"] == 0
    assert store.counts()["watchlist_hits"] == 0


def test_private_watchlists_are_invisible_to_other_users(
    archive: tuple[Store, Pipeline],
    survey: str,
    ztf_packets: list[RawPacket],
    lsst_packets: list[RawPacket],
) -> None:
    store, pipeline = archive
    oid = store.object_id_column
    _, ra, dec = positions(store)
    alice, _ = create_user(store, "alice")
    bob, _ = create_user(store, "bob")
    cones = read_cones(f"{ra[0]}, {dec[0]}, a\n{ra[1]}, {dec[1]}, b".encode())
    private, _ = add_watchlist(store, "mine", cones, owner_id=alice.user_id, active=True)
    sql = (
        f"SELECT objects.{oid} FROM objects, watchlist_hits WHERE objects.{oid} = "
        f"watchlist_hits.{oid} AND watchlist_hits.wl_id = {private.wl_id}"
    )
    mine = add_filter(store, "a", sql, owner_id=alice.user_id, active=True)
    theirs = add_filter(store, "b", sql, owner_id=bob.user_id, active=True)
    report = pipeline.process(ztf_packets if survey == "ztf" else lsst_packets)
    assert report.matches[mine.name] == 2
    assert report.matches[theirs.name] == 0  # the private hits are filtered out for bob
    with pytest.raises(FilterError, match="not visible"):
        lasair_to_sql(
            store, f"objects.{oid}", f"objects, watchlist:{private.wl_id}", "", bob.user_id
        )
    assert "watchlist_hits" in lasair_to_sql(
        store, f"objects.{oid}", f"objects, watchlist:{private.wl_id}", "", alice.user_id
    )
    with pytest.raises(WatchlistError, match="not yours"):
        set_active(store, private, False, owner_id=bob.user_id)


def test_a_bad_file_stores_nothing(archive: tuple[Store, Pipeline]) -> None:
    store, _ = archive
    with pytest.raises(ConeFileError):
        read_cones(b"1, 2, a\n1, 2, b, 5000\n")
    with pytest.raises(WatchlistError, match="default radius"):
        add_watchlist(store, "x", read_cones(b"1, 2, a"), radius=2000)
    assert store.counts()["watchlists"] == 0 and store.counts()["watchlist_cones"] == 0


@pytest.mark.parametrize("survey", ["lsst"])
def test_a_million_cones_with_messier(
    archive: tuple[Store, Pipeline], million_cones: bytes, messier_cones: bytes
) -> None:
    store, _ = archive
    ids, ra, dec = positions(store)
    # One stored object becomes the centre of an extra cone, so the retro-match finds it.
    extra = f"\n{ra[0]:.8f}, {dec[0]:.8f}, stored, 2".encode()
    cones = read_cones(million_cones[: million_cones.rindex(b"\n")] + extra)
    assert len(cones) == 1_000_000
    wl, retro = add_watchlist(store, "million", cones, radius=2.0, active=True)
    assert wl.ncones == 1_000_000 and store.counts()["watchlist_cones"] == 1_000_000
    hits = watchlist_hits(store, wl)
    assert ids[0] in [h[store.object_id_column] for h in hits] and retro == len(hits)
    # The Messier cones are the first rows, with their capped radii.
    messier = read_cones(messier_cones)
    ph = store.backend.placeholder
    row = store.con.execute(
        f"SELECT name, ra, decl, radius FROM watchlist_cones WHERE wl_id = {ph} AND cone_id = {ph}",
        (wl.wl_id, 31),
    ).fetchone()
    store.con.commit()
    assert row[0] == messier.name[30] == "M31"
    np.testing.assert_allclose(row[1:], [messier.ra[30], messier.dec[30], messier.radius[30]])
