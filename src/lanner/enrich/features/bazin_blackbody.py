"""Bazin × blackbody and exponential × blackbody fits in the time–wavelength plane.

Input: ``batch.detections``, ``batch.forced`` and ``objects.ebv`` (the Milky Way enricher must
run first). Output: the ``BBB*`` columns of ``objects``. No side effects.

All bands are fitted at once (Lasair-LSST's BazinBlackBody, Williams 2023): the flux of band
``b`` at time ``t`` (days since the first detection) is a blackbody of temperature ``T`` at the
band's effective wavelength (:data:`~lanner.enrich.features.light_curve.RUBIN_WAVELENGTH_UM`),
normalised to 1 at the r-band wavelength, times a function of time:

* Bazin: ``A · exp(-kf (t - t0)) / (1 + exp(-kr (t - t0)))``;
* rising exponential: ``A · exp(k t)``.

Data (:mod:`.bbb_inputs`): an alert qualifies when it has at least 5 detections with finite
flux, positive flux error and a known band, at least one positive flux and more than one
distinct time; up to 4 forced-photometry points just before the first detection are prepended
(they pin the rise). Fluxes are corrected for Milky Way extinction first. Fits
(:mod:`.bbb_fits`): every qualifying light curve of the batch is fitted at once, by a bounded
Levenberg–Marquardt on padded arrays (:mod:`.batched_lm`), with three starts as extra rows;
stop rules are iteration counts and tolerances only, so the columns of an alert do not depend
on the machine's load nor on the other alerts of its batch. Only plausible fits are kept
(no parameter at a bound, χ²/dof at most 10, the blackbody's brightest band among the bands
observed, ≥ 75 % of the weighted variance explained); ``BBBNoFitReason`` says why otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from lanner.batch import AlertBatch, Survey
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.enrich.features.bazin_model import REFERENCE_WAVELENGTH_UM
from lanner.enrich.features.bbb_fits import fit_all
from lanner.enrich.features.bbb_inputs import FitPoints, fit_points, usable
from lanner.enrich.features.light_curve import (
    RUBIN_BANDS,
    LightCurves,
    detections,
    forced,
    require_ebv,
)
from lanner.schema.columns import Column

NAME = "bazin_blackbody"

MIN_DETECTIONS = 5

COLUMNS: tuple[Column, ...] = (
    Column("BBBRiseRate", "float", "Fitted Bazin or exponential rise rate", "1/day", NAME),
    Column(
        "BBBFallRate", "float", "Fitted Bazin fall rate; NULL for the exponential", "1/day", NAME
    ),
    Column("BBBTemp", "float", "Fitted blackbody temperature", "kK", NAME),
    Column(
        "BBBPeakFlux",
        "float",
        "Bazin peak flux in the brightest band, extinction corrected; "
        "NULL for the exponential or when the model has no peak",
        "nJy",
        NAME,
    ),
    Column("BBBPeakBand", "text", "Band of BBBPeakFlux", None, NAME),
    Column("BBBPeakMJD", "double", "Time of the Bazin peak; NULL for the exponential", "MJD", NAME),
    Column("BBBModel", "text", "Chosen model: 'bazin' or 'exp'; NULL when no fit", None, NAME),
    Column("BBBChi2Dof", "float", "Chi-square per degree of freedom of the chosen fit", None, NAME),
    Column(
        "BBBNdata", "int", "Number of points fitted (detections plus forced photometry)", None, NAME
    ),
    Column("BBBNoFitReason", "text", "Why no fit was kept; NULL when BBBModel is set", None, NAME),
)


@dataclass(frozen=True)
class FitResult:
    """The chosen fit of one light curve, or the reason there is none."""

    model: str | None = None
    params: tuple[float, ...] = ()
    chi2_dof: float = np.nan
    n_data: int = 0
    reason: str | None = None


def fit_light_curve(
    t: np.ndarray, band: np.ndarray, flux: np.ndarray, err: np.ndarray
) -> FitResult:
    """Fit both models to one light curve and keep the better plausible one.

    Parameters
    ----------
    t
        Days since the first detection, in time order.
    band
        Index of each point's band into ``RUBIN_BANDS``.
    flux, err
        Extinction-corrected flux and its error [nJy].
    """
    n = len(t)
    points = FitPoints(
        alerts=np.zeros(1, np.int64),
        offsets=np.array([0, n]),
        discovery=np.zeros(1),
        t=np.asarray(t, np.float64),
        band=np.asarray(band, np.int64),
        flux=np.asarray(flux, np.float64),
        err=np.asarray(err, np.float64),
    )
    fits = fit_all(points)
    model = fits.model[0]
    if model is None:
        return FitResult(n_data=n, reason=fits.reason[0])
    p = fits.params[0][: 5 if model == "bazin" else 3]
    return FitResult(model=model, params=tuple(p), chi2_dof=float(fits.chi2_dof[0]), n_data=n)


def _preselect(det: LightCurves, ebv: np.ndarray, out: dict[str, np.ndarray]) -> np.ndarray:
    """Alerts worth fitting; the others get their reason in ``out``."""
    n = det.n_alerts
    ok = usable(det)
    out["BBBNdata"] = np.bincount(det.row[ok], minlength=n).astype(np.int32)
    reason = out["BBBNoFitReason"]
    qualifies = out["BBBNdata"] >= MIN_DETECTIONS
    reason[~qualifies] = f"fewer than {MIN_DETECTIONS} detections"
    n_positive = np.bincount(det.row[ok & (det.flux > 0)], minlength=n)
    reason[qualifies & (n_positive == 0)] = "no positive flux"
    qualifies &= n_positive > 0
    # All detections at one time leave the time dependence undetermined.
    first = np.full(n, np.inf)
    last = np.full(n, -np.inf)
    np.minimum.at(first, det.row[ok], det.mjd[ok])
    np.maximum.at(last, det.row[ok], det.mjd[ok])
    simultaneous = qualifies & ~(last > first)
    reason[simultaneous] = "identical timestamps"
    qualifies &= ~simultaneous
    no_ebv = qualifies & ~np.isfinite(ebv)
    reason[no_ebv] = "no E(B-V)"
    return qualifies & ~no_ebv


def bbb_columns(det: LightCurves, frc: LightCurves, ebv: np.ndarray) -> dict[str, np.ndarray]:
    """Fit every qualifying alert of a batch at once; the ``BBB*`` columns.

    Parameters
    ----------
    det, frc
        The batch's detections and forced photometry.
    ebv
        E(B-V) of each alert [mag].
    """
    n = det.n_alerts
    out: dict[str, np.ndarray] = {c.name: np.full(n, np.nan) for c in COLUMNS}
    for name in ("BBBPeakBand", "BBBModel", "BBBNoFitReason"):
        out[name] = np.full(n, None, dtype=object)
    fit = _preselect(det, ebv, out)
    if not fit.any():
        return out
    points = fit_points(det, frc, ebv, fit)
    fits = fit_all(points)
    rows = points.alerts
    out["BBBNdata"][rows] = points.counts
    out["BBBNoFitReason"][rows] = fits.reason
    out["BBBModel"][rows] = fits.model
    out["BBBChi2Dof"][rows] = fits.chi2_dof
    out["BBBTemp"][rows] = fits.params[:, 1]
    bazin = fits.model == "bazin"
    out["BBBRiseRate"][rows] = np.where(bazin, fits.params[:, 3], fits.params[:, 2])
    out["BBBFallRate"][rows] = np.where(bazin, fits.params[:, 4], np.nan)
    out["BBBPeakMJD"][rows] = points.discovery + fits.peak_t
    out["BBBPeakFlux"][rows] = fits.peak_flux
    has_peak = fits.peak_band >= 0
    out["BBBPeakBand"][rows[has_peak]] = np.array(RUBIN_BANDS, dtype=object)[
        fits.peak_band[has_peak]
    ]
    return out


class BazinBlackBody(ObjectFeatureEnricher):
    """Bazin or exponential rise in time × blackbody in wavelength, fitted to all bands at once
    (Rubin), for every qualifying light curve of a batch together."""

    name = NAME
    surveys: frozenset[Survey] = frozenset({"lsst"})
    declared_columns = COLUMNS

    def values(self, batch: AlertBatch) -> Mapping[str, object]:
        return bbb_columns(detections(batch), forced(batch), require_ebv(batch))


__all__ = ["REFERENCE_WAVELENGTH_UM", "BazinBlackBody", "FitResult", "fit_light_curve"]
