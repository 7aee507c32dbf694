"""Fixtures: the shared data folder and real Rubin alerts as AlertBatch objects."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from lanner.batch import AlertBatch
from tests.enrich.features.rubin_batches import batch_from_rubin_records

REPO_ROOT = Path(__file__).resolve().parents[3]

OR4_PARQUET = (
    "data/alerts/lsst/astrolabsoftware__fink-broker/datasim/or4_lsst7.1/"
    "part-00000-96629e4a-60d4-442b-a338-687a16b8a35c-c000.snappy.parquet"
)
LASAIR_JSON = (
    "data/alerts/lsst/lsst-uk__lasair-lsst/tests/system/sample_alerts/schema7.1/alert.json"
)


def _find_shared() -> Path:
    """``$LANNER_SHARED``, else the first ``shared`` folder beside the repository or one of
    its parents that holds ``data/alerts``."""
    env = os.environ.get("LANNER_SHARED")
    candidates = [Path(env)] if env else [p / "shared" for p in REPO_ROOT.parents]
    for shared in candidates:
        if (shared / "data" / "alerts").is_dir():
            return shared
    raise RuntimeError(
        "shared data not found: set LANNER_SHARED to the folder holding data/alerts"
    )


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _find_shared()


@pytest.fixture(scope="session")
def or4_records(shared_dir: Path) -> list[dict[str, Any]]:
    """The 50 Operations Rehearsal 4 alerts (long histories, with forced photometry)."""
    return pq.read_table(shared_dir / OR4_PARQUET).to_pylist()


@pytest.fixture(scope="session")
def lasair_record(shared_dir: Path) -> dict[str, Any]:
    """Lasair-LSST's sample alert with 70 previous diaSources."""
    return dict(json.loads((shared_dir / LASAIR_JSON).read_text()))


@pytest.fixture
def rubin_batch(or4_records: list[dict[str, Any]], lasair_record: dict[str, Any]) -> AlertBatch:
    return batch_from_rubin_records([*or4_records, lasair_record])
