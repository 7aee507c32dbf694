"""Bad and degenerate ZTF light curves: NULL where a value cannot be computed, never a crash
or a warning (pytest turns warnings into errors)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from lanner.enrich.features.lightcurve_package import LightCurvePackageFeatures
from lanner.enrich.features.ztf_magnitudes import ZtfMagnitudeFeatures
from lanner.enrich.features.ztf_moving_averages import ZtfMovingAverages

ENRICHERS = [ZtfMagnitudeFeatures(), ZtfMovingAverages(), LightCurvePackageFeatures("ztf")]

EDGE_ALERTS: dict[str, list[Any]] = {
    "single": [(100.3, "g", 18.0, 0.1, True, 0.9)],
    "r_only": [(100.3, "r", 18.0, 0.1, True, 0.9), (101.3, "r", 17.5, 0.1, True, 0.9)],
    "negative": [(100.3, "g", 18.0, 0.1, False, 0.9), (101.3, "g", 17.5, 0.1, False, 0.9)],
    "same_time": [(100.3, "g", 18.0, 0.1, True, 0.9), (100.3, "g", 17.5, 0.1, True, 0.9)],
    "nulls": [
        (100.3, "g", None, None, None, None),
        (101.3, None, 18.0, 0.1, True, 0.9),
        (102.3, "g", float("nan"), float("nan"), True, float("nan")),
    ],
    "no_time": [(None, "g", 18.0, 0.1, True, 0.9), (100.3, "i", 18.0, 0.1, True, 0.9)],
    "limits_only": [],
}


@pytest.fixture
def edge_rows(make_ztf_batch: Any) -> dict[str, dict[str, Any]]:
    names = list(EDGE_ALERTS)
    limits = [{"row": names.index("limits_only"), "mjd": 99.0, "band": "g", "limit_mag": 20.5}]
    batch = make_ztf_batch([EDGE_ALERTS[n] for n in names], limits)
    merged: list[dict[str, Any]] = [{} for _ in names]
    for enricher in ENRICHERS:
        table = enricher(batch)
        assert table.num_rows == len(names)
        for row, values in zip(merged, table.to_pylist(), strict=True):
            row.update(values)
    return dict(zip(names, merged, strict=True))


def _all_null(row: dict[str, Any], prefix: str) -> bool:
    return all(v is None for k, v in row.items() if k.startswith(prefix))


def test_single_detection(edge_rows: dict[str, dict[str, Any]]) -> None:
    row = edge_rows["single"]
    assert row["maggmin"] == row["maggmax"] == row["maggmean"] == pytest.approx(18.0)
    assert row["dmdt_g"] is None and row["dmdt_g_2"] is None and row["dmdt_g_err"] is None
    assert row["mag_g02"] == pytest.approx(18.0)
    assert (row["ncandgp"], row["ncandgp_7"]) == (1, 1)
    assert row["g_minus_r"] is None and _all_null(row, "magr")


def test_one_band_only(edge_rows: dict[str, dict[str, Any]]) -> None:
    row = edge_rows["r_only"]
    assert row["dmdt_r"] == pytest.approx(0.5, rel=1e-6)
    assert _all_null(row, "magg") and _all_null(row, "mag_g") and row["dmdt_g"] is None
    assert row["g_minus_r"] is None and row["jd_g_minus_r"] is None


def test_negative_differences(edge_rows: dict[str, dict[str, Any]]) -> None:
    row = edge_rows["negative"]
    # Lasair's magnitude statistics and averages include them; counts, slopes, colour and the
    # light-curve package (positive detections only) do not.
    assert row["maggmin"] == pytest.approx(17.5)
    assert row["mag_g02"] is not None
    assert row["ncandgp"] == 0 and row["dmdt_g"] is None
    assert row["lc_mean_g"] is None


def test_identical_timestamps_give_null_slopes(edge_rows: dict[str, dict[str, Any]]) -> None:
    row = edge_rows["same_time"]
    assert row["dmdt_g"] is None and row["dmdt_g_err"] is None
    assert row["lc_maximum_slope_g"] is None and row["lc_linear_fit_slope_g"] is None
    assert row["maggmean"] == pytest.approx(17.75)


def test_missing_fields(edge_rows: dict[str, dict[str, Any]]) -> None:
    row = edge_rows["nulls"]
    # Only the band-less detection has a magnitude: no band statistics; it still counts.
    assert _all_null(row, "magg") and _all_null(row, "mag_g") and _all_null(row, "lc_")
    assert row["ncandgp"] == 1
    row = edge_rows["no_time"]
    assert row["maggmin"] is None and row["mag_g02"] is None
    assert row["ncandgp"] == 2 and row["ncandgp_7"] == 1  # the undated one is in no window


def test_upper_limits_only(edge_rows: dict[str, dict[str, Any]]) -> None:
    row = edge_rows["limits_only"]
    assert row["ncandgp"] == 0 and row["ncandgp_7"] == 0
    assert all(v is None for k, v in row.items() if not k.startswith("ncandgp"))


def test_no_non_finite_values(edge_rows: dict[str, dict[str, Any]]) -> None:
    for row in edge_rows.values():
        assert all(not isinstance(v, float) or math.isfinite(v) for v in row.values())


def test_empty_batch(make_ztf_batch: Any) -> None:
    batch = make_ztf_batch([])
    for enricher in ENRICHERS:
        table = enricher(batch)
        assert table.num_rows == 0
        assert table.column_names == [c.name for c in enricher.columns]
