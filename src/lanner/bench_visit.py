"""``lanner bench --visit N``: a synthetic Rubin visit through Kafka, two workers, PostgreSQL.

Input: the shared on-sky Rubin ``lsst.v10_0`` alerts and an empty PostgreSQL database.
Output: :class:`VisitResult`. Side effects, all undone at the end: a memory-only tansu Kafka
broker on a free local port, a fresh schema in the database (dropped afterwards), two
``lanner consume`` processes.

The visit is ``N`` alerts made from the on-sky alerts by giving each copy fresh ids
(:func:`~lanner.bench_alerts.fresh_id_messages`: ``N`` distinct objects, in Rubin's own
Confluent wire format), written to a topic of two partitions before the clock starts. Two
``lanner consume`` workers in one consumer group then ingest them into PostgreSQL with
:data:`VISIT_FILTERS` active, each delivering its matches to its own Kafka topic; once the
database holds every alert of the visit and the outbox no pending match, the workers are
stopped (SIGTERM: each finishes its batch and commits). The time is from the start of the
workers to the broker timestamp of the last delivered match (worker start-up included). Every
alert must arrive: an incomplete visit is an error, and the result counts the alerts stored,
and, per filter, the matches recorded in ``filter_matches`` and the messages on its topic
(every match is delivered once).
"""

from __future__ import annotations

import math
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from lanner.bench_alerts import fresh_id_messages, iter_fresh_id_messages, onsky_v10_paths
from lanner.filter.saved import add_filter
from lanner.ingest import iter_packets
from lanner.ingest.decode import decode_packet
from lanner.ingest.packets import RawPacket

#: Rubin's expected alert volume [alerts per night] and the night it is spread over [s].
RUBIN_ALERTS_PER_NIGHT = 10_000_000
NIGHT_SECONDS = 10 * 3600
#: A visit's alerts should be out within this time of the shutter closing [s].
VISIT_LATENCY_S = 60.0
VISIT_ALERTS = 40_000
#: Messages decoded on one core for the decode ceiling.
DECODE_SAMPLE = 1000
WORKERS = 2
#: Longest wait for the visit to be stored, beyond a minute per 1,000 alerts [s].
STORE_TIMEOUT_S = 300.0
#: Ten filters of the shapes scientists write on Rubin objects; every one matches something.
VISIT_FILTERS = (
    "SELECT diaObjectId FROM objects",
    "SELECT diaObjectId, latest_psfFlux FROM objects WHERE latest_psfFlux > 10000",
    "SELECT diaObjectId FROM objects WHERE nDiaSources >= 3",
    "SELECT diaObjectId FROM objects WHERE lastDiaSourceMjdTai - firstDiaSourceMjdTai > 30",
    "SELECT diaObjectId, ebv FROM objects WHERE ebv < 0.1",
    "SELECT diaObjectId FROM objects WHERE nPosDiaSources > nNegDiaSources",
    "SELECT diaObjectId, latest_band FROM objects WHERE latest_band IN ('g', 'r')",
    "SELECT diaObjectId FROM objects WHERE abs(glat) > 20",
    "SELECT diaObjectId FROM objects WHERE BBBNoFitReason IS NOT NULL OR BBBModel IS NOT NULL",
    "SELECT diaObjectId, jump1 FROM objects WHERE nSourcesGood >= 1",
)


class VisitError(RuntimeError):
    """The visit benchmark cannot run as asked."""


@dataclass
class VisitResult:
    """Figures of one synthetic visit."""

    alerts: int
    stored_alerts: int
    workers: int
    filters: int
    #: Matches recorded in ``filter_matches`` and messages found on the filters' topics.
    matches: int
    matches_on_kafka: int
    #: Distinct match ids on the filters' topics (fewer than the messages: repeats).
    distinct_on_kafka: int
    #: Per filter: [matches recorded, messages on its topic, distinct match ids there].
    per_filter: dict[str, list[int]]
    #: Matches still pending when the workers were stopped (none unless the wait timed out).
    pending_at_stop: int
    input_mb: float
    seconds: float
    alerts_per_s: float
    mb_per_s: float
    decode_only_per_core: float
    vs_decode: float
    cores_for_night: int
    cores_for_visit_in_60s: int
    peak_worker_memory_mb: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _fresh_schema(db_url: str) -> tuple[str, str]:
    """Create a schema for the run; (its name, a URL whose search_path is it)."""
    import psycopg

    schema = f"lanner_visit_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(db_url, autocommit=True) as con:
        con.execute("CREATE EXTENSION IF NOT EXISTS q3c")
        con.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in db_url else "?"
    return schema, f"{db_url}{sep}options=-csearch_path%3D{schema},public&application_name={schema}"


def _drop_schema(db_url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as con:
        con.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (schema,),
        )
        con.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _produce(bootstrap: str, topic: str, messages: Iterable[bytes]) -> tuple[int, int]:
    """Write ``messages`` round-robin over the topic's partitions; (count, bytes)."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=WORKERS)])[topic].result(timeout=30)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    count = size = 0
    for k, value in enumerate(messages):
        count, size = k + 1, size + len(value)
        while True:
            try:
                producer.produce(topic, value, partition=k % WORKERS)
                break
            except BufferError:
                producer.poll(0.5)
        producer.poll(0)
    if producer.flush(120) != 0:
        raise VisitError("the broker did not take every message of the visit")
    return count, size


#: Quiet time after which a filter topic is taken as read to its end [s].
TOPIC_IDLE_S = 3.0


def _delivered(bootstrap: str, topics: list[str]) -> tuple[dict[str, tuple[int, int]], float]:
    """Every message of the filters' topics, read to the end: per topic (messages, distinct
    keys: a key is a match id), and the broker timestamp of the last [s since epoch].

    Read, not taken from the partitions' high watermarks: the tansu test broker reports a
    high watermark below the offsets it has stored when several producers write to a
    partition (1,000 acknowledged messages at offsets 0–999, high watermark 501).
    """
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"visit-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    messages = dict.fromkeys(topics, 0)
    keys: dict[str, set[bytes | None]] = {t: set() for t in topics}
    last = 0.0
    try:
        consumer.assign(
            [
                TopicPartition(topic, p, 0)
                for topic in topics
                for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions
            ]
        )
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < TOPIC_IDLE_S:
            for msg in consumer.consume(10_000, timeout=0.5):
                if msg.error():
                    raise VisitError(f"cannot read the filters' topics: {msg.error()}")
                topic = str(msg.topic())
                messages[topic] += 1
                keys[topic].add(msg.key())
                last = max(last, msg.timestamp()[1] / 1000)
                quiet_since = time.monotonic()
    finally:
        consumer.close()
    return {t: (messages[t], len(keys[t])) for t in topics}, last


def _count(url: str, table: str, where: str = "") -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        row = con.execute(f"SELECT count(*) FROM {table} {where}").fetchone()
    return int(row[0]) if row else 0


def _matches_per_filter(url: str) -> dict[int, int]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        rows = con.execute("SELECT filter_id, count(*) FROM filter_matches GROUP BY filter_id")
        return {int(f): int(n) for f, n in rows.fetchall()}


def _wait_until_stored(
    url: str, n: int, procs: list[subprocess.Popen[str]], timeout_s: float
) -> int:
    """Poll until ``n`` alerts are stored and no match waits for delivery, a worker exits, or
    time is up; the alerts stored."""
    deadline = time.monotonic() + timeout_s
    stored = 0
    while time.monotonic() < deadline and all(p.poll() is None for p in procs):
        stored = _count(url, "alerts")
        if stored >= n and not _count(url, "filter_matches", "WHERE state = 'pending'"):
            break
        time.sleep(1.0)
    return stored


def _decode_rate(chosen: list[bytes]) -> float:
    """Decode-only alerts/s on one core, on a sample of the visit's messages."""
    start = time.perf_counter()
    for i, m in enumerate(chosen):
        decode_packet(RawPacket(m, f"visit/{i}"))
    return len(chosen) / (time.perf_counter() - start)


def run_visit(
    shared: Path, db_url: str, n: int = VISIT_ALERTS, batch_size: int = 1000
) -> VisitResult:
    """Replay a synthetic visit of ``n`` alerts (see the module docstring)."""
    from lanner.distribute.topic_names import topic_name
    from lanner.store import open_store
    from lanner.testing.tansu import TansuBroker, TansuStartError

    if not db_url.startswith("postgresql"):
        raise VisitError("--visit needs a PostgreSQL database: --db postgresql://…")
    records = [r.record for p in iter_packets(onsky_v10_paths(shared)) for r in decode_packet(p)]
    decode_rate = _decode_rate(fresh_id_messages(records, min(n, DECODE_SAMPLE)))
    schema, url = _fresh_schema(db_url)
    broker = TansuBroker()
    try:
        try:
            bootstrap = broker.start()
        except TansuStartError as exc:
            raise VisitError(f"the tansu Kafka broker did not start: {exc}") from exc
        topic = f"visit-{uuid.uuid4().hex[:8]}"
        _, size = _produce(bootstrap, topic, iter_fresh_id_messages(records, n))
        input_mb = size / 1e6
        store = open_store(url, "lsst")
        try:
            saved = [
                add_filter(store, f"visit{i}", sql, active=True, output="kafka")
                for i, sql in enumerate(VISIT_FILTERS)
            ]
        finally:
            store.close()
        cmd = [
            sys.executable,
            "-m",
            "lanner",
            "consume",
            "--kafka",
            bootstrap,
            "--topic",
            topic,
            "--group",
            "visit",
            "--db",
            url,
            "--batch-size",
            str(batch_size),
            "--kafka-option",
            "session.timeout.ms=6000",
            "--kafka-option",
            "heartbeat.interval.ms=1000",
        ]
        start = time.time()
        procs = [
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(WORKERS)
        ]
        stored = _wait_until_stored(url, n, procs, STORE_TIMEOUT_S + 60 * n / 1000)
        for p in procs:
            p.send_signal(signal.SIGTERM)
        outputs = [p.communicate(timeout=600)[0] for p in procs]
        worker_memory = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        failed = [o for p, o in zip(procs, outputs, strict=True) if p.returncode]
        if failed:
            raise VisitError(f"a worker failed:\n{failed[0][-2000:]}")
        if stored < n:
            raise VisitError(f"only {stored} of the visit's {n} alerts were stored")
        topics = {f.filter_id: topic_name(f.owner_id, f.name) for f in saved}
        on_kafka, last = _delivered(bootstrap, list(topics.values()))
        recorded = _matches_per_filter(url)
        pending = _count(url, "filter_matches", "WHERE state = 'pending'")
    finally:
        broker.stop()
        _drop_schema(db_url, schema)
    seconds = max(last - start, 1e-9)
    rate = n / seconds
    per_core = rate / WORKERS
    return VisitResult(
        alerts=n,
        stored_alerts=stored,
        workers=WORKERS,
        filters=len(VISIT_FILTERS),
        matches=sum(recorded.values()),
        matches_on_kafka=sum(n for n, _ in on_kafka.values()),
        distinct_on_kafka=sum(k for _, k in on_kafka.values()),
        per_filter={
            f.name: [recorded.get(f.filter_id, 0), *on_kafka[topics[f.filter_id]]] for f in saved
        },
        pending_at_stop=pending,
        input_mb=round(input_mb, 1),
        seconds=round(seconds, 2),
        alerts_per_s=round(rate, 1),
        mb_per_s=round(input_mb / seconds, 2),
        decode_only_per_core=round(decode_rate, 1),
        vs_decode=round(per_core / decode_rate, 3),
        cores_for_night=math.ceil(RUBIN_ALERTS_PER_NIGHT / NIGHT_SECONDS / per_core),
        cores_for_visit_in_60s=math.ceil(VISIT_ALERTS / VISIT_LATENCY_S / per_core),
        peak_worker_memory_mb=round(worker_memory, 1),
    )
