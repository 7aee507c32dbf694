"""Fault injection: `lanner consume` workers killed, a broker restart, a database outage.

Two worker processes share a consumer group and one PostgreSQL database, reached through
a loopback proxy the test can cut. The test kills a worker with SIGKILL at random points
(10 times, restarting it each time), cuts the database for a few seconds while both
work, then restarts the broker (memory-only: the topic is gone and is published again,
as a survey re-sends after losing its broker). Afterwards every alert is stored once, no
table holds a duplicated key, the archive equals a clean single-process ingest column by
column, the poison packet was set aside once, and the workers not killed are still
running — then stop on SIGTERM with status 0. A webhook (a local HTTP server) and a Kafka
output (a topic on the same broker) are active throughout: every match is delivered at
least once, each is recorded once and as sent, and the repeats a kill causes are bounded by
what the killed worker had claimed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families

from lanner.distribute.router import filter_target
from lanner.filter.saved import add_filter
from lanner.ingest import iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.packets import RawPacket
from lanner.pipeline import Pipeline, chunked
from lanner.schema.registry import tables_for
from lanner.store import open_store
from lanner.store.migrate import init_database
from lanner.testing.tansu import TansuBroker, free_port
from tests.conftest import PG_URL, create_pg_schema, drop_pg_schema
from tests.distribute.test_outbox import Hook
from tests.kafka_fixtures import produce_values, read_topic
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
BUNDLED_ZTF = REPO / "src" / "lanner" / "data" / "alerts" / "ztf"
TARBALL = "ztf/AmpelProject__Ampel-core/alerts/ztf_public_20180819_mod1000.tar.gz"
TOPIC = "faults"
GROUP = "fault-workers"
#: Tables of alert data, compared with a clean ingest (filters, users, … are not data).
ARCHIVE = (
    "alerts",
    "objects",
    "sherlock_classifications",
    "detections",
    "forced_photometry",
    "upper_limits",
    "cutouts",
)
#: Columns that say when or whence, not what.
NOT_DATA = {"ingested_at", "origin"}


def via(url: str, port: int) -> str:
    """``url`` reaching the server through 127.0.0.1:``port``."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    password = f"{parts.username}:{parts.password}@" if parts.password else user
    return urlunsplit(parts._replace(netloc=f"{password}127.0.0.1:{port}"))


class Workers:
    """`lanner consume` processes, each with its own log file."""

    def __init__(self, tmp: Path, bootstrap: str, db_url: str) -> None:
        self.tmp = tmp
        self.metrics_ports = {0: free_port(), 1: free_port()}
        self.bootstrap = bootstrap
        self.env = {
            **os.environ,
            "LANNER_DB": db_url,
            "LANNER_BATCH_SIZE": "3",
            "LANNER_BATCH_SECONDS": "0.2",
            # A killed worker's claimed matches go to another worker after 3 s, not 5 min.
            "LANNER_DELIVERY_LEASE": "3",
            "LANNER_WEBHOOK_ALLOW_PRIVATE": "1",
            "LANNER_HOME": str(tmp / "home"),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("LANNER_KAFKA", None)
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.logs: dict[int, Path] = {}
        self.started = 0

    def start(self, slot: int) -> None:
        self.started += 1
        log = self.tmp / f"worker{slot}-{self.started}.log"
        with log.open("wb") as out:
            env = {**self.env, "LANNER_METRICS_PORT": str(self.metrics_ports[slot])}
            self.procs[slot] = subprocess.Popen(
                [
                    sys.executable, "-m", "lanner", "consume",
                    "--kafka", self.bootstrap, "--topic", TOPIC, "--group", GROUP,
                    "--kafka-option", "session.timeout.ms=2000",
                    "--kafka-option", "heartbeat.interval.ms=400",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.logs[slot] = log

    def metrics(self, slot: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        url = f"http://127.0.0.1:{self.metrics_ports[slot]}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def serving(self, slot: int) -> bool:
        try:
            self.metrics(slot)
        except OSError:
            return False
        return True

    def kill(self, slot: int) -> None:
        self.procs[slot].kill()
        self.procs[slot].wait(timeout=10)

    def log(self, slot: int) -> str:
        return self.logs[slot].read_text(errors="replace")

    def stop_all(self) -> dict[int, int]:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        return {slot: proc.wait(timeout=60) for slot, proc in self.procs.items()}


def publish(bootstrap: str, packets: list[RawPacket]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    if TOPIC not in admin.list_topics(timeout=10).topics:
        admin.create_topics([NewTopic(TOPIC, num_partitions=2)])[TOPIC].result(timeout=10)
    for partition in (0, 1):
        values = [p.data for p in packets[partition::2]]
        produce_values(bootstrap, TOPIC, values, partition=partition)


def consumed_everything(bootstrap: str, packets: list[RawPacket]) -> bool:
    """Whether the group committed every message published since the broker started (up
    to each partition's end, at least one publication of ``packets``)."""
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP})
    try:
        parts = [TopicPartition(TOPIC, p) for p in (0, 1)]
        committed = probe.committed(parts, timeout=5)
        ends = [
            max(len(packets[p::2]), probe.get_watermark_offsets(tp, timeout=5)[1])
            for p, tp in zip((0, 1), parts, strict=True)
        ]
        return all(c.offset >= end for c, end in zip(committed, ends, strict=True))
    except Exception:
        return False
    finally:
        probe.close()


def wait_until(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout_s} s: {what}")
        time.sleep(0.5)


def pending_outputs(url: str) -> int:
    """Matches of the webhook and Kafka filters not recorded as sent yet."""
    with psycopg.connect(url) as con:
        row = con.execute(
            "SELECT count(*) FROM filter_matches WHERE channel IN ('webhook', 'kafka') "
            "AND state <> 'sent'"
        ).fetchone()
    return int(row[0]) if row else -1


def output_keys(bootstrap: str, topic: str, count: int) -> list[str]:
    """Keys of the messages of a Kafka output topic (none if the topic does not exist)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    if topic not in admin.list_topics(timeout=10).topics:
        return []
    return [m.key().decode() for m in read_topic(bootstrap, topic, count, timeout_s=5)]  # type: ignore[attr-defined]


def table(url: str, name: str, key: tuple[str, ...]) -> tuple[list[str], list[tuple[Any, ...]]]:
    with psycopg.connect(url) as con:
        cols = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND table_schema = current_schema() ORDER BY column_name",
                (name,),
            )
            if r[0] not in NOT_DATA
        ]
        names = ", ".join(f'"{c}"' for c in cols)
        order = ", ".join(f'"{c}"' for c in key)
        rows = con.execute(f'SELECT {names} FROM "{name}" ORDER BY {order}').fetchall()
    return cols, rows


@pytest.fixture()
def schemas() -> Iterator[tuple[str, str]]:
    """Two fresh schemas: the workers' archive and the clean reference."""
    made = [create_pg_schema(), create_pg_schema()]
    yield made[0][1], made[1][1]
    for schema, _ in made:
        drop_pg_schema(schema)


def test_workers_survive_kills_a_broker_restart_and_a_database_outage(
    schemas: tuple[str, str], alerts_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive_url, clean_url = schemas
    poison = RawPacket(b"\x00\x00\x00\x00\x07 not an alert", "poison")
    packets = [*iter_packets([BUNDLED_ZTF, alerts_dir / TARBALL]), poison]
    monkeypatch.setenv("LANNER_WEBHOOK_ALLOW_PRIVATE", "1")  # the hook listens on loopback
    hook = Hook()
    for url in (archive_url, clean_url):
        init_database(url, "ztf")
        store = open_store(url)
        add_filter(store, "everything", "SELECT objectId FROM objects", active=True)
        if url == archive_url:
            sql = "SELECT objectId, ncand FROM objects"
            hooked = add_filter(
                store, "hooked", sql, active=True, output="webhook",
                output_options=json.dumps({"webhook_url": hook.url}),
            )  # fmt: skip
            streamed = add_filter(store, "streamed", sql, active=True, output="kafka")
            out_topic = filter_target(streamed, "objectId").topic
        store.close()

    target = urlsplit(PG_URL)
    proxy = TcpProxy((target.hostname or "localhost", target.port or 5432))
    proxy.start()
    broker = TansuBroker()
    broker.start()
    workers = Workers(tmp_path, broker.bootstrap, via(archive_url, proxy.port))
    rng = random.Random(8)
    try:
        publish(broker.bootstrap, packets)
        workers.start(0)
        workers.start(1)
        for _ in range(10):  # SIGKILL at random points, start-up included
            time.sleep(rng.uniform(0.3, 2.5))
            victim = rng.randrange(2)
            workers.kill(victim)
            workers.start(victim)
        # Both started (connected, serving metrics) before the outage: on a busy machine
        # a worker's start-up can take longer than the outage itself.
        wait_until(lambda: all(workers.serving(s) for s in (0, 1)), 60, "both workers up")
        publish(broker.bootstrap, packets)  # work for both during the outage
        time.sleep(2.0)
        proxy.cut()
        time.sleep(4.0)
        proxy.restore()
        time.sleep(2.0)
        # Every match sent before the memory-only broker loses its topics: read them.
        wait_until(
            lambda: consumed_everything(broker.bootstrap, packets), 90, "the group consumed all"
        )
        wait_until(lambda: pending_outputs(archive_url) == 0, 60, "every match sent")
        streamed_keys = output_keys(broker.bootstrap, out_topic, 10**6)
        broker.restart()
        publish(broker.bootstrap, packets)
        wait_until(
            lambda: consumed_everything(broker.bootstrap, packets), 90, "the group consumed all"
        )
        wait_until(lambda: pending_outputs(archive_url) == 0, 60, "every match sent again")
        streamed_keys += output_keys(broker.bootstrap, out_topic, 10**6)
        alive = {slot: proc.poll() for slot, proc in workers.procs.items()}
        assert alive == {0: None, 1: None}, {s: workers.log(s)[-3000:] for s in alive}
        scraped = [workers.metrics(slot) for slot in (0, 1)]
    finally:
        codes = workers.stop_all()
        broker.stop()
        proxy.stop()
        hook.close()
    assert codes == {0: 0, 1: 0}, {s: workers.log(s)[-3000:] for s in codes}
    logs = workers.log(0) + workers.log(1)
    assert "database unavailable" in logs and "database back after" in logs
    for slot in (0, 1):  # the outage is said once, not once per retry
        assert workers.log(slot).count("database unavailable") <= 1
        assert "Traceback" not in workers.log(slot)

    reference = Pipeline(open_store(clean_url), FolderDeadLetters(tmp_path / "clean"))
    reference.run(chunked(packets, 3))
    reference.store.close()
    declared = tables_for("ztf")
    for name in ARCHIVE:
        key = declared[name].primary_key
        cols, rows = table(archive_url, name, key)
        clean_cols, clean_rows = table(clean_url, name, key)
        assert cols == clean_cols
        assert len({tuple(r[cols.index(k)] for k in key) for r in rows}) == len(rows), name
        assert len(rows) == len(clean_rows), name
        for i, col in enumerate(cols):
            got, want = [r[i] for r in rows], [r[i] for r in clean_rows]
            assert got == want, f"{name}.{col} differs from a clean ingest"
    with psycopg.connect(archive_url) as con:
        matched = con.execute(
            "SELECT count(*), count(DISTINCT (filter_id, alert_id)) FROM filter_matches"
        )
        n, distinct = matched.fetchone() or (0, 0)
        letters = {r[0] for r in con.execute("SELECT origin FROM dead_letters")}
        outputs = {
            f.filter_id: con.execute(
                "SELECT alert_id, state FROM filter_matches WHERE filter_id = %s",
                (f.filter_id,),
            ).fetchall()
            for f in (hooked, streamed)
        }
    assert n == distinct > 0
    # The poison packet once per place it was published at, however often it came back:
    # the second publication put it at a new offset; the one after the restart reused the
    # first one's offsets.
    part, at = (len(packets) - 1) % 2, (len(packets) - 1) // 2
    per_publication = len(packets[part::2])
    assert letters == {f"{TOPIC}/{part}/{at}", f"{TOPIC}/{part}/{at + per_publication}"}
    # Every match of the outputs delivered at least once, recorded once, as sent.
    received = {hooked.filter_id: hook.match_ids(), streamed.filter_id: streamed_keys}
    repeats = 0
    for filter_id, rows in outputs.items():
        recorded = [f"{filter_id}:{alert_id}" for alert_id, _ in rows]
        assert len(recorded) == len(set(recorded)) > 0
        assert {state for _, state in rows} == {"sent"}
        assert set(received[filter_id]) == set(recorded), filter_id
        repeats += len(received[filter_id]) - len(recorded)
    # A repeat is a match a killed worker had sent but not yet recorded as sent.
    claimed_per_kill = max(len(r) for r in outputs.values())
    assert 0 <= repeats <= 10 * claimed_per_kill, repeats
    # The two last workers lived through the broker restart: they consumed its whole
    # re-publication between them, the poison packet included (new or a repeat).
    total = lambda name: sum(v for m in scraped for k, v in m.items() if k[0] == name)  # noqa: E731
    assert total("lanner_alerts_total") >= len(packets) - 1
    assert total("lanner_dead_letters_total") + total("lanner_dead_letter_repeats_total") >= 1
    lag = {k[1] for m in scraped for k in m if k[0] == "lanner_kafka_lag"}
    assert {dict(labels)["partition"] for labels in lag} == {"0", "1"}
