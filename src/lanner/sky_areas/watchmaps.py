"""Watchmaps: sky areas (MOCs) that users own, and the objects inside them.

Input/output: rows of ``watchmaps`` and ``area_hits``. A MOC is read from a FITS file (both
serialisations mocpy reads: NUNIQ and MOC 2.0 RANGE) or from an ASCII (``"11/1-3 12/40"``)
or JSON (``{"11": [1, 2]}``) MOC string, stored as its ASCII serialisation, and matched
against the whole archive at once; the pipeline matches each batch against the active
watchmaps with one vectorised ``contains`` per watchmap (:mod:`lanner.sky_areas.stage`).
An active watchmap stops :data:`~lanner.filter.saved.ACTIVE_DAYS` after it was activated or
renewed.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from astropy import units as u
from mocpy import MOC

from lanner.filter.saved import ACTIVE_DAYS
from lanner.filter.users import ensure_local_user
from lanner.sky_areas.watchlists import WatchlistError
from lanner.store import Store
from lanner.store.sky_areas import (
    delete_where,
    insert_record,
    object_chunks,
    record_rows,
    update_row,
    upsert_rows,
)

#: Square degrees in the whole sky.
SKY_DEG2 = 4 * np.pi * (180 / np.pi) ** 2


class MocError(ValueError):
    """A watchmap file or string that is not a MOC."""


def read_moc(data: bytes) -> MOC:
    """A MOC from FITS bytes or an ASCII/JSON MOC string."""
    if data.lstrip()[:6] == b"SIMPLE" or data[:2] == b"\x1f\x8b":
        try:
            return MOC.from_fits(io.BytesIO(data))
        except Exception as exc:  # mocpy and astropy raise many kinds for a broken file
            raise MocError(f"not a FITS MOC: {exc}") from exc
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise MocError("neither a FITS MOC nor a MOC string") from exc
    try:
        if text.startswith("{"):
            return MOC.from_json({k: v for k, v in json.loads(text).items()})
        return MOC.from_str(text)
    except Exception as exc:  # mocpy raises ValueError or its own parse errors
        raise MocError(f"not a MOC string ({exc}): {text[:60]!r}") from exc


def moc_contains(moc: MOC, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Which positions [deg] are inside ``moc`` (NaN positions are not)."""
    ra = np.asarray(ra, dtype=np.float64)
    dec = np.asarray(dec, dtype=np.float64)
    ok = np.isfinite(ra) & np.isfinite(dec)
    inside = np.zeros(len(ra), dtype=bool)
    if ok.any():
        inside[ok] = moc.contains_lonlat(ra[ok] * u.deg, dec[ok] * u.deg)
    return inside


@dataclass(frozen=True)
class Watchmap:
    """One row of ``watchmaps`` (without its MOC)."""

    ar_id: int
    owner_id: int
    name: str
    description: str
    public: bool
    active: bool
    area: float
    created: str | None
    expires: str | None
    modified: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Watchmap:
        return cls(
            ar_id=int(row["ar_id"]),
            owner_id=int(row["owner_id"]),
            name=row["name"],
            description=row["description"] or "",
            public=bool(row["public"]),
            active=bool(row["active"]),
            area=float(row["area"] or 0.0),
            created=None if row["created"] is None else str(row["created"]),
            expires=None if row["expires"] is None else str(row["expires"]),
            modified=None if row["modified"] is None else str(row["modified"]),
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _expiry(active: bool, now: dt.datetime) -> str | None:
    return (now + dt.timedelta(days=ACTIVE_DAYS)).isoformat() if active else None


def add_watchmap(
    store: Store,
    name: str,
    moc: MOC,
    *,
    owner_id: int | None = None,
    public: bool = False,
    active: bool = False,
    description: str = "",
) -> tuple[Watchmap, int]:
    """Store a watchmap and match it against the archive; return it and its hit count."""
    owner = owner_id if owner_id is not None else ensure_local_user(store)
    if not name.strip():
        raise WatchlistError("a watchmap needs a name")
    ph = store.backend.placeholder
    if store.con.execute(
        f"SELECT 1 FROM watchmaps WHERE owner_id = {ph} AND name = {ph}", (owner, name)
    ).fetchone():
        raise WatchlistError(
            f"you already have a watchmap named {name!r}",
            None,
            "choose another name, or delete that one",
        )
    if moc.empty():
        raise WatchlistError("the MOC covers no sky")
    now = _now()
    record = {
        "owner_id": owner,
        "name": name,
        "description": description,
        "public": public,
        "active": active,
        "created": now.isoformat(),
        "modified": now.isoformat(),
        "expires": _expiry(active, now),
        "area": float(moc.sky_fraction * SKY_DEG2),
        "moc": moc.to_string(format="ascii"),
    }
    watchmap = get_watchmap(store, insert_record(store, "watchmaps", record, "ar_id"))
    return watchmap, match_archive(store, watchmap, moc)


def load_moc(store: Store, wm: Watchmap) -> MOC:
    ph = store.backend.placeholder
    row = store.con.execute(f"SELECT moc FROM watchmaps WHERE ar_id = {ph}", (wm.ar_id,)).fetchone()
    store.con.commit()
    return MOC.from_str(row[0])


def match_archive(store: Store, wm: Watchmap, moc: MOC | None = None) -> int:
    """Replace a watchmap's hits by the stored objects inside it; return how many."""
    area = moc if moc is not None else load_moc(store, wm)
    rows: list[tuple[Any, ...]] = []
    for chunk in object_chunks(store):
        inside = np.flatnonzero(moc_contains(area, chunk.ra, chunk.dec))
        rows += [(chunk.ids[i], wm.ar_id) for i in inside.tolist()]
    oid = store.object_id_column
    try:
        delete_where(store, "area_hits", "ar_id", wm.ar_id, commit=False)
        upsert_rows(store, "area_hits", [oid, "ar_id"], rows, [oid, "ar_id"], commit=False)
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    return len(rows)


def get_watchmap(store: Store, ar_id: int) -> Watchmap:
    ph = store.backend.placeholder
    rows = record_rows(store, "watchmaps", f"ar_id = {ph}", (ar_id,))
    if not rows:
        raise WatchlistError(f"no watchmap with id {ar_id}", None, "see: lanner watchmap list")
    return Watchmap.from_row(rows[0])


def find_watchmap(store: Store, ref: str, owner_id: int | None = None) -> Watchmap:
    """A watchmap by id, or by name among ``owner_id``'s (default: the local user's)."""
    if ref.isdigit():
        return get_watchmap(store, int(ref))
    owner = owner_id if owner_id is not None else ensure_local_user(store)
    ph = store.backend.placeholder
    rows = record_rows(store, "watchmaps", f"owner_id = {ph} AND name = {ph}", (owner, ref))
    if not rows:
        raise WatchlistError(f"no watchmap named {ref!r}", None, "see: lanner watchmap list")
    return Watchmap.from_row(rows[0])


def list_watchmaps(store: Store, owner_id: int | None = None) -> list[Watchmap]:
    """Watchmaps of ``owner_id`` and the public ones (all when ``owner_id`` is None)."""
    maps = [Watchmap.from_row(r) for r in record_rows(store, "watchmaps")]
    return maps if owner_id is None else [m for m in maps if m.owner_id == owner_id or m.public]


def active_watchmaps(store: Store) -> list[Watchmap]:
    ph = store.backend.placeholder
    return [
        Watchmap.from_row(r) for r in record_rows(store, "watchmaps", f"active = {ph}", (True,))
    ]


def set_active(
    store: Store, wm: Watchmap, active: bool, *, owner_id: int | None = None
) -> Watchmap:
    """Activate (or renew) for :data:`ACTIVE_DAYS`, or deactivate, a watchmap."""
    if owner_id is not None and wm.owner_id != owner_id:
        raise WatchlistError(f"watchmap {wm.name!r} is not yours")
    now = _now()
    update_row(
        store,
        "watchmaps",
        "ar_id",
        wm.ar_id,
        {"active": active, "expires": _expiry(active, now), "modified": now.isoformat()},
    )
    return get_watchmap(store, wm.ar_id)


def delete_watchmap(store: Store, wm: Watchmap, *, owner_id: int | None = None) -> None:
    """Delete a watchmap with its hits."""
    if owner_id is not None and wm.owner_id != owner_id:
        raise WatchlistError(f"watchmap {wm.name!r} is not yours")
    try:
        delete_where(store, "area_hits", "ar_id", wm.ar_id, commit=False)
        delete_where(store, "watchmaps", "ar_id", wm.ar_id, commit=False)
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise


def watchmap_hits(store: Store, wm: Watchmap, limit: int = 1000) -> list[dict[str, Any]]:
    ph = store.backend.placeholder
    return record_rows(store, "area_hits", f"ar_id = {ph}", (wm.ar_id,))[:limit]
