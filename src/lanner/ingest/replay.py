"""Publish alert files to a Kafka topic, to simulate a survey's alert stream.

Input: paths of Avro container files, Confluent-framed messages (magic byte 0,
4-byte big-endian schema id, schemaless Avro), either compressed with gzip, bz2 or xz
(Rubin's archive keeps one gzip'd Confluent message per ``*.avro.gz`` file), tarballs of
them, and folders of them (searched recursively for the endings of
:data:`ALERT_SUFFIXES`). Files are read through :func:`lanner.ingest.files.iter_packets`,
so the compressed ones are inflated within the same bounds as for ingestion.
Output: one Kafka message per alert in one of two wire formats:

``avro``
    a one-record Avro container, as ZTF sends. A single-record container file is
    sent byte for byte; a multi-record container is split, each record written in
    its own container with the file's writer schema. Confluent-framed input is
    decoded with its registered Rubin schema and written as a container.
``confluent``
    Confluent wire format as Rubin sends. Confluent-framed input is sent byte for
    byte; container records are re-serialized (schemaless) with the official
    ``lsst-alert-packet`` schema whose id is major*100+minor, taken from the
    container schema's name ``lsst.vMAJOR_MINOR.alert`` or given explicitly.

Messages are paced by a token bucket at ``rate`` alerts/s (0: as fast as possible).
Side effects: produces to Kafka; the report counts messages and bytes.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import fastavro

from lanner.ingest.confluent_wire import frame, parse_schema_id
from lanner.ingest.decode import DecodeError, rubin_schema
from lanner.ingest.files import SkippedFile, iter_packets

WireFormat = Literal["confluent", "avro"]
CONTAINER_MAGIC = b"Obj\x01"
_COMPRESSED = ("", ".gz", ".bz2", ".xz")
#: Endings of the files a folder walk publishes: Avro files, compressed or not, and tarballs.
ALERT_SUFFIXES = (
    *(f".avro{c}" for c in _COMPRESSED),
    *(f".tar{c}" for c in _COMPRESSED),
    ".tgz",
)
#: Endings of the tarball members published (others, e.g. a README, are passed over).
_MEMBER_SUFFIXES = tuple(f".avro{c}" for c in _COMPRESSED)
_RUBIN_NAME = re.compile(r"^lsst\.v(\d+)_(\d+)\.alert$")


class ReplayError(ValueError):
    """An input cannot be published in the requested format."""


@dataclass
class ReplayReport:
    """What a replay published."""

    messages: int = 0
    bytes: int = 0
    files: int = 0
    elapsed_s: float = 0.0

    @property
    def rate(self) -> float:
        """Achieved publication rate (alerts/s)."""
        return self.messages / self.elapsed_s if self.elapsed_s > 0 else 0.0


class TokenBucket:
    """Pace events to ``rate`` per second with bursts of at most ``burst``.

    Parameters
    ----------
    rate
        Events per second; 0 means no limit.
    burst
        Largest number of events let through at once after an idle spell.
    clock, sleep
        Time source (s) and sleep function, replaceable in tests.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate < 0:
            raise ValueError(f"rate must be >= 0 alerts/s, got {rate}")
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._last = clock()

    def take(self) -> None:
        """Block until one token is available, then consume it."""
        if self.rate == 0:
            return
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1.0:
            wait = (1.0 - self._tokens) / self.rate
            self._sleep(wait)
            self._last = self._clock()
            self._tokens = 1.0
        self._tokens -= 1.0


def find_alert_files(paths: Sequence[Path]) -> list[Path]:
    """Expand folders into their alert files (sorted), keep files as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p for p in path.rglob("*") if p.is_file() and p.name.endswith(ALERT_SUFFIXES)
                )
            )
        elif path.is_file():
            found.append(path)
        else:
            raise ReplayError(f"{path}: no such file or folder")
    return found


def iter_messages(
    paths: Sequence[Path], wire_format: WireFormat, schema_id: int | None = None
) -> Iterator[tuple[bytes, str]]:
    """Yield ``(message bytes, origin)`` for every alert in ``paths``.

    Parameters
    ----------
    paths
        Files, tarballs and folders.
    wire_format
        ``"confluent"`` or ``"avro"`` (see the module docstring).
    schema_id
        Confluent schema id for container records whose schema name does not
        carry the Rubin version; ``None`` derives it from the name.

    Raises
    ------
    ReplayError
        For a file that is neither an Avro container, a Confluent frame nor a
        tarball, or that cannot be written in the requested format.
    """
    for path in find_alert_files(paths):
        skipped: list[SkippedFile] = []
        for packet in iter_packets([path], skipped):
            member = packet.origin.partition("!")[2]
            if member and not member.endswith(_MEMBER_SUFFIXES):
                continue
            if packet.error is not None:
                raise ReplayError(f"{packet.origin}: {packet.error}")
            yield from _convert(packet.data, packet.origin, wire_format, schema_id)
        for skip in skipped:
            raise ReplayError(f"{skip.path}: {skip.reason}")


def _convert(
    data: bytes, origin: str, wire_format: WireFormat, schema_id: int | None
) -> Iterator[tuple[bytes, str]]:
    if data.startswith(CONTAINER_MAGIC):
        yield from _from_container(data, origin, wire_format, schema_id)
    elif len(data) > 5 and data[0] == 0:
        yield _from_confluent(data, origin, wire_format), origin
    else:
        raise ReplayError(f"{origin}: neither an Avro container nor a Confluent-framed message")


def _from_container(
    data: bytes, origin: str, wire_format: WireFormat, schema_id: int | None
) -> Iterator[tuple[bytes, str]]:
    if wire_format == "avro":
        # Counting records from the block headers skips decoding them (and the
        # cutouts): a one-record file is sent as it is, 3x faster.
        blocks = fastavro.block_reader(io.BytesIO(data))
        if sum(block.num_records for block in blocks) == 1:
            yield data, origin
            return
    reader = fastavro.reader(io.BytesIO(data))
    writer_schema: dict[str, Any] = reader.writer_schema  # type: ignore[assignment]
    records = list(reader)
    if wire_format == "avro":
        parsed = fastavro.parse_schema(writer_schema)
        for index, record in enumerate(records):
            out = io.BytesIO()
            fastavro.writer(out, parsed, [record], codec="null")
            yield out.getvalue(), f"{origin}#{index}"
        return
    target_id = schema_id if schema_id is not None else _rubin_id_from_name(writer_schema, origin)
    schema = _schema_or_error(target_id, origin)
    for index, record in enumerate(records):
        out = io.BytesIO()
        try:
            fastavro.schemaless_writer(out, schema, record)
        except (ValueError, TypeError, KeyError) as exc:
            raise ReplayError(
                f"{origin}: record {index} does not fit Rubin schema id {target_id}: {exc}"
            ) from exc
        suffix = f"#{index}" if len(records) > 1 else ""
        yield frame(target_id, out.getvalue()), origin + suffix


def _schema_or_error(schema_id: int, origin: str) -> Any:
    try:
        return rubin_schema(schema_id)
    except DecodeError as exc:
        raise ReplayError(f"{origin}: {exc}") from exc


def _rubin_id_from_name(writer_schema: dict[str, Any], origin: str) -> int:
    name = str(writer_schema.get("name", ""))
    if writer_schema.get("namespace") and "." not in name:
        name = f"{writer_schema['namespace']}.{name}"
    match = _RUBIN_NAME.match(name)
    if match is None:
        raise ReplayError(
            f"{origin}: schema {name!r} has no Confluent schema id (only Rubin "
            "lsst.vM_m.alert schemas do); publish it with format 'avro' or give a schema id"
        )
    return int(match.group(1)) * 100 + int(match.group(2))


def _from_confluent(data: bytes, origin: str, wire_format: WireFormat) -> bytes:
    if wire_format == "confluent":
        return data
    schema_id = parse_schema_id(data)
    schema = _schema_or_error(schema_id, origin)
    try:
        record = fastavro.schemaless_reader(io.BytesIO(data[5:]), schema, None)
    except (EOFError, ValueError, TypeError) as exc:
        raise ReplayError(f"{origin}: does not decode with Rubin schema id {schema_id}") from exc
    out = io.BytesIO()
    fastavro.writer(out, schema, [record], codec="null")
    return out.getvalue()


def publish(
    paths: Sequence[Path],
    bootstrap: str,
    topic: str,
    wire_format: WireFormat = "confluent",
    rate: float = 0.0,
    schema_id: int | None = None,
    flush_timeout_s: float = 60.0,
) -> ReplayReport:
    """Publish every alert of ``paths`` to ``topic``.

    Parameters
    ----------
    paths
        Files, tarballs and folders of alerts.
    bootstrap
        ``"HOST:PORT"`` of the brokers.
    topic
        Destination topic (created by the broker on first write if it allows).
    wire_format
        ``"confluent"`` or ``"avro"``.
    rate
        Alerts per second; 0 publishes as fast as possible.
    schema_id
        Confluent schema id for container records of non-Rubin-named schemas.
    flush_timeout_s
        How long to wait (s) for the broker to acknowledge everything.

    Raises
    ------
    ReplayError
        For unreadable inputs, or when the broker did not acknowledge every message.
    """
    from confluent_kafka import KafkaError, Message, Producer

    errors: list[str] = []

    def on_delivery(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            errors.append(error.str())

    # ZTF alerts with cutouts approach 100 kB; allow up to 10 MB as Rubin may.
    producer = Producer(
        {"bootstrap.servers": bootstrap, "message.max.bytes": 10_000_000, "linger.ms": 20}
    )
    bucket = TokenBucket(rate)
    report = ReplayReport(files=len(find_alert_files(paths)))
    start = time.monotonic()
    for payload, _origin in iter_messages(paths, wire_format, schema_id):
        bucket.take()
        while True:
            try:
                producer.produce(topic, value=payload, on_delivery=on_delivery)
                break
            except BufferError:
                # Local queue full: let librdkafka drain it, then retry.
                producer.poll(0.1)
        producer.poll(0)
        report.messages += 1
        report.bytes += len(payload)
    left = producer.flush(flush_timeout_s)
    report.elapsed_s = time.monotonic() - start
    if left or errors:
        raise ReplayError(
            f"{left} messages unacknowledged and {len(errors)} refused by the broker"
            + (f": {errors[0]}" if errors else "")
        )
    return report
