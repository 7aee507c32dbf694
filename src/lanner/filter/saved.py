"""Saved filters: the ``filters`` table, and the local user of the embedded mode.

Input/output: rows of ``users`` and ``filters`` in the store. A filter's SQL is validated
before it is saved, so a stored filter always compiles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lanner.filter.errors import FilterError
from lanner.store import Store
from lanner.store.ddl import quote

LOCAL_USER_ID = 1
#: Active filters stop after this long unless renewed.
ACTIVE_DAYS = 180


@dataclass(frozen=True)
class SavedFilter:
    filter_id: int
    owner_id: int
    name: str
    sql: str
    active: bool
    public: bool
    description: str
    output: str
    expires: str | None


def ensure_local_user(store: Store) -> int:
    """The embedded mode's single user (id 1), created on first use."""
    ph = store.backend.placeholder
    row = store.con.execute(
        f"SELECT user_id FROM users WHERE user_id = {ph}", (LOCAL_USER_ID,)
    ).fetchone()
    if row is None:
        store.con.execute(
            f"INSERT INTO users (user_id, username, created) VALUES ({ph}, {ph}, {ph})",
            (LOCAL_USER_ID, "local", _now().isoformat()),
        )
        store.con.commit()
    return LOCAL_USER_ID


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def add_filter(
    store: Store,
    name: str,
    sql: str,
    *,
    active: bool = False,
    owner_id: int | None = None,
    description: str = "",
    public: bool = False,
    output: str = "none",
) -> SavedFilter:
    """Validate and save a filter; raise :class:`FilterError` if the SQL is not acceptable."""
    from lanner.filter.compile import compile_filter

    owner = owner_id if owner_id is not None else ensure_local_user(store)
    if store.survey is None:
        raise FilterError("the database has no survey yet: ingest alerts or pass --survey")
    compile_filter(sql, store.survey)  # raises FilterError with what to fix
    ph = store.backend.placeholder
    if store.con.execute(
        f"SELECT 1 FROM filters WHERE owner_id = {ph} AND name = {ph}", (owner, name)
    ).fetchone():
        raise FilterError(f"you already have a filter named {name!r}: choose another name")
    next_id = store.con.execute("SELECT coalesce(max(filter_id), 0) + 1 FROM filters")
    filter_id = int(next_id.fetchone()[0])
    now = _now()
    expires = (now + dt.timedelta(days=ACTIVE_DAYS)).isoformat() if active else None
    store.con.execute(
        "INSERT INTO filters (filter_id, owner_id, name, description, sql, public, active, "
        f"output, created, expires) VALUES ({', '.join([ph] * 10)})",
        (
            filter_id,
            owner,
            name,
            description,
            sql,
            public,
            active,
            output,
            now.isoformat(),
            expires,
        ),
    )
    store.con.commit()
    return get_filter(store, filter_id)


def _row_to_filter(row: Any) -> SavedFilter:
    return SavedFilter(
        int(row[0]),
        int(row[1]),
        row[2],
        row[3],
        bool(row[4]),
        bool(row[5]),
        row[6] or "",
        row[7] or "none",
        None if row[8] is None else str(row[8]),
    )


_SELECT = (
    "SELECT filter_id, owner_id, name, sql, active, public, description, output, "
    "expires FROM filters"
)


def get_filter(store: Store, filter_id: int) -> SavedFilter:
    ph = store.backend.placeholder
    row = store.con.execute(f"{_SELECT} WHERE filter_id = {ph}", (filter_id,)).fetchone()
    if row is None:
        raise FilterError(f"no filter with id {filter_id}")
    return _row_to_filter(row)


def list_filters(store: Store) -> list[SavedFilter]:
    rows = store.con.execute(f"{_SELECT} ORDER BY {quote('filter_id')}").fetchall()
    return [_row_to_filter(r) for r in rows]


def active_filters(store: Store) -> list[SavedFilter]:
    return [f for f in list_filters(store) if f.active]
