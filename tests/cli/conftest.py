"""Fixtures of the CLI tests: a fresh Lanner home, and the CLI over a database of the
bundled Rubin sample."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner.cli import build_cli


@pytest.fixture()
def lanner_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``LANNER_HOME`` under ``tmp_path``; no database or broker taken from the environment."""
    home = tmp_path / "home"
    monkeypatch.setenv("LANNER_HOME", str(home))
    monkeypatch.delenv("LANNER_DB", raising=False)
    monkeypatch.delenv("LANNER_KAFKA", raising=False)
    return home


@pytest.fixture()
def cli(lanner_home: Path) -> Callable[..., str]:
    """Run ``lanner`` with the given arguments and return its output, after ``lanner run
    --survey lsst`` filled the database; ``ok=False`` expects the command to fail."""
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(build_cli(), list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    invoke("run", "--survey", "lsst")
    return invoke
