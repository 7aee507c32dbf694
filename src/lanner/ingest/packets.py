"""Raw alert packets: the bytes of one alert as they arrived, before decoding.

Every source (Kafka topics, files, tarballs) hands the decoder a ``list[RawPacket]``.
Nothing here decodes; this module only names the unit that travels between the
transport and the decoder, and the interface of the places where packets that
cannot be decoded are kept (dead-letter sinks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RawPacket:
    """The bytes of one alert and where they came from.

    Attributes
    ----------
    data
        The message or file payload exactly as received (Avro container,
        Confluent wire format, ...).
    origin
        Where the bytes came from, precise enough to find them again: for Kafka
        ``"topic/partition/offset"``, for files the path (and tar member).
    """

    data: bytes
    origin: str


class DeadLetterSink(Protocol):
    """A place that keeps packets which could not be ingested, with the reason."""

    def put(self, data: bytes, origin: str, reason: str) -> None:
        """Keep ``data`` (the original bytes) with its ``origin`` and ``reason``."""
        ...
