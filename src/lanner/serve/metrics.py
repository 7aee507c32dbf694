"""Prometheus metrics of the web server: requests and their latency per route, and the
requests refused by the hourly limits.

Input: one observation per request (route template, method, status, seconds) and per
refusal (tier). Output: the text exposition at ``/metrics``. Side effects: with
``PROMETHEUS_MULTIPROC_DIR`` set (``lanner serve`` sets it for its workers), values are
written to files there, so a scrape of any worker reports the sum of all of them.

=================================  ==========================================================
metric                             meaning
=================================  ==========================================================
``lanner_api_requests_total``      requests, by ``route``, ``method`` and ``status``
``lanner_api_request_seconds``     histogram of request latency (s), by ``route``
``lanner_api_throttled_total``     requests refused by the hourly limit, by ``tier``
=================================  ==========================================================
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

#: Upper bounds (s) of the latency histogram.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServerMetrics:
    """The metrics of one server process."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter(
            "lanner_api_requests",
            "API and web requests, by route, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "lanner_api_request_seconds",
            "Request latency (s), by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.throttled = Counter(
            "lanner_api_throttled",
            "Requests refused by the hourly limit, by tier.",
            ["tier"],
            registry=r,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def exposition(self) -> bytes:
        """The metrics as Prometheus text: every worker's when they share a folder."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
