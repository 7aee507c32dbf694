"""Light curves of a batch as flat numpy arrays, and the Rubin band constants.

Input: an :class:`~lanner.batch.AlertBatch` (its ``detections`` / ``forced`` tables, sorted by
(``row``, ``mjd``)). Output: :class:`LightCurves` — one flat array per field plus the
``offsets`` that cut them into per-alert light curves, ready for ``np.add.reduceat`` and
friends. No side effects.

Band constants (Rubin ``u g r i z y``):

* effective wavelengths [µm]: the φ-weighted (normalised system response) effective
  wavelengths of the Rubin v1.9 baseline throughputs (detector, mirrors, lenses, filters and
  the fiducial atmosphere at airmass 1.2), as used by Rubin's own wavefront software: 0.3709,
  0.4767, 0.6194, 0.7539, 0.8668, 0.9739.
* extinction ``A_b / E(B-V)`` per unit SFD (1998) reddening, R_V = 3.1, including the
  Schlafly & Finkbeiner (2011) recalibration — the coefficients Lasair-LSST applies: 4.145,
  3.237, 2.273, 1.684, 1.323, 1.088.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import AlertBatch, row_offsets

RUBIN_BANDS: tuple[str, ...] = ("u", "g", "r", "i", "z", "y")

#: Effective wavelength of each Rubin band [µm], in ``RUBIN_BANDS`` order.
RUBIN_WAVELENGTH_UM = np.array([0.3709, 0.4767, 0.6194, 0.7539, 0.8668, 0.9739])

#: Extinction per unit E(B-V) (SFD 1998 scale) of each Rubin band [mag], ``RUBIN_BANDS`` order.
RUBIN_EXTINCTION_COEFF = np.array([4.145, 3.237, 2.273, 1.684, 1.323, 1.088])

#: Index used for a band that is not one of ``RUBIN_BANDS`` (missing or unknown).
NO_BAND = -1


@dataclass(frozen=True)
class LightCurves:
    """Every light curve of a batch, concatenated.

    Alert ``i`` owns elements ``offsets[i]:offsets[i + 1]`` of each array, in time order.

    Attributes
    ----------
    offsets
        int64, length ``n_alerts + 1``.
    row
        int64 alert index of each point.
    mjd
        MJD (TAI) of each point.
    band
        int8 index into ``RUBIN_BANDS``, ``NO_BAND`` when unknown.
    flux, flux_err
        Difference flux and its error [nJy]; NaN where missing.
    reliability
        Real/bogus score (detections only; NaN for forced photometry or when missing).
    """

    offsets: np.ndarray
    row: np.ndarray
    mjd: np.ndarray
    band: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray
    reliability: np.ndarray

    @property
    def n_alerts(self) -> int:
        return len(self.offsets) - 1

    @property
    def counts(self) -> np.ndarray:
        """Number of points of each alert."""
        return np.diff(self.offsets)


def _float_column(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    col = pc.cast(table[name], pa.float64())
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)


def band_index(bands: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Index of each band name into ``RUBIN_BANDS`` (``NO_BAND`` for null or unknown)."""
    idx = pc.index_in(bands, value_set=pa.array(RUBIN_BANDS))
    return np.asarray(pc.fill_null(idx, NO_BAND).to_numpy(zero_copy_only=False), dtype=np.int8)


def light_curves(table: pa.Table, n_alerts: int) -> LightCurves:
    """Flatten a light-curve table (``detections`` or ``forced``) of a batch of ``n_alerts``."""
    offsets = row_offsets(table, n_alerts)
    return LightCurves(
        offsets=offsets,
        row=np.asarray(table["row"].to_numpy(), dtype=np.int64),
        mjd=_float_column(table, "mjd"),
        band=band_index(table["band"])
        if "band" in table.column_names
        else np.full(table.num_rows, NO_BAND, np.int8),
        flux=_float_column(table, "flux"),
        flux_err=_float_column(table, "flux_err"),
        reliability=_float_column(table, "reliability"),
    )


def detections(batch: AlertBatch) -> LightCurves:
    """The detections (DIA sources) of every alert of ``batch``."""
    return light_curves(batch.detections, len(batch))


def forced(batch: AlertBatch) -> LightCurves:
    """The forced photometry of every alert of ``batch``."""
    return light_curves(batch.forced, len(batch))


def group_max_index(values: np.ndarray, row: np.ndarray, n_alerts: int) -> np.ndarray:
    """Index of the largest of ``values`` within each alert, -1 where none is finite.

    NaN never wins; ties go to the later element. Two scatter passes over the points (no
    sort), so the cost is linear in the batch.
    """
    finite = np.isfinite(values)
    v = np.where(finite, values, -np.inf)
    best_value = np.full(n_alerts, -np.inf)
    np.maximum.at(best_value, row, v)
    hit = np.flatnonzero(finite & (v == best_value[row]))
    out = np.full(n_alerts, -1, dtype=np.int64)
    np.maximum.at(out, row[hit], hit)
    return out


def enriched_column(batch: AlertBatch, table: str, name: str) -> np.ndarray | None:
    """A float column an earlier enricher added to ``batch.enriched[table]``, or ``None``."""
    t = batch.enriched.get(table)
    if t is None or name not in t.column_names:
        return None
    return np.asarray(pc.cast(t[name], pa.float64()).to_numpy(zero_copy_only=False), np.float64)


def require_ebv(batch: AlertBatch) -> np.ndarray:
    """E(B-V) of each alert from the Milky Way enricher; raise if it has not run."""
    ebv = enriched_column(batch, "objects", "ebv")
    if ebv is None:
        raise RuntimeError(
            "objects.ebv is missing: the milky_way enricher must run before this one"
        )
    return ebv


def extinction_correction(band: np.ndarray, ebv_per_point: np.ndarray) -> np.ndarray:
    """Multiplicative flux correction ``10^(0.4 A_b)`` for each point.

    NaN E(B-V) or an unknown band give a factor of NaN, so corrected values become NULL
    rather than silently uncorrected.
    """
    coeff = np.where(band >= 0, RUBIN_EXTINCTION_COEFF[np.clip(band, 0, 5)], np.nan)
    return np.power(10.0, 0.4 * coeff * ebv_per_point)
