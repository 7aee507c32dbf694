"""The Confluent wire format: framing and unframing of schemaless Avro messages.

A Confluent-framed message is one byte 0 (magic), the schema id as a 4-byte
big-endian unsigned integer, then the record in schemaless Avro. Rubin registers
schema ``lsst.vMAJOR_MINOR.alert`` under id ``MAJOR*100 + MINOR`` (7.4 -> 704,
11.1 -> 1101; the schemas: :func:`lanner.ingest.decode.rubin_schema`). Input:
message bytes, or a schema id and a payload; output: the id, or a framed
message. No side effects.
"""

from __future__ import annotations

import struct

CONFLUENT_MAGIC = 0
HEADER = struct.Struct(">bI")


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
