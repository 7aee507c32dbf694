"""Fixtures for the sky-context tests: the shared catalogues and one loaded classifier.

``shared_dir`` (the shared real data, failing when missing) comes from ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.enrich.context import ContextClassifier


@pytest.fixture(scope="session")
def catalogs(shared_dir: Path) -> Path:
    return shared_dir / "data" / "catalogs"


@pytest.fixture(scope="session")
def classifier() -> ContextClassifier:
    return ContextClassifier()
