"""Fixtures: real Rubin alerts, as raw records and as batches decoded by Lanner's ingest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from lanner.batch import AlertBatch
from lanner.ingest import read_alerts

OR4_PARQUET = (
    "data/alerts/lsst/astrolabsoftware__fink-broker/datasim/or4_lsst7.1/"
    "part-00000-96629e4a-60d4-442b-a338-687a16b8a35c-c000.snappy.parquet"
)
LASAIR_JSON = (
    "data/alerts/lsst/lsst-uk__lasair-lsst/tests/system/sample_alerts/schema7.1/alert.json"
)


@pytest.fixture(scope="session")
def or4_records(shared_dir: Path) -> list[dict[str, Any]]:
    """The 50 Operations Rehearsal 4 alerts (long histories, with forced photometry)."""
    return pq.read_table(shared_dir / OR4_PARQUET).to_pylist()


@pytest.fixture(scope="session")
def lasair_record(shared_dir: Path) -> dict[str, Any]:
    """Lasair-LSST's sample alert with 70 previous diaSources."""
    return dict(json.loads((shared_dir / LASAIR_JSON).read_text()))


@pytest.fixture
def rubin_batch(shared_dir: Path) -> AlertBatch:
    """The same 51 alerts, decoded by Lanner's ingest, in the same order."""
    return read_alerts([shared_dir / OR4_PARQUET, shared_dir / LASAIR_JSON], survey="lsst")


@pytest.fixture
def all_rubin_batch(shared_dir: Path) -> AlertBatch:
    """Every Rubin-format alert of the shared data (all schema versions)."""
    return read_alerts([shared_dir / "data" / "alerts" / "lsst"], survey="lsst")
