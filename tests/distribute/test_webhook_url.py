"""Webhook URL safety: checked when a filter is saved and at every POST; redirects are not
followed (a real local server redirects to a second one, which must see nothing)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lanner.distribute.base import FilterTarget, OutputOptions
from lanner.distribute.webhook import WebhookDelivery, WebhookSettings
from lanner.distribute.webhook_url import UnsafeURLError, check_webhook_url
from lanner.filter.errors import FilterError
from lanner.filter.saved import add_filter
from lanner.store import open_store


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a URL"),
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("data:text/plain,hello", "scheme 'data' is not allowed"),
        ("ftp://example.org/x", "scheme 'ftp' is not allowed"),
        ("http://127.0.0.1:8080/hook", "a private or loopback address"),
        ("http://localhost/hook", "a private or loopback address"),
        ("http://10.1.2.3/hook", "a private or loopback address"),
        ("http://[::1]/hook", "a private or loopback address"),
        ("http://169.254.169.254/latest/meta-data", "never calls"),
        ("http://host.invalid/hook", "does not resolve"),
        ("http://example.org:99999/hook", "Port out of range"),
    ],
)
def test_unsafe_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(UnsafeURLError, match=message):
        check_webhook_url(url, allow_private=False)


def test_the_operator_may_allow_private_but_never_link_local() -> None:
    assert check_webhook_url("http://127.0.0.1:8080/a?b=1", True).target == "/a?b=1"
    with pytest.raises(UnsafeURLError, match="never calls"):
        check_webhook_url("http://169.254.169.254/", allow_private=True)
    assert check_webhook_url("https://93.184.215.14/hook", False).port == 443


@pytest.mark.parametrize("url", ["not a url", "file:///etc/passwd", "http://192.168.1.1/h"])
def test_a_filter_with_an_unsafe_url_is_not_saved(
    db_url: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANNER_WEBHOOK_ALLOW_PRIVATE", "0")
    store = open_store(db_url, "lsst")
    try:
        with pytest.raises(FilterError, match="webhook_url") as err:
            add_filter(
                store,
                "hook",
                "SELECT diaObjectId FROM objects",
                output="webhook",
                output_options=json.dumps({"webhook_url": url}),
            )
        assert err.value.hint
        assert store.filter_rows() == []
    finally:
        store.close()


@pytest.fixture
def redirecting() -> Iterator[tuple[str, list[str]]]:
    """A server answering 302 to a second server; returns the first URL and the paths the
    second one was asked for."""
    hits: list[str] = []

    class Inside(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return None

    inside = ThreadingHTTPServer(("127.0.0.1", 0), Inside)
    target = f"http://127.0.0.1:{inside.server_address[1]}/internal"

    class Outside(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return None

    outside = ThreadingHTTPServer(("127.0.0.1", 0), Outside)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (inside, outside)]
    for t in threads:
        t.start()
    try:
        yield f"http://127.0.0.1:{outside.server_address[1]}/hook", hits
    finally:
        for s in (inside, outside):
            s.shutdown()
            s.server_close()


def test_redirects_are_not_followed(redirecting: tuple[str, list[str]]) -> None:
    url, hits = redirecting
    target = FilterTarget(1, "f", "t", OutputOptions(kafka=False, webhook_url=url))
    report = WebhookDelivery().deliver(target, [{"objectId": "ZTF1"}])
    assert report.failed == 1 and report.delivered == []
    assert "redirects are not followed" in report.errors[0]
    assert hits == []


def test_a_url_made_unsafe_after_saving_is_not_called() -> None:
    target = FilterTarget(1, "f", "t", OutputOptions(kafka=False, webhook_url="file:///x"))
    report = WebhookDelivery(WebhookSettings(allow_private=False)).deliver(target, [{"a": 1}])
    assert report.failed == 1 and "scheme 'file' is not allowed" in report.errors[0]
