"""Watchlists: named lists of cones that users own, and their matches with objects.

Input/output: rows of ``watchlists``, ``watchlist_cones`` and ``watchlist_hits``. A new
watchlist is stored with its cones in one transaction and then matched against the whole
archive (every stored object, in chunks, through a :class:`~lanner.sky_areas.cones.ConeIndex`);
the pipeline matches each batch against the active ones
(:mod:`lanner.sky_areas.stage`). An active watchlist stops :data:`ACTIVE_DAYS` after it was
activated or renewed, as filters do.

A cone's radius is its own when the file gives one, else the watchlist's default
(``radius``); both are at most 1,800 arcsec.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from lanner.filter.errors import FilterError
from lanner.filter.saved import ACTIVE_DAYS
from lanner.filter.users import ensure_local_user
from lanner.sky_areas.cone_files import MAX_RADIUS, Cones
from lanner.sky_areas.cones import ConeIndex
from lanner.store import Store
from lanner.store.sky_areas import (
    delete_where,
    insert_record,
    insert_rows,
    object_chunks,
    record_rows,
    update_row,
    upsert_rows,
)

#: Default cone radius when neither the file nor the command gives one [arcsec].
DEFAULT_RADIUS = 5.0


class WatchlistError(FilterError):
    """A watchlist request that cannot be done, with what to do instead."""


@dataclass(frozen=True)
class Watchlist:
    """One row of ``watchlists``."""

    wl_id: int
    owner_id: int
    name: str
    description: str
    public: bool
    active: bool
    radius: float
    ncones: int
    created: str | None
    expires: str | None
    modified: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Watchlist:
        return cls(
            wl_id=int(row["wl_id"]),
            owner_id=int(row["owner_id"]),
            name=row["name"],
            description=row["description"] or "",
            public=bool(row["public"]),
            active=bool(row["active"]),
            radius=float(row["radius"]),
            ncones=int(row["ncones"] or 0),
            created=_text(row["created"]),
            expires=_text(row["expires"]),
            modified=_text(row["modified"]),
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _expiry(active: bool, now: dt.datetime) -> str | None:
    return (now + dt.timedelta(days=ACTIVE_DAYS)).isoformat() if active else None


def add_watchlist(
    store: Store,
    name: str,
    cones: Cones,
    *,
    radius: float = DEFAULT_RADIUS,
    owner_id: int | None = None,
    public: bool = False,
    active: bool = False,
    description: str = "",
) -> tuple[Watchlist, int]:
    """Store a watchlist and its cones, then match it against the archive.

    Returns the watchlist and the number of archived objects inside its cones.
    """
    owner = owner_id if owner_id is not None else ensure_local_user(store)
    if not name.strip():
        raise WatchlistError("a watchlist needs a name")
    if not 0 < radius <= MAX_RADIUS:
        raise WatchlistError(f"the default radius must be in (0, {MAX_RADIUS:g}] arcsec")
    ph = store.backend.placeholder
    if store.con.execute(
        f"SELECT 1 FROM watchlists WHERE owner_id = {ph} AND name = {ph}", (owner, name)
    ).fetchone():
        raise WatchlistError(
            f"you already have a watchlist named {name!r}",
            None,
            "choose another name, or delete that one",
        )
    now = _now()
    record = {
        "owner_id": owner,
        "name": name,
        "description": description,
        "public": public,
        "active": active,
        "radius": float(radius),
        "created": now.isoformat(),
        "modified": now.isoformat(),
        "expires": _expiry(active, now),
        "ncones": len(cones),
    }
    radii: list[float | None] = [None if np.isnan(r) else float(r) for r in cones.radius]
    try:
        wl_id = insert_record(store, "watchlists", record, "wl_id", commit=False)
        rows = list(
            zip(
                [wl_id] * len(cones),
                range(1, len(cones) + 1),
                cones.name,
                cones.ra.tolist(),
                cones.dec.tolist(),
                radii,
                strict=True,
            )
        )
        insert_rows(
            store, "watchlist_cones", ["wl_id", "cone_id", "name", "ra", "decl", "radius"], rows
        )
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    watchlist = get_watchlist(store, wl_id)
    radius_of = np.where(np.isnan(cones.radius), watchlist.radius, cones.radius)
    index = ConeIndex(cones.ra, cones.dec, radius_of)
    loaded = LoadedWatchlist(wl_id, watchlist.modified, index, list(cones.name))
    return watchlist, match_archive(store, watchlist, loaded)


@dataclass(frozen=True)
class LoadedWatchlist:
    """A watchlist's cones, indexed for matching."""

    wl_id: int
    modified: str | None
    index: ConeIndex
    names: list[str]

    def hit_rows(self, ids: list[Any], ra: np.ndarray, dec: np.ndarray) -> list[tuple[Any, ...]]:
        """``watchlist_hits`` rows (object, wl_id, cone_id, arcsec, name) of positions."""
        m = self.index.match(ra, dec)
        return [
            (ids[p], self.wl_id, int(c) + 1, round(float(s), 3), self.names[c])
            for p, c, s in zip(m.position.tolist(), m.cone.tolist(), m.arcsec.tolist(), strict=True)
        ]


def load_watchlist(store: Store, wl: Watchlist) -> LoadedWatchlist:
    """Read a watchlist's cones and build their index (per-cone radius, else default)."""
    ph = store.backend.placeholder
    rows = store.con.execute(
        f"SELECT cone_id, name, ra, decl, radius FROM watchlist_cones WHERE wl_id = {ph} "
        "ORDER BY cone_id",
        (wl.wl_id,),
    ).fetchall()
    store.con.commit()
    values = np.array(
        [(r[2], r[3], np.nan if r[4] is None else r[4]) for r in rows], dtype=np.float64
    ).reshape(-1, 3)
    radius = np.where(np.isnan(values[:, 2]), wl.radius, values[:, 2])
    names = [r[1] or "" for r in rows]
    return LoadedWatchlist(
        wl.wl_id, wl.modified, ConeIndex(values[:, 0], values[:, 1], radius), names
    )


def match_archive(store: Store, wl: Watchlist, loaded: LoadedWatchlist | None = None) -> int:
    """Replace a watchlist's hits by its matches with every stored object; return how many.

    ``loaded``: the watchlist's index when the caller has it (else it is read back)."""
    loaded = loaded if loaded is not None else load_watchlist(store, wl)
    rows: list[tuple[Any, ...]] = []
    for chunk in object_chunks(store):
        rows += loaded.hit_rows(chunk.ids, chunk.ra, chunk.dec)
    oid = store.object_id_column
    try:
        delete_where(store, "watchlist_hits", "wl_id", wl.wl_id, commit=False)
        upsert_rows(
            store,
            "watchlist_hits",
            [oid, "wl_id", "cone_id", "arcsec", "name"],
            rows,
            [oid, "wl_id", "cone_id"],
            commit=False,
        )
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    return len(rows)


def get_watchlist(store: Store, wl_id: int) -> Watchlist:
    ph = store.backend.placeholder
    rows = record_rows(store, "watchlists", f"wl_id = {ph}", (wl_id,))
    if not rows:
        raise WatchlistError(f"no watchlist with id {wl_id}", None, "see: lanner watchlist list")
    return Watchlist.from_row(rows[0])


def find_watchlist(store: Store, ref: str, owner_id: int | None = None) -> Watchlist:
    """A watchlist by id, or by name among ``owner_id``'s (default: the local user's)."""
    if ref.isdigit():
        return get_watchlist(store, int(ref))
    owner = owner_id if owner_id is not None else ensure_local_user(store)
    ph = store.backend.placeholder
    rows = record_rows(store, "watchlists", f"owner_id = {ph} AND name = {ph}", (owner, ref))
    if not rows:
        raise WatchlistError(f"no watchlist named {ref!r}", None, "see: lanner watchlist list")
    return Watchlist.from_row(rows[0])


def list_watchlists(store: Store, owner_id: int | None = None) -> list[Watchlist]:
    """Watchlists of ``owner_id`` and the public ones (all when ``owner_id`` is None)."""
    lists = [Watchlist.from_row(r) for r in record_rows(store, "watchlists")]
    if owner_id is None:
        return lists
    return [w for w in lists if w.owner_id == owner_id or w.public]


def active_watchlists(store: Store) -> list[Watchlist]:
    ph = store.backend.placeholder
    return [
        Watchlist.from_row(r) for r in record_rows(store, "watchlists", f"active = {ph}", (True,))
    ]


def _owned(wl: Watchlist, owner_id: int | None) -> None:
    if owner_id is not None and wl.owner_id != owner_id:
        raise WatchlistError(f"watchlist {wl.name!r} is not yours")


def set_active(
    store: Store, wl: Watchlist, active: bool, *, owner_id: int | None = None
) -> Watchlist:
    """Activate (or renew) for :data:`ACTIVE_DAYS`, or deactivate, a watchlist."""
    _owned(wl, owner_id)
    now = _now()
    update_row(
        store,
        "watchlists",
        "wl_id",
        wl.wl_id,
        {"active": active, "expires": _expiry(active, now), "modified": now.isoformat()},
    )
    return get_watchlist(store, wl.wl_id)


def delete_watchlist(store: Store, wl: Watchlist, *, owner_id: int | None = None) -> None:
    """Delete a watchlist with its cones and hits."""
    _owned(wl, owner_id)
    try:
        for table in ("watchlist_hits", "watchlist_cones", "watchlists"):
            delete_where(store, table, "wl_id", wl.wl_id, commit=False)
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise


def watchlist_hits(store: Store, wl: Watchlist, limit: int = 1000) -> list[dict[str, Any]]:
    """Hits of a watchlist, nearest first within each cone."""
    ph = store.backend.placeholder
    rows = record_rows(store, "watchlist_hits", f"wl_id = {ph}", (wl.wl_id,))
    rows.sort(key=lambda r: (r["cone_id"], r["arcsec"]))
    return rows[:limit]
