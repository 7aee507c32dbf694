"""Blackbody spectral shape in flux density, and temperature from a two-band flux ratio.

Pure functions on numpy arrays; no side effects. Fluxes are per unit frequency (nJy), so the
shape is ``B_nu(λ, T) ∝ λ^-3 / (exp(hc / (λ k T)) - 1)``, with λ in µm and T in kK (thousands of
kelvin).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: h c / k_B [µm kK].
HC_OVER_K = 14.387769

#: Temperature search range of :func:`temperature_from_ratio` [kK].
T_MIN, T_MAX = 0.5, 300.0


def planck_nu(wavelength_um: ArrayLike, temp_kk: ArrayLike) -> np.ndarray:
    """Blackbody flux density shape ``λ^-3 / expm1(hc / λkT)`` (arbitrary scale).

    Parameters
    ----------
    wavelength_um
        Wavelength [µm].
    temp_kk
        Temperature [kK]; broadcast against ``wavelength_um``.
    """
    lam = np.asarray(wavelength_um, dtype=np.float64)
    x = np.minimum(HC_OVER_K / (lam * np.asarray(temp_kk, dtype=np.float64)), 700.0)
    return lam**-3 / np.expm1(x)


def log_planck_ratio(lam1: np.ndarray, lam2: np.ndarray, temp_kk: np.ndarray) -> np.ndarray:
    """``ln(B_nu(λ1, T) / B_nu(λ2, T))``, computed without overflow for cold T."""
    x1 = HC_OVER_K / (lam1 * temp_kk)
    x2 = HC_OVER_K / (lam2 * temp_kk)
    # ln expm1(x) = x + ln(1 - e^-x): finite for any x > 0.
    return (
        -3.0 * np.log(lam1 / lam2) - (x1 + np.log1p(-np.exp(-x1))) + (x2 + np.log1p(-np.exp(-x2)))
    )


def temperature_from_ratio(
    flux_ratio: np.ndarray, lam1: np.ndarray, lam2: np.ndarray, iterations: int = 60
) -> np.ndarray:
    """Blackbody temperature [kK] with ``B_nu(λ1)/B_nu(λ2) = flux_ratio``, for λ1 < λ2.

    The ratio rises monotonically with T towards the Rayleigh-Jeans limit ``(λ2/λ1)^2``, so a
    vectorised bisection in ``ln T`` over ``[T_MIN, T_MAX]`` finds the unique root. Ratios
    that are not positive, or that no temperature in the range reproduces, give NaN.

    Parameters
    ----------
    flux_ratio
        Flux density ratio (bluer band over redder band).
    lam1, lam2
        Wavelengths [µm] of the bluer and redder band.
    iterations
        Bisection steps; 60 halve the log-range to far below float precision.
    """
    ratio = np.asarray(flux_ratio, dtype=np.float64)
    lam1 = np.asarray(lam1, dtype=np.float64)
    lam2 = np.asarray(lam2, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        target = np.log(ratio)
    valid = np.isfinite(target) & (lam1 < lam2)
    target = np.where(valid, target, 0.0)
    lo = np.full(target.shape, np.log(T_MIN))
    hi = np.full(target.shape, np.log(T_MAX))
    valid &= (log_planck_ratio(lam1, lam2, np.exp(lo)) <= target) & (
        log_planck_ratio(lam1, lam2, np.exp(hi)) >= target
    )
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = log_planck_ratio(lam1, lam2, np.exp(mid)) > target
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return np.where(valid, np.exp(0.5 * (lo + hi)), np.nan)
