"""The status page reads the pipeline's own Prometheus endpoint (lanner.observe.metrics)."""

from __future__ import annotations

from lanner.observe.metrics import Metrics
from lanner.testing.server import free_port
from lanner.web import status


def test_the_pipeline_metrics_are_read_from_its_endpoint() -> None:
    metrics = Metrics()
    metrics.alerts.inc(600)
    metrics.batches.inc(3)
    metrics.stage_seconds.labels("enrich").inc(2.0)
    metrics.stage_seconds.labels("store").inc(0.5)
    metrics.dead_letters.labels("schema").inc(4)
    metrics.filter_errors.labels("mine").inc()
    metrics.set_lag({("ztf", 0): 17})
    server = metrics.serve(0, "127.0.0.1")
    try:
        got = status.pipeline_metrics(f"http://127.0.0.1:{server.port}/metrics")
    finally:
        server.stop()
    assert got is not None and "error" not in got
    assert got["alerts"] == 600 and got["batches"] == 3
    assert got["stage_rates"]["enrich"] == 600 / 2.0 * 60
    assert got["dead_letters"] == {"schema": 4}
    assert got["filters"]["mine"]["filter_errors"] == 1
    assert got["kafka_lag"] == {"ztf/0": 17}


def test_an_unreachable_endpoint_is_reported_and_counted() -> None:
    before = status.read_failures()
    got = status.pipeline_metrics(f"http://127.0.0.1:{free_port()}/metrics")
    assert got is not None and "cannot read the pipeline's metrics" in got["error"]
    assert status.read_failures() == got["failed_reads"] == before + 1
    assert status.pipeline_metrics(None) is None
    assert status.read_failures() == before + 1  # no URL set: nothing read, nothing failed
