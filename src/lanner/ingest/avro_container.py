"""Avro object-container files, decoded with a cache of parsed writer schemas.

ZTF sends one container file per alert, each repeating the full writer schema in its header.
``fastavro.reader`` parses that schema for every file, which costs about a third of the
decoding time; here the header's schema text is parsed once per distinct schema and the data
blocks are read with ``fastavro.schemaless_reader``. Codecs: null, deflate, bzip2 and xz;
others (snappy, zstandard) are refused with that reason.

Bounded (:class:`~lanner.ingest.limits.IngestLimits`): the schema's nesting is measured
before it is parsed, deflate blocks are inflated at most to what is left of
``LANNER_MAX_PACKET_BYTES``, and a container may hold at most ``LANNER_MAX_PACKET_ALERTS``
records; beyond, :class:`~lanner.ingest.limits.BoundError` says which bound.
"""

from __future__ import annotations

import bz2
import io
import json
import lzma
import zlib
from functools import lru_cache
from typing import Any

import fastavro

from lanner.ingest.limits import (
    BoundError,
    IngestLimits,
    check_nesting,
    nesting_depth,
    too_many_alerts,
)

MAGIC = b"Obj\x01"
SYNC_SIZE = 16


def _read_long(buf: io.BytesIO) -> int:
    """Avro zig-zag varint."""
    shift = 0
    acc = 0
    while True:
        byte = buf.read(1)
        if not byte:
            raise EOFError("truncated Avro varint")
        b = byte[0]
        acc |= (b & 0x7F) << shift
        if not b & 0x80:
            return (acc >> 1) ^ -(acc & 1)
        shift += 7


def _read_bytes(buf: io.BytesIO) -> bytes:
    size = _read_long(buf)
    data = buf.read(size)
    if size < 0 or len(data) != size:
        raise EOFError("truncated Avro container header")
    return data


def _read_header(buf: io.BytesIO) -> tuple[dict[str, bytes], bytes]:
    if buf.read(4) != MAGIC:
        raise ValueError("not an Avro object container")
    meta: dict[str, bytes] = {}
    while True:
        count = _read_long(buf)
        if count == 0:
            break
        if count < 0:  # a negative count is followed by the block's size in bytes
            count = -count
            _read_long(buf)
        for _ in range(count):
            key = _read_bytes(buf).decode()
            meta[key] = _read_bytes(buf)
    sync = buf.read(SYNC_SIZE)
    if len(sync) != SYNC_SIZE:
        raise EOFError("truncated Avro container header")
    return meta, sync


@lru_cache(maxsize=32)
def _schema_depth(schema_text: bytes) -> int:
    """Nesting of a schema text, once per distinct schema (ZTF repeats it in every file)."""
    return nesting_depth(schema_text)


def _zero_size(schema: Any, empty: set[str]) -> bool:
    """Whether values of ``schema`` take no bytes (``null``, ``fixed`` of size 0, a record
    of such fields); ``empty`` collects the names of such records met so far."""
    if isinstance(schema, str):
        return schema == "null" or schema in empty
    if not isinstance(schema, dict):
        return False  # a union: its branch index takes a byte
    kind = schema.get("type")
    if kind == "fixed":
        return schema.get("size") == 0
    if kind == "record":
        fields = schema.get("fields") or []
        zero = all(_zero_size(f.get("type"), empty) for f in fields if isinstance(f, dict))
        if zero and isinstance(schema.get("name"), str):
            empty.add(schema["name"])
        return zero
    return isinstance(kind, str | dict) and kind != schema and _zero_size(kind, empty)


def _unbounded_arrays(schema: Any, empty: set[str]) -> str | None:
    """The first array or map whose items take no bytes: a few bytes of data could then
    declare billions of items."""
    if isinstance(schema, list):
        return next((r for s in schema if (r := _unbounded_arrays(s, empty))), None)
    if not isinstance(schema, dict):
        return None
    _zero_size(schema, empty)  # learn the names of empty records
    kind = schema.get("type")
    if kind in ("array", "map"):
        items = schema.get("items" if kind == "array" else "values")
        if _zero_size(items, empty):
            return f"an {kind} of zero-size items ({json.dumps(items)[:40]})"
        return _unbounded_arrays(items, empty)
    if kind == "record":
        fields = [f.get("type") for f in schema.get("fields") or [] if isinstance(f, dict)]
        return _unbounded_arrays(fields, empty)
    return _unbounded_arrays(kind, empty) if isinstance(kind, dict | list) else None


@lru_cache(maxsize=32)
def _parsed(schema_text: bytes) -> tuple[Any, str | None]:
    schema = json.loads(schema_text)
    unbounded = _unbounded_arrays(schema, set())
    if unbounded:
        raise BoundError(f"Avro schema has {unbounded}: refused, as its item count is unbounded")
    name = schema.get("name") if isinstance(schema, dict) else None
    if isinstance(schema, dict) and schema.get("namespace") and name and "." not in name:
        name = f"{schema['namespace']}.{name}"
    return fastavro.parse_schema(schema), name


#: Codecs read; each block is inflated by at most what is left of the packet's bound.
CODECS = ("null", "deflate", "bzip2", "xz")


def _inflate(codec: str, block: bytes, budget: int, limits: IngestLimits) -> bytes:
    inflater: Any = {
        "deflate": lambda: zlib.decompressobj(-15),
        "bzip2": bz2.BZ2Decompressor,
        "xz": lzma.LZMADecompressor,
    }[codec]()
    if codec == "deflate":
        data: bytes = inflater.decompress(block, budget + 1)
        more = bool(inflater.unconsumed_tail)
    else:
        data = inflater.decompress(block, max_length=budget + 1)
        more = not inflater.needs_input and not inflater.eof
    if len(data) > budget or more:
        raise BoundError(
            f"Avro {codec} block inflates beyond LANNER_MAX_PACKET_BYTES "
            f"({limits.max_packet_bytes})"
        )
    return data


def read_container(data: bytes, limits: IngestLimits) -> tuple[list[dict[str, Any]], str | None]:
    """All records of a container file, and the writer schema's full name."""
    buf = io.BytesIO(data)
    meta, sync = _read_header(buf)
    if _schema_depth(meta.get("avro.schema", b"")) > limits.max_nesting:
        check_nesting(meta.get("avro.schema", b""), "Avro schema", limits)  # raises
    codec = meta.get("avro.codec", b"null").decode()
    if codec not in CODECS:
        raise BoundError(
            f"Avro codec {codec!r} is not read (only {', '.join(CODECS)}: their blocks are "
            "inflated within LANNER_MAX_PACKET_BYTES)"
        )
    schema, name = _parsed(meta["avro.schema"])
    records: list[dict[str, Any]] = []
    budget = limits.max_packet_bytes
    end = len(data)
    while buf.tell() < end:
        count = _read_long(buf)
        if count < 0 or len(records) + count > limits.max_packet_alerts:
            raise too_many_alerts(len(records) + count, limits)
        block = _read_bytes(buf)
        if codec != "null":
            block = _inflate(codec, block, budget, limits)
        budget -= len(block)
        block_buf = io.BytesIO(block)
        for _ in range(count):
            record = fastavro.schemaless_reader(block_buf, schema, None)
            if not isinstance(record, dict):
                raise ValueError("Avro container record is not a record")
            records.append(record)
        if buf.read(SYNC_SIZE) != sync:
            raise ValueError("Avro container block does not end with the file's sync marker")
    return records, name
