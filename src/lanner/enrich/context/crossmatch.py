"""Vectorised cross-match of a batch of positions against one loaded catalogue.

Input: arrays of positions [deg]. Output: every (position, source) pair within the source's
search radius, with the separation and its north/east components [arcsec]. Side effects:
reads the catalogue partitions the positions touch (through the store's cache) and keeps
them, with k-d trees, in memory.

Positions and sources are unit vectors on the sphere; pairs come from one
``cKDTree.sparse_distance_matrix`` call per radius tier (sources grouped by search radius so
that a few 30-arcminute galaxies do not widen the search around every faint star).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.spatial import cKDTree

from lanner.enrich.context.association_rules import (
    ASSOCIATION_CLASS,
    CLASSES,
    SYNONYM_CLASS,
    association_radius_arcsec,
    kpc_per_arcsec,
    luminosity_distance_mpc,
)
from lanner.enrich.context.catalogue_store import CatalogueStore

ARCSEC = np.pi / (180.0 * 3600.0)
#: Upper edges [arcsec] of the radius tiers.
TIER_EDGES = (4.0, 16.0, 64.0, 256.0, 1024.0, np.inf)


def unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """(n, 3) unit vectors of positions ``ra``, ``dec`` [deg]."""
    a = np.radians(np.asarray(ra, dtype=np.float64))
    d = np.radians(np.asarray(dec, dtype=np.float64))
    cd = np.cos(d)
    return np.column_stack([cd * np.cos(a), cd * np.sin(a), np.sin(d)])


def chord(radius_arcsec: float) -> float:
    """Chord length on the unit sphere of an angle [arcsec]."""
    return float(2.0 * np.sin(min(radius_arcsec * ARCSEC, np.pi) / 2.0))


def offsets_arcsec(
    ra: np.ndarray, dec: np.ndarray, ra0: np.ndarray, dec0: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Separation and (north, east) offsets [arcsec] of positions from sources.

    North and east are the gnomonic (tangent-plane) coordinates eta and xi of (``ra``,
    ``dec``) about (``ra0``, ``dec0``), all in deg: positive east means the position lies
    east of the source. The separation is the exact great-circle angle.
    """
    a, d = np.radians(ra), np.radians(dec)
    a0, d0 = np.radians(ra0), np.radians(dec0)
    da = a - a0
    cos_c = np.sin(d0) * np.sin(d) + np.cos(d0) * np.cos(d) * np.cos(da)
    east = np.cos(d) * np.sin(da) / cos_c / ARCSEC
    north = (np.cos(d0) * np.sin(d) - np.sin(d0) * np.cos(d) * np.cos(da)) / cos_c / ARCSEC
    # Haversine form: accurate for the sub-arcsecond separations of synonyms.
    h = np.sin((d - d0) / 2) ** 2 + np.cos(d) * np.cos(d0) * np.sin(da / 2) ** 2
    sep = 2.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))) / ARCSEC
    return sep, north, east


@dataclass
class Pairs:
    """Matches of positions (``alert``) with sources (``row``) of one catalogue."""

    alert: np.ndarray
    row: np.ndarray
    sep: np.ndarray
    north: np.ndarray
    east: np.ndarray
    cls: np.ndarray
    reliability: np.ndarray
    kpc: np.ndarray


class LoadedCatalogue:
    """A catalogue of the library with the rows in memory that the positions need.

    Parameters
    ----------
    store
        The catalogue on disk.
    preload
        Load every partition now (for small catalogues); otherwise partitions are loaded on
        demand and kept while the working set stays under the store's cache size.
    """

    def __init__(self, store: CatalogueStore, preload: bool) -> None:
        props = store.properties
        self.store = store
        self.name = store.name
        self.role = props["lanner_role"]
        self.priority = int(props.get("lanner_priority", "1"))
        self.mag_filter = props.get("lanner_mag_filter", "") or None
        syn = props.get("lanner_synonym_radius_arcsec")
        self.synonym_radius = float(syn) if syn else None
        self.max_radius = float(props.get("lanner_max_radius_arcsec", "0"))
        self.loaded: np.ndarray = np.empty(0, dtype=np.int64)
        self.rows = pa.table({})
        self._tiers: list[tuple[cKDTree, np.ndarray, float]] = []
        if preload:
            self._load(np.arange(len(store.index)))

    def _load(self, partitions: np.ndarray) -> None:
        self.loaded = np.unique(partitions)
        self.rows = self.store.read_partitions(self.loaded)
        col = self._column
        self.ra, self.dec = col("ra"), col("dec")
        self.mag = col("mag")
        self.z = col("z")
        self.direct_distance = col("distance_mpc")
        self.semi_major = col("semi_major_arcsec")
        self.scale = kpc_per_arcsec(self.z, self.direct_distance)
        self.z_distance = luminosity_distance_mpc(self.z)
        self.radius, self.backed = association_radius_arcsec(
            self.role, self.mag, self.semi_major, self.scale
        )
        xyz = unit_vectors(self.ra, self.dec)
        tier = np.searchsorted(np.asarray(TIER_EDGES), self.radius, side="left")
        self._tiers = []
        for t in np.unique(tier):
            members = np.flatnonzero(tier == t)
            self._tiers.append((cKDTree(xyz[members]), members, float(self.radius[members].max())))

    def _column(self, name: str) -> np.ndarray:
        return self.rows.column(name).to_numpy(zero_copy_only=False).astype(np.float64)

    def ensure(self, ra: np.ndarray, dec: np.ndarray) -> None:
        """Load the partitions within reach of positions ``ra``, ``dec`` [deg] if missing."""
        if len(self.loaded) == len(self.store.index):
            return
        need = self.store.index.covering(ra, dec, self.max_radius)
        if np.isin(need, self.loaded).all():
            return
        merged = np.union1d(self.loaded, need)
        if self.store.index_rows(merged) > self.store.cache_rows:
            merged = need
        self._load(merged)

    def match(self, tree: cKDTree, ra: np.ndarray, dec: np.ndarray, synonym_radius: float) -> Pairs:
        """All pairs within each source's radius (or the synonym radius, if larger).

        ``tree`` is a k-d tree of the unit vectors of ``ra``, ``dec`` [deg]; the synonym
        radius [arcsec] is the survey's unless the catalogue sets its own.
        """
        r_syn = self.synonym_radius if self.synonym_radius is not None else synonym_radius
        if tree.n == 0 or not self._tiers:
            return _empty_pairs()
        alerts, rows = [], []
        for cat_tree, members, r_max in self._tiers:
            found = tree.sparse_distance_matrix(
                cat_tree, chord(max(r_max, r_syn) * 1.0001), output_type="ndarray"
            )
            alerts.append(found["i"].astype(np.int64))
            rows.append(members[found["j"]])
        alert, row = np.concatenate(alerts), np.concatenate(rows)
        sep, north, east = offsets_arcsec(ra[alert], dec[alert], self.ra[row], self.dec[row])
        synonym = sep <= r_syn
        keep = synonym | (sep <= self.radius[row])
        alert, row, sep, north, east, synonym = (
            v[keep] for v in (alert, row, sep, north, east, synonym)
        )
        syn_code = CLASSES.index(SYNONYM_CLASS[self.role])
        assoc_code = CLASSES.index(ASSOCIATION_CLASS[self.role])
        cls = np.where(synonym, syn_code, assoc_code).astype(np.int8)
        reliability = np.where(synonym, 1, np.where(self.backed[row], 2, 3)).astype(np.int8)
        kpc = sep * self.scale[row]
        return Pairs(alert, row, sep, north, east, cls, reliability, kpc)


def _empty_pairs() -> Pairs:
    f = np.empty(0, dtype=np.float64)
    i = np.empty(0, dtype=np.int64)
    b = np.empty(0, dtype=np.int8)
    return Pairs(i, i, f, f, f, b, b, f)
