"""The Confluent wire format and the Rubin alert schemas it refers to.

A Confluent-framed message is one byte 0 (magic), the schema id as a 4-byte
big-endian unsigned integer, then the record in schemaless Avro. Rubin registers
schema ``lsst.vMAJOR_MINOR.alert`` under id ``MAJOR*100 + MINOR`` (7.4 -> 704,
11.1 -> 1101). Input: message bytes or a schema id; output: the id, a framed
message, or the parsed schema loaded once from the ``lsst-alert-packet`` package.
No side effects besides a small in-process schema cache.
"""

from __future__ import annotations

import importlib.resources
import struct
from functools import cache
from typing import Any

import fastavro

CONFLUENT_MAGIC = 0
HEADER = struct.Struct(">bI")


class UnknownSchemaError(ValueError):
    """A schema id that no installed Rubin alert schema carries."""


def parse_schema_id(message: bytes) -> int:
    """Return the schema id of a Confluent-framed message.

    Raises
    ------
    ValueError
        If the message is shorter than the 5-byte header or the magic byte is not 0.
    """
    if len(message) < HEADER.size or message[0] != CONFLUENT_MAGIC:
        raise ValueError("not a Confluent-framed message (magic byte 0 + 4-byte schema id)")
    return int(HEADER.unpack_from(message)[1])


def frame(schema_id: int, payload: bytes) -> bytes:
    """Prefix schemaless Avro ``payload`` with the Confluent header for ``schema_id``."""
    return HEADER.pack(CONFLUENT_MAGIC, schema_id) + payload


@cache
def rubin_schema(schema_id: int) -> Any:
    """The parsed ``lsst.vM_m.alert`` schema registered under ``schema_id``.

    Raises
    ------
    UnknownSchemaError
        If ``lsst-alert-packet`` has no schema for that version.
    """
    major, minor = divmod(schema_id, 100)
    root = importlib.resources.files("lsst.alert.packet").joinpath("schema", str(major), str(minor))
    name = f"lsst.v{major}_{minor}.alert.avsc"
    if not root.joinpath(name).is_file():
        raise UnknownSchemaError(
            f"schema id {schema_id}: no Rubin alert schema v{major}.{minor} in lsst-alert-packet"
        )
    # load_schema resolves the named sub-schemas (diaSource, ...) in the same folder.
    with importlib.resources.as_file(root) as folder:
        return fastavro.schema.load_schema(str(folder / name))
