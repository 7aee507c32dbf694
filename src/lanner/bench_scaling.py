"""``lanner bench --scaling``: is every enricher's cost linear in the batch size?

Input: the shared on-sky Rubin alerts (or any Rubin batch). Output: :class:`ScalingResult` —
for each batch size (default 1,000 and 40,000 alerts, the on-sky alerts replicated as distinct
objects by :func:`~lanner.bench_alerts.replicate_batch`) the time per alert of each enricher,
and the ratio of the largest size's time per alert to the smallest's: about 1 for linear
work, about the size ratio for quadratic work. No side effects besides the time it takes.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from lanner.batch import AlertBatch
from lanner.bench_alerts import replicate_batch
from lanner.enrich import run_enrichers
from lanner.enrich.registry import default_enrichers

DEFAULT_SIZES = (1000, 40_000)
#: Above this ratio of time per alert (largest / smallest batch) an enricher is reported as
#: not linear; the fixed per-batch cost of numpy makes small batches dearer per alert, never
#: cheaper, so a linear enricher stays well under it.
NOT_LINEAR_RATIO = 2.0


@dataclass
class ScalingResult:
    """Microseconds per alert of each enricher at each batch size, and their ratio."""

    sizes: list[int]
    us_per_alert: dict[str, list[float]] = field(default_factory=dict)
    ratio: dict[str, float] = field(default_factory=dict)
    not_linear: list[str] = field(default_factory=list)
    peak_memory_mb: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def enricher_scaling(batch: AlertBatch, sizes: Sequence[int] = DEFAULT_SIZES) -> ScalingResult:
    """Time every default enricher on ``batch`` replicated to each of ``sizes`` alerts."""
    result = ScalingResult(sizes=list(sizes))
    enrichers = default_enrichers()
    for size in sizes:
        copy = replicate_batch(batch, size)
        seconds: dict[str, float] = {}
        start = time.perf_counter()
        run_enrichers(copy, enrichers, seconds)
        seconds["all enrichers"] = time.perf_counter() - start
        for name, s in seconds.items():
            result.us_per_alert.setdefault(name, []).append(round(1e6 * s / size, 2))
        del copy
    for name, per_alert in result.us_per_alert.items():
        result.ratio[name] = round(per_alert[-1] / per_alert[0], 2) if per_alert[0] else 0.0
        if result.ratio[name] > NOT_LINEAR_RATIO:
            result.not_linear.append(name)
    result.peak_memory_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result
