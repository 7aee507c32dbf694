"""Batches of real shared alerts for the classifier tests (decoded once per session).

The classifiers need the ``lanner[ml]`` extra; CI installs it, so these tests fail (they do
not skip) when it is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.batch import AlertBatch
from lanner.ingest import assemble, iter_packets

#: Rubin samples: Fink's ops-rehearsal test data (the SuperNNova doctest's), Fink's v7.4
#: alerts with Fink's own stored scores, and LSSTCam on-sky alerts with deep histories.
OR4 = "lsst/astrolabsoftware__fink-broker/datasim/or4_lsst7.1"
RUBIN_74 = "lsst/astrolabsoftware__fink-broker/datasim/rubin_test_data_7_4_avro"
FCLIENT = "lsst/astrolabsoftware__fink-client/datatest/lsst"


def _batch(paths: list[Path], survey: str) -> AlertBatch:
    batch = assemble(list(iter_packets(paths)), survey).batch  # type: ignore[arg-type]
    assert len(batch) > 0
    return batch


@pytest.fixture(scope="session")
def ztf_batch(alerts_dir: Path) -> AlertBatch:
    """Every shared ZTF alert."""
    return _batch(sorted((alerts_dir / "ztf").rglob("*.avro")), "ztf")


@pytest.fixture(scope="session")
def or4_batch(alerts_dir: Path) -> AlertBatch:
    return _batch([alerts_dir / OR4], "lsst")


@pytest.fixture(scope="session")
def rubin74_batch(alerts_dir: Path) -> AlertBatch:
    return _batch(sorted((alerts_dir / RUBIN_74).glob("*.avro")), "lsst")


@pytest.fixture(scope="session")
def deep_rubin_batch(alerts_dir: Path) -> AlertBatch:
    return _batch(sorted((alerts_dir / FCLIENT).glob("*")), "lsst")


@pytest.fixture(scope="session")
def classified_url(alerts_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    from tests.classify.archive import build

    return build(alerts_dir, tmp_path_factory.mktemp("classified"))
