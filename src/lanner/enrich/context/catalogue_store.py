"""Sky-partitioned catalogue store in the HATS layout, read one partition at a time.

Input: a catalogue directory written by :mod:`lanner.enrich.context.catalogue_import`.
Output: Arrow tables of the partitions that cover given cones, cached in memory.
Side effects: reads Parquet files; never writes.

Layout (the HATS convention used by LSDB, Caplar et al. / LINCC Frameworks)::

    <catalogue>/
        properties                       key = value lines (HATS keys + lanner_* keys)
        partition_info.csv               Norder,Npix of every partition
        dataset/_common_metadata         Arrow schema of the partitions
        dataset/Norder=K/Dir=D/Npix=N.parquet

Each partition holds the rows inside one HEALPix pixel (nested scheme, order ``K``, pixel
``N``; ``D = (N // 10000) * 10000``). Orders are adaptive: a pixel is split until it holds at
most ``hats_max_rows`` rows, so dense sky gets small partitions. Every row carries
``_healpix_29``, its nested HEALPix index at order 29, so the partition of a row and the
partitions under a cone are found with integer range arithmetic alone.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import cdshealpix.nested as hpn
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.coordinates import Latitude, Longitude

#: Order of the per-row spatial index column, as in HATS.
INDEX_ORDER = 29
INDEX_COLUMN = "_healpix_29"


def healpix29(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Nested HEALPix index at order 29 of positions ``ra``, ``dec`` [deg] (int64)."""
    lon = Longitude(np.asarray(ra, dtype=np.float64) % 360.0, unit=u.deg)
    lat = Latitude(np.asarray(dec, dtype=np.float64), unit=u.deg)
    return np.asarray(hpn.lonlat_to_healpix(lon, lat, INDEX_ORDER), dtype=np.int64)


def pixel_width_deg(order: int) -> float:
    """Mean width [deg] of a HEALPix pixel at ``order`` (square root of its area)."""
    return float(np.degrees(np.sqrt(4.0 * np.pi / (12.0 * 4.0**order))))


def partition_path(root: Path, order: int, pixel: int) -> Path:
    """Path of partition (``order``, ``pixel``) under catalogue directory ``root``."""
    return (
        root / "dataset" / f"Norder={order}" / f"Dir={(pixel // 10000) * 10000}" / f"Npix={pixel}"
    ).with_suffix(".parquet")


def read_properties(root: Path) -> dict[str, str]:
    """Parse the ``properties`` file of a catalogue directory (``key = value`` lines)."""
    path = root / "properties"
    if not path.is_file():
        raise FileNotFoundError(f"{root} is not a catalogue: no properties file")
    props: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if sep:
            props[key.strip()] = value.strip()
    return props


def write_properties(root: Path, props: dict[str, str]) -> None:
    """Write ``props`` as the catalogue's ``properties`` file, keys in a stable order."""
    lines = [f"{k} = {props[k]}" for k in props]
    (root / "properties").write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class PartitionIndex:
    """The partitions of one catalogue as disjoint order-29 index ranges, sorted."""

    orders: np.ndarray
    pixels: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def from_pairs(cls, orders: np.ndarray, pixels: np.ndarray) -> PartitionIndex:
        orders = np.asarray(orders, dtype=np.int64)
        pixels = np.asarray(pixels, dtype=np.int64)
        shift = 2 * (INDEX_ORDER - orders)
        lo = pixels << shift
        hi = (pixels + 1) << shift
        order = np.argsort(lo, kind="stable")
        return cls(orders[order], pixels[order], lo[order], hi[order])

    def __len__(self) -> int:
        return int(self.orders.size)

    def covering(self, ra: np.ndarray, dec: np.ndarray, radius_arcsec: float) -> np.ndarray:
        """Indexes of the partitions that may hold rows within ``radius_arcsec`` of any of
        the positions ``ra``, ``dec`` [deg].

        The cone of each position is covered by its pixel and the 8 neighbours at the
        deepest order whose pixels are wide enough; each such pixel is an order-29 range,
        and the partitions overlapping any range are selected with two sorted searches.
        """
        if len(self) == 0 or np.size(ra) == 0:
            return np.empty(0, dtype=np.int64)
        radius_deg = radius_arcsec / 3600.0
        # Neighbour blocks of order q cover a cone of radius < 0.4 pixel widths (the margin
        # allows for the distorted pixels near the poles and the base-pixel corners).
        fitting = [q for q in range(0, 20) if 0.4 * pixel_width_deg(q) >= radius_deg]
        if not fitting:
            return np.arange(len(self), dtype=np.int64)
        q = max(fitting)
        lon = Longitude(np.asarray(ra, dtype=np.float64) % 360.0, unit=u.deg)
        lat = Latitude(np.asarray(dec, dtype=np.float64), unit=u.deg)
        centre = np.asarray(hpn.lonlat_to_healpix(lon, lat, q), dtype=np.int64)
        block = np.asarray(hpn.neighbours(np.unique(centre), q), dtype=np.int64).ravel()
        block = np.unique(block[block >= 0])
        shift = 2 * (INDEX_ORDER - q)
        q_lo = block << shift
        q_hi = (block + 1) << shift
        first = np.searchsorted(self.hi, q_lo, side="right")
        last = np.searchsorted(self.lo, q_hi, side="left")
        hit = np.zeros(len(self) + 1, dtype=np.int64)
        np.add.at(hit, first, 1)
        np.add.at(hit, last, -1)
        return np.flatnonzero(np.cumsum(hit[:-1]) > 0)


class CatalogueStore:
    """One imported catalogue: its properties, partition index and a partition cache.

    Parameters
    ----------
    root
        Catalogue directory (contains ``properties``).
    cache_rows
        Most rows kept in the in-memory partition cache (least recently used dropped).
    """

    def __init__(self, root: Path, cache_rows: int = 5_000_000) -> None:
        self.root = Path(root)
        self.properties = read_properties(self.root)
        self.name = self.properties.get("obs_collection", self.root.name)
        info = self.root / "partition_info.csv"
        if not info.is_file():
            raise FileNotFoundError(f"catalogue {self.name}: missing partition_info.csv")
        table = np.loadtxt(info, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
        self.index = PartitionIndex.from_pairs(table[:, 0], table[:, 1])
        self.cache_rows = cache_rows
        self._cache: OrderedDict[int, pa.Table] = OrderedDict()
        self._cached_rows = 0
        self._row_counts: dict[int, int] = {}
        #: Number of partitions read from disk so far (cache misses).
        self.partitions_read = 0

    @property
    def n_rows(self) -> int:
        return int(self.properties.get("hats_nrows", "0"))

    def read_partition(self, i: int) -> pa.Table:
        """Rows of partition ``i`` of :attr:`index`, from the cache or from disk."""
        cached = self._cache.get(i)
        if cached is not None:
            self._cache.move_to_end(i)
            return cached
        path = partition_path(self.root, int(self.index.orders[i]), int(self.index.pixels[i]))
        table = pq.read_table(path)
        self.partitions_read += 1
        self._cache[i] = table
        self._cached_rows += table.num_rows
        while self._cached_rows > self.cache_rows and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cached_rows -= dropped.num_rows
        return table

    def partition_rows(self, i: int) -> int:
        """Row count of partition ``i`` (from the Parquet footer, remembered)."""
        n = self._row_counts.get(i)
        if n is None:
            path = partition_path(self.root, int(self.index.orders[i]), int(self.index.pixels[i]))
            n = pq.ParquetFile(path).metadata.num_rows
            self._row_counts[i] = n
        return n

    def index_rows(self, indexes: np.ndarray) -> int:
        """Total rows of partitions ``indexes``."""
        return sum(self.partition_rows(int(i)) for i in indexes)

    def read_partitions(self, indexes: np.ndarray) -> pa.Table:
        """Rows of the partitions ``indexes``, concatenated (schema of the catalogue)."""
        tables = [self.read_partition(int(i)) for i in indexes]
        if not tables:
            schema = pq.read_schema(self.root / "dataset" / "_common_metadata")
            return schema.empty_table()
        return pa.concat_tables(tables)

    def read_all(self) -> pa.Table:
        """Every row of the catalogue (small catalogues only)."""
        return self.read_partitions(np.arange(len(self.index)))
