"""Probability sky maps (HEALPix): credible regions, their MOCs, and values at positions.

Input: the bytes of a FITS sky map, gzipped or not — multi-order (``ORDERING = NUNIQ``,
columns ``UNIQ, PROBDENSITY[, DISTMU, DISTSIGMA]``) or flat (``NESTED`` or ``RING``, column
``PROB`` per pixel, optional distance layers), as LIGO/Virgo/KAGRA (BAYESTAR,
LALInference), Fermi GBM and Swift BAT publish them. Output: a :class:`SkyMap`. No side
effects.

Definitions (those of ligo.skymap's ``find_greedy_credible_levels`` and ``crossmatch``):

* pixels are ranked by probability density, densest first; the **credible level** of a
  pixel is the total probability of the pixels ranked before it plus its own (the map
  normalised to 1). The *p* credible region is the set of pixels whose level is at most
  *p*; its area is the sum of their areas [deg²]; its MOC holds exactly those pixels.
* at a position: ``contour`` = 100 × the credible level of its pixel [percent] (the
  searched probability); ``probdens2`` = the pixel's probability density [sr⁻¹].
* distance: the layers give the parameters (μ, σ) of the line-of-sight ansatz
  p(r) ∝ r² exp(−(r − μ)² / 2σ²); :func:`distance_moments` turns them into the mean and
  standard deviation of r on that line of sight (ligo.skymap's
  ``parameters_to_moments``), which is what ``probdens3`` compares with the host distance.

A flat map of N pixels is ranked with a histogram of its densities' binary exponents first,
so only the pixels that can belong to the 90 % region are sorted: linear in N (50 M pixels at NSIDE
2048). Only the 90 % region's pixels are kept, since hits are taken inside it.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import astropy_healpix as ah
import numpy as np
from astropy import units as u
from astropy.io import fits
from mocpy import MOC
from scipy.special import ndtr

from lanner.sky_areas.cones import pixels

#: Credible levels whose regions are kept as MOCs [fraction].
LEVELS = (0.1, 0.5, 0.9)
#: The region inside which objects are hits.
HIT_LEVEL = 0.9
SR_TO_DEG2 = (180 / np.pi) ** 2


class SkyMapError(ValueError):
    """A file that is not a HEALPix probability sky map."""


@dataclass
class Region:
    """The pixels of the 90 % credible region, in multi-order form.

    ``uniq`` NUNIQ index, ``probdensity`` [sr⁻¹], ``level`` (credible level, fraction),
    ``distmu``/``distsigma`` [Mpc] (NaN without distance layers).
    """

    uniq: np.ndarray
    probdensity: np.ndarray
    level: np.ndarray
    distmu: np.ndarray
    distsigma: np.ndarray

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        np.savez_compressed(out, **{k: getattr(self, k) for k in _REGION_FIELDS})
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Region:
        with np.load(io.BytesIO(data)) as arrays:
            return cls(**{k: arrays[k] for k in _REGION_FIELDS})

    def lookup(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        """Index of the region's pixel holding each position [deg]; -1 outside the region."""
        ra = np.asarray(ra, dtype=np.float64)
        dec = np.asarray(dec, dtype=np.float64)
        out = np.full(len(ra), -1, dtype=np.int64)
        ok = np.flatnonzero(np.isfinite(ra) & np.isfinite(dec))
        if not len(self.uniq) or not len(ok):
            return out
        level, ipix = ah.uniq_to_level_ipix(self.uniq)
        level = np.asarray(level, dtype=np.int64)
        top = int(level.max())
        shift = 2 * (top - level)
        start = np.asarray(ipix, dtype=np.int64) << shift
        end = (np.asarray(ipix, dtype=np.int64) + 1) << shift
        order = np.argsort(start)
        p = pixels(ra[ok], dec[ok], top)
        j = np.searchsorted(start[order], p, side="right") - 1
        j = np.clip(j, 0, len(order) - 1)
        cell = order[j]
        inside = (p >= start[cell]) & (p < end[cell])
        out[ok[inside]] = cell[inside]
        return out


_REGION_FIELDS = ("uniq", "probdensity", "level", "distmu", "distsigma")


@dataclass
class SkyMap:
    """A sky map reduced to what the broker needs."""

    region: Region
    #: Area of each credible region [deg²], by level (0.1, 0.5, 0.9).
    areas: dict[float, float]
    mocs: dict[float, MOC]
    #: Most probable position [deg].
    ra: float
    dec: float
    #: Event time [MJD] from the header (None when it gives none).
    mjd: float | None
    distmean: float | None
    diststd: float | None
    header: dict[str, object] = field(default_factory=dict)

    @property
    def has_distance(self) -> bool:
        return bool(np.isfinite(self.region.distmu).any())


def read_skymap(data: bytes) -> SkyMap:
    """Read a FITS sky map (flat or multi-order, gzipped or not)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        with fits.open(io.BytesIO(data), memmap=False) as hdus:
            hdu = hdus[1]
            header = dict(hdu.header)
            table = hdu.data
            names = [n.upper() for n in hdu.columns.names]
            columns = {
                n: np.asarray(table[c]).ravel()
                for n, c in zip(names, hdu.columns.names, strict=True)
            }
    except (OSError, IndexError, KeyError, TypeError) as exc:
        raise SkyMapError(f"not a FITS HEALPix sky map: {exc}") from exc
    ordering = str(header.get("ORDERING", "")).upper()
    nan = np.full(1, np.nan)
    if ordering == "NUNIQ":
        if "UNIQ" not in columns or "PROBDENSITY" not in columns:
            raise SkyMapError("a multi-order map needs UNIQ and PROBDENSITY columns")
        uniq = columns["UNIQ"].astype(np.int64)
        level, _ = ah.uniq_to_level_ipix(uniq)
        area = ah.nside_to_pixel_area(ah.level_to_nside(level)).to_value(u.sr)
        density = columns["PROBDENSITY"].astype(np.float64)
        cells = _Cells(density * area, density, lambda i: uniq[i], lambda i: area[i])
    elif ordering in ("NESTED", "RING"):
        # FITS is big-endian: native doubles make every later pass several times faster.
        prob = columns.get("PROB", columns[names[0]]).astype(np.float64)
        npix = len(prob)
        nside = int(ah.npix_to_nside(npix))
        if ordering == "RING":
            from astropy_healpix.core import ring_to_nested

            order = ring_to_nested(np.arange(npix, dtype=np.int64), nside)
            nested = np.empty_like(prob)
            nested[order] = prob
            prob = nested
            for name in ("DISTMU", "DISTSIGMA"):
                if name in columns:
                    layer = np.empty(npix)
                    layer[order] = columns[name]
                    columns[name] = layer
        pix_area = float(ah.nside_to_pixel_area(nside).to_value(u.sr))
        offset = 4 * np.int64(nside) ** 2
        cells = _Cells(
            prob,
            prob,  # one pixel size: ranking by probability is ranking by density
            lambda i: offset + i.astype(np.int64),
            lambda i: np.full(len(i), pix_area),
        )
    else:
        raise SkyMapError(f"unknown HEALPix ordering {ordering!r} (NUNIQ, NESTED or RING)")
    return _reduce(cells, columns.get("DISTMU", nan), columns.get("DISTSIGMA", nan), header)


@dataclass(frozen=True)
class _Cells:
    """A map's pixels: probability and ranking key of each, and their index and area
    computed only for the pixels asked (a flat map's 50 M pixels are never expanded)."""

    prob: np.ndarray
    rank: np.ndarray
    uniq: Callable[[np.ndarray], np.ndarray]
    area: Callable[[np.ndarray], np.ndarray]


def _candidates(rank: np.ndarray, prob: np.ndarray, total: float, level: float) -> np.ndarray:
    """Pixels that may lie in the ``level`` region: those ranked above a power of two below
    which the higher-ranked pixels are sure to hold more than ``level`` (a histogram of
    the ranking keys' binary exponents, weighted by probability)."""
    if len(rank) < 100_000:
        return np.flatnonzero(rank > 0)
    # The biased binary exponent of a positive double, read from its bits.
    exponent = np.ascontiguousarray(rank, dtype=np.float64).view(np.int64) >> 52
    weights = np.bincount(exponent, weights=prob, minlength=2048)
    above = np.cumsum(weights[::-1])[::-1]  # probability at or above each exponent
    k = int(np.flatnonzero(above >= level * total)[-1])
    return np.flatnonzero(exponent >= k)


def _reduce(
    cells: _Cells, distmu: np.ndarray, distsigma: np.ndarray, header: dict[str, object]
) -> SkyMap:
    prob = cells.prob
    if not np.isfinite(prob).all() or not np.isfinite(cells.rank).all():
        raise SkyMapError("the map holds non-finite probabilities")
    total = float(prob.sum(dtype=np.float64))
    if not total > 0:
        raise SkyMapError("the map holds no probability")
    keep = _candidates(cells.rank, prob, total, HIT_LEVEL)
    order = keep[np.argsort(-cells.rank[keep], kind="stable")]
    level = np.cumsum(prob[order], dtype=np.float64) / total
    in90 = order[level <= HIT_LEVEL]
    lv = level[level <= HIT_LEVEL]
    uniq = cells.uniq(in90)
    area = cells.area(in90)
    areas: dict[float, float] = {}
    mocs: dict[float, MOC] = {}
    cell_level, cell_ipix = ah.uniq_to_level_ipix(uniq)
    for p in LEVELS:
        sel = lv <= p
        areas[p] = float(area[sel].sum() * SR_TO_DEG2)
        mocs[p] = MOC.from_healpix_cells(
            np.asarray(cell_ipix[sel], dtype=np.uint64),
            np.asarray(cell_level[sel], dtype=np.uint8),
            max_depth=int(cell_level.max()) if len(cell_level) else 0,
        )
    blevel, bipix = ah.uniq_to_level_ipix(cells.uniq(order[:1]))
    lon, lat = ah.healpix_to_lonlat(bipix, ah.level_to_nside(blevel), order="nested")

    def layer(values: np.ndarray) -> np.ndarray:
        if len(values) != len(prob):
            return np.full(len(in90), np.nan)
        return values[in90].astype(np.float64)

    density = prob[in90].astype(np.float64) / area
    region = Region(uniq, density, lv, layer(distmu), layer(distsigma))
    return SkyMap(
        region=region,
        areas=areas,
        mocs=mocs,
        ra=float(lon.to_value(u.deg)[0]),
        dec=float(lat.to_value(u.deg)[0]),
        mjd=_float(header.get("MJD-OBS")),
        distmean=_float(header.get("DISTMEAN")),
        diststd=_float(header.get("DISTSTD")),
        header={k: v for k, v in header.items() if k in ("OBJECT", "DATE-OBS", "CREATOR")},
    )


def _float(value: object) -> float | None:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def distance_moments(mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation [Mpc] of r for the ansatz p(r) ∝ r² N(r; μ, σ), r > 0.

    With M_n = ∫₀^∞ rⁿ exp(−(r − μ)²/2σ²) dr: M₀ = σ√(2π) Φ(μ/σ),
    M₁ = μ M₀ + σ² exp(−μ²/2σ²), M_n = μ M_{n−1} + (n − 1) σ² M_{n−2}; mean = M₃/M₂,
    variance = M₄/M₂ − mean². NaN where μ or σ is not finite or σ ≤ 0.
    """
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    ok = np.isfinite(mu) & np.isfinite(sigma) & (sigma > 0)
    m, s = np.where(ok, mu, 0.0), np.where(ok, sigma, 1.0)
    x = m / s
    # Divided by σ√(2π) throughout, which cancels in the ratios.
    m0 = ndtr(x)
    m1 = m * m0 + s * np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)
    m2 = m * m1 + s**2 * m0
    m3 = m * m2 + 2 * s**2 * m1
    m4 = m * m3 + 3 * s**2 * m2
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = m3 / m2
        std = np.sqrt(np.maximum(m4 / m2 - mean**2, 0.0))
    bad = ~ok | ~np.isfinite(mean) | ~np.isfinite(std)
    return np.where(bad, np.nan, mean), np.where(bad, np.nan, std)


@dataclass(frozen=True)
class MapValues:
    """A map's values at positions inside its 90 % region (NaN elsewhere)."""

    inside: np.ndarray
    contour: np.ndarray  # percent
    probdens2: np.ndarray  # sr⁻¹
    dist_mean: np.ndarray  # Mpc
    dist_std: np.ndarray  # Mpc


def values_at(region: Region, ra: np.ndarray, dec: np.ndarray) -> MapValues:
    """Contour, density and line-of-sight distance moments at positions [deg]."""
    cell = region.lookup(ra, dec)
    inside = cell >= 0
    c = np.where(inside, cell, 0)

    def pick(values: np.ndarray) -> np.ndarray:
        if not len(values):
            return np.full(len(cell), np.nan)
        return np.where(inside, values[c], np.nan)

    mean, std = distance_moments(pick(region.distmu), pick(region.distsigma))
    return MapValues(inside, pick(region.level) * 100.0, pick(region.probdensity), mean, std)


def probdens3(
    probdens2: np.ndarray, host: np.ndarray, mean: np.ndarray, std: np.ndarray
) -> np.ndarray:
    """probdens2 × exp(−½((mean − host)/std)²); NaN without a host distance or distance
    layers."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return probdens2 * np.exp(-0.5 * ((mean - host) / std) ** 2)
