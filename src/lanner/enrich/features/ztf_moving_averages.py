"""Lasair-ZTF exponential moving averages of each band's magnitude.

Input: ``AlertBatch.detections`` of a ZTF batch. Output: ``mag_g02``, ``mag_g08``,
``mag_g28``, ``mag_r02``, ``mag_r08``, ``mag_r28`` of the ``objects`` table, one row per
alert. No side effects.

Lasair's moving average over irregular sampling (lsst-uk/lasair4, "EMA.pdf") starts at the
first detection of a band and, at each later detection ``k``, decays the running value by
``f_k = exp(-(t_k - t_{k-1}) / tau)``::

    E_0 = m_0,        E_k = f_k E_{k-1} + (1 - f_k) m_k

Unrolled, the decay factors telescope, so the value at the last detection ``n`` is a
weighted mean with closed-form weights::

    E_n = sum_k w_k m_k,   w_k = (1 - f_k) exp(-(t_n - t_k) / tau),   f_0 = 0

which is one ``np.bincount`` over the whole batch per time constant — no loop over alerts
or over light-curve length. Weights of old points underflow quietly to zero.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lanner.batch import AlertBatch, Survey
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.enrich.features.ztf_detections import ZTF_BANDS, BandSegments, Detections
from lanner.schema.columns import Column

NAME = "ztf_moving_averages"

#: Time constants of the moving averages [day]; the column suffix is the two-digit value.
TIME_CONSTANTS: tuple[int, ...] = (2, 8, 28)


def _columns() -> tuple[Column, ...]:
    return tuple(
        Column(
            f"mag_{band}{tau:02d}",
            "float",
            f"Exponential moving average of the {band} magnitude over all detections, "
            f"time constant {tau} days, at the latest {band} detection",
            "mag",
            producer=NAME,
        )
        for band in ZTF_BANDS
        for tau in TIME_CONSTANTS
    )


def moving_averages(
    seg: np.ndarray, t: np.ndarray, m: np.ndarray, n_seg: int, tau: float
) -> np.ndarray:
    """Exponential moving average at the last point of every segment.

    Parameters
    ----------
    seg
        Segment number of each point, non-decreasing (int64).
    t
        Time of each point [day], non-decreasing within a segment.
    m
        Value of each point (finite).
    n_seg
        Number of segments; empty segments give NaN.
    tau
        Time constant [day].

    Returns
    -------
    numpy.ndarray
        The average at each segment's last point (float64, length ``n_seg``).
    """
    count = np.bincount(seg, minlength=n_seg)
    out = np.full(n_seg, np.nan)
    if seg.size == 0:
        return out
    first = np.ones(seg.size, dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    step = np.zeros(seg.size)
    step[1:] = t[1:] - t[:-1]
    # Steps across a segment boundary are meaningless (and may be huge): zero them.
    step[first] = 0.0
    # 1 - f_k, written with expm1 to keep precision for close detections; f_0 = 0.
    gain = np.where(first, 1.0, -np.expm1(-step / tau))
    end = np.cumsum(count)
    t_last = t[end[seg] - 1]
    weight = gain * np.exp(-(t_last - t) / tau)
    total = np.bincount(seg, weights=weight * m, minlength=n_seg)
    filled = count > 0
    out[filled] = total[filled]
    return out


class ZtfMovingAverages(ObjectFeatureEnricher):
    """Lasair-ZTF exponential moving averages of g and r magnitudes (2, 8, 28 days)."""

    name = NAME
    surveys: frozenset[Survey] = frozenset({"ztf"})
    declared_columns = _columns()

    def values(self, batch: AlertBatch) -> Mapping[str, object]:
        det = Detections.from_batch(batch)
        # Lasair averages every detection, negative differences included (their magpsf is
        # the magnitude of |flux|); points without a time or magnitude cannot enter.
        segs = BandSegments.select(det, np.isfinite(det.mjd) & np.isfinite(det.mag))
        t = det.mjd[segs.take]
        m = det.mag[segs.take]
        values: dict[str, object] = {}
        for tau in TIME_CONSTANTS:
            ema = moving_averages(segs.seg, t, m, segs.count.size, float(tau))
            for band, per_alert in zip(ZTF_BANDS, segs.per_band(ema), strict=True):
                values[f"mag_{band}{tau:02d}"] = per_alert
        return values
