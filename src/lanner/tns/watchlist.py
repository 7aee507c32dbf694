"""The TNS watchlist: one public, always-active watchlist of the TNS positions.

As in Lasair, objects reach ``crossmatch_tns`` through the hits of this watchlist
(``watchlist_hits.name = crossmatch_tns.tns_name``): the pipeline's sky-area step matches
each batch against it like any active watchlist, and the filter language joins through it
(:func:`lanner.filter.language.parse_lasair`, ``tns_watchlist_id``).

Input/output: the ``watchlists``, ``watchlist_cones`` and ``watchlist_hits`` rows of that
watchlist, owned by the user ``tns``. Cone ``k`` is the ``k``-th TNS name added (cones
are numbered 1, 2, ... without gaps, as the sky-area step numbers its hits); its name is
the TNS name without prefix. Side effects: rows written inside the caller's transaction
(nothing here commits, except :func:`ensure_tns_watchlist`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

import numpy as np

from lanner.sky_areas.cones import ConeIndex
from lanner.store import Store
from lanner.store.ddl import quote
from lanner.store.sky_areas import insert_record, object_chunks, update_row, upsert_rows

#: Owner and name of the TNS watchlist.
TNS_USER = "tns"
TNS_WATCHLIST = "TNS"
#: Rows per ``IN (...)`` list.
CHUNK = 5000


def tns_watchlist_id(store: Store) -> int | None:
    """Id of this database's TNS watchlist (None before the first TNS import)."""
    ph = store.backend.placeholder
    row = store.con.execute(
        "SELECT w.wl_id FROM watchlists w JOIN users u ON u.user_id = w.owner_id "
        f"WHERE u.username = {ph} AND w.name = {ph}",
        (TNS_USER, TNS_WATCHLIST),
    ).fetchone()
    store.con.commit()  # end the read transaction (PostgreSQL)
    return None if row is None else int(row[0])


def _tns_user(store: Store) -> int:
    ph = store.backend.placeholder
    row = store.con.execute(f"SELECT user_id FROM users WHERE username = {ph}", (TNS_USER,))
    found = row.fetchone()
    if found is not None:
        store.con.commit()
        return int(found[0])
    # The user only owns the watchlist: its key is made and forgotten (nobody logs in as it).
    key_hash = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
    made = store.add_user(TNS_USER, None, key_hash)
    if made is not None:
        return made
    return _tns_user(store)  # another process made it meanwhile


def ensure_tns_watchlist(store: Store, radius: float) -> tuple[int, bool]:
    """The TNS watchlist's id, made (public, active, never expiring) if missing, and whether
    its radius [arcsec] changed (every hit must then be computed again). Commits."""
    wl_id = tns_watchlist_id(store)
    now = dt.datetime.now(dt.UTC).isoformat()
    if wl_id is None:
        owner = _tns_user(store)
        record = {
            "owner_id": owner,
            "name": TNS_WATCHLIST,
            "description": "Transient Name Server positions (filled by lanner tns import)",
            "public": True,
            "active": True,
            "radius": float(radius),
            "created": now,
            "modified": now,
            "expires": None,
            "ncones": 0,
        }
        return insert_record(store, "watchlists", record, "wl_id"), False
    ph = store.backend.placeholder
    stored = store.con.execute(
        f"SELECT radius, active FROM watchlists WHERE wl_id = {ph}", (wl_id,)
    ).fetchone()
    store.con.commit()
    changes: dict[str, Any] = {}
    if not stored[1]:
        changes.update(active=True, expires=None)
    moved = stored[0] is None or abs(float(stored[0]) - radius) > 1e-9
    if moved:
        changes["radius"] = float(radius)
    if changes:
        update_row(store, "watchlists", "wl_id", wl_id, {**changes, "modified": now})
    return wl_id, moved


def cone_numbers(store: Store, wl_id: int) -> dict[str, int]:
    """TNS name -> cone number of every cone of the TNS watchlist."""
    ph = store.backend.placeholder
    rows = store.con.execute(
        f"SELECT name, cone_id FROM watchlist_cones WHERE wl_id = {ph}", (wl_id,)
    ).fetchall()
    store.con.commit()
    return {str(r[0]): int(r[1]) for r in rows}


def write_cones(
    store: Store,
    wl_id: int,
    numbers: dict[str, int],
    names: Sequence[str],
    ra: np.ndarray,
    dec: np.ndarray,
) -> dict[str, int]:
    """Add the cones of new names and move those of known ones; returns every name's cone
    number. Inside the caller's transaction."""
    numbers = dict(numbers)
    first = len(numbers) + 1
    rows = []
    for name, r, d in zip(names, ra.tolist(), dec.tolist(), strict=True):
        number = numbers.get(name)
        if number is None:
            number = first
            first += 1
            numbers[name] = number
        rows.append((wl_id, number, name, r, d, None))
    upsert_rows(
        store,
        "watchlist_cones",
        ["wl_id", "cone_id", "name", "ra", "decl", "radius"],
        rows,
        ["wl_id", "cone_id"],
        commit=False,
    )
    now = dt.datetime.now(dt.UTC).isoformat()
    update_row(
        store,
        "watchlists",
        "wl_id",
        wl_id,
        {"ncones": len(numbers), "modified": now},
        commit=False,
    )
    return numbers


def archive_hits(
    store: Store,
    wl_id: int,
    names: Sequence[str],
    numbers: Sequence[int],
    ra: np.ndarray,
    dec: np.ndarray,
    radius: float,
) -> list[tuple[Any, ...]]:
    """``watchlist_hits`` rows of the stored objects inside the given TNS cones [deg],
    radius [arcsec]. Reads the archive in chunks (commits its read transaction)."""
    if not len(names):
        return []
    index = ConeIndex(ra, dec, np.full(len(names), radius))
    rows: list[tuple[Any, ...]] = []
    for chunk in object_chunks(store):
        m = index.match(chunk.ra, chunk.dec)
        rows += [
            (chunk.ids[p], wl_id, numbers[c], round(s, 3), names[c])
            for p, c, s in zip(m.position.tolist(), m.cone.tolist(), m.arcsec.tolist(), strict=True)
        ]
    return rows


def objects_hit(store: Store, wl_id: int, names: Sequence[str]) -> list[Any]:
    """Objects with a hit of the TNS watchlist on one of ``names``. The TNS hits are few
    (matched objects only), so they are read whole and the names looked up in a set."""
    if not names:
        return []
    wanted = set(names)
    return list(dict.fromkeys(o for o, name in hit_names(store, wl_id) if name in wanted))


def hit_names(store: Store, wl_id: int) -> list[tuple[Any, str]]:
    """(object, TNS name) of every hit of the TNS watchlist."""
    oid = quote(store.object_id_column)
    ph = store.backend.placeholder
    rows = store.con.execute(
        f"SELECT {oid}, name FROM watchlist_hits WHERE wl_id = {ph}", (wl_id,)
    ).fetchall()
    return [(r[0], str(r[1])) for r in rows]


def objects_hit_any(store: Store, wl_id: int) -> list[Any]:
    """Every object with a hit of the TNS watchlist."""
    oid = quote(store.object_id_column)
    ph = store.backend.placeholder
    rows = store.con.execute(
        f"SELECT DISTINCT {oid} FROM watchlist_hits WHERE wl_id = {ph}", (wl_id,)
    ).fetchall()
    store.con.commit()
    return [r[0] for r in rows]


def upsert_hits(store: Store, oid: str, hits: list[tuple[Any, ...]]) -> None:
    """Write ``watchlist_hits`` rows (object, wl_id, cone_id, arcsec, name). Inside the
    caller's transaction."""
    upsert_rows(
        store,
        "watchlist_hits",
        [oid, "wl_id", "cone_id", "arcsec", "name"],
        hits,
        [oid, "wl_id", "cone_id"],
        commit=False,
    )


def delete_hits(store: Store, wl_id: int, names: Sequence[str] | None) -> None:
    """Delete the TNS hits on ``names`` (all of them when None). Inside the transaction."""
    ph = store.backend.placeholder
    if names is None:
        store.con.execute(f"DELETE FROM watchlist_hits WHERE wl_id = {ph}", (wl_id,))
        return
    wanted = set(names)
    hit = sorted({name for _, name in hit_names(store, wl_id) if name in wanted})
    for start in range(0, len(hit), CHUNK):
        part = hit[start : start + CHUNK]
        store.con.execute(
            f"DELETE FROM watchlist_hits WHERE wl_id = {ph} AND name IN "
            f"({', '.join([ph] * len(part))})",
            (wl_id, *part),
        )


def nearest_names(store: Store, wl_id: int, ids: Sequence[Any]) -> dict[Any, str]:
    """``prefix name`` (e.g. ``SN 2020oi``) of the nearest TNS entry of each object that has
    one among ``ids``."""
    oid = quote(store.object_id_column)
    ph = store.backend.placeholder
    best: dict[Any, tuple[float, str]] = {}
    for start in range(0, len(ids), CHUNK):
        part = list(ids[start : start + CHUNK])
        rows = store.con.execute(
            f"SELECT h.{oid}, h.arcsec, t.tns_prefix, t.tns_name FROM watchlist_hits h "
            "JOIN crossmatch_tns t ON t.tns_name = h.name "
            f"WHERE h.wl_id = {ph} AND h.{oid} IN ({', '.join([ph] * len(part))})",
            (wl_id, *part),
        ).fetchall()
        for object_id, arcsec, prefix, name in rows:
            full = f"{prefix} {name}" if prefix else str(name)
            key = (float(arcsec if arcsec is not None else 0.0), full)
            if object_id not in best or key < best[object_id]:
                best[object_id] = key
    return {k: v[1] for k, v in best.items()}


def set_tns_names(store: Store, names: dict[Any, str | None]) -> int:
    """Write ``objects.tns_name`` (a Rubin objects column; ZTF's objects table has none).
    Inside the caller's transaction; returns the rows given."""
    if "tns_name" not in store.tables["objects"].column_names or not names:
        return 0
    oid = quote(store.object_id_column)
    ph = store.backend.placeholder
    cur = store.con.cursor()
    try:
        cur.executemany(
            f"UPDATE objects SET tns_name = {ph} WHERE {oid} = {ph}",
            [(name, object_id) for object_id, name in names.items()],
        )
    finally:
        cur.close()
    return len(names)
