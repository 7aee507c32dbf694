"""Light-curve rows into the archive: one row per measurement, the newest packet's values, and
only what is new or changed written.

Input: an enriched :class:`~lanner.batch.AlertBatch` and the open
:class:`~lanner.store.Store`. Output: how many rows each light-curve table gained and how many
it changed. Side effects: inserts and updates in ``detections``, ``forced_photometry`` and
``upper_limits``, inside the caller's transaction.

Keys are the survey's identity of each measurement (see :mod:`lanner.schema.tables`). Every
row records the packet its values came from, ``(alert_mjd, alert_id)``; packets are ordered by
that pair — the alert's own time first, its id (ZTF ``candid`` / Rubin ``diaSourceId``)
breaking ties. A packet's row is written when

* its key is not stored yet;
* or the stored row came from an older packet and its values differ: the newer packet's
  values win;
* or the stored row came from a newer packet with the same values: the row then records the
  older packet, so that the provenance of unchanged values is the oldest packet of the newest
  run of equal values whatever the arrival order.

Every other row is left alone, so that a packet repeating a year of history writes only what
it changes. The rule is applied twice: first in columns, against the stored keys, values and
provenance of the batch's objects (a read, cheap next to a write), to drop the rows that would
change nothing; then in the database, by the ``WHERE`` of the upsert, so that concurrent
writers (several ``lanner consume`` workers) still end in the same state.

The archive is the same for any arrival order of the packets, except in one case the rule
cannot see without rewriting every repeated row: a value that changes and later changes back
(packets A < B < C carrying values x, y, x) can end as B's if B arrives last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import OBJECT_ID_COLUMN, AlertBatch
from lanner.schema.columns import Table
from lanner.schema.tables import LIGHT_CURVE_ATTRIBUTES
from lanner.store.ddl import quote

if TYPE_CHECKING:
    from lanner.store.database import Store

#: The columns recording which packet a row's values came from, in comparison order.
PROVENANCE = ("alert_mjd", "alert_id")
#: Largest number of object ids in one SQLite ``IN (...)`` list.
CHUNK = 500
#: Below any stored provenance: rows of databases upgraded from the first layout have none.
OLDEST = (-1.0e308, -(2**63))


@dataclass(frozen=True)
class Layout:
    """How one light-curve table is keyed and compared."""

    table: Table
    oid: str

    @property
    def key(self) -> list[str]:
        return list(self.table.primary_key)

    @property
    def values(self) -> list[str]:
        skip = {*self.key, *PROVENANCE}
        return [c for c in self.table.column_names if c not in skip]


def write_light_curves(store: Store, batch: AlertBatch) -> tuple[dict[str, int], dict[str, int]]:
    """Write the batch's light-curve rows; return rows (inserted, updated) per table."""
    oid = OBJECT_ID_COLUMN[batch.survey]
    inserted: dict[str, int] = {}
    updated: dict[str, int] = {}
    for name, attr in LIGHT_CURVE_ATTRIBUTES.items():
        layout = Layout(store.tables[name], oid)
        rows = newest_per_key(packet_rows(batch, getattr(batch, attr), layout), layout)
        stored = stored_rows(store, layout, rows[oid])
        todo, is_new = rows_to_write(rows, stored, layout)
        inserted[name] = int(is_new.sum())
        updated[name] = int(len(is_new) - is_new.sum())
        if todo.num_rows:
            cols = todo.column_names
            store.write_rows(name, cols, todo, upsert_tail(store, layout))
    return inserted, updated


def packet_rows(batch: AlertBatch, table: pa.Table, layout: Layout) -> pa.Table:
    """A batch light-curve table as archive rows, with the provenance of each row."""
    rows = table["row"]
    alerts = batch.alerts
    data = table.rename_columns([layout.oid if n == "object_id" else n for n in table.column_names])
    data = data.append_column("alert_mjd", alerts["mjd"].take(rows))
    data = data.append_column("alert_id", alerts["alert_id"].take(rows))
    return data.select([c for c in layout.table.column_names if c in data.column_names])


def newest_per_key(rows: pa.Table, layout: Layout) -> pa.Table:
    """One row per key: the newest packet's values, with the oldest packet of the newest run
    of packets carrying those same values (several alerts of one object in one batch)."""
    if rows.num_rows < 2:
        return rows
    # Missing provenance (never in a batch) would sort first, as the oldest.
    order = pc.sort_indices(rows, [(c, "ascending") for c in (*layout.key, *PROVENANCE)])
    rows = rows.take(order)
    n = rows.num_rows
    same_key = np.ones(n - 1, dtype=bool)
    for c in layout.key:
        same_key &= _equal_neighbours(_comparable(rows[c]))
    if not same_key.any():
        return rows
    same_values = same_key.copy()
    for c in layout.values:
        same_values &= _equal_neighbours(_comparable(rows[c]))
    # A run of equal values starts wherever the key or the values change.
    starts = np.concatenate([[True], ~same_values])
    run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    last = np.flatnonzero(np.concatenate([~same_key, [True]]))
    out = rows.take(pa.array(last))
    first = pa.array(run_start[last])
    for c in PROVENANCE:
        i = out.column_names.index(c)
        out = out.set_column(i, out.schema.field(c), rows[c].take(first))
    return out


def stored_rows(store: Store, layout: Layout, object_ids: pa.ChunkedArray) -> pa.Table:
    """Keys, provenance and values stored for the given objects."""
    names = [*layout.key, *PROVENANCE, *layout.values]
    types = {c.name: c.arrow_type for c in layout.table.columns}
    ids = pc.unique(object_ids).to_pylist()
    select = ", ".join(quote(c) for c in names)
    where = f"{quote(layout.oid)}"
    fetched: list[Sequence[Any]] = []
    if store.backend.dialect == "postgres":
        if ids:
            cur = store.con.execute(
                f"SELECT {select} FROM {quote(layout.table.name)} WHERE {where} = ANY(%s)", (ids,)
            )
            fetched = cur.fetchall()
    else:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            cur = store.con.execute(
                f"SELECT {select} FROM {quote(layout.table.name)} WHERE {where} IN "
                f"({', '.join('?' * len(chunk))})",
                chunk,
            )
            fetched.extend(cur.fetchall())
    columns = list(zip(*fetched, strict=True)) if fetched else [() for _ in names]
    arrays = {}
    for name, values in zip(names, columns, strict=True):
        typ = types[name]
        if typ == pa.bool_():  # SQLite keeps booleans as 0/1
            values = tuple(None if v is None else bool(v) for v in values)
        arrays[name] = pa.array(values, typ)
    return pa.table(arrays)


def rows_to_write(
    rows: pa.Table, stored: pa.Table, layout: Layout
) -> tuple[pa.Table, np.ndarray]:
    """The rows the rule would write, and which of them are new keys."""
    if rows.num_rows == 0 or stored.num_rows == 0:
        return rows, np.ones(rows.num_rows, dtype=bool)
    left = pa.table({**{c: rows[c] for c in layout.key}, "_i": np.arange(rows.num_rows)})
    right = pa.table({**{c: stored[c] for c in layout.key}, "_j": np.arange(stored.num_rows)})
    pairs = left.join(right, keys=layout.key, join_type="left outer")
    i = pairs["_i"].to_numpy()
    j_col = pairs["_j"]
    found = j_col.is_valid().to_numpy(zero_copy_only=False)
    j = pc.fill_null(j_col, 0).to_numpy()
    in_mjd, in_id = _provenance(rows, i)
    st_mjd, st_id = _provenance(stored, j)
    newer = (in_mjd > st_mjd) | ((in_mjd == st_mjd) & (in_id > st_id))
    older = (in_mjd < st_mjd) | ((in_mjd == st_mjd) & (in_id < st_id))
    equal = np.ones(len(i), dtype=bool)
    for c in layout.values:
        a, b = _comparable(rows[c]), _comparable(stored[c])
        equal &= _equal(a[i], b[j])
    write = ~found | (newer & ~equal) | (older & equal)
    picked = i[write]
    order = np.argsort(picked, kind="stable")
    return rows.take(pa.array(picked[order])), (~found[write])[order]


def upsert_tail(store: Store, layout: Layout) -> str:
    """``ON CONFLICT … DO UPDATE … WHERE`` applying the rule inside the database."""
    t = quote(layout.table.name)
    differs = "IS DISTINCT FROM" if store.backend.dialect == "postgres" else "IS NOT"
    mine = ", ".join(f"excluded.{quote(c)}" for c in PROVENANCE)
    theirs = ", ".join(
        f"COALESCE({t}.{quote(c)}, {low})" for c, low in zip(PROVENANCE, OLDEST, strict=True)
    )
    changed = " OR ".join(f"excluded.{quote(c)} {differs} {t}.{quote(c)}" for c in layout.values)
    sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in (*layout.values, *PROVENANCE))
    return (
        f"ON CONFLICT ({', '.join(quote(c) for c in layout.key)}) DO UPDATE SET {sets} "
        f"WHERE (({mine}) > ({theirs}) AND ({changed})) "
        f"OR (({mine}) < ({theirs}) AND NOT ({changed}))"
    )


def _provenance(table: pa.Table, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mjd = pc.fill_null(table["alert_mjd"], OLDEST[0]).to_numpy()
    ident = pc.fill_null(table["alert_id"], OLDEST[1]).to_numpy()
    return mjd[idx], ident[idx]


def _comparable(column: pa.ChunkedArray) -> np.ndarray:
    """A column as numpy values that compare as the database does (null equal to null)."""
    if pa.types.is_integer(column.type):
        return pc.fill_null(column.cast(pa.int64()), OLDEST[1]).to_numpy()
    if pa.types.is_floating(column.type) or pa.types.is_boolean(column.type):
        # NaN is stored as NULL: both compare as "missing".
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(column.to_pylist(), dtype=object)


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype == np.float64:
        return (a == b) | (np.isnan(a) & np.isnan(b))
    return np.asarray(a == b, dtype=bool)


def _equal_neighbours(values: np.ndarray) -> np.ndarray:
    return _equal(values[1:], values[:-1])
