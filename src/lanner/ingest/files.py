"""Alert packets from the file system: files, folders, tarballs, compressed files.

Input: paths. Output: :class:`~lanner.ingest.packets.RawPacket` objects, in a stable order
(folders are walked in sorted order; tarball members in archive order), and a record of
every file not read (:class:`SkippedFile`). Reads only.

What a file holds is decided by its content: gzip, bz2 and xz are inflated (a file of one
gzip'd Confluent message, ``*.avro.gz``, as Rubin's archive keeps them; compressed Avro
containers, JSON and Parquet); a tar archive (``ustar`` header, or a ``.tar`` name) is read
member by member, streaming, so a night's tarball is never held in memory. In a folder, only
files with the endings of :data:`ALERT_SUFFIXES` are read; every other file is reported as
skipped with its reason, as is a file that cannot be opened. A file named explicitly is
always read, so a mislabelled packet reaches the decoder and, if bad, the dead letters.

Bounds (:class:`~lanner.ingest.limits.IngestLimits`): a packet (a file, a member, inflated)
is at most ``LANNER_MAX_PACKET_BYTES``; a compressed file or tarball inflates to at most
``LANNER_MAX_FILE_BYTES`` in all. What cannot be read — beyond a bound, a truncated or
corrupt archive, a link or device in a tarball — becomes a packet with an ``error``, which
:func:`lanner.ingest.assemble.assemble` dead-letters; everything read before it is kept.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lanner.ingest.limits import BoundError, IngestLimits, default_limits
from lanner.ingest.packets import RawPacket

#: Endings a folder walk reads; compressed files and tarballs of alerts included.
ALERT_SUFFIXES = (".avro", ".json", ".parquet", ".tar", ".tgz", ".gz", ".bz2", ".xz")
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
#: Errors of a truncated or corrupt compressed stream or archive.
READ_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, tarfile.TarError, BoundError)


@dataclass(frozen=True)
class SkippedFile:
    """A file a walk did not read, and why (``unknown type …`` or ``unreadable: …``)."""

    path: str
    reason: str


def iter_packets(
    paths: Iterable[str | Path],
    skipped: list[SkippedFile] | None = None,
    limits: IngestLimits | None = None,
) -> Iterator[RawPacket]:
    """Yield every packet under ``paths``; files not read are appended to ``skipped``.

    Raises
    ------
    FileNotFoundError
        If a named path does not exist (a typo should not look like an empty night).
    """
    limits = limits or default_limits()
    report = skipped if skipped is not None else []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink()):
                if child.name.endswith(ALERT_SUFFIXES):
                    yield from _file_packets(child, limits, report)
                else:
                    report.append(
                        SkippedFile(
                            str(child), f"unknown type: not one of {' '.join(ALERT_SUFFIXES)}"
                        )
                    )
        elif path.is_file():
            yield from _file_packets(path, limits, report)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")


def _codec(head: bytes) -> str | None:
    return next((name for magic, name in MAGIC.items() if head.startswith(magic)), None)


def _inflater(fh: IO[bytes], codec: str) -> IO[bytes]:
    if codec == "gzip":
        return gzip.GzipFile(fileobj=fh)  # type: ignore[return-value]
    if codec == "bz2":
        return bz2.BZ2File(fh)
    return lzma.LZMAFile(fh)


class _Bounded(io.RawIOBase):
    """A stream that raises :class:`BoundError` once more than ``limit`` bytes are read."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self.inner, self.limit, self.count = inner, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        if self.count > self.limit:
            raise BoundError(
                f"inflates beyond LANNER_MAX_FILE_BYTES ({self.limit}) after {self.count} bytes"
            )
        return len(data)


def _original(path: Path, limits: IngestLimits) -> bytes:
    """The file's bytes for a dead letter, if small enough to keep."""
    try:
        return path.read_bytes() if path.stat().st_size <= limits.max_packet_bytes else b""
    except OSError:
        return b""


def _file_packets(
    path: Path, limits: IngestLimits, skipped: list[SkippedFile]
) -> Iterator[RawPacket]:
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, after streaming
    except OSError as exc:
        skipped.append(SkippedFile(str(path), f"unreadable: {exc.strerror or exc}"))
        return
    with fh:
        codec = _codec(fh.read(6))
        fh.seek(0)
        raw: IO[bytes] = _inflater(fh, codec) if codec else fh
        stream = io.BufferedReader(_Bounded(raw, limits.max_file_bytes), 1 << 16)
        try:
            head = stream.peek(512)[:512]
        except READ_ERRORS as exc:
            yield RawPacket(_original(path, limits), str(path), f"unreadable {codec} file: {exc}")
            return
        if head[257:262] == b"ustar" or path.name.endswith(TAR_SUFFIXES):
            yield from _tar_packets(path, stream, limits)
            return
        try:
            data = stream.read(limits.max_packet_bytes + 1)
        except READ_ERRORS as exc:
            yield RawPacket(_original(path, limits), str(path), f"unreadable {codec} file: {exc}")
            return
        if len(data) > limits.max_packet_bytes:
            what = "inflates to more than" if codec else "is larger than"
            yield RawPacket(
                _original(path, limits),
                str(path),
                f"file {what} LANNER_MAX_PACKET_BYTES ({limits.max_packet_bytes})",
            )
            return
        yield RawPacket(data, str(path))


def _inflated_member(data: bytes, origin: str, limits: IngestLimits) -> RawPacket:
    """A tarball member, inflated if it is itself compressed (e.g. ``*.avro.gz``)."""
    codec = _codec(data[:6])
    if codec is None:
        return RawPacket(data, origin)
    try:
        inner = _inflater(io.BytesIO(data), codec).read(limits.max_packet_bytes + 1)
    except READ_ERRORS as exc:
        return RawPacket(data, origin, f"unreadable {codec} member: {exc}")
    if len(inner) > limits.max_packet_bytes:
        return RawPacket(
            data,
            origin,
            f"member inflates to more than LANNER_MAX_PACKET_BYTES ({limits.max_packet_bytes})",
        )
    return RawPacket(inner, origin)


def _tar_packets(path: Path, stream: IO[bytes], limits: IngestLimits) -> Iterator[RawPacket]:
    """Members of a tar archive, streaming; links, devices and oversize members become
    dead letters, and a truncated archive ends with one for what could not be read."""
    n = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                origin = f"{path}!{member.name}"
                if member.isdir():
                    continue
                if member.issym() or member.islnk():
                    kind = "symbolic" if member.issym() else "hard"
                    yield RawPacket(
                        b"",
                        origin,
                        f"tar member is a {kind} link to {member.linkname!r}: "
                        "links are not followed",
                    )
                    continue
                if not member.isfile():
                    yield RawPacket(b"", origin, "tar member is not a regular file: not read")
                    continue
                if member.size > limits.max_packet_bytes:
                    yield RawPacket(
                        b"",
                        origin,
                        f"tar member of {member.size} bytes exceeds LANNER_MAX_PACKET_BYTES "
                        f"({limits.max_packet_bytes})",
                    )
                    continue
                handle = tar.extractfile(member)
                data = handle.read() if handle is not None else b""
                if len(data) != member.size:
                    raise EOFError(
                        f"member {member.name} ends after {len(data)} of {member.size} bytes"
                    )
                n += 1
                yield _inflated_member(data, origin, limits)
    except READ_ERRORS as exc:
        yield RawPacket(
            _original(path, limits),
            str(path),
            f"truncated or corrupt archive, not read after {n} member(s): "
            f"{type(exc).__name__}: {exc}",
        )
