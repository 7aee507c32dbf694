"""The outbox on both backends: matches recorded pending with their batch, sent by the
delivery worker through real servers exactly once, retried, given up with one notice a day;
a slow endpoint does not hold a batch; a superseded re-delivered alert matches nothing."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lanner.distribute.base import DeliveryReport, FilterTarget
from lanner.distribute.channels import build_channels
from lanner.distribute.outbox import BackgroundDelivery, DeliveryWorker, RetryPolicy
from lanner.distribute.webhook import WebhookDelivery
from lanner.filter.saved import add_filter, notices
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.pipeline import Pipeline
from lanner.settings import Settings
from lanner.store import Store, open_store
from lanner.testing.tansu import free_port
from tests.helpers import SERIES, packets_of

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "ztf"
EVERYTHING = "SELECT objectId, ncand FROM objects"


class Hook:
    """A webhook server on a given loopback port; ``hold`` keeps each request waiting."""

    def __init__(self, port: int = 0, hold: bool = False) -> None:
        self.bodies: list[dict[str, object]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.entered.set()
                hook.release.wait(120)
                hook.bodies.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def match_ids(self) -> list[str]:
        return [m["match_id"] for b in self.bodies for m in b["matches"]]  # type: ignore[attr-defined]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url, "ztf")
    yield s
    s.close()


def states(store: Store, filter_id: int) -> list[tuple[str, int, str | None]]:
    rows = store.match_states(filter_id, "objectId", 1000)
    return sorted((r[3], int(r[4]), r[5]) for r in rows)


def test_webhook_down_then_up_gets_every_match_once(store: Store, tmp_path: Path) -> None:
    port = free_port()
    flt = add_filter(
        store,
        "hook",
        EVERYTHING,
        active=True,
        output="webhook",
        output_options=json.dumps({"webhook_url": f"http://127.0.0.1:{port}/hook"}),
    )
    packets = packets_of([SAMPLE])
    pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dead"))
    n = pipeline.process(packets).matches["hook"]
    assert n > 0 and store.match_count(flt.filter_id) == {"pending": n}

    worker = DeliveryWorker(store, {"webhook": WebhookDelivery()})
    down = worker.run_once()
    assert (down.claimed, down.sent, down.retrying) == (n, 0, n)
    (state,) = set(states(store, flt.filter_id))
    assert state[:2] == ("pending", 1) and "connection failed" in str(state[2])

    hook = Hook(port)
    try:
        assert worker.run_once().claimed == 0  # the retry is not due yet
        up = worker.run_once(due_only=False)
        assert (up.sent, up.retrying) == (n, 0)
        pipeline.process(packets)  # the same alerts re-delivered: matched, not sent again
        assert worker.run_once(due_only=False).claimed == 0
        ids = hook.match_ids()
        assert len(ids) == n == len(set(ids))
        assert all(i.startswith(f"{flt.filter_id}:") for i in ids)
        assert {s[0] for s in states(store, flt.filter_id)} == {"sent"}
    finally:
        hook.close()


def test_kafka_unconfigured_then_unreachable_then_reachable(
    store: Store, tmp_path: Path, kafka_bootstrap: str
) -> None:
    from lanner.distribute.kafka import KafkaDelivery
    from tests.kafka_fixtures import read_topic

    name = f"stream-{uuid.uuid4().hex[:8]}"  # its own topic on the session's broker
    flt = add_filter(store, name, EVERYTHING, active=True, output="kafka")
    n = Pipeline(store, FolderDeadLetters(tmp_path / "d")).process(packets_of([SAMPLE]))
    count = n.matches[name]
    # LANNER_KAFKA unset: no channel; the matches wait, saying why.
    unset = DeliveryWorker(store, build_channels(Settings(kafka=None))).run_once()
    assert unset.retrying == count and "LANNER_KAFKA" in unset.errors[name]
    dead = KafkaDelivery(
        f"127.0.0.1:{free_port()}",
        extra={"socket.timeout.ms": 1000},
        flush_timeout_s=1.5,
        request_timeout_s=1.5,
    )
    assert DeliveryWorker(store, {"kafka": dead}).run_once(due_only=False).retrying == count
    assert {s[:2] for s in states(store, flt.filter_id)} == {("pending", 2)}
    live = DeliveryWorker(store, {"kafka": KafkaDelivery(kafka_bootstrap)})
    assert live.run_once(due_only=False).sent == count
    assert live.run_once(due_only=False).claimed == 0
    from lanner.distribute.router import filter_target

    topic = filter_target(flt, "objectId").topic
    messages = read_topic(kafka_bootstrap, topic, count + 1, timeout_s=3)
    keys = [m.key().decode() for m in messages]  # type: ignore[attr-defined]
    assert len(keys) == count == len(set(keys))
    assert all(json.loads(m.value())["match_id"] == m.key().decode() for m in messages)  # type: ignore[attr-defined]


def test_given_up_after_max_age_with_one_notice_a_day(store: Store, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    flt = add_filter(
        store,
        "dead",
        EVERYTHING,
        active=True,
        output="webhook",
        output_options=json.dumps({"webhook_url": url}),
    )
    pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "d"))
    files = sorted(SAMPLE.glob("*.avro"))
    n = pipeline.process(packets_of(files[:5])).matches["dead"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)
    worker = DeliveryWorker(
        store, {"webhook": WebhookDelivery()}, RetryPolicy(max_age_s=24 * 3600), lambda: later
    )
    assert worker.run_once().failed == n
    n2 = pipeline.process(packets_of(files[5:10])).matches["dead"]
    assert worker.run_once().failed == n2
    assert {s[0] for s in states(store, flt.filter_id)} == {"failed"}
    assert all("not delivered within 24 h" in str(s[2]) for s in states(store, flt.filter_id))
    told = [t for t in notices(store, flt.filter_id) if t[1] == "delivery"]
    assert len(told) == 1 and "lanner filter matches dead" in told[0][2]


def test_a_slow_endpoint_does_not_hold_the_batch(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url, "ztf")
    hook = Hook(hold=True)
    try:
        flt = add_filter(
            store,
            "slow",
            EVERYTHING,
            active=True,
            output="webhook",
            output_options=json.dumps({"webhook_url": hook.url}),
        )
        # A request timeout longer than this test can take, however loaded the machine.
        settings = Settings(db_url=db_url, webhook_timeout=120)
        delivery = BackgroundDelivery(
            lambda: DeliveryWorker(open_store(db_url), build_channels(settings)), poll_s=0.2
        ).start()
        try:
            pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "d"), delivery=delivery)
            files = sorted(SAMPLE.glob("*.avro"))
            first = pipeline.process(packets_of(files[:20])).matches["slow"]
            assert hook.entered.wait(60)  # the worker is inside a request the server holds
            second = pipeline.process(packets_of(files[20:])).matches["slow"]
            # The batch was stored and its matches recorded while the endpoint still held on.
            assert not hook.release.is_set()
            assert store.match_count(flt.filter_id)["pending"] == first + second
        finally:
            hook.release.set()
            totals = delivery.stop()
        assert totals.sent == first + second
        assert sorted(hook.match_ids()) == sorted(set(hook.match_ids()))
        assert store.match_count(flt.filter_id) == {"sent": first + second}
    finally:
        hook.close()
        store.close()


def test_superseded_redelivered_alert_matches_nothing(
    store: Store, alerts_dir: Path, tmp_path: Path
) -> None:
    files = sorted((alerts_dir / SERIES).glob("*.avro"))
    flt = add_filter(store, "any", EVERYTHING, active=True)
    pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dead"))
    newest = pipeline.process(packets_of(files[-1:]))
    assert newest.matches["any"] == 1
    older = pipeline.process(packets_of(files[-3:-2]))  # an older alert arrives late
    assert older.matches["any"] == 0 and older.superseded == 1
    again = pipeline.process(packets_of(files[-1:]))  # the newest, re-delivered
    assert again.matches["any"] == 1 and again.superseded == 0
    assert store.match_count(flt.filter_id) == {"none": 1}


def test_a_worker_started_on_an_empty_database_delivers(db_url: str, tmp_path: Path) -> None:
    worker = DeliveryWorker(open_store(db_url), {"webhook": WebhookDelivery()})
    hook = Hook()
    try:
        assert worker.run_once().claimed == 0  # no survey, no tables yet: nothing to send
        store = open_store(db_url)
        pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "d"))
        files = sorted(SAMPLE.glob("*.avro"))
        pipeline.process(packets_of(files[:1]))  # the first batch binds the survey
        add_filter(
            store,
            "late",
            EVERYTHING,
            active=True,
            output="webhook",
            output_options=json.dumps({"webhook_url": hook.url}),
        )
        n = pipeline.process(packets_of(files[1:])).matches["late"]
        store.close()
        assert worker.run_once().sent == n > 0
        assert len(hook.match_ids()) == n
    finally:
        worker.store.close()
        hook.close()


def test_delivery_resumes_after_the_database_was_unreachable(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    hook = Hook()
    try:
        flt = add_filter(
            store,
            "resume",
            EVERYTHING,
            active=True,
            output="webhook",
            output_options=json.dumps({"webhook_url": hook.url}),
        )
        n = Pipeline(store, FolderDeadLetters(tmp_path / "d")).process(packets_of([SAMPLE]))
        urls = [f"postgresql://postgres@127.0.0.1:{free_port()}/down", db_url]

        def make() -> DeliveryWorker:  # the first connection fails: nothing listens there
            return DeliveryWorker(
                open_store(urls.pop(0) if len(urls) > 1 else urls[0]),
                {"webhook": WebhookDelivery()},
            )

        delivery = BackgroundDelivery(make, poll_s=0.1).start()
        for _ in range(600):  # at most a minute, so that a regression fails, not hangs
            if store.match_count(flt.filter_id).get("sent", 0) == n.matches["resume"]:
                break
            threading.Event().wait(0.1)
        totals = delivery.stop()
        assert delivery.errors == 1 and totals.sent == n.matches["resume"]
        assert len(hook.match_ids()) == totals.sent
    finally:
        hook.close()


class Raising:
    """A channel that raises ``error`` (a channel must report, never raise: this is the
    broker's guard against one that does, beside the real channels' tests above)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def deliver(self, target: FilterTarget, matches: list[dict[str, Any]]) -> DeliveryReport:
        raise self.error


def test_a_raising_channel_is_a_failed_attempt_but_a_database_outage_pauses_the_pass(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from lanner.store.backends import DatabaseUnavailableError

    flt = add_filter(
        store,
        "raising",
        EVERYTHING,
        active=True,
        output="webhook",
        output_options=json.dumps({"webhook_url": "http://127.0.0.1:9/hook"}),
    )
    n = Pipeline(store, FolderDeadLetters(tmp_path / "d")).process(packets_of([SAMPLE]))
    n_matches = n.matches["raising"]
    outage = DeliveryWorker(store, {"webhook": Raising(DatabaseUnavailableError("db down"))})
    with pytest.raises(DatabaseUnavailableError, match="db down"):
        outage.run_once()
    # Not counted as an attempt: the matches wait, untouched, for the database (claimed
    # until their lease ends, as for a worker that died).
    assert set(states(store, flt.filter_id)) == {("pending", 0, None)}
    assert "raised" not in caplog.text

    lease_over = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=RetryPolicy().lease_s + 1)
    bug = DeliveryWorker(
        store, {"webhook": Raising(RuntimeError("channel bug"))}, clock=lambda: lease_over
    )
    done = bug.run_once(due_only=False)
    assert (done.claimed, done.sent, done.retrying) == (n_matches, 0, n_matches)
    (state,) = set(states(store, flt.filter_id))
    assert state[:2] == ("pending", 1) and "RuntimeError: channel bug" in str(state[2])
    assert "delivery of filter raising on webhook raised" in caplog.text
