"""Detection counts and reliability of Rubin light curves.

Input: ``batch.detections`` (the alert's DIA source and its packet history). Output: one row per
alert of the ``objects`` columns below. No side effects. Definitions follow Lasair-LSST's
``counting`` feature group: every count is over the detections carried by the alert packet.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lanner.batch import AlertBatch, Survey
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.enrich.features.light_curve import RUBIN_BANDS, LightCurves, detections
from lanner.schema.columns import Column

NAME = "counts"

#: A detection is "good" when its reliability exceeds this.
GOOD_RELIABILITY = 0.5

COLUMNS: tuple[Column, ...] = (
    Column("nPosDiaSources", "int", "Number of diaSources with positive flux", None, NAME),
    Column("nNegDiaSources", "int", "Number of diaSources with negative flux", None, NAME),
    Column(
        "nPosDiaSourcesNights",
        "int",
        "Number of nights (noon-to-noon UTC) with a positive-flux diaSource",
        None,
        NAME,
    ),
    Column("nSourcesGood", "int", "Number of diaSources with reliability > 0.5", None, NAME),
    *(Column(f"n{b}Sources", "int", f"Number of {b} diaSources", None, NAME) for b in RUBIN_BANDS),
    Column("medianR", "float", "Median reliability of the diaSources", None, NAME),
    Column("latestR", "float", "Reliability of the most recent diaSource", None, NAME),
)


def _group_median(values: np.ndarray, lc: LightCurves) -> np.ndarray:
    """Median of the finite ``values`` of each alert (NaN when there are none)."""
    finite = np.isfinite(values)
    # Non-finite values sort after every finite one within their alert.
    key = np.where(finite, values, np.inf)
    order = np.lexsort((key, lc.row))
    n_finite = np.bincount(lc.row[finite], minlength=lc.n_alerts)
    starts = lc.offsets[:-1]
    lo = starts + np.maximum(n_finite - 1, 0) // 2
    hi = starts + n_finite // 2
    # A NaN sentinel at the end keeps the indices of empty alerts in range.
    vals = np.append(values[order], np.nan)
    last = len(values)
    med = 0.5 * (vals[np.minimum(lo, last)] + vals[np.minimum(hi, last)])
    return np.where(n_finite > 0, med, np.nan)


def _group_sum(mask: np.ndarray, lc: LightCurves) -> np.ndarray:
    return np.bincount(lc.row[mask], minlength=lc.n_alerts).astype(np.int32)


def counts_columns(lc: LightCurves) -> dict[str, np.ndarray]:
    """Compute the count columns from the detections ``lc`` of a batch."""
    n = lc.n_alerts
    pos = lc.flux > 0
    out: dict[str, np.ndarray] = {
        "nPosDiaSources": _group_sum(pos, lc),
        "nNegDiaSources": _group_sum(lc.flux < 0, lc),
        "nSourcesGood": _group_sum(lc.reliability > GOOD_RELIABILITY, lc),
    }
    # Noon-to-noon UTC nights: a Chilean night never straddles MJD + 0.5.
    night = np.floor(lc.mjd + 0.5)
    p_row, p_night = lc.row[pos], night[pos]
    # Points are time-ordered within an alert, so a new night starts wherever it changes.
    new = np.ones(len(p_row), dtype=bool)
    new[1:] = (p_row[1:] != p_row[:-1]) | (p_night[1:] != p_night[:-1])
    out["nPosDiaSourcesNights"] = np.bincount(p_row[new], minlength=n).astype(np.int32)
    for i, b in enumerate(RUBIN_BANDS):
        out[f"n{b}Sources"] = _group_sum(lc.band == i, lc)
    out["medianR"] = _group_median(lc.reliability, lc)
    last = lc.offsets[1:] - 1
    has = lc.counts > 0
    latest = np.full(n, np.nan)
    latest[has] = lc.reliability[last[has]]
    out["latestR"] = latest
    return out


class DetectionCounts(ObjectFeatureEnricher):
    """Counts of positive, negative, good and per-band diaSources; median and latest
    reliability (Rubin)."""

    name = NAME
    surveys: frozenset[Survey] = frozenset({"lsst"})
    declared_columns = COLUMNS

    def values(self, batch: AlertBatch) -> Mapping[str, np.ndarray]:
        return counts_columns(detections(batch))
