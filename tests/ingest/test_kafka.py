"""Batch consumer against a real tansu broker: batching, commits, stops, errors."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

import pytest

from lanner.ingest.deadletter_kafka import KafkaDeadLetterSink
from lanner.ingest.kafka import (
    CommitError,
    ConsumerSettings,
    KafkaBatchConsumer,
    KafkaConsumeError,
)
from lanner.ingest.packets import RawPacket
from tests.kafka_fixtures import FAST_GROUP, produce_values, read_topic

pytestmark = pytest.mark.kafka


def settings(bootstrap: str, topic: str, **kwargs: object) -> ConsumerSettings:
    base: dict[str, object] = {"group": f"g-{topic}", "idle_timeout_s": 2.0, "extra": FAST_GROUP}
    base.update(kwargs)
    return ConsumerSettings(bootstrap, topic, **base)  # type: ignore[arg-type]


def test_batches_sized_by_count_keep_bytes_and_origins(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic()
    values = [f"alert-{i:03d}".encode() for i in range(25)]
    produce_values(kafka_bootstrap, topic, values, partition=0)
    cfg = settings(kafka_bootstrap, topic, batch_size=10, batch_wait_s=5.0, max_messages=25)
    sizes: list[int] = []
    packets: list[RawPacket] = []
    with KafkaBatchConsumer(cfg) as consumer:
        for batch in consumer:
            sizes.append(len(batch))
            packets.extend(batch.packets)
            batch.commit()
    assert sizes == [10, 10, 5]
    assert [p.data for p in packets] == values
    assert [p.origin for p in packets] == [f"{topic}/0/{i}" for i in range(25)]
    assert consumer.stop_reason == "max-messages"
    assert consumer.stats.committed_batches == 3


def test_batches_closed_by_time(kafka_bootstrap: str, make_topic: Callable[..., str]) -> None:
    topic = make_topic()
    values = [f"slow-{i:02d}".encode() for i in range(15)]

    def trickle() -> None:  # one alert every 0.2 s for 3 s
        for value in values:
            produce_values(kafka_bootstrap, topic, [value], partition=0)
            time.sleep(0.2)

    produce_values(kafka_bootstrap, topic, [b"warm-up"], partition=0)
    cfg = settings(kafka_bootstrap, topic, batch_size=1000, batch_wait_s=0.5, idle_timeout_s=2.0)
    sizes: list[int] = []
    received: list[bytes] = []
    with KafkaBatchConsumer(cfg) as consumer:
        batches = consumer.batches()
        next(batches).commit()  # the group is joined: start the stream now
        sender = threading.Thread(target=trickle)
        sender.start()
        for batch in batches:
            sizes.append(len(batch))
            received.extend(p.data for p in batch.packets)
            batch.commit()
        sender.join()
    assert received == values
    # 3 s of stream cut every 0.5 s: several batches, none near the count limit of 1000
    # (how many alerts each holds depends on the machine's load, so only that is asserted).
    assert len(sizes) >= 2
    assert max(sizes) < len(values)


def test_uncommitted_batch_is_redelivered_committed_is_not(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(partitions=2)
    values = [f"m{i:02d}".encode() for i in range(20)]
    produce_values(kafka_bootstrap, topic, values)
    group = f"crash-{topic}"

    first = KafkaBatchConsumer(settings(kafka_bootstrap, topic, group=group, batch_size=6))
    batches = first.batches()
    committed = next(batches)
    committed.commit()
    lost = next(batches)  # stored-and-sent never happened: no commit
    first.close()  # the process goes away without committing
    committed_data = {p.data for p in committed.packets}
    lost_data = {p.data for p in lost.packets}
    assert len(committed_data) == 6 and len(lost_data) == 6

    second = KafkaBatchConsumer(settings(kafka_bootstrap, topic, group=group, batch_size=100))
    seen: list[bytes] = []
    with second:
        for batch in second:
            seen.extend(p.data for p in batch.packets)
            batch.commit()
    assert sorted(seen) == sorted(set(values) - committed_data)
    assert lost_data <= set(seen)

    third = KafkaBatchConsumer(settings(kafka_bootstrap, topic, group=group, idle_timeout_s=1.5))
    with third:
        assert list(third) == []
    assert third.stop_reason == "idle-timeout"


def test_next_batch_before_commit_is_refused(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic()
    produce_values(kafka_bootstrap, topic, [b"a", b"b", b"c"], partition=0)
    with KafkaBatchConsumer(settings(kafka_bootstrap, topic, batch_size=1)) as consumer:
        batches = consumer.batches()
        next(batches)
        with pytest.raises(CommitError, match="not committed"):
            next(batches)


def test_empty_topic_stops_on_idle_timeout_and_counts_eof(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic()
    consumer = KafkaBatchConsumer(settings(kafka_bootstrap, topic, idle_timeout_s=1.0))
    start = time.monotonic()
    with consumer:
        assert list(consumer) == []
    assert consumer.stop_reason == "idle-timeout"
    assert time.monotonic() - start < 15
    assert consumer.stats.partition_eofs >= 1


def test_stop_request_ends_iteration(kafka_bootstrap: str, make_topic: Callable[..., str]) -> None:
    topic = make_topic()
    consumer = KafkaBatchConsumer(settings(kafka_bootstrap, topic, idle_timeout_s=None))
    timer = threading.Timer(1.0, consumer.stop)
    timer.start()
    with consumer:
        assert list(consumer) == []
    timer.join()
    assert consumer.stop_reason == "stop"


def test_sigterm_ends_iteration_cleanly(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic()
    consumer = KafkaBatchConsumer(settings(kafka_bootstrap, topic, idle_timeout_s=None))
    restore = consumer.install_signal_handlers()
    timer = threading.Timer(1.0, signal.raise_signal, args=(signal.SIGTERM,))
    try:
        timer.start()
        with consumer:
            assert list(consumer) == []
    finally:
        timer.join()
        restore()
    assert consumer.stop_reason == "stop"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_commit_settings_cannot_be_overridden() -> None:
    with pytest.raises(ValueError, match="cannot be overridden"):
        ConsumerSettings("x:1", "t", extra={"enable.auto.commit": True})


def test_bad_configuration_is_a_clear_fatal_error(kafka_bootstrap: str) -> None:
    cfg = ConsumerSettings(kafka_bootstrap, "any", extra={"security.protocol": "carrier-pigeon"})
    with pytest.raises(KafkaConsumeError, match="cannot create Kafka consumer"):
        KafkaBatchConsumer(cfg).open()


def test_dead_letter_topic_keeps_bytes_reason_and_origin(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic("deadletter")
    broken = [b"\x00\x00\x00\x03\x84garbage", b"not avro at all"]
    with KafkaDeadLetterSink(kafka_bootstrap, topic) as sink:
        sink.put(broken[0], "alerts/0/17", "unknown schema id 900 payload truncated")
        sink.put(broken[1], "alerts/1/3", "not an Avro container")
    messages = read_topic(kafka_bootstrap, topic, 2)
    assert [m.value() for m in messages] == broken  # type: ignore[attr-defined]
    headers = [dict(m.headers()) for m in messages]  # type: ignore[attr-defined]
    assert headers[0] == {
        "reason": b"unknown schema id 900 payload truncated",
        "origin": b"alerts/0/17",
    }
    assert headers[1]["origin"] == b"alerts/1/3"
