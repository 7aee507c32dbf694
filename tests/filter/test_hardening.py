"""Regression tests of the adversarial corpus: forged markers, nesting, growth, limits,
result types and tracebacks, on the per-batch DuckDB engine, SQLite and PostgreSQL.

The user is the one of :data:`~tests.filter.kit_data.VISIBILITY`; watchlist
:data:`PRIVATE_WL` (hit "secret" on ZTF20e) and watchmap :data:`PRIVATE_AR` (ZTF20d) belong
to another user.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot

from lanner.filter import language
from lanner.filter.compile import CompiledFilter, compile_lasair, compile_sql
from lanner.filter.errors import (
    FilterError,
    FilterRejectedError,
    FilterRuntimeError,
    FilterTimeoutError,
)
from lanner.filter.execute import DuckDBEngine, FilterEngine, Limits
from lanner.filter.validate import FilterContext
from tests.filter.kit_data import CATALOG, DATA, PRIVATE_AR, PRIVATE_WL, arrow_tables
from tests.filter.test_security import REJECTED_LASAIR, REJECTED_SQL

FORGE = "/* sqlglot.meta lanner_checked_join */"

FORGED_SQL = [
    f"SELECT objectId, name FROM watchlist_hits {FORGE} WHERE wl_id = {PRIVATE_WL}",
    f"SELECT objectId, name FROM watchlist_hits AS h {FORGE}",
    f"SELECT objectId FROM area_hits {FORGE} WHERE ar_id = {PRIVATE_AR}",
    f"SELECT o.objectId FROM objects o WHERE o.objectId IN "
    f"(SELECT h.objectId FROM watchlist_hits {FORGE} h WHERE h.wl_id = {PRIVATE_WL})",
    f"SELECT o.objectId FROM objects o JOIN area_hits a {FORGE} ON o.objectId = a.objectId",
    "SELECT objectId, name FROM watchlist_hits /* sqlglot.meta lanner_checked_join=1 */",
    f"SELECT objectId, name FROM watchlist_hits {FORGE.replace('*/', '*/ /*+ hint */')}",
]
FORGED_LASAIR = [
    (
        "objects.objectId",
        "objects",
        f"objects.objectId IN (SELECT objectId FROM area_hits {FORGE})",
    ),
    (f"objects.objectId, (SELECT max(name) FROM watchlist_hits {FORGE}) AS n", "objects", ""),
    (
        "objects.objectId, watchlist_hits.name",
        "objects, watchlist:2",
        f"watchlist_hits.arcsec {FORGE} > 0",
    ),
]


def _leaks(rows: list[dict[str, object]]) -> bool:
    return "secret" in {v for r in rows for v in r.values()}


@pytest.mark.parametrize("sql", FORGED_SQL)
def test_comment_cannot_forge_a_checked_join(
    engine: FilterEngine, ctx: FilterContext, sql: str
) -> None:
    rows = engine.run(compile_sql(sql, ctx)).rows()
    assert not _leaks(rows)
    assert rows == engine.run(compile_sql(sql.replace(FORGE, ""), ctx)).rows()


@pytest.mark.parametrize(("selected", "tables", "conditions"), FORGED_LASAIR)
def test_comment_cannot_forge_in_lasair_form(
    engine: FilterEngine, ctx: FilterContext, selected: str, tables: str, conditions: str
) -> None:
    rows = engine.run(compile_lasair(selected, tables, conditions, ctx)).rows()
    plain = [part.replace(FORGE, "") for part in (selected, tables, conditions)]
    assert rows and not _leaks(rows)
    assert rows == engine.run(compile_lasair(*plain, ctx)).rows()


def test_comment_in_lasair_tables_is_refused(ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError, match="not of the form watchlist:N"):
        compile_lasair("objects.objectId", f"objects, watchlist:{PRIVATE_WL} {FORGE}", "", ctx)


def test_final_check_catches_a_validator_bypass(
    ctx: FilterContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were the validator fooled into trusting a user's table, the final SQL check refuses it.
    monkeypatch.setattr(language.ParsedFilter, "is_checked_join", lambda self, table: True)
    with pytest.raises(FilterRejectedError, match="final check"):
        compile_sql(f"SELECT objectId FROM watchlist_hits WHERE wl_id = {PRIVATE_WL}", ctx)
    with pytest.raises(FilterRejectedError, match="final check"):
        compile_sql("SELECT o.objectId FROM objects o JOIN area_hits a ON 1 = 1", ctx)
    # A join restricted to a visible id in its ON passes the final check as it stands.
    compiled = compile_sql(
        "SELECT o.objectId FROM objects o JOIN watchlist_hits h "
        "ON o.objectId = h.objectId AND h.wl_id = 1",
        ctx,
    )
    assert compiled.sql("duckdb")


def _nest(n: int, open_: str, close: str, inner: str = "1") -> str:
    return open_ * n + inner + close * n


TOO_DEEP = {
    "parentheses": "SELECT " + _nest(60, "(", ")") + " AS x",
    "sub-queries": "SELECT objectId FROM objects WHERE ncand IN "
    + _nest(60, "(SELECT ncand FROM objects WHERE ncand IN ", ")", "(1)"),
    "NOT": "SELECT objectId FROM objects WHERE " + "NOT " * 200 + "ncand > 1",
    "CASE": "SELECT " + _nest(100, "CASE WHEN 1 = 1 THEN ", " END") + " AS x",
    "unary minus": "SELECT " + "-" * 360 + "1 AS x",
}


@pytest.mark.parametrize("name", list(TOO_DEEP))
def test_deep_nesting_is_a_message(name: str, ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError, match=r"nests more than 32 levels.*line 1 column"):
        compile_sql(TOO_DEEP[name], ctx)


def test_nesting_within_the_limit_runs(engine: FilterEngine, ctx: FilterContext) -> None:
    sql = "SELECT objectId, " + _nest(30, "(", ")", "ncand") + " + " + "-" * 5 + "1 AS x "
    rows = engine.run(compile_sql(sql + "FROM objects ORDER BY objectId", ctx)).rows()
    assert [r["x"] for r in rows] == [o["ncand"] - 1 for o in DATA["objects"]]


def test_megabyte_condition_chain_is_refused_before_parsing(ctx: FilterContext) -> None:
    chain = " OR ".join(f"objects.ncand = {i}" for i in range(60_000))  # ~1.3 MB
    with pytest.raises(FilterRejectedError, match="characters long; at most 50,000"):
        compile_lasair("objects.objectId", "objects", chain, ctx)
    words = " OR ".join(f"ncand={i}" for i in range(1_500))  # short text, many words
    with pytest.raises(FilterRejectedError, match="SQL words; at most 4,000"):
        compile_sql(f"SELECT objectId FROM objects WHERE {words}", ctx)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT objectId FROM objects, objects",
        "SELECT o.objectId FROM objects o JOIN sherlock_classifications o ON 1 = 1",
        "SELECT objectId FROM objects JOIN Objects ON 1 = 1",
        "WITH objects AS (SELECT 1 AS x) SELECT x FROM objects",
    ],
)
def test_table_listed_twice_is_a_message(sql: str, ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError, match=r"listed twice|is a table's name"):
        compile_sql(sql, ctx)


def test_lasair_table_list_is_bounded(ctx: FilterContext) -> None:
    many = "&".join(str(i) for i in range(40))
    with pytest.raises(FilterRejectedError, match="40 tables to join; at most 32"):
        compile_lasair("objects.objectId", f"objects, watchlist:{many}", "", ctx)
    with pytest.raises(FilterRejectedError, match="not of the form watchlist:N"):
        compile_lasair("objects.objectId", "objects, watchlist:" + "9" * 5000, "", ctx)


def test_lasair_table_listed_twice(ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError, match="listed twice"):
        compile_lasair(
            "objects.objectId",
            "objects, sherlock_classifications, sherlock_classifications",
            "",
            ctx,
        )


@pytest.mark.parametrize(
    ("sql", "conditions"),
    [
        ("SELECT objectId FROM objects LIMIT 5 OFFSET 99999999999999999999999", None),
        (f"SELECT objectId FROM objects LIMIT {2**64}", None),
        ("objects.objectId", "objects.ncand > 0 LIMIT 99999999999999999999, 5"),
        ("objects.objectId", "objects.ncand > 0 LIMIT 5 OFFSET 18446744073709551616"),
    ],
)
def test_limit_and_offset_beyond_the_range(
    sql: str, conditions: str | None, ctx: FilterContext
) -> None:
    with pytest.raises(FilterRejectedError, match=r"out of range.*0 to 1,000,000,000"):
        if conditions is None:
            compile_sql(sql, ctx)
        else:
            compile_lasair(sql, "objects", conditions, ctx)


def test_offset_argument_beyond_the_range(engine: FilterEngine, ctx: FilterContext) -> None:
    compiled = compile_sql("SELECT objectId FROM objects", ctx)
    with pytest.raises(FilterRejectedError, match="out of range"):
        engine.run(compiled, offset=2**70)
    assert engine.run(compiled, offset=5).num_rows == len(DATA["objects"]) - 5


GROWTH = [
    "SELECT replace(replace(objectId, 'Z', 'ZZZZZZZZ'), 'Z', 'ZZZZZZZZ') AS x FROM objects",
    "SELECT replace(objectId, 'Z', '" + "x" * 100 + "') AS x FROM objects",
    "SELECT replace(objectId, objectId, 'x') AS x FROM objects",
    "WITH a AS (SELECT concat(objectId, objectId, objectId) AS s FROM objects) SELECT s FROM a",
    "SELECT s FROM (SELECT replace(objectId, 'Z', 'ZZ') AS s FROM objects) AS t",
    "SELECT instr(concat(objectId, objectId), 'x') AS x FROM objects",
    "SELECT objectId FROM objects WHERE concat(objectId, objectId) LIKE '%a%'",
    "SELECT objectId FROM objects WHERE objectId LIKE '%a%b%c%d%e%f%'",
    "SELECT CAST(objectId AS CHAR(100000000)) AS x FROM objects",
    "SELECT '" + "x" * 5000 + "' AS x",
]


@pytest.mark.parametrize("sql", GROWTH)
def test_string_growth_is_bounded_by_the_validator(sql: str, ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError):
        compile_sql(sql, ctx)


def test_bounded_string_functions_still_run(engine: FilterEngine, ctx: FilterContext) -> None:
    sql = (
        "SELECT objectId, replace(classification, 'SN', 'Supernova') AS c, "
        "concat(objectId, '/', classification) AS k FROM sherlock_classifications "
        "WHERE classification LIKE '%N%' ORDER BY objectId"
    )
    rows = engine.run(compile_sql(sql, ctx)).rows()
    want = [r for r in DATA["sherlock_classifications"] if "N" in r["classification"]]
    assert [r["c"] for r in rows] == [r["classification"].replace("SN", "Supernova") for r in want]
    assert [r["k"] for r in rows] == [f"{r['objectId']}/{r['classification']}" for r in want]


def _raw(sql: str, dialect: str) -> CompiledFilter:
    """SQL that skipped the validator, to test what the engine alone contains."""
    tree = sqlglot.parse_one(sql, read=dialect)
    return CompiledFilter(tree=tree, columns=("x",), tables=frozenset(), unchecked=True)  # type: ignore[arg-type]


#: Quadratic searches over strings built in the query (what the validator now refuses),
#: run on each engine alone: the time limit stops them.
QUADRATIC = {
    "duckdb": "SELECT count(*) AS x FROM range(100000000) t(i) "
    "WHERE instr(repeat('a', 20000) || i::TEXT, 'ab') > 0 "
    "OR (repeat('a', 20000) || i::TEXT) LIKE '%b%'",
    "sqlite": "SELECT count(*) AS x FROM objects a, objects b, objects c, objects d, "
    "objects e, objects f, objects g, objects h "
    "WHERE instr(hex(zeroblob(100000)) || h.ncand, '1x') > 0 "
    "OR (hex(zeroblob(100000)) || h.ncand) LIKE '%x%'",
    "postgres": "SELECT count(*) AS x FROM generate_series(1, 100000000) g "
    "WHERE strpos(repeat('a', 100000) || g, 'ab') > 0 OR (repeat('a', 100000) || g) LIKE '%b%'",
}


def test_quadratic_search_is_stopped_at_the_time_limit(engine: FilterEngine) -> None:
    with pytest.raises(FilterTimeoutError, match="stopped after 1 s"):
        engine.run(_raw(QUADRATIC[engine.engine], engine.engine), Limits(timeout_s=1.0))


def test_sqlite_caps_string_length(tmp_path: Path) -> None:
    from lanner.filter.archive_engines import SQLiteEngine
    from tests.filter.kit_data import make_sqlite

    make_sqlite(tmp_path / "a.db", CATALOG)
    eng = SQLiteEngine(tmp_path / "a.db", CATALOG)
    try:
        with pytest.raises(FilterRuntimeError, match="too big"):
            eng.run(_raw("SELECT length(hex(zeroblob(3000000))) AS x", "sqlite"))
        assert eng.run(_raw("SELECT length(hex(zeroblob(1000))) AS x", "sqlite")).rows() == [
            {"x": 2000}
        ]
    finally:
        eng.close()


def test_duckdb_caps_memory() -> None:
    eng = DuckDBEngine.for_batch(CATALOG, arrow_tables(CATALOG), memory_limit="64MB")
    sql = "SELECT length(string_agg(repeat('x', 1000000), '')) AS x FROM range(200)"
    with pytest.raises(FilterRuntimeError, match="Out of Memory"):
        eng.run(_raw(sql, "duckdb"))
    assert eng.run(_raw("SELECT 1 AS x", "duckdb")).rows() == [{"x": 1}]


def test_postgres_run_has_memory_and_time_settings(pg_schema: tuple) -> None:
    from lanner.filter.archive_engines import PostgresEngine

    conn, schema = pg_schema
    sql = (
        "SELECT current_setting('work_mem') || ' ' || current_setting('temp_file_limit') "
        "|| ' ' || current_setting('statement_timeout') AS x"
    )
    rows = PostgresEngine(conn, schema).run(_raw(sql, "postgres"), Limits(timeout_s=7)).rows()
    assert rows == [{"x": "64MB 1GB 7s"}]


def test_result_size_is_capped(engine: FilterEngine, ctx: FilterContext) -> None:
    compiled = compile_sql("SELECT objectId, ramean, decmean FROM objects", ctx)
    with pytest.raises(FilterRuntimeError, match="result is larger than"):
        engine.run(compiled, Limits(max_result_bytes=40))
    assert engine.run(compiled, Limits(max_result_bytes=100_000)).num_rows == len(DATA["objects"])


def test_decimal_results_are_numbers(engine: FilterEngine, ctx: FilterContext) -> None:
    sql = (
        "SELECT objectId, ncand * 1.5 AS x, CAST(ncand AS DECIMAL(10, 2)) AS d "
        "FROM objects ORDER BY objectId"
    )
    rows = engine.run(compile_sql(sql, ctx)).rows()
    assert [(r["x"], r["d"]) for r in rows] == [
        (o["ncand"] * 1.5, float(o["ncand"])) for o in DATA["objects"]
    ]
    assert all(isinstance(r["x"], float) and isinstance(r["d"], float) for r in rows)
    total = engine.run(compile_sql("SELECT SUM(ncand) AS s FROM objects", ctx)).rows()
    assert total == [{"s": sum(o["ncand"] for o in DATA["objects"])}]
    assert isinstance(total[0]["s"], (int, float))


def test_date_out_of_range_is_a_message(engine: FilterEngine, ctx: FilterContext) -> None:
    sql = "SELECT objectId, CAST('99999-12-31' AS DATE) AS d FROM objects"
    if engine.engine == "sqlite":  # SQLite's DATE() of an unknown text is NULL
        assert {r["d"] for r in engine.run(compile_sql(sql, ctx)).rows()} == {None}
        return
    with pytest.raises(FilterRuntimeError, match=r"date outside years 1-9999|date too large"):
        engine.run(compile_sql(sql, ctx))


CORPUS = (
    REJECTED_SQL
    + list(TOO_DEEP.values())
    + GROWTH
    + FORGED_SQL
    + [
        "SELECT objectId FROM objects, objects",
        "SELECT objectId FROM objects LIMIT 5 OFFSET 99999999999999999999999",
        "SELECT objectId, ncand * 1.5 AS x FROM objects",
        "SELECT CAST('99999-12-31' AS DATE) AS d",
        "SELECT 1e999999 AS x",
        "SELECT 99999999999999999999999999999 AS x",
        "SELECT objectId FROM objects WHERE objectId + 1 > 0",
        "SELECT objectId FROM objects WHERE gmag = 'x' AND ncand / 0 > 1",
        "SELECT JSON_EXTRACT(classdict, '$.prob') + 1 AS p FROM annotations",
        "SELECT objectId FROM objects ORDER BY 99",
        "SELECT objectId FROM objects GROUP BY 1, 2",
        "SELECT \x00 FROM objects",
        "SELECT `objects`.`objectId` FROM `objects` WHERE `gmag` < 20",
        'SELECT "objectId" FROM objects',
        "SELECT objectId FROM objects WHERE objectId = '\\'' OR 1 = 1",
        "SELECT",
        "",
        ";;",
    ]
)


def test_no_traceback_reaches_the_user(engine: FilterEngine, ctx: FilterContext) -> None:
    outcomes: dict[str, int] = {"rows": 0, "refused": 0}
    for sql in CORPUS:
        try:
            compiled = compile_sql(sql, ctx)
        except FilterError as err:
            assert err.message
            outcomes["refused"] += 1
            continue
        try:
            result = engine.run(compiled, Limits(timeout_s=2))
            result.rows()
            outcomes["rows"] += 1
        except FilterError as err:
            assert err.message
            outcomes["refused"] += 1
    for selected, tables, conditions in REJECTED_LASAIR + FORGED_LASAIR:
        try:
            engine.run(compile_lasair(selected, tables, conditions, ctx)).rows()
        except FilterError as err:
            assert err.message
    assert outcomes["refused"] > len(REJECTED_SQL) and outcomes["rows"] > len(FORGED_SQL)
