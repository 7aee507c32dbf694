"""Store access for the sky-area stages: watchlists, watchmaps and multi-messenger maps.

Input: a :class:`~lanner.store.Store`. Output: object positions read in chunks (for the
retroactive matches) and record rows. Side effects: hit rows written (upserted, or
replaced for one watchlist / watchmap / map), records inserted (ids from the database's
identity columns), updated, expired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lanner.schema.registry import POSITION_COLUMNS, RECENCY_COLUMN
from lanner.store.database import Store
from lanner.store.ddl import quote
from lanner.surveys import OBJECT_ID_COLUMN

#: Objects read per chunk by :func:`object_chunks`.
SCAN_CHUNK = 200_000
#: ZTF recency (``jdmax``) is a Julian date; this turns it into MJD.
JD_TO_MJD = 2400000.5


@dataclass(frozen=True)
class ObjectChunk:
    """Stored objects: ids, positions [deg], latest detection [MJD], host distance [Mpc]."""

    ids: list[Any]
    ra: np.ndarray
    dec: np.ndarray
    last_mjd: np.ndarray
    distance: np.ndarray


def latest_mjd(survey: str, recency: np.ndarray) -> np.ndarray:
    """The latest detection [MJD] from the survey's recency column."""
    values = np.asarray(recency, dtype=np.float64)
    return values - JD_TO_MJD if survey == "ztf" else values


def object_chunks(
    store: Store,
    mjd_range: tuple[float, float] | None = None,
    chunk: int = SCAN_CHUNK,
    with_distance: bool = False,
) -> Iterator[ObjectChunk]:
    """Every stored object (or those whose latest detection is in ``mjd_range``), in chunks;
    ``with_distance`` adds the host distance of its sky context (else NaN)."""
    survey = store.survey or "ztf"
    oid = quote(OBJECT_ID_COLUMN[survey])
    ra, dec = (quote(c) for c in POSITION_COLUMNS[survey])
    rec = quote(RECENCY_COLUMN[survey])
    context = store.tables.get("sherlock_classifications")
    has_context = with_distance and context is not None and "distance" in context.column_names
    dist = "s.distance" if has_context else "NULL"
    join = f" LEFT JOIN sherlock_classifications s ON s.{oid} = o.{oid}" if has_context else ""
    sql = f"SELECT o.{oid}, o.{ra}, o.{dec}, o.{rec}, {dist} FROM objects o{join}"
    params: tuple[float, ...] = ()
    if mjd_range is not None:
        lo, hi = mjd_range
        if survey == "ztf":
            lo, hi = lo + JD_TO_MJD, hi + JD_TO_MJD
        ph = store.backend.placeholder
        sql += f" WHERE o.{rec} BETWEEN {ph} AND {ph}"
        params = (lo, hi)
    if store.backend.dialect == "postgres":
        cur = store.con.cursor(name="lanner_object_scan")
        cur.itersize = chunk
    else:
        cur = store.con.cursor()
    try:
        cur.execute(sql, params)
        while rows := cur.fetchmany(chunk):
            values = np.array([r[1:] for r in rows], dtype=np.float64).reshape(-1, 4)
            yield ObjectChunk(
                [r[0] for r in rows],
                values[:, 0],
                values[:, 1],
                latest_mjd(survey, values[:, 2]),
                values[:, 3],
            )
    finally:
        cur.close()
        store.con.commit()


def insert_record(
    store: Store, table: str, values: dict[str, Any], id_column: str, commit: bool = True
) -> int:
    """Insert one record row (every column but its id) and return the id the database gave
    it (an identity column, taken with ``INSERT … RETURNING``): two workers never take the
    same id, and the id of a deleted record is never given again."""
    cols = [c for c in values if c != id_column]
    ph = store.backend.placeholder
    try:
        row = store.con.execute(
            f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in cols)}) "
            f"VALUES ({', '.join([ph] * len(cols))}) RETURNING {quote(id_column)}",
            tuple(values[c] for c in cols),
        ).fetchone()
        if commit:
            store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    return int(row[0])


def upsert_rows(
    store: Store,
    table: str,
    cols: Sequence[str],
    rows: list[tuple[Any, ...]],
    key: Sequence[str],
    commit: bool = True,
) -> int:
    """Insert rows, replacing the other columns of rows whose ``key`` is stored."""
    if not rows:
        return 0
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in cols if c not in key)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    tail = f"ON CONFLICT ({', '.join(quote(c) for c in key)}) {action}"
    try:
        n = store._insert(table, list(cols), rows, tail)
        if commit:
            store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    return n


def insert_rows(store: Store, table: str, cols: Sequence[str], rows: list[tuple[Any, ...]]) -> int:
    """Insert new rows (keys not stored yet) without committing: a bulk load."""
    return store._insert(table, list(cols), rows, "") if rows else 0


def delete_where(store: Store, table: str, column: str, value: Any, commit: bool = True) -> None:
    """``DELETE FROM table WHERE column = value``."""
    ph = store.backend.placeholder
    store.con.execute(f"DELETE FROM {quote(table)} WHERE {quote(column)} = {ph}", (value,))
    if commit:
        store.con.commit()


def record_rows(
    store: Store, table: str, where: str = "", params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Rows of a record table as dicts (``where`` uses the backend's placeholders)."""
    cols = store.tables[table].column_names
    sql = f"SELECT {', '.join(quote(c) for c in cols)} FROM {quote(table)}"
    if where:
        sql += f" WHERE {where}"
    sql += f" ORDER BY {quote(cols[0])}"
    rows = store.con.execute(sql, tuple(params)).fetchall()
    store.con.commit()
    return [dict(zip(cols, r, strict=True)) for r in rows]


def update_row(
    store: Store, table: str, key: str, value: Any, changes: dict[str, Any], commit: bool = True
) -> None:
    """``UPDATE table SET ... WHERE key = value``."""
    ph = store.backend.placeholder
    sets = ", ".join(f"{quote(k)} = {ph}" for k in changes)
    store.con.execute(
        f"UPDATE {quote(table)} SET {sets} WHERE {quote(key)} = {ph}", (*changes.values(), value)
    )
    if commit:
        store.con.commit()


def expire_active(store: Store, table: str, key: str, now: dt.datetime) -> list[int]:
    """Deactivate the active rows of ``table`` whose ``expires`` is past; return their ids."""
    ph = store.backend.placeholder
    rows = store.con.execute(
        f"SELECT {quote(key)}, expires FROM {quote(table)} WHERE active = {ph}", (True,)
    ).fetchall()
    done = [int(k) for k, when in rows if when is not None and _as_time(when) <= now]
    for k in done:
        update_row(store, table, key, k, {"active": False, "modified": now.isoformat()}, False)
    store.con.commit()
    return done


def _as_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))
