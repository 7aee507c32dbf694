"""A HEALPix index of a watchlist's cones, and the match of many positions against it.

Input: cone centres [deg] and radii [arcsec]; later, positions [deg]. Output: the pairs
(position, cone) closer than the cone's radius, with their separation [arcsec]. No side
effects.

The cones are sorted by their centre's NESTED HEALPix pixel at a depth chosen from their
radius: the finest depth whose pixels are at least three times wider than the radius
(:func:`depth_for_radius`). At such a depth a point within the radius of a centre lies in
the centre's pixel or one of its eight neighbours, so a position's candidates are the cones
filed under its own pixel and its neighbours: nine ``searchsorted`` look-ups per position,
then the exact separation of each candidate pair. Cones of very different radii are filed
in separate tiers (one depth each), so one large cone does not coarsen the index of a
million small ones. Everything is done on whole arrays; building costs one HEALPix hash
and one sort per cone.
"""

from __future__ import annotations

from dataclasses import dataclass

import cdshealpix.nested as healpix
import numpy as np
from astropy import units as u
from astropy.coordinates import Latitude, Longitude

from lanner.store.reading import angular_separation_deg

#: Depth of the finest tier (pixels of about 77 arcsec: cones of radius up to 25 arcsec).
MAX_DEPTH = 11
#: Pixel width over cone radius that guarantees the nine-pixel neighbourhood holds the cone.
WIDTH_OVER_RADIUS = 3.0


def depth_for_radius(radius_arcsec: np.ndarray) -> np.ndarray:
    """Finest depth (0 to :data:`MAX_DEPTH`) whose mean pixel width is at least
    :data:`WIDTH_OVER_RADIUS` times each radius [arcsec]."""
    r = np.radians(np.maximum(np.asarray(radius_arcsec, dtype=np.float64), 1e-3) / 3600.0)
    # Mean pixel width at depth d: sqrt(4 pi / (12 * 4^d)) rad.
    width0 = np.sqrt(np.pi / 3.0)
    depth = np.floor(np.log2(width0 / (WIDTH_OVER_RADIUS * r)))
    return np.clip(depth, 0, MAX_DEPTH).astype(np.int64)


def pixels(ra: np.ndarray, dec: np.ndarray, depth: int) -> np.ndarray:
    """NESTED pixel [int64] of each position [deg] at ``depth`` (one thread)."""
    ipix = healpix.lonlat_to_healpix(
        Longitude(np.asarray(ra, dtype=np.float64), u.deg),
        Latitude(np.asarray(dec, dtype=np.float64), u.deg),
        depth,
        num_threads=1,
    )
    return ipix.astype(np.int64)


@dataclass(frozen=True)
class _Tier:
    depth: int
    keys: np.ndarray  # sorted pixel of each cone of the tier
    cones: np.ndarray  # row (in the watchlist's arrays) of each key


@dataclass(frozen=True)
class ConeMatches:
    """Pairs (position, cone) within the cone's radius."""

    position: np.ndarray  # index into the matched positions, int64
    cone: np.ndarray  # row of the cone in the index's arrays, int64
    arcsec: np.ndarray  # separation, float64

    def __len__(self) -> int:
        return len(self.position)


class ConeIndex:
    """The cones of one watchlist, filed by HEALPix pixel; build once, match many times.

    Parameters
    ----------
    ra, dec
        Cone centres [deg].
    radius
        Radius of each cone [arcsec] (the watchlist default already applied).
    """

    def __init__(self, ra: np.ndarray, dec: np.ndarray, radius: np.ndarray) -> None:
        self.ra = np.asarray(ra, dtype=np.float64)
        self.dec = np.asarray(dec, dtype=np.float64)
        self.radius = np.asarray(radius, dtype=np.float64)
        depth = depth_for_radius(self.radius)
        self.tiers: list[_Tier] = []
        for d in np.unique(depth):
            rows = np.flatnonzero(depth == d)
            keys = pixels(self.ra[rows], self.dec[rows], int(d))
            order = np.argsort(keys, kind="stable")
            self.tiers.append(_Tier(int(d), keys[order], rows[order]))

    def __len__(self) -> int:
        return len(self.ra)

    def match(self, ra: np.ndarray, dec: np.ndarray) -> ConeMatches:
        """Every (position, cone) pair closer than the cone's radius."""
        ra = np.asarray(ra, dtype=np.float64)
        dec = np.asarray(dec, dtype=np.float64)
        ok = np.flatnonzero(np.isfinite(ra) & np.isfinite(dec))
        parts_p, parts_c = [], []
        if len(ok) and len(self):
            for tier in self.tiers:
                p, c = _candidates(tier, ra[ok], dec[ok])
                parts_p.append(ok[p])
                parts_c.append(c)
        if not parts_p:
            empty = np.zeros(0, dtype=np.int64)
            return ConeMatches(empty, empty, np.zeros(0))
        pos = np.concatenate(parts_p)
        cone = np.concatenate(parts_c)
        sep = angular_separation_deg(ra[pos], dec[pos], self.ra[cone], self.dec[cone]) * 3600.0
        inside = sep <= self.radius[cone]
        order = np.lexsort((cone[inside], pos[inside]))
        return ConeMatches(pos[inside][order], cone[inside][order], sep[inside][order])


def _candidates(tier: _Tier, ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position, cone) pairs whose pixels are equal or adjacent at the tier's depth."""
    own = pixels(ra, dec, tier.depth)
    block = healpix.neighbours(own.astype(np.uint64), tier.depth, num_threads=1).astype(np.int64)
    # Missing neighbours (8 pixels have only 7) are -1; a duplicate would double a pair.
    block = np.where(block < 0, own[:, None], block)
    block.sort(axis=1)
    dup = np.zeros_like(block, dtype=bool)
    dup[:, 1:] = block[:, 1:] == block[:, :-1]
    flat = block.ravel()
    lo = np.searchsorted(tier.keys, flat, side="left")
    hi = np.searchsorted(tier.keys, flat, side="right")
    counts = np.where(dup.ravel(), 0, hi - lo)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(flat)) // block.shape[1], counts)
    starts = np.repeat(lo, counts)
    step = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner.astype(np.int64), tier.cones[starts + step].astype(np.int64)
