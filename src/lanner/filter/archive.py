"""On-demand filters against the archive (``lanner query``): read-only, time-limited,
row-capped."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from lanner.filter.compile import compile_filter
from lanner.filter.saved import FilterError
from lanner.settings import Settings
from lanner.store import open_store


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def run_on_archive(settings: Settings, sql: str) -> QueryResult:
    store = open_store(settings.db_url)
    try:
        survey = store.survey
        backend = store.backend
    finally:
        store.close()
    if survey is None:
        raise FilterError("the database is empty: ingest alerts first")
    engine = "sqlite" if backend.dialect == "sqlite" else "postgres"
    compiled = compile_filter(sql, survey, engine)
    con = backend.connect_read_only()
    try:
        if backend.dialect == "sqlite":
            deadline = time.monotonic() + settings.query_timeout
            con.set_progress_handler(lambda: int(time.monotonic() > deadline), 10000)
        else:
            con.execute(f"SET statement_timeout = {int(settings.query_timeout * 1000)}")
        cur = con.execute(compiled)
        columns = [d[0] for d in cur.description]
        rows = cur.fetchmany(settings.max_rows + 1)
    finally:
        con.close()
    truncated = len(rows) > settings.max_rows
    return QueryResult(columns, [tuple(r) for r in rows[: settings.max_rows]], truncated)
