"""Every allowed function on every engine, against values computed in Python."""

from __future__ import annotations

import math
import statistics

import pytest

from lanner.filter.compile import compile_sql
from lanner.filter.execute import FilterEngine
from lanner.filter.validate import FilterContext
from tests.filter.kit_data import DATA

A = next(o for o in DATA["objects"] if o["objectId"] == "ZTF20b")  # gmag 19.2, ncand 12
NCANDS = [o["ncand"] for o in DATA["objects"]]

SCALAR = {
    "ABS(decmean)": abs(A["decmean"]),
    "ROUND(gmag, 1)": round(A["gmag"], 1),
    "FLOOR(gmag)": math.floor(A["gmag"]),
    "CEIL(gmag)": math.ceil(A["gmag"]),
    "SQRT(ncand)": math.sqrt(A["ncand"]),
    "EXP(1)": math.e,
    "CBRT(ncand)": A["ncand"] ** (1 / 3),
    "COT(1)": 1 / math.tan(1),
    "LN(ncand)": math.log(A["ncand"]),
    "LOG(ncand)": math.log(A["ncand"]),  # MySQL: natural logarithm
    "LOG10(ncand)": math.log10(A["ncand"]),
    "LOG(2, ncand)": math.log2(A["ncand"]),
    "POW(ncand, 2)": A["ncand"] ** 2,
    "POWER(ncand, 0.5)": A["ncand"] ** 0.5,
    "MOD(ncand, 5)": A["ncand"] % 5,
    "ncand % 5": A["ncand"] % 5,
    "SIGN(decmean)": -1,
    "SIN(RADIANS(ramean))": math.sin(math.radians(A["ramean"])),
    "COS(RADIANS(ramean))": math.cos(math.radians(A["ramean"])),
    "TAN(RADIANS(ramean))": math.tan(math.radians(A["ramean"])),
    "ASIN(0.5)": math.asin(0.5),
    "ACOS(0.5)": math.acos(0.5),
    "ATAN(0.5)": math.atan(0.5),
    "ATAN2(decmean, ramean)": math.atan2(A["decmean"], A["ramean"]),
    "DEGREES(PI())": 180.0,
    "GREATEST(gmag, rmag)": max(A["gmag"], A["rmag"]),
    "LEAST(gmag, rmag)": min(A["gmag"], A["rmag"]),
    "COALESCE(NULL, gmag)": A["gmag"],
    "IFNULL(NULL, rmag)": A["rmag"],
    "NULLIF(ncand, 12)": None,
    "IF(ncand > 10, 1, 0)": 1,
    "CASE WHEN ncand > 100 THEN 'a' ELSE 'b' END": "b",
    "CAST(ncand AS DOUBLE) / 8": A["ncand"] / 8,
    "ncand / 0": None,
    "CAST(gmag AS SIGNED)": int(A["gmag"]),
    "CAST(ncand AS CHAR)": str(A["ncand"]),
    "CONCAT(objectId, '/', ncand)": f"{A['objectId']}/{A['ncand']}",
    "CONCAT_WS('-', objectId, 'x')": f"{A['objectId']}-x",
    "SUBSTR(objectId, 4, 2)": A["objectId"][3:5],
    "UPPER('ztf')": "ZTF",
    "LOWER(objectId)": A["objectId"].lower(),
    "LENGTH(objectId)": len(A["objectId"]),
    "TRIM('  x  ')": "x",
    "REPLACE(objectId, 'ZTF', 'Z')": A["objectId"].replace("ZTF", "Z"),
    "INSTR(objectId, '20')": A["objectId"].find("20") + 1,
    "LOCATE('20', objectId)": A["objectId"].find("20") + 1,
    "LEFT(objectId, 3)": A["objectId"][:3],
    "RIGHT(objectId, 2)": A["objectId"][-2:],
    "objectId LIKE 'ZTF%'": True,
    "flux2mag(flux)": 31.4 - 2.5 * math.log10(A["flux"]),
}


@pytest.mark.parametrize("expr", list(SCALAR))
def test_scalar_function(engine: FilterEngine, ctx: FilterContext, expr: str) -> None:
    f = compile_sql(f"SELECT {expr} AS v FROM objects WHERE objectId = 'ZTF20b'", ctx)
    (row,) = engine.run(f).rows()
    got, want = row["v"], SCALAR[expr]
    if want is None:
        assert got is None
    elif isinstance(want, bool):
        assert bool(got) is want
    elif isinstance(want, str):
        assert got == want
    else:
        assert float(got) == pytest.approx(want, rel=1e-9)


AGGREGATE = {
    "COUNT(*)": len(NCANDS),
    "COUNT(gmag)": sum(o["gmag"] is not None for o in DATA["objects"]),
    "SUM(ncand)": sum(NCANDS),
    "AVG(ncand)": statistics.mean(NCANDS),
    "MIN(ncand)": min(NCANDS),
    "MAX(ncand)": max(NCANDS),
    "MEDIAN(ncand)": statistics.median(NCANDS),
    # MySQL's STDDEV and VARIANCE are the population ones.
    "STDDEV(ncand)": statistics.pstdev(NCANDS),
    "VARIANCE(ncand)": statistics.pvariance(NCANDS),
    "STDDEV_SAMP(ncand)": statistics.stdev(NCANDS),
    "VAR_SAMP(ncand)": statistics.variance(NCANDS),
}


@pytest.mark.parametrize("expr", list(AGGREGATE))
def test_aggregate_function(engine: FilterEngine, ctx: FilterContext, expr: str) -> None:
    (row,) = engine.run(compile_sql(f"SELECT {expr} AS v FROM objects", ctx)).rows()
    assert float(row["v"]) == pytest.approx(AGGREGATE[expr], rel=1e-9)


def test_sqlite_math_fallbacks() -> None:
    import sqlite3

    from lanner.filter.archive_engines import sqlite_math

    con = sqlite3.connect(":memory:")
    sqlite_math(con, force=True)  # as on a build without SQLITE_ENABLE_MATH_FUNCTIONS
    row = con.execute(
        "SELECT log10(100), log(2, 8), ln(-1), sqrt(-1), power(2, 10), atan2(1, 1), pi(), "
        "sqrt(NULL)"
    ).fetchone()
    assert row[0] == pytest.approx(2) and row[1] == pytest.approx(3)
    assert row[2] is None and row[3] is None  # outside the domain: NULL, not an error
    assert row[4] == 1024 and row[5] == pytest.approx(math.pi / 4)
    assert row[6] == pytest.approx(math.pi) and row[7] is None
    con.close()
