"""Prepared batches cross from a worker to the storing process through spool files
(:mod:`lanner.handoff`): the batch taken is the batch handed off, and no file outlives it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest

from lanner import handoff
from lanner.cli.pipeline_commands import sample_alerts
from lanner.ingest import assemble, iter_packets
from lanner.pipeline import BatchReport, PreparedBatch

DEEP = "data/alerts/lsst/astrolabsoftware__fink-client/datatest/lsst/part-2-918301.avro"


@pytest.fixture(scope="module")
def prepared(shared_dir: Path) -> PreparedBatch:
    packets = [*iter_packets([sample_alerts("lsst"), shared_dir / DEEP])]
    batch = assemble(packets, "lsst").batch
    n = len(batch)
    batch.add_columns("objects", pa.table({"score": pa.array([i / 3 for i in range(n)])}))
    batch.kit["watchlist_hits"] = pa.table({"row": pa.array([0, 0, 2], pa.int32())})
    report = BatchReport(alerts=n)
    report.seconds["decode"] = 1.5
    return PreparedBatch(batch, [], report)


def _tables(p: PreparedBatch) -> dict[str, pa.Table]:
    b = p.batch
    out = {name: getattr(b, name) for name in handoff.TABLES}
    out.update({f"enriched:{k}": t for k, t in b.enriched.items()})
    out.update({f"kit:{k}": t for k, t in b.kit.items()})
    return out


def test_the_batch_taken_is_the_batch_handed_off(prepared: PreparedBatch, tmp_path: Path) -> None:
    assert prepared.batch.detections.num_rows > 1000  # deep histories
    handed = handoff.hand_off(prepared, tmp_path)
    # What crosses the pipe holds no rows: they are in the spool files.
    assert all(getattr(handed.prepared.batch, n).num_rows == 0 for n in handoff.TABLES)
    assert sorted(handed.files) == sorted(_tables(prepared))
    assert all(Path(f).is_file() for f in handed.files.values())
    taken = handoff.take(handed)
    assert list(tmp_path.iterdir()) == []  # removed once mapped
    mine, theirs = _tables(prepared), _tables(taken)
    assert mine.keys() == theirs.keys()
    for key, table in mine.items():
        assert theirs[key].equals(table), key
        assert theirs[key].schema.equals(table.schema, check_metadata=True), key
    assert taken.report == prepared.report
    assert taken.batch.survey == prepared.batch.survey
    # The records: their count is known before they are unpickled, and they are the same
    # (compared as text: NaN values are not equal to themselves).
    assert len(taken.batch.packets) == len(prepared.batch)
    assert repr(list(taken.batch.packets)) == repr(list(prepared.batch.packets))
    assert repr(taken.batch.packets[1]) == repr(prepared.batch.packets[1])


def test_discard_removes_the_files(prepared: PreparedBatch, tmp_path: Path) -> None:
    handed = handoff.hand_off(prepared, tmp_path)
    assert list(tmp_path.iterdir())
    handoff.discard(handed)
    assert list(tmp_path.iterdir()) == []


def test_the_spool_is_in_shared_memory_only_when_it_has_room(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not handoff.SHM.is_dir():
        pytest.fail("/dev/shm is missing on this Linux machine")
    monkeypatch.setattr(handoff, "SHM_MIN_FREE", 0)
    folder = handoff.spool_folder()
    try:
        assert folder.parent == handoff.SHM
        assert folder.name.startswith(f"{handoff.PREFIX}{os.getpid()}-")
    finally:
        folder.rmdir()
    monkeypatch.setattr(handoff, "SHM_MIN_FREE", 2**62)
    folder = handoff.spool_folder()
    try:
        assert folder.parent == Path(tempfile.gettempdir())
    finally:
        folder.rmdir()


def test_a_killed_pools_folder_is_removed_by_the_next(tmp_path: Path) -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead = tmp_path / f"{handoff.PREFIX}{int(ended.stdout)}-abc"
    live = tmp_path / f"{handoff.PREFIX}{os.getpid()}-abc"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "x.arrow").write_bytes(b"rows")
    assert handoff.remove_stale(tmp_path) == [dead]
    assert not dead.exists()
    assert (live / "x.arrow").is_file()
