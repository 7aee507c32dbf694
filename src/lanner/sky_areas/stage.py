"""The pipeline's sky-area step: each stored batch against every active watchlist, watchmap
and multi-messenger map, before the filters run.

Input: an enriched batch already written to the store. Output: the hit counts per table.
Side effects: expired watchlists and watchmaps are deactivated; the batch's hits are
upserted into ``watchlist_hits``, ``area_hits`` and ``mma_area_hits`` (one transaction);
the same hits, and the ``mma_areas`` rows, are put in ``batch.kit`` so the filters see
this batch's hits.

Each object is matched once, at the position of its newest alert in the batch (the row the
filters see). Cone indexes, MOCs and map regions are built once and kept until their
watchlist, watchmap or map changes (its ``modified`` time, or a new map version).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
from mocpy import MOC

from lanner.batch import AlertBatch, newest_rows
from lanner.schema.registry import POSITION_COLUMNS, RECENCY_COLUMN
from lanner.sky_areas import mma, watchlists, watchmaps
from lanner.store import Store
from lanner.store.sky_areas import expire_active, latest_mjd, record_rows, upsert_rows

HIT_TABLES = ("watchlist_hits", "area_hits", "mma_area_hits")


class SkyAreaStage:
    """Matches batches against the active sky areas of one store; keeps their indexes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cones: dict[int, watchlists.LoadedWatchlist] = {}
        self._mocs: dict[int, tuple[str | None, MOC]] = {}
        self._maps: dict[int, mma.ActiveMap] = {}

    def run(self, batch: AlertBatch, now: dt.datetime | None = None) -> dict[str, int]:
        """Match ``batch``; return the number of hits per table."""
        store = self.store
        moment = now or dt.datetime.now(dt.UTC)
        expire_active(store, "watchlists", "wl_id", moment)
        expire_active(store, "watchmaps", "ar_id", moment)
        survey = batch.survey
        objects = batch.enriched["objects"]
        recency = objects[RECENCY_COLUMN[survey]].to_numpy(zero_copy_only=False)
        rows = newest_rows(batch, recency.astype(np.float64))
        ids = batch.alerts["object_id"].take(pa.array(rows)).to_pylist()
        ra_col, dec_col = POSITION_COLUMNS[survey]
        ra = _floats(objects[ra_col], rows)
        dec = _floats(objects[dec_col], rows)
        last = latest_mjd(survey, recency.astype(np.float64)[rows])
        context = batch.enriched.get("sherlock_classifications")
        host = (
            _floats(context["distance"], rows)
            if context is not None and "distance" in context.column_names
            else np.full(len(rows), np.nan)
        )
        hits: dict[str, list[tuple[Any, ...]]] = {name: [] for name in HIT_TABLES}
        active_lists = watchlists.active_watchlists(store)
        active_maps = watchmaps.active_watchmaps(store)
        # Forget the indexes of watchlists and watchmaps no longer active.
        self._cones = {
            w.wl_id: self._cones[w.wl_id] for w in active_lists if w.wl_id in self._cones
        }
        self._mocs = {m.ar_id: self._mocs[m.ar_id] for m in active_maps if m.ar_id in self._mocs}
        for wl in active_lists:
            hits["watchlist_hits"] += self._watchlist(wl).hit_rows(ids, ra, dec)
        for wm in active_maps:
            inside = np.flatnonzero(watchmaps.moc_contains(self._moc(wm), ra, dec))
            hits["area_hits"] += [(ids[i], wm.ar_id) for i in inside.tolist()]
        for sky in mma.active_maps(store, self._maps):
            hits["mma_area_hits"] += mma.hit_rows(
                sky.mw_id, sky.region, sky.event_mjd, ids, ra, dec, last, host
            )
        self._write(hits)
        tables = store.tables
        for name, found in hits.items():
            columns = tables[name].column_names
            batch.kit[name] = _arrow(tables[name].arrow_schema(), columns, found)
        areas = record_rows(store, "mma_areas")
        schema = tables["mma_areas"].arrow_schema()
        batch.kit["mma_areas"] = pa.Table.from_pylist(
            [_stamped(r, schema) for r in areas], schema=schema
        )
        return {name: len(found) for name, found in hits.items()}

    def _watchlist(self, wl: watchlists.Watchlist) -> watchlists.LoadedWatchlist:
        loaded = self._cones.get(wl.wl_id)
        if loaded is None or loaded.modified != wl.modified:
            loaded = watchlists.load_watchlist(self.store, wl)
            self._cones[wl.wl_id] = loaded
        return loaded

    def _moc(self, wm: watchmaps.Watchmap) -> MOC:
        known = self._mocs.get(wm.ar_id)
        if known is None or known[0] != wm.modified:
            known = (wm.modified, watchmaps.load_moc(self.store, wm))
            self._mocs[wm.ar_id] = known
        return known[1]

    def _write(self, hits: dict[str, list[tuple[Any, ...]]]) -> None:
        store = self.store
        oid = store.object_id_column
        keys = {
            "watchlist_hits": [oid, "wl_id", "cone_id"],
            "area_hits": [oid, "ar_id"],
            "mma_area_hits": ["mw_id", oid],
        }
        try:
            for name, rows in hits.items():
                cols = store.tables[name].column_names
                upsert_rows(store, name, cols, rows, keys[name], commit=False)
            store.con.commit()
        except BaseException:
            store.con.rollback()
            raise


def _floats(column: pa.ChunkedArray, rows: np.ndarray) -> np.ndarray:
    values = column.take(pa.array(rows)).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)


def _arrow(schema: pa.Schema, columns: list[str], rows: list[tuple[Any, ...]]) -> pa.Table:
    data = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in columns]
    return pa.Table.from_arrays(
        [pa.array(d, type=schema.field(n).type) for n, d in zip(columns, data, strict=True)],
        schema=schema,
    )


def _stamped(row: dict[str, Any], schema: pa.Schema) -> dict[str, Any]:
    """A record row in Arrow's types (SQLite keeps timestamps as text, booleans as 0/1)."""
    out = dict(row)
    for f in schema:
        if pa.types.is_timestamp(f.type) and isinstance(out.get(f.name), str):
            out[f.name] = dt.datetime.fromisoformat(out[f.name])
        elif pa.types.is_boolean(f.type) and out.get(f.name) is not None:
            out[f.name] = bool(out[f.name])
    return out
