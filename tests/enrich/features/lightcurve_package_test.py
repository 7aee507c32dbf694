"""light-curve package features against the package called on each light curve alone.

The enricher packs the whole batch into one Arrow list and runs every feature in multi-band
mode; the reference below selects each alert's band light curve in plain Python and calls
each single-band feature class on it, so batching, band splitting, point selection and
column naming are all checked.
"""

from __future__ import annotations

import math
from typing import Any

import light_curve as lc
import numpy as np
import pytest

from lanner.batch import AlertBatch
from lanner.enrich.features.lightcurve_package import LightCurvePackageFeatures

#: Single-band extractors, one per package feature (names as the package gives them).
SINGLE_BAND = [
    lc.Mean(),
    lc.WeightedMean(),
    lc.StandardDeviation(),
    lc.Median(),
    lc.Amplitude(),
    lc.BeyondNStd(nstd=1),
    lc.Cusum(),
    lc.InterPercentileRange(quantile=0.1),
    lc.Kurtosis(),
    lc.LinearTrend(),
    lc.LinearFit(),
    lc.MagnitudePercentageRatio(quantile_numerator=0.4, quantile_denominator=0.05),
    lc.MagnitudePercentageRatio(quantile_numerator=0.2, quantile_denominator=0.1),
    lc.MaximumSlope(),
    lc.MedianAbsoluteDeviation(),
    lc.MedianBufferRangePercentage(quantile=0.1),
    lc.PercentAmplitude(),
    lc.MeanVariance(),
    lc.AndersonDarlingNormal(),
    lc.ReducedChi2(),
    lc.Skew(),
    lc.StetsonK(),
]


def reference(points: list[tuple[float, float, float]]) -> dict[str, float]:
    """Features of one band's (t, value, error) points, package called feature by feature."""
    kept: list[tuple[float, float, float]] = []
    for p in points:  # in time order; the first point at a repeated time is kept
        if kept and kept[-1][0] == p[0]:
            continue
        kept.append(p)
    t, m, s = (np.array([p[i] for p in kept], dtype=np.float64) for i in range(3))
    out: dict[str, float] = {}
    for feature in SINGLE_BAND:
        values = feature(t, m, s, fill_value=np.nan) if len(kept) else [np.nan] * len(feature.names)
        for name, v in zip(feature.names, values, strict=True):
            out[name.lower()] = float(v) if np.isfinite(v) else math.nan
    return out


def _compare(got: list[dict[str, Any]], curves: list[dict[str, list]], bands: str) -> int:
    checked = 0
    for i, per_band in enumerate(curves):
        for band in bands:
            want = reference(per_band.get(band, []))
            for name, value in want.items():
                g = got[i][f"lc_{name}_{band}"]
                if math.isnan(value):
                    assert g is None, (i, band, name, g)
                else:
                    assert g == pytest.approx(value, rel=1e-6, abs=1e-12), (i, band, name)
                    checked += 1
    return checked


def test_ztf_matches_single_curve_calls(
    ztf_batch: AlertBatch, ztf_history: list[list[dict[str, Any]]]
) -> None:
    enricher = LightCurvePackageFeatures("ztf")
    got = enricher(ztf_batch).to_pylist()
    curves = []
    for history in ztf_history:
        per_band: dict[str, list] = {}
        for c in history:
            band = {1: "g", 2: "r"}.get(c["fid"])
            if band and c["isdiffpos"] in ("t", "1") and c["sigmapsf"] > 0:
                per_band.setdefault(band, []).append(
                    (c["jd"] - 2400000.5, c["magpsf"], c["sigmapsf"])
                )
        curves.append(per_band)
    assert _compare(got, curves, "gr") > 10000


def test_rubin_matches_single_curve_calls(
    rubin_batch: AlertBatch, rubin_packets: list[dict[str, Any]]
) -> None:
    enricher = LightCurvePackageFeatures("lsst")
    got = enricher(rubin_batch).to_pylist()
    curves = []
    for packet in rubin_packets:
        sources = {
            s["diaSourceId"]: s for s in [*(packet["prvDiaSources"] or []), packet["diaSource"]]
        }
        per_band: dict[str, list] = {}
        for s in sorted(
            sources.values(), key=lambda s: (s["midpointMjdTai"], s["diaSourceId"], -s["psfFlux"])
        ):
            flux, err = s["psfFlux"], s["psfFluxErr"]
            if flux is not None and err is not None and np.isfinite([flux, err]).all() and err > 0:
                per_band.setdefault(s["band"], []).append((s["midpointMjdTai"], flux, err))
        curves.append(per_band)
    assert _compare(got, curves, "ugrizy") > 2000


def test_columns_declared_with_units() -> None:
    ztf = LightCurvePackageFeatures("ztf")
    rubin = LightCurvePackageFeatures("lsst")
    assert len(ztf.columns) == 26 * 2 and len(rubin.columns) == 26 * 6
    by_name = {c.name: c for c in ztf.columns}
    assert by_name["lc_amplitude_g"].unit == "mag"
    assert by_name["lc_linear_fit_slope_r"].unit == "mag/day"
    assert by_name["lc_stetson_k_g"].unit is None
    assert {c.name: c for c in rubin.columns}["lc_amplitude_y"].unit == "nJy"
    assert ztf.surveys == frozenset({"ztf"}) and rubin.surveys == frozenset({"lsst"})


def test_short_and_degenerate_curves(make_ztf_batch: Any) -> None:
    batch = make_ztf_batch(
        [
            [(1.0, "g", 18.0, 0.1, True, 0.9)],  # one point
            [(1.0, "g", 18.0, 0.1, True, 0.9), (1.0, "g", 18.5, 0.1, True, 0.9)],  # one time
            [(1.0, "r", 18.0, 0.1, False, 0.9), (2.0, "r", 18.5, 0.1, False, 0.9)],  # negative
            [
                (1.0, "g", 18.0, 0.1, True, 0.9),
                (2.0, "g", 18.0, 0.1, True, 0.9),
                (3.0, "g", 18.0, 0.1, True, 0.9),
                (4.0, "g", 18.0, 0.1, True, 0.9),
            ],  # constant
            [
                (1.0, "g", None, None, True, 0.9),
                (2.0, "g", float("nan"), 0.1, True, 0.9),
                (3.0, None, 18.0, 0.1, True, 0.9),
                (4.0, "g", 18.0, 0.0, None, None),
            ],  # bad
            [],  # no detections at all
        ]
    )
    rows = LightCurvePackageFeatures("ztf")(batch).to_pylist()
    assert rows[0]["lc_mean_g"] == pytest.approx(18.0)
    assert rows[0]["lc_standard_deviation_g"] is None
    assert rows[0]["lc_mean_r"] is None
    assert rows[1]["lc_mean_g"] == pytest.approx(18.0)  # the repeated time is dropped
    assert rows[1]["lc_maximum_slope_g"] is None
    assert all(v is None for v in rows[2].values())
    assert rows[3]["lc_amplitude_g"] == pytest.approx(0.0)
    assert rows[3]["lc_linear_fit_slope_g"] == pytest.approx(0.0, abs=1e-12)
    assert all(v is None for v in rows[4].values())
    assert all(v is None for v in rows[5].values())
    for row in rows:
        assert all(v is None or math.isfinite(v) for v in row.values())
