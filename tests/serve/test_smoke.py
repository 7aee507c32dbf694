"""The server starts on both archives and answers its health check and /metrics."""

from __future__ import annotations

import requests

from tests.serve.conftest import Instance


def test_health_and_metrics(lsst: Instance) -> None:
    reply = requests.get(f"{lsst.server.url}/api/health", timeout=10)
    assert reply.json() == {"status": "ok", "survey": "lsst"}
    metrics = requests.get(f"{lsst.server.url}/metrics", timeout=10).text
    assert 'lanner_api_requests_total{method="GET",route="/api/health",status="200"}' in metrics
