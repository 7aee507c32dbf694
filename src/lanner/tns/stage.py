"""The pipeline's TNS step: what the TNS watchlist's hits of a batch mean for its filters.

Input: a stored batch whose sky-area step has run (``batch.kit["watchlist_hits"]`` holds
this batch's hits, the TNS watchlist's among them). Output: the number of objects matched
to a TNS entry. Side effects: ``objects.tns_name`` (``prefix name``, nearest entry) written
for those objects, in the store and in the batch's ``objects`` table; the matched
``crossmatch_tns`` rows put in ``batch.kit`` so filters naming ``crossmatch_tns`` see them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import AlertBatch
from lanner.store import Store
from lanner.store.ddl import quote
from lanner.tns import watchlist as wl


class TnsStage:
    """Links a batch's objects to their TNS entries (one query per batch when any match)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def run(self, batch: AlertBatch) -> int:
        """Fill ``crossmatch_tns`` in ``batch.kit`` and ``tns_name``; return objects matched."""
        store = self.store
        table = store.tables["crossmatch_tns"]
        batch.kit["crossmatch_tns"] = table.arrow_schema().empty_table()
        hits = batch.kit.get("watchlist_hits")
        if hits is None or hits.num_rows == 0:
            return 0
        wl_id = wl.tns_watchlist_id(store)
        if wl_id is None:
            return 0
        oid = store.object_id_column
        mine = hits.filter(pc.equal(hits["wl_id"], wl_id))
        if mine.num_rows == 0:
            return 0
        names = pc.unique(mine["name"]).to_pylist()
        rows = self._entries(names)
        schema = table.arrow_schema()
        batch.kit["crossmatch_tns"] = pa.Table.from_pylist(
            [_typed(r, schema) for r in rows], schema=schema
        )
        prefix = {r["tns_name"]: r["tns_prefix"] for r in rows}
        order = np.lexsort(
            (
                mine["arcsec"].to_numpy(zero_copy_only=False),
                pc.rank(mine[oid], sort_keys="ascending", tiebreaker="dense").to_numpy(),
            )
        )
        nearest: dict[Any, str] = {}
        for object_id, name in zip(
            mine[oid].take(pa.array(order)).to_pylist(),
            mine["name"].take(pa.array(order)).to_pylist(),
            strict=True,
        ):
            if object_id not in nearest and name in prefix:
                p = prefix[name]
                nearest[object_id] = f"{p} {name}" if p else str(name)
        if not nearest:
            return 0
        try:
            wl.set_tns_names(store, dict(nearest))
            store.con.commit()
        except BaseException:
            store.con.rollback()
            raise
        self._name_batch(batch, nearest)
        return len(nearest)

    def _entries(self, names: list[str]) -> list[dict[str, Any]]:
        store = self.store
        cols = store.tables["crossmatch_tns"].column_names
        ph = store.backend.placeholder
        rows: list[dict[str, Any]] = []
        for start in range(0, len(names), wl.CHUNK):
            part = names[start : start + wl.CHUNK]
            found = store.con.execute(
                f"SELECT {', '.join(quote(c) for c in cols)} FROM crossmatch_tns "
                f"WHERE tns_name IN ({', '.join([ph] * len(part))})",
                tuple(part),
            ).fetchall()
            rows += [dict(zip(cols, r, strict=True)) for r in found]
        store.con.commit()
        return rows

    @staticmethod
    def _name_batch(batch: AlertBatch, nearest: dict[Any, str]) -> None:
        objects = batch.enriched.get("objects")
        if objects is None or "tns_name" not in objects.column_names:
            return
        keys = list(nearest)
        at = pc.index_in(batch.alerts["object_id"], value_set=pa.array(keys))
        named = pa.array([nearest[k] for k in keys], pa.string()).take(at)
        column = pc.coalesce(named, objects["tns_name"].combine_chunks().cast(pa.string()))
        i = objects.column_names.index("tns_name")
        batch.enriched["objects"] = objects.set_column(i, "tns_name", column)


def _typed(row: dict[str, Any], schema: pa.Schema) -> dict[str, Any]:
    """A stored row in Arrow's types (SQLite keeps timestamps as text)."""
    out = dict(row)
    for f in schema:
        value = out.get(f.name)
        if pa.types.is_timestamp(f.type) and isinstance(value, str):
            out[f.name] = dt.datetime.fromisoformat(value)
    return out
