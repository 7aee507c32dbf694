"""The Sherlock-style context classifier: positions in, one context row per position out.

Input: arrays of positions [deg] (and, for ZTF, the packet's nearest Pan-STARRS1 source).
Output: the ``sherlock_classifications`` columns (:mod:`.sherlock_columns`) as an Arrow
table aligned with the input. Side effects: reads catalogue partitions (cached).

Steps, all on whole arrays:

1. cross-match every position with every catalogue of the library (:mod:`.crossmatch`);
   each pair is a synonym (within the synonym radius) or an association (within the
   source's radius, :mod:`.association_rules`);
2. positions with any synonym keep only their synonyms (Sherlock's
   ``stop-search-on-synonym-match``);
3. pairs are ranked by Sherlock's rank score; the best pair wins;
4. entries of the same source in several catalogues are merged: those within 1 arcsec of
   the winner's position and, when the winner is a galaxy, the other catalogues' galaxies
   within a tenth of its semi-major axis (1-60 arcsec,
   :func:`.association_rules.galaxy_merge_radius_arcsec`: catalogues centre a large galaxy
   differently). The class comes from the most trusted catalogue (``priority``, then the
   type order AGN > CV > NT > SN > VS > BS); the distance is a direct
   (redshift-independent) distance when any entry has one, from the most trusted catalogue
   that has one, else the luminosity distance of the most trusted redshift, as Sherlock's
   ``best_distance``; the separation is the closest entry's.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
from scipy.spatial import cKDTree

from lanner.enrich.base import to_table
from lanner.enrich.context.association_rules import (
    ARCSEC_PER_RADIAN,
    CLASSES,
    MERGE_RADIUS_ARCSEC,
    SYNONYM_RADIUS_ARCSEC,
    TYPE_ORDER,
    galaxy_merge_radius_arcsec,
    kpc_per_arcsec,
    rank_score,
)
from lanner.enrich.context.catalogue_store import CatalogueStore
from lanner.enrich.context.crossmatch import LoadedCatalogue, Pairs, offsets_arcsec, unit_vectors
from lanner.enrich.context.description import describe
from lanner.enrich.context.packet_neighbours import PacketNeighbours, ps1_pairs
from lanner.enrich.context.sherlock_columns import SHERLOCK_COLUMNS

OBJECT_TYPE = {"bright_star": "star", "star": "star", "cv": "cv", "agn": "agn", "galaxy": "galaxy"}
PS1_NAME = "PS1"


def default_library() -> Path:
    """The catalogue library shipped inside the package."""
    return Path(__file__).resolve().parents[2] / "data" / "catalogs"


def check_positions(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Mask of usable positions [deg]: finite, ``|ra| <= 360`` (wrapped), ``|dec| <= 90``."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(ra) & np.isfinite(dec) & (np.abs(dec) <= 90.0) & (np.abs(ra) <= 360.0)


class ContextClassifier:
    """Classify positions against a library of imported catalogues.

    Parameters
    ----------
    libraries
        Library directories (each holds catalogue directories); default: the packaged one.
    preload_rows
        Catalogues up to this many rows are loaded whole at construction; larger ones are
        read partition by partition as positions need them.
    """

    def __init__(
        self, libraries: Sequence[Path] | None = None, preload_rows: int = 2_000_000
    ) -> None:
        dirs = [default_library()] if libraries is None else [Path(p) for p in libraries]
        self.catalogues: list[LoadedCatalogue] = []
        for lib in dirs:
            if not lib.is_dir():
                raise FileNotFoundError(f"catalogue library {lib} does not exist")
            for d in sorted(lib.iterdir()):
                if (d / "properties").is_file():
                    store = CatalogueStore(d)
                    self.catalogues.append(LoadedCatalogue(store, store.n_rows <= preload_rows))

    def classify(
        self,
        ra: np.ndarray,
        dec: np.ndarray,
        survey: str | None = None,
        neighbours: PacketNeighbours | None = None,
        strict: bool = True,
    ) -> pa.Table:
        """Context of each position ``ra``, ``dec`` [deg] for ``survey`` ("ztf", "lsst").

        With ``strict``, a NaN or out-of-range position raises ``ValueError``; otherwise its
        row is all NULL.
        """
        ra = np.atleast_1d(np.asarray(ra, dtype=np.float64))
        dec = np.atleast_1d(np.asarray(dec, dtype=np.float64))
        if ra.shape != dec.shape:
            raise ValueError(f"ra and dec differ in length: {ra.size} and {dec.size}")
        valid = check_positions(ra, dec)
        if strict and not valid.all():
            i = int(np.flatnonzero(~valid)[0])
            raise ValueError(
                f"{int((~valid).sum())} positions are not valid sky positions "
                f"(first: ra={ra[i]}, dec={dec[i]}; need finite deg, |dec| <= 90)"
            )
        r_syn = SYNONYM_RADIUS_ARCSEC.get(survey or "ztf", SYNONYM_RADIUS_ARCSEC["ztf"])
        idx = np.flatnonzero(valid)
        ra_v, dec_v = ra[idx] % 360.0, dec[idx]
        tree = cKDTree(unit_vectors(ra_v, dec_v))
        parts: list[tuple[int, Pairs]] = []
        for k, cat in enumerate(self.catalogues):
            cat.ensure(ra_v, dec_v)
            parts.append((k, cat.match(tree, ra_v, dec_v, r_syn)))
        if neighbours is not None:
            parts.append((len(self.catalogues), ps1_pairs(neighbours, idx, r_syn)))
        values = self._resolve(parts, idx.size, ra_v, dec_v)
        values = {name: _scatter(col, idx, ra.size) for name, col in values.items()}
        values["description"], values["summary"] = describe(values)
        return to_table(SHERLOCK_COLUMNS, dict(values))

    def _attr(self, k: int, name: str, rows: np.ndarray) -> np.ndarray:
        if k == len(self.catalogues):
            return np.full(rows.size, np.nan)
        return getattr(self.catalogues[k], name)[rows]

    def _resolve(
        self, parts: list[tuple[int, Pairs]], n: int, ra: np.ndarray, dec: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Rank and merge the pairs; return the per-position columns (valid positions)."""
        cat = np.concatenate([np.full(p.alert.size, k, dtype=np.int64) for k, p in parts])
        p = Pairs(
            *(np.concatenate([getattr(q, f) for _, q in parts]) for f in Pairs.__dataclass_fields__)
        )
        cat_ra, cat_dec = np.full(cat.size, np.nan), np.full(cat.size, np.nan)
        z, dd, zd, semi, mag, prio = (np.full(cat.size, np.nan) for _ in range(6))
        prio[:] = -1.0
        for k in np.unique(cat):
            m = cat == k
            rows = p.row[m]
            cat_ra[m], cat_dec[m] = self._attr(k, "ra", rows), self._attr(k, "dec", rows)
            z[m], dd[m] = self._attr(k, "z", rows), self._attr(k, "direct_distance", rows)
            zd[m], semi[m] = self._attr(k, "z_distance", rows), self._attr(k, "semi_major", rows)
            mag[m] = self._attr(k, "mag", rows) if k < len(self.catalogues) else p.kpc[m]
            prio[m] = self.catalogues[k].priority if k < len(self.catalogues) else 0
        if cat.size and len(self.catalogues) in cat:
            # PS1 pairs carry their magnitude in the kpc slot (they have no distance).
            ps1 = cat == len(self.catalogues)
            p.kpc[ps1] = np.nan

        # Stop on synonym: a position with a synonym ignores its associations.
        has_syn = np.zeros(n, dtype=bool)
        has_syn[p.alert[p.reliability == 1]] = True
        keep = (p.reliability == 1) | ~has_syn[p.alert]
        cls_names = np.asarray(CLASSES)[p.cls]
        score = rank_score(cls_names, p.reliability, p.sep, p.kpc)
        ranked = np.lexsort((score, p.alert))
        order = ranked[keep[ranked]]
        top = np.full(n, -1, dtype=np.int64)
        first = (
            order[np.r_[True, p.alert[order][1:] != p.alert[order][:-1]]] if order.size else order
        )
        top[p.alert[first]] = first

        # Merge entries of the winning source found in several catalogues.
        t = top[p.alert[order]]
        dsep, _, _ = offsets_arcsec(cat_ra[order], cat_dec[order], cat_ra[t], cat_dec[t])
        galaxy_cat = np.asarray([c.role == "galaxy" for c in self.catalogues] + [False])
        is_galaxy = galaxy_cat[cat]
        same_galaxy = (
            is_galaxy[order] & is_galaxy[t] & (dsep <= galaxy_merge_radius_arcsec(semi[t]))
        )
        member = order[(order == t) | (dsep <= MERGE_RADIUS_ARCSEC) | same_galaxy]
        type_rank = np.asarray([TYPE_ORDER.index(c) if c in TYPE_ORDER else 9 for c in CLASSES])
        winner = _best(member, p.alert, (type_rank[p.cls], -prio, p.reliability == 3), n)
        closest = _best(member, p.alert, (p.sep,), n)
        with_dd = member[np.isfinite(dd[member])]
        with_z = member[np.isfinite(z[member])]
        with_mag = member[np.isfinite(mag[member])]
        with_semi = member[np.isfinite(semi[member])]
        best_dd = _best(with_dd, p.alert, (-prio,), n)
        best_z = _best(with_z, p.alert, (-prio,), n)
        best_mag = _best(with_mag, p.alert, (-prio,), n)
        best_semi = _best(with_semi, p.alert, (-prio,), n)

        def pick(values: np.ndarray, which: np.ndarray) -> np.ndarray:
            out = np.full(n, np.nan)
            ok = which >= 0
            out[ok] = values[which[ok]]
            return out

        matched = top >= 0
        cls = _take(np.asarray(CLASSES, dtype=object)[p.cls], winner, "ORPHAN")
        names = self._catalogue_names(cat, member, p.alert, n)
        direct = pick(dd, best_dd)
        redshift = pick(z, best_z)
        distance = np.where(np.isfinite(direct), direct, pick(zd, best_z))
        dist_cat = np.where(np.isfinite(direct), best_dd, best_z)
        kind = np.where(
            np.isfinite(direct), "direct:", np.where(np.isfinite(distance), "redshift:", "")
        ).astype(object)
        source = np.full(n, None, dtype=object)
        has = kind != ""
        source[has] = kind[has] + self._names(cat, dist_cat)[has]
        sep = pick(p.sep, closest)
        scale = np.where(np.isfinite(direct), direct * 1000.0 / ARCSEC_PER_RADIAN, np.nan)
        scale = np.where(np.isfinite(scale), scale, kpc_per_arcsec(redshift, np.full(n, np.nan)))
        close_cat = _take(cat, closest, -1).astype(np.int64)
        return {
            "classification": cls,
            "association_type": np.where(matched, cls, np.asarray(None, dtype=object)),
            "classificationReliability": pick(p.reliability.astype(np.float64), winner),
            "catalogue_table_name": names,
            "catalogue_object_id": self._object_ids(close_cat, pick_rows(p.row, closest)),
            "catalogue_object_type": self._roles(cat, winner, cls),
            "catalogue_object_subtype": self._strings(
                close_cat, pick_rows(p.row, closest), "object_type"
            ),
            "catalogue_ra": pick(cat_ra, closest),
            "catalogue_dec": pick(cat_dec, closest),
            "separationArcsec": sep,
            "northSeparationArcsec": pick(p.north, closest),
            "eastSeparationArcsec": pick(p.east, closest),
            "physical_separation_kpc": sep * scale,
            "z": redshift,
            "photoZ": np.full(n, np.nan),
            "photoZErr": np.full(n, np.nan),
            "distance": distance,
            "distance_source": source,
            "direct_distance": direct,
            "Mag": pick(mag, best_mag),
            "MagFilter": self._mag_filters(cat, best_mag),
            "MagErr": np.full(n, np.nan),
            "major_axis_arcsec": 2.0 * pick(semi, best_semi),
        }

    def _catalogue_label(self, k: int) -> str:
        return PS1_NAME if k == len(self.catalogues) else self.catalogues[k].name.upper()

    def _names(self, cat: np.ndarray, which: np.ndarray) -> np.ndarray:
        labels = np.asarray([self._catalogue_label(k) for k in range(len(self.catalogues) + 1)])
        return _labels_of(labels, _take(cat, which, -1))

    def _catalogue_names(
        self, cat: np.ndarray, member: np.ndarray, alert: np.ndarray, n: int
    ) -> np.ndarray:
        """'/'-joined sorted catalogue names of each position's merged source."""
        out = np.full(n, None, dtype=object)
        if member.size == 0:
            return out
        labels = [self._catalogue_label(k) for k in range(len(self.catalogues) + 1)]
        a = alert[member]
        order = np.argsort(a, kind="stable")
        a, ks = a[order], cat[member][order]
        starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
        stops = np.r_[starts[1:], a.size]
        single = stops - starts == 1
        out[a[starts[single]]] = np.asarray(labels, dtype=object)[ks[starts[single]]]
        # Only sources found in several catalogues need a join (a few per batch).
        for s, e in zip(starts[~single], stops[~single], strict=True):
            out[a[s]] = "/".join(sorted({labels[k] for k in ks[s:e]}))
        return out

    def _object_ids(self, cat: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self._strings(cat, rows, "object_id")

    def _strings(self, cat: np.ndarray, rows: np.ndarray, column: str) -> np.ndarray:
        out = np.full(cat.size, None, dtype=object)
        for k in np.unique(cat[cat >= 0]):
            if k == len(self.catalogues):
                continue
            m = cat == k
            col = self.catalogues[k].rows.column(column)
            out[m] = np.asarray(col.take(pa.array(rows[m])).to_pylist(), dtype=object)
        return out

    def _roles(self, cat: np.ndarray, winner: np.ndarray, cls: np.ndarray) -> np.ndarray:
        """Kind of the matched source; a PS1 neighbour is a star when matched as VS."""
        roles = [OBJECT_TYPE[c.role] for c in self.catalogues] + [None]
        out = np.full(winner.size, None, dtype=object)
        ok = winner >= 0
        out[ok] = np.asarray(roles, dtype=object)[cat[winner[ok]]]
        ps1 = ok & (_take(cat, winner, -1) == len(self.catalogues))
        out[ps1] = np.where(cls[ps1] == "VS", "star", "galaxy")
        return out

    def _mag_filters(self, cat: np.ndarray, which: np.ndarray) -> np.ndarray:
        filters = [c.mag_filter for c in self.catalogues] + ["r"]
        out = np.full(which.size, None, dtype=object)
        ok = which >= 0
        out[ok] = np.asarray(filters, dtype=object)[cat[which[ok]]]
        return out


@lru_cache(maxsize=1)
def default_classifier() -> ContextClassifier:
    """The classifier on the packaged library, built once per process."""
    return ContextClassifier()


def classify_positions(
    ra: np.ndarray | float, dec: np.ndarray | float, survey: str = "ztf"
) -> pa.Table:
    """Sky context of arbitrary positions [deg] with the packaged library (one row each).

    Backs ``lanner context`` and the ``sherlock/position`` API call. Raises ``ValueError``
    for NaN or out-of-range positions.
    """
    return default_classifier().classify(np.asarray(ra), np.asarray(dec), survey=survey)


def pick_rows(rows: np.ndarray, which: np.ndarray) -> np.ndarray:
    return _take(rows, which, -1).astype(np.int64)


def _take(values: np.ndarray, which: np.ndarray, fill: object) -> np.ndarray:
    """``values[which]`` with ``fill`` where ``which`` is -1 (no match)."""
    out = np.full(which.size, fill, dtype=object)
    ok = which >= 0
    out[ok] = values[which[ok]]
    return out


def _best(
    candidates: np.ndarray, alert: np.ndarray, keys: tuple[np.ndarray, ...], n: int
) -> np.ndarray:
    """Per position, the candidate pair that sorts first by ``keys`` (-1 when none)."""
    out = np.full(n, -1, dtype=np.int64)
    if candidates.size == 0:
        return out
    a = alert[candidates]
    order = np.lexsort((*(k[candidates] for k in reversed(keys)), a))
    c, a = candidates[order], a[order]
    first = np.r_[True, a[1:] != a[:-1]]
    out[a[first]] = c[first]
    return out


def _labels_of(labels: np.ndarray, ks: np.ndarray) -> np.ndarray:
    ks = ks.astype(np.int64)
    out = np.full(ks.size, "", dtype=object)
    out[ks >= 0] = labels[ks[ks >= 0]]
    return out


def _scatter(col: np.ndarray, idx: np.ndarray, size: int) -> np.ndarray:
    """Place per-valid-position values at ``idx`` of a ``size`` array (NULL elsewhere)."""
    out = np.full(size, np.nan) if col.dtype.kind == "f" else np.full(size, None, dtype=object)
    out[idx] = col
    return out
