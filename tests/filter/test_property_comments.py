"""Property: no comment, hint or quoting a user writes changes what a filter may read.

Comments, optimizer hints, MySQL executable comments, sqlglot metadata comments and
quoting/case variants of names are inserted at token boundaries of the security corpus's
queries and of kit-table queries. Each variant must either be refused with a
:class:`~lanner.filter.errors.FilterError`, or return exactly what the plain query returns,
with none of the other user's private watchlist/watchmap rows, on DuckDB, SQLite and
PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql as pgsql
from sqlglot.dialects.mysql import MySQL
from sqlglot.tokens import TokenType

from lanner.filter.archive_engines import PostgresEngine, SQLiteEngine
from lanner.filter.compile import compile_sql
from lanner.filter.errors import FilterError
from lanner.filter.execute import DuckDBEngine, FilterEngine
from lanner.filter.validate import FilterContext
from tests.conftest import PG_URL
from tests.filter.kit_data import (
    CATALOG,
    PG_TYPES,
    PRIVATE_AR,
    PRIVATE_WL,
    TNS_WL,
    VISIBILITY,
    arrow_tables,
    ddl,
    insert_sql,
    make_sqlite,
    rows_of,
)

BASE = [
    f"SELECT objectId, name FROM watchlist_hits WHERE wl_id = {PRIVATE_WL}",
    "SELECT objectId, name, wl_id FROM watchlist_hits",
    f"SELECT objectId, ar_id FROM area_hits WHERE ar_id = {PRIVATE_AR} OR ar_id = 3",
    "SELECT o.objectId FROM objects o WHERE o.objectId IN "
    f"(SELECT h.objectId FROM watchlist_hits h WHERE h.wl_id = {PRIVATE_WL})",
    "SELECT o.objectId, a.ar_id FROM objects o JOIN area_hits a ON o.objectId = a.objectId",
    "SELECT o.objectId, h.name FROM objects o LEFT JOIN watchlist_hits h "
    "ON o.objectId = h.objectId",
    "SELECT t.tns_name, h.name FROM crossmatch_tns t JOIN watchlist_hits h ON h.name = t.tns_name",
    "SELECT objectId, (SELECT max(name) FROM watchlist_hits) AS n FROM objects",
    "WITH w AS (SELECT objectId, name FROM watchlist_hits) SELECT objectId, name FROM w",
    "SELECT a.objectId, a.classification FROM annotations a WHERE a.topic = 'fastfinker'",
]
DECORATIONS = [
    "/* sqlglot.meta lanner_checked_join */",
    "/*sqlglot.meta lanner_checked_join*/",
    "/* sqlglot.meta lanner_checked_join=true */",
    "/*+ lanner_checked_join */",
    "/*! lanner_checked_join */",
    "-- sqlglot.meta lanner_checked_join\n",
    "# sqlglot.meta lanner_checked_join\n",
    "/* */",
    "\n",
]
_NAMES = {"watchlist_hits", "area_hits", "objects", "objectid", "wl_id", "ar_id", "name"}


def _boundaries(sql: str) -> list[tuple[int, int, bool]]:
    """(start, end, is a name) of every token of ``sql``."""
    return [
        (t.start, t.end + 1, t.token_type == TokenType.VAR and t.text.lower() in _NAMES)
        for t in MySQL().tokenize(sql)
    ]


@st.composite
def variants(draw: st.DrawFn) -> tuple[str, str]:
    base = draw(st.sampled_from(BASE))
    out: list[str] = []
    last = 0
    for start, end, is_name in _boundaries(base):
        out.append(base[last:start])
        if draw(st.integers(0, 3)) == 0:
            out.append(" " + draw(st.sampled_from(DECORATIONS)) + " ")
        word = base[start:end]
        if is_name:
            word = draw(st.sampled_from([word, f"`{word}`", word.upper(), f"`{word.upper()}`"]))
        out.append(word)
        last = end
    out.append(base[last:])
    if draw(st.booleans()):
        out.append(" " + draw(st.sampled_from(DECORATIONS)))
    return base, "".join(out)


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[FilterEngine]]:
    """The test data on the three engines, once for the module."""
    path: Path = tmp_path_factory.mktemp("prop") / "archive.db"
    make_sqlite(path, CATALOG)
    sqlite = SQLiteEngine(path, CATALOG)
    conn = psycopg.connect(PG_URL, connect_timeout=5)
    schema = f"lanner_prop_{uuid.uuid4().hex[:10]}"
    with conn.cursor() as cur:
        cur.execute(pgsql.SQL("CREATE SCHEMA {}").format(pgsql.Identifier(schema)))
        cur.execute(pgsql.SQL("SET search_path = {}").format(pgsql.Identifier(schema)))
        for table in CATALOG.values():
            cur.execute(ddl(table, PG_TYPES).encode())
            cur.executemany(insert_sql(table, "%s").encode(), rows_of(table))
        cur.execute(b"RESET search_path")
    conn.commit()
    try:
        yield [
            DuckDBEngine.for_batch(CATALOG, arrow_tables(CATALOG)),
            sqlite,
            PostgresEngine(conn, schema),
        ]
    finally:
        sqlite.close()
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(pgsql.SQL("DROP SCHEMA {} CASCADE").format(pgsql.Identifier(schema)))
        conn.commit()
        conn.close()


def _rows(engine: FilterEngine, sql: str, ctx: FilterContext) -> list[tuple[str, ...]]:
    return sorted(tuple(map(str, r.values())) for r in engine.run(compile_sql(sql, ctx)).rows())


CTX = FilterContext("ztf", CATALOG, VISIBILITY, tns_watchlist_id=TNS_WL)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(variants())
def test_comments_and_quoting_change_nothing(
    engines: list[FilterEngine], case: tuple[str, str]
) -> None:
    base, variant = case
    try:
        compiled = compile_sql(variant, CTX)
    except FilterError:
        return  # refused, with a message
    for engine in engines:
        rows = sorted(tuple(map(str, r.values())) for r in engine.run(compiled).rows())
        assert not any("secret" in row or str(PRIVATE_AR) in row[1:] for row in rows)
        assert rows == _rows(engine, base, CTX), (engine.engine, variant)
