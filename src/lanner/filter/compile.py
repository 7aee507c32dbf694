"""Compile a user's filter SQL for the engine it runs on.

Parsed with sqlglot; only a single SELECT is accepted. (The full language — Lasair's
selected/tables/conditions form, allow-listed tables, columns and functions — lives in
:mod:`lanner.filter.language`.)
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from lanner.batch import Survey
from lanner.filter.saved import FilterError


def compile_filter(sql: str, survey: Survey, engine: str = "duckdb") -> str:
    try:
        statements = sqlglot.parse(sql, read="mysql")
    except sqlglot.errors.ParseError as exc:
        raise FilterError(f"the SQL does not parse: {exc}") from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        raise FilterError("a filter is one SELECT statement")
    return statements[0].sql(dialect=engine)
