"""Jump detector: how many sigma the recent fluxes lie from the earlier baseline.

Input: ``batch.detections``. Output: ``objects.jump1`` and ``objects.jump2`` per alert. No side
effects.

Definition (after Lasair-LSST's ``jump`` feature), per alert and band, with ``T`` the MJD of
the latest detection and ``Δ = T - mjd``:

* baseline: the fluxes of the detections with ``10 < Δ < 70`` days; it counts only when it
  has at least 5 points and a non-zero standard deviation σ (sample, ``ddof=1``);
* test points: the detections with ``0 <= Δ <= 10`` days (the latest one included);
* the band's jump is the largest ``|flux - mean| / σ`` over its test points.

``jump1`` is the largest band jump, ``jump2`` the second largest (another band); 0 when
fewer bands have one, as Lasair writes it (so ``jump1 > 3`` and ``jump1 < 1`` select the same
objects as on Lasair); NULL only for an alert without detections.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lanner.batch import AlertBatch, Survey
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.enrich.features.light_curve import RUBIN_BANDS, LightCurves, detections
from lanner.schema.columns import Column

NAME = "jump"

#: Test window: detections at most this many days before the latest [day].
TEST_DAYS = 10.0
#: Baseline window ends this many days before the latest detection [day].
BASELINE_DAYS = 70.0
#: Fewest baseline points per band.
MIN_BASELINE_POINTS = 5

COLUMNS: tuple[Column, ...] = (
    Column(
        "jump1",
        "float",
        "Largest jump, in sigma, of a flux of the last 10 days from its band's mean flux "
        "10-70 days before the latest diaSource; 0 when no band has a baseline (as Lasair)",
        "sigma",
        NAME,
    ),
    Column(
        "jump2",
        "float",
        "Second largest jump (another band), in sigma, defined as jump1; 0 when no second "
        "band has one",
        "sigma",
        NAME,
    ),
)


def band_jumps(lc: LightCurves) -> np.ndarray:
    """Largest jump of each (alert, band), shape ``(n_alerts, 6)``, NaN where undefined."""
    n = lc.n_alerts
    nb = len(RUBIN_BANDS)
    has = lc.counts > 0
    latest = np.full(n, np.nan)
    # Light curves are time-sorted, so the last point of each alert is the latest.
    latest[has] = lc.mjd[lc.offsets[1:][has] - 1]
    delta = latest[lc.row] - lc.mjd
    ok = np.isfinite(lc.flux) & np.isfinite(delta) & (lc.band >= 0)
    key = lc.row * nb + lc.band.astype(np.int64)

    base = ok & (delta > TEST_DAYS) & (delta < BASELINE_DAYS)
    size = n * nb
    count = np.bincount(key[base], minlength=size)
    total = np.bincount(key[base], weights=lc.flux[base], minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        # Second pass about the mean: no cancellation for large, nearly constant fluxes.
        dev2 = np.bincount(
            key[base], weights=(lc.flux[base] - mean[key[base]]) ** 2, minlength=size
        )
        sigma = np.sqrt(dev2 / (count - 1))
    usable = (count >= MIN_BASELINE_POINTS) & (sigma > 0)

    test = ok & (delta >= 0) & (delta <= TEST_DAYS)
    test &= usable[np.where(test, key, 0)]
    jumps = np.full(size, -np.inf)
    k = key[test]
    np.maximum.at(jumps, k, np.abs(lc.flux[test] - mean[k]) / sigma[k])
    jumps[~np.isfinite(jumps)] = np.nan
    return jumps.reshape(n, nb)


def jump_columns(lc: LightCurves) -> dict[str, np.ndarray]:
    """``jump1`` and ``jump2`` of every alert."""
    per_band = band_jumps(lc)
    # NaN sorts last; largest first after negation.
    ranked = -np.sort(-np.where(np.isnan(per_band), -np.inf, per_band), axis=1)
    # Lasair's convention: 0 where no band (or no second band) has a jump.
    ranked[~np.isfinite(ranked)] = 0.0
    ranked[lc.counts == 0] = np.nan
    return {"jump1": ranked[:, 0], "jump2": ranked[:, 1]}


class FluxJump(ObjectFeatureEnricher):
    """Largest and second-largest per-band jump of recent fluxes from the earlier baseline
    (Rubin)."""

    name = NAME
    surveys: frozenset[Survey] = frozenset({"lsst"})
    declared_columns = COLUMNS

    def values(self, batch: AlertBatch) -> Mapping[str, np.ndarray]:
        return jump_columns(detections(batch))
