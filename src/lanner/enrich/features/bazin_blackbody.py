"""Bazin × blackbody and exponential × blackbody fits in the time–wavelength plane.

Input: ``batch.detections``, ``batch.forced`` and ``objects.ebv`` (the Milky Way enricher must
run first). Output: the ``BBB*`` columns of ``objects``. No side effects.

All bands are fitted at once (Lasair-LSST's BazinBlackBody, Williams 2023): the flux of band
``b`` at time ``t`` (days since the first detection) is a blackbody of temperature ``T`` at the
band's effective wavelength (:data:`~lanner.enrich.features.light_curve.RUBIN_WAVELENGTH_UM`),
normalised to 1 at the r-band wavelength, times a function of time:

* Bazin: ``A · exp(-kf (t - t0)) / (1 + exp(-kr (t - t0)))``;
* rising exponential: ``A · exp(k t)``.

Data: an alert qualifies when it has at least 5 detections with finite flux, positive flux
error and a known band; up to 4 forced-photometry points just before the first detection are
prepended (they pin the rise). Fluxes are corrected for Milky Way extinction first. Each model
is fitted by weighted least squares (``scipy.optimize.least_squares``, trust-region reflective,
bounded parameters, a cap on function evaluations and on wall-clock time per fit); the model
with the lower small-sample Akaike criterion ``AICc = χ² + 2p + 2p(p+1)/(n-p-1)`` wins, and is
kept only when it explains at least 75 % of the weighted variance about the mean flux
(``χ²_model / χ²_constant <= 0.25``). Otherwise ``BBBNoFitReason`` says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from lanner.batch import AlertBatch, Survey
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.enrich.features.bazin_model import (
    EXP_BOUNDS,
    REFERENCE_WAVELENGTH_UM,
    bazin_bounds,
    bazin_flux,
    bazin_jacobian,
    bazin_peak_time,
    exp_flux,
    exp_jacobian,
)
from lanner.enrich.features.light_curve import (
    RUBIN_BANDS,
    RUBIN_WAVELENGTH_UM,
    LightCurves,
    detections,
    extinction_correction,
    forced,
    require_ebv,
)
from lanner.schema.columns import Column

NAME = "bazin_blackbody"

MIN_DETECTIONS = 5
N_FORCED_BEFORE = 4
#: Largest accepted χ²_model / χ²_constant.
MAX_UNEXPLAINED = 0.25
#: Relative change of cost and parameters at which a fit stops: far below the noise.
TOLERANCE = 1e-6

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


class _OutOfTimeError(Exception):
    """Raised from inside a residual function when a fit's time is up."""


@dataclass(frozen=True)
class FitResult:
    """The chosen fit of one light curve, or the reason there is none."""

    model: str | None = None
    params: tuple[float, ...] = ()
    chi2_dof: float = np.nan
    n_data: int = 0
    reason: str | None = None


Model = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _fit_one(
    func: Model,
    jac: Model,
    x0: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    t: np.ndarray,
    lam: np.ndarray,
    flux: np.ndarray,
    err: np.ndarray,
    deadline: float,
    max_nfev: int,
) -> tuple[np.ndarray, float] | None:
    def residuals(p: np.ndarray) -> np.ndarray:
        if time.perf_counter() > deadline:
            raise _OutOfTimeError
        return (func(p, t, lam) - flux) / err

    def jacobian(p: np.ndarray) -> np.ndarray:
        return jac(p, t, lam) / err[:, None]

    x0 = np.clip(x0, bounds[0], bounds[1])
    with np.errstate(all="ignore"):
        from scipy.optimize import least_squares  # on first fit: columns need no scipy

        res = least_squares(
            residuals,
            x0,
            jac=jacobian,
            bounds=bounds,
            method="trf",
            max_nfev=max_nfev,
            ftol=TOLERANCE,
            xtol=TOLERANCE,
        )
    chi2 = float(np.sum(res.fun**2))
    if res.status <= 0 or not np.isfinite(chi2):
        return None
    return res.x, chi2


def fit_light_curve(
    t: np.ndarray,
    lam: np.ndarray,
    flux: np.ndarray,
    err: np.ndarray,
    max_seconds: float = 1.0,
    max_nfev: int = 2000,
) -> FitResult:
    """Fit both models to one light curve and keep the better (see module docstring).

    Parameters
    ----------
    t
        Days since the first detection.
    lam
        Effective wavelength of each point's band [µm].
    flux, err
        Extinction-corrected flux and its error [nJy].
    max_seconds
        Wall-clock limit for all the fits of this light curve [s].
    max_nfev
        Cap on residual evaluations per start.
    """
    n = len(t)
    deadline = time.perf_counter() + max_seconds
    peak = int(np.argmax(flux))
    fmax = float(flux[peak])
    if not fmax > 0:
        return FitResult(n_data=n, reason="no positive flux")
    span = float(t.max() - t.min())
    candidates: list[tuple[float, str, np.ndarray, float]] = []
    starts: list[tuple[str, np.ndarray]] = [
        ("exp", np.array([np.log(max(flux[0], fmax / 100)), 10.0, 0.1])),
        ("bazin", np.array([np.log(fmax), 10.0, t[peak] - 5.0, 0.5, 0.05])),
        ("bazin", np.array([np.log(fmax), 10.0, t[peak] - 1.0, 1.0, 0.01])),
    ]
    try:
        for model, x0 in starts:
            p = len(x0)
            if n <= p + 1:
                continue
            if model == "bazin":
                func, jac = bazin_flux, bazin_jacobian
                bounds = bazin_bounds(fmax, float(t.min()), span)
            else:
                func, jac = exp_flux, exp_jacobian
                bounds = (EXP_BOUNDS[0].copy(), EXP_BOUNDS[1].copy())
                bounds[0][0], bounds[1][0] = np.log(fmax) - 12, np.log(fmax) + 12
            fit = _fit_one(func, jac, x0, bounds, t, lam, flux, err, deadline, max_nfev)
            if fit is None:
                continue
            x, chi2 = fit
            aicc = chi2 + 2 * p + 2 * p * (p + 1) / (n - p - 1)
            candidates.append((aicc, model, x, chi2))
    except _OutOfTimeError:
        if not candidates:
            return FitResult(n_data=n, reason="time limit")
    if not candidates:
        return FitResult(n_data=n, reason="did not converge")
    _, model, x, chi2 = min(candidates, key=lambda c: c[0])
    w = 1.0 / err**2
    chi2_const = float(np.sum(w * (flux - np.sum(w * flux) / np.sum(w)) ** 2))
    if not chi2 <= MAX_UNEXPLAINED * chi2_const:
        return FitResult(n_data=n, reason="poor fit")
    return FitResult(model=model, params=tuple(x), chi2_dof=chi2 / (n - len(x)), n_data=n)


def fit_inputs(
    det: LightCurves, frc: LightCurves, ebv: np.ndarray, i: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Points to fit for alert ``i``: (t [day], λ [µm], flux, err [nJy], discovery MJD)."""
    s = slice(det.offsets[i], det.offsets[i + 1])
    ok = _usable(det)[s]
    mjd, band = det.mjd[s][ok], det.band[s][ok]
    flux, err = det.flux[s][ok], det.flux_err[s][ok]
    discovery = float(mjd.min())
    fs = slice(frc.offsets[i], frc.offsets[i + 1])
    fok = _usable(frc)[fs] & (frc.mjd[fs] < discovery)
    take = np.flatnonzero(fok)[-N_FORCED_BEFORE:]
    mjd = np.concatenate([frc.mjd[fs][take], mjd])
    band = np.concatenate([frc.band[fs][take], band])
    flux = np.concatenate([frc.flux[fs][take], flux])
    err = np.concatenate([frc.flux_err[fs][take], err])
    corr = extinction_correction(band, np.full(len(band), ebv[i]))
    return mjd - discovery, RUBIN_WAVELENGTH_UM[band], flux * corr, err * corr, discovery


def _usable(lc: LightCurves) -> np.ndarray:
    return np.isfinite(lc.flux) & np.isfinite(lc.mjd) & (lc.flux_err > 0) & (lc.band >= 0)


def _result_row(result: FitResult, discovery: float) -> dict[str, object]:
    row: dict[str, object] = {"BBBNdata": result.n_data, "BBBNoFitReason": result.reason}
    if result.model is None:
        return row
    p = np.asarray(result.params)
    row.update(BBBModel=result.model, BBBChi2Dof=result.chi2_dof, BBBTemp=p[1])
    if result.model == "exp":
        row["BBBRiseRate"] = p[2]
        return row
    row.update(BBBRiseRate=p[3], BBBFallRate=p[4])
    tau = bazin_peak_time(p)
    if np.isfinite(tau):
        t_peak = p[2] + tau
        fluxes = bazin_flux(p, np.full(6, t_peak), RUBIN_WAVELENGTH_UM)
        best = int(np.argmax(fluxes))
        row.update(
            BBBPeakMJD=discovery + t_peak,
            BBBPeakFlux=fluxes[best],
            BBBPeakBand=RUBIN_BANDS[best],
        )
    return row


def bbb_columns(
    det: LightCurves,
    frc: LightCurves,
    ebv: np.ndarray,
    max_seconds: float = 1.0,
    max_batch_seconds: float | None = None,
) -> dict[str, np.ndarray]:
    """Fit every qualifying alert of a batch; the ``BBB*`` columns.

    Parameters
    ----------
    det, frc
        The batch's detections and forced photometry.
    ebv
        E(B-V) of each alert [mag].
    max_seconds
        Wall-clock limit per light curve [s].
    max_batch_seconds
        Wall-clock budget for all the fits of the batch [s]; alerts left when it is spent
        get the reason ``batch time budget``. ``None``: no budget.
    """
    n = det.n_alerts
    out: dict[str, np.ndarray] = {c.name: np.full(n, np.nan) for c in COLUMNS}
    for name in ("BBBPeakBand", "BBBModel", "BBBNoFitReason"):
        out[name] = np.full(n, None, dtype=object)
    usable = _usable(det)
    out["BBBNdata"] = np.bincount(det.row[usable], minlength=n).astype(np.int32)
    # Cheap pre-selection for the whole batch; only the survivors are fitted one by one.
    qualifies = out["BBBNdata"] >= MIN_DETECTIONS
    out["BBBNoFitReason"][~qualifies] = f"fewer than {MIN_DETECTIONS} detections"
    n_positive = np.bincount(det.row[usable & (det.flux > 0)], minlength=n)
    out["BBBNoFitReason"][qualifies & (n_positive == 0)] = "no positive flux"
    qualifies &= n_positive > 0
    # All detections at one time leave the time dependence undetermined.
    first = np.full(n, np.inf)
    last = np.full(n, -np.inf)
    np.minimum.at(first, det.row[usable], det.mjd[usable])
    np.maximum.at(last, det.row[usable], det.mjd[usable])
    simultaneous = qualifies & ~(last > first)
    out["BBBNoFitReason"][simultaneous] = "identical timestamps"
    qualifies &= ~simultaneous
    no_ebv = qualifies & ~np.isfinite(ebv)
    out["BBBNoFitReason"][no_ebv] = "no E(B-V)"
    batch_deadline = time.perf_counter() + (
        np.inf if max_batch_seconds is None else max_batch_seconds
    )
    for i in np.flatnonzero(qualifies & ~no_ebv):
        if time.perf_counter() >= batch_deadline:
            out["BBBNoFitReason"][i] = "batch time budget"
            continue
        t, lam, flux, err, discovery = fit_inputs(det, frc, ebv, int(i))
        result = fit_light_curve(t, lam, flux, err, max_seconds=max_seconds)
        for name, value in _result_row(result, discovery).items():
            out[name][i] = value
    return out


class BazinBlackBody(ObjectFeatureEnricher):
    """Bazin or exponential rise in time × blackbody in wavelength, fitted to all bands at once
    (Rubin).

    Parameters
    ----------
    max_seconds
        Wall-clock limit for fitting one light curve [s].
    max_batch_seconds
        Wall-clock budget for all the fits of one batch [s], so that a batch of many
        qualifying light curves cannot stall the pipeline; ``None`` (default): no budget.
    """

    name = NAME
    surveys: frozenset[Survey] = frozenset({"lsst"})
    declared_columns = COLUMNS

    def __init__(self, max_seconds: float = 1.0, max_batch_seconds: float | None = None) -> None:
        self.max_seconds = max_seconds
        self.max_batch_seconds = max_batch_seconds

    def values(self, batch: AlertBatch) -> Mapping[str, object]:
        return bbb_columns(
            detections(batch),
            forced(batch),
            require_ebv(batch),
            self.max_seconds,
            self.max_batch_seconds,
        )


__all__ = ["REFERENCE_WAVELENGTH_UM", "BazinBlackBody", "FitResult", "fit_light_curve"]
