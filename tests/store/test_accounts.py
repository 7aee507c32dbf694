"""Ids from the database on both backends: never reused after a delete, never taken twice by
concurrent writers; a deleted filter's matches and notices are gone with it."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from lanner.filter.saved import add_filter, add_notice, delete_filter, find_filter, notices
from lanner.filter.users import create_user, ensure_local_user
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.pipeline import Pipeline
from lanner.schema.registry import tables_for
from lanner.store import open_store
from lanner.store.ddl import create_statements
from lanner.store.outbox import MatchRow
from tests.helpers import packets_of

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "ztf"


def test_identity_columns_are_declared_in_the_schema() -> None:
    tables = tables_for("ztf")
    assert {n: tables[n].identity for n in ("users", "filters", "filter_notices")} == {
        "users": "user_id",
        "filters": "filter_id",
        "filter_notices": "notice_id",
    }
    pg = create_statements(tables["filters"], "postgres")[0]
    lite = create_statements(tables["filters"], "sqlite")[0]
    assert '"filter_id" BIGINT GENERATED ALWAYS AS IDENTITY' in pg
    assert '"filter_id" INTEGER PRIMARY KEY AUTOINCREMENT' in lite


def test_a_deleted_filter_id_is_never_given_again(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url, "ztf")
    try:
        alice, _ = create_user(store, "alice")
        bob, _ = create_user(store, "bob")
        assert ensure_local_user(store) == 1 and {alice.user_id, bob.user_id} == {2, 3}
        first = add_filter(
            store, "all", "SELECT objectId FROM objects", active=True, owner_id=alice.user_id
        )
        report = Pipeline(store, FolderDeadLetters(tmp_path / "d")).process(packets_of([SAMPLE]))
        assert report.matches["all"] > 0
        add_notice(store, first.filter_id, "error", "a notice for alice")
        assert store.match_count(first.filter_id) and notices(store, first.filter_id)
        delete_filter(store, first, owner_id=alice.user_id)
        assert store.match_count(first.filter_id) == {}
        assert notices(store, first.filter_id) == []

        later = add_filter(store, "mine", "SELECT objectId FROM objects", owner_id=bob.user_id)
        assert later.filter_id > first.filter_id
        assert store.match_count(later.filter_id) == {} and notices(store, later.filter_id) == []
        # The name is free again for alice; her new filter gets a new id as well.
        again = add_filter(store, "all", "SELECT objectId FROM objects", owner_id=alice.user_id)
        assert again.filter_id > later.filter_id
        assert find_filter(store, "all", alice.user_id).filter_id == again.filter_id
    finally:
        store.close()


def test_names_are_unique_whatever_the_race(db_url: str) -> None:
    store = open_store(db_url, "ztf")
    try:
        create_user(store, "carol")
        with pytest.raises(Exception, match="exists already"):
            create_user(store, "carol")
        add_filter(store, "x", "SELECT objectId FROM objects")
        with pytest.raises(Exception, match="already have a filter named 'x'"):
            add_filter(store, "x", "SELECT objectId FROM objects")
    finally:
        store.close()


def test_concurrent_writers_take_distinct_ids(pg_url: str) -> None:
    setup = open_store(pg_url, "ztf")
    owner = ensure_local_user(setup)
    setup.close()
    made: dict[str, list[int]] = {"filters": [], "notices": [], "users": []}
    lock = threading.Lock()
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(name: str) -> None:
        store = open_store(pg_url)
        try:
            start.wait()
            for i in range(15):
                flt = add_filter(
                    store, f"{name}-{i}", "SELECT objectId FROM objects", owner_id=owner
                )
                user, _ = create_user(store, f"{name}-u{i}")
                add_notice(store, flt.filter_id, "error", f"{name} {i}")
                with lock:
                    made["filters"].append(flt.filter_id)
                    made["users"].append(user.user_id)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(f"w{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    check = open_store(pg_url)
    try:
        notice_ids = [r[0] for r in check.con.execute("SELECT notice_id FROM filter_notices")]
    finally:
        check.close()
    assert len(made["filters"]) == len(set(made["filters"])) == 60
    assert len(made["users"]) == len(set(made["users"])) == 60
    assert len(notice_ids) == len(set(notice_ids)) == 60


def test_matches_of_a_rerun_are_recorded_pending(db_url: str) -> None:
    store = open_store(db_url, "ztf")
    try:
        flt = add_filter(
            store, "hooked", "SELECT objectId FROM objects", active=True, output="kafka"
        )
        now = dt.datetime.now(dt.UTC)
        row = MatchRow(
            flt.filter_id, 7, "ZTF18a", now, '{"objectId": "ZTF18a"}', "{}", None, "kafka"
        )
        assert store.record_matches([row]) == 1
        assert store.record_matches([row]) == 0  # recorded once
        assert store.match_count(flt.filter_id) == {"pending": 1}
    finally:
        store.close()
