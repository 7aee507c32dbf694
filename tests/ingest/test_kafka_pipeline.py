"""Kafka in and out: real ZTF alerts replayed into tansu, consumed in batches through
the pipeline into SQLite, matches published to the filter's topic, bad packets to the
dead-letter topic, offsets committed after each stored batch."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import fastavro
import pytest

from lanner.distribute.kafka import KafkaDelivery
from lanner.distribute.outbox import DeliveryWorker
from lanner.distribute.topic_names import topic_name
from lanner.filter.saved import add_filter
from lanner.ingest.deadletter_kafka import KafkaDeadLetterSink
from lanner.ingest.kafka import ConsumerSettings, KafkaBatchConsumer
from lanner.ingest.replay import publish
from lanner.pipeline import Pipeline
from lanner.store import open_store
from tests.kafka_fixtures import FAST_GROUP, produce_values, read_topic

pytestmark = pytest.mark.kafka

ZTF_TARBALL = "ztf/AmpelProject__Ampel-core/alerts/ztf_public_20180819_mod1000.tar.gz"


def object_ids_in(tarball: Path) -> set[str]:
    """Object ids read straight from the tarball with fastavro (independent of Lanner)."""
    ids: set[str] = set()
    with tarfile.open(tarball) as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".avro"):
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                for record in fastavro.reader(BytesIO(data)):
                    ids.add(record["objectId"])  # type: ignore[index,call-overload]
    return ids


def test_kafka_to_store_to_filter_topic(
    kafka_bootstrap: str, make_topic: Callable[..., str], alerts_dir: Path, tmp_path: Path
) -> None:
    tarball = alerts_dir / ZTF_TARBALL
    expected_objects = object_ids_in(tarball)
    topic = make_topic("ztf-stream")
    assert publish([tarball], kafka_bootstrap, topic, wire_format="avro").messages == 30
    produce_values(kafka_bootstrap, topic, [b"\x00\x00\x00\x00", b"{broken json"], partition=0)

    store = open_store(f"sqlite:///{tmp_path / 'lanner.db'}", "ztf")
    saved = add_filter(
        store, "everything", "SELECT objectId FROM objects", active=True, output="kafka"
    )
    filter_topic = topic_name(saved.owner_id, saved.name)
    dead_topic = f"{topic}-deadletter"
    sink = KafkaDeadLetterSink(kafka_bootstrap, dead_topic)
    pipeline = Pipeline(store, sink)
    settings = ConsumerSettings(
        kafka_bootstrap, topic, group="e2e", batch_size=12, idle_timeout_s=2.0, extra=FAST_GROUP
    )
    alerts = dead = 0
    with KafkaBatchConsumer(settings) as consumer:
        for batch in consumer:
            report = pipeline.process(batch.packets)
            alerts += report.alerts
            dead += report.dead_letters
            sink.flush()  # dead letters durable before the offsets move on
            batch.commit()
    assert (alerts, dead) == (30, 2)
    assert consumer.stats.committed_batches == consumer.stats.batches == 3

    stored = {row[0] for row in store.con.execute("SELECT objectId FROM objects").fetchall()}
    assert stored == expected_objects
    delivered = DeliveryWorker(store, {"kafka": KafkaDelivery(kafka_bootstrap)}).run_once()
    store.close()

    letters = read_topic(kafka_bootstrap, dead_topic, 2)
    kept = sorted(
        (dict(m.headers())["origin"], m.value())  # type: ignore[attr-defined]
        for m in letters
    )
    assert kept == [
        (f"{topic}/0/30".encode(), b"\x00\x00\x00\x00"),
        (f"{topic}/0/31".encode(), b"{broken json"),
    ]

    sent = delivered.sent
    assert delivered.claimed == sent and not delivered.errors and sent >= len(expected_objects)
    published = read_topic(kafka_bootstrap, filter_topic, sent + 1, timeout_s=3)
    assert len(published) == sent
    assert len({m.key() for m in published}) == sent  # type: ignore[attr-defined]
    assert {json.loads(m.value())["objectId"] for m in published} == expected_objects  # type: ignore[attr-defined]
