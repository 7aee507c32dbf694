"""Counters of every stage, for Prometheus and for the run summary.

Input: each batch's :class:`~lanner.pipeline.BatchReport`, the consumer's lag and the
store's delivery state. Output: metrics in a :class:`prometheus_client.CollectorRegistry`
of their own (several pipelines in one process do not mix), served over HTTP at
``/metrics`` by :meth:`Metrics.serve`. Side effects: the HTTP server thread.

=================================  ==========================================================
metric                             meaning
=================================  ==========================================================
``lanner_batches_total``           batches processed
``lanner_alerts_total``            alerts ingested
``lanner_dead_letters_total``      packets set aside, by ``reason`` (kind of reason)
``lanner_dead_letter_repeats_total``  re-delivered packets not dead-lettered again
``lanner_matches_total``           filter matches, by ``filter``
``lanner_filter_errors_total``     failed filter runs, by ``filter``
``lanner_filter_timeouts_total``   filter runs that ran out of time, by ``filter``
``lanner_truncations_total``       filter results cut at the row cap, by ``filter``
``lanner_classified_total``        annotations written by each built-in ``classifier``
``lanner_classifier_failures_total``  batches a ``classifier`` failed on (logged, not fatal)
``lanner_batch_seconds``           histogram of the time (s) to process one batch
``lanner_stage_seconds_total``     time (s) spent in each ``stage``
``lanner_deliveries``              matches by delivery ``state`` (sent, pending, failed, none)
``lanner_kafka_lag``               messages not yet read, by ``topic`` and ``partition``
``lanner_database_outages_total``  times the database became unreachable
``lanner_failed_commits_total``    Kafka offset commits refused (batch re-delivered)
``lanner_checkpoint_failures_total``  background SQLite WAL checkpoints that failed
``lanner_annotations_written_total``  annotations written in this process, by ``topic``
``lanner_annotations_rejected_total``  annotations refused or dead-lettered, by ``topic``
``lanner_annotation_reruns_failed_total``  filter re-runs after a write that failed, by ``topic``
``lanner_gcn_notices_total``       GCN notices stored, by ``decision`` (stored, retraction, …)
``lanner_gcn_rejected_total``      GCN messages that were not usable notices
``lanner_gcn_errors_total``        GCN listener failures (broker or database; it is rebuilt)
=================================  ==========================================================

The web server counts its own failed reads of these (:data:`STATUS_READ_FAILURES`, in
:data:`WEB_REGISTRY`), exported at ``lanner serve``'s ``/metrics`` with every worker's summed:

========================================  ===================================================
``lanner_status_metrics_read_failures_total``  reads of the pipeline's ``/metrics`` by the
                                          status page that failed (unreachable, bad answer)
========================================  ===================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from threading import Thread
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

if TYPE_CHECKING:
    from lanner.pipeline import BatchReport

#: Upper bounds (s) of the batch-latency histogram.
BATCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The metrics of one pipeline process."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.batches = Counter("lanner_batches", "Batches processed.", registry=r)
        self.alerts = Counter("lanner_alerts", "Alerts ingested.", registry=r)
        self.dead_letters = Counter(
            "lanner_dead_letters", "Packets set aside, by kind of reason.", ["reason"], registry=r
        )
        self.dead_letter_repeats = Counter(
            "lanner_dead_letter_repeats",
            "Re-delivered packets not dead-lettered again.",
            registry=r,
        )
        self.matches = Counter("lanner_matches", "Filter matches.", ["filter"], registry=r)
        self.filter_errors = Counter(
            "lanner_filter_errors", "Failed filter runs.", ["filter"], registry=r
        )
        self.filter_timeouts = Counter(
            "lanner_filter_timeouts", "Filter runs that ran out of time.", ["filter"], registry=r
        )
        self.truncations = Counter(
            "lanner_truncations", "Filter results cut at the row cap.", ["filter"], registry=r
        )
        self.batch_seconds = Histogram(
            "lanner_batch_seconds",
            "Time (s) to process one batch.",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.stage_seconds = Counter(
            "lanner_stage_seconds", "Time (s) spent in each stage.", ["stage"], registry=r
        )
        self.deliveries = Gauge(
            "lanner_deliveries", "Matches by delivery state.", ["state"], registry=r
        )
        self.kafka_lag = Gauge(
            "lanner_kafka_lag", "Messages not yet read.", ["topic", "partition"], registry=r
        )
        self.classified = Counter(
            "lanner_classified",
            "Annotations written by each built-in classifier.",
            ["classifier"],
            registry=r,
        )
        self.classifier_failures = Counter(
            "lanner_classifier_failures",
            "Batches a built-in classifier failed on.",
            ["classifier"],
            registry=r,
        )
        self.database_outages = Counter(
            "lanner_database_outages", "Times the database became unreachable.", registry=r
        )
        self.failed_commits = Counter(
            "lanner_failed_commits", "Kafka offset commits refused.", registry=r
        )
        self.checkpoint_failures = Counter(
            "lanner_checkpoint_failures",
            "Background SQLite WAL checkpoints that failed.",
            registry=r,
        )
        from lanner.annotations.counts import AnnotationCollector

        r.register(AnnotationCollector())
        self.gcn_notices = Counter(
            "lanner_gcn_notices", "GCN notices stored.", ["decision"], registry=r
        )
        self.gcn_rejected = Counter(
            "lanner_gcn_rejected", "GCN messages that were not notices.", registry=r
        )
        self.gcn_errors = Counter("lanner_gcn_errors", "GCN listener failures.", registry=r)

    def observe(self, report: BatchReport) -> None:
        """Add one batch's report."""
        self.batches.inc()
        self.alerts.inc(report.alerts)
        for kind, n in report.dead_letter_reasons.items():
            self.dead_letters.labels(kind).inc(n)
        for name, n in report.matches.items():
            self.matches.labels(name).inc(n)
        for name in report.filter_errors:
            self.filter_errors.labels(name).inc()
        for name in report.filter_timeouts:
            self.filter_timeouts.labels(name).inc()
        for name, n in report.truncated.items():
            self.truncations.labels(name).inc(n)
        for name, n in report.classified.items():
            self.classified.labels(name).inc(n)
        for name in report.classifier_failures:
            self.classifier_failures.labels(name).inc()
        self.checkpoint_failures.inc(report.checkpoint_failures)
        for stage, s in report.seconds.items():
            self.stage_seconds.labels(stage).inc(s)
        self.batch_seconds.observe(sum(report.seconds.values()))

    def set_deliveries(self, counts: Mapping[str, int]) -> None:
        """Matches by delivery state, as the store holds them."""
        for state, n in counts.items():
            self.deliveries.labels(state).set(n)

    def set_lag(self, lag: Mapping[tuple[str, int], int]) -> None:
        """Messages not yet read per (topic, partition)."""
        for (topic, partition), n in lag.items():
            self.kafka_lag.labels(topic, str(partition)).set(n)

    def value(self, name: str, **labels: str) -> float:
        """Current value of a sample (``lanner_alerts_total``, …), 0 when absent."""
        got = self.registry.get_sample_value(name, labels or None)
        return 0.0 if got is None else float(got)

    def serve(self, port: int, address: str = "0.0.0.0") -> MetricsServer:
        """Serve ``/metrics`` on ``port`` (0: any free port) in a daemon thread."""
        server, thread = start_http_server(port, address, registry=self.registry)
        return MetricsServer(server, thread)


class MetricsServer:
    """The running ``/metrics`` endpoint of :meth:`Metrics.serve`."""

    def __init__(self, server: Any, thread: Thread) -> None:
        self._server = server
        self._thread = thread

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        return int(self._server.server_port)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


#: Metrics of the web server's status page (``lanner serve`` runs its workers with
#: ``PROMETHEUS_MULTIPROC_DIR``, so its ``/metrics`` sums them over every worker).
WEB_REGISTRY = CollectorRegistry()
STATUS_READ_FAILURES = Counter(
    "lanner_status_metrics_read_failures",
    "Reads of the pipeline's metrics endpoint by the status page that failed.",
    registry=WEB_REGISTRY,
)
