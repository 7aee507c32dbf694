"""Decoded records to one columnar :class:`~lanner.batch.AlertBatch`.

Input: raw packets and the survey the database serves (or ``None``: the first good alert
decides). Output: an :class:`Assembled` holding the batch and the dead letters (undecodable
bytes, unknown schemas, missing required fields, alerts of the other survey), each with its
reason and origin. No side effects: the caller sends dead letters to a sink.

Per alert, only the adapter's few appends run in Python; histories become columns in one
pyarrow conversion per kind (:mod:`lanner.ingest.history`), the batch is checked on whole
columns (:mod:`lanner.ingest.validate`: refused alerts are dropped and dead-lettered), and
every derived column is computed on arrays: nJy fluxes from ZTF magnitudes (and magnitudes
from Rubin fluxes), sorting by (row, mjd) and removal of duplicate history entries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import (
    CUTOUT_KINDS,
    NJY_ZP,
    OBJECT_ID_TYPE,
    AlertBatch,
    Survey,
    flux_from_mag,
    mag_from_flux,
)
from lanner.ingest import lsst, ztf
from lanner.ingest.columns import AdapterError, BatchColumns, Measurements
from lanner.ingest.decode import DecodedRecord, DecodeError, decode_packet
from lanner.ingest.history import CONVERSION_ERRORS, light_curves
from lanner.ingest.limits import IngestLimits, default_limits
from lanner.ingest.packets import DeadLetter, RawPacket
from lanner.ingest.validate import check
from lanner.schema.tables import ALERT_COLUMNS, SURVEY_ALERT_COLUMNS

#: Largest data buffer of one chunk of a binary column (Arrow's offsets are 32-bit).
BINARY_CHUNK_BYTES = 2**30
#: d(mag)/d(ln flux): converts a magnitude error into a relative flux error.
MAG_PER_LN = 2.5 / math.log(10.0)

ALERT_TYPES: dict[str, pa.DataType] = {
    c.name: c.arrow_type
    for c in (*ALERT_COLUMNS, *(c for cols in SURVEY_ALERT_COLUMNS.values() for c in cols))
}


@dataclass
class Assembled:
    """A batch and what was set aside while building it."""

    batch: AlertBatch
    dead_letters: list[DeadLetter] = field(default_factory=list)


def survey_of(record: DecodedRecord) -> Survey | None:
    if ztf.is_ztf(record.record):
        return "ztf"
    if lsst.is_lsst(record.record):
        return "lsst"
    return None


def assemble(
    packets: Iterable[RawPacket],
    survey: Survey | None = None,
    limits: IngestLimits | None = None,
) -> Assembled:
    """Decode ``packets`` and build one batch of the given (or first seen) survey."""
    limits = limits or default_limits()
    out = BatchColumns()
    dead: list[DeadLetter] = []
    sources: list[tuple[bytes, str]] = []  # per alert row: the packet bytes and origin
    for packet in packets:
        if packet.error is not None:
            dead.append(DeadLetter(packet.data, packet.origin, packet.error))
            continue
        try:
            records = decode_packet(packet, limits)
        except DecodeError as exc:
            dead.append(DeadLetter(packet.data, packet.origin, str(exc)))
            continue
        for rec in records:
            family = survey_of(rec)
            if family is None:
                fields = ", ".join(sorted(rec.record)[:8])
                dead.append(
                    DeadLetter(
                        packet.data,
                        rec.origin,
                        f"unknown alert schema {rec.schema_name or ''} "
                        f"(top-level fields: {fields})".replace("  ", " "),
                    )
                )
                continue
            survey = survey or family
            if family != survey:
                dead.append(
                    DeadLetter(
                        packet.data,
                        rec.origin,
                        f"survey mismatch: a {family} alert in a {survey} database",
                    )
                )
                continue
            row = len(out.packets)
            mark = out.mark()
            try:
                if family == "ztf":
                    ztf.append(rec.record, row, rec.origin, out)
                else:
                    lsst.append(rec.record, rec.schema_name, row, rec.origin, out)
            except (AdapterError, AttributeError, KeyError, TypeError, ValueError) as exc:
                out.rollback(mark)
                reason = (
                    str(exc)
                    if isinstance(exc, AdapterError)
                    else (f"malformed alert: {type(exc).__name__}: {exc}")
                )
                dead.append(DeadLetter(packet.data, rec.origin, reason))
                continue
            # A bad record inside a many-alert file keeps the whole file's bytes with the
            # record's origin (path#index), so the letter can be replayed and the record found.
            sources.append((packet.data, rec.origin))
    batch, refused = build_batch(out, survey or "ztf", limits.max_cutout_bytes)
    for row, reason in sorted(refused.items()):
        data, origin = sources[row]
        dead.append(DeadLetter(data, origin, reason))
    return Assembled(batch, dead)


def build_batch(
    cols: BatchColumns, survey: Survey, max_cutout_bytes: int
) -> tuple[AlertBatch, dict[int, str]]:
    """Turn the adapters' lists into Arrow tables, deriving fluxes/magnitudes on whole
    columns; alerts that fail conversion or :func:`lanner.ingest.validate.check` are left
    out and returned (row → reason)."""
    n = len(cols.packets)
    arrays, refused = _alert_arrays(cols.alerts, survey)
    tables, bad_history = light_curves(cols.histories)
    for row, reason in bad_history.items():
        refused.setdefault(row, reason)
    if n:
        for row, reason in check(survey, arrays, tables, cols.cutouts, max_cutout_bytes).items():
            refused.setdefault(row, reason)
    keep = np.ones(n, dtype=bool)
    keep[list(refused)] = False
    new_row = (np.cumsum(keep) - 1).astype(np.int32)
    if not keep.all():
        mask = pa.array(keep)
        arrays = {k: v.filter(mask) for k, v in arrays.items()}
        tables = {k: _kept(m, keep, new_row) for k, m in tables.items()}
    alerts = _alerts_table(arrays, survey)
    object_ids = alerts["object_id"]
    cut_rows = np.asarray(cols.cutouts["row"], dtype=np.int64)
    cut_keep = keep[cut_rows] if len(cut_rows) else np.zeros(0, bool)
    return AlertBatch(
        survey=survey,
        alerts=alerts,
        detections=_light_curve(tables.get("detections"), survey, object_ids, "detections"),
        forced=_light_curve(tables.get("forced"), survey, object_ids, "forced"),
        upper_limits=_light_curve(tables.get("upper_limits"), survey, object_ids, "upper_limits"),
        cutouts=_cutouts(
            new_row[cut_rows[cut_keep]],
            [k for k, ok in zip(cols.cutouts["kind"], cut_keep, strict=True) if ok],
            [d for d, ok in zip(cols.cutouts["data"], cut_keep, strict=True) if ok],
            alerts,
        ),
        packets=[p for p, ok in zip(cols.packets, keep, strict=True) if ok],
    ), refused


def _kept(m: Measurements, keep: np.ndarray, new_row: np.ndarray) -> Measurements:
    """``m`` without the entries of refused alerts, rows renumbered."""
    mask = keep[m.row]
    arrow_mask = pa.array(mask)
    values = {
        k: (v.filter(arrow_mask) if isinstance(v, pa.Array) else v[mask])
        for k, v in vars(m).items()
    }
    values["row"] = new_row[values["row"]]
    return Measurements(**values)


def _alert_arrays(
    values: dict[str, list[object]], survey: Survey
) -> tuple[dict[str, pa.Array], dict[int, str]]:
    """Each alert column as an Arrow array; a value of the wrong type refuses its alert."""
    arrays: dict[str, pa.Array] = {}
    refused: dict[int, str] = {}
    for key, column in values.items():
        typ = (
            pa.float64()
            if key == "sign"
            else OBJECT_ID_TYPE[survey]
            if key == "object_id"
            else ALERT_TYPES[key]
        )
        try:
            arrays[key] = pa.array(column, type=typ, from_pandas=True)
        except CONVERSION_ERRORS:
            fixed: list[object] = []
            for row, value in enumerate(column):
                try:
                    pa.array([value], type=typ, from_pandas=True)
                    fixed.append(value)
                except CONVERSION_ERRORS as exc:
                    refused.setdefault(row, f"malformed alert: {key}={value!r:.60}: {exc}")
                    fixed.append(None)
            arrays[key] = pa.array(fixed, type=typ, from_pandas=True)
    return arrays, refused


def _alerts_table(arrays: dict[str, pa.Array], survey: Survey) -> pa.Table:
    if not arrays:
        return pa.table(
            {
                "alert_id": pa.array([], pa.int64()),
                "object_id": pa.array([], OBJECT_ID_TYPE[survey]),
                "mjd": pa.array([], pa.float64()),
                "ra": pa.array([], pa.float64()),
                "dec": pa.array([], pa.float64()),
                "band": pa.array([], pa.string()),
                "flux": pa.array([], pa.float64()),
                "flux_err": pa.array([], pa.float64()),
                "mag": pa.array([], pa.float64()),
                "mag_err": pa.array([], pa.float64()),
            }
        )
    arrays = dict(arrays)
    sign = arrays.pop("sign", None)
    if survey == "ztf":
        mag = _numbers(arrays["mag"])
        mag_err = _numbers(arrays["mag_err"])
        flux = _numbers(sign) * flux_from_mag(mag)
        arrays["flux"] = pa.array(flux)
        arrays["flux_err"] = pa.array(np.abs(flux) * mag_err / MAG_PER_LN)
    else:
        flux = _numbers(arrays["flux"])
        err = _numbers(arrays["flux_err"])
        arrays["mag"] = pa.array(mag_from_flux(flux), from_pandas=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            arrays["mag_err"] = pa.array(MAG_PER_LN * err / np.abs(flux), from_pandas=True)
    order = [
        "alert_id",
        "object_id",
        "mjd",
        "ra",
        "dec",
        "band",
        "flux",
        "flux_err",
        "mag",
        "mag_err",
    ]
    names = order + [k for k in arrays if k not in order]
    return pa.table({k: arrays[k] for k in names})


def _numbers(array: pa.Array | None) -> np.ndarray:
    """A numeric column as float64, nulls as NaN."""
    assert array is not None
    return pc.fill_null(array.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def _light_curve(
    lc: Measurements | None, survey: Survey, object_ids: pa.ChunkedArray, kind: str
) -> pa.Table:
    lc = lc if lc is not None else Measurements.empty()
    # Sort by (row, mjd); the sort is stable, so packet order stays among equal times.
    order = np.lexsort((lc.mjd, lc.row))
    row, mjd, value, error = lc.row[order], lc.mjd[order], lc.value[order], lc.error[order]
    band_strings = lc.band.take(pa.array(order, pa.int64()))
    band = pc.dictionary_encode(band_strings).indices.to_numpy(zero_copy_only=False)
    # Ids may be missing (upper limits have none) and ZTF's early test packets have negative
    # candids: keep a separate mask rather than a sentinel value.
    missing_id, key = lc.source_missing[order], lc.source_id[order]
    # One row per measurement of an alert, keyed as the archive keys it (see
    # lanner.schema.tables): detections and forced photometry by their source id, upper
    # limits by (time, band). When a packet repeats one (early ZTF packets carry the same
    # candid twice), the first in packet order is kept.
    if kind == "upper_limits":
        keep = _first_of_keys(row, (mjd, band))
    else:
        keep = _first_of_keys(row, (key,))
    row, mjd, value, error = row[keep], mjd[keep], value[keep], error[keep]
    taken = pa.array(row, pa.int32())
    table: dict[str, pa.Array] = {
        "row": taken,
        "object_id": object_ids.take(taken).combine_chunks()
        if len(object_ids)
        else pa.array([], object_ids.type),
        "mjd": pa.array(mjd),
        "band": band_strings.filter(pa.array(keep)),
    }
    if kind == "upper_limits":
        if survey == "ztf":
            limit_mag, limit_flux = value, flux_from_mag(value)
        else:
            limit_mag, limit_flux = mag_from_flux(value), value
        table["limit_mag"] = pa.array(limit_mag, from_pandas=True)
        table["limit_flux"] = pa.array(limit_flux, from_pandas=True)
        return pa.table(table)
    aux = lc.aux[order][keep]
    if survey == "ztf" and kind == "detections":
        mag, mag_err = value, error
        flux = aux * flux_from_mag(mag)
        flux_err = np.abs(flux) * mag_err / MAG_PER_LN
    elif survey == "ztf":  # forced photometry in DN, scaled by the image zero point
        scale = np.power(10.0, -0.4 * (aux - NJY_ZP))
        flux, flux_err = value * scale, error * scale
        mag = mag_from_flux(flux)
        with np.errstate(divide="ignore", invalid="ignore"):
            mag_err = MAG_PER_LN * flux_err / np.abs(flux)
    else:
        flux, flux_err = value, error
        mag = mag_from_flux(flux)
        with np.errstate(divide="ignore", invalid="ignore"):
            mag_err = MAG_PER_LN * flux_err / np.abs(flux)
    table["flux"] = pa.array(flux, from_pandas=True)
    table["flux_err"] = pa.array(flux_err, from_pandas=True)
    table["source_id"] = pa.array(key[keep], pa.int64(), mask=missing_id[keep])
    if kind == "detections":
        table["ra"] = pa.array(lc.ra[order][keep], from_pandas=True)
        table["dec"] = pa.array(lc.dec[order][keep], from_pandas=True)
        table["mag"] = pa.array(mag, from_pandas=True)
        table["mag_err"] = pa.array(mag_err, from_pandas=True)
        table["reliability"] = pa.array(lc.reliability[order][keep], from_pandas=True)
        table["is_positive"] = pa.array(flux > 0)
    return pa.table(table)


def _first_of_keys(row: np.ndarray, keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """Mask keeping, of entries with equal (row, *keys), the first one (in array order)."""
    if len(row) == 0:
        return np.zeros(0, dtype=bool)
    position = np.arange(len(row))
    order = np.lexsort((position, *reversed(keys), row))
    same = row[order][1:] == row[order][:-1]
    for k in keys:
        same &= k[order][1:] == k[order][:-1]
    keep = np.ones(len(row), dtype=bool)
    keep[order[1:][same]] = False
    return keep


def _cutouts(
    row_numbers: np.ndarray, kinds: list[object], data: list[object], alerts: pa.Table
) -> pa.Table:
    row = pa.array(row_numbers, pa.int32())
    unknown = set(kinds) - set(CUTOUT_KINDS)
    if unknown:
        raise ValueError(f"unknown cutout kinds {unknown}")
    if alerts.num_rows:
        object_id = alerts["object_id"].take(row).combine_chunks()
        alert_id = alerts["alert_id"].take(row).combine_chunks()
    else:
        object_id = pa.array([], alerts["object_id"].type)
        alert_id = pa.array([], pa.int64())
    return pa.table(
        {
            "row": row,
            "object_id": object_id,
            "alert_id": alert_id,
            "kind": pa.array(kinds, pa.string()),
            "data": binary_array(data),
        }
    )


def binary_array(data: list[object]) -> pa.ChunkedArray:
    """Byte strings as one Arrow binary column, copied once into a buffer of the right size
    (``pa.array`` grows its buffer as it goes: on deep-history batches, 30 MB of stamps, that
    cost more than the alerts' other columns). Chunks stay under Arrow's 2 GiB per array."""
    if not all(isinstance(b, bytes) for b in data):
        return pa.chunked_array([pa.array(data, pa.binary())])
    items = cast(list[bytes], data)
    sizes = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    ends = np.cumsum(sizes)
    chunks: list[pa.Array] = []
    start = 0
    while start < len(items) or not chunks:
        base = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, base + BINARY_CHUNK_BYTES, "right")), start + 1)
        stop = min(stop, len(items))
        offsets = np.concatenate([[0], ends[start:stop] - base]).astype(np.int32)
        values = pa.py_buffer(b"".join(items[start:stop]))
        chunks.append(
            pa.Array.from_buffers(pa.binary(), stop - start, [None, pa.py_buffer(offsets), values])
        )
        start = stop
    return pa.chunked_array(chunks, pa.binary())
