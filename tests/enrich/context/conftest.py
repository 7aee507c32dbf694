"""Fixtures for the sky-context tests: the shared data folder and one loaded classifier."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lanner.enrich.context import ContextClassifier

REPO = Path(__file__).resolve().parents[3]


def _find_shared() -> Path:
    """``$LANNER_SHARED``, else the ``shared`` folder beside the repository."""
    env = os.environ.get("LANNER_SHARED")
    return Path(env) if env else REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    shared = _find_shared()
    if not (shared / "data" / "alerts").is_dir():
        pytest.fail(f"shared data not found at {shared}: set LANNER_SHARED")
    return shared


@pytest.fixture(scope="session")
def catalogs(shared_dir: Path) -> Path:
    return shared_dir / "data" / "catalogs"


@pytest.fixture(scope="session")
def classifier() -> ContextClassifier:
    return ContextClassifier()
