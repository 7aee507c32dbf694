"""Keep the database's copy of the TNS up to date from a public objects file.

Input: a store, the rows of a TNS file (:mod:`lanner.tns.csv_file`), the association
radius [arcsec]. Output: an :class:`ImportReport`. Side effects, in one transaction:
``crossmatch_tns`` rows upserted by TNS name (only new or changed ones are written); the
TNS watchlist's cones added or moved (:mod:`lanner.tns.watchlist`); the archive's objects
inside new or moved cones added to ``watchlist_hits`` (a retroactive match, in columns);
``objects.tns_name`` (``prefix name``, e.g. ``SN 2020oi``) set for the objects whose TNS
match changed. Then, for the objects matched to entries whose prefix changed (``AT`` to
``SN``: a classification), the ``rerun`` callback runs the active filters that read
``crossmatch_tns`` (``Pipeline.rerun_tns``), which records their matches for delivery.

A row is changed when its prefix, type, redshift, position or ``lastmodified`` differs
from the stored one; names absent from a file are kept (TNS does not withdraw names).
Changing the radius recomputes every TNS hit.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from lanner.store import Store
from lanner.store.ddl import quote
from lanner.tns import watchlist as wl
from lanner.tns.csv_file import TnsRows

log = logging.getLogger(__name__)

#: Above this many names in a file, the whole stored copy is read at once.
READ_ALL = 20_000

#: Called with the objects matched to reclassified entries; returns the matches recorded.
Rerun = Callable[[Sequence[Any]], int]


@dataclass
class ImportReport:
    """What one import did."""

    read: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    repeated: int = 0
    new: int = 0
    changed: int = 0
    reclassified: int = 0
    moved: int = 0
    unchanged: int = 0
    #: ``watchlist_hits`` rows found by the retroactive match.
    hits: int = 0
    #: Objects whose ``objects.tns_name`` was written.
    objects_named: int = 0
    #: Objects the filters reading ``crossmatch_tns`` ran again for, and their matches.
    rerun_objects: int = 0
    rerun_matches: int = 0
    seconds: float = 0.0
    timestamp: str | None = None


def _stored(store: Store, names: list[str]) -> pa.Table:
    """The stored rows of ``names`` (all rows for a big file): name, prefix, type, z,
    position and ``lastmodified`` [Unix s]."""
    cols = ["tns_name", "tns_prefix", "type", "z", "ra", "decl", "lastmodified_date"]
    select = f"SELECT {', '.join(quote(c) for c in cols)} FROM crossmatch_tns"
    ph = store.backend.placeholder
    rows: list[tuple[Any, ...]] = []
    if len(names) > READ_ALL:
        rows = store.con.execute(select).fetchall()
    else:
        for start in range(0, len(names), wl.CHUNK):
            part = names[start : start + wl.CHUNK]
            rows += store.con.execute(
                f"{select} WHERE tns_name IN ({', '.join([ph] * len(part))})", tuple(part)
            ).fetchall()
    store.con.commit()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(cols)
    modified = [_epoch(v) for v in columns[6]]
    return pa.table(
        {
            "tns_name": pa.array(columns[0], pa.string()),
            "tns_prefix": pa.array(columns[1], pa.string()),
            "type": pa.array(columns[2], pa.string()),
            "z": pa.array(columns[3], pa.float64()),
            "ra": pa.array(columns[4], pa.float64()),
            "decl": pa.array(columns[5], pa.float64()),
            "modified": pa.array(modified, pa.float64()),
        }
    )


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return dt.datetime.fromisoformat(str(value)).timestamp()


def _compare(incoming: pa.Table, stored: pa.Table) -> pa.Table:
    """Per incoming row (in its order): new, moved, reclassified, write (anything
    differs)."""
    con = duckdb.connect()
    try:
        mine = incoming.select(list(stored.column_names[:6]))
        mine = mine.append_column("modified_text", incoming["lastmodified_date"])
        mine = mine.append_column("_row", pa.array(np.arange(incoming.num_rows)))
        con.register("incoming", mine)
        con.register("stored", stored)
        return con.sql(
            """
            SELECT i.tns_name, i.tns_prefix, i.ra, i.decl,
                s.tns_name IS NULL AS is_new,
                s.tns_name IS NOT NULL
                    AND (abs(i.ra - s.ra) > 1e-9 OR abs(i.decl - s.decl) > 1e-9) AS moved,
                s.tns_name IS NOT NULL AND i.tns_prefix IS DISTINCT FROM s.tns_prefix
                    AS reclassified,
                s.tns_name IS NULL
                    OR i.tns_prefix IS DISTINCT FROM s.tns_prefix
                    OR i.type IS DISTINCT FROM s.type
                    OR i.z IS DISTINCT FROM s.z
                    OR abs(i.ra - s.ra) > 1e-9 OR abs(i.decl - s.decl) > 1e-9
                    OR coalesce(abs(epoch(TRY_CAST(i.modified_text AS TIMESTAMP)) - s.modified)
                        > 1e-3, (i.modified_text IS NULL) <> (s.modified IS NULL)) AS write
            FROM incoming i LEFT JOIN stored s ON s.tns_name = i.tns_name
            ORDER BY i._row
            """
        ).to_arrow_table()
    finally:
        con.close()


def _mask(status: pa.Table, column: str) -> np.ndarray:
    return np.asarray(status[column].to_numpy(zero_copy_only=False), dtype=bool)


def import_tns(
    store: Store, rows: TnsRows, *, radius: float, rerun: Rerun | None = None
) -> ImportReport:
    """Upsert a TNS file's rows, associate them with the archive, re-run filters for the
    reclassified (see the module docstring)."""
    start = time.perf_counter()
    report = ImportReport(
        read=rows.read, rejected=rows.rejected, repeated=rows.repeated, timestamp=rows.timestamp
    )
    for reason, n in rows.rejected.items():
        log.warning("TNS file: %d rows set aside: %s", n, reason, extra={"reason": reason})
    wl_id, radius_changed = wl.ensure_tns_watchlist(store, radius)
    incoming = rows.table
    names = incoming["tns_name"].to_pylist()
    status = _compare(incoming, _stored(store, names))
    new, moved = _mask(status, "is_new"), _mask(status, "moved")
    reclassified, write = _mask(status, "reclassified"), _mask(status, "write")
    report.new, report.moved = int(new.sum()), int(moved.sum())
    report.reclassified = int(reclassified.sum())
    report.changed = int(write.sum()) - report.new
    report.unchanged = len(names) - int(write.sum())
    s_names = status["tns_name"].to_pylist()
    s_ra = status["ra"].to_numpy(zero_copy_only=False)
    s_dec = status["decl"].to_numpy(zero_copy_only=False)
    numbers = wl.cone_numbers(store, wl_id)
    placed = new | moved
    placed_names = [n for n, p in zip(s_names, placed.tolist(), strict=True) if p]
    # Cone numbers of the cones to write (new ones numbered after the stored ones).
    after = dict(numbers)
    for name in placed_names:
        after.setdefault(name, len(after) + 1)
    if radius_changed:  # every cone, stored or new, is matched again
        match_names, match_ra, match_dec = _all_cones(store, wl_id, s_names, s_ra, s_dec, placed)
    else:
        match_names = placed_names
        match_ra, match_dec = s_ra[placed], s_dec[placed]
    hits = wl.archive_hits(
        store, wl_id, match_names, [after[n] for n in match_names], match_ra, match_dec, radius
    )
    report.hits = len(hits)
    lost = wl.objects_hit(store, wl_id, [n for n, m in zip(s_names, moved, strict=True) if m])
    if radius_changed:
        lost = wl.objects_hit_any(store, wl_id)
    relabelled_names = [n for n, w in zip(s_names, write.tolist(), strict=True) if w]
    relabelled = wl.objects_hit(store, wl_id, relabelled_names)
    reclassified_names = [n for n, r in zip(s_names, reclassified.tolist(), strict=True) if r]
    to_rerun = wl.objects_hit(store, wl_id, reclassified_names)
    oid = store.object_id_column
    try:
        changed_rows = incoming.filter(pa.array(write))
        now = dt.datetime.now(dt.UTC).isoformat()
        changed_rows = changed_rows.append_column(
            "lasairmodified_date", pa.array([now] * changed_rows.num_rows, pa.string())
        )
        cols = changed_rows.column_names
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in cols if c != "tns_name")
        store.write_rows(
            "crossmatch_tns",
            cols,
            changed_rows,
            f'ON CONFLICT ("tns_name") DO UPDATE SET {updates}',
        )
        if placed_names:
            wl.write_cones(store, wl_id, numbers, placed_names, s_ra[placed], s_dec[placed])
        wl.delete_hits(store, wl_id, None if radius_changed else match_names)
        wl.upsert_hits(store, oid, hits)
        affected = list(dict.fromkeys([*lost, *relabelled, *(h[0] for h in hits)]))
        nearest = wl.nearest_names(store, wl_id, affected)
        report.objects_named = wl.set_tns_names(store, {o: nearest.get(o) for o in affected})
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    if rerun is not None and to_rerun:
        report.rerun_objects = len(to_rerun)
        report.rerun_matches = rerun(to_rerun)
    report.seconds = round(time.perf_counter() - start, 3)
    return report


def _all_cones(
    store: Store,
    wl_id: int,
    names: list[str],
    ra: np.ndarray,
    dec: np.ndarray,
    placed: np.ndarray,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Every cone after this import: the stored ones, with the file's positions winning."""
    ph = store.backend.placeholder
    rows = store.con.execute(
        f"SELECT name, ra, decl FROM watchlist_cones WHERE wl_id = {ph}", (wl_id,)
    ).fetchall()
    store.con.commit()
    position = {str(r[0]): (float(r[1]), float(r[2])) for r in rows}
    for n, r, d, p in zip(names, ra.tolist(), dec.tolist(), placed.tolist(), strict=True):
        if p:
            position[n] = (r, d)
    keys = list(position)
    values = np.array([position[k] for k in keys], dtype=np.float64).reshape(-1, 2)
    return keys, values[:, 0], values[:, 1]
