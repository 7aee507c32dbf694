"""Lasair's own example filters (``lasair_examples.py``), unchanged, on a Lanner database of
the same survey built from the shared real alerts: in the archive (SQLite) and in the
streaming batch engine (DuckDB). Each one either validates and runs, or is rejected with the
reason its entry gives. Kit tables no stage fills here (watchlists, annotations, TNS) exist
empty, so filters naming them run and return nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lanner.batch import AlertBatch
from lanner.filter.archive_engines import SQLiteEngine
from lanner.filter.batch_engine import batch_tables
from lanner.filter.compile import compile_lasair, compile_sql
from lanner.filter.errors import FilterError
from lanner.filter.execute import DuckDBEngine
from lanner.filter.validate import FilterContext, Visibility
from lanner.schema.registry import filterable_tables
from lanner.store import open_store
from tests.filter.lasair_examples import EXAMPLES, STATEMENTS, LasairExample
from tests.helpers import enriched, packets_of

#: The watchlists the examples name (their pages' ids), readable here, and the deployment's
#: TNS watchlist.
WATCHLISTS = frozenset({139, 1021})
TNS_WATCHLIST = 100
RECENCY = {"lsst": "lastDiaSourceMjdTai", "ztf": "jdmax"}
#: The shared alerts each database is built from: every ZTF alert; the Rubin alerts of four
#: sources (bright ones among them), which keeps the module to seconds.
SOURCES = {
    "lsst": (
        "lsst/astrolabsoftware__fink-filters",
        "lsst/lsst-dm__alert-stream-simulator",
        "lsst/lsst-uk__lasair-lsst",
        "lsst/boom-astro__boom",
    ),
    "ztf": ("ztf",),
}


@dataclass
class SurveyDatabase:
    batch: AlertBatch
    sqlite: SQLiteEngine
    context: FilterContext


@pytest.fixture(scope="module")
def databases(
    alerts_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, SurveyDatabase]]:
    out = {}
    for survey in ("lsst", "ztf"):
        paths = [alerts_dir / p for p in SOURCES[survey]]
        batch = enriched(packets_of(paths), survey)  # type: ignore[arg-type]
        path = tmp_path_factory.mktemp(survey) / "lanner.db"
        store = open_store(f"sqlite:///{path}", survey)
        store.write_batch(batch)
        store.close()
        catalog = filterable_tables(survey)  # type: ignore[arg-type]
        context = FilterContext(
            survey, catalog, Visibility(WATCHLISTS), tns_watchlist_id=TNS_WATCHLIST
        )
        out[survey] = SurveyDatabase(batch, SQLiteEngine(path, catalog), context)
    yield out
    for db in out.values():
        db.sqlite.close()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_lasair_example_runs_unchanged_or_is_rejected_for_its_reason(
    example: LasairExample, databases: dict[str, SurveyDatabase]
) -> None:
    db = databases[example.survey]
    if not example.runs:
        with pytest.raises(FilterError) as err:
            compile_lasair(example.selected, example.tables, example.conditions, db.context)
        assert example.error in str(err.value)
        assert example.why
        return
    compiled = compile_lasair(example.selected, example.tables, example.conditions, db.context)
    archived = db.sqlite.run(compiled)
    tables = batch_tables(db.batch, RECENCY[example.survey])
    try:
        streamed = DuckDBEngine(tables.con).run(compiled)
    finally:
        tables.close()
    assert archived.columns == streamed.columns == tuple(compiled.columns)
    # The archive holds each object once; the batch its newest alert per object: the same
    # objects pass (both are empty when the filter needs "now" or an empty kit table).
    oid = db.context.object_id
    if oid in compiled.columns:
        assert {r[oid] for r in archived.rows()} == {r[oid] for r in streamed.rows()}


def test_some_examples_select_real_alerts(databases: dict[str, SurveyDatabase]) -> None:
    # Not all empty: the bright-g filter finds the shared Rubin alerts brighter than 200 uJy.
    example = next(e for e in EXAMPLES if e.name == "lsst make_filter: bright g, latest first")
    db = databases["lsst"]
    rows = db.sqlite.run(
        compile_lasair(example.selected, example.tables, example.conditions, db.context)
    ).rows()
    assert rows and all(r["g_psfFlux"] > 200000 for r in rows)
    times = [r["since"] for r in rows]
    assert times == sorted(times)  # latest first: smallest "since" first


@pytest.mark.parametrize("statement", STATEMENTS, ids=[s[0] for s in STATEMENTS])
def test_statements_that_are_not_filters_of_lasair_tables_are_rejected(
    statement: tuple[str, str, str, str, str], databases: dict[str, SurveyDatabase]
) -> None:
    _, _, survey, sql, error = statement
    with pytest.raises(FilterError) as err:
        compile_sql(sql, databases[survey].context)
    assert error in str(err.value)


def test_objects_ext_reads_the_pass_throughs_kept_in_objects(
    databases: dict[str, SurveyDatabase],
) -> None:
    # Lasair-LSST keeps the diaObject pass-throughs in `objects_ext`; filters written for it
    # name that table, in Lasair's form or as a full statement.
    db = databases["lsst"]
    ext = compile_lasair(
        "objects.diaObjectId, objects_ext.i_psfFluxSigma",
        "objects, objects_ext",
        "objects_ext.i_psfFluxSigma > 100 ORDER BY objects.diaObjectId",
        db.context,
    )
    full = compile_sql(
        "SELECT objects.diaObjectId, objects_ext.i_psfFluxSigma FROM objects, objects_ext "
        "WHERE objects.diaObjectId = objects_ext.diaObjectId "
        "AND objects_ext.i_psfFluxSigma > 100 ORDER BY objects.diaObjectId",
        db.context,
    )
    plain = compile_lasair(
        "objects.diaObjectId, objects.i_psfFluxSigma",
        "objects",
        "objects.i_psfFluxSigma > 100 ORDER BY objects.diaObjectId",
        db.context,
    )
    want = db.sqlite.run(plain).rows()
    assert want and all(r["i_psfFluxSigma"] > 100 for r in want)
    assert db.sqlite.run(ext).rows() == want
    assert db.sqlite.run(full).rows() == want
    tables = batch_tables(db.batch, RECENCY["lsst"])
    try:
        assert DuckDBEngine(tables.con).run(ext).rows() == want
    finally:
        tables.close()
    with pytest.raises(FilterError, match="unknown table `objects_ext`"):
        compile_lasair("objects.objectId", "objects, objects_ext", "", databases["ztf"].context)
