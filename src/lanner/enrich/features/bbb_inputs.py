"""The points the Bazin × blackbody fits use, for every qualifying alert of a batch at once.

Input: the batch's detections and forced photometry (:class:`LightCurves`), E(B-V) per alert
and the mask of alerts to fit. Output: :class:`FitPoints` — the points of those alerts,
flattened and in time order, with per-alert summaries — and :func:`padded_groups`, the same
points in padded ``(m, L)`` arrays grouped by padded length. No side effects.

Every step is a whole-array operation (masks, ``bincount``, one stable sort): the cost is
linear in the batch. The padded length of a light curve depends only on its own number of
points (:func:`padded_length`), so its place in the arrays — and so its fit — does not depend
on the other alerts of the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lanner.enrich.features.batched_lm import LMData
from lanner.enrich.features.light_curve import LightCurves, extinction_correction

#: Forced-photometry points prepended from just before the first detection (Lasair's choice).
N_FORCED_BEFORE = 4
#: Shortest padded length.
MIN_PADDED = 16


def usable(lc: LightCurves) -> np.ndarray:
    """Points with a finite flux and time, a positive error and a known band."""
    return np.isfinite(lc.flux) & np.isfinite(lc.mjd) & (lc.flux_err > 0) & (lc.band >= 0)


@dataclass(frozen=True)
class FitPoints:
    """Points of the alerts to fit, alert after alert, in time order.

    Attributes
    ----------
    alerts
        Batch row of each fitted alert (ascending).
    offsets
        Alert ``j`` owns points ``offsets[j]:offsets[j + 1]``.
    discovery
        MJD of each alert's first usable detection.
    t, band, flux, err
        Days since discovery, band index, extinction-corrected flux and error [nJy].
    """

    alerts: np.ndarray
    offsets: np.ndarray
    discovery: np.ndarray
    t: np.ndarray
    band: np.ndarray
    flux: np.ndarray
    err: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)


def fit_points(det: LightCurves, frc: LightCurves, ebv: np.ndarray, fit: np.ndarray) -> FitPoints:
    """Usable detections of the alerts where ``fit`` is True, each preceded by up to
    :data:`N_FORCED_BEFORE` usable forced points taken before its first usable detection."""
    n = det.n_alerts
    d_ok = usable(det) & fit[det.row]
    first = np.full(n, np.inf)
    np.minimum.at(first, det.row[d_ok], det.mjd[d_ok])
    f_ok = usable(frc) & fit[frc.row]
    f_ok[f_ok] = frc.mjd[f_ok] < first[frc.row[f_ok]]
    f_idx = np.flatnonzero(f_ok)
    f_row = frc.row[f_idx]
    # Keep the last N_FORCED_BEFORE of each alert's candidates (the table is in time order).
    per_row = np.bincount(f_row, minlength=n)
    after = np.cumsum(per_row)[f_row] - np.arange(len(f_idx)) - 1
    f_idx, f_row = f_idx[after < N_FORCED_BEFORE], f_row[after < N_FORCED_BEFORE]
    d_idx = np.flatnonzero(d_ok)
    d_row = det.row[d_idx]
    row = np.concatenate([f_row, d_row])
    kind = np.concatenate([np.zeros(len(f_idx), np.int8), np.ones(len(d_idx), np.int8)])
    # Stable: forced points (all earlier) first, then detections, each in table order.
    order = np.lexsort((kind, row))
    row = row[order]
    band = np.concatenate([frc.band[f_idx], det.band[d_idx]])[order]
    mjd = np.concatenate([frc.mjd[f_idx], det.mjd[d_idx]])[order]
    flux = np.concatenate([frc.flux[f_idx], det.flux[d_idx]])[order]
    err = np.concatenate([frc.flux_err[f_idx], det.flux_err[d_idx]])[order]
    corr = extinction_correction(band, ebv[row])
    alerts = np.flatnonzero(fit)
    offsets = np.searchsorted(row, np.append(alerts, n))
    return FitPoints(
        alerts=alerts,
        offsets=offsets.astype(np.int64),
        discovery=first[alerts],
        t=mjd - first[row],
        band=band.astype(np.int64),
        flux=flux * corr,
        err=err * corr,
    )


def padded_length(n: np.ndarray) -> np.ndarray:
    """Padded length of light curves of ``n`` points: at least :data:`MIN_PADDED`, rounded up
    to a quarter of the power of two below ``n`` (at most 25 % padding)."""
    n = np.asarray(n, dtype=np.int64)
    step = np.left_shift(1, np.maximum(np.floor(np.log2(np.maximum(n - 1, 1))) - 2, 0).astype(int))
    return np.maximum(MIN_PADDED, -(-n // step) * step)


def padded_groups(points: FitPoints) -> Iterator[tuple[np.ndarray, LMData]]:
    """``(positions, data)`` for each padded length: ``positions`` index ``points.alerts``,
    ``data`` holds their light curves padded with weight 0."""
    counts = points.counts
    lengths = padded_length(counts)
    within = np.arange(len(points.t)) - np.repeat(points.offsets[:-1], counts)
    alert_of_point = np.repeat(np.arange(len(counts)), counts)
    by_length = np.argsort(lengths, kind="stable")
    point_order = np.argsort(lengths[alert_of_point], kind="stable")
    uniq, first_alert = np.unique(lengths[by_length], return_index=True)
    first_point = np.searchsorted(lengths[alert_of_point][point_order], uniq)
    bounds_a = np.append(first_alert, len(counts))
    bounds_p = np.append(first_point, len(point_order))
    slot = np.empty(len(counts), np.int64)
    for g, length in enumerate(uniq):
        members = by_length[bounds_a[g] : bounds_a[g + 1]]
        slot[members] = np.arange(len(members))
        take = point_order[bounds_p[g] : bounds_p[g + 1]]
        r, c = slot[alert_of_point[take]], within[take]
        shape = (len(members), int(length))
        t, band, y, w = np.zeros(shape), np.zeros(shape, np.int64), np.zeros(shape), np.zeros(shape)
        t[r, c] = points.t[take]
        band[r, c] = points.band[take]
        y[r, c] = points.flux[take]
        w[r, c] = 1.0 / points.err[take]
        yield members, LMData(t, band, y, w)
