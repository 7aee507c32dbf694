"""Enrich: add value to every alert of a batch, in columns.

Each enricher (:mod:`lanner.enrich.base`) maps a whole batch to new columns of a table
(``objects``, ``sherlock_classifications``); :mod:`lanner.enrich.registry` lists them in
the order they run. Enrichers read the batch and catalogues loaded once; they write nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from lanner.batch import AlertBatch
from lanner.enrich.base import Enricher


def run_enrichers(
    batch: AlertBatch, enrichers: Sequence[Enricher], seconds: dict[str, float] | None = None
) -> None:
    """Run ``enrichers`` in order on ``batch``; ``seconds`` collects each one's time."""
    for enricher in enrichers:
        if batch.survey in enricher.surveys:
            start = time.perf_counter()
            batch.add_columns(enricher.table, enricher(batch))
            if seconds is not None:
                seconds[enricher.name] = seconds.get(enricher.name, 0.0) + (
                    time.perf_counter() - start
                )
