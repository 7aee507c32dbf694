"""Prepared batches handed from a worker process to the storing process through files in
shared memory, not through a pipe.

Input: a :class:`~lanner.pipeline.PreparedBatch` in a worker (:mod:`lanner.parallel`) and a
folder both processes see. Output: a small :class:`HandedOff` record that crosses the pipe,
and, in the storing process, the same prepared batch again. Side effects: one Arrow IPC file
per table in the folder, from :func:`hand_off` until :func:`take` has mapped it (the file is
removed then; its pages live as long as the tables that map them).

Pickling a batch of deep-history alerts through the process pool's pipe copied it four
times (pickled, written, read in chunks, unpickled) and faulted in fresh memory at each
copy: on 250 on-sky Rubin alerts, the storing process spent more time receiving a batch than
storing it, and workers waited on the pipe. Here a worker writes each Arrow table once, and
the storing process maps the file: its tables point into the same pages (zero-copy). The
decoded records kept for ``full`` payloads and the classifiers' packet fields
(:attr:`~lanner.batch.AlertBatch.packets`) cross as one pickled blob, unpickled only when a
stage first reads them (:class:`LazyPackets`): most batches never do.

The folder is ``/dev/shm`` (memory) where it has room, else the system's temporary folder:
:func:`spool_folder`. It is removed when its pool stops; one left by a process that was
killed is removed by the next pool started on the machine.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, overload

import pyarrow as pa

from lanner.batch import AlertBatch
from lanner.pipeline import PreparedBatch

#: Shared memory, used for the spool when it has at least :data:`SHM_MIN_FREE` bytes free.
SHM = Path("/dev/shm")
SHM_MIN_FREE = 2 * 1024**3
#: Spool folders are named ``<PREFIX><pid of their pool's process>-<random>``.
PREFIX = "lanner-handoff-"
#: The batch's own tables, by attribute.
TABLES = ("alerts", "detections", "forced", "upper_limits", "cutouts")


class LazyPackets(Sequence[dict[str, Any]]):
    """A batch's decoded records, unpickled on first access; their count is known without."""

    def __init__(self, blob: bytes, n: int) -> None:
        self._blob: bytes | None = blob
        self._n = n
        self._items: list[dict[str, Any]] | None = None

    def _loaded(self) -> list[dict[str, Any]]:
        if self._items is None:
            assert self._blob is not None
            self._items = pickle.loads(self._blob)
            self._blob = None
        return self._items

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self._loaded()[i]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._loaded())


@dataclass(frozen=True)
class HandedOff:
    """What crosses the pipe for one prepared batch: where its tables are, and the rest."""

    prepared: PreparedBatch  # its batch's tables emptied, its packets pickled
    files: dict[str, str]  # table key (attribute, "enriched:<name>", "kit:<name>") -> path


def spool_folder() -> Path:
    """A new private folder for one pool's hand-offs: in shared memory where it has room."""
    base = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):  # no usable /dev/shm: the temporary folder
        if SHM.is_dir() and shutil.disk_usage(SHM).free >= SHM_MIN_FREE:
            base = SHM
    remove_stale(base)
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))


def remove_stale(base: Path) -> list[Path]:
    """Remove the spool folders in ``base`` whose process has ended (killed before it could
    remove them); the folders removed."""
    removed = []
    for folder in base.glob(f"{PREFIX}*-*"):
        try:
            pid = int(folder.name[len(PREFIX) :].split("-", 1)[0])
        except ValueError:
            continue
        if _alive(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def hand_off(prepared: PreparedBatch, folder: Path) -> HandedOff:
    """Write ``prepared``'s tables to ``folder``; the record to send in their place."""
    batch = prepared.batch
    tables: dict[str, pa.Table] = {name: getattr(batch, name) for name in TABLES}
    tables.update({f"enriched:{k}": t for k, t in batch.enriched.items()})
    tables.update({f"kit:{k}": t for k, t in batch.kit.items()})
    stem = uuid.uuid4().hex
    files: dict[str, str] = {}
    try:
        for i, (key, table) in enumerate(tables.items()):
            path = folder / f"{stem}-{i}.arrow"
            with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
                w.write_table(table)
            files[key] = str(path)
    except BaseException:
        _remove(files.values())
        raise
    empty = {name: tables[name].schema.empty_table() for name in TABLES}
    packets = LazyPackets(pickle.dumps(list(batch.packets), pickle.HIGHEST_PROTOCOL), len(batch))
    shell = replace(batch, **empty, packets=packets, enriched={}, kit={})
    return HandedOff(replace(prepared, batch=shell), files)


def take(handed: HandedOff) -> PreparedBatch:
    """The prepared batch again, its tables mapped from the spool (whose files are removed)."""
    try:
        tables = {key: _read(path) for key, path in handed.files.items()}
    finally:
        _remove(handed.files.values())
    shell = handed.prepared.batch
    batch: AlertBatch = replace(
        shell,
        **{name: tables[name] for name in TABLES},
        enriched={k.split(":", 1)[1]: t for k, t in tables.items() if k.startswith("enriched:")},
        kit={k.split(":", 1)[1]: t for k, t in tables.items() if k.startswith("kit:")},
    )
    return replace(handed.prepared, batch=batch)


def discard(handed: HandedOff) -> None:
    """Remove a hand-off's files without reading them (a run that stopped)."""
    _remove(handed.files.values())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _read(path: str) -> pa.Table:
    with pa.memory_map(path, "r") as source:
        return pa.ipc.open_file(source).read_all()


def _remove(paths: Iterable[str]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
