"""``lanner bench --annotations``: annotations written per second, single and in bulk, and
the latency from a write to the matches of the filters it re-runs (and, with a Kafka broker
configured, to their delivery).

Input: a database URL (default: a temporary SQLite file; with PostgreSQL, an empty
database). The Rubin sample shipped with Lanner is ingested, then ``n_objects`` more objects
are made from one real object row and its alert (fresh ids), so bulk writes have objects to
annotate. Ten filters are active, five reading the benchmark's annotator with
``JSON_EXTRACT`` conditions. Output: the figures as a dict (ratios included). Side effects:
the database is filled; with ``LANNER_KAFKA`` set, one filter sends to its Kafka topic.
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from lanner.annotations import Annotation, add_annotator, write_annotations
from lanner.annotations.delivery import DeliverWhenWoken
from lanner.filter.saved import add_filter
from lanner.filter.users import create_user
from lanner.settings import Settings
from lanner.store import Store, open_store
from lanner.store.ddl import quote

TOPIC = "bench_classifier"


def _ingest_sample(store: Store, folder: Path) -> None:
    from lanner.ingest import iter_packets
    from lanner.ingest.deadletter import FolderDeadLetters
    from lanner.pipeline import Pipeline

    sample = Path(str(resources.files("lanner") / "data" / "alerts" / "lsst"))
    Pipeline(store, FolderDeadLetters(folder / "dl")).process(list(iter_packets([sample])))


def _clone_objects(store: Store, n: int) -> list[int]:
    """``n`` objects (and one alert each) copied from a real one with fresh ids."""
    oid = store.object_id_column
    out: list[int] = []
    for table, key in (("objects", oid), ("alerts", "alert_id")):
        cols = store.tables[table].column_names
        present = store.backend.table_columns(store.con, table)
        cols = [c for c in cols if c in present]
        row = store.con.execute(
            f"SELECT {', '.join(quote(c) for c in cols)} FROM {table} ORDER BY {quote(oid)} LIMIT 1"
        ).fetchone()
        base = 9_000_000_000_000_000_000 if table == "objects" else 8_000_000_000_000_000_000
        i_oid, i_key = cols.index(oid), cols.index(key)
        rows = []
        for i in range(n):
            values = list(row)
            values[i_oid] = 9_000_000_000_000_000_000 + i
            values[i_key] = base + i
            rows.append(tuple(values))
        store._insert(table, cols, rows, "")
        if table == "objects":
            out = [9_000_000_000_000_000_000 + i for i in range(n)]
    store.con.commit()
    return out


def _filters(store: Store, owner: int) -> None:
    for k in range(5):
        add_filter(
            store,
            f"bench_annotated_{k}",
            f"SELECT objects.diaObjectId, a.classification FROM objects JOIN annotations a "
            f"ON a.diaObjectId = objects.diaObjectId WHERE a.topic = '{TOPIC}' "
            f"AND JSON_EXTRACT(a.classdict, '$.score') > {0.5 + k / 10}",
            active=True,
            owner_id=owner,
        )
        add_filter(
            store,
            f"bench_plain_{k}",
            f"SELECT diaObjectId FROM objects WHERE nDiaSources >= {k + 1}",
            active=True,
            owner_id=owner,
        )


def run_annotation_bench(
    db_url: str | None = None, n_objects: int = 20_000, singles: int = 200, bulk: int = 1000
) -> dict[str, Any]:
    """Measure; see the module. Returns the figures."""
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lanner-bench-")))
        url = db_url or f"sqlite:///{folder / 'bench.db'}"
        store = open_store(url, "lsst")
        stack.callback(store.close)
        _ingest_sample(store, folder)
        ids = _clone_objects(store, n_objects)
        user = create_user(store, "bench_annotator")[0].user_id
        add_annotator(store, TOPIC, user, description="lanner bench")
        _filters(store, user)

        def items(start: int, n: int, score: float) -> list[Annotation]:
            return [
                Annotation(
                    ids[(start + i) % len(ids)],
                    "SN",
                    "1.0",
                    classdict={"score": score, "SN": score, "TDE": 1 - score},
                )
                for i in range(n)
            ]

        # Single annotations, write only and with the re-run of the filters reading them.
        t = time.perf_counter()
        for i in range(singles):
            write_annotations(store, TOPIC, items(i, 1, 0.1), user_id=user, rerun=False)
        single_s = (time.perf_counter() - t) / singles
        latencies = []
        for i in range(singles // 4):
            t = time.perf_counter()
            write_annotations(store, TOPIC, items(singles + i, 1, 0.95), user_id=user)
            latencies.append(time.perf_counter() - t)
        # Bulk: batches of ``bulk`` items.
        rounds = max(1, min(10, n_objects // bulk))
        t = time.perf_counter()
        for r in range(rounds):
            write_annotations(store, TOPIC, items(r * bulk, bulk, 0.2), user_id=user, rerun=False)
        bulk_rate = rounds * bulk / (time.perf_counter() - t)
        t = time.perf_counter()
        write_annotations(store, TOPIC, items(0, bulk, 0.97), user_id=user)
        bulk_rerun_s = time.perf_counter() - t
        figures: dict[str, Any] = {
            "backend": store.backend.dialect,
            "objects": len(ids),
            "active_filters": 10,
            "filters_reading_the_annotator": 5,
            "single_per_s": round(1 / single_s, 1),
            "bulk_per_s": round(bulk_rate, 1),
            "bulk_batch": bulk,
            "bulk_vs_single": round(bulk_rate * single_s, 1),
            "rerun_latency_ms": {
                "median": round(1000 * statistics.median(latencies), 1),
                "max": round(1000 * max(latencies), 1),
            },
            "rerun_vs_write_only": round(statistics.median(latencies) / single_s, 1),
            "bulk_with_rerun_s": round(bulk_rerun_s, 3),
        }
        ph = store.backend.placeholder
        figures["matches_recorded"] = int(
            store.con.execute(
                f"SELECT count(*) FROM filter_matches m JOIN filters f "
                f"ON f.filter_id = m.filter_id WHERE f.name LIKE {ph}",
                ("bench_annotated_%",),
            ).fetchone()[0]
        )
        store.con.commit()
        figures["delivered_ms"] = _delivery(store, url, user, items)
        return figures


def _delivery(store: Store, url: str, user: int, items: Any) -> dict[str, float] | None:
    """Write → match on the filter's Kafka topic, in the writing process (None without a
    broker: ``LANNER_KAFKA``)."""
    settings = Settings.for_db(url)
    if not settings.kafka:
        return None
    from lanner.distribute.kafka import KafkaDelivery

    flt = add_filter(
        store,
        "bench_kafka",
        f"SELECT objects.diaObjectId FROM objects JOIN annotations a ON a.diaObjectId = "
        f"objects.diaObjectId WHERE a.topic = '{TOPIC}' AND JSON_EXTRACT(a.classdict, "
        f"'$.score') > 0.99",
        active=True,
        owner_id=user,
        output="kafka",
    )
    from lanner.distribute.router import filter_target

    KafkaDelivery(settings.kafka, extra=settings.kafka_config()).ensure_topic(
        filter_target(flt, store.object_id_column)
    )
    times = []
    for i in range(10):
        hook = DeliverWhenWoken(settings)
        t = time.perf_counter()
        write_annotations(store, TOPIC, items(5000 + i, 1, 0.995), user_id=user, delivery=hook)
        done = hook.flush()
        if done.sent != 1:
            raise RuntimeError(f"the match was not sent: {done}")
        times.append(time.perf_counter() - t)
    return {
        "median": round(1000 * statistics.median(times), 1),
        "max": round(1000 * max(times), 1),
    }
