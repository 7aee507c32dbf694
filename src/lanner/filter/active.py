"""The filter stage: every active filter on every batch, within its limits.

Input: an enriched batch and the store (for the active filters and their owners'
visibility). Output: :class:`FilterMatch` objects — the selected values, the values the
WHERE clause read ("why it fired"), the alert that matched — and the errors of filters that
failed or timed out (each one's owner gets a notice; the batch goes on). No delivery here.

Each filter is compiled once and kept while its SQL and its owner's visible watchlists and
watchmaps stay the same; the batch is registered once in an in-memory DuckDB
(:mod:`lanner.filter.batch_engine`) and each filter is one columnar query on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lanner.batch import OBJECT_ID_COLUMN, AlertBatch
from lanner.filter.archive import visibility_of
from lanner.filter.batch_engine import batch_tables
from lanner.filter.compile import CompiledFilter, compile_sql
from lanner.filter.errors import FilterError, FilterRuntimeError, FilterTimeoutError
from lanner.filter.execute import DuckDBEngine, Limits
from lanner.filter.saved import SavedFilter, active_filters, add_notice
from lanner.filter.stream import run_filters, split_why, with_why
from lanner.filter.validate import FilterContext, Visibility
from lanner.schema.registry import RECENCY_COLUMN, filterable_tables
from lanner.store import Store
from lanner.tns.watchlist import tns_watchlist_id

log = logging.getLogger(__name__)


@dataclass
class FilterMatch:
    """One object a filter selected in a batch."""

    filter: SavedFilter
    alert_id: int
    object_id: Any
    #: The selected columns (what is delivered).
    values: dict[str, Any]
    #: ``table.column`` -> value of every column the WHERE clause read.
    why: dict[str, Any] = field(default_factory=dict)
    #: Row of the matching alert in its batch (for light curve and packet payloads).
    row: int = -1


@dataclass
class FilterStageResult:
    matches: list[FilterMatch] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    truncated: list[str] = field(default_factory=list)
    #: Names of the filters that ran out of time (also in ``errors``).
    timeouts: list[str] = field(default_factory=list)


class ActiveFilters:
    """The active filters of a store, compiled once per (SQL, visibility) and cached."""

    def __init__(self, store: Store, timeout_s: float = 10.0, max_rows: int = 10000) -> None:
        self.store = store
        self.limits = Limits(timeout_s=timeout_s, row_cap=max_rows)
        self._compiled: dict[int, tuple[tuple[str, Visibility, int | None], CompiledFilter]] = {}
        # Failing filters whose owner was told: a broken filter gets a notice when it starts
        # failing (at most one of each kind a day, whichever worker), not on every batch.
        self._noticed: set[int] = set()

    def _compile(
        self, flt: SavedFilter, visibility: Visibility, tns_id: int | None = None
    ) -> CompiledFilter:
        key = (flt.sql, visibility, tns_id)
        cached = self._compiled.get(flt.filter_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        survey = self.store.survey
        assert survey is not None
        ctx = FilterContext(survey, filterable_tables(survey), visibility, tns_watchlist_id=tns_id)
        compiled = with_why(compile_sql(flt.sql, ctx))
        self._compiled[flt.filter_id] = (key, compiled)
        return compiled

    def compiled(
        self,
    ) -> tuple[dict[int, SavedFilter], dict[int, CompiledFilter], dict[int, FilterError]]:
        """Active filters, their compiled form, and those that no longer compile."""
        filters = {f.filter_id: f for f in active_filters(self.store)}
        visibility: dict[int, Visibility] = {}
        compiled: dict[int, CompiledFilter] = {}
        errors: dict[int, FilterError] = {}
        tns_id = tns_watchlist_id(self.store) if filters else None
        for fid, flt in filters.items():
            if flt.owner_id not in visibility:
                visibility[flt.owner_id] = visibility_of(self.store, flt.owner_id)
            try:
                compiled[fid] = self._compile(flt, visibility[flt.owner_id], tns_id)
            except FilterError as err:  # e.g. a watchlist it reads was made private
                errors[fid] = err
        return filters, compiled, errors

    def run(self, batch: AlertBatch, now_mjd: float | None = None) -> FilterStageResult:
        """Run every active filter on ``batch``; ``now_mjd`` fixes ``mjdnow()`` (backtests)."""
        filters, compiled, errors = self.compiled()
        result = run_on_batch(
            self.store, batch, filters, compiled, errors, self.limits, now_mjd, notify=False
        )
        failing = {f.filter_id: f for f in filters.values() if f.name in result.errors}
        for fid, flt in failing.items():
            message = result.errors[flt.name]
            log.warning(
                "filter %s (id %d) failed: %s",
                flt.name,
                fid,
                message,
                extra={"filter_id": fid, "filter": flt.name},
            )
            kind = "timeout" if flt.name in result.timeouts else "error"
            if fid not in self._noticed:
                text = f"on a batch of {len(batch)} alerts: {message}"
                add_notice(self.store, fid, kind, text, daily=True)
            self._noticed.add(fid)
        self._noticed &= set(failing)  # working again: a new failure is news
        return result


def run_on_batch(
    store: Store,
    batch: AlertBatch,
    filters: dict[int, SavedFilter],
    compiled: dict[int, CompiledFilter],
    errors: dict[int, FilterError],
    limits: Limits,
    now_mjd: float | None,
    notify: bool,
) -> FilterStageResult:
    """Run compiled filters on one batch; with ``notify``, owners of failing filters are
    told through a notice."""
    out = FilterStageResult()
    if filters and len(batch):
        oid = OBJECT_ID_COLUMN[batch.survey]
        read: set[str] = set()
        for c in compiled.values():
            read |= c.tables
        tables = batch_tables(batch, RECENCY_COLUMN[batch.survey], only=read)
        try:
            run = run_filters(DuckDBEngine(tables.con), compiled, limits, now_mjd=now_mjd)
        finally:
            tables.close()
        errors = {**errors, **run.errors}
        ids = batch.alerts["object_id"].take(pa.array(tables.rows)).to_pylist()
        where = {
            i: (a, int(r))
            for i, a, r in zip(ids, tables.alert_ids.to_pylist(), tables.rows.tolist(), strict=True)
        }
        for fid, result in run.results.items():
            flt = filters[fid]
            try:
                rows = result.rows()
            except (ValueError, OverflowError, TypeError, pa.ArrowException) as exc:
                errors[fid] = FilterRuntimeError(f"cannot read the filter's result: {exc}")
                continue
            out.counts[flt.name] = len(rows)
            if result.truncated:
                out.truncated.append(flt.name)
            for row in rows:
                values, why = split_why(row)
                object_id = values.get(oid)
                if object_id not in where:
                    continue  # an aggregate row, or no object id selected: nothing to send
                alert_id, batch_row = where[object_id]
                out.matches.append(FilterMatch(flt, alert_id, object_id, values, why, batch_row))
    for fid, err in errors.items():
        flt = filters[fid]
        out.errors[flt.name] = err.message
        kind = "timeout" if isinstance(err, FilterTimeoutError) else "error"
        if kind == "timeout":
            out.timeouts.append(flt.name)
        if notify:
            add_notice(
                store, fid, kind, f"on a batch of {len(batch)} alerts: {err.message}", daily=True
            )
    return out
