"""Degenerate light curves through every feature enricher: NULLs, no warnings, no crash."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lanner.batch import AlertBatch
from lanner.enrich.base import Enricher
from lanner.enrich.features.absolute_magnitude import AbsoluteMagnitude
from lanner.enrich.features.bazin_blackbody import BazinBlackBody
from lanner.enrich.features.counts import DetectionCounts
from lanner.enrich.features.jump import FluxJump
from lanner.enrich.features.milky_way import MilkyWay
from lanner.enrich.features.pair_colours import PairColours
from tests.enrich.features.rubin_batches import run, synthetic_batch


def all_features() -> list[Enricher]:
    return [
        MilkyWay("lsst"),
        DetectionCounts(),
        FluxJump(),
        PairColours(),
        BazinBlackBody(),
        AbsoluteMagnitude(),
    ]


CASES: dict[str, list[tuple[float, Any, Any, Any, Any]]] = {
    "single detection": [(60000.0, "g", 100.0, 5.0, 0.9)],
    "one band only": [(60000.0 + d, "r", 100.0 + 10 * d, 5.0, 0.9) for d in range(20)],
    "negative fluxes": [(60000.0 + d, "ugrizy"[d % 6], -100.0 - d, 5.0, 0.9) for d in range(20)],
    "None fields": [
        (60000.0, "g", None, None, None),
        (60000.01, None, 50.0, 5.0, 0.9),
        (60000.02, "r", 60.0, None, None),
        (60001.0, "i", float("nan"), float("nan"), float("nan")),
        (60002.0, "z", 70.0, 0.0, 0.9),
    ],
    "identical timestamps": [(60000.0, "ugrizy"[d % 6], 100.0, 5.0, 0.9) for d in range(12)],
}


def _check_row_nulls(row: dict[str, Any], case: str) -> None:
    if case != "one band only":
        for key in ("latestPairMJD", "penultimatePairMJD"):
            assert row[key] is None, (case, key)
        # No band has a 10-70 day baseline: Lasair's 0, not NULL.
        assert (row["jump1"], row["jump2"]) == (0.0, 0.0), case
    assert row["BBBModel"] is None or case == "one band only", case
    assert (row["BBBModel"] is None) != (row["BBBNoFitReason"] is None)
    assert row["absMag"] is None  # no sky context


@pytest.mark.parametrize("case", list(CASES))
def test_degenerate_light_curve(case: str) -> None:
    batch = synthetic_batch([CASES[case], [(60000.0, "g", 100.0, 5.0, 0.9)]])
    objects = run(batch, all_features())
    assert objects.num_rows == 2
    _check_row_nulls(objects.to_pylist()[0], case)


def test_identical_timestamps_are_not_fitted() -> None:
    lc = [(60000.0, "ugrizy"[d % 6], 100.0 * (1 + d), 5.0, 0.9) for d in range(12)]
    row = run(synthetic_batch([lc]), all_features()).to_pylist()[0]
    assert row["BBBNoFitReason"] == "identical timestamps"
    assert row["BBBRiseRate"] is None


def test_all_cases_together() -> None:
    # Several degenerate alerts in one batch must not disturb each other.
    batch = synthetic_batch(list(CASES.values()))
    rows = run(batch, all_features()).to_pylist()
    for row, case in zip(rows, CASES, strict=True):
        _check_row_nulls(row, case)


def _drop_detections_of(batch: AlertBatch, row: int) -> AlertBatch:
    keep = pc.not_equal(batch.detections["row"], row)
    return AlertBatch(
        survey=batch.survey,
        alerts=batch.alerts,
        detections=batch.detections.filter(keep),
        forced=batch.forced,
        upper_limits=batch.upper_limits,
        cutouts=batch.cutouts,
    )


def test_alert_without_detection_rows() -> None:
    lc = [(60000.0 + d, "g", 100.0, 5.0, 0.9) for d in range(6)]
    batch = _drop_detections_of(
        synthetic_batch([lc, lc, lc], forced=[[], [(59990.0, "g", 1.0, 1.0)], []]), 1
    )
    rows = run(batch, all_features()).to_pylist()
    middle = rows[1]
    assert middle["nPosDiaSources"] == 0 and middle["ngSources"] == 0
    assert middle["medianR"] is None and middle["latestR"] is None
    assert middle["BBBNoFitReason"] == "fewer than 5 detections"
    assert rows[0]["nPosDiaSources"] == rows[2]["nPosDiaSources"] == 6


def test_empty_batch() -> None:
    batch = synthetic_batch([[(60000.0, "g", 100.0, 5.0, 0.9)]])
    empty = AlertBatch(
        survey="lsst",
        alerts=batch.alerts.slice(0, 0),
        detections=batch.detections.slice(0, 0),
        forced=batch.forced.slice(0, 0),
        upper_limits=batch.upper_limits,
        cutouts=batch.cutouts,
    )
    objects = run(empty, all_features())
    assert objects.num_rows == 0
    assert isinstance(objects, pa.Table)
