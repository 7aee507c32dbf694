"""The pipeline: the one place the stages are wired together, and the only main loop.

    packets ─▶ ingest.assemble ─▶ enrich (registry order) ─▶ store.write_batch
            ─▶ classifiers (scores written as annotations, :mod:`lanner.classify`)
            ─▶ sky areas (watchlist, watchmap, sky-map hits)
            ─▶ filter (active filters on the batch) ─▶ record the matches, pending
            ─▶ wake the delivery worker

Each stage gets what it needs through the constructor (store, enrichers, dead-letter sink,
delivery worker), so the same pipeline runs embedded (SQLite, folders) or scaled out
(PostgreSQL, Kafka) and against test servers. Sending is not on the batch's path: the
delivery worker (:mod:`lanner.distribute.outbox`) sends the pending matches and retries the
failures, so a slow or dead endpoint costs a batch nothing. Stage timings are kept per batch
for ``lanner bench``.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Any, Protocol

from lanner.annotations.stage import AnnotationStage
from lanner.batch import AlertBatch, Survey, row_offsets
from lanner.classify.base import Classifier
from lanner.classify.stage import ClassifierStage
from lanner.distribute.base import ALERT_KEY, LIGHTCURVE_KEY
from lanner.distribute.matches import match_rows, payload_of
from lanner.enrich import run_enrichers
from lanner.enrich.base import Enricher
from lanner.enrich.registry import default_enrichers
from lanner.filter.active import ActiveFilters, FilterMatch
from lanner.filter.rerun import Changed, rerun_and_record
from lanner.filter.saved import expire_filters
from lanner.ingest import assemble
from lanner.ingest.packets import DeadLetter, DeadLetterSink, RawPacket, reason_kind
from lanner.schema.registry import undeclared_columns
from lanner.sky_areas.stage import SkyAreaStage
from lanner.store import Store
from lanner.store.outbox import MatchRow
from lanner.tns.stage import TnsStage

log = logging.getLogger(__name__)

STAGES = ("decode", "enrich", "store", "classify", "sky_areas", "filter")


@dataclass
class BatchReport:
    """What one batch did."""

    alerts: int = 0
    dead_letters: int = 0
    objects_updated: int = 0
    matches: dict[str, int] = field(default_factory=dict)
    #: Matches of superseded alerts not recorded (a newer alert of the object is stored).
    superseded: int = 0
    #: Watchlist, watchmap and sky-map hits of the batch, per hits table.
    sky_hits: dict[str, int] = field(default_factory=dict)
    filter_errors: dict[str, str] = field(default_factory=dict)
    #: Filters that ran out of time (also in ``filter_errors``).
    filter_timeouts: list[str] = field(default_factory=list)
    #: Filters whose result was cut at the row cap, with how many times.
    truncated: dict[str, int] = field(default_factory=dict)
    #: Dead letters by kind of reason (:func:`lanner.ingest.packets.reason_kind`).
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    #: Seconds spent in each enricher (part of the "enrich" stage).
    enricher_seconds: dict[str, float] = field(default_factory=dict)
    #: Annotations written by each classifier, and the seconds each took ("classify").
    classified: dict[str, int] = field(default_factory=dict)
    classifier_seconds: dict[str, float] = field(default_factory=dict)
    #: Classifiers that failed on the batch, with the reason (logged, the batch goes on).
    classifier_failures: dict[str, str] = field(default_factory=dict)
    #: Background WAL checkpoints (SQLite) that failed (logged; SQLite checkpoints again).
    checkpoint_failures: int = 0


@dataclass
class RunSummary(BatchReport):
    """Totals over a run: the batch reports summed, and how many batches there were."""

    batches: int = 0

    def add(self, report: BatchReport) -> None:
        self.batches += 1
        self.alerts += report.alerts
        self.dead_letters += report.dead_letters
        self.objects_updated += report.objects_updated
        for name, n in report.matches.items():
            self.matches[name] = self.matches.get(name, 0) + n
        self.superseded += report.superseded
        self.checkpoint_failures += report.checkpoint_failures
        for name, n in report.sky_hits.items():
            self.sky_hits[name] = self.sky_hits.get(name, 0) + n
        self.filter_errors.update(report.filter_errors)
        self.filter_timeouts.extend(report.filter_timeouts)
        for name, n in report.truncated.items():
            self.truncated[name] = self.truncated.get(name, 0) + n
        for kind, n in report.dead_letter_reasons.items():
            self.dead_letter_reasons[kind] = self.dead_letter_reasons.get(kind, 0) + n
        for stage, s in report.seconds.items():
            self.seconds[stage] += s
        for name, s in report.enricher_seconds.items():
            self.enricher_seconds[name] = self.enricher_seconds.get(name, 0.0) + s
        for name, n in report.classified.items():
            self.classified[name] = self.classified.get(name, 0) + n
        for name, s in report.classifier_seconds.items():
            self.classifier_seconds[name] = self.classifier_seconds.get(name, 0.0) + s
        self.classifier_failures.update(report.classifier_failures)


class DeliveryHook(Protocol):
    """Told when new matches wait in the outbox
    (:class:`lanner.distribute.outbox.BackgroundDelivery`)."""

    def wake(self) -> None: ...


class CommittableBatch(Protocol):
    """A batch from a stream whose position is committed once the batch is handled
    (:class:`lanner.ingest.kafka.KafkaBatch`)."""

    packets: list[RawPacket]

    def commit(self) -> None: ...


class Pipeline:
    """Runs batches of packets through every stage."""

    def __init__(
        self,
        store: Store,
        dead_letters: DeadLetterSink,
        enrichers: Sequence[Enricher] | None = None,
        delivery: DeliveryHook | None = None,
        filter_timeout: float = 10.0,
        max_rows: int = 10000,
        classifiers: Sequence[Classifier] | None = None,
    ) -> None:
        self.store = store
        self.dead_letters = dead_letters
        self.enrichers = list(default_enrichers() if enrichers is None else enrichers)
        missing = undeclared_columns(self.enrichers)
        if missing:
            raise ValueError(
                "enrichers add columns the database would not store: "
                + "; ".join(missing)
                + ". Add the enricher to lanner.enrich.registry.default_enrichers, whose "
                "columns make the schema"
            )
        self.delivery = delivery
        self.filters = ActiveFilters(store, filter_timeout, max_rows)
        self.sky_areas = SkyAreaStage(store)
        self.tns = TnsStage(store)
        self.annotations = AnnotationStage(store)
        # The commands pass lanner.classify.registry.selected(settings.classifiers).
        self.classify = ClassifierStage(store, classifiers or [])

    def process(self, packets: Sequence[RawPacket]) -> BatchReport:
        """Run one batch through decode, enrich, store, sky areas and filter; record its
        matches as pending deliveries and wake the delivery worker."""
        return self.finish(prepare(packets, self.store.survey, self.enrichers))

    def finish(self, prepared: PreparedBatch) -> BatchReport:
        """Store, filter and record the matches of a decoded and enriched batch (made here or by a
        worker process, :mod:`lanner.parallel`). The prepared batch is left as it was, so a
        step that failed (a database outage) can be finished again."""
        report = copy.deepcopy(prepared.report)
        for letter in prepared.dead_letters:
            self.dead_letters.put(letter.data, letter.origin, letter.reason)
            kind = reason_kind(letter.reason)
            report.dead_letter_reasons[kind] = report.dead_letter_reasons.get(kind, 0) + 1
            log.debug(
                "dead letter %s: %s",
                letter.origin,
                letter.reason,
                extra={"origin": letter.origin, "reason": letter.reason},
            )
        batch = prepared.batch
        if prepared.dead_letters:
            first = prepared.dead_letters[0]
            log.warning(
                "%d packets dead-lettered (%s); first: %s: %s",
                len(prepared.dead_letters),
                ", ".join(f"{k}: {n}" for k, n in report.dead_letter_reasons.items()),
                first.origin,
                first.reason,
                extra={"dead_letters": report.dead_letter_reasons},
            )
        if len(batch) == 0:
            return report
        clock = time.perf_counter()
        written = self.store.write_batch(batch)
        report.objects_updated = written.objects_updated
        report.checkpoint_failures = written.checkpoint_failures
        clock = _lap(report, "store", clock)
        # After the store (scores are annotations of stored objects), before the filters
        # (which read this batch's annotations).
        report.classified = self.classify.run(
            batch, report.classifier_seconds, report.classifier_failures
        )
        clock = _lap(report, "classify", clock)
        # After the store (retro-matches see these objects), before the filters (which
        # see this batch's hits).
        report.sky_hits = self.sky_areas.run(batch)
        self.tns.run(batch)  # the TNS watchlist's hits: objects.tns_name, crossmatch_tns
        self.annotations.run(batch)  # the stored annotations of its objects, for the filters
        clock = _lap(report, "sky_areas", clock)
        matches = self.filter(batch, report)
        # Recorded once the batch is stored: a crash in between leaves the batch's stream
        # position uncommitted, and its re-delivery records them (matches are keyed by
        # filter and alert, so they are recorded, and sent, once).
        recorded = self.store.record_matches(self.match_rows(matches))
        _lap(report, "filter", clock)
        if recorded and self.delivery is not None:
            self.delivery.wake()
        return report

    def enrich(self, batch: AlertBatch, seconds: dict[str, float] | None = None) -> None:
        """Run the enrichers in registry order; ``seconds`` collects each one's time."""
        run_enrichers(batch, self.enrichers, seconds)

    def filter(self, batch: AlertBatch, report: BatchReport) -> list[FilterMatch]:
        """Run every active filter on the batch; a failing filter is reported to its owner
        and to the run, never fatal. Only alerts still their object's newest match: a
        re-delivered alert that a newer one superseded matches nothing new."""
        expire_filters(self.store)
        result = self.filters.run(batch)
        report.filter_errors.update(result.errors)
        report.filter_timeouts.extend(result.timeouts)
        for name in result.truncated:
            report.truncated[name] = report.truncated.get(name, 0) + 1
            log.warning(
                "filter %s: result cut at %d rows on a batch of %d alerts",
                name,
                self.filters.limits.row_cap,
                len(batch),
                extra={"filter": name},
            )
        if not result.matches:
            report.matches.update(result.counts)
            return []
        current = set(self.store.current_rows(batch).tolist())
        matches = [m for m in result.matches if m.row in current]
        report.superseded = len(result.matches) - len(matches)
        report.matches.update(dict.fromkeys(result.counts, 0))
        for m in matches:
            report.matches[m.filter.name] += 1
        self._attach_payloads(batch, matches)
        return matches

    def _attach_payloads(self, batch: AlertBatch, matches: list[FilterMatch]) -> None:
        """Light curve and packet for filters whose payload option asks for them."""
        wanted = {m.filter.filter_id: payload_of(m.filter) for m in matches}
        if not any(p in ("lite", "full") for p in wanted.values()):
            return
        off = row_offsets(batch.detections, len(batch))
        for m in matches:
            payload = wanted[m.filter.filter_id]
            if payload in ("lite", "full"):
                lc = batch.detections.slice(off[m.row], off[m.row + 1] - off[m.row])
                m.values[LIGHTCURVE_KEY] = lc.drop_columns(["row"]).to_pylist()
            if payload == "full" and m.row < len(batch.packets):
                m.values[ALERT_KEY] = batch.packets[m.row]

    def rerun_annotations(self, topic: str, object_ids: Sequence[Any]) -> list[FilterMatch]:
        """Entry point for the annotations stage: re-run the active filters that read
        ``topic``'s annotations for the objects just annotated, and record their matches for
        delivery."""
        changed = Changed.annotations(topic)
        return rerun_and_record(self.store, changed, object_ids, self.filters.limits, self.delivery)

    def rerun_tns(self, object_ids: Sequence[Any]) -> list[FilterMatch]:
        """Entry point for the TNS import: re-run the active filters that read
        ``crossmatch_tns`` for the objects matched to reclassified entries, and record their
        matches for delivery."""
        changed = Changed("crossmatch_tns")
        return rerun_and_record(self.store, changed, object_ids, self.filters.limits, self.delivery)

    @staticmethod
    def match_rows(matches: Sequence[FilterMatch]) -> list[MatchRow]:
        """Matches as the outbox records them (:func:`lanner.distribute.matches.match_rows`)."""
        return match_rows(matches)

    def run(
        self,
        batches: Iterable[Sequence[RawPacket]],
        on_batch: Callable[[BatchReport], None] | None = None,
        overlap: bool = True,
    ) -> RunSummary:
        """Process every batch; ``on_batch`` sees each report (progress bars, commits).

        ``overlap``: the next batch is read, decoded and enriched in a background thread
        while this one is stored, classified and filtered (:meth:`run_steps`)."""
        return self.run_steps(((packets, None) for packets in batches), on_batch, overlap)

    def run_steps(
        self,
        steps: Iterable[tuple[Sequence[RawPacket], Callable[[], None] | None]],
        on_batch: Callable[[BatchReport], None] | None = None,
        overlap: bool = True,
        finish: Callable[[PreparedBatch], BatchReport] | None = None,
    ) -> RunSummary:
        """Process batches given with what to do once each is finished (e.g. commit its
        stream position), in this thread, in input order.

        With ``overlap``, one batch ahead is taken from ``steps`` and prepared (decoded and
        enriched, :func:`prepare`) in a background thread while this thread finishes the one
        before: storing, classifying, matching sky areas and filtering spend most of their
        time in SQLite, PostgreSQL, DuckDB and numpy, which release the GIL. Only one batch
        is ever ahead, so memory stays bounded and a slow store holds the reading back. The
        results are those of a serial run: batches are finished, and their ``done`` called,
        in order, by this thread only; an error in preparing a batch is raised here once
        every batch before it is finished. The first batch of an unbound database is
        finished before the next is prepared (it binds the database to its survey).
        ``finish``: what finishes a prepared batch (default :meth:`finish`; the stream worker
        retries it through database outages).
        """
        summary = RunSummary()
        finishing = self.finish if finish is None else finish

        def complete(prepared: PreparedBatch, done: Callable[[], None] | None) -> None:
            report = finishing(prepared)
            if done is not None:
                done()
            summary.add(report)
            if on_batch is not None:
                on_batch(report)

        if not overlap:
            for packets, done in steps:
                complete(prepare(packets, self.store.survey, self.enrichers), done)
            return summary
        it = iter(steps)

        def take() -> tuple[PreparedBatch, Callable[[], None] | None] | None:
            step = next(it, None)
            if step is None:
                return None
            return prepare(step[0], self.store.survey, self.enrichers), step[1]

        pool = ThreadPoolExecutor(1, thread_name_prefix="lanner-prepare")
        ahead: Future[tuple[PreparedBatch, Callable[[], None] | None] | None] | None = None
        try:
            ahead = pool.submit(take)
            while (got := ahead.result()) is not None:
                ahead = pool.submit(take) if self.store.survey is not None else None
                complete(*got)
                if ahead is None:
                    ahead = pool.submit(take)
        finally:
            # After an error here, the batch being prepared is waited for and dropped.
            pool.shutdown(wait=True, cancel_futures=True)
        return summary


@dataclass
class PreparedBatch:
    """A batch decoded and enriched, with what was set aside and the time it took; what a
    worker process hands to the process that stores (picklable: Arrow tables and lists)."""

    batch: AlertBatch
    dead_letters: list[DeadLetter]
    report: BatchReport


def prepare(
    packets: Sequence[RawPacket], survey: Survey | None, enrichers: Sequence[Enricher]
) -> PreparedBatch:
    """Decode and enrich one batch: the stages that need no database."""
    report = BatchReport()
    clock = time.perf_counter()
    assembled = assemble(packets, survey)
    batch = assembled.batch
    report.alerts, report.dead_letters = len(batch), len(assembled.dead_letters)
    clock = _lap(report, "decode", clock)
    if len(batch):
        run_enrichers(batch, enrichers, report.enricher_seconds)
        _lap(report, "enrich", clock)
    return PreparedBatch(batch, assembled.dead_letters, report)


def run_stream(
    pipeline: Pipeline,
    batches: Iterable[CommittableBatch],
    on_batch: Callable[[BatchReport], None] | None = None,
    overlap: bool = False,
) -> RunSummary:
    """Process a stream: each batch is stored (its matches recorded for delivery), its dead
    letters made durable, and only then its position committed — so a crash re-delivers,
    never loses, a batch. With ``overlap`` the next batch is read and prepared meanwhile
    (:meth:`Pipeline.run_steps`); commits stay in order, in this thread. Off by default: a
    Kafka consumer (:class:`~lanner.ingest.kafka.KafkaBatchConsumer`) hands out one batch at
    a time, and is used from one thread only (its rebalances happen inside poll and commit)."""

    def steps() -> Iterator[tuple[list[RawPacket], Callable[[], None]]]:
        for batch in batches:
            yield batch.packets, partial(_commit_after_flush, pipeline, batch)

    return pipeline.run_steps(steps(), on_batch, overlap)


def _commit_after_flush(pipeline: Pipeline, batch: CommittableBatch) -> None:
    pipeline.dead_letters.flush()
    batch.commit()


def _lap(report: BatchReport, stage: str, since: float) -> float:
    now = time.perf_counter()
    report.seconds[stage] += now - since
    return now


def chunked(packets: Iterable[RawPacket], size: int) -> Iterator[list[RawPacket]]:
    """Group packets into batches of ``size``."""
    it = iter(packets)
    while chunk := list(islice(it, size)):
        yield chunk
