"""ZTF exponential moving averages against Lasair's recurrence, run point by point."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from lanner.batch import AlertBatch
from lanner.enrich.features.ztf_moving_averages import ZtfMovingAverages


def reference_ema(history: list[dict[str, Any]], fid: int, tau: float) -> float | None:
    """Lasair's loop: E = E f + m (1 - f), f = exp(-(t - t_prev) / tau), from the first point."""
    value = None
    t_prev = 0.0
    for c in history:
        if c["fid"] != fid:
            continue
        f = math.exp(-(c["jd"] - t_prev) / tau) if value is not None else 0.0
        value = c["magpsf"] if value is None else value * f + c["magpsf"] * (1.0 - f)
        t_prev = c["jd"]
    return value


def test_matches_recurrence_on_real_alerts(
    ztf_batch: AlertBatch, ztf_history: list[list[dict[str, Any]]]
) -> None:
    got = ZtfMovingAverages()(ztf_batch).to_pylist()
    checked = 0
    for i, history in enumerate(ztf_history):
        for fid, band in ((1, "g"), (2, "r")):
            for tau in (2, 8, 28):
                want = reference_ema(history, fid, float(tau))
                value = got[i][f"mag_{band}{tau:02d}"]
                if want is None:
                    assert value is None, (i, band, tau)
                else:
                    assert value == pytest.approx(want, rel=1e-6), (i, band, tau)
                    checked += 1
    assert checked > 3000


def test_hand_worked_example(make_ztf_batch: Any) -> None:
    # g at t = 0, 2, 4 with m = 20, 19, 18 and tau = 2: f = exp(-1) at each step.
    # E0 = 20; E1 = 20 e^-1 + 19 (1 - e^-1); E2 = E1 e^-1 + 18 (1 - e^-1).
    e = math.exp(-1.0)
    e1 = 20 * e + 19 * (1 - e)
    e2 = e1 * e + 18 * (1 - e)
    batch = make_ztf_batch(
        [
            [
                (0.0, "g", 20.0, 0.1, True, 0.9),
                (2.0, "g", 19.0, 0.1, True, 0.9),
                (4.0, "g", 18.0, 0.1, False, 0.9),
            ]
        ]
    )
    row = ZtfMovingAverages()(batch).to_pylist()[0]
    assert row["mag_g02"] == pytest.approx(e2, rel=1e-6)
    # Expanded by hand: E2 = 18 + e^-1 + e^-2 = 18.5032139.
    assert row["mag_g02"] == pytest.approx(18.0 + e + e * e, rel=1e-6)
    assert row["mag_g02"] == pytest.approx(18.5032139, rel=1e-7)
    assert row["mag_r02"] is None


def test_single_point_and_repeated_time(make_ztf_batch: Any) -> None:
    # One point: every average is that magnitude. Two points at one time: the second has
    # zero weight (f = 1), as in Lasair's loop.
    batch = make_ztf_batch(
        [
            [(5.0, "r", 17.5, 0.1, True, 0.9)],
            [(5.0, "g", 17.5, 0.1, True, 0.9), (5.0, "g", 19.5, 0.1, True, 0.9)],
        ]
    )
    rows = ZtfMovingAverages()(batch).to_pylist()
    for tau in ("02", "08", "28"):
        assert rows[0][f"mag_r{tau}"] == pytest.approx(17.5)
        assert rows[0][f"mag_g{tau}"] is None
        assert rows[1][f"mag_g{tau}"] == pytest.approx(17.5)


def test_old_points_do_not_overflow(make_ztf_batch: Any) -> None:
    # A 10-year gap: weights underflow to zero without a warning (warnings are errors).
    batch = make_ztf_batch(
        [
            [(50000.0, "g", 15.0, 0.1, True, 0.9), (53650.0, "g", 20.0, 0.1, True, 0.9)],
            [(60000.0, "g", 16.0, 0.1, True, 0.9)],
        ]
    )
    rows = ZtfMovingAverages()(batch).to_pylist()
    assert rows[0]["mag_g02"] == pytest.approx(20.0)
    assert rows[0]["mag_g28"] == pytest.approx(20.0)
    assert rows[1]["mag_g28"] == pytest.approx(16.0)
    assert np.isfinite(rows[0]["mag_g08"])
