"""Reclassification-triggered runs: when TNS entries change prefix (``AT`` to ``SN``), the
active filters that read ``crossmatch_tns`` run again for the objects matched to them.

Input: the store and the object ids. Output: the matches (``Pipeline.rerun_tns`` records
them for delivery, as the annotation re-run does: :mod:`lanner.filter.rerun`). The filters
run on the archive through the read-only engines, restricted to the objects given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lanner.filter.active import FilterMatch
from lanner.filter.archive import filter_context, run_compiled
from lanner.filter.compile import CompiledFilter, compile_sql
from lanner.filter.errors import FilterError
from lanner.filter.execute import Limits
from lanner.filter.saved import SavedFilter, active_filters, add_notice
from lanner.filter.stream import only_objects, split_why, with_why
from lanner.store import Store


def filters_reading_tns(store: Store) -> list[tuple[SavedFilter, CompiledFilter]]:
    """Active filters whose SQL reads ``crossmatch_tns``, compiled."""
    out = []
    for flt in active_filters(store):
        try:
            compiled = compile_sql(flt.sql, filter_context(store, flt.owner_id))
        except FilterError:
            continue  # reported by the streaming stage, which runs every batch
        if "crossmatch_tns" in compiled.tables:
            out.append((flt, compiled))
    return out


def rerun_for_tns(
    store: Store, object_ids: Sequence[Any], limits: Limits | None = None
) -> list[FilterMatch]:
    """Run the filters that read ``crossmatch_tns`` for ``object_ids``; return matches."""
    if not object_ids:
        return []
    oid = store.object_id_column
    ids = list(object_ids)
    latest = store.latest_alert_ids(oid, ids)
    matches: list[FilterMatch] = []
    for flt, compiled in filters_reading_tns(store):
        restricted = with_why(only_objects(compiled, oid, ids))
        try:
            result = run_compiled(store.backend.url, restricted, limits or Limits())
        except FilterError as err:
            add_notice(store, flt.filter_id, "error", f"re-run for TNS changes: {err.message}")
            continue
        for row in result.rows:
            values, why = split_why(dict(zip(result.columns, row, strict=True)))
            object_id = values.get(oid)
            if object_id in latest:
                matches.append(FilterMatch(flt, latest[object_id], object_id, values, why))
    return matches
