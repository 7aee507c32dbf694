"""Import a CSV, Parquet or FITS table into the sky-partitioned catalogue store.

Input: a table file and a column map (SQL expressions over the file's columns, evaluated by
DuckDB, so ``"v_h" / 299792.458`` or ``"majax" * 60`` work). Output: a catalogue directory
in the HATS layout (see :mod:`lanner.enrich.context.catalogue_store`) with standard columns
``ra``, ``dec`` [deg], ``object_id``, ``object_type``, ``mag`` [mag], ``z``,
``distance_mpc`` [Mpc, redshift-independent], ``semi_major_arcsec`` [arcsec] and
``_healpix_29``. Side effects: writes that directory (replacing an existing one).

The file is streamed twice in record batches, never loaded whole: the first pass counts rows
per HEALPix pixel at :data:`COUNT_ORDER` and chooses partitions (a pixel is split until it
holds at most ``max_rows`` rows); the second writes each batch's rows into fragments per
partition, which are then merged partition by partition. Memory is bounded by one batch plus
one partition, so the same command imports a billion-row survey.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lanner.enrich.context.association_rules import (
    ROLES,
    association_radius_arcsec,
    kpc_per_arcsec,
)
from lanner.enrich.context.catalogue_store import (
    INDEX_COLUMN,
    INDEX_ORDER,
    healpix29,
    partition_path,
    write_properties,
)

#: Deepest partition order; pixel counts are taken at this order (786,432 pixels).
COUNT_ORDER = 8
BATCH_ROWS = 200_000

STANDARD_SCHEMA = pa.schema(
    [
        ("ra", pa.float64()),
        ("dec", pa.float64()),
        ("object_id", pa.string()),
        ("object_type", pa.string()),
        ("mag", pa.float64()),
        ("z", pa.float64()),
        ("distance_mpc", pa.float64()),
        ("semi_major_arcsec", pa.float64()),
        (INDEX_COLUMN, pa.int64()),
    ]
)

_IDENTIFIER = re.compile(r'^(?:[A-Za-z_][A-Za-z0-9_]*|"[^"]+")$')


class CatalogueImportError(ValueError):
    """The input file or the column map cannot make a catalogue."""


@dataclass(frozen=True)
class ColumnMap:
    """Where each standard column comes from: SQL expressions over the input's columns.

    ``ra``/``dec`` are required; the rest are optional (NULL when not given).
    ``semi_major`` is converted to arcsec with ``axis_unit`` ("arcsec", "arcmin" or "deg")
    and halved when ``axis_is_diameter``.
    """

    ra: str
    dec: str
    object_id: str | None = None
    object_type: str | None = None
    mag: str | None = None
    z: str | None = None
    distance: str | None = None
    semi_major: str | None = None
    axis_unit: str = "arcsec"
    axis_is_diameter: bool = False
    where: str | None = None


@dataclass(frozen=True)
class ImportOptions:
    """Catalogue-level settings stored in ``properties`` (``lanner_*`` keys)."""

    role: str
    mag_filter: str = ""
    priority: int = 1
    synonym_radius_arcsec: float | None = None
    description: str = ""
    max_rows: int = 250_000


_AXIS_TO_ARCSEC = {"arcsec": 1.0, "arcmin": 60.0, "deg": 3600.0}


def _source_sql(path: Path, con: duckdb.DuckDBPyConnection) -> str:
    """SQL table expression reading ``path``; FITS tables are registered as Arrow."""
    name = path.name.lower()
    quoted = str(path).replace("'", "''")
    if name.endswith((".csv", ".csv.gz", ".tsv", ".txt", ".csv.zst")):
        return f"read_csv('{quoted}', header = true)"
    if name.endswith((".parquet", ".pq")):
        return f"read_parquet('{quoted}')"
    if name.endswith((".fits", ".fit", ".fits.gz")):
        from astropy.table import Table

        table = Table.read(path)
        columns = {}
        for col in table.colnames:
            values = np.asarray(table[col])
            if values.ndim != 1:
                continue
            if values.dtype.kind == "S":
                values = np.char.decode(values, "utf-8")
            elif values.dtype.byteorder not in ("=", "|"):
                # FITS is big-endian; Arrow takes native byte order only.
                values = values.astype(values.dtype.newbyteorder("="))
            columns[col] = values
        con.register("fits_input", pa.table(columns))
        return "fits_input"
    raise CatalogueImportError(f"{path}: unknown format (expected CSV, Parquet or FITS)")


def _check_columns(cmap: ColumnMap, available: list[str], path: Path) -> None:
    """Fail early, with the list of columns, when a plain column name is not in the file."""
    known = {c.lower() for c in available}
    for field_name in (
        "ra",
        "dec",
        "object_id",
        "object_type",
        "mag",
        "z",
        "distance",
        "semi_major",
    ):
        expr = getattr(cmap, field_name)
        if expr is None:
            continue
        if _IDENTIFIER.match(expr.strip()) and expr.strip().strip('"').lower() not in known:
            raise CatalogueImportError(
                f"{path.name}: no column {expr!r} for {field_name}; "
                f"the file has: {', '.join(available)}"
            )


def _select_sql(cmap: ColumnMap, source: str) -> str:
    if cmap.axis_unit not in _AXIS_TO_ARCSEC:
        raise CatalogueImportError(f"axis unit must be one of {sorted(_AXIS_TO_ARCSEC)}")
    axis_factor = _AXIS_TO_ARCSEC[cmap.axis_unit] * (0.5 if cmap.axis_is_diameter else 1.0)

    def expr(value: str | None, sql_type: str) -> str:
        return f"TRY_CAST(({value}) AS {sql_type})" if value else f"CAST(NULL AS {sql_type})"

    semi = f"({expr(cmap.semi_major, 'DOUBLE')}) * {axis_factor!r}"
    where = f"WHERE {cmap.where}" if cmap.where else ""
    return (
        f"SELECT {expr(cmap.ra, 'DOUBLE')} AS ra, {expr(cmap.dec, 'DOUBLE')} AS dec, "
        f"{expr(cmap.object_id, 'VARCHAR')} AS object_id, "
        f"{expr(cmap.object_type, 'VARCHAR')} AS object_type, "
        f"{expr(cmap.mag, 'DOUBLE')} AS mag, {expr(cmap.z, 'DOUBLE')} AS z, "
        f"{expr(cmap.distance, 'DOUBLE')} AS distance_mpc, {semi} AS semi_major_arcsec "
        f"FROM {source} {where}"
    )


def _clean_batch(batch: pa.RecordBatch, path: Path) -> tuple[pa.Table, int]:
    """Standardise one batch: drop rows without a position, reject impossible ones, wrap
    RA into [0, 360), turn non-positive z/distance/size into NULL, add ``_healpix_29``."""
    ra = batch.column("ra").to_numpy(zero_copy_only=False).astype(np.float64)
    dec = batch.column("dec").to_numpy(zero_copy_only=False).astype(np.float64)
    keep = np.isfinite(ra) & np.isfinite(dec)
    bad = keep & ((np.abs(dec) > 90.0) | (ra < -360.0) | (ra > 720.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CatalogueImportError(
            f"{path.name}: {int(bad.sum())} rows have impossible positions "
            f"(first: ra={ra[i]}, dec={dec[i]}); are the RA/Dec columns in degrees?"
        )
    table = pa.Table.from_batches([batch]).filter(pa.array(keep))
    ra, dec = ra[keep] % 360.0, dec[keep]
    columns: dict[str, pa.Array | np.ndarray] = {"ra": ra, "dec": dec}
    for name in ("object_id", "object_type", "mag", "z", "distance_mpc", "semi_major_arcsec"):
        col = table.column(name).combine_chunks()
        if name in ("z", "distance_mpc", "semi_major_arcsec"):
            values = col.to_numpy(zero_copy_only=False).astype(np.float64)
            values[~(values > 0)] = np.nan
            col = pa.array(values, from_pandas=True)
        columns[name] = col
    columns[INDEX_COLUMN] = healpix29(ra, dec)
    out = pa.table(columns).cast(STANDARD_SCHEMA)
    return out, int((~keep).sum())


def choose_partitions(counts: np.ndarray, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive HEALPix partitions from per-pixel ``counts`` at :data:`COUNT_ORDER`.

    Walks orders 0..COUNT_ORDER and keeps a pixel as a partition as soon as it holds at most
    ``max_rows`` rows (or at the deepest order); empty pixels get no partition.

    Returns
    -------
    orders, pixels
        One entry per partition (nested scheme).
    """
    covered = np.zeros(counts.size, dtype=bool)
    orders: list[np.ndarray] = []
    pixels: list[np.ndarray] = []
    for order in range(COUNT_ORDER + 1):
        group = 4 ** (COUNT_ORDER - order)
        n = counts.reshape(-1, group).sum(axis=1)
        free = ~covered.reshape(-1, group).any(axis=1)
        take = free & (n > 0) & ((n <= max_rows) | (order == COUNT_ORDER))
        chosen = np.flatnonzero(take)
        orders.append(np.full(chosen.size, order, dtype=np.int64))
        pixels.append(chosen.astype(np.int64))
        covered |= np.repeat(take, group)
    return np.concatenate(orders), np.concatenate(pixels)


def import_catalogue(
    name: str, path: Path, library: Path, cmap: ColumnMap, options: ImportOptions
) -> Path:
    """Import table file ``path`` as catalogue ``name`` into ``library``; return its dir.

    Raises
    ------
    CatalogueImportError
        Unknown format, missing columns, bad expressions, impossible positions, unknown role,
        or no usable rows.
    """
    if options.role not in ROLES:
        raise CatalogueImportError(f"unknown role {options.role!r}; use one of {ROLES}")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise CatalogueImportError(f"catalogue name {name!r}: use letters, digits, _ . -")
    path = Path(path)
    if not path.is_file():
        raise CatalogueImportError(f"{path}: no such file")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    source = _source_sql(path, con)
    try:
        available = [row[0] for row in con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        _check_columns(cmap, available, path)
        query = _select_sql(cmap, source)
        con.sql(f"DESCRIBE {query}")
    except duckdb.Error as exc:
        raise CatalogueImportError(f"{path.name}: {exc}") from exc

    root = Path(library) / name
    work = Path(library) / f".{name}.importing"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        counts = np.zeros(12 * 4**COUNT_ORDER, dtype=np.int64)
        shift = 2 * (INDEX_ORDER - COUNT_ORDER)
        dropped = n_rows = 0
        max_radius = 0.0
        for batch in con.sql(query).to_arrow_reader(BATCH_ROWS):
            table, n_drop = _clean_batch(batch, path)
            dropped += n_drop
            n_rows += table.num_rows
            pix = table.column(INDEX_COLUMN).to_numpy() >> shift
            counts += np.bincount(pix, minlength=counts.size)
            max_radius = max(max_radius, _max_search_radius(table, options.role))
        if n_rows == 0:
            raise CatalogueImportError(f"{path.name}: no rows with a position to import")
        orders, pixels = choose_partitions(counts, options.max_rows)
        lo = pixels << (2 * (INDEX_ORDER - orders))
        sort = np.argsort(lo)
        orders, pixels, lo = orders[sort], pixels[sort], lo[sort]

        for k, batch in enumerate(con.sql(query).to_arrow_reader(BATCH_ROWS)):
            table, _ = _clean_batch(batch, path)
            part = np.searchsorted(lo, table.column(INDEX_COLUMN).to_numpy(), side="right") - 1
            order = np.argsort(part, kind="stable")
            table, part = table.take(pa.array(order)), part[order]
            bounds = np.flatnonzero(np.diff(part)) + 1
            for start, stop in zip(np.r_[0, bounds], np.r_[bounds, part.size], strict=True):
                frag_dir = work / f"part={part[start]}"
                frag_dir.mkdir(exist_ok=True)
                pq.write_table(table.slice(start, stop - start), frag_dir / f"{k}.parquet")
        _finalise(work, root, orders, pixels)
    except duckdb.Error as exc:
        raise CatalogueImportError(f"{path.name}: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)

    props = {
        "obs_collection": name,
        "dataproduct_type": "object",
        "hats_nrows": str(n_rows),
        "hats_col_ra": "ra",
        "hats_col_dec": "dec",
        "hats_max_rows": str(options.max_rows),
        "hats_order": str(int(orders.max())),
        "hats_builder": "lanner catalog import",
        "lanner_source_file": path.name,
        "lanner_role": options.role,
        "lanner_mag_filter": options.mag_filter,
        "lanner_priority": str(options.priority),
        "lanner_max_radius_arcsec": f"{max_radius:.3f}",
        "lanner_rows_without_position": str(dropped),
        "lanner_description": options.description,
    }
    if options.synonym_radius_arcsec is not None:
        props["lanner_synonym_radius_arcsec"] = str(options.synonym_radius_arcsec)
    write_properties(root, props)
    return root


def _max_search_radius(table: pa.Table, role: str) -> float:
    """Largest association radius [arcsec] of any row (bounds the partition cone search)."""
    mag = table.column("mag").to_numpy(zero_copy_only=False).astype(np.float64)
    semi = table.column("semi_major_arcsec").to_numpy(zero_copy_only=False).astype(np.float64)
    z = table.column("z").to_numpy(zero_copy_only=False).astype(np.float64)
    dist = table.column("distance_mpc").to_numpy(zero_copy_only=False).astype(np.float64)
    radius, _ = association_radius_arcsec(role, mag, semi, kpc_per_arcsec(z, dist))
    return float(np.nanmax(radius)) if radius.size else 0.0


def _finalise(work: Path, root: Path, orders: np.ndarray, pixels: np.ndarray) -> None:
    """Merge each partition's fragments into ``Npix=N.parquet`` sorted by ``_healpix_29``,
    and write ``partition_info.csv`` and ``dataset/_common_metadata``."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "dataset").mkdir(parents=True)
    lines = ["Norder,Npix"]
    for i, (order, pixel) in enumerate(zip(orders, pixels, strict=True)):
        frags = sorted((work / f"part={i}").glob("*.parquet"), key=lambda p: int(p.stem))
        table = pa.concat_tables([pq.read_table(f) for f in frags])
        table = table.sort_by(INDEX_COLUMN)
        target = partition_path(root, int(order), int(pixel))
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target, compression="zstd")
        lines.append(f"{int(order)},{int(pixel)}")
    (root / "partition_info.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pq.write_metadata(STANDARD_SCHEMA, root / "dataset" / "_common_metadata")
