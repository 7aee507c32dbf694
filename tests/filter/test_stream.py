"""Running the active filters of a batch: failures are reported per filter, and matches
carry the values that made them fire."""

from __future__ import annotations

from lanner.filter.compile import compile_lasair, compile_sql
from lanner.filter.errors import FilterRuntimeError, FilterTimeoutError
from lanner.filter.execute import FilterEngine, Limits
from lanner.filter.stream import only_objects, run_filters, split_why, with_why
from lanner.filter.validate import FilterContext
from tests.filter.kit_data import DATA, duckdb_with_slow_function, slow_cartesian

OBJ = {o["objectId"]: o for o in DATA["objects"]}


def test_failing_filters_do_not_hold_up_the_batch(ctx: FilterContext) -> None:
    eng = duckdb_with_slow_function()
    filters = {
        "bright": compile_lasair("objects.objectId", "objects", "objects.gmag < 18", ctx),
        "stuck": slow_cartesian(ctx, 7),
        "broken": compile_sql("SELECT objectId FROM objects WHERE CAST(objectId AS INT) > 0", ctx),
        "all": compile_lasair("objects.objectId", "objects", "", ctx),
    }
    run = run_filters(eng, filters, Limits(timeout_s=0.3, row_cap=100))
    assert set(run.results) == {"bright", "all"}
    assert isinstance(run.errors["stuck"], FilterTimeoutError)
    assert isinstance(run.errors["broken"], FilterRuntimeError)
    assert run.results["all"].num_rows == len(OBJ)
    want = sorted(k for k, o in OBJ.items() if o["gmag"] is not None and o["gmag"] < 18)
    assert sorted(r["objectId"] for r in run.results["bright"].rows()) == want


def test_why_values_are_returned_with_each_match(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.objectId",
        "objects, sherlock_classifications",
        "objects.gmag < 18 AND sherlock_classifications.separationArcsec < 2",
        ctx,
    )
    explained = with_why(f)
    rows = engine.run(explained).rows()
    sher = {s["objectId"]: s for s in DATA["sherlock_classifications"]}
    assert rows
    for row in rows:
        values, why = split_why(row)
        oid = str(values["objectId"])
        assert set(values) == {"objectId"}
        assert why["objects.gmag"] == OBJ[oid]["gmag"]
        assert why["sherlock_classifications.separationArcsec"] == sher[oid]["separationArcsec"]


def test_why_leaves_aggregates_alone(ctx: FilterContext) -> None:
    f = compile_sql("SELECT COUNT(*) AS n FROM objects WHERE gmag < 18", ctx)
    assert with_why(f) is f


def test_only_objects_for_annotation_reruns(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.objectId",
        "objects, annotator:fastfinker",
        "fastfinker.classification <> 'x' OR objects.ncand > 0",
        ctx,
    )
    assert f.annotators == ("fastfinker",)
    just = only_objects(f, ctx.object_id, ["ZTF20b", "ZTF20c"])
    # The user's OR stays inside its parentheses: only the annotated objects come back.
    assert [r["objectId"] for r in engine.run(just).rows()] == ["ZTF20b"]
    assert engine.run(only_objects(f, ctx.object_id, [])).num_rows == 0
