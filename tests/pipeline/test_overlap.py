"""The overlapped pipeline (the next batch prepared in a background thread while this one is
stored) builds the same database as the serial one and as ``--workers 2``, on SQLite and on
PostgreSQL; an error in preparing is raised in the caller once the batches before it are
stored; a stream's positions are committed in order, each after its batch is stored and its
dead letters flushed, with one batch read ahead and never two."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from lanner.batch import AlertBatch
from lanner.bench import BENCH_FILTERS
from lanner.cli.pipeline_commands import sample_alerts
from lanner.enrich.base import Enricher
from lanner.enrich.registry import default_enrichers
from lanner.filter.saved import add_filter
from lanner.ingest import iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.packets import RawPacket
from lanner.parallel import run_parallel
from lanner.pipeline import Pipeline, chunked, run_stream
from lanner.schema.columns import Column
from lanner.store import open_store
from tests.conftest import PG_URL

#: Columns that record when a row was written, not what it holds.
WALL_CLOCK = {
    "ingested_at",
    "matched_at",
    "created",
    "timestamp",
    "expires",
    "modified",
    "next_attempt",
    "received",
    "recorded_at",
    "sent_at",
}

MODES = ("serial", "overlap", "workers2")


def _packets(survey: str) -> list[RawPacket]:
    packets = list(iter_packets([sample_alerts(survey)]))  # type: ignore[arg-type]
    return [*packets, RawPacket(b"not an alert", "junk/1")]  # a dead letter too


def _ingest(url: str, survey: str, mode: str, tmp: Path) -> None:
    store = open_store(url, survey)  # type: ignore[arg-type]
    for i, sql in enumerate(BENCH_FILTERS[survey]):
        add_filter(store, f"f{i}", sql, active=True)
    pipeline = Pipeline(store, FolderDeadLetters(tmp / f"dl-{mode}"))
    batches = list(chunked(_packets(survey), 7))  # several batches, the last one short
    assert len(batches) > 3
    if mode == "workers2":
        summary = run_parallel(pipeline, batches, 2)
    else:
        summary = pipeline.run(batches, overlap=mode == "overlap")
    assert summary.batches == len(batches) and summary.dead_letters == 1
    assert sum(summary.matches.values()) > 0
    store.close()


def _dump_sqlite(url: str) -> dict[str, list[tuple[object, ...]]]:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    out = {}
    for name in names:
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{name}")')]
        kept = ", ".join(f'"{c}"' for c in cols if c not in WALL_CLOCK)
        out[name] = sorted(con.execute(f'SELECT {kept} FROM "{name}"').fetchall(), key=repr)
    con.close()
    return out


def _dump_postgres(schema: str) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    with psycopg.connect(PG_URL) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        for name in names:
            cols = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                    (schema, name),
                )
            ]
            kept = ", ".join(f'"{c}"' for c in cols if c not in WALL_CLOCK)
            rows = con.execute(f'SELECT {kept} FROM "{schema}"."{name}"').fetchall()
            out[name] = sorted(rows, key=repr)
    return out


@pytest.fixture()
def pg_schemas() -> Iterator[list[str]]:
    """One fresh PostgreSQL schema per mode, dropped afterwards."""
    schemas = [f"t_{uuid.uuid4().hex[:12]}" for _ in MODES]
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute("CREATE EXTENSION IF NOT EXISTS q3c")
        for schema in schemas:
            con.execute(f'CREATE SCHEMA "{schema}"')
    yield schemas
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute("SET lock_timeout = '30s'")
        for schema in schemas:
            con.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (schema,),
            )
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.parametrize("survey", ["ztf", "lsst"])
def test_serial_overlapped_and_two_workers_build_the_same_sqlite_database(
    survey: str, tmp_path: Path
) -> None:
    dumps = []
    for mode in MODES:
        url = f"sqlite:///{tmp_path / f'{mode}.db'}"
        _ingest(url, survey, mode, tmp_path)
        dumps.append(_dump_sqlite(url))
    serial = dumps[0]
    assert serial["alerts"] and serial["detections"] and serial["filter_matches"]
    for other in dumps[1:]:
        assert other.keys() == serial.keys()
        for table in serial:
            assert other[table] == serial[table], table


@pytest.mark.parametrize("survey", ["ztf", "lsst"])
def test_serial_overlapped_and_two_workers_build_the_same_postgres_database(
    survey: str, tmp_path: Path, pg_schemas: list[str]
) -> None:
    sep = "&" if "?" in PG_URL else "?"
    dumps = []
    for mode, schema in zip(MODES, pg_schemas, strict=True):
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema},public&application_name={schema}"
        _ingest(url, survey, mode, tmp_path)
        dumps.append(_dump_postgres(schema))
    serial = dumps[0]
    assert serial["alerts"] and serial["detections"] and serial["filter_matches"]
    for other in dumps[1:]:
        assert other.keys() == serial.keys()
        for table in serial:
            assert other[table] == serial[table], table


class ExplodingEnricherError(Exception):
    pass


class ExplodeOnSecondBatch:
    """A default enricher that fails on its second batch (in the preparing thread)."""

    def __init__(self, inner: Enricher) -> None:
        self.inner = inner
        self.name, self.table, self.surveys = inner.name, inner.table, inner.surveys
        self.calls = 0

    @property
    def columns(self) -> Sequence[Column]:
        return self.inner.columns

    def __call__(self, batch: AlertBatch) -> pa.Table:
        self.calls += 1
        if self.calls == 2:
            raise ExplodingEnricherError("second batch")
        return self.inner(batch)


def test_an_error_in_preparing_is_raised_after_the_batches_before_it(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}", "ztf")
    *kept, last = [e for e in default_enrichers() if "ztf" in e.surveys]
    pipeline = Pipeline(
        store, FolderDeadLetters(tmp_path / "dl"), enrichers=[*kept, ExplodeOnSecondBatch(last)]
    )
    batches = list(chunked(_packets("ztf")[:-1], 10))
    seen: list[int] = []
    with pytest.raises(ExplodingEnricherError, match="second batch"):
        pipeline.run(batches, on_batch=lambda r: seen.append(r.alerts))
    assert seen == [10]  # the first batch was finished, the failing one not
    assert store.counts()["alerts"] == 10
    store.close()


@dataclass
class Batch:
    """A stream batch that logs when it is read and committed."""

    name: str
    packets_: list[RawPacket]
    log: list[str]
    wait_for: threading.Event | None = None
    read_event: threading.Event = field(default_factory=threading.Event)

    @property
    def packets(self) -> list[RawPacket]:
        return self.packets_

    def commit(self) -> None:
        if self.wait_for is not None:
            # The next batch is read while this one is being finished (overlap).
            assert self.wait_for.wait(120), "the next batch was not read ahead"
        self.log.append(f"commit {self.name}")


class FlushLog(FolderDeadLetters):
    def __init__(self, folder: Path, log: list[str]) -> None:
        super().__init__(folder)
        self.log = log

    def flush(self) -> None:
        self.log.append("flush")


def test_a_stream_reads_one_batch_ahead_and_commits_in_order(tmp_path: Path) -> None:
    log: list[str] = []
    packets = _packets("ztf")[:-1]
    store = open_store(f"sqlite:///{tmp_path / 's.db'}", "ztf")
    pipeline = Pipeline(store, FlushLog(tmp_path / "dl", log))
    names = ["a", "b", "c"]
    batches = [Batch(n, packets[5 * i : 5 * i + 5], log) for i, n in enumerate(names)]
    batches[0].wait_for = batches[1].read_event

    def stream() -> Iterator[Batch]:
        for batch in batches:
            log.append(f"read {batch.name}")
            batch.read_event.set()
            yield batch

    summary = run_stream(pipeline, stream(), overlap=True)
    assert summary.batches == 3 and summary.alerts == 15
    # b is read (and prepared) while a is stored: a's commit waited for it.
    assert log.index("read b") < log.index("commit a")
    # Never two ahead: c is read only once a is committed.
    assert log.index("read c") > log.index("commit a")
    assert [e for e in log if not e.startswith("read")] == [
        "flush",
        "commit a",
        "flush",
        "commit b",
        "flush",
        "commit c",
    ]
    store.close()
