"""Pytest fixtures for a real Kafka-protocol broker (tansu) started for the session.

Tests that use these fixtures fail, never skip, when the broker cannot start.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from lanner.testing.tansu import TansuBroker, TansuStartError

# Short group timeouts: tansu completes a group join after about half of
# session.timeout.ms, so the librdkafka default (45 s) would make tests slow.
FAST_GROUP = {"session.timeout.ms": 2000, "heartbeat.interval.ms": 400}


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """``"127.0.0.1:PORT"`` of a memory-only tansu broker, stopped at session end."""
    broker = TansuBroker()
    try:
        broker.start()
    except TansuStartError as exc:
        pytest.fail(f"the tansu Kafka broker is required and did not start: {exc}")
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def make_topic(kafka_bootstrap: str) -> Callable[..., str]:
    """Factory creating a fresh, uniquely named topic; returns its name."""
    # One admin client a test, not a session: a client outliving the broker would keep
    # trying to reconnect (and say so) until the interpreter exits.
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})

    def create(prefix: str = "test", partitions: int = 1) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        futures = admin.create_topics([NewTopic(name, num_partitions=partitions)])
        futures[name].result(timeout=10)
        return name

    return create


def read_topic(bootstrap: str, topic: str, count: int, timeout_s: float = 20.0) -> list[object]:
    """Read the first ``count`` messages of every partition of ``topic`` without a group.

    Independent of Lanner's consumer: partitions are assigned directly from the
    beginning, so tests can check what was written. Returns confluent-kafka
    ``Message`` objects in arrival order.
    """
    import time

    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = metadata.topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        messages: list[object] = []
        deadline = time.monotonic() + timeout_s
        while len(messages) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None:
                continue
            if message.error() is not None:
                raise AssertionError(f"read error: {message.error()}")
            messages.append(message)
        return messages
    finally:
        consumer.close()


def produce_values(
    bootstrap: str,
    topic: str,
    values: Sequence[bytes],
    partition: int | None = None,
    keys: Sequence[bytes | None] | None = None,
) -> None:
    """Write ``values`` to ``topic`` and wait until the broker acknowledged them.

    Each value is its own key, unless ``keys`` gives one per value (``None``: no key) or a
    ``partition`` is given (then values carry no key unless ``keys`` gives them).
    """
    from confluent_kafka import Producer

    if keys is not None and len(keys) != len(values):
        raise ValueError(f"{len(keys)} keys for {len(values)} values")
    producer = Producer({"bootstrap.servers": bootstrap})
    for n, value in enumerate(values):
        key = keys[n] if keys is not None else (value if partition is None else None)
        if partition is None:
            producer.produce(topic, value=value, key=key)
        else:
            producer.produce(topic, value=value, key=key, partition=partition)
    assert producer.flush(10) == 0


def committed_offset(bootstrap: str, group: str, topic: str, partition: int = 0) -> int:
    """The offset ``group`` has committed on ``topic``'s ``partition`` (negative: none)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        [tp] = consumer.committed([TopicPartition(topic, partition)], timeout=10)
        return int(tp.offset)
    finally:
        consumer.close()
