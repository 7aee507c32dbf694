"""Bytes to decoded alert records, whatever the container.

Input: a :class:`~lanner.ingest.packets.RawPacket`. Output: a list of
:class:`DecodedRecord` (a packet may hold many alerts: Avro containers, Parquet files, JSON
arrays) or a :class:`DecodeError` with a reason. No side effects.

Formats are recognised by content, not by file name:

* Avro object container (``Obj\\x01``): ZTF packets and broker-written Rubin files;
* Confluent wire format (``0x00`` + 4-byte big-endian schema id + schemaless Avro): Rubin's
  Kafka messages; the id is ``major * 100 + minor`` and the writer schema comes from the
  ``lsst-alert-packet`` package;
* Parquet (``PAR1``): alert dumps written by brokers (one row per alert);
* JSON (an object or an array of objects): alert dumps.

Every packet is bounded (:class:`~lanner.ingest.limits.IngestLimits`): its size, the bytes
its Avro blocks inflate to, its number of alerts (container records, Parquet rows, JSON
items) and its nesting (JSON, an Avro container's schema); beyond a bound it is refused with
a reason naming the setting, before the work is done.
"""

from __future__ import annotations

import io
import json
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastavro
import pyarrow.parquet as pq

from lanner.ingest.avro_container import read_container
from lanner.ingest.confluent_wire import parse_schema_id
from lanner.ingest.limits import (
    BoundError,
    IngestLimits,
    check_nesting,
    default_limits,
    too_many_alerts,
)
from lanner.ingest.packets import RawPacket

AVRO_MAGIC = b"Obj\x01"
PARQUET_MAGIC = b"PAR1"


class DecodeError(Exception):
    """A packet that cannot be decoded; the message is the dead-letter reason."""


@dataclass(frozen=True)
class DecodedRecord:
    """One alert as a dict, the writer schema's name (if known) and its origin."""

    record: dict[str, Any]
    schema_name: str | None
    origin: str


@lru_cache(maxsize=64)
def rubin_schema(schema_id: int) -> Any:
    """Parsed writer schema of Rubin alerts for a Confluent schema id (major*100 + minor)."""
    from lsst.alert.packet import Schema

    major, minor = divmod(schema_id, 100)
    try:
        schema = Schema.from_file(_schema_path(major, minor))
    except (FileNotFoundError, OSError) as exc:
        raise DecodeError(
            f"unknown schema id {schema_id}: no lsst.v{major}_{minor} schema in lsst-alert-packet"
        ) from exc
    return fastavro.parse_schema(schema.definition)


def _schema_path(major: int, minor: int) -> str:
    import lsst.alert.packet as packet

    path = (
        Path(packet.__file__).parent
        / "schema"
        / str(major)
        / str(minor)
        / f"lsst.v{major}_{minor}.alert.avsc"
    )
    if not path.exists():
        raise FileNotFoundError(path)
    return str(path)


def decode_packet(packet: RawPacket, limits: IngestLimits | None = None) -> list[DecodedRecord]:
    """Decode every alert a packet holds.

    Raises
    ------
    DecodeError
        If the bytes are not a known container, do not decode or exceed a bound; the message
        says why.
    """
    limits = limits or default_limits()
    data = packet.data
    if not data:
        raise DecodeError("empty packet")
    if len(data) > limits.max_packet_bytes:
        raise DecodeError(
            f"packet of {len(data)} bytes exceeds LANNER_MAX_PACKET_BYTES "
            f"({limits.max_packet_bytes})"
        )
    try:
        if data.startswith(AVRO_MAGIC):
            return _decode_container(data, packet.origin, limits)
        if data[0] == 0 and len(data) > 5:
            return _decode_confluent(data, packet.origin)
        if data.startswith(PARQUET_MAGIC):
            return _decode_parquet(data, packet.origin, limits)
        head = data.lstrip()[:1]
        if head in (b"{", b"["):
            return _decode_json(data, packet.origin, limits)
    except DecodeError:
        raise
    except BoundError as exc:
        raise DecodeError(str(exc)) from exc
    except RecursionError as exc:
        raise DecodeError(f"packet nested too deeply to decode: {exc}") from exc
    except (ValueError, EOFError, TypeError, KeyError, IndexError, OSError, zlib.error) as exc:
        raise DecodeError(f"corrupt packet: {type(exc).__name__}: {exc}") from exc
    raise DecodeError(
        "unrecognised format: not an Avro container, Confluent-framed Avro, Parquet or JSON "
        f"(first bytes {data[:8]!r})"
    )


def _decode_container(data: bytes, origin: str, limits: IngestLimits) -> list[DecodedRecord]:
    records, name = read_container(data, limits)
    if not records:
        raise DecodeError("Avro container holds no records")
    if len(records) == 1:
        return [DecodedRecord(records[0], name, origin)]
    return [DecodedRecord(r, name, f"{origin}#{i}") for i, r in enumerate(records)]


def _decode_confluent(data: bytes, origin: str) -> list[DecodedRecord]:
    schema_id = parse_schema_id(data)
    schema = rubin_schema(schema_id)
    record = fastavro.schemaless_reader(io.BytesIO(data[5:]), schema, None)
    if not isinstance(record, dict):
        raise DecodeError("Confluent-framed payload is not a record")
    major, minor = divmod(schema_id, 100)
    return [DecodedRecord(record, f"lsst.v{major}_{minor}.alert", origin)]


def _decode_parquet(data: bytes, origin: str, limits: IngestLimits) -> list[DecodedRecord]:
    parquet = pq.ParquetFile(io.BytesIO(data))
    meta = parquet.metadata
    if meta.num_rows > limits.max_packet_alerts:
        raise too_many_alerts(meta.num_rows, limits)
    inflated = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if inflated > limits.max_packet_bytes:
        raise BoundError(
            f"Parquet data inflates to {inflated} bytes, more than LANNER_MAX_PACKET_BYTES "
            f"({limits.max_packet_bytes})"
        )
    rows = parquet.read().to_pylist()
    return [DecodedRecord(r, None, f"{origin}#{i}") for i, r in enumerate(rows)]


def _decode_json(data: bytes, origin: str, limits: IngestLimits) -> list[DecodedRecord]:
    check_nesting(data, "JSON packet", limits)
    doc = json.loads(data)
    if isinstance(doc, dict):
        return [DecodedRecord(doc, None, origin)]
    if isinstance(doc, list) and len(doc) > limits.max_packet_alerts:
        raise too_many_alerts(len(doc), limits)
    if isinstance(doc, list) and all(isinstance(d, dict) for d in doc):
        return [DecodedRecord(d, None, f"{origin}#{i}") for i, d in enumerate(doc)]
    raise DecodeError("JSON is neither an alert object nor an array of alert objects")
