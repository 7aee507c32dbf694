"""Decoded records to one columnar :class:`~lanner.batch.AlertBatch`.

Input: raw packets and the survey the database serves (or ``None``: the first good alert
decides). Output: an :class:`Assembled` holding the batch and the dead letters (undecodable
bytes, unknown schemas, missing required fields, alerts of the other survey), each with its
reason and origin. No side effects: the caller sends dead letters to a sink.

After the per-alert appends, every derived column is computed on whole arrays: nJy fluxes
from ZTF magnitudes (and magnitudes from Rubin fluxes), sorting by (row, mjd) and removal of
duplicate history entries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

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
from lanner.ingest.columns import AdapterError, BatchColumns, LightCurveColumns
from lanner.ingest.decode import DecodedRecord, DecodeError, decode_packet
from lanner.ingest.packets import DeadLetter, RawPacket
from lanner.schema.tables import ALERT_COLUMNS, SURVEY_ALERT_COLUMNS

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


def assemble(packets: Iterable[RawPacket], survey: Survey | None = None) -> Assembled:
    """Decode ``packets`` and build one batch of the given (or first seen) survey."""
    out = BatchColumns()
    dead: list[DeadLetter] = []
    for packet in packets:
        try:
            records = decode_packet(packet)
        except DecodeError as exc:
            dead.append(DeadLetter(packet.data, packet.origin, str(exc)))
            continue
        for rec in records:
            family = survey_of(rec)
            if family is None:
                fields = ", ".join(sorted(rec.record)[:8])
                dead.append(
                    DeadLetter(
                        _bytes_of(packet, records),
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
                        _bytes_of(packet, records),
                        rec.origin,
                        f"survey mismatch: a {family} alert in a {survey} database",
                    )
                )
                continue
            row = len(out.packets)
            sizes = out.sizes()
            try:
                if family == "ztf":
                    ztf.append(rec.record, row, rec.origin, out)
                else:
                    lsst.append(rec.record, rec.schema_name, row, rec.origin, out)
            except (AdapterError, KeyError, TypeError, ValueError) as exc:
                out.rollback(row, sizes)
                reason = (
                    str(exc)
                    if isinstance(exc, AdapterError)
                    else (f"malformed alert: {type(exc).__name__}: {exc}")
                )
                dead.append(DeadLetter(_bytes_of(packet, records), rec.origin, reason))
    return Assembled(build_batch(out, survey or "ztf"), dead)


def _bytes_of(packet: RawPacket, records: list[DecodedRecord]) -> bytes:
    # A bad record inside a many-alert file: keep the whole file's bytes with the record's
    # origin (path#index), so the letter can be replayed and the record found.
    return packet.data


def build_batch(cols: BatchColumns, survey: Survey) -> AlertBatch:
    """Turn appended lists into Arrow tables, deriving fluxes/magnitudes on whole columns."""
    n = len(cols.packets)
    alerts = _alerts_table(cols.alerts, survey, n)
    object_ids = alerts["object_id"]
    return AlertBatch(
        survey=survey,
        alerts=alerts,
        detections=_light_curve(cols.detections, survey, object_ids, "detections"),
        forced=_light_curve(cols.forced, survey, object_ids, "forced"),
        upper_limits=_light_curve(cols.upper_limits, survey, object_ids, "upper_limits"),
        cutouts=_cutouts(cols.cutouts, alerts),
        packets=cols.packets,
    )


def _alerts_table(values: dict[str, list[object]], survey: Survey, n: int) -> pa.Table:
    if n == 0:
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
    arrays: dict[str, pa.Array] = {}
    for key, column in values.items():
        if key == "sign":
            continue
        typ = OBJECT_ID_TYPE[survey] if key == "object_id" else ALERT_TYPES[key]
        arrays[key] = pa.array(column, type=typ, from_pandas=True)
    if survey == "ztf":
        mag = np.asarray(values["mag"], dtype=np.float64)
        mag_err = np.asarray(values["mag_err"], dtype=np.float64)
        flux = np.asarray(values["sign"], dtype=np.float64) * flux_from_mag(mag)
        arrays["flux"] = pa.array(flux)
        arrays["flux_err"] = pa.array(np.abs(flux) * mag_err / MAG_PER_LN)
    else:
        flux = np.asarray(values["flux"], dtype=np.float64)
        err = np.asarray(values["flux_err"], dtype=np.float64)
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


def _light_curve(
    lc: LightCurveColumns, survey: Survey, object_ids: pa.ChunkedArray, kind: str
) -> pa.Table:
    row = np.asarray(lc.row, dtype=np.int32)
    mjd = np.asarray(lc.mjd, dtype=np.float64)
    value = np.asarray(lc.value, dtype=np.float64)  # None -> nan
    error = np.asarray(lc.error, dtype=np.float64)
    band = np.asarray(lc.band, dtype=object)
    # Sort by (row, mjd); a stable sort keeps packet order among equal times.
    order = np.lexsort((mjd, row))
    row, mjd, value, error, band = row[order], mjd[order], value[order], error[order], band[order]
    # Ids may be missing (None: upper limits have none) and ZTF's early test packets have
    # negative candids: keep a separate mask rather than a sentinel value.
    missing_id = np.fromiter(
        (s is None for s in lc.source_id), dtype=bool, count=len(lc.source_id)
    )[order]
    key = np.asarray([0 if s is None else s for s in lc.source_id], dtype=np.int64)[order]
    # One row per measurement of an alert, keyed as the archive keys it (see
    # lanner.schema.tables): detections and forced photometry by their source id, upper
    # limits by (time, band). When a packet repeats one (early ZTF packets carry the same
    # candid twice), the first in packet order is kept.
    if kind == "upper_limits":
        keep = _first_of_keys(row, (mjd, _codes(band)))
    else:
        keep = _first_of_keys(row, (key,))
    row, mjd, value, error, band = row[keep], mjd[keep], value[keep], error[keep], band[keep]
    table: dict[str, pa.Array] = {
        "row": pa.array(row, pa.int32()),
        "object_id": object_ids.take(pa.array(row, pa.int32())).combine_chunks()
        if len(object_ids)
        else pa.array([], object_ids.type),
        "mjd": pa.array(mjd),
        "band": pa.array(band.tolist(), pa.string()),
    }
    if kind == "upper_limits":
        if survey == "ztf":
            limit_mag, limit_flux = value, flux_from_mag(value)
        else:
            limit_mag, limit_flux = mag_from_flux(value), value
        table["limit_mag"] = pa.array(limit_mag, from_pandas=True)
        table["limit_flux"] = pa.array(limit_flux, from_pandas=True)
        return pa.table(table)
    aux = np.asarray(lc.aux, dtype=np.float64)[order][keep]
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
        table["ra"] = pa.array(np.asarray(lc.ra, dtype=np.float64)[order][keep], from_pandas=True)
        table["dec"] = pa.array(np.asarray(lc.dec, dtype=np.float64)[order][keep], from_pandas=True)
        table["mag"] = pa.array(mag, from_pandas=True)
        table["mag_err"] = pa.array(mag_err, from_pandas=True)
        table["reliability"] = pa.array(
            np.asarray(lc.reliability, dtype=np.float64)[order][keep], from_pandas=True
        )
        table["is_positive"] = pa.array(flux > 0)
    return pa.table(table)


def _codes(values: np.ndarray) -> np.ndarray:
    """Integer codes of equal values (for sorting strings with numpy)."""
    return np.unique(values.astype(str), return_inverse=True)[1] if len(values) else values


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


def _cutouts(values: dict[str, list[object]], alerts: pa.Table) -> pa.Table:
    row = pa.array(values["row"], pa.int32())
    kinds = values["kind"]
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
            "data": pa.array(values["data"], pa.binary()),
        }
    )
