"""Lasair-ZTF magnitude statistics of each alert's packet light curve.

Input: ``AlertBatch.detections`` of a ZTF batch (the triggering detection plus the packet's
previous detections). Output: the ``objects`` columns below, one row per alert. No side
effects.

Definitions follow Lasair-ZTF's object features (lsst-uk/lasair4), computed here for the
whole batch at once. Where Lanner departs from Lasair it says so in the column description
and in ``docs/features-ztf.md``: the i band is left out of the r-band columns, ``dmdt_*_2``
has Lasair's sign (see below), "good" detections use the packet's one
reliability score, and nights are grouped by Palomar local noon instead of ZTF's ``nid``.
``dmdt_*_2`` keeps Lasair's sign (later minus earlier magnitude, so brightening is negative,
the opposite of ``dmdt_*``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lanner.batch import AlertBatch, Survey
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.enrich.features.ztf_detections import (
    JD_MINUS_MJD,
    ZTF_BANDS,
    BandSegments,
    Detections,
)
from lanner.schema.columns import Column, ColumnType

NAME = "ztf_magnitudes"

#: Lasair's "good quality" threshold on the real/bogus score.
GOOD_RELIABILITY = 0.75

#: Windows of ``ncandgp_7`` / ``ncandgp_14``, before the latest detection [day].
RECENT_WINDOWS: tuple[int, ...] = (7, 14)

#: Fraction of a UT day at which local mean noon falls at Palomar (longitude -116.86 deg):
#: (12 h + 116.86 / 15 h) / 24 h. One ZTF night never straddles it.
PALOMAR_NOON_DAY_FRACTION = (12.0 + 116.8639 / 15.0) / 24.0


def _col(name: str, type_: ColumnType, description: str, unit: str | None) -> Column:
    return Column(name, type_, description, unit, producer=NAME)


def _columns() -> tuple[Column, ...]:
    cols = [
        _col(
            "ncandgp",
            "int",
            "Number of detections with good quality (reliability > 0.75) "
            "and brighter than the reference (positive difference)",
            None,
        ),
    ]
    for days in RECENT_WINDOWS:
        cols.append(
            _col(
                f"ncandgp_{days}",
                "int",
                f"Number of good, positive detections less "
                f"than {days} days before the latest detection",
                None,
            )
        )
    for band in ZTF_BANDS:
        cols += [
            _col(
                f"mag{band}min",
                "float",
                f"Minimum {band} magnitude of the light curve (brightest), over all detections",
                "mag",
            ),
            _col(
                f"mag{band}max",
                "float",
                f"Maximum {band} magnitude of the light curve (faintest), over all detections",
                "mag",
            ),
            _col(
                f"mag{band}mean",
                "float",
                f"Mean {band} magnitude of the light curve, over all detections",
                "mag",
            ),
        ]
    for band in ZTF_BANDS:
        cols += [
            _col(
                f"dmdt_{band}",
                "float",
                f"Latest change of {band} magnitude per day between "
                "the last two detections, both positive (brightening = positive)",
                "mag/day",
            ),
            _col(
                f"dmdt_{band}_err",
                "float",
                f"Error of dmdt_{band}: quadrature sum of the "
                "two magnitude errors divided by their time difference",
                "mag/day",
            ),
            _col(
                f"dmdt_{band}_2",
                "float",
                f"Change of {band} magnitude per day between the "
                "second- and third-last detections, both positive: later minus earlier magnitude "
                "(brightening = negative, as Lasair)",
                "mag/day",
            ),
        ]
    cols += [
        _col(
            "g_minus_r",
            "float",
            "g - r of the latest positive detections on the most "
            "recent night with positive detections in both bands",
            "mag",
        ),
        _col("jd_g_minus_r", "double", "Julian Date of the g detection used for g_minus_r", "JD"),
    ]
    return tuple(cols)


def _ztf_night(mjd: np.ndarray) -> np.ndarray:
    """Night number of each time [MJD]: nights change at Palomar local mean noon."""
    return np.floor(mjd - PALOMAR_NOON_DAY_FRACTION)


def _good_counts(det: Detections) -> dict[str, np.ndarray]:
    """``ncandgp`` and its recent-window versions for every alert."""
    n = det.n_alerts
    has_time = np.isfinite(det.mjd)
    # NaN > 0.75 is False: a detection without a score is not "good".
    with np.errstate(invalid="ignore"):
        good = det.positive & (det.reliability > GOOD_RELIABILITY)
    latest = np.full(n, -np.inf)
    np.maximum.at(latest, det.row[has_time], det.mjd[has_time])
    out = {"ncandgp": np.bincount(det.row[good], minlength=n)}
    age = latest[det.row] - det.mjd
    for days in RECENT_WINDOWS:
        # NaN age (no time) compares False, so undated detections count in no window.
        with np.errstate(invalid="ignore"):
            recent = good & (age < days)
        out[f"ncandgp_{days}"] = np.bincount(det.row[recent], minlength=n)
    return out


def _magnitude_stats(det: Detections, segs: BandSegments) -> dict[str, np.ndarray]:
    """Min, max and mean magnitude per band, and the two-point slopes."""
    n_seg = segs.count.size
    mag = det.mag[segs.take]
    mjd = det.mjd[segs.take]
    pos = det.positive[segs.take]
    err = det.mag_err[segs.take]
    filled = np.flatnonzero(segs.count > 0)
    lo = np.full(n_seg, np.nan)
    hi = np.full(n_seg, np.nan)
    mean = np.full(n_seg, np.nan)
    if filled.size:
        lo[filled] = np.minimum.reduceat(mag, segs.start[filled])
        hi[filled] = np.maximum.reduceat(mag, segs.start[filled])
        mean[filled] = (
            np.bincount(segs.seg, weights=mag, minlength=n_seg)[filled] / segs.count[filled]
        )

    dmdt = np.full(n_seg, np.nan)
    dmdt_err = np.full(n_seg, np.nan)
    dmdt_2 = np.full(n_seg, np.nan)
    s2, i2 = segs.last(2)
    i1 = i2 + 1
    dt = mjd[i1] - mjd[i2]
    # Equal times give no slope (NULL), as Lasair's division by zero does.
    ok = pos[i1] & pos[i2] & (dt > 0)
    dmdt[s2[ok]] = (mag[i2[ok]] - mag[i1[ok]]) / dt[ok]
    dmdt_err[s2[ok]] = np.hypot(err[i1[ok]], err[i2[ok]]) / dt[ok]
    s3, i3 = segs.last(3)
    i2 = i3 + 1
    dt = mjd[i2] - mjd[i3]
    ok = pos[i2] & pos[i3] & (dt > 0)
    # Lasair-ZTF's sign: later minus earlier magnitude (the opposite of dmdt_*).
    dmdt_2[s3[ok]] = (mag[i2[ok]] - mag[i3[ok]]) / dt[ok]

    out: dict[str, np.ndarray] = {}
    for name, values in (("min", lo), ("max", hi), ("mean", mean)):
        for band, per_alert in zip(ZTF_BANDS, segs.per_band(values), strict=True):
            out[f"mag{band}{name}"] = per_alert
    for name, values in (("", dmdt), ("_err", dmdt_err), ("_2", dmdt_2)):
        for band, per_alert in zip(ZTF_BANDS, segs.per_band(values), strict=True):
            out[f"dmdt_{band}{name}"] = per_alert
    return out


def _colour(det: Detections, usable: np.ndarray) -> dict[str, np.ndarray]:
    """``g_minus_r`` on the latest night with positive g and r detections."""
    n = det.n_alerts
    g_minus_r = np.full(n, np.nan)
    jd = np.full(n, np.nan)
    idx = np.flatnonzero(usable & det.positive & (det.band >= 0))
    if idx.size == 0:
        return {"g_minus_r": g_minus_r, "jd_g_minus_r": jd}
    row = det.row[idx]
    night = _ztf_night(det.mjd[idx])
    # Detections are in (row, mjd) order and nights grow with mjd: (row, night) groups are
    # already contiguous. Number them, then split each group by band keeping time order.
    new_group = np.ones(idx.size, dtype=bool)
    new_group[1:] = (row[1:] != row[:-1]) | (night[1:] != night[:-1])
    group = np.cumsum(new_group) - 1
    key = group * 2 + det.band[idx]
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    is_last = np.ones(idx.size, dtype=bool)
    is_last[:-1] = key_sorted[1:] != key_sorted[:-1]
    last = idx[order[is_last]]
    last_key = key_sorted[is_last]
    n_group = int(group[-1]) + 1
    mag = np.full((n_group, 2), np.nan)
    mjd = np.full((n_group, 2), np.nan)
    mag[last_key // 2, last_key % 2] = det.mag[last]
    mjd[last_key // 2, last_key % 2] = det.mjd[last]
    group_row = row[new_group]
    both = np.flatnonzero(np.isfinite(mag).all(axis=1))
    # The last such group of each alert is its most recent night with both bands.
    latest = np.ones(both.size, dtype=bool)
    latest[:-1] = group_row[both[1:]] != group_row[both[:-1]]
    chosen = both[latest]
    g_minus_r[group_row[chosen]] = mag[chosen, 0] - mag[chosen, 1]
    jd[group_row[chosen]] = mjd[chosen, 0] + JD_MINUS_MJD
    return {"g_minus_r": g_minus_r, "jd_g_minus_r": jd}


class ZtfMagnitudeFeatures(ObjectFeatureEnricher):
    """Lasair-ZTF magnitude statistics, slopes, colour and good-detection counts."""

    name = NAME
    surveys: frozenset[Survey] = frozenset({"ztf"})
    declared_columns = _columns()

    def values(self, batch: AlertBatch) -> Mapping[str, object]:
        det = Detections.from_batch(batch)
        usable = np.isfinite(det.mjd) & np.isfinite(det.mag)
        segs = BandSegments.select(det, usable)
        values: dict[str, object] = {}
        values.update(_good_counts(det))
        values.update(_magnitude_stats(det, segs))
        values.update(_colour(det, usable))
        return values
