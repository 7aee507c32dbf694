"""Rubin adapter: Rubin alert schemas lsst.v5 to lsst.v11_1 onto Lanner's batch model.

Input: decoded Rubin records (Avro written by Rubin or re-written by brokers, Confluent
frames, Parquet and JSON dumps). Output: rows appended to
:class:`~lanner.ingest.columns.BatchColumns`.

The fields used (``diaSource.midpointMjdTai``, ``band``, ``psfFlux``, ``psfFluxErr``,
``ra``, ``dec``, ``reliability``, ``diaObjectId``) have the same names and units from
lsst.v5 on: MJD (TAI), nJy, deg. Versions up to 7.x carry ``alertId`` and
``prvDiaNondetectionLimits``; 8.0 on carry ``diaSourceId`` at the top. The pre-versioned
schema ``lsst.alert`` (precursor alerts written before lsst.v5) names them ``midPointTai``,
``filterName``, ``decl``, ``psFlux`` and ``psFluxErr``: its sources are renamed onto the
current names. ELAsTiCC packets (a DESC simulation schema with the same old names) are not
Rubin alerts and are dead-lettered with that reason.

Ids stay Python ints from the decoder to the int64 columns: never through float. Some broker
dumps carry ``diaObject.diaObjectId`` as a float64; the exact integer copy in
``diaSource.diaObjectId`` is used then, and an alert whose only copy of its id is a float
above 2**53 (so not exact) is dead-lettered with that reason.
"""

from __future__ import annotations

import base64
from typing import Any

from lanner.ingest.columns import AdapterError, BatchColumns, entries_of, require

REQUIRED = ("diaSourceId", "midpointMjdTai", "band", "ra", "dec")
CUTOUTS = (
    ("science", "cutoutScience"),
    ("template", "cutoutTemplate"),
    ("difference", "cutoutDifference"),
)
EXTRA_COLUMNS = ("ssObjectId", "nDiaSources", "diaObject_ra", "diaObject_dec")
#: The pre-versioned ``lsst.alert`` schema's source field names and their current names.
PRE_V5_NAMES = {
    "midPointTai": "midpointMjdTai",
    "filterName": "band",
    "decl": "dec",
    "psFlux": "psfFlux",
    "psFluxErr": "psfFluxErr",
}
PRE_V5_SCHEMA = "lsst.alert"
#: Integers above this are not all representable in a float64.
FLOAT_EXACT_LIMIT = 2**53


def is_lsst(record: dict[str, Any]) -> bool:
    return isinstance(record.get("diaSource"), dict)


def schema_tag(record: dict[str, Any], schema_name: str | None) -> str:
    """Schema version: from the writer schema, the broker's note, or the layout."""
    if schema_name and schema_name.startswith("lsst.v"):
        return schema_name.removesuffix(".alert")
    if schema_name == PRE_V5_SCHEMA:
        return PRE_V5_SCHEMA
    if schema_name and schema_name.startswith("elasticc"):
        raise AdapterError(
            f"unsupported schema {schema_name}: ELAsTiCC simulation, not a Rubin alert schema"
        )
    noted = record.get("lsst_schema_version")
    if isinstance(noted, str) and noted.startswith("lsst.v"):
        return noted
    source = record["diaSource"]
    if "midpointMjdTai" not in source and "midPointTai" in source:
        raise AdapterError(
            "unsupported schema: diaSource has midPointTai/psFlux (ELAsTiCC or pre-v5 layout)"
        )
    return "lsst.v7 (inferred)" if "alertId" in record else "lsst.v8+ (inferred)"


def _current_names(source: dict[str, Any]) -> dict[str, Any]:
    """A pre-v5 source (or diaObject) with its fields under the current names."""
    return {PRE_V5_NAMES.get(k, k): v for k, v in source.items()}


def _exact_id(value: Any, fallback: Any, what: str) -> Any:
    """``value`` as an exact integer id, taking ``fallback`` when ``value`` is a float.

    Raises
    ------
    AdapterError
        If the only copy of the id is a float above 2**53, where it is not exact.
    """
    if not isinstance(value, float):
        return value
    if isinstance(fallback, int) and not isinstance(fallback, bool) and float(fallback) == value:
        return fallback
    if value != value or abs(value) > FLOAT_EXACT_LIMIT or not value.is_integer():
        raise AdapterError(
            f"{what} is a floating-point number ({value!r}) that cannot hold a 64-bit id "
            "exactly, and the packet has no integer copy of it"
        )
    return int(value)


def _cutout_bytes(value: Any) -> bytes | None:
    if isinstance(value, dict):  # the pre-v5 schema wraps stamps: {fileName, stampData}
        value = value.get("stampData")
    if isinstance(value, bytes | bytearray) and value:
        return bytes(value)
    if isinstance(value, str) and value:
        return base64.b64decode(value)  # JSON dumps carry cutouts as base64 text
    return None


def append(
    record: dict[str, Any], schema_name: str | None, row: int, origin: str, out: BatchColumns
) -> None:
    """Append one Rubin alert; raise :class:`AdapterError` if it cannot be mapped."""
    tag = schema_tag(record, schema_name)
    if tag == PRE_V5_SCHEMA:
        record = {
            **record,
            "diaSource": _current_names(record["diaSource"]),
            "prvDiaSources": [_current_names(p) for p in entries_of(record, "prvDiaSources")],
        }
    src = record["diaSource"]
    require(src, REQUIRED, "diaSource.")
    raw_obj = record.get("diaObject")
    obj: dict[str, Any] = raw_obj if isinstance(raw_obj, dict) else {}
    source_object_id = _exact_id(src.get("diaObjectId"), None, "diaSource.diaObjectId")
    object_id = (
        _exact_id(obj.get("diaObjectId"), source_object_id, "diaObject.diaObjectId")
        or source_object_id
        or _exact_id(src.get("ssObjectId"), None, "diaSource.ssObjectId")
    )
    if not object_id:
        raise AdapterError("no diaObjectId (diaObject or diaSource) and no ssObjectId")
    flux, err = src.get("psfFlux"), src.get("psfFluxErr")
    out.alert(
        {
            "alert_id": src["diaSourceId"],
            "object_id": object_id,
            "mjd": src["midpointMjdTai"],
            "ra": src["ra"],
            "dec": src["dec"],
            "band": src["band"],
            "flux": flux,
            "flux_err": err,
            "reliability": src.get("reliability"),
            "schema": tag,
            "origin": origin,
            "ssObjectId": src.get("ssObjectId") or None,
            "nDiaSources": obj.get("nDiaSources"),
            "diaObject_ra": obj.get("ra"),
            "diaObject_dec": obj.get("dec", obj.get("decl")),
        }
    )
    out.history("lsst.sources", row, [src, *entries_of(record, "prvDiaSources")])
    out.history("lsst.forced", row, entries_of(record, "prvDiaForcedSources"))
    out.history("lsst.limits", row, entries_of(record, "prvDiaNondetectionLimits"))
    for kind, key in CUTOUTS:
        data = _cutout_bytes(record.get(key))
        if data is not None:
            out.cutout(row, kind, data)
    out.packets.append({k: v for k, v in record.items() if not k.startswith("cutout")})
