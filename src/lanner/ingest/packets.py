"""What ingest hands around before decoding: raw packets and dead letters.

A :class:`RawPacket` is one unit of bytes as it arrived (a file, a tarball member, a Kafka
message value) with a human-readable ``origin`` (``path``, ``path!member`` or
``topic/partition/offset``). A :class:`DeadLetter` is a packet or record that could not
become part of a batch, with the reason; dead letters are never dropped, they go to a
:class:`DeadLetterSink`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RawPacket:
    """Bytes of one or more alerts exactly as received, and where they came from.

    ``error`` is set when the source could not be read whole (a truncated archive, a member
    beyond a size bound, a link in a tarball): the packet then goes straight to the dead
    letters with that reason, ``data`` holding whatever bytes were read.
    """

    data: bytes
    origin: str
    error: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    """An input that was set aside, why, and the bytes needed to replay it."""

    data: bytes
    origin: str
    reason: str


class DeadLetterSink(Protocol):
    """Where dead letters go: a folder (embedded mode) or a Kafka topic."""

    def put(self, data: bytes, origin: str, reason: str) -> None: ...

    def flush(self) -> None:
        """Return once every letter put so far is durable."""
        ...


def reason_kind(reason: str) -> str:
    """The kind of a dead letter's reason, for counting: the text before its first colon
    (``"survey mismatch"``), else its first three words, lower case."""
    head, sep, _ = reason.partition(":")
    if sep and len(head) <= 40:
        return head.strip().lower()
    return " ".join(reason.split()[:3]).lower()
