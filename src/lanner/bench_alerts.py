"""Alerts for the benchmarks: the shared on-sky Rubin and ZTF sets, replicated as distinct
objects.

Input: decoded Rubin records or an assembled :class:`~lanner.batch.AlertBatch`. Output:

* :func:`replicate_batch` — the batch repeated to ``n`` alerts, each copy with fresh alert and
  object ids (distinct objects with the same light curves), built on whole Arrow columns;
* :func:`iter_fresh_id_messages` — the records repeated to ``n`` Kafka messages in Rubin's own wire
  format (Confluent framing, schema ``lsst.v10_0``), each with fresh ids, so a replayed visit
  looks to Lanner like ``n`` different objects;
* :func:`fresh_id_packets` — the same messages as packets, made from alert files (``lanner
  bench --rubin --alerts N``: more batches of real alerts than the 72 shared ones); ZTF alert
  files give ZTF Avro containers, each in its own file's schema and codec, with a fresh
  ``objectId`` and ``candid`` (``lanner bench --alerts N``);
* :func:`onsky_v10_paths` — where the shared on-sky ``lsst.v10_0`` alerts are.

No side effects. Fresh ids start at :data:`FRESH_ID_BASE`, far from the ids of real alerts;
fresh ZTF object ids are ``ZTF99`` and seven letters (no real ZTF object is of 2099).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
import pyarrow as pa

from lanner.batch import AlertBatch
from lanner.ingest.confluent_wire import frame
from lanner.ingest.decode import AVRO_MAGIC, decode_packet, rubin_schema
from lanner.ingest.packets import RawPacket

#: First fresh id; alert ``k`` gets object id ``FRESH_ID_BASE + k``.
FRESH_ID_BASE = 9 * 10**17
#: Fresh source ids of alert ``k`` are ``SOURCE_ID_BASE + k * SOURCE_STRIDE + j``.
SOURCE_ID_BASE = 8 * 10**17
SOURCE_STRIDE = 1 << 14
#: Confluent schema id of ``lsst.v10_0`` (major * 100 + minor).
V10_SCHEMA_ID = 1000

#: The shared on-sky LSSTCam alerts of schema lsst.v10_0 (Fink's copies), under ``data/``.
ONSKY_V10_DIRS = (
    "alerts/lsst/astrolabsoftware__fink-client",
    "alerts/lsst/astrolabsoftware__fink-filters",
    "alerts/lsst/astrolabsoftware__fink-science",
)


def onsky_v10_paths(shared: Path) -> list[Path]:
    """The folders of on-sky ``lsst.v10_0`` alerts in the shared data folder ``shared``."""
    paths = [shared / "data" / d for d in ONSKY_V10_DIRS]
    missing = [str(p) for p in paths if not p.is_dir()]
    if missing:
        raise FileNotFoundError(f"on-sky Rubin alerts not found: {', '.join(missing)}")
    return paths


def _copy_index(n_source: int, n: int) -> np.ndarray:
    return np.arange(n, dtype=np.int64) % n_source


def _repeat_rows(table: pa.Table, n_source: int, n: int) -> tuple[pa.Table, np.ndarray]:
    """Rows of ``table`` (a light-curve table keyed by ``row``) for copies 0..n-1."""
    rows = table["row"].to_numpy().astype(np.int64)
    offsets = np.searchsorted(rows, np.arange(n_source + 1))
    src = _copy_index(n_source, n)
    counts = offsets[src + 1] - offsets[src]
    # Row indices of every copy's points, without a Python loop over copies.
    new_row = np.repeat(np.arange(n, dtype=np.int64), counts)
    within = np.arange(len(new_row)) - np.repeat(np.cumsum(counts) - counts, counts)
    take = offsets[src][new_row] + within
    return table.take(pa.array(take)), new_row


def replicate_batch(batch: AlertBatch, n: int) -> AlertBatch:
    """``batch`` repeated to ``n`` alerts; copy ``k`` of an alert is object
    ``FRESH_ID_BASE + k`` with alert id ``SOURCE_ID_BASE + k * SOURCE_STRIDE``.

    Cutouts and packets are not copied (no enricher reads them)."""
    m = len(batch)
    if m == 0:
        raise ValueError("cannot replicate an empty batch")
    src = _copy_index(m, n)
    object_id = pa.array(FRESH_ID_BASE + np.arange(n, dtype=np.int64))
    alerts = batch.alerts.take(pa.array(src))
    alerts = alerts.set_column(
        alerts.column_names.index("object_id"),
        "object_id",
        object_id.cast(alerts["object_id"].type),
    )
    alerts = alerts.set_column(
        alerts.column_names.index("alert_id"),
        "alert_id",
        pa.array(SOURCE_ID_BASE + np.arange(n, dtype=np.int64) * SOURCE_STRIDE),
    )
    tables = {}
    for name in ("detections", "forced", "upper_limits"):
        table = getattr(batch, name)
        if "row" not in table.column_names:
            tables[name] = table
            continue
        copied, new_row = _repeat_rows(table, m, n)
        copied = copied.set_column(
            copied.column_names.index("row"), "row", pa.array(new_row.astype(np.int32))
        )
        if "object_id" in copied.column_names:
            i = copied.column_names.index("object_id")
            ids = object_id.take(pa.array(new_row)).cast(copied["object_id"].type)
            copied = copied.set_column(i, "object_id", ids)
        tables[name] = copied
    return AlertBatch(
        survey=batch.survey,
        alerts=alerts,
        detections=tables["detections"],
        forced=tables["forced"],
        upper_limits=tables["upper_limits"],
        cutouts=batch.cutouts.slice(0, 0),
    )


def _conform(value: Any, schema: Any) -> Any:
    """``value`` made to fit the parsed Avro ``schema`` (broker dumps store some ints as
    floats, and empty nested records as records of nulls); a record missing a required
    field becomes null where the schema allows it."""
    if isinstance(schema, list):
        if value is None:
            return None
        for branch in schema:
            if branch == "null":
                continue
            out = _conform(value, branch)
            if out is not None:
                return out
        return None
    if isinstance(schema, dict):
        kind = schema["type"]
        if kind == "record":
            if not isinstance(value, dict):
                return None
            fields: dict[str, Any] = {}
            for f in schema["fields"]:
                v = _conform(value.get(f["name"]), f["type"])
                nullable = isinstance(f["type"], list) and "null" in f["type"]
                if v is None and not nullable:
                    return None
                fields[f["name"]] = v
            return fields
        if kind == "array":
            return [x for x in (_conform(v, schema["items"]) for v in value or ()) if x is not None]
        return _conform(value, kind)
    if value is None:
        return None
    if schema in ("long", "int"):
        return int(value)
    if schema in ("float", "double"):
        return float(value)
    if schema == "boolean":
        return bool(value)
    if schema == "string":
        return str(value)
    if schema == "bytes":
        return bytes(value)
    return value


def _with_fresh_ids(record: dict[str, Any], k: int) -> dict[str, Any]:
    object_id = FRESH_ID_BASE + k
    base = SOURCE_ID_BASE + k * SOURCE_STRIDE
    src = {**record["diaSource"], "diaSourceId": base, "diaObjectId": object_id}
    prv = [
        {**p, "diaSourceId": base + 1 + j, "diaObjectId": object_id}
        for j, p in enumerate(record.get("prvDiaSources") or ())
    ]
    forced = [
        {**p, "diaForcedSourceId": base + 1 + j, "diaObjectId": object_id}
        for j, p in enumerate(record.get("prvDiaForcedSources") or ())
    ]
    obj = record.get("diaObject")
    obj = {**obj, "diaObjectId": object_id} if isinstance(obj, dict) else obj
    return {
        **record,
        "diaSourceId": base,
        "diaSource": src,
        "prvDiaSources": prv,
        "prvDiaForcedSources": forced,
        "diaObject": obj,
        # A fresh object is not a known solar-system body.
        "ssSource": None,
        "mpc_orbits": None,
    }


def iter_fresh_id_messages(records: Sequence[dict[str, Any]], n: int) -> Iterator[bytes]:
    """``n`` Confluent-framed ``lsst.v10_0`` messages cycling through ``records``, alert
    ``k`` with object id ``FRESH_ID_BASE + k`` and source ids from
    ``SOURCE_ID_BASE + k * SOURCE_STRIDE``, made one at a time."""
    if not records:
        raise ValueError("no records to replicate")
    schema = rubin_schema(V10_SCHEMA_ID)
    conformed = [_conform(r, schema) for r in records]
    for k in range(n):
        record = _with_fresh_ids(conformed[k % len(records)], k)
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, schema, record)
        yield frame(V10_SCHEMA_ID, buf.getvalue())


def fresh_id_messages(records: Sequence[dict[str, Any]], n: int) -> list[bytes]:
    """The messages of :func:`iter_fresh_id_messages` as a list."""
    return list(iter_fresh_id_messages(records, n))


def fresh_id_packets(packets: Sequence[RawPacket], n: int) -> list[RawPacket]:
    """``n`` packets with fresh ids made from the alerts of ``packets``: Rubin alerts give the
    messages of :func:`iter_fresh_id_messages`, ZTF alerts those of
    :func:`iter_fresh_id_ztf_containers` (undecodable packets are left out).

    Raises
    ------
    ValueError
        If ``packets`` hold no alert, or alerts of both surveys.
    """
    records = [r.record for p in packets for r in decode_packet(p)]
    ztf = ["candidate" in r for r in records]
    if any(ztf) and not all(ztf):
        raise ValueError("the packets mix ZTF and Rubin alerts")
    if records and all(ztf):
        messages = iter_fresh_id_ztf_containers(packets, n)
    else:
        messages = iter_fresh_id_messages(records, n)
    return [RawPacket(m, f"fresh-id/{k}") for k, m in enumerate(messages)]


def fresh_ztf_object_id(k: int) -> str:
    """The ``k``-th fresh ZTF object id: ``ZTF99`` and ``k`` in seven letters a–z."""
    letters = []
    for _ in range(7):
        k, digit = divmod(k, 26)
        letters.append(chr(ord("a") + digit))
    if k:
        raise ValueError("no more than 26**7 fresh ZTF object ids")
    return "ZTF99" + "".join(reversed(letters))


def iter_fresh_id_ztf_containers(packets: Sequence[RawPacket], n: int) -> Iterator[bytes]:
    """``n`` one-alert ZTF Avro containers cycling through the alerts of the containers in
    ``packets``, each written in its source file's schema and codec; alert ``k`` is object
    :func:`fresh_ztf_object_id` ``(k)`` with ``candid`` ``SOURCE_ID_BASE + k * SOURCE_STRIDE``
    (its history keeps its candids: the light-curve keys include the object)."""
    sources: list[tuple[dict[str, Any], Any, str]] = []
    for p in packets:
        if not p.data.startswith(AVRO_MAGIC):
            continue
        reader = fastavro.reader(io.BytesIO(p.data))
        sources.extend(
            (r, reader.writer_schema, reader.codec) for r in reader if isinstance(r, dict)
        )
    if not sources:
        raise ValueError("no ZTF alert containers to replicate")
    for k in range(n):
        record, schema, codec = sources[k % len(sources)]
        candid = SOURCE_ID_BASE + k * SOURCE_STRIDE
        fresh = {
            **record,
            "objectId": fresh_ztf_object_id(k),
            "candid": candid,
            "candidate": {**record["candidate"], "candid": candid},
        }
        buf = io.BytesIO()
        fastavro.writer(buf, schema, [fresh], codec=codec)
        yield buf.getvalue()
