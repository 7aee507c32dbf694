"""Fit both Bazin × blackbody and exponential × blackbody models to every light curve of a
batch at once, and keep only plausible fits.

Input: :class:`~lanner.enrich.features.bbb_inputs.FitPoints`. Output: :class:`Fits` — per
fitted alert the chosen model, its parameters, χ²/dof and peak, or the reason there is none.
No side effects.

Starts (one row each in the batched least squares, each with ``ln A`` first set to its
weighted least-squares value): the exponential from
``(ln max(f_first, f_max/100), 10 kK, min(0.1, 1/span) per day)``; the Bazin from
``(ln f_max, 10 kK, t_max − 5, 0.5, 0.05)`` and ``(ln f_max, 10 kK, t_max − 1, 1.0, 0.01)``
(``t_max``: time of the largest flux); the better Bazin start (lower χ², converged first) is
the Bazin candidate. All light curves of a model are fitted in one call, one block per padded
length (:func:`~lanner.enrich.features.bbb_inputs.padded_groups`). A model needs
``n > p + 1`` points. Each candidate is checked in this order, and the first rule it breaks
is its reason:

1. ``did not converge`` — :data:`MAX_ITERATIONS` iterations without meeting the tolerance;
2. ``<parameter> at bound`` — a parameter within :data:`BOUND_MARGIN` of its range of a
   bound (the data push it out of the physical range);
3. ``peak band not observed`` — the band where the fitted blackbody is brightest lies
   outside the bands the light curve has (bluest to reddest observed);
4. ``chi2/dof above 10`` — χ² per degree of freedom above :data:`MAX_CHI2_DOF`;
5. ``poor fit`` — ``χ²_model > 0.25 χ²_constant`` (explains < 75 % of the weighted variance
   about the weighted mean flux).

The plausible candidate with the lower AICc ``χ² + 2p + 2p(p+1)/(n−p−1)`` is kept; when none
is plausible the reason is that of the lower-AICc candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lanner.enrich.features.batched_lm import LMData, LMResult, Model, levenberg_marquardt
from lanner.enrich.features.bazin_model import (
    EXP_RATE_BOUNDS,
    FALL_BOUNDS,
    RISE_BOUNDS,
    T_BOUNDS,
    bazin_rows,
    blackbody_shape,
    exp_rows,
)
from lanner.enrich.features.bbb_inputs import FitPoints, padded_groups
from lanner.enrich.features.light_curve import RUBIN_WAVELENGTH_UM

#: Iterations of the batched Levenberg–Marquardt per start.
MAX_ITERATIONS = 100
#: Relative change of χ² and of the parameters at which a fit stops: far below the noise.
TOLERANCE = 1e-6
#: Largest accepted χ²_model / χ²_constant.
MAX_UNEXPLAINED = 0.25
#: Largest accepted χ² per degree of freedom.
MAX_CHI2_DOF = 10.0
#: A parameter closer than this fraction of its range to a bound is "at the bound".
BOUND_MARGIN = 1e-4
#: Half-width of the ln-amplitude range around ln(max flux), and the t0 margin [day].
LN_AMPLITUDE_RANGE = 12.0
T0_MARGIN = 100.0

BAZIN_PARAMETERS = ("amplitude", "temperature", "t0", "rise rate", "fall rate")
EXP_PARAMETERS = ("amplitude", "temperature", "rise rate")
MODELS = ("exp", "bazin")


@dataclass(frozen=True)
class Fits:
    """Result per fitted alert (aligned with ``FitPoints.alerts``).

    ``model`` is ``'bazin'``, ``'exp'`` or None; ``params`` (j, 5) holds
    ``(ln A, T, t0, kr, kf)`` for Bazin and ``(ln A, T, k, NaN, NaN)`` for the exponential;
    ``peak_t`` is days since discovery, ``peak_band`` an index into the Rubin bands (-1: none).
    """

    model: np.ndarray
    params: np.ndarray
    chi2_dof: np.ndarray
    reason: np.ndarray
    peak_t: np.ndarray
    peak_flux: np.ndarray
    peak_band: np.ndarray


@dataclass
class _Candidates:
    """Per alert and model (0 exp, 1 bazin): parameters, χ², converged."""

    x: np.ndarray
    chi2: np.ndarray
    converged: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Candidates:
        nan = np.full((n, 2, 5), np.nan)
        return cls(nan, np.full((n, 2), np.nan), np.zeros((n, 2), bool), nan.copy(), nan.copy())


def _row_summaries(data: LMData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per padded row: largest flux, its time, first flux, and span of times [day]."""
    real = data.w > 0
    y = np.where(real, data.y, -np.inf)
    peak = np.argmax(y, axis=1)
    rows = np.arange(len(y))
    last = np.sum(real, axis=1) - 1
    return y[rows, peak], data.t[rows, peak], data.y[:, 0], data.t[rows, last] - data.t[:, 0]


def _with_best_amplitude(
    model: Model, x0: np.ndarray, lo: np.ndarray, hi: np.ndarray, data: LMData
) -> np.ndarray:
    """``x0`` with ``ln A`` replaced by its weighted least-squares value for the other
    parameters of the start (the model is linear in A), clipped to the bounds."""
    f, _ = model(x0, data.t, data.band)
    w2 = data.w * data.w
    num, den = np.sum(w2 * data.y * f, axis=-1), np.sum(w2 * f * f, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = x0[:, 0] + np.log(num / den)
    out = x0.copy()
    out[:, 0] = np.where(np.isfinite(a), a, x0[:, 0])
    return np.clip(out, lo, hi)


@dataclass
class _Starts:
    """Starts and bounds of one model for many blocks, with where each row goes."""

    x0: list[np.ndarray] = field(default_factory=list)
    lo: list[np.ndarray] = field(default_factory=list)
    hi: list[np.ndarray] = field(default_factory=list)
    blocks: list[LMData] = field(default_factory=list)
    members: list[np.ndarray] = field(default_factory=list)

    def add(
        self, x0: np.ndarray, lo: np.ndarray, hi: np.ndarray, block: LMData, members: np.ndarray
    ) -> None:
        self.x0.append(x0)
        self.lo.append(lo)
        self.hi.append(hi)
        self.blocks.append(block)
        self.members.append(members)

    def fit(self, model: Model) -> tuple[LMResult, np.ndarray, np.ndarray, np.ndarray]:
        """Results, bounds and alert position of every row, in block order."""
        lo, hi = np.concatenate(self.lo), np.concatenate(self.hi)
        x0 = np.concatenate(
            [
                _with_best_amplitude(model, x, a, b, d)
                for x, a, b, d in zip(self.x0, self.lo, self.hi, self.blocks, strict=True)
            ]
        )
        res = levenberg_marquardt(model, x0, lo, hi, self.blocks, MAX_ITERATIONS, TOLERANCE)
        return res, lo, hi, np.concatenate(self.members)


def _exp_start(data: LMData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fmax, _, f_first, span = _row_summaries(data)
    a = np.log(np.where(fmax > 0, fmax, 1.0))
    ones = np.ones(len(a))
    # A start that grows by at most e over the light curve: steeper ones overflow long
    # histories.
    k0 = np.minimum(0.1, 1.0 / np.maximum(span, 1.0))
    x0 = np.column_stack([np.log(np.maximum(f_first, fmax / 100)), 10.0 * ones, k0])
    lo = np.column_stack([a - LN_AMPLITUDE_RANGE, T_BOUNDS[0] * ones, EXP_RATE_BOUNDS[0] * ones])
    hi = np.column_stack([a + LN_AMPLITUDE_RANGE, T_BOUNDS[1] * ones, EXP_RATE_BOUNDS[1] * ones])
    return x0, lo, hi


def _bazin_starts(data: LMData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two starts per row (first all rows' first start, then their second), and bounds."""
    fmax, t_peak, _, span = _row_summaries(data)
    a = np.log(np.where(fmax > 0, fmax, 1.0))
    t_first = data.t[:, 0]
    ones = np.ones(len(a))
    lo = np.column_stack(
        [
            a - LN_AMPLITUDE_RANGE,
            T_BOUNDS[0] * ones,
            t_first - T0_MARGIN,
            RISE_BOUNDS[0] * ones,
            FALL_BOUNDS[0] * ones,
        ]
    )
    hi = np.column_stack(
        [
            a + LN_AMPLITUDE_RANGE,
            T_BOUNDS[1] * ones,
            t_first + span + T0_MARGIN,
            RISE_BOUNDS[1] * ones,
            FALL_BOUNDS[1] * ones,
        ]
    )
    starts = [
        np.column_stack([a, 10.0 * ones, t_peak - 5.0, 0.5 * ones, 0.05 * ones]),
        np.column_stack([a, 10.0 * ones, t_peak - 1.0, 1.0 * ones, 0.01 * ones]),
    ]
    return np.concatenate(starts), np.concatenate([lo, lo]), np.concatenate([hi, hi])


def _fit_blocks(points: FitPoints, cand: _Candidates) -> None:
    """Both models on every light curve of ``points``, one batched fit per model."""
    exp, bazin = _Starts(), _Starts()
    for members, data in padded_groups(points):
        exp.add(*_exp_start(data), data, members)
        # Bazin, for light curves with enough points: two starts as extra rows.
        b = np.flatnonzero(np.sum(data.w > 0, axis=1) > 6)
        if len(b):
            sub = data.rows(b)
            bazin.add(
                *_bazin_starts(sub),
                sub.rows(np.concatenate([np.arange(len(b))] * 2)),
                np.concatenate([members[b]] * 2),
            )
    if exp.blocks:
        res, lo, hi, where = exp.fit(exp_rows)
        cand.x[where, 0, :3], cand.chi2[where, 0] = res.x, res.chi2
        cand.converged[where, 0] = res.converged
        cand.lo[where, 0, :3], cand.hi[where, 0, :3] = lo, hi
    if not bazin.blocks:
        return
    res, lo, hi, where = bazin.fit(bazin_rows)
    # Converged first, then lower χ²; ties go to the first start (the earlier row).
    key = np.where(res.converged, 0.0, 1.0) * 1e300 + np.where(
        np.isfinite(res.chi2), res.chi2, np.inf
    )
    order = np.lexsort((np.arange(len(key)), key, where))
    first = np.ones(len(order), dtype=bool)
    first[1:] = where[order][1:] != where[order][:-1]
    best = order[first]
    rows = where[best]
    cand.x[rows, 1], cand.chi2[rows, 1] = res.x[best], res.chi2[best]
    cand.converged[rows, 1] = res.converged[best]
    cand.lo[rows, 1], cand.hi[rows, 1] = lo[best], hi[best]


def _brightest_band(temp: np.ndarray) -> np.ndarray:
    """Band where a blackbody of temperature ``temp`` [kK] has the largest f_nu."""
    shape = blackbody_shape(
        RUBIN_WAVELENGTH_UM[None, :], np.where(np.isfinite(temp), temp, 10.0)[:, None]
    )
    return np.argmax(shape, axis=1)


def _reasons(cand: _Candidates, points: FitPoints, chi2_const: np.ndarray) -> np.ndarray:
    """Why each candidate (j, 2) is implausible; None where it is kept."""
    n = points.counts
    reason = np.full(cand.chi2.shape, None, dtype=object)
    lo_band = np.minimum.reduceat(points.band, points.offsets[:-1]) if len(n) else n
    hi_band = np.maximum.reduceat(points.band, points.offsets[:-1]) if len(n) else n
    for k, names in enumerate((EXP_PARAMETERS, BAZIN_PARAMETERS)):
        p = len(names)
        tried = np.isfinite(cand.chi2[:, k])
        checks: list[tuple[np.ndarray, str]] = [(~cand.converged[:, k], "did not converge")]
        x, lo, hi = cand.x[:, k, :p], cand.lo[:, k, :p], cand.hi[:, k, :p]
        margin = BOUND_MARGIN * (hi - lo)
        at_bound = (x - lo <= margin) | (hi - x <= margin)
        checks += [(at_bound[:, i], f"{names[i]} at bound") for i in range(p)]
        band = _brightest_band(x[:, 1])
        checks.append(((band < lo_band) | (band > hi_band), "peak band not observed"))
        with np.errstate(divide="ignore", invalid="ignore"):
            chi2_dof = cand.chi2[:, k] / (n - p)
        checks.append((~(chi2_dof <= MAX_CHI2_DOF), f"chi2/dof above {MAX_CHI2_DOF:g}"))
        checks.append((~(cand.chi2[:, k] <= MAX_UNEXPLAINED * chi2_const), "poor fit"))
        for fails, why in reversed(checks):  # the first rule broken wins
            reason[tried & fails, k] = why
    return reason


def _chi2_constant(points: FitPoints) -> np.ndarray:
    """χ² of the weighted mean flux of each light curve."""
    if not len(points.alerts):
        return np.zeros(0)
    starts = points.offsets[:-1]
    w = 1.0 / points.err**2
    mean = np.add.reduceat(w * points.flux, starts) / np.add.reduceat(w, starts)
    alert_of_point = np.repeat(np.arange(len(starts)), points.counts)
    return np.add.reduceat(w * (points.flux - mean[alert_of_point]) ** 2, starts)


def fit_all(points: FitPoints) -> Fits:
    """Fit and choose for every alert of ``points`` (see the module docstring)."""
    j = len(points.alerts)
    cand = _Candidates.empty(j)
    _fit_blocks(points, cand)
    reason = _reasons(cand, points, _chi2_constant(points))
    n = points.counts
    p = np.array([3, 5])
    with np.errstate(divide="ignore", invalid="ignore"):
        aicc = cand.chi2 + 2 * p + 2 * p * (p + 1) / (n[:, None] - p - 1)
    aicc = np.where(np.isfinite(cand.chi2) & (n[:, None] > p + 1), aicc, np.inf)
    plausible = np.asarray(reason == None, dtype=bool) & np.isfinite(aicc)  # noqa: E711
    best_ok = np.argmin(np.where(plausible, aicc, np.inf), axis=1)
    best_any = np.argmin(aicc, axis=1)
    rows = np.arange(j)
    kept = plausible[rows, best_ok]
    choice = np.where(kept, best_ok, best_any)
    model = np.full(j, None, dtype=object)
    model[kept] = np.array(MODELS, dtype=object)[choice[kept]]
    why = reason[rows, choice].copy()
    why[kept] = None
    why[~kept & ~np.isfinite(aicc[rows, best_any])] = "did not converge"
    params = np.where(kept[:, None], cand.x[rows, choice], np.nan)
    chi2_dof = np.where(kept, cand.chi2[rows, choice] / (n - p[choice]), np.nan)
    peak_t, peak_flux, peak_band = _bazin_peak(params, kept & (choice == 1))
    return Fits(model, params, chi2_dof, why, peak_t, peak_flux, peak_band)


def _bazin_peak(params: np.ndarray, bazin: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time of maximum [day], flux there in the brightest band [nJy], that band (-1: none),
    for Bazin rows with ``kr > kf`` (else the model only falls and has no maximum)."""
    a, temp, t0, kr, kf = params.T
    has = bazin & (kr > kf) & (kf > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(has, np.log((kr - kf) / kf) / kr, np.nan)
        band = _brightest_band(temp)
        shape = np.take_along_axis(
            blackbody_shape(RUBIN_WAVELENGTH_UM[None, :], np.where(has, temp, 10.0)[:, None]),
            band[:, None],
            axis=1,
        )[:, 0]
        flux = np.exp(a - kf * tau - np.logaddexp(0.0, -kr * tau)) * shape
    return (
        np.where(has, t0 + tau, np.nan),
        np.where(has, flux, np.nan),
        np.where(has, band, -1),
    )
