"""Test data of the filter tests: a small catalog and the same rows for every engine.

A handful of ZTF-like objects with their kit rows (Sherlock classes, watchlist and watchmap
hits, TNS entries, annotations), plus writers that put them in an Arrow batch, a SQLite file
and PostgreSQL tables. Expected results in the tests are computed from :data:`DATA` in
Python, independently of the SQL.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from lanner.filter.compile import CompiledFilter, compile_sql
from lanner.filter.execute import DuckDBEngine
from lanner.filter.validate import FilterContext, Visibility
from lanner.schema.columns import Column, Table
from lanner.schema.kit import filterable_kit_tables
from lanner.store.ddl import TYPES

TNS_WL = 100
PUBLIC_WL, OWN_WL, PRIVATE_WL = 1, 2, 9
PUBLIC_AR, OWN_AR, PRIVATE_AR = 3, 4, 8

OBJECTS = Table(
    "objects",
    "test objects",
    (
        Column("objectId", "text", "id", nullable=False),
        Column("ramean", "double", "ra", "deg"),
        Column("decmean", "double", "dec", "deg"),
        Column("gmag", "double", "g", "mag"),
        Column("rmag", "double", "r", "mag"),
        Column("ncand", "int", "detections"),
        Column("flux", "double", "latest flux", "nJy"),
        Column("jdmax", "double", "last detection", "JD"),
    ),
    primary_key=("objectId",),
    filterable=True,
)
SHERLOCK = Table(
    "sherlock_classifications",
    "test sherlock",
    (
        Column("objectId", "text", "id", nullable=False),
        Column("classification", "text", "class"),
        Column("separationArcsec", "double", "sep", "arcsec"),
    ),
    primary_key=("objectId",),
    filterable=True,
)
CATALOG: dict[str, Table] = {
    "objects": OBJECTS,
    "sherlock_classifications": SHERLOCK,
    **filterable_kit_tables("ztf"),
}

_O = ("objectId", "ramean", "decmean", "gmag", "rmag", "ncand", "flux", "jdmax")
DATA: dict[str, list[dict[str, Any]]] = {
    "objects": [
        dict(zip(_O, r, strict=True))
        for r in (
            ("ZTF20a", 10.0, 20.0, 17.5, 17.0, 5, 3630.78, 2460000.5),
            ("ZTF20b", 11.0, -5.0, 19.2, 18.1, 12, 120.0, 2460001.5),
            ("ZTF20c", 12.0, 0.0, 16.1, 16.9, 2, 0.0, 2460002.5),
            ("ZTF20d", 13.0, 45.0, None, 20.3, 1, -50.0, 2460003.5),
            ("ZTF20e", 14.0, 60.0, 18.9, 18.8, 30, 1000.0, 2460004.5),
            ("ZTF20f", 15.0, -30.0, 15.0, 15.5, 7, 36307.8, 2460005.5),
        )
    ],
    "sherlock_classifications": [
        {"objectId": "ZTF20a", "classification": "SN", "separationArcsec": 1.2},
        {"objectId": "ZTF20b", "classification": "AGN", "separationArcsec": 0.1},
        {"objectId": "ZTF20c", "classification": "VS", "separationArcsec": 0.0},
        {"objectId": "ZTF20e", "classification": "SN", "separationArcsec": 3.5},
    ],
    "watchlist_hits": [
        {"objectId": "ZTF20a", "wl_id": PUBLIC_WL, "cone_id": 1, "arcsec": 0.5, "name": "M31"},
        {"objectId": "ZTF20b", "wl_id": OWN_WL, "cone_id": 2, "arcsec": 1.5, "name": "NGC1"},
        {"objectId": "ZTF20c", "wl_id": OWN_WL, "cone_id": 3, "arcsec": 2.5, "name": "NGC2"},
        {"objectId": "ZTF20e", "wl_id": PRIVATE_WL, "cone_id": 4, "arcsec": 0.2, "name": "secret"},
        {"objectId": "ZTF20a", "wl_id": TNS_WL, "cone_id": 5, "arcsec": 0.3, "name": "2020abc"},
        {"objectId": "ZTF20f", "wl_id": TNS_WL, "cone_id": 6, "arcsec": 0.9, "name": "2020xyz"},
    ],
    "area_hits": [
        {"objectId": "ZTF20a", "ar_id": PUBLIC_AR},
        {"objectId": "ZTF20b", "ar_id": PUBLIC_AR},
        {"objectId": "ZTF20b", "ar_id": OWN_AR},
        {"objectId": "ZTF20d", "ar_id": PRIVATE_AR},
    ],
    "crossmatch_tns": [
        {
            "tns_name": "2020abc",
            "tns_prefix": "SN",
            "ra": 10.0,
            "decl": 20.0,
            "type": "SN Ia",
            "z": 0.05,
        },
        {
            "tns_name": "2020xyz",
            "tns_prefix": "AT",
            "ra": 15.0,
            "decl": -30.0,
            "type": None,
            "z": None,
        },
    ],
    "annotations": [
        {
            "objectId": "ZTF20a",
            "topic": "fastfinker",
            "version": "1",
            "classification": "kilonova",
            "classdict": json.dumps({"prob": 0.9, "kind": "KN", "scores": [0.1, 0.7]}),
        },
        {
            "objectId": "ZTF20b",
            "topic": "fastfinker",
            "version": "1",
            "classification": "SN",
            "classdict": json.dumps({"prob": 0.3, "kind": "SN", "scores": [0.5, 0.2]}),
        },
        {
            "objectId": "ZTF20a",
            "topic": "slowpoke",
            "version": "2",
            "classification": "TDE",
            "classdict": json.dumps({"prob": 0.6, "kind": "TDE"}),
        },
        {
            "objectId": "ZTF20c",
            "topic": "slowpoke",
            "version": "2",
            "classification": "SN",
            "classdict": json.dumps({"prob": "high"}),
        },
    ],
}

VISIBILITY = Visibility(
    watchlists=frozenset({PUBLIC_WL, OWN_WL}), watchmaps=frozenset({PUBLIC_AR, OWN_AR})
)


def arrow_tables(catalog: Mapping[str, Table]) -> dict[str, pa.Table]:
    out = {}
    for name, rows in DATA.items():
        schema = catalog[name].arrow_schema()
        full = [{c: r.get(c) for c in schema.names} for r in rows]
        out[name] = pa.Table.from_pylist(full, schema=schema)
    return out


# The store's own SQL types, so test archives hold what a real archive holds.
SQLITE_TYPES = TYPES["sqlite"]
PG_TYPES = TYPES["postgres"]


def ddl(table: Table, types: Mapping[str, str]) -> str:
    cols = ", ".join(f'"{c.name}" {types[c.type]}' for c in table.columns)
    return f'CREATE TABLE "{table.name}" ({cols})'


def insert_sql(table: Table, marker: str) -> str:
    names = ", ".join(f'"{c}"' for c in table.column_names)
    markers = ", ".join([marker] * len(table.columns))
    return f'INSERT INTO "{table.name}" ({names}) VALUES ({markers})'


def rows_of(table: Table) -> list[tuple[Any, ...]]:
    return [tuple(r.get(c) for c in table.column_names) for r in DATA.get(table.name, [])]


def make_sqlite(path: Path, catalog: Mapping[str, Table]) -> None:
    con = sqlite3.connect(path)
    for table in catalog.values():
        con.execute(ddl(table, SQLITE_TYPES))
        con.executemany(insert_sql(table, "?"), rows_of(table))
    con.execute("CREATE TABLE lanner_users (id INTEGER, api_key TEXT)")
    con.execute("INSERT INTO lanner_users VALUES (1, 'secret-key')")
    con.commit()
    con.close()


def duckdb_with_slow_function() -> DuckDBEngine:
    """A DuckDB engine over :data:`DATA` with ``slow(x)``: returns ``x`` after 0.05 s per
    vector of rows."""
    # A database of its own: a function added to the shared one would stay in it.
    eng = DuckDBEngine.for_batch(CATALOG, arrow_tables(CATALOG), fresh=True)

    def slow(x: pa.Array) -> pa.Array:
        time.sleep(0.05)
        return x

    eng.con.create_function(
        "slow", slow, [duckdb.sqltype("INTEGER")], duckdb.sqltype("INTEGER"), type="arrow"
    )
    return eng


def slow_cartesian(ctx: FilterContext, n: int) -> CompiledFilter:
    """A filter joining ``objects`` ``n`` times and calling ``slow`` on every joined row."""
    froms = ", ".join(f"objects t{i}" for i in range(n))
    # The argument reads every table, so the function runs once per combined row.
    total = " + ".join(f"t{i}.ncand" for i in range(n))
    return compile_sql(
        f"SELECT COUNT(*) AS n FROM {froms} WHERE slow({total}) > 0",
        FilterContext(
            ctx.survey, ctx.catalog, ctx.visibility, ctx.tns_watchlist_id, frozenset({"slow"})
        ),
    )
