"""``lanner consume`` scale-out: alerts/s of 1 and of 2 workers in one consumer group.

Input: the shared ZTF alerts (or ``--alerts PATH``; ``--ztf N``: those alerts repeated to N
with fresh ids; or ``--rubin N``: the shared on-sky Rubin v10 alerts repeated to N with fresh
ids, distinct objects with deep histories), written to a
2-partition topic of a throw-away tansu broker. For each worker count, that many
``lanner consume`` processes share a fresh group and a fresh PostgreSQL schema until the
topic is drained. Output: the rate from
the first stored batch to the last (the ``alerts.ingested_at`` span: start-up not counted)
and the wall time of the whole run. Side effects: the broker, the schemas (dropped after).

    python scripts/bench_consume.py [--alerts ../shared/data/alerts/ztf [--ztf N] | --rubin N] \
        [--batch-size 100] [--db postgresql://…  (default: $LANNER_TEST_PG)]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from lanner.ingest import iter_packets
from lanner.store import open_store
from lanner.testing.tansu import TansuBroker

PG = os.environ.get("LANNER_TEST_PG", "postgresql://postgres@localhost:5432/test")


def run(
    bootstrap: str, topic: str, workers: int, batch_size: int, n: int, survey: str
) -> tuple[float, float]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    url = f"{PG}?options=-csearch_path%3D{schema},public"
    try:
        # The survey and tables first, so the workers do not race to create them.
        open_store(url, survey).close()
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "lanner",
                    "consume",
                    "--kafka",
                    bootstrap,
                    "--topic",
                    topic,
                    "--group",
                    schema,
                    "--db",
                    url,
                    "--batch-size",
                    str(batch_size),
                    "--idle-timeout",
                    "6",
                    "--kafka-option",
                    "session.timeout.ms=2000",
                    "--kafka-option",
                    "heartbeat.interval.ms=400",
                ],
                stdout=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        for p in procs:
            p.wait()
        wall = time.perf_counter() - start
        with psycopg.connect(url) as con:
            row = con.execute(
                "SELECT count(*), extract(epoch FROM max(ingested_at) - min(ingested_at)) "
                "FROM alerts"
            ).fetchone()
        assert row is not None  # an aggregate always returns one row
        count, span = row
        # Some shared files repeat an alert: ``count`` is the distinct alerts stored.
        if count < 0.99 * n:
            raise SystemExit(f"{workers} workers stored {count} of {n} alerts")
        return count / float(span), wall
    finally:
        with psycopg.connect(PG, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


def publish(bootstrap: str, topic: str, values: list[bytes]) -> None:
    """Create a 2-partition ``topic`` and write ``values`` to it, alternating partitions. The
    clients are released on return, before the broker stops (else librdkafka reports the
    stopped broker as refused connections)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=2)])[topic].result(timeout=10)
    producer = Producer({"bootstrap.servers": bootstrap})
    for i, value in enumerate(values):
        producer.produce(topic, value=value, partition=i % 2)
    if producer.flush(30):
        raise SystemExit(f"messages not delivered to {topic} within 30 s")


def main() -> None:
    global PG
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=Path, default=Path("../shared/data/alerts/ztf"))
    parser.add_argument("--rubin", type=int, default=None, metavar="N")
    parser.add_argument("--ztf", type=int, default=None, metavar="N")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--db", default=PG, help="PostgreSQL server (a schema is made per run)")
    args = parser.parse_args()
    PG = args.db
    print(f"load average at start: {os.getloadavg()}")
    survey = "ztf"
    if args.rubin:
        from lanner.bench import shared_dir
        from lanner.bench_alerts import fresh_id_packets, onsky_v10_paths

        packets = fresh_id_packets(list(iter_packets(onsky_v10_paths(shared_dir()))), args.rubin)
        values, survey = [p.data for p in packets], "lsst"
    elif args.ztf:
        from lanner.bench_alerts import fresh_id_packets

        values = [p.data for p in fresh_id_packets(list(iter_packets([args.alerts])), args.ztf)]
    else:
        values = [p.data for p in iter_packets([args.alerts])]
    with TansuBroker() as broker:
        rates = {}
        for workers in (1, 2):
            topic = f"bench-{uuid.uuid4().hex[:8]}"
            publish(broker.bootstrap, topic, values)
            rate, wall = run(broker.bootstrap, topic, workers, args.batch_size, len(values), survey)
            rates[workers] = rate
            print(f"{workers} worker(s): {rate:7.1f} alerts/s stored, run {wall:5.1f} s wall")
        print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
