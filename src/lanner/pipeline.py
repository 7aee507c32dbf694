"""The pipeline: the one place the stages are wired together, and the only main loop.

    packets ─▶ ingest.assemble ─▶ enrich (registry order) ─▶ store.write_batch
            ─▶ filter (active filters on the batch) ─▶ distribute (+ filter_matches)

Each stage gets what it needs through the constructor (store, enrichers, dead-letter sink,
deliveries), so the same pipeline runs embedded (SQLite, folders) or scaled out (PostgreSQL,
Kafka) and against test servers. Stage timings are kept per batch for ``lanner bench``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import duckdb
import pyarrow as pa

from lanner.batch import OBJECT_ID_COLUMN, AlertBatch
from lanner.enrich.base import Enricher
from lanner.enrich.registry import default_enrichers
from lanner.filter.batch_engine import batch_tables
from lanner.filter.compile import compile_filter
from lanner.filter.saved import FilterError, SavedFilter, active_filters
from lanner.ingest import assemble
from lanner.ingest.packets import DeadLetterSink, RawPacket
from lanner.schema.registry import RECENCY_COLUMN
from lanner.store import Store

log = logging.getLogger(__name__)

STAGES = ("decode", "enrich", "store", "filter", "distribute")


@dataclass
class Match:
    """One row a filter selected, for one alert."""

    filter: SavedFilter
    alert_id: int
    object_id: Any
    values: dict[str, Any]


@dataclass
class BatchReport:
    """What one batch did."""

    alerts: int = 0
    dead_letters: int = 0
    objects_updated: int = 0
    matches: dict[str, int] = field(default_factory=dict)
    filter_errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    #: Seconds spent in each enricher (part of the "enrich" stage).
    enricher_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class RunSummary:
    """Totals over a run."""

    batches: int = 0
    alerts: int = 0
    dead_letters: int = 0
    objects_updated: int = 0
    matches: dict[str, int] = field(default_factory=dict)
    filter_errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    enricher_seconds: dict[str, float] = field(default_factory=dict)

    def add(self, report: BatchReport) -> None:
        self.batches += 1
        self.alerts += report.alerts
        self.dead_letters += report.dead_letters
        self.objects_updated += report.objects_updated
        for name, n in report.matches.items():
            self.matches[name] = self.matches.get(name, 0) + n
        self.filter_errors.update(report.filter_errors)
        for stage, s in report.seconds.items():
            self.seconds[stage] += s
        for name, s in report.enricher_seconds.items():
            self.enricher_seconds[name] = self.enricher_seconds.get(name, 0.0) + s


class Delivery:
    """Where matches go besides the database (Kafka, e-mail, webhook)."""

    def deliver(self, matches: Sequence[Match]) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class Pipeline:
    """Runs batches of packets through every stage."""

    def __init__(
        self,
        store: Store,
        dead_letters: DeadLetterSink,
        enrichers: Sequence[Enricher] | None = None,
        deliveries: Sequence[Delivery] = (),
        filter_timeout: float = 10.0,
        max_rows: int = 10000,
    ) -> None:
        self.store = store
        self.dead_letters = dead_letters
        self.enrichers = list(default_enrichers() if enrichers is None else enrichers)
        self.deliveries = list(deliveries)
        self.filter_timeout = filter_timeout
        self.max_rows = max_rows

    def process(self, packets: Sequence[RawPacket]) -> BatchReport:
        """Run one batch through decode, enrich, store, filter and distribute."""
        report = BatchReport()
        clock = time.perf_counter()
        assembled = assemble(packets, self.store.survey)
        for letter in assembled.dead_letters:
            self.dead_letters.put(letter.data, letter.origin, letter.reason)
            log.info("dead letter %s: %s", letter.origin, letter.reason)
        batch = assembled.batch
        report.alerts, report.dead_letters = len(batch), len(assembled.dead_letters)
        clock = _lap(report, "decode", clock)
        if len(batch) == 0:
            return report
        self.enrich(batch, report.enricher_seconds)
        clock = _lap(report, "enrich", clock)
        report.objects_updated = self.store.write_batch(batch).objects_updated
        clock = _lap(report, "store", clock)
        matches = self.filter(batch, report)
        clock = _lap(report, "filter", clock)
        self.distribute(matches)
        _lap(report, "distribute", clock)
        return report

    def enrich(self, batch: AlertBatch, seconds: dict[str, float] | None = None) -> None:
        """Run the enrichers in registry order; ``seconds`` collects each one's time."""
        for enricher in self.enrichers:
            if batch.survey in enricher.surveys:
                start = time.perf_counter()
                batch.add_columns(enricher.table, enricher(batch))
                if seconds is not None:
                    seconds[enricher.name] = seconds.get(enricher.name, 0.0) + (
                        time.perf_counter() - start
                    )

    def filter(self, batch: AlertBatch, report: BatchReport) -> list[Match]:
        """Run every active filter on the batch; a failing filter is reported, not fatal."""
        filters = active_filters(self.store)
        if not filters:
            return []
        oid = OBJECT_ID_COLUMN[batch.survey]
        tables = batch_tables(batch, RECENCY_COLUMN[batch.survey])
        object_ids = batch.alerts["object_id"].take(pa.array(tables.rows)).to_pylist()
        alert_of = dict(zip(object_ids, tables.alert_ids.to_pylist(), strict=True))
        matches: list[Match] = []
        try:
            for flt in filters:
                try:
                    sql = compile_filter(flt.sql, batch.survey, "duckdb")
                    result = tables.con.execute(sql)
                    names = [d[0] for d in result.description]
                    rows = result.fetchmany(self.max_rows)
                except (FilterError, duckdb.Error) as exc:
                    report.filter_errors[flt.name] = f"{type(exc).__name__}: {exc}"
                    continue
                if oid not in names:
                    report.filter_errors[flt.name] = f"the SELECT list must include {oid}"
                    continue
                at = names.index(oid)
                for row in rows:
                    values = dict(zip(names, row, strict=True))
                    matches.append(Match(flt, alert_of[row[at]], row[at], values))
                report.matches[flt.name] = len(rows)
        finally:
            tables.close()
        return matches

    def distribute(self, matches: list[Match]) -> None:
        if not matches:
            return
        self._record(matches)
        for delivery in self.deliveries:
            delivery.deliver(matches)

    def _record(self, matches: list[Match]) -> None:
        oid = OBJECT_ID_COLUMN[self.store.survey or "ztf"]
        now = dt.datetime.now(dt.UTC).isoformat()
        rows = [
            (m.filter.filter_id, m.alert_id, m.object_id, now, json.dumps(m.values, default=str))
            for m in matches
        ]
        self.store.add_rows(
            "filter_matches",
            ["filter_id", "alert_id", oid, "matched_at", "payload"],
            rows,
            ("filter_id", "alert_id"),
        )

    def run(
        self,
        batches: Iterable[Sequence[RawPacket]],
        on_batch: Callable[[BatchReport], None] | None = None,
    ) -> RunSummary:
        """Process every batch; ``on_batch`` sees each report (progress bars, commits)."""
        summary = RunSummary()
        for packets in batches:
            report = self.process(packets)
            summary.add(report)
            if on_batch is not None:
                on_batch(report)
        return summary


def _lap(report: BatchReport, stage: str, since: float) -> float:
    now = time.perf_counter()
    report.seconds[stage] += now - since
    return now


def chunked(packets: Iterable[RawPacket], size: int) -> Iterator[list[RawPacket]]:
    """Group packets into batches of ``size``."""
    it = iter(packets)
    while chunk := list(islice(it, size)):
        yield chunk
