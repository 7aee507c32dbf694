"""Light-curve rows into the archive: one row per measurement, the newest packet's values, and
only what is new or changed written.

Input: an enriched :class:`~lanner.batch.AlertBatch` and the open
:class:`~lanner.store.Store`. Output: how many rows each light-curve table gained and how many
it changed. Side effects: inserts and updates in ``detections``, ``forced_photometry`` and
``upper_limits``, inside the caller's transaction.

Keys are the survey's identity of each measurement (see :mod:`lanner.schema.tables`). Every
row records the packet its values came from, ``(alert_mjd, alert_id)``; packets are ordered by
that pair — the alert's own time first, its id (ZTF ``candid`` / Rubin ``diaSourceId``)
breaking ties.

A detection's own copy — the triggering candidate of its own alert, whose ``alert_id`` is the
detection's ``source_id`` — outranks every copy in later packets' history: ZTF's
``prv_candidates`` repeat a candidate with fewer columns (``rb``, not ``drb``) and rounded
values. So a detection holds its own alert's values once that alert is stored, whatever the
arrival order, and history copies follow the rule below only while it is not. A packet's row
is written when

* it is the own copy and the stored row is not;
* its key is not stored yet;
* or the stored row came from an older packet and its values differ: the newer packet's
  values win;
* or the stored row came from a newer packet with the same values: the row then records the
  older packet, so that the provenance of unchanged values is the oldest packet of the newest
  run of equal values whatever the arrival order

(the last two only when neither row is an own copy).

Values are compared through ``digest``, a 64-bit hash of the row's values computed in columns
(splitmix64 over the values' bits; NaN and null hash alike). Every other row is left alone, so
that a packet repeating a year of history writes only what it changes. The rule is applied
twice: first in columns, against the stored keys, provenance and digests of the batch's objects
(a read of four small values per stored row, cheap next to a write), to drop the rows that
would change nothing; then in the database, by the ``WHERE`` of the upsert, so that concurrent
writers (several ``lanner consume`` workers) still end in the same state.

The archive is the same for any arrival order of the packets, except in one case the rule
cannot see without rewriting every repeated row: a value that changes and later changes back
(packets A < B < C carrying values x, y, x) can end as B's if B arrives last.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lanner.batch import OBJECT_ID_COLUMN, AlertBatch
from lanner.schema.columns import Table
from lanner.schema.tables import LIGHT_CURVE_ATTRIBUTES
from lanner.store.ddl import quote
from lanner.store.light_curve_state import (
    STATE_TABLE,
    SUMMARY,
    combine,
    covered,
    summarise,
    write_summaries,
)

if TYPE_CHECKING:
    from lanner.store.database import Store

#: The columns recording which packet a row's values came from, in comparison order.
PROVENANCE = ("alert_mjd", "alert_id")
#: The column holding the hash of a row's values.
DIGEST = "digest"
#: Largest number of object ids in one SQLite ``IN (...)`` list.
CHUNK = 500
#: Detections whose ``alert_id`` equals this column are the alert's own candidate.
OWN_COLUMN = "source_id"
#: Below any stored provenance: rows of databases upgraded from the first layout have none.
OLDEST = (-1.0e308, -(2**63))
#: splitmix64 constants: a fixed, well-mixed 64-bit hash, the same on every machine.
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


@dataclass(frozen=True)
class Layout:
    """How one light-curve table is keyed and compared."""

    table: Table
    oid: str

    @property
    def key(self) -> list[str]:
        return list(self.table.primary_key)

    @property
    def own(self) -> str | None:
        """The column naming a detection's own alert: a row whose provenance ``alert_id``
        equals it is the triggering candidate's own copy (``detections`` only)."""
        return OWN_COLUMN if self.table.name == "detections" else None

    @property
    def values(self) -> list[str]:
        skip = {*self.key, *PROVENANCE, DIGEST}
        return [c for c in self.table.column_names if c not in skip]


@dataclass
class LightCurveWrites:
    """Rows each light-curve table gained, changed, and read back to decide."""

    inserted: dict[str, int]
    updated: dict[str, int]
    read: dict[str, int]


def write_light_curves(store: Store, batch: AlertBatch) -> LightCurveWrites:
    """Write the batch's light-curve rows (inside the open transaction, which holds the
    batch's objects: :func:`lock_objects`)."""
    oid = OBJECT_ID_COLUMN[batch.survey]
    out = LightCurveWrites({}, {}, {})
    for name, attr in LIGHT_CURVE_ATTRIBUTES.items():
        layout = Layout(store.tables[name], oid)
        rows = newest_per_key(packet_rows(batch, getattr(batch, attr), layout), layout)
        known = read_table(
            store,
            STATE_TABLE,
            layout.oid,
            rows[oid],
            [oid, *SUMMARY],
            _state_types(layout),
            ("light_curve", name),
        )
        skip, fast = covered(rows, known, layout)
        fresh = rows.filter(pa.array(fast & ~skip))  # new keys of covered objects
        slow = rows.filter(pa.array(~fast))
        names = [*layout.key, *(["mjd"] if "mjd" not in layout.key else []), *PROVENANCE, DIGEST]
        types = {c.name: c.arrow_type for c in layout.table.columns}
        stored = read_table(store, name, oid, slow[oid], names, types)
        todo, is_new = rows_to_write(slow, stored, layout)
        out.inserted[name] = int(is_new.sum()) + fresh.num_rows
        out.updated[name] = int(len(is_new) - is_new.sum())
        out.read[name] = stored.num_rows
        todo = pa.concat_tables([fresh, todo]) if fresh.num_rows else todo
        if todo.num_rows:
            store.write_rows(name, todo.column_names, todo, upsert_tail(store, layout))
        write_summaries(store, layout, _summaries(known, fresh, stored, todo, slow, layout))
    return out


def lock_objects(store: Store, object_ids: pa.ChunkedArray) -> None:
    """Hold each object of a batch for the rest of the transaction, so that concurrent writers
    apply the rule, and keep the summaries, one at a time per object. Taken first in a batch's
    transaction. SQLite has one writer at a time already: its write lock is taken when the
    batch's transaction begins."""
    if store.backend.dialect != "postgres" or len(object_ids) == 0:
        return
    ids = pc.unique(object_ids).cast(pa.string()).to_pylist()
    # Ascending key order on every worker: two batches never wait on each other in a cycle.
    store.con.execute(
        "SELECT pg_advisory_xact_lock(k) FROM "
        "(SELECT DISTINCT hashtextextended(i, 0) AS k FROM unnest(%s::text[]) i ORDER BY k) s",
        (ids,),
    )


def _summaries(
    known: pa.Table,
    fresh: pa.Table,
    stored: pa.Table,
    todo: pa.Table,
    slow: pa.Table,
    layout: Layout,
) -> pa.Table:
    """The objects' summaries after the write: updated for covered objects, recomputed from
    what was read and written for the others."""
    parts = []
    if fresh.num_rows:
        parts.append(combine(known, summarise(fresh, layout), layout))
    if slow.num_rows:
        cols = stored.column_names
        written = todo.filter(pc.is_in(todo[layout.oid], value_set=pc.unique(slow[layout.oid])))
        written = written.select(cols)
        if stored.num_rows and written.num_rows:
            left = stored.append_column("_j", pa.array(np.arange(stored.num_rows)))
            hit = left.join(written.select(layout.key), keys=layout.key, join_type="left semi")
            keep = np.ones(stored.num_rows, dtype=bool)
            keep[hit["_j"].to_numpy()] = False
            stored = stored.filter(pa.array(keep))
        merged = pa.concat_tables([stored, written.cast(stored.schema)])
        parts.append(summarise(merged, layout))
    if not parts:
        return summarise(fresh, layout)
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def _state_types(layout: Layout) -> dict[str, pa.DataType]:
    types = {c.name: c.arrow_type for c in layout.table.columns if c.name == layout.oid}
    return {
        **types,
        "n_rows": pa.int64(),
        "set_hash": pa.int64(),
        "max_mjd": pa.float64(),
        "max_alert_mjd": pa.float64(),
        "max_alert_id": pa.int64(),
    }


def packet_rows(batch: AlertBatch, table: pa.Table, layout: Layout) -> pa.Table:
    """A batch light-curve table as archive rows, with each row's provenance and digest."""
    rows = table["row"]
    alerts = batch.alerts
    data = table.rename_columns([layout.oid if n == "object_id" else n for n in table.column_names])
    data = data.append_column("alert_mjd", alerts["mjd"].take(rows))
    data = data.append_column("alert_id", alerts["alert_id"].take(rows))
    data = data.select([c for c in layout.table.column_names if c in data.column_names])
    values = [c for c in layout.values if c in data.column_names]
    return data.append_column(DIGEST, pa.array(row_digest(data, values), pa.int64()))


def row_digest(table: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """A 64-bit hash of each row's values in ``columns`` (null and NaN hash alike)."""
    h = np.zeros(table.num_rows, dtype=np.uint64)
    for c in columns:
        h = _splitmix((h ^ _column_bits(table[c])) + _MIX[0])
    return h.view(np.int64)


def newest_per_key(rows: pa.Table, layout: Layout) -> pa.Table:
    """One row per key: the triggering candidate's own copy if the batch has it, else the
    newest packet's values, with the oldest packet of the newest run of packets carrying
    those same values (several alerts of one object in one batch)."""
    if rows.num_rows < 2:
        return rows
    ranked = rows.append_column("_own", pa.array(own_rows(rows, layout)))
    order = pc.sort_indices(ranked, [(c, "ascending") for c in (*layout.key, "_own", *PROVENANCE)])
    rows = rows.take(order)
    own = own_rows(rows, layout)
    n = rows.num_rows
    same_key = np.ones(n - 1, dtype=bool)
    for c in layout.key:
        same_key &= _equal_neighbours(_comparable(rows[c]))
    if not same_key.any():
        return rows
    digest = rows[DIGEST].to_numpy()
    same_values = same_key & (digest[1:] == digest[:-1])
    # A run of equal values starts wherever the key or the values change, and at an own
    # copy (ranked last of its key: it keeps its own provenance).
    starts = np.concatenate([[True], ~same_values]) | own
    run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    last = np.flatnonzero(np.concatenate([~same_key, [True]]))
    out = rows.take(pa.array(last))
    first = pa.array(run_start[last])
    for c in PROVENANCE:
        i = out.column_names.index(c)
        out = out.set_column(i, out.schema.field(c), rows[c].take(first))
    return out


def read_table(
    store: Store,
    table: str,
    oid: str,
    object_ids: pa.ChunkedArray,
    names: list[str],
    types: dict[str, pa.DataType],
    where: tuple[str, str] | None = None,
) -> pa.Table:
    """Columns ``names`` of ``table``'s rows of the given objects (and ``column = value``)."""
    ids = pc.unique(object_ids).to_pylist() if len(object_ids) else []
    if not ids:
        return pa.table({n: pa.array([], types[n]) for n in names})
    ph = store.backend.placeholder
    extra = f" AND {quote(where[0])} = {ph}" if where else ""
    tail = (where[1],) if where else ()
    if store.backend.dialect == "postgres":
        return _read_postgres(store, table, oid, ids, names, types, extra, tail)
    select = ", ".join(quote(c) for c in names)
    fetched: list[Sequence[Any]] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        cur = store.con.execute(
            f"SELECT {select} FROM {quote(table)} WHERE {quote(oid)} IN "
            f"({', '.join('?' * len(chunk))}){extra}",
            (*chunk, *tail),
        )
        fetched.extend(cur.fetchall())
    columns = list(zip(*fetched, strict=True)) if fetched else [() for _ in names]
    return pa.table(
        {name: pa.array(values, types[name]) for name, values in zip(names, columns, strict=True)}
    )


def _read_postgres(
    store: Store,
    table: str,
    oid: str,
    ids: list[Any],
    names: list[str],
    types: dict[str, pa.DataType],
    extra: str,
    tail: tuple[str, ...],
) -> pa.Table:
    """The rows as Arrow columns. The server writes them as one CSV text, parsed in columns
    by Arrow, not row by row in Python (floats print exactly, PostgreSQL 12 on)."""
    fields = []
    for name in names:
        q = quote(name)
        if types[name] == pa.string():
            fields.append(f"""'"' || replace({q}, '"', '""') || '"'""")
        else:
            fields.append(f"coalesce({q}::text, '')")
    line = " || ',' || ".join(fields)
    text = store.con.execute(
        f"SELECT string_agg({line}, E'\\n') FROM {quote(table)} "
        f"WHERE {quote(oid)} = ANY(%s){extra}",
        (ids, *tail),
    ).fetchone()[0]
    if not text:
        return pa.table({n: pa.array([], types[n]) for n in names})
    return pacsv.read_csv(
        io.BytesIO(text.encode()),
        read_options=pacsv.ReadOptions(column_names=names),
        convert_options=pacsv.ConvertOptions(column_types={n: types[n] for n in names}),
    )


def rows_to_write(rows: pa.Table, stored: pa.Table, layout: Layout) -> tuple[pa.Table, np.ndarray]:
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
    # Rows of an upgraded database have no digest: they count as changed.
    stored_digest = stored[DIGEST]
    has_digest = stored_digest.is_valid().to_numpy(zero_copy_only=False)[j]
    equal = has_digest & (
        rows[DIGEST].to_numpy()[i] == pc.fill_null(stored_digest, 0).to_numpy()[j]
    )
    in_own, st_own = own_rows(rows, layout)[i], own_rows(stored, layout)[j]
    by_age = ~in_own & ~st_own & ((newer & ~equal) | (older & equal))
    write = ~found | (in_own & ~st_own) | by_age
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
    changed = f"excluded.{quote(DIGEST)} {differs} {t}.{quote(DIGEST)}"
    written = (*layout.values, *PROVENANCE, DIGEST)
    sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in written)
    by_age = f"(({mine}) > ({theirs}) AND {changed}) OR (({mine}) < ({theirs}) AND NOT ({changed}))"
    head = f"ON CONFLICT ({', '.join(quote(c) for c in layout.key)}) DO UPDATE SET {sets} WHERE "
    if layout.own is None:
        return head + by_age
    ident, own = quote("alert_id"), quote(layout.own)
    in_own = f"(excluded.{ident} = excluded.{own})"
    st_own = f"COALESCE({t}.{ident} = {t}.{own}, FALSE)"
    return head + f"({in_own} AND NOT {st_own}) OR (NOT {in_own} AND NOT {st_own} AND ({by_age}))"


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * _MIX[1]
    x = (x ^ (x >> np.uint64(27))) * _MIX[2]
    return x ^ (x >> np.uint64(31))


def _column_bits(column: pa.ChunkedArray) -> np.ndarray:
    """64 bits standing for each value of a column; nulls and NaN give one fixed pattern."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        # Few distinct strings (bands): hash each once, with a hash fixed across processes.
        encoded = pc.dictionary_encode(column).combine_chunks()
        words = np.array(
            [zlib.crc32(v.encode()) for v in encoded.dictionary.to_pylist()] + [0xFFFFFFFF],
            dtype=np.uint64,
        )
        codes = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy()
        return words[codes]
    if pa.types.is_integer(column.type):
        return pc.fill_null(column.cast(pa.int64()), OLDEST[1]).to_numpy().view(np.uint64)
    values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)  # bool: exact here
    values = np.where(np.isnan(values), np.nan, values + 0.0)  # one NaN; -0.0 as 0.0
    return values.view(np.uint64)


def own_rows(table: pa.Table, layout: Layout) -> np.ndarray:
    """Which rows are the triggering candidate's own copy (their packet is their alert)."""
    if layout.own is None or table.num_rows == 0:
        return np.zeros(table.num_rows, dtype=bool)
    ident = pc.fill_null(table["alert_id"], OLDEST[1]).to_numpy()
    return np.asarray(ident == table[layout.own].to_numpy(), dtype=bool)


def _provenance(table: pa.Table, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mjd = pc.fill_null(table["alert_mjd"], OLDEST[0]).to_numpy()
    ident = pc.fill_null(table["alert_id"], OLDEST[1]).to_numpy()
    return mjd[idx], ident[idx]


def _comparable(column: pa.ChunkedArray) -> np.ndarray:
    """A key column as numpy values (nulls never occur in keys)."""
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return column.to_numpy(zero_copy_only=False)
    return np.asarray(column.to_pylist(), dtype=object)


def _equal_neighbours(values: np.ndarray) -> np.ndarray:
    return np.asarray(values[1:] == values[:-1], dtype=bool)
