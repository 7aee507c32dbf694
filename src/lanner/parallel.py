"""Every core: decode and enrich in worker processes, store in this one.

Input: a :class:`~lanner.pipeline.Pipeline` and batches of raw packets (files, folders,
tarballs). Output: the run's :class:`~lanner.pipeline.RunSummary`, as
:meth:`Pipeline.run <lanner.pipeline.Pipeline.run>` gives. Side effects: starts ``workers``
processes for the run and stops them at its end; the pipeline stores, filters and sends.

Decoding and enriching need no database and take most of a batch's time, so each batch is
prepared (:func:`lanner.pipeline.prepare`) by one of ``workers`` processes, and the prepared
batches — Arrow tables, pickled by Arrow's IPC — come back to this process in the order the
batches were read. Here, one writer stores, filters and delivers them in that order, exactly
as one process would: the database is the same whatever the number of workers. At most two
batches per worker are in flight, so a night's folder never sits in memory.

On POSIX systems the workers are forked, and share the enrichers (and their catalogues)
already loaded here; elsewhere each worker builds the default enrichers once at start-up.
File ingestion only: a stream whose positions are committed batch by batch (``lanner
consume``) scales out with more consumer processes in one group instead.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.pool import AsyncResult

from lanner.batch import Survey
from lanner.enrich.base import Enricher
from lanner.ingest.packets import RawPacket
from lanner.pipeline import BatchReport, Pipeline, PreparedBatch, RunSummary, prepare

#: Batches waiting or being prepared, per worker: enough to keep every worker busy.
IN_FLIGHT_PER_WORKER = 2

#: What a worker prepares with: the database's survey and the enrichers (set before forking,
#: or by :func:`_start_worker` in a spawned worker).
_worker_state: tuple[Survey | None, Sequence[Enricher]] | None = None


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_parallel(
    pipeline: Pipeline,
    batches: Iterable[Sequence[RawPacket]],
    workers: int,
    on_batch: Callable[[BatchReport], None] | None = None,
) -> RunSummary:
    """Process every batch, preparing them in ``workers`` processes (1: in this one)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if workers == 1:
        return pipeline.run(batches, on_batch)
    global _worker_state
    _worker_state = (pipeline.store.survey, pipeline.enrichers)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    summary = RunSummary()
    with context.Pool(workers, _start_worker, (pipeline.store.survey,)) as pool:
        for prepared in _in_order(pool, batches, workers * IN_FLIGHT_PER_WORKER):
            report = pipeline.finish(prepared)
            summary.add(report)
            if on_batch is not None:
                on_batch(report)
    _worker_state = None
    return summary


def _in_order(
    pool: multiprocessing.pool.Pool, batches: Iterable[Sequence[RawPacket]], limit: int
) -> Iterator[PreparedBatch]:
    """Prepared batches in input order, with at most ``limit`` submitted and not yet taken."""
    pending: deque[AsyncResult[PreparedBatch]] = deque()
    for packets in batches:
        pending.append(pool.apply_async(_prepare, (list(packets),)))
        if len(pending) >= limit:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def _start_worker(survey: Survey | None) -> None:
    """Worker start-up: keep the forked state, or build the default enrichers once."""
    global _worker_state
    if _worker_state is None:
        from lanner.enrich.registry import default_enrichers

        _worker_state = (survey, default_enrichers())


def _prepare(packets: list[RawPacket]) -> PreparedBatch:
    if _worker_state is None:
        raise RuntimeError("worker used before start-up")
    survey, enrichers = _worker_state
    return prepare(packets, survey, enrichers)
