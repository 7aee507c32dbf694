"""Every core: decode and enrich in worker processes, store in this one.

Input: a :class:`~lanner.pipeline.Pipeline` and batches of raw packets (files, folders,
tarballs). Output: the run's :class:`~lanner.pipeline.RunSummary`, as
:meth:`Pipeline.run <lanner.pipeline.Pipeline.run>` gives. Side effects: starts ``workers``
processes for the run and stops them at its end; the pipeline stores, filters and sends.

Decoding and enriching need no database and take most of a batch's time, so each batch is
prepared (:func:`lanner.pipeline.prepare`) by one of ``workers`` processes, and the prepared
batches come back to this process in the order the batches were read; their tables cross in
files of shared memory, mapped here without a copy (:mod:`lanner.handoff`). Here, one writer
stores, filters and delivers them in that order, exactly as one process would: the database
is the same whatever the number of workers. At most two batches per worker are in flight, so
a night's folder never sits in memory.

Workers are started fresh (``spawn``), never forked from this process, whose threads (Kafka
clients, Arrow's pools) and open connections a fork would copy in an undefined state; each
loads the default enrichers (:func:`lanner.enrich.registry.default_enrichers`) once, a few
seconds, so a run of a single batch is prepared here instead. A worker that dies (killed,
out of memory) stops the run with :class:`WorkerDiedError` rather than leaving it waiting:
the batches stored before it are kept, and as every write is idempotent the same command can
simply be run again. File ingestion only: a stream whose
positions are committed batch by batch (``lanner consume``) scales out with more consumer
processes in one group instead.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

from lanner.batch import Survey
from lanner.enrich.base import Enricher
from lanner.handoff import HandedOff, discard, hand_off, spool_folder, take
from lanner.ingest.packets import RawPacket
from lanner.pipeline import BatchReport, Pipeline, PreparedBatch, RunSummary, prepare

#: Batches waiting or being prepared, per worker: enough to keep every worker busy.
IN_FLIGHT_PER_WORKER = 2
#: How long each warm-up task of :func:`worker_pool` holds its worker [s].
WARM_S = 0.5

#: What a worker prepares with: the database's survey, the enrichers and the folder its
#: batches are handed off in (set at start-up).
_worker_state: tuple[Survey | None, Sequence[Enricher], Path] | None = None


class WorkerDiedError(RuntimeError):
    """A worker process ended while preparing batches: the run stopped."""


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
    pool: ProcessPoolExecutor | None = None,
    overlap: bool = True,
) -> RunSummary:
    """Process every batch, preparing them in ``workers`` processes (1: in this one, in a
    background thread one batch ahead with ``overlap``, :meth:`Pipeline.run_steps
    <lanner.pipeline.Pipeline.run_steps>`).

    The workers run the default enrichers: a pipeline with other enrichers runs with one.
    ``pool``: workers already started (:func:`worker_pool`), e.g. to keep their start-up
    out of a measurement; else they are started for this run and stopped at its end.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    it = iter(batches)
    head = [b for b in (next(it, None), next(it, None)) if b is not None]
    batches = chain(head, it)
    if workers == 1 or (len(head) < 2 and pool is None):
        return pipeline.run(batches, on_batch, overlap)
    from lanner.enrich.registry import default_enrichers

    if tuple(pipeline.enrichers) != default_enrichers():
        raise ValueError("worker processes run the default enrichers: use workers=1")
    if pool is None:
        with worker_pool(pipeline.store.survey, workers) as started:
            return _run_in(pipeline, started, batches, workers, on_batch)
    return _run_in(pipeline, pool, batches, workers, on_batch)


@contextmanager
def worker_pool(
    survey: Survey | None, workers: int, warm: Sequence[RawPacket] | None = None
) -> Iterator[ProcessPoolExecutor]:
    """``workers`` spawned processes that prepare batches of ``survey``; given ``warm``
    packets, returned once every worker has prepared them (enrichers, catalogues and maps
    loaded, as they load on first use)."""
    context = multiprocessing.get_context("spawn")
    folder = spool_folder()
    try:
        with ProcessPoolExecutor(
            workers, context, initializer=_start_worker, initargs=(survey, folder)
        ) as pool:
            if warm is not None:
                started = [pool.submit(_warmed, list(warm), WARM_S) for _ in range(workers)]
                try:
                    for future in started:
                        future.result()
                except BrokenProcessPool as exc:
                    raise WorkerDiedError(f"a worker process died while starting ({exc})") from exc
            yield pool
    finally:
        # What a stopped run left (batches prepared and never taken, a dead worker's file).
        shutil.rmtree(folder, ignore_errors=True)


def _run_in(
    pipeline: Pipeline,
    pool: ProcessPoolExecutor,
    batches: Iterable[Sequence[RawPacket]],
    workers: int,
    on_batch: Callable[[BatchReport], None] | None,
) -> RunSummary:
    summary = RunSummary()
    pending: deque[Future[HandedOff]] = deque()
    try:
        for prepared in _in_order(pool, batches, workers * IN_FLIGHT_PER_WORKER, pending):
            report = pipeline.finish(prepared)
            summary.add(report)
            if on_batch is not None:
                on_batch(report)
    except BrokenProcessPool as exc:
        raise WorkerDiedError(
            f"a worker process died while preparing batches ({exc}); the run stopped "
            f"after {summary.batches} stored batches ({summary.alerts} alerts), which are "
            "kept: run the same command again (stored alerts are not stored twice), with "
            "fewer --workers if the machine ran out of memory"
        ) from exc
    finally:
        for future in pending:  # after an error: what was not started is dropped
            if not future.cancel() and future.done() and future.exception() is None:
                discard(future.result())
    return summary


def _in_order(
    pool: ProcessPoolExecutor,
    batches: Iterable[Sequence[RawPacket]],
    limit: int,
    pending: deque[Future[HandedOff]],
) -> Iterator[PreparedBatch]:
    """Prepared batches in input order, with at most ``limit`` submitted and not yet taken."""
    for packets in batches:
        pending.append(pool.submit(_prepare, list(packets)))
        if len(pending) >= limit:
            yield take(pending.popleft().result())
    while pending:
        yield take(pending.popleft().result())


def _warmed(packets: list[RawPacket], hold_s: float) -> int:
    """Prepare ``packets`` (discarded), then hold the worker for ``hold_s`` so that the next
    such task goes to another worker; the worker's pid."""
    discard(_prepare(packets))
    time.sleep(hold_s)
    return os.getpid()


def _start_worker(survey: Survey | None, folder: Path) -> None:
    """Worker start-up: load the default enrichers once. Ctrl-C is the parent's to handle
    (leaving the pool stops the workers)."""
    global _worker_state
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from lanner.enrich.registry import default_enrichers

    _worker_state = (survey, default_enrichers(), folder)


def _prepare(packets: list[RawPacket]) -> HandedOff:
    if _worker_state is None:
        raise RuntimeError("worker used before start-up")
    survey, enrichers, folder = _worker_state
    return hand_off(prepare(packets, survey, enrichers), folder)
