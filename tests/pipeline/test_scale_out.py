"""Scale-out: two stateless workers in one Kafka consumer group against one PostgreSQL.

Real ZTF alerts are spread over two partitions; two pipelines consume them concurrently in
threads (as two `lanner consume` processes would) and write to the same database. Every alert
is stored once, every object once with its newest alert, and an active filter's matches are
recorded once, whatever partition went to which worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from lanner.filter.saved import add_filter
from lanner.ingest import iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.kafka import ConsumerSettings, KafkaBatchConsumer
from lanner.pipeline import Pipeline, RunSummary, run_stream
from lanner.store import open_store
from tests.kafka_fixtures import FAST_GROUP, produce_values

pytestmark = pytest.mark.kafka

ZTF_TARBALL = "ztf/AmpelProject__Ampel-core/alerts/ztf_public_20180819_mod1000.tar.gz"


def test_two_workers_one_group_one_postgres(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    alerts_dir: Path,
    pg_url: str,
    tmp_path: Path,
) -> None:
    packets = list(iter_packets([alerts_dir / ZTF_TARBALL]))
    assert len(packets) == 30
    topic = make_topic("scale", partitions=2)
    produce_values(kafka_bootstrap, topic, [p.data for p in packets[0::2]], partition=0)
    produce_values(kafka_bootstrap, topic, [p.data for p in packets[1::2]], partition=1)

    setup = open_store(pg_url, "ztf")
    add_filter(setup, "everything", "SELECT objectId FROM objects", active=True)
    setup.close()

    summaries: list[RunSummary] = []
    failures: list[BaseException] = []

    def worker(name: str) -> None:
        store = open_store(pg_url)
        try:
            pipeline = Pipeline(store, FolderDeadLetters(tmp_path / name))
            settings = ConsumerSettings(
                kafka_bootstrap,
                topic,
                group="workers",
                batch_size=4,
                idle_timeout_s=4.0,
                extra=FAST_GROUP,
            )
            with KafkaBatchConsumer(settings) as consumer:
                summaries.append(run_stream(pipeline, consumer))
        except BaseException as exc:  # re-raised in the test thread below
            failures.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures
    assert len(summaries) == 2
    assert sum(s.alerts for s in summaries) >= 30  # a rebalance may re-deliver, never lose

    store = open_store(pg_url)
    count = lambda sql: store.con.execute(sql).fetchone()[0]  # noqa: E731
    assert count("SELECT count(*) FROM alerts") == 30
    assert (
        count('SELECT count(DISTINCT "objectId") FROM objects')
        == count("SELECT count(*) FROM objects")
        == 30
    )
    assert count("SELECT count(*) FROM filter_matches") == 30
    store.close()
