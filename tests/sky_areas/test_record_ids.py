"""Ids of watchlists, watchmaps, sky maps and notices come from the database: never reused
after a delete, distinct between two concurrent writers, kept by ``lanner db upgrade`` on a
database made when Lanner chose them; deleting a watchlist or watchmap removes its hits."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
from astropy import units as u
from click.testing import CliRunner
from mocpy import MOC

from lanner.cli import build_cli
from lanner.pipeline import Pipeline
from lanner.sky_areas.cone_files import Cones
from lanner.sky_areas.mma import receive_notice
from lanner.sky_areas.notices import Selection, parse_notice
from lanner.sky_areas.watchlists import add_watchlist, delete_watchlist
from lanner.sky_areas.watchmaps import add_watchmap, delete_watchmap
from lanner.store import Store, open_store
from lanner.store.ddl import create_statements
from lanner.store.sky_areas import record_rows
from tests.sky_areas.conftest import positions


def _cones(ra: np.ndarray, dec: np.ndarray) -> Cones:
    n = len(ra)
    return Cones(
        np.asarray(ra, dtype=float),
        np.asarray(dec, dtype=float),
        [f"c{i}" for i in range(n)],
        np.full(n, np.nan),
    )


def _count(store: Store, table: str, column: str, value: int) -> int:
    ph = store.backend.placeholder
    row = store.con.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = {ph}", (value,))
    n = int(row.fetchone()[0])
    store.con.commit()
    return n


def test_deleted_ids_are_not_given_again_and_hits_go(
    archive: tuple[Store, Pipeline], catalogs: Path
) -> None:
    store, _ = archive
    _, ra, dec = positions(store)
    first, hits = add_watchlist(store, "first", _cones(ra[:3], dec[:3]), radius=2.0)
    second, _ = add_watchlist(store, "second", _cones(ra[3:4], dec[3:4]))
    assert hits == 3 and second.wl_id == first.wl_id + 1
    delete_watchlist(store, second)
    delete_watchlist(store, first)
    assert _count(store, "watchlist_hits", "wl_id", first.wl_id) == 0
    assert _count(store, "watchlist_cones", "wl_id", first.wl_id) == 0
    third, _ = add_watchlist(store, "third", _cones(ra[:1], dec[:1]))
    assert third.wl_id == second.wl_id + 1  # the deleted ids are not taken again

    moc = MOC.from_lonlat(lon=ra[:2] * u.deg, lat=dec[:2] * u.deg, max_norder=10)
    area, area_hits = add_watchmap(store, "area", moc)
    assert area_hits >= 1
    delete_watchmap(store, area)
    assert _count(store, "area_hits", "ar_id", area.ar_id) == 0
    again, _ = add_watchmap(store, "area", moc)
    assert again.ar_id == area.ar_id + 1

    notice = parse_notice((catalogs / "gw_notices" / "MS181101ab-retraction.json").read_bytes())
    ids = [receive_notice(store, notice, Selection()).notice_id for _ in range(2)]
    assert ids[1] == ids[0] + 1
    stored = record_rows(store, "mma_notices")
    assert [r["notice_id"] for r in stored] == ids


def test_two_writers_never_take_the_same_id(db_url: str) -> None:
    first = open_store(db_url, "ztf")
    first.close()
    taken: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def write(who: str) -> None:
        store = open_store(db_url)
        try:
            start.wait()
            for i in range(15):
                cones = _cones(np.array([10.0 + i]), np.array([-5.0]))
                taken[who].append(add_watchlist(store, f"{who}{i}", cones)[0].wl_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ids = taken["a"] + taken["b"]
    assert len(set(ids)) == 30
    store = open_store(db_url)
    try:
        rows = record_rows(store, "watchlists")
        assert sorted(r["wl_id"] for r in rows) == sorted(ids)
        # Each watchlist's cones went with its own record, not another writer's.
        ph = store.backend.placeholder
        for r in rows:
            cone = store.con.execute(
                f"SELECT ra FROM watchlist_cones WHERE wl_id = {ph}", (r["wl_id"],)
            ).fetchall()
            assert cone == [(10.0 + int(r["name"][1:]),)]
        store.con.commit()
    finally:
        store.close()


def test_db_upgrade_makes_chosen_ids_database_ids(db_url: str) -> None:
    """A database whose record tables were made when Lanner chose ids: ``lanner db
    upgrade`` keeps its rows and ids, and new ids follow them, never reused."""
    store = open_store(db_url, "ztf")
    ph = store.backend.placeholder
    for name in ("watchlists", "watchmaps", "mma_areas", "mma_notices"):
        table = store.tables[name]
        legacy = dataclasses.replace(
            table,
            columns=tuple(dataclasses.replace(c, identity=False) for c in table.columns),
        )
        store.con.execute(f'DROP TABLE "{name}"')
        for stmt in create_statements(legacy, store.backend.dialect):
            store.con.execute(stmt)
    store.con.execute(
        'INSERT INTO watchlists ("wl_id", "owner_id", "name", "public", "active", "radius") '
        f"VALUES (7, 1, 'old', {ph}, {ph}, 2.0)",
        (False, False),
    )
    store.con.execute(f"UPDATE lanner_meta SET value = 'old' WHERE key = {ph}", ("schema",))
    store.con.commit()
    store.close()

    result = CliRunner().invoke(build_cli(), ["db", "upgrade", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "ztf database upgraded" in result.output
    store = open_store(db_url)
    try:
        assert [(r["wl_id"], r["name"]) for r in record_rows(store, "watchlists")] == [(7, "old")]
        new, _ = add_watchlist(store, "new", _cones(np.array([1.0]), np.array([2.0])))
        assert new.wl_id == 8
        delete_watchlist(store, new)
        newer, _ = add_watchlist(store, "newer", _cones(np.array([1.0]), np.array([2.0])))
        assert newer.wl_id == 9
    finally:
        store.close()
