"""run_stream commits a batch only after it was processed and its dead letters flushed;
a batch that fails is left uncommitted (Kafka re-delivers it). The stream here is a list of
small batch doubles; the same loop against tansu is tested in tests/ingest/test_kafka_cli.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lanner.ingest import iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.packets import RawPacket
from lanner.pipeline import Pipeline, run_stream
from lanner.store import open_store

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "ztf"


@dataclass
class Batch:
    packets: list[RawPacket]
    log: list[str] = field(default_factory=list)

    def commit(self) -> None:
        self.log.append("commit")


class FlushLog(FolderDeadLetters):
    def __init__(self, folder: Path, log: list[str]) -> None:
        super().__init__(folder)
        self.log = log

    def flush(self) -> None:
        self.log.append("flush")


def test_commit_after_flush_and_never_for_a_failing_batch(tmp_path: Path) -> None:
    packets = list(iter_packets([SAMPLE]))[:4]
    log: list[str] = []
    store = open_store(f"sqlite:///{tmp_path / 'l.db'}", "ztf")
    pipeline = Pipeline(store, FlushLog(tmp_path / "dl", log))
    good = Batch(packets[:2], log)
    bad = Batch([*packets[2:], RawPacket(b"junk", "junk")], log)
    summary = run_stream(pipeline, [good, bad])
    assert log == ["flush", "commit", "flush", "commit"]
    assert (summary.alerts, summary.dead_letters, summary.batches) == (4, 1, 2)

    class BrokenStoreError(Exception):
        pass

    def explode(_batch: object) -> None:
        raise BrokenStoreError

    store.write_batch = explode  # type: ignore[method-assign]
    log.clear()
    failing = Batch(packets[:1], log)
    with pytest.raises(BrokenStoreError):
        run_stream(pipeline, [failing])
    assert log == []  # neither flushed as done nor committed: the broker re-delivers it
    store.close()
