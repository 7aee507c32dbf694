"""Shared test fixtures: the real-data folder and the Kafka broker plugin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["kafka_fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[1]


def _find_shared() -> Path:
    """``LANNER_SHARED`` if set, else the ``shared`` folder next to the repository."""
    env = os.environ.get("LANNER_SHARED")
    candidate = Path(env) if env else REPO_ROOT.parent / "shared"
    if not (candidate / "data" / "alerts").is_dir():
        pytest.fail(
            f"real data not found at {candidate}: clone the repository next to 'shared/' "
            "or set LANNER_SHARED"
        )
    return candidate


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Root of the shared real data (alerts, catalogues)."""
    return _find_shared()


@pytest.fixture(scope="session")
def alerts_dir(shared_dir: Path) -> Path:
    """The folder of real alert files."""
    return shared_dir / "data" / "alerts"
