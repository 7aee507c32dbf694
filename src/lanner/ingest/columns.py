"""What the survey adapters collect for one batch, before it becomes Arrow tables.

Decoding is the one place a Python loop over alerts is unavoidable (fastavro hands back one
dict per alert). Per alert, the adapters append a handful of scalars (the ``alerts`` row)
and hand over each history list whole (:meth:`EntryLists.extend`: one ``list.extend``, no
loop over its entries); :mod:`lanner.ingest.history` turns every history of the batch into
:class:`Measurements` in one pyarrow conversion per kind, and :mod:`lanner.ingest.assemble`
derives the rest on whole arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa


class AdapterError(Exception):
    """An alert that decoded but cannot be mapped; the message is the dead-letter reason."""


def require(record: dict[str, Any], names: tuple[str, ...], where: str) -> None:
    """Raise :class:`AdapterError` naming every required field that is absent or null."""
    missing = [n for n in names if record.get(n) is None]
    if missing:
        raise AdapterError(f"missing required field(s) {', '.join(where + n for n in missing)}")


def entries_of(record: dict[str, Any], key: str) -> list[Any]:
    """The history list ``record[key]`` (empty when absent or null).

    Raises
    ------
    AdapterError
        If the field holds something other than a list (a string, a number, a record).
    """
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise AdapterError(f"{key} is a {type(value).__name__}, not a list of records")
    return value


@dataclass
class EntryLists:
    """The history entries (decoded dicts) of every alert of a batch, in alert order.

    ``items`` holds the entries of all alerts back to back; ``chunk_rows[k]`` is the alert
    row of the ``k``-th :meth:`extend` and ``chunk_sizes[k]`` how many entries it added.
    """

    items: list[Any] = field(default_factory=list)
    chunk_rows: list[int] = field(default_factory=list)
    chunk_sizes: list[int] = field(default_factory=list)

    def extend(self, row: int, entries: list[Any]) -> None:
        """Add alert ``row``'s entries (one C-level list extend)."""
        if entries:
            self.items.extend(entries)
            self.chunk_rows.append(row)
            self.chunk_sizes.append(len(entries))

    def rows(self) -> np.ndarray:
        """The alert row of every entry, int32."""
        return np.repeat(
            np.asarray(self.chunk_rows, dtype=np.int32),
            np.asarray(self.chunk_sizes, dtype=np.int64),
        )

    def mark(self) -> tuple[int, int]:
        return len(self.items), len(self.chunk_rows)

    def truncate(self, mark: tuple[int, int]) -> None:
        del self.items[mark[0] :]
        del self.chunk_rows[mark[1] :]
        del self.chunk_sizes[mark[1] :]


@dataclass
class BatchColumns:
    """Everything the adapters collect for one batch.

    ``histories`` maps a history kind (e.g. ``"lsst.sources"``: the triggering diaSource
    and ``prvDiaSources``) to its entries; :mod:`lanner.ingest.history` knows each kind's
    fields.
    """

    alerts: dict[str, list[Any]] = field(default_factory=dict)
    histories: dict[str, EntryLists] = field(default_factory=dict)
    cutouts: dict[str, list[Any]] = field(
        default_factory=lambda: {"row": [], "kind": [], "data": []}
    )
    packets: list[dict[str, Any]] = field(default_factory=list)

    def alert(self, values: dict[str, Any]) -> None:
        """Append one alert row; every alert of a batch must give the same keys."""
        if not self.alerts:
            for key in values:
                self.alerts[key] = []
        for key, column in self.alerts.items():
            column.append(values[key])

    def history(self, kind: str, row: int, entries: list[Any]) -> None:
        """Add alert ``row``'s entries of history ``kind``."""
        lists = self.histories.get(kind)
        if lists is None:
            lists = self.histories[kind] = EntryLists()
        lists.extend(row, entries)

    def cutout(self, row: int, kind: str, data: bytes) -> None:
        self.cutouts["row"].append(row)
        self.cutouts["kind"].append(kind)
        self.cutouts["data"].append(data)

    def mark(self) -> dict[str, Any]:
        """Sizes to return to with :meth:`rollback` if the next alert fails."""
        return {
            "alerts": len(self.packets),
            "histories": {k: v.mark() for k, v in self.histories.items()},
            "cutouts": len(self.cutouts["row"]),
        }

    def rollback(self, mark: dict[str, Any]) -> None:
        """Drop what a failing alert appended (it goes to the dead letters instead)."""
        n_alerts = mark["alerts"]
        for column in self.alerts.values():
            del column[n_alerts:]
        for kind, lists in self.histories.items():
            lists.truncate(mark["histories"].get(kind, (0, 0)))
        for values in self.cutouts.values():
            del values[mark["cutouts"] :]
        del self.packets[n_alerts:]


@dataclass
class Measurements:
    """One light-curve table's entries as arrays, before sorting and de-duplication.

    ``value``/``error``: the survey's native measurement (ZTF magnitude, ZTF forced flux in
    DN, Rubin flux [nJy]); ``aux``: ZTF ``isdiffpos`` sign (±1) or forced-photometry zero
    point; NaN where missing. ``source_id`` is 0 where ``source_missing``.
    """

    row: np.ndarray
    source_id: np.ndarray
    source_missing: np.ndarray
    mjd: np.ndarray
    band: pa.Array
    ra: np.ndarray
    dec: np.ndarray
    value: np.ndarray
    error: np.ndarray
    aux: np.ndarray
    reliability: np.ndarray

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def empty(cls) -> Measurements:
        f = np.zeros(0, dtype=np.float64)
        return cls(
            np.zeros(0, np.int32),
            np.zeros(0, np.int64),
            np.zeros(0, bool),
            f,
            pa.array([], pa.string()),
            f,
            f,
            f,
            f,
            f,
            f,
        )

    def concat(self, other: Measurements) -> Measurements:
        return Measurements(
            *(
                pa.concat_arrays([a, b]) if isinstance(a, pa.Array) else np.concatenate([a, b])
                for a, b in zip(vars(self).values(), vars(other).values(), strict=True)
            )
        )
