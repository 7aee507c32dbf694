"""``lanner ingest --workers 2`` builds the same database as one worker, table by table,
column by column (only the wall-clock ``ingested_at`` stamps differ)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner.cli import build_cli
from lanner.cli.pipeline_commands import sample_alerts

#: Columns that record when a row was written, not what it holds.
WALL_CLOCK = {"ingested_at", "matched_at", "created", "timestamp"}


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = sqlite3.connect(path)
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    out = {}
    for name in names:
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{name}")')]
        kept = ", ".join(f'"{c}"' for c in cols if c not in WALL_CLOCK)
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
    assert one.keys() == two.keys()
    for table in one:
        assert one[table] == two[table], table
