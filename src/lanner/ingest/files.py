"""Alert packets from the file system: files, folders and tarballs.

Input: paths. Output: :class:`~lanner.ingest.packets.RawPacket` objects, in a stable order
(folders are walked in sorted order; tarball members in archive order). Reads only.

In a folder, files with the endings below are read and everything else (READMEs,
manifests) is passed over; a file named explicitly is always read, so that a mislabelled
packet reaches the decoder and, if bad, the dead-letter place.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from lanner.ingest.packets import RawPacket

ALERT_SUFFIXES = (".avro", ".json", ".parquet", ".tar", ".tar.gz", ".tgz")
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")


def _is_tar(path: Path) -> bool:
    return path.name.endswith(TAR_SUFFIXES)


def iter_packets(paths: Iterable[str | Path]) -> Iterator[RawPacket]:
    """Yield every packet under ``paths``.

    Raises
    ------
    FileNotFoundError
        If a named path does not exist (a typo should not look like an empty night).
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.name.endswith(ALERT_SUFFIXES):
                    yield from _file_packets(child)
        elif path.is_file():
            yield from _file_packets(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")


def _file_packets(path: Path) -> Iterator[RawPacket]:
    if _is_tar(path):
        with tarfile.open(path, mode="r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                yield RawPacket(handle.read(), f"{path}!{member.name}")
        return
    yield RawPacket(path.read_bytes(), str(path))
