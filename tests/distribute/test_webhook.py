"""Webhook delivery against a real local HTTP server: retries, give-up, bodies."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lanner.distribute.base import FilterTarget, OutputOptions
from lanner.distribute.webhook import WebhookDelivery, WebhookSettings
from lanner.testing.tansu import free_port

RUBIN_ID = 169298433221853273


class Recorder:
    """Answers with the scripted statuses in turn (then 200) and keeps request bodies."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.bodies: list[bytes] = []
        self.content_types: list[str] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            recorder.bodies.append(self.rfile.read(length))
            recorder.content_types.append(self.headers["Content-Type"])
            status = recorder.script.pop(0) if recorder.script else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", recorder
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def hook_target(url: str, body: str = "json") -> FilterTarget:
    outputs = OutputOptions(kafka=False, webhook_url=url, webhook_body=body)  # type: ignore[arg-type]
    return FilterTarget(9, "bright", "lanner_9_bright_x", outputs, object_id_column="diaObjectId")


MATCHES = [{"diaObjectId": RUBIN_ID, "gmag": 18.25}, {"diaObjectId": 42, "gmag": None}]


def test_retries_server_errors_then_succeeds(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    recorder.script = [500, 503]
    sleeps: list[float] = []
    delivery = WebhookDelivery(WebhookSettings(max_attempts=4, backoff_s=0.5), sleep=sleeps.append)
    report = delivery.deliver(hook_target(url), MATCHES)
    assert report.ok and report.sent == 2 and report.attempts == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff
    assert len(recorder.bodies) == 3
    assert recorder.content_types[-1] == "application/json"
    body = json.loads(recorder.bodies[-1])
    assert body["filter"] == "bright" and body["owner_id"] == 9
    assert [m["diaObjectId"] for m in body["matches"]] == [RUBIN_ID, 42]
    assert b'"diaObjectId":169298433221853273' in recorder.bodies[-1]


def test_gives_up_after_max_attempts(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    recorder.script = [502] * 10
    sleeps: list[float] = []
    delivery = WebhookDelivery(WebhookSettings(max_attempts=3, backoff_s=0.1), sleep=sleeps.append)
    report = delivery.deliver(hook_target(url), MATCHES)
    assert report.failed == 2 and report.sent == 0 and report.attempts == 3
    assert len(recorder.bodies) == 3 and sleeps == [0.1, 0.2]
    assert "gave up" in report.errors[-1] and "HTTP 502" in report.errors[0]


def test_client_error_is_not_retried(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    recorder.script = [404]
    report = WebhookDelivery(sleep=lambda s: None).deliver(hook_target(url), MATCHES)
    assert report.attempts == 1 and report.failed == 2
    assert "HTTP 404" in report.errors[0]


def test_connection_refused_is_retried_then_reported() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    sleeps: list[float] = []
    delivery = WebhookDelivery(WebhookSettings(max_attempts=2, backoff_s=0.01), sleep=sleeps.append)
    report = delivery.deliver(hook_target(url), MATCHES)
    assert report.attempts == 2 and report.failed == 2 and sleeps == [0.01]
    assert "connection failed" in report.errors[0]


def test_slack_body(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    report = WebhookDelivery().deliver(hook_target(url, body="slack"), MATCHES)
    assert report.ok
    body = json.loads(recorder.bodies[0])
    assert set(body) == {"text"}
    assert "*bright*: 2 match(es)" in body["text"]
    assert f"diaObjectId={RUBIN_ID} gmag=18.25" in body["text"]
