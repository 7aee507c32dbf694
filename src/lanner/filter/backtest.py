"""Backtest: what a filter would have sent, batch by batch, had it been active.

Input: a store and a filter. Output: one :class:`BacktestBatch` per archived batch in time
order — its time span, how many alerts it held, how many the filter matched and which.
Reads only: nothing is sent or recorded.

The archive is replayed as the pipeline saw it (:mod:`lanner.store.rebuild`): alerts in
observation-time order, each with its light curve as archived up to its own time, enriched
by the same enrichers; ``mjdnow()`` is the time of the batch's latest alert, so a filter
such as ``mjdnow() - lastDiaSourceMjdTai < 1`` behaves as it would have then.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lanner.enrich import run_enrichers
from lanner.enrich.base import Enricher
from lanner.enrich.registry import default_enrichers
from lanner.filter.active import run_on_batch
from lanner.filter.execute import Limits
from lanner.filter.saved import SavedFilter, compile_for
from lanner.filter.stream import with_why
from lanner.store import Store
from lanner.store.rebuild import rebuild_batches

#: Object ids listed per batch in a report.
SHOWN = 10


@dataclass
class BacktestBatch:
    """What the filter would have done with one batch."""

    first_mjd: float
    last_mjd: float
    alerts: int
    matches: int
    object_ids: list[Any] = field(default_factory=list)
    error: str | None = None


def backtest(
    store: Store,
    flt: SavedFilter,
    since_mjd: float,
    until_mjd: float = 1e9,
    batch_size: int = 1000,
    enrichers: Sequence[Enricher] | None = None,
    limits: Limits | None = None,
) -> Iterator[BacktestBatch]:
    """Replay the archive from ``since_mjd`` through ``flt``, one report per batch."""
    compiled = with_why(compile_for(store, flt.sql, flt.owner_id))
    steps = list(default_enrichers() if enrichers is None else enrichers)
    for batch in rebuild_batches(store, since_mjd, until_mjd, batch_size):
        run_enrichers(batch, steps)
        mjd = batch.alerts["mjd"].to_numpy()
        now = float(mjd.max())
        result = run_on_batch(
            store,
            batch,
            {flt.filter_id: flt},
            {flt.filter_id: compiled},
            {},
            limits or Limits(),
            now,
            notify=False,
        )
        ids = [m.object_id for m in result.matches]
        yield BacktestBatch(
            float(mjd.min()), now, len(batch), len(ids), ids[:SHOWN], result.errors.get(flt.name)
        )
