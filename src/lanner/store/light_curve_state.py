"""What each object's stored light curve holds, summarised in one row per object and table,
so that a packet repeating stored history is recognised without reading the history back.

Input: a batch's light-curve rows (one per key, with provenance and digest, from
:mod:`lanner.store.light_curves`) and the ``light_curve_state`` rows of their objects.
Output: which objects' packets are covered by the summary, and the summaries after the
batch. Side effects: :func:`write_summaries` upserts ``light_curve_state`` rows.

A summary is: the number of stored rows, the XOR of a 64-bit hash of each row's (key,
digest), the latest ``mjd`` among them and the newest packet in their provenance. An
object's incoming rows are *covered* when those with ``mjd`` up to the summary's latest are
exactly the stored rows (same count, same XOR: a wrong match has odds of 2**-64) and none
comes from a packet older than a stored row's. Then, by the rule of
:mod:`lanner.store.light_curves`, those rows change nothing and are skipped, and the others
are new keys: the write costs what is new, whatever the history's length. A detection's own
copy arriving after history copies of it comes from an older packet than theirs, so its
object is never covered: the own copy is compared, and wins, one by one. Otherwise (an
object seen for the first time, a packet that no longer carries the object's oldest rows, an
older packet arriving late) the stored rows of that object are read and compared one by one,
and its summary is recomputed from them. Summaries are kept exact under concurrent writers by
the per-object locks the store takes before reading them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from lanner.store.database import Store
    from lanner.store.light_curves import Layout

STATE_TABLE = "light_curve_state"
SUMMARY = ("n_rows", "set_hash", "max_mjd", "max_alert_mjd", "max_alert_id")


def member_hashes(rows: pa.Table, layout: Layout) -> np.ndarray:
    """64-bit hash of each row's key and digest (a missing digest hashes as 0)."""
    from lanner.store.light_curves import DIGEST, row_digest

    key = row_digest(rows, layout.key).view(np.uint64)
    digest = pc.fill_null(rows[DIGEST], 0).to_numpy().view(np.uint64)
    return _mix(key ^ _mix(digest))


def covered(rows: pa.Table, summaries: pa.Table, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Per incoming row: skip it (covered and already stored), and whether its object is
    covered. ``rows`` are sorted by key, so each object's rows are contiguous."""
    n = rows.num_rows
    if n == 0 or summaries.num_rows == 0:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    at = pc.index_in(rows[layout.oid], value_set=summaries[layout.oid])
    known = at.is_valid().to_numpy(zero_copy_only=False)
    s = pc.fill_null(at, 0).to_numpy()
    col = {c: pc.fill_null(summaries[c], 0).to_numpy()[s] for c in SUMMARY}
    mjd = rows["mjd"].to_numpy()
    below = known & (mjd <= col["max_mjd"])
    a_mjd, a_id = rows["alert_mjd"].to_numpy(), rows["alert_id"].to_numpy()
    # Not older than any stored row's packet (the same packet again: a re-delivery).
    newer = (a_mjd > col["max_alert_mjd"]) | (
        (a_mjd == col["max_alert_mjd"]) & (a_id >= col["max_alert_id"])
    )
    starts, group = _groups(rows[layout.oid])
    hashes = np.where(below, member_hashes(rows, layout), np.uint64(0))
    count = np.add.reduceat(below.astype(np.int64), starts)
    xor = np.bitwise_xor.reduceat(hashes, starts)
    stale = np.add.reduceat((below & ~newer).astype(np.int64), starts)
    first = starts
    ok = (
        known[first]
        & (count == col["n_rows"][first])
        & (xor == col["set_hash"][first].view(np.uint64))
        & (stale == 0)
    )
    object_ok = ok[group]
    return object_ok & below, object_ok


def summarise(rows: pa.Table, layout: Layout) -> pa.Table:
    """The summary of each object's rows (``rows``: every stored row of those objects)."""
    if rows.num_rows == 0:
        return _empty(layout, rows.schema.field(layout.oid).type)
    order = pc.sort_indices(
        rows, [(layout.oid, "ascending"), ("alert_mjd", "ascending"), ("alert_id", "ascending")]
    )
    rows = rows.take(order)
    starts, _ = _groups(rows[layout.oid])
    ends = np.append(starts[1:], rows.num_rows) - 1
    hashes = member_hashes(rows, layout)
    mjd = rows["mjd"].to_numpy()
    low_mjd, low_id = -1.0e308, -(2**63)
    return pa.table(
        {
            layout.oid: rows[layout.oid].take(pa.array(starts)),
            "n_rows": pa.array(np.diff(np.append(starts, rows.num_rows)), pa.int64()),
            "set_hash": pa.array(np.bitwise_xor.reduceat(hashes, starts).view(np.int64)),
            "max_mjd": pa.array(np.maximum.reduceat(mjd, starts)),
            # Sorted by provenance within each object (nulls first): the last is the newest.
            "max_alert_mjd": pc.fill_null(rows["alert_mjd"], low_mjd).take(pa.array(ends)),
            "max_alert_id": pc.fill_null(rows["alert_id"], low_id).take(pa.array(ends)),
        }
    )


def combine(old: pa.Table, added: pa.Table, layout: Layout) -> pa.Table:
    """Summaries of covered objects after adding the (new-key) rows summarised in ``added``."""
    if added.num_rows == 0:
        return added
    at = pc.index_in(added[layout.oid], value_set=old[layout.oid]).to_numpy()
    n = old["n_rows"].to_numpy()[at] + added["n_rows"].to_numpy()
    h = old["set_hash"].to_numpy()[at] ^ added["set_hash"].to_numpy()
    mjd = np.maximum(old["max_mjd"].to_numpy()[at], added["max_mjd"].to_numpy())
    o_mjd, o_id = old["max_alert_mjd"].to_numpy()[at], old["max_alert_id"].to_numpy()[at]
    a_mjd, a_id = added["max_alert_mjd"].to_numpy(), added["max_alert_id"].to_numpy()
    newer = (a_mjd > o_mjd) | ((a_mjd == o_mjd) & (a_id > o_id))
    return pa.table(
        {
            layout.oid: added[layout.oid],
            "n_rows": pa.array(n, pa.int64()),
            "set_hash": pa.array(h, pa.int64()),
            "max_mjd": pa.array(mjd),
            "max_alert_mjd": pa.array(np.where(newer, a_mjd, o_mjd)),
            "max_alert_id": pa.array(np.where(newer, a_id, o_id), pa.int64()),
        }
    )


def write_summaries(store: Store, layout: Layout, summaries: pa.Table) -> None:
    """Upsert the summaries of ``layout``'s table (inside the open transaction)."""
    if summaries.num_rows == 0:
        return
    from lanner.store.ddl import quote

    data = summaries.append_column(
        "light_curve", pa.array([layout.table.name] * summaries.num_rows, pa.string())
    )
    cols = [layout.oid, "light_curve", *SUMMARY]
    sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in SUMMARY)
    tail = f"ON CONFLICT ({quote(layout.oid)}, light_curve) DO UPDATE SET {sets}"
    store.write_rows(STATE_TABLE, cols, data.select(cols), tail)


def _groups(oids: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Start of each run of equal ids (sorted input) and the run number of every row."""
    values = oids.to_numpy(zero_copy_only=False)
    change = np.ones(len(values), dtype=bool)
    change[1:] = values[1:] != values[:-1]
    return np.flatnonzero(change), np.cumsum(change) - 1


def _mix(x: np.ndarray) -> np.ndarray:
    from lanner.store.light_curves import _splitmix

    return _splitmix(x + np.uint64(0x9E3779B97F4A7C15))


def _empty(layout: Layout, oid_type: pa.DataType) -> pa.Table:
    return pa.table(
        {
            layout.oid: pa.array([], oid_type),
            "n_rows": pa.array([], pa.int64()),
            "set_hash": pa.array([], pa.int64()),
            "max_mjd": pa.array([], pa.float64()),
            "max_alert_mjd": pa.array([], pa.float64()),
            "max_alert_id": pa.array([], pa.int64()),
        }
    )
