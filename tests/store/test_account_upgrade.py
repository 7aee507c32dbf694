"""A database made before ids came from the database is upgraded when opened: its ids are
kept, new ones follow them and are never reused, and old matches get a delivery state."""

from __future__ import annotations

from lanner.filter.saved import add_filter, delete_filter, get_filter
from lanner.store import open_store
from lanner.store.account_upgrade import LEGACY_NOTE

#: The account tables as the previous schema made them (ids chosen by Lanner).
LEGACY = [
    'CREATE TABLE "users" ("user_id" INTEGER NOT NULL, "username" TEXT NOT NULL, '
    '"email" TEXT, "api_key_hash" TEXT, "created" TEXT, PRIMARY KEY ("user_id"))',
    'CREATE TABLE "filters" ("filter_id" INTEGER NOT NULL, "owner_id" INTEGER NOT NULL, '
    '"name" TEXT NOT NULL, "description" TEXT, "sql" TEXT NOT NULL, "public" BOOLEAN, '
    '"active" BOOLEAN, "output" TEXT, "output_options" TEXT, "created" TEXT, "expires" TEXT, '
    'PRIMARY KEY ("filter_id"))',
    'CREATE TABLE "filter_notices" ("notice_id" INTEGER NOT NULL, "filter_id" INTEGER NOT '
    'NULL, "created" TEXT, "kind" TEXT, "message" TEXT, PRIMARY KEY ("notice_id"))',
    'CREATE TABLE "filter_matches" ("filter_id" INTEGER NOT NULL, "alert_id" BIGINT NOT NULL, '
    '"objectId" TEXT NOT NULL, "matched_at" TEXT, "payload" TEXT, "why" TEXT, '
    'PRIMARY KEY ("filter_id", "alert_id"))',
    "INSERT INTO users (user_id, username) VALUES (1, 'local')",
    "INSERT INTO filters (filter_id, owner_id, name, sql, active, public, output) "
    "VALUES (5, 1, 'old', 'SELECT objectId FROM objects', FALSE, FALSE, 'none')",
    "INSERT INTO filter_matches VALUES (5, 77, 'ZTF18a', '2026-01-01T00:00:00', '{}', '{}')",
]


def test_a_legacy_database_is_upgraded_on_open(db_url: str) -> None:
    first = open_store(db_url)
    for stmt in LEGACY:
        first.con.execute(stmt)
    first.con.commit()
    first.close()

    store = open_store(db_url, "ztf")
    try:
        assert get_filter(store, 5).name == "old"
        new = add_filter(store, "new", "SELECT objectId FROM objects")
        assert new.filter_id == 6
        delete_filter(store, new)
        assert add_filter(store, "newer", "SELECT objectId FROM objects").filter_id == 7
        rows = store.match_states(5, "objectId", 10)
        assert [(r[3], r[5]) for r in rows] == [("sent", LEGACY_NOTE)]
    finally:
        store.close()
    again = open_store(db_url)  # idempotent
    try:
        assert [f["filter_id"] for f in again.filter_rows()] == [5, 7]
    finally:
        again.close()
