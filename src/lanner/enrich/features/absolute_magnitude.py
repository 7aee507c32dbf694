"""Peak absolute magnitudes from the sky-context distance of each alert.

Input: ``batch.detections``, ``objects.ebv`` and ``objects.BBBPeakFlux`` (Milky Way and
Bazin-blackbody enrichers, which must run first) and, when the sky-context enricher ran before,
``sherlock_classifications.distance`` [Mpc], ``.z`` and ``.photoZ``. Output: ``absMag``,
``absMagMJD`` and ``BBBPeakAbsMag``. No side effects.

Distance: the catalogued distance when there is one; otherwise the luminosity distance of the
spectroscopic redshift ``z`` (else ``photoZ``) in flat ΛCDM with H0 = 70 km/s/Mpc, Ωm = 0.3.
Absolute magnitude ``M = m - μ - K`` with ``μ = 5 log10(D_L / 10 pc)`` and the K-correction of a
source flat in f_ν, ``K = -2.5 log10(1 + z)`` (the bandwidth stretch; 0 when the distance has no
redshift). ``m`` is corrected for Milky Way extinction. Everything is NULL without a distance.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from lanner.batch import NJY_ZP, AlertBatch, Survey
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.enrich.features.light_curve import (
    detections,
    enriched_column,
    extinction_correction,
    group_max_index,
    require_ebv,
)
from lanner.schema.columns import Column

NAME = "absolute_magnitude"
SKY_CONTEXT_TABLE = "sherlock_classifications"


@lru_cache(maxsize=1)
def cosmology() -> Any:
    """Flat LCDM, H0 = 70 km/s/Mpc, Om0 = 0.3; made on first use, as astropy.cosmology takes
    a second to import and commands that compute nothing should not pay for it."""
    from astropy.cosmology import FlatLambdaCDM

    return FlatLambdaCDM(H0=70.0, Om0=0.3)


COLUMNS: tuple[Column, ...] = (
    Column(
        "absMag",
        "float",
        "Peak absolute magnitude of the diaSources (extinction corrected) "
        "if the host or redshift gives a distance",
        "mag",
        NAME,
    ),
    Column("absMagMJD", "double", "Time of the diaSource giving absMag", "MJD", NAME),
    Column(
        "BBBPeakAbsMag",
        "float",
        "Absolute magnitude of BBBPeakFlux if a distance is known",
        "mag",
        NAME,
    ),
)


def distance_terms(
    distance_mpc: np.ndarray, z: np.ndarray, photo_z: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance modulus μ and K-correction [mag] of each alert (NaN μ without a distance)."""
    z_used = np.where(np.isfinite(z) & (z > 0), z, np.nan)
    z_used = np.where(np.isfinite(z_used), z_used, np.where(photo_z > 0, photo_z, np.nan))
    d = np.where(np.isfinite(distance_mpc) & (distance_mpc > 0), distance_mpc, np.nan)
    from_z = ~np.isfinite(d) & np.isfinite(z_used)
    if from_z.any():
        d[from_z] = cosmology().luminosity_distance(z_used[from_z]).to_value("Mpc")
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = 5.0 * np.log10(d) + 25.0
        k = np.where(np.isfinite(z_used), -2.5 * np.log10(1.0 + z_used), 0.0)
    return mu, k


def absolute_magnitude_columns(batch: AlertBatch) -> dict[str, np.ndarray]:
    """``absMag``, ``absMagMJD`` and ``BBBPeakAbsMag`` of every alert of ``batch``."""
    n = len(batch)
    nan = np.full(n, np.nan)

    def context(name: str) -> np.ndarray:
        col = enriched_column(batch, SKY_CONTEXT_TABLE, name)
        return nan.copy() if col is None else col

    mu, k = distance_terms(context("distance"), context("z"), context("photoZ"))
    lc = detections(batch)
    ebv = require_ebv(batch)
    corrected = lc.flux * extinction_correction(lc.band, ebv[lc.row])
    corrected = np.where(corrected > 0, corrected, np.nan)
    best = group_max_index(corrected, lc.row, n)
    has = best >= 0
    app = nan.copy()
    app[has] = NJY_ZP - 2.5 * np.log10(corrected[best[has]])
    mjd = nan.copy()
    mjd[has] = lc.mjd[best[has]]
    abs_mag = app - mu - k
    mjd = np.where(np.isfinite(abs_mag), mjd, np.nan)

    peak = enriched_column(batch, "objects", "BBBPeakFlux")
    peak_abs = nan.copy()
    if peak is not None:
        ok = peak > 0
        peak_abs[ok] = NJY_ZP - 2.5 * np.log10(peak[ok]) - mu[ok] - k[ok]
    return {"absMag": abs_mag, "absMagMJD": mjd, "BBBPeakAbsMag": peak_abs}


class AbsoluteMagnitude(ObjectFeatureEnricher):
    """Peak absolute magnitudes from the sky-context distance or redshift (Rubin)."""

    name = NAME
    surveys: frozenset[Survey] = frozenset({"lsst"})
    declared_columns = COLUMNS

    def values(self, batch: AlertBatch) -> Mapping[str, np.ndarray]:
        return absolute_magnitude_columns(batch)
