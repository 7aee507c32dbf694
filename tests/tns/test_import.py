"""Importing the TNS on both archives: upsert by name, the TNS watchlist, retroactive and
streaming association, ``objects.tns_name``, filters on ``crossmatch_tns`` with Lasair's
names, and the re-run of those filters when an entry is reclassified."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lanner.filter.archive import run_on_archive
from lanner.filter.saved import add_filter, lasair_to_sql
from lanner.filter.users import ensure_local_user
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.pipeline import Pipeline
from lanner.settings import Settings
from lanner.store import Store, open_store
from lanner.tns.csv_file import read_tns_bytes
from lanner.tns.importer import import_tns
from lanner.tns.recorded import Row, tns_file
from lanner.tns.watchlist import tns_watchlist_id
from tests.helpers import packets_of
from tests.tns.conftest import SAMPLE, placed

Objects = list[tuple[int, float, float]]


def _import(store: Store, pipeline: Pipeline, rows: list[Row], **kw: Any) -> Any:
    data = tns_file(rows, **kw)
    return import_tns(
        store, read_tns_bytes(data), radius=3.0, rerun=lambda ids: len(pipeline.rerun_tns(ids))
    )


def _names(store: Store) -> dict[int, str]:
    rows = store.con.execute(
        'SELECT "diaObjectId", tns_name FROM objects WHERE tns_name IS NOT NULL'
    ).fetchall()
    store.con.commit()
    return dict(rows)


def _count(store: Store, sql: str) -> int:
    n = int(store.con.execute(sql).fetchone()[0])
    store.con.commit()
    return n


def test_upsert_retroactive_match_and_reclassification(
    db_url: str, tmp_path: Path, bts: list[Row], sample_objects: Objects
) -> None:
    store = open_store(db_url, "lsst")
    pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dl"))
    pipeline.process(packets_of([SAMPLE]))
    rows = placed(bts, sample_objects, 3)
    first = _import(store, pipeline, rows, zipped=True)
    assert (first.new, first.changed, first.unchanged) == (5351, 0, 0)
    assert first.hits == 3 and first.objects_named == 3
    assert _count(store, "SELECT count(*) FROM crossmatch_tns") == 5351
    ids = [o[0] for o in sample_objects[:3]]
    assert _names(store) == {oid: f"AT {r['name']}" for oid, r in zip(ids, rows, strict=False)}
    wl_id = tns_watchlist_id(store)
    assert wl_id is not None
    assert _count(store, f"SELECT count(*) FROM watchlist_cones WHERE wl_id = {wl_id}") == 5351
    hits = store.con.execute(
        f'SELECT "diaObjectId", arcsec, name FROM watchlist_hits WHERE wl_id = {wl_id}'
    ).fetchall()
    store.con.commit()
    assert sorted(h[0] for h in hits) == sorted(ids)
    assert all(0.9 < h[1] < 1.1 for h in hits)  # placed 1 arcsec away

    # Lasair's form and plain SQL, on the archive engine of this backend.
    lasair = run_on_archive(
        Settings(db_url=db_url),
        "objects.diaObjectId, crossmatch_tns.tns_prefix, crossmatch_tns.tns_name",
        tables="objects, crossmatch_tns",
        conditions="crossmatch_tns.tns_prefix = 'AT'",
    )
    assert sorted(r[0] for r in lasair.rows) == sorted(ids)

    # The same file again: nothing written.
    again = _import(store, pipeline, rows)
    assert (again.new, again.changed, again.unchanged, again.hits) == (0, 0, 5351, 0)

    # An active filter reading crossmatch_tns, and one that does not.
    sn = add_filter(
        store,
        "tns_sn",
        "SELECT objects.diaObjectId, crossmatch_tns.tns_name, crossmatch_tns.type "
        "FROM objects JOIN watchlist_hits ON watchlist_hits.diaObjectId = objects.diaObjectId "
        f"AND watchlist_hits.wl_id = {wl_id} "
        "JOIN crossmatch_tns ON crossmatch_tns.tns_name = watchlist_hits.name "
        "WHERE crossmatch_tns.tns_prefix = 'SN' AND crossmatch_tns.type = 'SN Ia'",
        active=True,
    )
    add_filter(store, "everything", "SELECT diaObjectId FROM objects", active=True)
    # A daily file: the first entry classified (AT -> SN Ia), the second's type only.
    daily = [dict(rows[0], name_prefix="SN", type="SN Ia", lastmodified="2022-09-02 10:00:00")]
    daily.append(dict(rows[1], type="SN II", lastmodified="2022-09-02 11:00:00"))
    report = _import(store, pipeline, daily, columns=21)
    assert (report.new, report.changed, report.reclassified) == (0, 2, 1)
    assert report.rerun_objects == 1 and report.rerun_matches == 1
    matched = store.con.execute(
        f'SELECT "diaObjectId", why FROM filter_matches WHERE filter_id = {sn.filter_id}'
    ).fetchall()
    store.con.commit()
    assert [m[0] for m in matched] == [ids[0]]
    assert json.loads(matched[0][1])["crossmatch_tns.type"] == "SN Ia"
    assert _count(store, "SELECT count(*) FROM filter_matches") == 1  # "everything" not re-run
    assert _names(store)[ids[0]] == f"SN {rows[0]['name']}"
    store.close()


def test_moved_entries_and_new_radius_rematch(
    db_url: str, tmp_path: Path, bts: list[Row], sample_objects: Objects
) -> None:
    store = open_store(db_url, "lsst")
    pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dl"))
    pipeline.process(packets_of([SAMPLE]))
    rows = placed(bts[:50], sample_objects, 2)
    _import(store, pipeline, rows)
    moved = [dict(rows[0], ra=rows[10]["ra"], declination=rows[10]["declination"])]
    report = _import(store, pipeline, moved)
    assert report.moved == 1 and report.hits == 0
    assert list(_names(store)) == [sample_objects[1][0]]  # the first object lost its match
    # A radius under the 1 arcsec offset matches nothing any more.
    tight = import_tns(store, read_tns_bytes(tns_file(rows[1:2])), radius=0.5)
    assert tight.hits == 0 and _names(store) == {}
    store.close()


def test_association_in_the_stream(
    db_url: str, tmp_path: Path, bts: list[Row], sample_objects: Objects
) -> None:
    """TNS first, alerts later: the batch's TNS hits name the objects and feed filters."""
    store = open_store(db_url, "lsst")
    pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dl"))
    rows = placed(bts[:200], sample_objects, 4)
    rows[0].update(name_prefix="SN", type="SN Ia")
    report = _import(store, pipeline, rows)
    assert report.hits == 0  # no objects yet
    lasair_sql = lasair_to_sql(
        store,
        "objects.diaObjectId, objects.tns_name, crossmatch_tns.type",
        "objects, crossmatch_tns",
        "crossmatch_tns.type = 'SN Ia'",
        ensure_local_user(store),
    )
    flt = add_filter(store, "tns_stream", lasair_sql, active=True)
    flt_sql = add_filter(
        store,
        "plain_sql",
        "SELECT objects.diaObjectId, crossmatch_tns.tns_name FROM objects "
        "JOIN watchlist_hits ON watchlist_hits.diaObjectId = objects.diaObjectId "
        "JOIN crossmatch_tns ON crossmatch_tns.tns_name = watchlist_hits.name",
        active=True,
    )
    batch_report = pipeline.process(packets_of([SAMPLE]))
    assert batch_report.sky_hits["watchlist_hits"] == 4
    ids = [o[0] for o in sample_objects[:4]]
    prefixes = ["SN", "AT", "AT", "AT"]
    assert _names(store) == {
        oid: f"{p} {r['name']}" for oid, p, r in zip(ids, prefixes, rows, strict=False)
    }
    got = store.con.execute(
        f'SELECT "diaObjectId", payload FROM filter_matches WHERE filter_id = {flt.filter_id}'
    ).fetchall()
    store.con.commit()
    assert [g[0] for g in got] == [ids[0]]
    assert json.loads(got[0][1])["tns_name"] == f"SN {rows[0]['name']}"
    assert (
        _count(store, f"SELECT count(*) FROM filter_matches WHERE filter_id = {flt_sql.filter_id}")
        == 4
    )
    store.close()
