"""Fixtures of the client tests: a real Lanner filter topic on the session's tansu broker,
filled by ``lanner ingest`` of the bundled Rubin sample through an active Kafka filter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner.cli import build_cli
from lanner.distribute.topic_names import topic_name

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "lsst"
BRIGHT = "SELECT diaObjectId, latest_psfFlux FROM objects WHERE latest_psfFlux > 10000"


@dataclass(frozen=True)
class FilterStream:
    """A filter's topic after Lanner ingested the sample: ``matches`` messages on it."""

    bootstrap: str
    topic: str
    quiet_topic: str
    """An active filter's topic on which nothing was produced."""
    matches: int
    home: Path


def run_cli(*args: str) -> str:
    result = CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="session")
def filter_stream(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FilterStream]:
    home = tmp_path_factory.mktemp("client-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LANNER_HOME", str(home))
        mp.delenv("LANNER_DB", raising=False)
        mp.setenv("LANNER_KAFKA", kafka_bootstrap)
        run_cli("run", "--survey", "lsst")
        run_cli("filter", "add", "bright", BRIGHT, "--active", "--output", "kafka")
        run_cli(
            "filter",
            "add",
            "never",
            BRIGHT.replace("> 10000", "< -1e30"),
            "--active",
            "--output",
            "kafka",
        )
        out = run_cli("ingest", str(SAMPLE))
        matches = int(out.split("bright: ")[1].split()[0])
        assert matches > 2, out
        yield FilterStream(
            kafka_bootstrap, topic_name(1, "bright"), topic_name(1, "never"), matches, home
        )
