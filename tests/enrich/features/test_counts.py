"""Detection counts against a plain per-alert computation on real Rubin alerts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from lanner.batch import AlertBatch
from lanner.enrich.features.counts import DetectionCounts
from tests.enrich.features import reference
from tests.enrich.features.rubin_batches import run, synthetic_batch


def _check(batch: AlertBatch, records: list[dict[str, Any]]) -> None:
    got = run(batch, [DetectionCounts()]).to_pylist()
    assert len(got) == len(records)
    for row, rec in zip(got, records, strict=True):
        want = reference.counts(rec)
        for name, value in want.items():
            if value is None:
                assert row[name] is None, name
            elif isinstance(value, float):
                assert row[name] == pytest.approx(value, rel=1e-6), name
            else:
                assert row[name] == value, name


def test_counts_match_reference_on_real_alerts(
    lsst_sample_batch: AlertBatch, or4_records: list[dict[str, Any]], lasair_record: dict[str, Any]
) -> None:
    _check(lsst_sample_batch, [*or4_records, lasair_record])
    # The real sample must exercise the counts: positives, negatives, several bands.
    objects = lsst_sample_batch.enriched["objects"]
    assert sum(objects["nPosDiaSources"].to_pylist()) > 500
    assert sum(objects["nNegDiaSources"].to_pylist()) > 50
    assert max(objects["nPosDiaSourcesNights"].to_pylist()) >= 2


def test_reliability_median_and_latest() -> None:
    lcs = [
        # odd count; one missing reliability is ignored by the median
        [(60000.1, "g", 10.0, 1.0, 0.9), (60000.2, "r", 12.0, 1.0, 0.2),
         (60001.1, "g", -5.0, 1.0, None), (60002.3, "i", 8.0, 1.0, 0.7)],
        # even count
        [(60000.1, "u", 1.0, 1.0, 0.1), (60000.3, "y", 2.0, 1.0, 0.6),
         (60003.1, "z", 3.0, 1.0, 0.3), (60004.1, "z", 4.0, 1.0, 0.8)],
    ]  # fmt: skip
    batch = synthetic_batch(lcs)
    got = run(batch, [DetectionCounts()]).to_pylist()
    assert got[0]["medianR"] == pytest.approx(0.7)
    assert got[0]["latestR"] == pytest.approx(0.7)
    assert got[0]["nSourcesGood"] == 2
    assert got[0]["nPosDiaSourcesNights"] == 2  # 60000.1 and .2 share a night; 60001.1 is < 0
    assert got[1]["medianR"] == pytest.approx(0.45)
    assert got[1]["nzSources"] == 2 and got[1]["nuSources"] == 1 and got[1]["ngSources"] == 0
    # noon-to-noon: 60000.1 and 60000.3 are both in the night starting at MJD 59999.5
    assert got[1]["nPosDiaSourcesNights"] == 3


def test_missing_reliability_gives_null() -> None:
    batch = synthetic_batch([[(60000.0, "g", 5.0, 1.0, None)]])
    row = run(batch, [DetectionCounts()]).to_pylist()[0]
    assert row["medianR"] is None and row["latestR"] is None
    assert row["nSourcesGood"] == 0 and row["nPosDiaSources"] == 1
    assert not math.isnan(float(np.float64(row["ngSources"])))
