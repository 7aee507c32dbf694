"""Matches reach people from the CLI: e-mail (immediate and daily digest) through a real
SMTP server, webhooks through a real HTTP server, and a Kafka topic made on activation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from lanner.distribute.email import EmailSettings
from lanner.distribute.topic_names import topic_name
from tests.distribute.test_email import Inbox, parts, smtp  # noqa: F401 - fixture
from tests.distribute.test_webhook import Recorder, server  # noqa: F401 - fixture

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "lsst"
BRIGHT = "SELECT diaObjectId, latest_psfFlux FROM objects WHERE latest_psfFlux > 10000"


def test_email_immediate_and_daily_digest(
    cli,
    smtp: tuple[EmailSettings, Inbox],  # type: ignore[no-untyped-def] # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, inbox = smtp
    monkeypatch.setenv("LANNER_SMTP_HOST", settings.host)
    monkeypatch.setenv("LANNER_SMTP_PORT", str(settings.port))
    cli(
        "filter",
        "add",
        "now",
        BRIGHT,
        "--active",
        "--output",
        "email",
        "--option",
        "email=astro@example.org",
    )
    cli(
        "filter",
        "add",
        "daily",
        BRIGHT,
        "--active",
        "--output",
        "email",
        "--option",
        "email=night@example.org",
        "--option",
        "email_mode=daily",
    )
    out = cli("ingest", str(SAMPLE))
    n = int(out.split("now: ")[1].split()[0])
    assert n > 0
    assert [m[1] for m in inbox.messages] == [["astro@example.org"]]
    assert f"{n} match(es)" in inbox.messages[0][2]["Subject"]
    out = cli("digest", "send", "--operator")
    assert f"daily: {n} matches sent" in out
    assert [m[1] for m in inbox.messages][1:] == [["night@example.org"]]
    assert "diaObjectId" in parts(inbox.messages[1][2])["plain"]


def add_webhook_filter(cli, url: str, *options: str) -> None:  # type: ignore[no-untyped-def]
    """An active filter "hook" posting its matches to ``url``."""
    cli(
        "filter",
        "add",
        "hook",
        BRIGHT,
        "--active",
        "--output",
        "webhook",
        "--option",
        f"webhook_url={url}",
        *options,
    )


def test_webhook_receives_slack_body(cli, server: tuple[str, Recorder]) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    url, recorder = server
    add_webhook_filter(cli, url, "--option", "webhook_body=slack")
    cli("ingest", str(SAMPLE))
    assert len(recorder.bodies) == 1
    body = json.loads(recorder.bodies[0])
    assert set(body) == {"text"} and "hook" in body["text"]


@pytest.mark.kafka
def test_activation_makes_the_kafka_topic(
    cli,
    kafka_bootstrap: str,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANNER_KAFKA", kafka_bootstrap)
    cli("filter", "add", "stream", BRIGHT, "--output", "kafka")
    topic = topic_name(1, "stream")
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    assert topic not in admin.list_topics(timeout=10).topics
    cli("filter", "activate", "stream")
    assert topic in admin.list_topics(timeout=10).topics
    assert topic in cli("filter", "show", "stream")


def test_a_replayed_alert_is_not_sent_twice(cli, server: tuple[str, Recorder]) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    url, recorder = server
    add_webhook_filter(cli, url)
    cli("ingest", str(SAMPLE))
    first = json.loads(recorder.bodies[0])
    cli("ingest", str(SAMPLE))  # the same alerts again: matched, recorded, not re-sent
    assert len(recorder.bodies) == 1 and first["matches"]
