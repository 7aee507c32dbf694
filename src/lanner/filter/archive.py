"""On-demand filters against the archive (``lanner query``): validated, read-only,
time-limited and row-capped.

Input: a database URL (or settings) and a filter, as one SELECT statement or as Lasair's
selected/tables/conditions. Output: a :class:`QueryResult`. Side effects: reads the
database through a read-only engine (:mod:`lanner.filter.execute`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lanner.batch import Survey
from lanner.filter.archive_engines import PostgresEngine, SQLiteEngine
from lanner.filter.compile import CompiledFilter, compile_lasair, compile_sql
from lanner.filter.errors import FilterError
from lanner.filter.execute import Limits
from lanner.filter.users import LOCAL_USER_ID
from lanner.filter.validate import FilterContext, Visibility
from lanner.schema.registry import filterable_tables
from lanner.settings import Settings
from lanner.store import Store, open_store

#: The embedded mode's single user (see :mod:`lanner.filter.saved`).


@dataclass
class QueryResult:
    """Rows of an on-demand query; ``truncated`` when the row cap cut them."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    elapsed_s: float = 0.0


def visibility_of(store: Store, user_id: int) -> Visibility:
    """Watchlists and watchmaps ``user_id`` may filter on: the public ones and their own;
    the annotators they may not (others' private ones)."""
    from lanner.store.annotations import hidden_topics

    ids = store.visible_list_ids(user_id)
    return Visibility(
        watchlists=ids["watchlists"],
        watchmaps=ids["watchmaps"],
        hidden_annotators=hidden_topics(store, user_id),
    )


def filter_context(store: Store, user_id: int = LOCAL_USER_ID) -> FilterContext:
    """What ``user_id``'s filters are checked against on this database."""
    survey: Survey | None = store.survey
    if survey is None:
        raise FilterError("the database is empty", None, "ingest alerts first")
    from lanner.tns.watchlist import tns_watchlist_id

    return FilterContext(
        survey,
        filterable_tables(survey),
        visibility_of(store, user_id),
        tns_watchlist_id=tns_watchlist_id(store),
    )


def run_compiled(
    db_url: str,
    compiled: CompiledFilter,
    limits: Limits,
    limit: int | None = None,
    offset: int | None = None,
) -> QueryResult:
    """Run a compiled filter on the archive at ``db_url`` through a read-only engine."""
    store = open_store(db_url, create=False)
    try:
        survey = store.survey
        backend = store.backend
    finally:
        store.close()
    if survey is None:
        raise FilterError("the database is empty", None, "ingest alerts first")
    catalog = filterable_tables(survey)
    if backend.dialect == "sqlite":
        sqlite = SQLiteEngine(backend.sqlite_path, catalog)
        try:
            result = sqlite.run(compiled, limits, limit=limit, offset=offset)
        finally:
            sqlite.close()
    else:
        import psycopg

        with psycopg.connect(db_url) as conn:
            result = PostgresEngine(conn).run(compiled, limits, limit=limit, offset=offset)
    rows = [tuple(r.values()) for r in result.rows()]
    return QueryResult(list(result.columns), rows, result.truncated, result.elapsed_s)


def run_on_archive(
    settings: Settings,
    sql: str,
    *,
    tables: str | None = None,
    conditions: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
    user_id: int = LOCAL_USER_ID,
) -> QueryResult:
    """Validate and run a filter on the archive of ``settings.db_url``.

    With ``tables`` given, ``sql`` is Lasair's ``selected`` list and the filter is
    (``sql``, ``tables``, ``conditions``); otherwise ``sql`` is one SELECT statement.
    The time limit is ``settings.query_timeout`` and the row cap ``settings.max_rows``.
    """
    store = open_store(settings.db_url, create=False)
    try:
        ctx = filter_context(store, user_id)
    finally:
        store.close()
    if tables is not None:
        compiled = compile_lasair(sql, tables, conditions or "", ctx)
    else:
        compiled = compile_sql(sql, ctx)
    limits = Limits(timeout_s=settings.query_timeout, row_cap=settings.max_rows)
    return run_compiled(settings.db_url, compiled, limits, limit, offset)
