"""Every history list of a batch to light-curve arrays, in one pyarrow conversion per kind.

Input: the :class:`~lanner.ingest.columns.EntryLists` the survey adapters filled (the
decoded dicts of the triggering source and of ``prvDiaSources``, ``prv_candidates``, …).
Output: :class:`~lanner.ingest.columns.Measurements` (one per light-curve table: numpy
columns in the survey's native units) and the alert rows whose history could not be
converted, with the reason. No side effects.

The entries of all alerts are converted together by ``pa.array(entries, type=struct)``:
pyarrow reads only the fields named in :data:`KINDS` from each dict, in C++. Ids stay exact
(Python int → int64, never through float). When the batch's entries do not convert (a
string where a number belongs, an id beyond 64 bits, an entry that is not a record), each
alert's entries are converted alone to find the culprits, which are dead-lettered; that
slow path runs only for bad batches.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.ingest.columns import EntryLists, Measurements
from lanner.ingest.ztf import JD_TO_MJD
from lanner.ingest.ztf import MISSING as ZTF_MISSING

I64, F64, STR = pa.int64(), pa.float64(), pa.string()

ZTF_BANDS = pa.array(["g", "r", "i"])
#: diaNoise is a 1-sigma flux error; limits are quoted at 5 sigma, as ZTF's diffmaglim.
LIMIT_SIGMA = 5.0


def _floats(table: pa.StructArray, name: str) -> np.ndarray:
    """A float field, nulls as NaN."""
    return pc.fill_null(table.field(name).cast(F64), np.nan).to_numpy(zero_copy_only=False)


def _valid(column: pa.Array) -> np.ndarray:
    return column.is_valid().to_numpy(zero_copy_only=False)


def _ids(table: pa.StructArray, name: str) -> tuple[np.ndarray, np.ndarray]:
    column = table.field(name)
    return (
        pc.fill_null(column, 0).to_numpy(zero_copy_only=False),
        column.is_null().to_numpy(zero_copy_only=False),
    )


def _measurements(
    s: pa.StructArray,
    rows: np.ndarray,
    keep: np.ndarray,
    *,
    mjd: np.ndarray,
    band: pa.Array,
    source: str | None,
    value: np.ndarray,
    error: np.ndarray,
    aux: np.ndarray | None = None,
    radec: bool = True,
    reliability: np.ndarray | None = None,
) -> Measurements:
    n = len(s)
    sid, missing = _ids(s, source) if source else (np.zeros(n, np.int64), np.ones(n, bool))
    mask = pa.array(keep)
    return Measurements(
        rows[keep],
        sid[keep],
        missing[keep],
        mjd[keep],
        band.filter(mask),
        (_floats(s, "ra") if radec else np.full(n, np.nan))[keep],
        (_floats(s, "dec") if radec else np.full(n, np.nan))[keep],
        value[keep],
        error[keep],
        (np.full(n, np.nan) if aux is None else aux)[keep],
        (np.full(n, np.nan) if reliability is None else reliability)[keep],
    )


def _lsst_sources(s: pa.StructArray, rows: np.ndarray) -> dict[str, Measurements]:
    mjd, band = _floats(s, "midpointMjdTai"), s.field("band")
    keep = _valid(s.field("midpointMjdTai")) & _valid(band)
    return {
        "detections": _measurements(
            s,
            rows,
            keep,
            mjd=mjd,
            band=band,
            source="diaSourceId",
            value=_floats(s, "psfFlux"),
            error=_floats(s, "psfFluxErr"),
            reliability=_floats(s, "reliability"),
        )
    }


def _lsst_forced(s: pa.StructArray, rows: np.ndarray) -> dict[str, Measurements]:
    mjd, band = _floats(s, "midpointMjdTai"), s.field("band")
    keep = _valid(s.field("midpointMjdTai")) & _valid(band)
    return {
        "forced": _measurements(
            s,
            rows,
            keep,
            mjd=mjd,
            band=band,
            source="diaForcedSourceId",
            value=_floats(s, "psfFlux"),
            error=_floats(s, "psfFluxErr"),
        )
    }


def _lsst_limits(s: pa.StructArray, rows: np.ndarray) -> dict[str, Measurements]:
    mjd, band = _floats(s, "midpointMjdTai"), s.field("band")
    keep = _valid(s.field("midpointMjdTai")) & _valid(band)
    n = len(s)
    return {
        "upper_limits": _measurements(
            s,
            rows,
            keep,
            mjd=mjd,
            band=band,
            source=None,
            radec=False,
            value=LIMIT_SIGMA * _floats(s, "diaNoise"),
            error=np.full(n, np.nan),
        )
    }


def _ztf_band(s: pa.StructArray) -> tuple[pa.Array, np.ndarray]:
    """Band names from ``fid`` (1, 2, 3 → g, r, i) and the mask of known filters."""
    fid = s.field("fid")
    known = pc.fill_null(pc.is_in(fid, value_set=pa.array([1, 2, 3], I64)), False)
    index = pc.if_else(known, pc.subtract(fid, 1), pa.scalar(None, I64))
    return ZTF_BANDS.take(index), known.to_numpy(zero_copy_only=False)


def _ztf_sign(s: pa.StructArray) -> np.ndarray:
    positive = pc.is_in(pc.utf8_lower(s.field("isdiffpos")), value_set=pa.array(["t", "1", "true"]))
    return np.where(pc.fill_null(positive, False).to_numpy(zero_copy_only=False), 1.0, -1.0)


def _ztf_candidates(s: pa.StructArray, rows: np.ndarray) -> dict[str, Measurements]:
    band, known = _ztf_band(s)
    jd = s.field("jd")
    usable = known & _valid(jd)
    mjd = _floats(s, "jd") - JD_TO_MJD
    detected = usable & _valid(s.field("candid")) & _valid(s.field("magpsf"))
    limit = usable & ~detected & _valid(s.field("diffmaglim"))
    drb, rb = _floats(s, "drb"), _floats(s, "rb")
    n = len(s)
    return {
        "detections": _measurements(
            s,
            rows,
            detected,
            mjd=mjd,
            band=band,
            source="candid",
            value=_floats(s, "magpsf"),
            error=_floats(s, "sigmapsf"),
            aux=_ztf_sign(s),
            reliability=np.where(np.isnan(drb), rb, drb),
        ),
        "upper_limits": _measurements(
            s,
            rows,
            limit,
            mjd=mjd,
            band=band,
            source=None,
            radec=False,
            value=_floats(s, "diffmaglim"),
            error=np.full(n, np.nan),
        ),
    }


def _ztf_forced(s: pa.StructArray, rows: np.ndarray) -> dict[str, Measurements]:
    band, known = _ztf_band(s)
    flux, err = _floats(s, "forcediffimflux"), _floats(s, "forcediffimfluxunc")
    zp = _floats(s, "magzpsci")
    # ZTF marks failed forced photometry with -99999: no measurement.
    keep = known & _valid(s.field("forcediffimflux")) & (flux != ZTF_MISSING)
    keep &= _valid(s.field("magzpsci")) & (zp != ZTF_MISSING)
    keep &= _valid(s.field("jd"))
    return {
        "forced": _measurements(
            s,
            rows,
            keep,
            mjd=_floats(s, "jd") - JD_TO_MJD,
            band=band,
            source="pid",  # the image the photometry was forced on: its archive key
            radec=False,
            value=flux,
            error=np.where(err == ZTF_MISSING, np.nan, err),
            aux=zp,
        )
    }


#: Each history kind: the fields read from its entries, and how they become measurements.
KINDS: dict[
    str, tuple[pa.StructType, Callable[[pa.StructArray, np.ndarray], dict[str, Measurements]]]
] = {
    "lsst.sources": (
        pa.struct(
            [
                ("diaSourceId", I64),
                ("midpointMjdTai", F64),
                ("band", STR),
                ("ra", F64),
                ("dec", F64),
                ("psfFlux", F64),
                ("psfFluxErr", F64),
                ("reliability", F64),
            ]
        ),
        _lsst_sources,
    ),
    "lsst.forced": (
        pa.struct(
            [
                ("diaForcedSourceId", I64),
                ("midpointMjdTai", F64),
                ("band", STR),
                ("ra", F64),
                ("dec", F64),
                ("psfFlux", F64),
                ("psfFluxErr", F64),
            ]
        ),
        _lsst_forced,
    ),
    "lsst.limits": (
        pa.struct([("midpointMjdTai", F64), ("band", STR), ("diaNoise", F64)]),
        _lsst_limits,
    ),
    "ztf.candidates": (
        pa.struct(
            [
                ("candid", I64),
                ("jd", F64),
                ("fid", I64),
                ("ra", F64),
                ("dec", F64),
                ("magpsf", F64),
                ("sigmapsf", F64),
                ("isdiffpos", STR),
                ("rb", F64),
                ("drb", F64),
                ("diffmaglim", F64),
            ]
        ),
        _ztf_candidates,
    ),
    "ztf.fp_hists": (
        pa.struct(
            [
                ("pid", I64),
                ("jd", F64),
                ("fid", I64),
                ("forcediffimflux", F64),
                ("forcediffimfluxunc", F64),
                ("magzpsci", F64),
            ]
        ),
        _ztf_forced,
    ),
}

CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError)


def _convert(kind: str, lists: EntryLists) -> tuple[pa.StructArray, np.ndarray, dict[int, str]]:
    """The entries as one struct array, their rows, and the rows that failed to convert.

    A null entry (``None`` in the list) refuses its alert: pyarrow would give its fields
    zeros and empty strings, not nulls.
    """
    struct, _ = KINDS[kind]
    rows = lists.rows()
    bad: dict[int, str] = {}
    try:
        entries = pa.array(lists.items, type=struct)
    except CONVERSION_ERRORS:
        if kind in TEXT_FIELDS:
            _texts(lists, TEXT_FIELDS[kind])
        entries, rows, bad = _convert_each(kind, lists)
    if entries.null_count:
        null_rows = np.unique(rows[entries.is_null().to_numpy(zero_copy_only=False)])
        for row in null_rows.tolist():
            bad.setdefault(row, f"malformed {FIELD_NAMES[kind]} entry: null")
    return entries, rows, bad


#: Text fields that JSON dumps may give as numbers or booleans (ALeRCE's ``isdiffpos`` is
#: 1/-1): on the slow path they are turned into text, as ZTF's Avro packets carry them.
TEXT_FIELDS = {"ztf.candidates": "isdiffpos"}


def _texts(lists: EntryLists, name: str) -> None:
    for i, entry in enumerate(lists.items):
        if isinstance(entry, dict) and not isinstance(entry.get(name), str | None):
            lists.items[i] = {**entry, name: str(entry[name])}


def _convert_each(
    kind: str, lists: EntryLists
) -> tuple[pa.StructArray, np.ndarray, dict[int, str]]:
    """The slow path, alert by alert, to find the ones whose entries do not convert."""
    struct, _ = KINDS[kind]
    good: list[pa.Array] = []
    good_rows: list[np.ndarray] = []
    bad: dict[int, str] = {}
    start = 0
    for row, size in zip(lists.chunk_rows, lists.chunk_sizes, strict=True):
        chunk = lists.items[start : start + size]
        start += size
        try:
            good.append(pa.array(chunk, type=struct))
            good_rows.append(np.full(size, row, dtype=np.int32))
        except CONVERSION_ERRORS as exc:
            bad[row] = f"malformed {FIELD_NAMES[kind]} entry: {type(exc).__name__}: {exc}"
    if not good:
        return pa.array([], type=struct), np.zeros(0, np.int32), bad
    return pa.concat_arrays(good), np.concatenate(good_rows), bad


#: The packet fields each kind comes from (for reasons).
FIELD_NAMES = {
    "lsst.sources": "diaSource/prvDiaSources",
    "lsst.forced": "prvDiaForcedSources",
    "lsst.limits": "prvDiaNondetectionLimits",
    "ztf.candidates": "candidate/prv_candidates",
    "ztf.fp_hists": "fp_hists",
}


def light_curves(
    histories: dict[str, EntryLists],
) -> tuple[dict[str, Measurements], dict[int, str]]:
    """Measurements per light-curve table, and the alert rows to dead-letter (with reason)."""
    tables: dict[str, Measurements] = {}
    bad: dict[int, str] = {}
    for kind, lists in histories.items():
        entries, rows, failed = _convert(kind, lists)
        bad.update(failed)
        for table, m in KINDS[kind][1](entries, rows).items():
            if table in KEYED_BY_ID:
                # The source id is the row's key in the archive: without it, nothing to key.
                for row in np.unique(m.row[m.source_missing]).tolist():
                    bad.setdefault(row, f"{FIELD_NAMES[kind]} entry without {ID_NAMES[kind]}")
            tables[table] = tables[table].concat(m) if table in tables else m
    return tables, bad


#: Light-curve tables keyed by the source id (see :mod:`lanner.schema.tables`).
KEYED_BY_ID = ("detections", "forced")
#: The id field of each kind (for reasons).
ID_NAMES = {
    "lsst.sources": "diaSourceId",
    "lsst.forced": "diaForcedSourceId",
    "ztf.candidates": "candid",
    "ztf.fp_hists": "pid",
}
