"""Re-runs when what filters read changes: when a classifier annotates objects, or a TNS
import reclassifies the entries matched to them, the active filters that read what changed
run again, for just those objects.

Input: the store, what changed (:class:`Changed`: an annotator's annotations, or a table
such as ``crossmatch_tns``) and the object ids concerned. Output: the matches.
:func:`rerun_and_record` also records them in the outbox (``filter_matches``, pending, as
the pipeline records a batch's matches) and wakes the delivery worker given, so they are
sent like any other match. The filters run on the archive through the read-only engines,
restricted to the objects given (:func:`lanner.filter.stream.only_objects`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Changed:
    """What changed, so that the filters reading it run again: the rows of ``table``, or,
    with ``topic``, the annotations of that annotator (:meth:`annotations`)."""

    table: str
    topic: str | None = None

    @classmethod
    def annotations(cls, topic: str) -> Changed:
        """The annotations of the annotator ``topic``."""
        return cls("annotations", topic)

    def may_be_read_by(self, sql: str) -> bool:
        """Whether a filter of this SQL can read what changed (before compiling it).

        A saved filter is one SELECT (Lasair's form is saved as its generated SELECT): it
        names every table it reads, and an annotator's topic as a literal.
        """
        lowered = sql.lower()
        if self.topic is None:
            return self.table.lower() in lowered
        topic = self.topic.lower()
        return "annotation" in lowered and (f"'{topic}'" in lowered or f'"{topic}"' in lowered)

    def is_read_by(self, compiled: CompiledFilter) -> bool:
        """Whether the compiled filter reads what changed."""
        return self.topic is not None or self.table in compiled.tables

    def __str__(self) -> str:
        if self.topic is not None:
            return f"annotations of {self.topic!r}"
        return f"changes to {self.table}"


#: Compiled filters by (filter id, SQL, visibility): a re-run compiles a filter once.
_COMPILED: dict[tuple[int, str, Visibility], CompiledFilter] = {}
_CACHE_SIZE = 4096


def filters_reading(store: Store, changed: Changed) -> list[tuple[SavedFilter, CompiledFilter]]:
    """Active filters that read what ``changed``, compiled with their ``why`` columns (each
    once per SQL and owner's visibility, then taken from a cache)."""
    out = []
    visibility: dict[int, Visibility] = {}
    for flt in active_filters(store):
        if not changed.may_be_read_by(flt.sql):
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
        if changed.is_read_by(compiled):
            out.append((flt, compiled))
    return out


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


def rerun_filters(
    store: Store, changed: Changed, object_ids: Sequence[Any], limits: Limits | None = None
) -> list[FilterMatch]:
    """Run the filters that read what ``changed`` for ``object_ids``; return their matches
    (each of the object's newest alert). A filter that fails gets a notice."""
    if not object_ids:
        return []
    reading = filters_reading(store, changed)
    if not reading:
        return []
    oid = store.object_id_column
    ids = list(object_ids)
    latest = store.latest_alert_ids(oid, ids)
    matches: list[FilterMatch] = []
    with _engine(store) as engine:
        for flt, compiled in reading:
            try:
                result = engine.run(only_objects(compiled, oid, ids), limits or Limits())
            except FilterError as err:
                add_notice(store, flt.filter_id, "error", f"re-run for {changed}: {err.message}")
                continue
            for row in result.rows():
                values, why = split_why(row)
                object_id = values.get(oid)
                if object_id in latest:
                    matches.append(FilterMatch(flt, latest[object_id], object_id, values, why))
    return matches


def rerun_and_record(
    store: Store,
    changed: Changed,
    object_ids: Sequence[Any],
    limits: Limits | None = None,
    delivery: DeliveryHook | None = None,
) -> list[FilterMatch]:
    """Re-run the filters that read what ``changed`` for ``object_ids``, record their
    matches for delivery (a match already recorded for that filter and alert is kept once)
    and wake ``delivery`` if any was new. Returns the matches."""
    from lanner.distribute.matches import match_rows

    matches = rerun_filters(store, changed, object_ids, limits)
    if store.record_matches(match_rows(matches)) and delivery is not None:
        delivery.wake()
    return matches
