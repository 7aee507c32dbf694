"""Bounds on what one input may cost: bytes, alerts and nesting per packet and per file.

Input: :class:`~lanner.settings.Settings` (``LANNER_MAX_PACKET_BYTES``,
``LANNER_MAX_FILE_BYTES``, ``LANNER_MAX_PACKET_ALERTS``, ``LANNER_MAX_NESTING``,
``LANNER_MAX_CUTOUT_BYTES``). Output: an :class:`IngestLimits` and :func:`nesting_depth`,
a columnar measure of how deep a JSON text nests. No side effects.

An input beyond a bound is dead-lettered with a reason naming the setting, never read
further: a decompression bomb costs at most the bound in memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lanner.settings import Settings


class BoundError(ValueError):
    """An input beyond one of the bounds; the message names the setting."""


@dataclass(frozen=True)
class IngestLimits:
    """The bounds (bytes are inflated bytes: after gzip, bz2, xz or an Avro codec)."""

    #: Largest packet held in memory: a file, a tarball member, a message, inflated.
    max_packet_bytes: int
    #: Most inflated bytes read from one compressed file or tarball, all members together.
    max_file_bytes: int
    #: Most alerts in one packet (Avro container records, Parquet rows, JSON array items).
    max_packet_alerts: int
    #: Deepest nesting of a JSON packet or of an Avro container's schema.
    max_nesting: int
    #: Largest cutout (FITS stamp) of an alert.
    max_cutout_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> IngestLimits:
        s = settings or Settings()
        return cls(
            max_packet_bytes=s.max_packet_bytes,
            max_file_bytes=s.max_file_bytes,
            max_packet_alerts=s.max_packet_alerts,
            max_nesting=s.max_nesting,
            max_cutout_bytes=s.max_cutout_bytes,
        )


#: The environment variables of the bounds (see :class:`~lanner.settings.Settings`).
ENV = (
    "LANNER_MAX_PACKET_BYTES",
    "LANNER_MAX_FILE_BYTES",
    "LANNER_MAX_PACKET_ALERTS",
    "LANNER_MAX_NESTING",
    "LANNER_MAX_CUTOUT_BYTES",
)


@lru_cache(maxsize=8)
def _limits_for(values: tuple[str | None, ...]) -> IngestLimits:
    return IngestLimits.from_settings()


def default_limits() -> IngestLimits:
    """The bounds the settings give now, without building a Settings object per packet
    (that costs ~80 µs, a fifth of decoding a ZTF packet)."""
    return _limits_for(tuple(os.environ.get(name) for name in ENV))


QUOTE, BACKSLASH = ord('"'), ord("\\")
OPENERS, CLOSERS = (ord("{"), ord("[")), (ord("}"), ord("]"))


def nesting_depth(text: bytes) -> int:
    """Deepest nesting of ``{``/``[`` in a JSON text, brackets inside strings ignored.

    Whole-array work on the few bytes that matter (quotes, backslashes, brackets), no loop
    over characters: a quote is escaped when an odd run of backslashes precedes it; what lies
    between unescaped quotes is string content.
    """
    b = np.frombuffer(text, dtype=np.uint8)
    mask = (b == QUOTE) | (b == BACKSLASH)
    for code in (*OPENERS, *CLOSERS):
        mask |= b == code
    pos = np.flatnonzero(mask)
    c = b[pos]
    n = len(c)
    if not n:
        return 0
    k = np.arange(n)
    is_bs = c == BACKSLASH
    # Backslash runs: consecutive bytes of the text, so consecutive positions.
    after_bs = np.zeros(n, dtype=bool)
    after_bs[1:] = is_bs[:-1] & (np.diff(pos) == 1)
    start = np.maximum.accumulate(np.where(is_bs & ~after_bs, k, 0))
    run = np.where(is_bs, k - start + 1, 0)
    before = np.zeros(n, dtype=np.int64)
    before[1:] = np.where(after_bs[1:], run[:-1], 0)
    quote = (c == QUOTE) & (before % 2 == 0)
    in_string = np.bitwise_xor.accumulate(quote.astype(np.uint8)).astype(bool)
    step = np.isin(c, OPENERS).astype(np.int32) - np.isin(c, CLOSERS).astype(np.int32)
    step[in_string] = 0
    return int(np.cumsum(step).max(initial=0))


def check_nesting(text: bytes, what: str, limits: IngestLimits) -> None:
    """Raise :class:`BoundError` if the JSON ``text`` nests deeper than the bound."""
    if text.count(b"{") + text.count(b"[") <= limits.max_nesting:
        return  # cannot nest deeper than it has brackets
    depth = nesting_depth(text)
    if depth > limits.max_nesting:
        raise BoundError(
            f"{what} nests {depth} levels deep, more than LANNER_MAX_NESTING ({limits.max_nesting})"
        )


def too_many_alerts(n: int, limits: IngestLimits) -> BoundError:
    return BoundError(
        f"packet holds {n} alerts, more than LANNER_MAX_PACKET_ALERTS ({limits.max_packet_alerts})"
    )
