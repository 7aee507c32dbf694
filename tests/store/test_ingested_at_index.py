"""``alerts.ingested_at`` is indexed (the status page groups and filters by it): by
``lanner db init``, and by ``lanner db upgrade`` on a database made before the index."""

from __future__ import annotations

import pytest

from lanner.store import Store, StoreError, open_store
from lanner.store.migrate import init_database, upgrade_database

INDEX = "ix_alerts_ingested_at"


def _indexes(store: Store) -> set[str]:
    if store.backend.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'alerts'"
    else:
        # This test's schema only: other schemas of the database may hold an alerts table.
        sql = (
            "SELECT indexname FROM pg_indexes "
            "WHERE tablename = 'alerts' AND schemaname = current_schema()"
        )
    names = {str(r[0]) for r in store.con.execute(sql).fetchall()}
    store.con.commit()
    return names


def _plan(store: Store) -> str:
    """The query plan of the status page's "alerts since" query."""
    ph = store.backend.placeholder
    query = f"SELECT ingested_at, count(*) FROM alerts WHERE ingested_at >= {ph} GROUP BY 1"
    if store.backend.dialect == "sqlite":
        rows = store.con.execute(f"EXPLAIN QUERY PLAN {query}", ("2026-01-01",)).fetchall()
        text = " ".join(str(r[-1]) for r in rows)
    else:
        store.con.execute("SET enable_seqscan = off")  # an empty table: ask for the index
        rows = store.con.execute(f"EXPLAIN {query}", ("2026-01-01",)).fetchall()
        text = " ".join(str(r[0]) for r in rows)
    store.con.rollback()
    return text


def test_init_makes_the_index_and_the_status_query_uses_it(db_url: str) -> None:
    init_database(db_url, "ztf")
    store = open_store(db_url, create=False)
    try:
        assert INDEX in _indexes(store)
        assert INDEX in _plan(store)
    finally:
        store.close()


def test_upgrade_adds_the_index_to_an_older_database(db_url: str) -> None:
    init_database(db_url, "ztf")
    store = open_store(db_url, create=False)
    try:
        store.con.execute(f'DROP INDEX "{INDEX}"')
        store.con.execute("UPDATE lanner_meta SET value = 'older' WHERE key = 'schema'")
        store.con.commit()
        assert INDEX not in _indexes(store)
    finally:
        store.close()
    with pytest.raises(StoreError, match="lanner db upgrade"):
        open_store(db_url, create=False)
    assert upgrade_database(db_url).changed
    store = open_store(db_url, create=False)
    try:
        assert INDEX in _indexes(store)
    finally:
        store.close()
