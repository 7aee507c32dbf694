"""``lanner ingest --workers 2`` builds the same database as one worker, table by table,
column by column (only the wall-clock stamps differ: ``ingested_at``, an annotation's write
``timestamp`` and ``mjd``)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner import handoff
from lanner.cli import build_cli
from lanner.cli.pipeline_commands import sample_alerts

#: Columns that record when a row was written, not what it holds.
WALL_CLOCK = {"ingested_at", "matched_at", "created", "timestamp"}
#: The same, where only some tables use the name so (an annotation's ``mjd`` is its write time).
WALL_CLOCK_IN = {"annotations": {"mjd"}, "annotation_history": {"mjd"}}


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = sqlite3.connect(path)
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    out = {}
    for name in names:
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{name}")')]
        skip = WALL_CLOCK | WALL_CLOCK_IN.get(name, set())
        kept = ", ".join(f'"{c}"' for c in cols if c not in skip)
        out[name] = sorted(con.execute(f'SELECT {kept} FROM "{name}"').fetchall(), key=repr)
    con.close()
    return out


@pytest.mark.parametrize("survey", ["ztf", "lsst"])
def test_two_workers_build_the_same_database(
    survey: str, tmp_path: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANNER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LANNER_DB", raising=False)
    monkeypatch.delenv("LANNER_KAFKA", raising=False)
    monkeypatch.setenv("LANNER_BATCH_SIZE", "8")  # several batches in flight at once
    paths = [str(sample_alerts(survey))]  # type: ignore[arg-type]
    if survey == "lsst":  # deep histories: light-curve fits run
        paths.append(
            str(
                shared_dir
                / "data/alerts/lsst/astrolabsoftware__fink-client/datatest/lsst/part-2-918301.avro"
            )
        )
    dumps = []
    for workers in (1, 2):
        db = tmp_path / f"w{workers}.db"
        result = CliRunner().invoke(
            build_cli(),
            ["ingest", *paths, "--db", f"sqlite:///{db}", "--workers", str(workers)],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        dumps.append(_dump(db))
    one, two = dumps
    assert one["alerts"] and one["detections"] and one["objects"]
    assert one["annotations"]  # the classifiers ran (LANNER_CLASSIFIERS=auto, the default)
    assert one.keys() == two.keys()
    for table in one:
        assert one[table] == two[table], table


def _spawned_workers(parent: int) -> list[int]:
    """Pids of the worker processes ``parent`` spawned (multiprocessing's ``spawn_main``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return found


def test_a_dying_worker_stops_the_run_with_a_message(tmp_path: Path, shared_dir: Path) -> None:
    env = {
        **os.environ,
        "LANNER_HOME": str(tmp_path / "home"),
        "LANNER_BATCH_SIZE": "8",  # many batches: the run is still going when a worker dies
    }
    env.pop("LANNER_DB", None)
    env.pop("LANNER_KAFKA", None)
    cmd = [
        sys.executable,
        "-m",
        "lanner",
        "ingest",
        str(shared_dir / "data/alerts/ztf"),
        "--db",
        f"sqlite:///{tmp_path / 'ztf.db'}",
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while not workers and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _spawned_workers(proc.pid)
        assert workers, "no worker process was started"
        assert _spool_folders(proc.pid), "the run has no spool folder"
        os.kill(workers[0], signal.SIGKILL)
        out, err = proc.communicate(timeout=120)  # no hang
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, (out, err)
    assert "a worker process died while preparing batches" in err
    assert "run the same command again" in err
    assert "Traceback" not in err
    # The batches prepared and not stored went with the run's spool folder.
    assert _spool_folders(proc.pid) == []


def _spool_folders(pid: int) -> list[Path]:
    """The hand-off folders of the run of process ``pid`` (:mod:`lanner.handoff`)."""
    pattern = f"{handoff.PREFIX}{pid}-*"
    return [*handoff.SHM.glob(pattern), *Path(tempfile.gettempdir()).glob(pattern)]
