"""Every table join form and function, run on DuckDB, SQLite and PostgreSQL.

Expected rows are computed in Python from the fixture data, not from Lanner's SQL.
"""

from __future__ import annotations

import json
import math

import pytest

from lanner.filter.compile import compile_lasair, compile_sql
from lanner.filter.execute import FilterEngine, Limits
from lanner.filter.validate import FilterContext
from tests.filter.kit_data import DATA, OWN_AR, OWN_WL, PUBLIC_AR, PUBLIC_WL, TNS_WL

OBJ = {o["objectId"]: o for o in DATA["objects"]}
SHER = {s["objectId"]: s for s in DATA["sherlock_classifications"]}


def ids(result_rows: list[dict[str, object]], key: str = "objectId") -> list[object]:
    return sorted(str(r[key]) for r in result_rows)


def hits(table: str, id_col: str, value: int) -> set[str]:
    return {h["objectId"] for h in DATA[table] if h[id_col] == value}


def test_objects_only(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair("objects.objectId, objects.gmag", "objects", "objects.gmag < 18", ctx)
    want = sorted(k for k, o in OBJ.items() if o["gmag"] is not None and o["gmag"] < 18)
    assert ids(engine.run(f).rows()) == want


def test_sherlock_join(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.objectId, sherlock_classifications.classification",
        "objects, sherlock_classifications",
        'sherlock_classifications.classification = "SN"',
        ctx,
    )
    rows = engine.run(f).rows()
    assert ids(rows) == sorted(k for k, s in SHER.items() if s["classification"] == "SN")
    assert {r["classification"] for r in rows} == {"SN"}


@pytest.mark.parametrize("wl", [PUBLIC_WL, OWN_WL])
def test_watchlist_join(engine: FilterEngine, ctx: FilterContext, wl: int) -> None:
    f = compile_lasair(
        "objects.objectId, watchlist_hits.arcsec, watchlist_hits.name",
        f"objects, watchlist:{wl}",
        "",
        ctx,
    )
    rows = engine.run(f).rows()
    assert ids(rows) == sorted(hits("watchlist_hits", "wl_id", wl))
    by_name = {h["objectId"]: h for h in DATA["watchlist_hits"] if h["wl_id"] == wl}
    for r in rows:
        assert r["arcsec"] == pytest.approx(by_name[str(r["objectId"])]["arcsec"])


def test_two_watchlists_are_both_required(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.objectId, wl0.name, wl1.name AS other",
        f"objects, watchlist:{PUBLIC_WL}&{TNS_WL}",
        "",
        ctx,
    )
    both = hits("watchlist_hits", "wl_id", PUBLIC_WL) & hits("watchlist_hits", "wl_id", TNS_WL)
    assert ids(engine.run(f).rows()) == sorted(both)


@pytest.mark.parametrize("form", ["watchmap", "area"])
def test_watchmap_join(engine: FilterEngine, ctx: FilterContext, form: str) -> None:
    f = compile_lasair("objects.objectId, area_hits.ar_id", f"objects, {form}:{PUBLIC_AR}", "", ctx)
    assert ids(engine.run(f).rows()) == sorted(hits("area_hits", "ar_id", PUBLIC_AR))


def test_watchmap_and_form(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair("objects.objectId", f"objects, area:{PUBLIC_AR}&{OWN_AR}", "", ctx)
    both = hits("area_hits", "ar_id", PUBLIC_AR) & hits("area_hits", "ar_id", OWN_AR)
    assert ids(engine.run(f).rows()) == sorted(both) == ["ZTF20b"]


def test_crossmatch_tns(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.objectId, crossmatch_tns.tns_name, crossmatch_tns.type",
        "objects, crossmatch_tns",
        "",
        ctx,
    )
    rows = engine.run(f).rows()
    tns = {t["tns_name"]: t for t in DATA["crossmatch_tns"]}
    want = sorted(
        h["objectId"] for h in DATA["watchlist_hits"] if h["wl_id"] == TNS_WL and h["name"] in tns
    )
    assert ids(rows) == want
    for r in rows:
        assert r["type"] == tns[str(r["tns_name"])]["type"]


def test_crossmatch_tns_with_watchlist(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.objectId, crossmatch_tns.tns_name, watchlist_hits.name",
        f"objects, crossmatch_tns, watchlist:{PUBLIC_WL}",
        "",
        ctx,
    )
    want = hits("watchlist_hits", "wl_id", PUBLIC_WL) & hits("watchlist_hits", "wl_id", TNS_WL)
    assert ids(engine.run(f).rows()) == sorted(want)


def test_annotator_and_json(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.objectId, fastfinker.classification, "
        "JSON_EXTRACT(fastfinker.classdict, '$.kind') AS kind, "
        "JSON_EXTRACT(fastfinker.classdict, '$.scores[1]') * 10 AS s10",
        "objects, annotator:fastfinker",
        "JSON_EXTRACT(fastfinker.classdict, '$.prob') > 0.5",
        ctx,
    )
    rows = engine.run(f).rows()
    want = [
        a
        for a in DATA["annotations"]
        if a["topic"] == "fastfinker" and json.loads(a["classdict"])["prob"] > 0.5
    ]
    assert ids(rows) == sorted(a["objectId"] for a in want)
    doc = json.loads(want[0]["classdict"])
    assert rows[0]["kind"] == doc["kind"]
    assert rows[0]["s10"] == pytest.approx(doc["scores"][1] * 10)


def test_two_annotators(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.objectId, fastfinker.classification AS a, slowpoke.classification AS b",
        "objects, annotator:fastfinker&slowpoke",
        "",
        ctx,
    )
    topics: dict[str, set[str]] = {}
    for a in DATA["annotations"]:
        topics.setdefault(a["topic"], set()).add(a["objectId"])
    assert ids(engine.run(f).rows()) == sorted(topics["fastfinker"] & topics["slowpoke"])


def test_json_number_on_string_value_is_null(engine: FilterEngine, ctx: FilterContext) -> None:
    # slowpoke's ZTF20c has "prob": "high": not a number, so no match and no error.
    f = compile_lasair(
        "objects.objectId",
        "objects, annotator:slowpoke",
        "JSON_EXTRACT(slowpoke.classdict, '$.prob') > 0.1",
        ctx,
    )
    assert ids(engine.run(f).rows()) == ["ZTF20a"]


def test_flux2mag(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair("objects.objectId, flux2mag(objects.flux) AS m", "objects", "", ctx)
    got = {str(r["objectId"]): r["m"] for r in engine.run(f).rows()}
    for oid, o in OBJ.items():
        if o["flux"] > 0:
            assert got[oid] == pytest.approx(31.4 - 2.5 * math.log10(o["flux"]), abs=1e-9)
        else:
            assert got[oid] is None  # zero and negative flux have no magnitude


def test_mjdnow_jdnow_are_bound(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.objectId, mjdnow() AS m, jdnow() AS j",
        "objects",
        "jdnow() - objects.jdmax < 2.5",
        ctx,
    )
    now = 60002.0  # JD 2460002.5
    rows = engine.run(f, now_mjd=now).rows()
    want = sorted(k for k, o in OBJ.items() if now + 2400000.5 - o["jdmax"] < 2.5)
    assert ids(rows) == want
    assert rows[0]["m"] == pytest.approx(now)
    assert rows[0]["j"] == pytest.approx(now + 2400000.5)


def test_math_and_string_functions(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_sql(
        "SELECT objectId, ROUND(gmag - rmag, 2) AS c, ABS(decmean) AS ad, "
        "SQRT(ncand) AS sq, POW(ncand, 2) AS p2, LOG10(ncand) AS lg, "
        "UPPER(objectId) AS up, LENGTH(objectId) AS n, COALESCE(gmag, rmag) AS best, "
        "GREATEST(gmag, rmag) AS g, IF(ncand > 4, 'many', 'few') AS k, "
        "CONCAT(objectId, '-x') AS cc, SUBSTR(objectId, 1, 3) AS pre "
        "FROM objects WHERE objectId LIKE 'ZTF20%' ORDER BY objectId",
        ctx,
    )
    rows = engine.run(f).rows()
    assert [r["objectId"] for r in rows] == sorted(OBJ)
    for r in rows:
        o = OBJ[str(r["objectId"])]
        if o["gmag"] is not None:
            assert r["c"] == pytest.approx(round(o["gmag"] - o["rmag"], 2))
            assert r["g"] == pytest.approx(max(o["gmag"], o["rmag"]))
        assert r["ad"] == pytest.approx(abs(o["decmean"]))
        assert r["sq"] == pytest.approx(math.sqrt(o["ncand"]))
        assert r["p2"] == pytest.approx(o["ncand"] ** 2)
        assert r["lg"] == pytest.approx(math.log10(o["ncand"]))
        assert r["up"] == o["objectId"].upper()
        assert r["n"] == len(o["objectId"])
        assert r["best"] == pytest.approx(o["gmag"] if o["gmag"] is not None else o["rmag"])
        assert r["k"] == ("many" if o["ncand"] > 4 else "few")
        assert r["cc"] == o["objectId"] + "-x"
        assert r["pre"] == "ZTF"


def test_full_statement_with_explicit_join_and_order(
    engine: FilterEngine, ctx: FilterContext
) -> None:
    f = compile_sql(
        "SELECT o.objectId, s.classification FROM objects AS o "
        "JOIN sherlock_classifications AS s ON o.objectId = s.objectId "
        "WHERE s.separationArcsec < 2 ORDER BY o.gmag DESC",
        ctx,
    )
    rows = engine.run(f).rows()
    want = [k for k, s in SHER.items() if s["separationArcsec"] < 2]
    want.sort(key=lambda k: -OBJ[k]["gmag"])
    assert [r["objectId"] for r in rows] == want


def test_order_by_only_conditions(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair(
        "objects.objectId, objects.ncand", "objects", "ORDER BY objects.ncand DESC", ctx
    )
    rows = engine.run(f).rows()
    assert [r["ncand"] for r in rows] == sorted((o["ncand"] for o in OBJ.values()), reverse=True)


def test_limit_offset_bound_and_capped(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair("objects.objectId", "objects", "ORDER BY objects.objectId", ctx)
    order = sorted(OBJ)
    page = engine.run(f, limit=2, offset=1)
    assert [r["objectId"] for r in page.rows()] == order[1:3]
    assert not page.truncated
    capped = engine.run(f, Limits(timeout_s=10, row_cap=4))
    assert capped.truncated and [r["objectId"] for r in capped.rows()] == order[:4]
    exact = engine.run(f, Limits(timeout_s=10, row_cap=len(order)))
    assert not exact.truncated and exact.num_rows == len(order)


def test_subquery_and_aggregate(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_sql(
        "SELECT COUNT(*) AS n, AVG(ncand) AS mean FROM objects WHERE objectId IN "
        "(SELECT objectId FROM sherlock_classifications WHERE classification = 'SN')",
        ctx,
    )
    rows = engine.run(f).rows()
    sn = [k for k, s in SHER.items() if s["classification"] == "SN"]
    assert rows[0]["n"] == len(sn)
    assert rows[0]["mean"] == pytest.approx(sum(OBJ[k]["ncand"] for k in sn) / len(sn))


def test_group_by_having_in_conditions(engine: FilterEngine, ctx: FilterContext) -> None:
    f = compile_lasair(
        "sherlock_classifications.classification AS c, COUNT(*) AS n",
        "objects, sherlock_classifications",
        "objects.ncand > 1 GROUP BY c HAVING COUNT(*) > 0 ORDER BY n DESC, c",
        ctx,
    )
    counts: dict[str, int] = {}
    for oid, s in SHER.items():
        if OBJ[oid]["ncand"] > 1:
            counts[s["classification"]] = counts.get(s["classification"], 0) + 1
    want = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    assert [(r["c"], r["n"]) for r in engine.run(f).rows()] == want
