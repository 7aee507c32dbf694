"""Annotation-triggered runs: when a classifier annotates objects, the active filters that
read its annotations run again, for just those objects.

Input: the store, an annotator topic and the object ids it just annotated. Output: the
matches. :func:`rerun_and_record` also records them in the outbox (``filter_matches``,
pending, as the pipeline records a batch's matches) and wakes the delivery worker given, so
they are sent like any other match. The filters run on the archive through the read-only
engines, restricted to the objects given (:func:`lanner.filter.stream.only_objects`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from lanner.filter.active import FilterMatch
from lanner.filter.archive import filter_context, visibility_of
from lanner.filter.archive_engines import PostgresEngine, SQLiteEngine
from lanner.filter.compile import CompiledFilter, compile_sql
from lanner.filter.errors import FilterError
from lanner.filter.execute import Limits
from lanner.filter.saved import SavedFilter, active_filters, add_notice
from lanner.filter.stream import only_objects, split_why, with_why
from lanner.filter.validate import Visibility
from lanner.schema.registry import filterable_tables
from lanner.store import Store

if TYPE_CHECKING:
    from lanner.pipeline import DeliveryHook


#: Compiled filters by (filter id, SQL, visibility): a re-run compiles a filter once.
_COMPILED: dict[tuple[int, str, Visibility], CompiledFilter] = {}
_CACHE_SIZE = 4096


def filters_reading(store: Store, topic: str) -> list[tuple[SavedFilter, CompiledFilter]]:
    """Active filters whose SQL reads the annotations of ``topic``, compiled with their
    ``why`` columns (each once per SQL and owner's visibility, then taken from a cache)."""
    out = []
    visibility: dict[int, Visibility] = {}
    for flt in active_filters(store):
        if not _reads_topic(flt.sql, topic):
            continue
        if flt.owner_id not in visibility:
            visibility[flt.owner_id] = visibility_of(store, flt.owner_id)
        key = (flt.filter_id, flt.sql, visibility[flt.owner_id])
        compiled = _COMPILED.get(key)
        if compiled is None:
            try:
                compiled = with_why(compile_sql(flt.sql, filter_context(store, flt.owner_id)))
            except FilterError:
                continue  # reported by the streaming stage, which runs every batch
            if len(_COMPILED) >= _CACHE_SIZE:
                _COMPILED.clear()
            _COMPILED[key] = compiled
        out.append((flt, compiled))
    return out


def _reads_topic(sql: str, topic: str) -> bool:
    # A saved filter is one SELECT (Lasair's form is saved as its generated SELECT): it
    # names the annotations table and the topic as a literal.
    lowered = sql.lower()
    return "annotation" in lowered and (
        f"'{topic.lower()}'" in lowered or f'"{topic.lower()}"' in lowered
    )


@contextmanager
def _engine(store: Store) -> Iterator[SQLiteEngine | PostgresEngine]:
    """One read-only engine on the archive for every filter of a re-run."""
    assert store.survey is not None
    catalog = filterable_tables(store.survey)
    if store.backend.dialect == "sqlite":
        sqlite = SQLiteEngine(store.backend.sqlite_path, catalog)
        try:
            yield sqlite
        finally:
            sqlite.close()
    else:
        import psycopg

        with psycopg.connect(store.backend.url) as conn:
            yield PostgresEngine(conn)


def rerun_for_annotations(
    store: Store, topic: str, object_ids: Sequence[Any], limits: Limits | None = None
) -> list[FilterMatch]:
    """Run the filters that read ``topic`` for ``object_ids``; return their matches."""
    if not object_ids:
        return []
    reading = filters_reading(store, topic)
    if not reading:
        return []
    oid = store.object_id_column
    latest = _latest_alerts(store, list(object_ids))
    matches: list[FilterMatch] = []
    with _engine(store) as engine:
        for flt, compiled in reading:
            restricted = only_objects(compiled, oid, list(object_ids))
            try:
                result = engine.run(restricted, limits or Limits())
            except FilterError as err:
                add_notice(
                    store,
                    flt.filter_id,
                    "error",
                    f"re-run for annotations of {topic!r}: {err.message}",
                )
                continue
            for row in result.rows():
                values, why = split_why(row)
                object_id = values.get(oid)
                if object_id in latest:
                    matches.append(FilterMatch(flt, latest[object_id], object_id, values, why))
    return matches


def _latest_alerts(store: Store, ids: list[Any]) -> dict[Any, int]:
    """The newest stored alert id of each object."""
    return store.latest_alert_ids(store.object_id_column, ids)


def rerun_and_record(
    store: Store,
    topic: str,
    object_ids: Sequence[Any],
    limits: Limits | None = None,
    delivery: DeliveryHook | None = None,
) -> list[FilterMatch]:
    """Re-run the filters reading ``topic`` for ``object_ids``, record their matches for
    delivery (a match already recorded for that filter and alert is kept once) and wake
    ``delivery`` if any was new. Returns the matches."""
    from lanner.distribute.matches import match_rows

    matches = rerun_for_annotations(store, topic, object_ids, limits)
    if store.record_matches(match_rows(matches)) and delivery is not None:
        delivery.wake()
    return matches
