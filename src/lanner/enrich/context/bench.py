"""Throughput of the sky-context stage, and the cost of loading catalogue partitions cold.

Input: an alert batch (default: the ZTF alerts shipped in the package). Output: a
:class:`ContextBench` of measured figures. Side effects: reads the packaged library.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from lanner.batch import AlertBatch
from lanner.enrich.context.catalogue_store import CatalogueStore
from lanner.enrich.context.classifier import ContextClassifier, default_library
from lanner.enrich.context.enricher import SkyContext


@dataclass(frozen=True)
class ContextBench:
    """Measured figures (one process, one core).

    Attributes
    ----------
    alerts
        Alerts per timed call.
    alerts_per_s
        Context rows per second, warm (catalogues loaded), best of the repeats.
    library_load_s
        Building the classifier with every packaged catalogue loaded whole [s].
    cold_partition_load_s
        Mean time to read one partition from disk into memory, no cache [s].
    lazy_first_batch_s
        First call of a classifier that loads partitions on demand [s] (reads + trees).
    lazy_partitions_read
        Partitions that first call read, of ``lazy_partitions_total``.
    lazy_partitions_total
        Partitions in the library.
    """

    alerts: int
    alerts_per_s: float
    library_load_s: float
    cold_partition_load_s: float
    lazy_first_batch_s: float
    lazy_partitions_read: int
    lazy_partitions_total: int

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def _sample_batch() -> AlertBatch:
    from lanner.ingest import read_alerts

    folder = Path(str(resources.files("lanner") / "data" / "alerts" / "ztf"))
    return read_alerts(sorted(folder.rglob("*.avro")), survey="ztf")


def bench_context(
    batch: AlertBatch | None = None, repeats: int = 5, library: Path | None = None
) -> ContextBench:
    """Time the sky-context enricher on ``batch`` (default: the packaged ZTF alerts).

    Parameters
    ----------
    batch
        Alerts to classify; the whole batch is one call, as in the pipeline.
    repeats
        Timed calls; the best one gives ``alerts_per_s``.
    library
        Catalogue library (default: the packaged one).
    """
    batch = _sample_batch() if batch is None else batch
    libs = [library or default_library()]
    start = time.perf_counter()
    enricher = SkyContext(libs)
    library_load = time.perf_counter() - start
    enricher(batch)
    best = np.inf
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        enricher(batch)
        best = min(best, time.perf_counter() - start)

    reads = []
    for cat in enricher.classifier.catalogues:
        store = CatalogueStore(cat.store.root)
        for i in range(len(store.index)):
            start = time.perf_counter()
            store.read_partition(i)
            reads.append(time.perf_counter() - start)

    lazy = ContextClassifier(libs, preload_rows=0)
    ra = batch.alerts["ra"].to_numpy(zero_copy_only=False).astype(np.float64)
    dec = batch.alerts["dec"].to_numpy(zero_copy_only=False).astype(np.float64)
    start = time.perf_counter()
    lazy.classify(ra, dec, survey=batch.survey, strict=False)
    lazy_first = time.perf_counter() - start
    return ContextBench(
        alerts=len(batch),
        alerts_per_s=len(batch) / best if best > 0 else float("inf"),
        library_load_s=library_load,
        cold_partition_load_s=float(np.mean(reads)) if reads else 0.0,
        lazy_first_batch_s=lazy_first,
        lazy_partitions_read=sum(c.store.partitions_read for c in lazy.catalogues),
        lazy_partitions_total=sum(len(c.store.index) for c in lazy.catalogues),
    )
