"""The two time–wavelength light-curve models fitted by :mod:`.bazin_blackbody`.

Pure functions; no side effects. Parameters are packed in arrays; the amplitude is fitted as
``a = ln A`` (A in nJy) because fluxes span orders of magnitude. :func:`bazin_rows` and
:func:`exp_rows` evaluate the models and their analytic Jacobians for many light curves at
once (one parameter row per padded light-curve row), as
:func:`~lanner.enrich.features.batched_lm.levenberg_marquardt` needs.

* Bazin × blackbody, ``p = (a, T, t0, kr, kf)``:
  ``f(t, λ) = A · b(λ, T) · exp(-kf τ) / (1 + exp(-kr τ))``, ``τ = t - t0``;
* exponential × blackbody, ``p = (a, T, k)``: ``f(t, λ) = A · b(λ, T) · exp(k t)``;

with ``b(λ, T) = B_nu(λ, T) / B_nu(λ_r, T)`` the blackbody shape normalised at the r band, t in
days, λ in µm, T in kK and rates in 1/day.
"""

from __future__ import annotations

import numpy as np

from lanner.enrich.features.blackbody import HC_OVER_K, planck_nu
from lanner.enrich.features.light_curve import RUBIN_WAVELENGTH_UM

#: Wavelength at which the blackbody factor is 1 (the Rubin r band) [µm].
REFERENCE_WAVELENGTH_UM = 0.6194

#: Largest exponent allowed before ``exp``: keeps every evaluation, and its square in the
#: normal equations, finite.
_MAX_EXPONENT = 300.0

#: Temperature bounds [kK] and rate bounds [1/day] (Lasair-LSST's acceptance limits).
T_BOUNDS = (1.0, 100.0)
RISE_BOUNDS = (1e-3, 15.0)
FALL_BOUNDS = (1e-4, 2.0)
EXP_RATE_BOUNDS = (0.0, 2.0)


def blackbody_shape(lam: np.ndarray, temp_kk: float | np.ndarray) -> np.ndarray:
    """``B_nu(λ, T) / B_nu(λ_r, T)`` for wavelengths ``lam`` [µm], temperature [kK]."""
    return planck_nu(lam, temp_kk) / planck_nu(np.float64(REFERENCE_WAVELENGTH_UM), temp_kk)


def _dlog_planck_dtemp(lam: np.ndarray | float, temp_kk: float | np.ndarray) -> np.ndarray:
    """``∂ ln B_nu(λ, T) / ∂T`` [1/kK]: ``(x / T) / (1 - e^-x)`` with ``x = hc / λkT``."""
    x = np.minimum(HC_OVER_K / (np.asarray(lam, dtype=np.float64) * temp_kk), _MAX_EXPONENT)
    return (x / temp_kk) / -np.expm1(-x)


def _dlog_shape_dtemp(lam: np.ndarray, temp_kk: float | np.ndarray) -> np.ndarray:
    return _dlog_planck_dtemp(lam, temp_kk) - _dlog_planck_dtemp(REFERENCE_WAVELENGTH_UM, temp_kk)


def _band_factors(temp: np.ndarray, band: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blackbody shape and its ``∂ ln / ∂T`` at each point, from the six band values of each
    row's temperature ``temp`` (m,); ``band`` (m, L) indexes ``RUBIN_WAVELENGTH_UM``."""
    lam = RUBIN_WAVELENGTH_UM[None, :]
    shape = blackbody_shape(lam, temp[:, None])
    dlog = _dlog_shape_dtemp(lam, temp[:, None])
    return np.take_along_axis(shape, band, axis=1), np.take_along_axis(dlog, band, axis=1)


def bazin_rows(p: np.ndarray, t: np.ndarray, band: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bazin × blackbody flux (m, L) [nJy] and Jacobian (m, 5, L) for parameter rows
    ``p`` (m, 5), times ``t`` (m, L) [day] and band indices ``band`` (m, L)."""
    a, t0, kr, kf = (p[:, i : i + 1] for i in (0, 2, 3, 4))
    tau = t - t0
    shape, dlog = _band_factors(p[:, 1], band)
    # exp(-kr τ) / (1 + exp(-kr τ)) and the time factor from two exponentials (no log):
    # past the cap the factors are already far outside any plausible fit.
    e_rise = np.exp(np.minimum(-kr * tau, _MAX_EXPONENT))
    denom = 1.0 + e_rise
    f = np.exp(np.minimum(a - kf * tau, _MAX_EXPONENT)) / denom * shape
    rise = e_rise / denom
    jac = np.stack([f, f * dlog, f * (kf - kr * rise), f * tau * rise, -f * tau], axis=1)
    return f, jac


def exp_rows(p: np.ndarray, t: np.ndarray, band: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exponential × blackbody flux (m, L) [nJy] and Jacobian (m, 3, L) for parameter rows
    ``p`` (m, 3), times ``t`` (m, L) [day] and band indices ``band`` (m, L)."""
    a, k = p[:, 0:1], p[:, 2:3]
    shape, dlog = _band_factors(p[:, 1], band)
    f = np.exp(np.minimum(a + k * t, _MAX_EXPONENT)) * shape
    return f, np.stack([f, f * dlog, f * t], axis=1)
