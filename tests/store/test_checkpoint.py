"""SQLite's WAL is checkpointed by the store's background thread, not on the writer's commit;
a checkpoint that fails is counted, exported and hands checkpoints back to SQLite."""

from __future__ import annotations

import gc
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from lanner.ingest.packets import RawPacket
from lanner.observe.metrics import Metrics
from lanner.pipeline import BatchReport
from lanner.store import open_store
from tests.helpers import enriched, packets_of


def _wal_frames(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames of it already in the database), from a passive checkpoint
    on a connection of the test's own: run after the store's thread is idle, it finds
    nothing left to copy if that thread did its work."""
    with closing(sqlite3.connect(path)) as con:
        busy, log, done = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0
    return log, done


def _autocheckpoint(store) -> int:  # type: ignore[no-untyped-def]
    return int(store.con.execute("PRAGMA wal_autocheckpoint").fetchone()[0])


@pytest.fixture(scope="module")
def packets(alerts_dir: Path) -> list[RawPacket]:
    return packets_of([alerts_dir / "ztf" / "skyportal__kowalski"])


def test_the_writer_leaves_checkpoints_to_the_background_thread(
    tmp_path: Path, packets: list[RawPacket]
) -> None:
    path = tmp_path / "a.db"
    store = open_store(f"sqlite:///{path}", "ztf")
    store.write_batch(enriched(packets, "ztf"))
    checkpointer = store._checkpointer
    assert checkpointer is not None and _autocheckpoint(store) == 0
    assert checkpointer.wait_idle()
    assert checkpointer.runs >= 1 and checkpointer.failures == 0
    # The batch's pages were copied by the thread: the log is checkpointed to its end.
    log, done = _wal_frames(path)
    assert log > 0 and done == log
    # The setting is the writer's own: other connections keep SQLite's default.
    with closing(sqlite3.connect(path)) as con:
        assert con.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    store.close()
    # The last connection's close checkpoints the rest and removes the log.
    assert not path.with_name("a.db-wal").exists()
    assert not checkpointer._thread.is_alive()


def test_a_store_dropped_unclosed_stops_its_thread(
    tmp_path: Path, packets: list[RawPacket]
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}", "ztf")
    store.write_batch(enriched(packets, "ztf"))
    checkpointer = store._checkpointer
    assert checkpointer is not None and checkpointer._thread.is_alive()
    del store
    gc.collect()
    assert not checkpointer._thread.is_alive()
    checkpointer.close()  # a second close does nothing


def test_a_failed_checkpoint_is_counted_and_sqlite_checkpoints_again(
    tmp_path: Path, packets: list[RawPacket]
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'b.db'}", "ztf")
    assert store.write_batch(enriched(packets[:1], "ztf")).checkpoint_failures == 0
    checkpointer = store._checkpointer
    assert checkpointer is not None and checkpointer.wait_idle()
    # A real error in the thread: its connection is gone.
    checkpointer._con.close()
    assert store.write_batch(enriched(packets[1:2], "ztf")).checkpoint_failures == 0
    assert checkpointer.wait_idle()
    assert checkpointer.failures == 1
    assert checkpointer.last_error is not None and "closed" in checkpointer.last_error
    report = store.write_batch(enriched(packets[2:3], "ztf"))
    assert report.checkpoint_failures == 1
    assert _autocheckpoint(store) == 1000  # SQLite checkpoints on commit again
    # Reported once, not again by the next batch; and exported.
    assert store.write_batch(enriched(packets[3:4], "ztf")).checkpoint_failures == 0
    metrics = Metrics()
    metrics.observe(BatchReport(alerts=1, checkpoint_failures=report.checkpoint_failures))
    assert metrics.value("lanner_checkpoint_failures_total") == 1
    store.close()


def test_postgres_has_no_checkpointer(pg_url: str, packets: list[RawPacket]) -> None:
    store = open_store(pg_url, "ztf")
    assert store.write_batch(enriched(packets[:2], "ztf")).checkpoint_failures == 0
    assert store._checkpointer is None
    store.close()
