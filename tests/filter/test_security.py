"""The security corpus: every attempt must be rejected by the validator or contained by
the engine (read-only connection, time limit, row cap), on every engine it can reach."""

from __future__ import annotations

import time

import duckdb
import pytest
import sqlglot
from psycopg import sql as pgsql

from lanner.filter.archive_engines import PostgresEngine, SQLiteEngine
from lanner.filter.compile import CompiledFilter, compile_lasair, compile_sql
from lanner.filter.errors import (
    FilterError,
    FilterRejectedError,
    FilterRuntimeError,
    FilterTimeoutError,
)
from lanner.filter.execute import DuckDBEngine, FilterEngine, Limits
from lanner.filter.validate import FilterContext
from tests.filter.kit_data import (
    CATALOG,
    DATA,
    PRIVATE_AR,
    PRIVATE_WL,
    TNS_WL,
    VISIBILITY,
    arrow_tables,
    duckdb_with_slow_function,
    slow_cartesian,
)

REJECTED_SQL = [
    # writes and other statements
    "INSERT INTO objects (objectId) VALUES ('x')",
    "UPDATE objects SET gmag = 0",
    "DELETE FROM objects",
    "DROP TABLE objects",
    "CREATE TABLE t AS SELECT * FROM objects",
    "ALTER TABLE objects ADD COLUMN x INT",
    "ATTACH DATABASE '/tmp/x.db' AS x",
    "ATTACH '/tmp/x.db' AS x",
    "DETACH x",
    "PRAGMA table_info(objects)",
    "PRAGMA writable_schema = 1",
    "COPY objects TO '/tmp/x.csv'",
    "COPY objects FROM '/tmp/x.csv'",
    "VACUUM",
    "SET enable_external_access = true",
    "INSTALL httpfs",
    "LOAD httpfs",
    "CALL pragma_version()",
    "EXPORT DATABASE '/tmp/x'",
    "SELECT objectId INTO dumped FROM objects",
    "SELECT objectId FROM objects INTO OUTFILE '/tmp/x'",
    "SELECT objectId FROM objects FOR UPDATE",
    # stacked statements and comments hiding them
    "SELECT objectId FROM objects; DROP TABLE objects",
    "SELECT objectId FROM objects;DELETE FROM objects;",
    "SELECT objectId FROM objects /* harmless */; DROP TABLE objects",
    "SELECT objectId FROM objects -- comment\n; DELETE FROM objects",
    # system catalogues and tables outside the catalog
    "SELECT * FROM sqlite_master",
    "SELECT * FROM sqlite_schema",
    "SELECT * FROM main.objects",
    "SELECT * FROM pg_catalog.pg_tables",
    "SELECT * FROM pg_tables",
    "SELECT * FROM pg_user",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM pragma_table_info('objects')",
    "SELECT * FROM lanner_users",
    "SELECT objectId FROM objects WHERE objectId IN (SELECT api_key FROM lanner_users)",
    "SELECT current_setting('data_directory')",
    "SELECT version()",
    "SELECT sqlite_version()",
    "SELECT @@version",
    "SELECT CAST(objectId AS regclass) FROM objects",
    # file, network and extension functions
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_parquet('/tmp/x.parquet')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM `/etc/passwd`",
    "SELECT * FROM '/etc/passwd'",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_ls_dir('.')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT load_extension('/tmp/evil.so')",
    "SELECT readfile('/etc/passwd')",
    "SELECT writefile('/tmp/x', 'y')",
    "SELECT pg_sleep(100)",
    "SELECT objectId FROM objects WHERE gmag < getvariable('x')",
    # recursion, set operations, parameters, unbounded limits
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
    "SELECT objectId FROM objects UNION SELECT api_key FROM lanner_users",
    "SELECT objectId FROM objects WHERE gmag < ?",
    "SELECT objectId FROM objects WHERE gmag < $1",
    "SELECT objectId FROM objects LIMIT (SELECT 10)",
    "SELECT REPEAT('x', 1000000000)",
    "SELECT JSON_EXTRACT(classdict, '$.a'' OR 1=1') FROM annotations",
    "SELECT JSON_EXTRACT(classdict, classdict) FROM annotations",
]


@pytest.mark.parametrize("sql", REJECTED_SQL)
def test_statement_rejected(sql: str, ctx: FilterContext) -> None:
    with pytest.raises(FilterError) as err:
        compile_sql(sql, ctx)
    assert str(err.value)  # every rejection says something


REJECTED_LASAIR = [
    ("objects.objectId", "objects", "gmag < 20; DROP TABLE objects"),
    ("objects.objectId", "objects", "gmag < 20 UNION SELECT api_key FROM lanner_users"),
    ("objects.objectId; DROP TABLE objects", "objects", ""),
    ("objects.objectId FROM lanner_users --", "objects", ""),
    ("objects.objectId", "objects, lanner_users", ""),
    ("objects.objectId", "objects, sqlite_master", ""),
    ("objects.objectId", "objects, pg_catalog.pg_user", ""),
    ("objects.objectId", "objects", "objectId IN (SELECT name FROM sqlite_master)"),
    ("objects.objectId", f"objects, watchlist:{PRIVATE_WL}", ""),
    ("objects.objectId", f"objects, watchmap:{PRIVATE_AR}", ""),
    ("objects.objectId", f"objects, area:3&{PRIVATE_AR}", ""),
    ("objects.objectId", "objects, watchlist:1 or 1=1", ""),
    ("objects.objectId", "objects, annotator:x' OR '1'='1", ""),
]


@pytest.mark.parametrize(("selected", "tables", "conditions"), REJECTED_LASAIR)
def test_lasair_form_rejected(
    selected: str, tables: str, conditions: str, ctx: FilterContext
) -> None:
    with pytest.raises(FilterError):
        compile_lasair(selected, tables, conditions, ctx)


def test_private_watchlist_message(ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError) as err:
        compile_lasair("objects.objectId", f"objects, watchlist:{PRIVATE_WL}", "", ctx)
    assert f"watchlist {PRIVATE_WL} is not visible to you" in str(err.value)


def _count(engine: FilterEngine, ctx: FilterContext) -> int:
    f = compile_sql("SELECT COUNT(*) AS n FROM objects", ctx)
    return int(engine.run(f).rows()[0]["n"])


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT objectId FROM objects -- ; DROP TABLE objects",
        "SELECT objectId FROM objects /* ; DROP TABLE objects */",
        # MySQL runs the body of /*! ... */; Lanner drops every comment before any engine.
        "SELECT objectId FROM objects /*! ; DROP TABLE objects */",
    ],
)
def test_comment_is_dropped_not_run(engine: FilterEngine, ctx: FilterContext, sql: str) -> None:
    f = compile_sql(sql, ctx)
    assert "DROP" not in f.sql(engine.engine).upper()
    assert engine.run(f).num_rows == len(DATA["objects"])
    assert _count(engine, ctx) == len(DATA["objects"])


@pytest.mark.parametrize(
    ("sql", "want"),
    [
        # Naming a private id returns nothing.
        (f"SELECT objectId, name FROM watchlist_hits WHERE wl_id = {PRIVATE_WL}", []),
        (f"SELECT objectId FROM area_hits WHERE ar_id = {PRIVATE_AR}", []),
        (
            f"SELECT o.objectId FROM objects o WHERE o.objectId IN "
            f"(SELECT h.objectId FROM watchlist_hits h WHERE h.wl_id = {PRIVATE_WL})",
            [],
        ),
        # Reading the whole table returns the visible watchlists' hits (and TNS's) only.
        (
            "SELECT objectId, name FROM watchlist_hits",
            sorted(
                h["name"]
                for h in DATA["watchlist_hits"]
                if h["wl_id"] in VISIBILITY.watchlists | {TNS_WL}
            ),
        ),
    ],
)
def test_private_hits_are_invisible(
    engine: FilterEngine, ctx: FilterContext, sql: str, want: list[str]
) -> None:
    rows = engine.run(compile_sql(sql, ctx)).rows()
    got = sorted(r.get("name", r["objectId"]) for r in rows)
    assert got == want
    assert "secret" not in got


def test_lasair_conditions_cannot_widen_the_join(engine: FilterEngine, ctx: FilterContext) -> None:
    # In Lasair the join clauses are ANDed textually with the conditions; here they are
    # JOIN ... ON, so an OR in the conditions cannot reach another watchlist's rows.
    f = compile_lasair(
        "objects.objectId, watchlist_hits.wl_id",
        "objects, watchlist:1",
        f"1 = 1 OR watchlist_hits.wl_id = {PRIVATE_WL}",
        ctx,
    )
    assert {r["wl_id"] for r in engine.run(f).rows()} == {1}


@pytest.mark.parametrize(
    "conditions",
    [
        "objects.gmag < 30 LIMIT 100000000",
        "objects.gmag < 30 limit 100000000",
        "objects.gmag < 30 LiMiT 0, 100000000",
        "objects.gmag < 30 LIMIT 100000000 OFFSET 0",
    ],
)
def test_limit_smuggling_is_capped(
    engine: FilterEngine, ctx: FilterContext, conditions: str
) -> None:
    f = compile_lasair("objects.objectId", "objects", conditions, ctx)
    result = engine.run(f, Limits(timeout_s=10, row_cap=2))
    assert result.num_rows == 2 and result.truncated


def test_cartesian_blowup_stopped_duckdb(ctx: FilterContext) -> None:
    eng = DuckDBEngine.for_batch(CATALOG, arrow_tables(CATALOG))
    froms = ", ".join(f"objects t{i}" for i in range(14))  # 6**14 rows
    f = compile_sql(f"SELECT COUNT(*) AS n FROM {froms} WHERE t0.gmag + t13.rmag > 0", ctx)
    start = time.perf_counter()
    with pytest.raises(FilterTimeoutError):
        eng.run(f, Limits(timeout_s=0.3, row_cap=10))
    assert time.perf_counter() - start < 3.0
    assert _count(eng, ctx) == len(DATA["objects"])  # the engine still works afterwards


def test_slow_function_stopped_duckdb(ctx: FilterContext) -> None:
    eng = duckdb_with_slow_function()
    start = time.perf_counter()
    with pytest.raises(FilterTimeoutError):
        eng.run(slow_cartesian(ctx, 7), Limits(timeout_s=0.3, row_cap=10))
    assert time.perf_counter() - start < 3.0


def test_slow_function_stopped_sqlite(ctx: FilterContext, tmp_path: object) -> None:
    from pathlib import Path

    from tests.filter.kit_data import make_sqlite

    path = Path(str(tmp_path)) / "a.db"
    make_sqlite(path, CATALOG)
    eng = SQLiteEngine(path, CATALOG)

    def slow(x: int) -> int:
        time.sleep(0.005)
        return x

    eng.create_function("slow", 1, slow)
    start = time.perf_counter()
    with pytest.raises(FilterTimeoutError):
        eng.run(slow_cartesian(ctx, 4), Limits(timeout_s=0.3, row_cap=10))
    assert time.perf_counter() - start < 3.0
    assert _count(eng, ctx) == len(DATA["objects"])
    eng.close()


def test_slow_function_stopped_postgres(ctx: FilterContext, pg_schema: tuple) -> None:
    conn, schema = pg_schema
    with conn.cursor() as cur:
        cur.execute(
            pgsql.SQL(
                "CREATE FUNCTION {}.slow(x integer) RETURNS integer LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(0.01); RETURN x; END $$"
            ).format(pgsql.Identifier(schema))
        )
    conn.commit()
    eng = PostgresEngine(conn, schema)
    start = time.perf_counter()
    with pytest.raises(FilterTimeoutError):
        eng.run(slow_cartesian(ctx, 4), Limits(timeout_s=0.3, row_cap=10))
    assert time.perf_counter() - start < 3.0
    assert _count(eng, ctx) == len(DATA["objects"])


def _raw(sql: str, dialect: str) -> CompiledFilter:
    """A filter that skipped the validator, to test what the engine alone contains."""
    tree = sqlglot.parse_one(sql, read=dialect)
    return CompiledFilter(tree=tree, columns=("x",), tables=frozenset(), unchecked=True)  # type: ignore[arg-type]


RECURSIVE = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT max(n) FROM r"


def test_engine_stops_recursive_cte_duckdb() -> None:
    eng = DuckDBEngine.for_batch(CATALOG, arrow_tables(CATALOG))
    with pytest.raises(FilterTimeoutError):
        eng.run(_raw(RECURSIVE, "duckdb"), Limits(timeout_s=0.3, row_cap=10))


def test_engine_stops_recursive_cte_postgres(pg_schema: tuple) -> None:
    conn, schema = pg_schema
    with pytest.raises(FilterTimeoutError):
        PostgresEngine(conn, schema).run(
            _raw(RECURSIVE, "postgres"), Limits(timeout_s=0.3, row_cap=10)
        )


def test_engine_contains_sqlite(tmp_path: object) -> None:
    from pathlib import Path

    from tests.filter.kit_data import make_sqlite

    path = Path(str(tmp_path)) / "a.db"
    make_sqlite(path, CATALOG)
    eng = SQLiteEngine(path, CATALOG)
    for sql in (
        RECURSIVE,
        "SELECT api_key AS x FROM lanner_users",
        "SELECT name AS x FROM sqlite_master",
        "DELETE FROM objects",
    ):
        with pytest.raises(FilterRuntimeError):
            eng.run(_raw(sql, "sqlite"))
    eng.close()


def test_engine_contains_duckdb() -> None:
    eng = DuckDBEngine.for_batch(CATALOG, arrow_tables(CATALOG))
    for sql in (
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM '/etc/passwd'",
        "SELECT 1 AS x FROM (SELECT current_setting('lock_configuration'))"
        " WHERE 1 = 0; SET enable_external_access = true",
    ):
        with pytest.raises(FilterRuntimeError):
            eng.run(_raw(sql, "duckdb"))
    with pytest.raises(duckdb.Error):
        eng.con.execute("SET enable_external_access = true")


def test_engine_contains_postgres(pg_schema: tuple) -> None:
    conn, schema = pg_schema
    eng = PostgresEngine(conn, schema)
    with pytest.raises(FilterRuntimeError, match="read-only"):
        eng.run(_raw("DELETE FROM objects", "postgres"))
    with conn.cursor() as cur:
        cur.execute(pgsql.SQL("SELECT COUNT(*) FROM {}.objects").format(pgsql.Identifier(schema)))
        row = cur.fetchone()
    assert row is not None and row[0] == len(DATA["objects"])
