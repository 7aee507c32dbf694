"""The long-running stream worker (``lanner consume``): the pipeline over Kafka batches,
surviving the faults a night brings.

Input: a :class:`~lanner.pipeline.Pipeline` and a :class:`~lanner.ingest.kafka.
KafkaBatchConsumer`. Output: the run's :class:`~lanner.pipeline.RunSummary`. Side effects:
those of the pipeline; offsets committed after each batch is stored, sent and its dead
letters are durable (as :func:`lanner.pipeline.run_stream`); metrics updated.

Transient faults never end the worker:

- database outage or lock conflict (connection lost, deadlock, serialisation failure,
  SQLite busy): the batch's transaction is rolled back, the worker reconnects with
  exponential backoff (at most ``max_backoff_s`` between attempts), says so once in the
  log, and processes the same batch again (writes are idempotent); it gives up only after
  ``retry_s`` seconds of continuous outage (0: never);
- dead letters the broker did not acknowledge (it restarted): the dead-letter producer is
  started again and the letters re-sent, with the same backoff;
- a refused commit (a rebalance took the partition, ``UNKNOWN_MEMBER_ID`` after a broker
  restart): the batch is released and the consumer rejoins the group by itself; the
  partition's next owner re-reads the batch.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from functools import partial

from lanner.ingest.deadletter_kafka import DeadLetterError
from lanner.ingest.kafka import CommitError, KafkaBatch, KafkaBatchConsumer
from lanner.observe.metrics import Metrics
from lanner.pipeline import BatchReport, Pipeline, PreparedBatch, RunSummary
from lanner.store import DatabaseUnavailableError, Store, open_store
from lanner.store.faults import is_transient

log = logging.getLogger(__name__)

#: Seconds between refreshes of the Kafka lag and delivery gauges.
GAUGE_PERIOD_S = 5.0


def _retryable(exc: BaseException) -> bool:
    """Whether a batch step should be retried: a transient database fault (the store's
    rule) or dead letters the broker did not take (restarting)."""
    return isinstance(exc, DeadLetterError) or is_transient(exc)


class StreamWorker:
    """Run a pipeline over a consumer's batches until the consumer stops.

    Parameters
    ----------
    pipeline, consumer
        The stages and the topic to read.
    metrics
        Where counters go (a fresh :class:`Metrics` by default).
    retry_s
        Longest continuous database outage (s) survived; 0: wait for ever.
    max_backoff_s
        Longest wait (s) between reconnection attempts.
    sleep
        ``time.sleep``, replaceable in tests.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        consumer: KafkaBatchConsumer,
        metrics: Metrics | None = None,
        retry_s: float = 300.0,
        max_backoff_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.pipeline = pipeline
        self.consumer = consumer
        self.metrics = metrics or Metrics()
        self.retry_s = retry_s
        self.max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._gauges_at = -GAUGE_PERIOD_S
        self._repeats = 0

    def run(self, on_batch: Callable[[BatchReport], None] | None = None) -> RunSummary:
        """Process batches until the consumer stops; ``on_batch`` sees each report."""

        def observe(report: BatchReport) -> None:
            self.metrics.observe(report)
            self._refresh_gauges()
            if on_batch is not None:
                on_batch(report)

        # One batch at a time, each committed once stored and its dead letters durable: the
        # consumer is used by this thread only (its rebalances and rejoins happen inside
        # poll and commit), so a stream scales out with more consumer processes instead.
        steps = ((batch.packets, partial(self._done, batch)) for batch in self.consumer)
        return self.pipeline.run_steps(steps, observe, overlap=False, finish=self._finish)

    def _finish(self, prepared: PreparedBatch) -> BatchReport:
        return self._retrying(partial(self.pipeline.finish, prepared))

    def _done(self, batch: KafkaBatch) -> None:
        self._retrying(self.pipeline.dead_letters.flush)
        self._count_repeats()
        self._commit(batch)

    def _retrying(self, step: Callable[[], BatchReport | None]) -> BatchReport:
        started: float | None = None
        delay = 0.5
        while True:
            try:
                result = step()
            except Exception as exc:
                if not _retryable(exc):
                    raise
                now = time.monotonic()
                what = "dead-letter topic" if isinstance(exc, DeadLetterError) else "database"
                if started is None:
                    started = now
                    if not isinstance(exc, DeadLetterError):
                        self.metrics.database_outages.inc()
                    log.warning("%s unavailable (%s): retrying", what, _first_line(exc))
                elif self.retry_s and now - started > self.retry_s:
                    raise DatabaseUnavailableError(
                        f"the database was unavailable for {now - started:.0f} s: "
                        f"{_first_line(exc)}"
                    ) from exc
                self._sleep(delay)
                delay = min(2 * delay, self.max_backoff_s)
                if isinstance(exc, DeadLetterError):
                    reset = getattr(self.pipeline.dead_letters, "reset", None)
                    if reset is not None:
                        reset()
                else:
                    self._reconnect()
                continue
            if started is not None:
                log.warning("%s back after %.1f s", what, time.monotonic() - started)
            return result if result is not None else BatchReport()

    def _count_repeats(self) -> None:
        repeats = getattr(self.pipeline.dead_letters, "repeats", 0)
        self.metrics.dead_letter_repeats.inc(repeats - self._repeats)
        self._repeats = repeats

    def _reconnect(self) -> None:
        # Still down: the next attempt of the step fails and waits again.
        with contextlib.suppress(DatabaseUnavailableError):
            self.pipeline.store.reconnect()

    def _commit(self, batch: KafkaBatch) -> None:
        try:
            batch.commit()
        except CommitError as exc:
            self.metrics.failed_commits.inc()
            log.warning(
                "%s: the batch's %d alerts are stored; the partition's next owner reads "
                "them again (rejoining the group)",
                exc,
                len(batch),
            )
            batch.release()

    def _refresh_gauges(self) -> None:
        now = time.monotonic()
        if now - self._gauges_at < GAUGE_PERIOD_S:
            return
        self._gauges_at = now
        self.metrics.set_lag(self.consumer.lag())
        try:
            self.metrics.set_deliveries(self.pipeline.store.delivery_counts())
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.debug("delivery counts unknown: %s", exc)


def open_store_retrying(
    url: str,
    retry_s: float = 0.0,
    max_backoff_s: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Store:
    """Open an existing database for a worker, waiting out an outage at start-up (said
    once in the log); a database that is missing or not set up fails at once.

    Raises
    ------
    StoreError
        If the database is not set up, or still unreachable after ``retry_s`` (0: never).
    """
    started: float | None = None
    delay = 0.5
    while True:
        try:
            store = open_store(url, create=False)
        except Exception as exc:
            if not is_transient(exc):
                raise
            if started is None:
                started = time.monotonic()
                log.warning("database unavailable (%s): retrying", _first_line(exc))
            elif retry_s and time.monotonic() - started > retry_s:
                raise DatabaseUnavailableError(
                    f"the database was unavailable for {time.monotonic() - started:.0f} s: "
                    f"{_first_line(exc)}"
                ) from exc
            sleep(delay)
            delay = min(2 * delay, max_backoff_s)
            continue
        if started is not None:
            log.warning("database back after %.1f s", time.monotonic() - started)
        return store


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
