"""Counts of annotations written and rejected in this process, by topic.

Input: calls from :func:`lanner.annotations.write_annotations` and the Kafka consumer.
Output: totals read by the Prometheus metrics (``lanner_annotations_written_total``,
``lanner_annotations_rejected_total``, ``lanner_annotation_reruns_failed_total``, see
:mod:`lanner.observe.metrics`) and by ``lanner bench``. Side effects: none beyond the
counters (thread-safe).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric


class AnnotationCounts:
    """Per-topic totals since the process started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.written_by_topic: Counter[str] = Counter()
        self.rejected_by_topic: Counter[str] = Counter()
        self.rerun_failures_by_topic: Counter[str] = Counter()

    def written(self, topic: str, n: int) -> None:
        with self._lock:
            self.written_by_topic[topic] += n

    def rejected(self, topic: str, n: int) -> None:
        with self._lock:
            self.rejected_by_topic[topic] += n

    def rerun_failed(self, topic: str) -> None:
        with self._lock:
            self.rerun_failures_by_topic[topic] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        """``{"written": {topic: n}, "rejected": {...}, "rerun_failed": {...}}``."""
        with self._lock:
            return {
                "written": dict(self.written_by_topic),
                "rejected": dict(self.rejected_by_topic),
                "rerun_failed": dict(self.rerun_failures_by_topic),
            }


#: The process's counts.
annotation_counts = AnnotationCounts()


class AnnotationCollector:
    """Prometheus collector of :data:`annotation_counts` (registered by
    :class:`lanner.observe.metrics.Metrics`)."""

    #: (metric name without ``_total``, help, key of :meth:`AnnotationCounts.snapshot`)
    METRICS = (
        ("lanner_annotations_written", "Annotations written, by annotator topic.", "written"),
        (
            "lanner_annotations_rejected",
            "Annotations refused (invalid, not allowed) or messages dead-lettered, by topic.",
            "rejected",
        ),
        (
            "lanner_annotation_reruns_failed",
            "Filter re-runs after an annotation write that failed, by topic.",
            "rerun_failed",
        ),
    )

    def __init__(self, counts: AnnotationCounts | None = None) -> None:
        self.counts = counts or annotation_counts

    def collect(self) -> Iterator[Metric]:
        snapshot = self.counts.snapshot()
        for name, text, key in self.METRICS:
            family = CounterMetricFamily(name, text, labels=["topic"])
            for topic, n in sorted(snapshot[key].items()):
                family.add_metric([topic], n)
            yield family
