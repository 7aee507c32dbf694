"""Fixtures of the filter tests: the test data on DuckDB, SQLite and PostgreSQL.

PostgreSQL tests use the server of :data:`tests.conftest.PG_URL`; they fail, never skip,
when it is unreachable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as pgsql

from lanner.filter.archive_engines import PostgresEngine, SQLiteEngine
from lanner.filter.execute import DuckDBEngine, FilterEngine
from lanner.filter.validate import FilterContext
from tests.conftest import PG_URL
from tests.filter.kit_data import (
    CATALOG,
    PG_TYPES,
    TNS_WL,
    VISIBILITY,
    arrow_tables,
    ddl,
    insert_sql,
    make_sqlite,
    rows_of,
)


@pytest.fixture
def ctx() -> FilterContext:
    return FilterContext("ztf", CATALOG, VISIBILITY, tns_watchlist_id=TNS_WL)


@pytest.fixture
def pg_schema() -> Iterator[tuple[psycopg.Connection, str]]:
    """A fresh PostgreSQL schema with the test tables; fails (never skips) without a server."""
    conn = psycopg.connect(PG_URL, connect_timeout=5)
    schema = f"lanner_filter_{uuid.uuid4().hex[:10]}"
    with conn.cursor() as cur:
        cur.execute(pgsql.SQL("CREATE SCHEMA {}").format(pgsql.Identifier(schema)))
        cur.execute(pgsql.SQL("SET search_path = {}").format(pgsql.Identifier(schema)))
        for table in CATALOG.values():
            cur.execute(ddl(table, PG_TYPES).encode())
            cur.executemany(insert_sql(table, "%s").encode(), rows_of(table))
        cur.execute(b"CREATE TABLE lanner_users (id INTEGER, api_key TEXT)")
        cur.execute(b"INSERT INTO lanner_users VALUES (1, 'secret-key')")
        cur.execute(b"RESET search_path")
    conn.commit()
    try:
        yield conn, schema
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(pgsql.SQL("DROP SCHEMA {} CASCADE").format(pgsql.Identifier(schema)))
        conn.commit()
        conn.close()


@pytest.fixture(params=["duckdb", "sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FilterEngine]:
    """The test data on each engine in turn."""
    if request.param == "duckdb":
        yield DuckDBEngine.for_batch(CATALOG, arrow_tables(CATALOG))
    elif request.param == "sqlite":
        path = tmp_path / "archive.db"
        make_sqlite(path, CATALOG)
        eng = SQLiteEngine(path, CATALOG)
        yield eng
        eng.close()
    else:
        conn, schema = request.getfixturevalue("pg_schema")
        yield PostgresEngine(conn, schema)
