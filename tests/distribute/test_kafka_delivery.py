"""Kafka delivery through a real tansu broker: topics, payloads, exact ids, quota."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition

from lanner.distribute.base import FilterTarget, OutputOptions
from lanner.distribute.kafka import KafkaDelivery
from lanner.distribute.topic_names import topic_name
from lanner.testing.tansu import free_port
from tests.kafka_fixtures import read_topic

pytestmark = pytest.mark.kafka

RUBIN_ID = 169298433221853273


def target(outputs: OutputOptions, owner: int = 17) -> FilterTarget:
    name = f"Fast risers {uuid.uuid4().hex[:6]}"
    return FilterTarget(
        owner, name, topic_name(owner, name), outputs, object_id_column="diaObjectId"
    )


def matches(n: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i in range(n):
        rows.append(
            {
                "diaObjectId": RUBIN_ID + i,
                "ra": 150.0 + i,
                "lightcurve": [{"mjd": 60600.5, "psfFlux": 1234.5}],
                "alert": {"diaSourceId": RUBIN_ID * 2 + i, "cutoutDifference": b"\x00" * 10},
            }
        )
    return rows


def test_activation_creates_an_empty_topic(kafka_bootstrap: str) -> None:
    delivery = KafkaDelivery(kafka_bootstrap)
    tgt = target(OutputOptions())
    assert delivery.ensure_topic(tgt) is True
    assert delivery.ensure_topic(tgt) is False  # idempotent
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": "probe"})
    try:
        assert tgt.topic in consumer.list_topics(timeout=10).topics
        low, high = consumer.get_watermark_offsets(TopicPartition(tgt.topic, 0), timeout=10)
        assert (low, high) == (0, 0)
    finally:
        consumer.close()


@pytest.mark.parametrize("payload", ["plain", "lite", "full"])
def test_payload_options_and_exact_ids(kafka_bootstrap: str, payload: str) -> None:
    delivery = KafkaDelivery(kafka_bootstrap)
    tgt = target(OutputOptions(payload=payload))  # type: ignore[arg-type]
    report = delivery.deliver(tgt, matches(3))
    assert report.ok and report.sent == 3 and report.failed == 0
    messages = read_topic(kafka_bootstrap, tgt.topic, 3)
    assert len(messages) == 3
    assert report.bytes_sent == sum(len(m.value()) for m in messages)  # type: ignore[attr-defined]
    bodies = [json.loads(m.value()) for m in messages]  # type: ignore[attr-defined]
    assert [b["diaObjectId"] for b in bodies] == [RUBIN_ID, RUBIN_ID + 1, RUBIN_ID + 2]
    assert [m.key() for m in messages] == [str(RUBIN_ID + i).encode() for i in range(3)]  # type: ignore[attr-defined]
    raw = messages[0].value().decode()  # type: ignore[attr-defined]
    assert '"diaObjectId":169298433221853273' in raw
    for body in bodies:
        dt.datetime.strptime(body["UTC"], "%Y-%m-%dT%H:%M:%SZ")
        assert ("lightcurve" in body) is (payload in ("lite", "full"))
        assert ("alert" in body) is (payload == "full")
    if payload == "full":
        assert bodies[0]["alert"] == {"diaSourceId": RUBIN_ID * 2}


def test_daily_quota_withholds_and_counts(kafka_bootstrap: str) -> None:
    today = dt.date(2026, 11, 22)
    clock = {"day": today}
    probe = KafkaDelivery(kafka_bootstrap)
    size = probe.deliver(target(OutputOptions()), matches(1)).bytes_sent
    assert size > 0

    delivery = KafkaDelivery(kafka_bootstrap, today=lambda: clock["day"])
    tgt = target(OutputOptions(daily_quota_bytes=2 * size + size // 2))
    first = delivery.deliver(tgt, matches(5))
    assert (first.sent, first.over_quota, first.failed) == (2, 3, 0)
    second = delivery.deliver(tgt, matches(1))
    assert (second.sent, second.over_quota) == (0, 1)
    clock["day"] = today + dt.timedelta(days=1)  # a new UTC day: a fresh quota
    third = delivery.deliver(tgt, matches(5))
    assert (third.sent, third.over_quota) == (2, 3)
    assert len(read_topic(kafka_bootstrap, tgt.topic, 10, timeout_s=1.5)) == 4


def test_unreachable_broker_is_reported_not_raised() -> None:
    delivery = KafkaDelivery(
        f"127.0.0.1:{free_port()}",
        extra={"message.timeout.ms": 1000, "socket.timeout.ms": 1000},
        flush_timeout_s=2,
        request_timeout_s=2,
    )
    report = delivery.deliver(target(OutputOptions()), matches(2))
    assert report.failed == 2 and report.sent == 0
    assert not report.ok and report.errors
