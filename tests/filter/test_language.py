"""Parsing, validation messages and compilation, without running anything."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lanner.filter.compile import compile_lasair, compile_sql
from lanner.filter.errors import FilterRejectedError, FilterSyntaxError
from lanner.filter.execute import DuckDBEngine
from lanner.filter.functions import ENGINES
from lanner.filter.validate import FilterContext, Visibility
from lanner.schema.columns import Column, Table
from lanner.schema.kit import filterable_kit_tables, kit_tables
from tests.filter.kit_data import CATALOG, OBJECTS, TNS_WL


def test_unknown_column_names_place_and_suggestion(ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError) as err:
        compile_lasair("objects.objectId", "objects", "objects.gmagg < 18", ctx)
    msg = str(err.value)
    assert msg.startswith("unknown column `objects.gmagg` in conditions")
    assert "did you mean `gmag`" in msg


def test_unknown_column_in_selected(ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError) as err:
        compile_lasair("objects.objectId, objects.ncandd", "objects", "", ctx)
    assert err.value.where == "selected" and "`ncand`" in str(err.value)


def test_unknown_table_suggestion(ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError) as err:
        compile_lasair("objects.objectId", "objects, sherlok_classifications", "", ctx)
    assert err.value.where == "tables"
    assert "did you mean `sherlock_classifications`" in str(err.value)


def test_unknown_function_suggestion(ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError) as err:
        compile_sql("SELECT flux2mags(flux) FROM objects", ctx)
    assert "function flux2mags() is not allowed" in str(err.value)
    assert "flux2mag" in str(err.value)


def test_syntax_error_position_is_in_user_text(ctx: FilterContext) -> None:
    with pytest.raises(FilterSyntaxError) as err:
        compile_lasair("objects.objectId", "objects", "objects.gmag 3", ctx)
    # Column 14 of the user's own text (the '3'), not of the SQL Lanner wraps around it.
    assert err.value.where == "conditions, line 1 column 14"


def test_unclosed_quote(ctx: FilterContext) -> None:
    with pytest.raises(FilterSyntaxError, match="unclosed quote"):
        compile_lasair("objects.objectId", "objects", "objects.gmag < 'abc", ctx)


def test_ambiguous_column(ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError, match="ambiguous"):
        compile_sql("SELECT ramean FROM objects a JOIN objects b ON a.objectId = b.objectId", ctx)


def test_object_id_resolves_to_objects_table(ctx: FilterContext) -> None:
    f = compile_lasair("objectId", "objects, sherlock_classifications", "", ctx)
    assert '"objects"."objectId"' in f.sql("duckdb")


def test_names_are_case_insensitive_and_normalised(ctx: FilterContext) -> None:
    f = compile_sql("select OBJECTS.OBJECTID, Gmag from Objects where GMAG < 3", ctx)
    assert f.columns == ("objectId", "gmag")
    assert '"objects"."gmag" < 3' in f.sql("sqlite")


def test_star_expands_to_declared_columns(ctx: FilterContext) -> None:
    f = compile_lasair("*", "objects, sherlock_classifications", "", ctx)
    sher = [c for c in CATALOG["sherlock_classifications"].column_names]
    # Duplicate names get the table's name so every engine returns the same columns.
    assert f.columns == (
        *OBJECTS.column_names,
        *[c if c != "objectId" else "sherlock_classifications_objectId" for c in sher],
    )


def test_what_a_filter_uses(ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.objectId",
        "objects, watchlist:1&2, area:3, annotator:fastfinker, crossmatch_tns",
        "objects.gmag < 19 AND fastfinker.classification = 'kn' "
        "AND crossmatch_tns.z > 0.01 ORDER BY objects.rmag LIMIT 7",
        ctx,
    )
    assert f.watchlists == (1, 2) and f.watchmaps == (3,)
    assert f.annotators == ("fastfinker",)
    assert f.where_columns == ("objects.gmag", "fastfinker.classification", "crossmatch_tns.z")
    assert f.tables == {"objects", "watchlist_hits", "area_hits", "annotations", "crossmatch_tns"}
    assert f.limit == 7 and f.offset == 0


def test_sql_is_cached_per_engine(ctx: FilterContext) -> None:
    f = compile_sql("SELECT objectId FROM objects WHERE flux2mag(flux) < 20", ctx)
    for engine in ENGINES:
        assert f.sql(engine) is f.sql(engine)
    assert "LOG10" in f.sql("duckdb") and "LOG(" in f.sql("postgres")


def test_limit_must_be_a_number(ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError, match="whole number"):
        compile_sql("SELECT objectId FROM objects LIMIT 1 + 1", ctx)


@pytest.mark.parametrize(
    ("tables", "problem"),
    [
        ("objects, watchlist:abc", "not of the form watchlist:N"),
        ("objects, areas:3", "unknown table form"),
        ("objects, annotator:a-b", "is not a name"),
    ],
)
def test_table_list_errors(ctx: FilterContext, tables: str, problem: str) -> None:
    with pytest.raises(FilterRejectedError, match=problem):
        compile_lasair("objects.objectId", tables, "", ctx)


def test_crossmatch_tns_needs_a_tns_watchlist() -> None:
    ctx = FilterContext("ztf", CATALOG, Visibility())
    with pytest.raises(FilterRejectedError, match="crossmatch_tns is not available"):
        compile_lasair("objects.objectId", "objects, crossmatch_tns", "", ctx)


def test_empty_selected(ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError, match="SELECT list is empty"):
        compile_lasair("  ", "objects", "", ctx)


def test_kit_tables_follow_survey_object_id() -> None:
    for survey, oid, kind in (("ztf", "objectId", "text"), ("lsst", "diaObjectId", "bigint")):
        tables = kit_tables(survey)
        assert set(tables) == {
            "crossmatch_tns",
            "watchlist_hits",
            "area_hits",
            "annotations",
            "annotation_history",
            "annotators",
            "annotator_writers",
            "watchlists",
            "watchlist_cones",
            "watchmaps",
            "mma_areas",
            "mma_skymaps",
            "mma_notices",
            "mma_area_hits",
        }
        for name in (
            "watchlist_hits",
            "area_hits",
            "annotations",
            "annotation_history",
            "mma_area_hits",
        ):
            assert tables[name].column(oid).type == kind
        assert "crossmatch_tns" in filterable_kit_tables(survey)
        assert "watchlists" not in filterable_kit_tables(survey)
        assert "annotators" not in filterable_kit_tables(survey)
        assert {"mma_areas", "mma_area_hits"} <= set(filterable_kit_tables(survey))


def test_lsst_64bit_ids_stay_exact() -> None:
    objects = Table(
        "objects",
        "lsst objects",
        (
            Column("diaObjectId", "bigint", "id", nullable=False),
            Column("g_psfFlux", "double", "flux", "nJy"),
        ),
        primary_key=("diaObjectId",),
        filterable=True,
    )
    catalog = {"objects": objects, **filterable_kit_tables("lsst")}
    ctx = FilterContext("lsst", catalog, Visibility(watchlists=frozenset({5})))
    big = [2**62 + 1, 2**63 - 1, 9007199254740993]  # none survives a float64 round trip
    batch = {
        "objects": pa.table(
            {"diaObjectId": pa.array(big, pa.int64()), "g_psfFlux": [100.0, 1000.0, 10000.0]}
        ),
        "watchlist_hits": pa.table(
            {
                "diaObjectId": pa.array(big[1:], pa.int64()),
                "wl_id": pa.array([5, 5], pa.int32()),
                "cone_id": pa.array([1, 2], pa.int64()),
                "arcsec": [0.1, 0.2],
                "name": ["a", "b"],
            }
        ),
    }
    eng = DuckDBEngine.for_batch(catalog, batch)
    f = compile_lasair(
        "objects.diaObjectId, flux2mag(objects.g_psfFlux) AS mag", "objects, watchlist:5", "", ctx
    )
    rows = eng.run(f).rows()
    assert sorted(r["diaObjectId"] for r in rows) == sorted(big[1:])
    assert TNS_WL not in ctx.visibility.watchlists


def test_lasair_column_of_a_table_not_listed(ctx: FilterContext) -> None:
    with pytest.raises(FilterRejectedError) as err:
        compile_lasair(
            "objects.objectId, sherlock_classifications.classification", "objects", "", ctx
        )
    assert "add sherlock_classifications to the tables" in str(err.value)
    assert err.value.where == "selected"


def test_order_by_select_alias_and_group_by(ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.ncand > 5 AS many, COUNT(*) AS n",
        "objects",
        "objects.gmag IS NOT NULL GROUP BY many HAVING COUNT(*) > 0 ORDER BY many",
        ctx,
    )
    assert f.columns == ("many", "n")
    assert 'ORDER BY "many"' in f.sql("duckdb")
