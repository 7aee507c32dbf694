"""Users, their filters and the notices they are sent: the archive's account tables.

Input: values from :mod:`lanner.filter.saved` and :mod:`lanner.filter.users`. Output: rows
as dicts keyed by column name. Side effects: writes to ``users``, ``filters``,
``filter_notices`` (and, when a filter is deleted, ``filter_matches``), each call in one
transaction that it commits.

Ids come from the database (identity columns, see :mod:`lanner.store.ddl`), taken with
``INSERT … RETURNING``: two workers never take the same one, and an id is never given again
after a delete. Uniqueness (a user name; a filter name per owner; a once-a-day notice) is a
unique index, so a race between two writers ends in one row, never two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from lanner.store.backends import Backend
from lanner.store.ddl import quote

#: Columns of ``filters`` in the order rows are returned.
FILTER_COLUMNS = (
    "filter_id",
    "owner_id",
    "name",
    "sql",
    "active",
    "public",
    "description",
    "output",
    "output_options",
    "created",
    "expires",
)
#: The embedded mode's single user; the first row of ``users`` (id 1 on a new database).
LOCAL_USERNAME = "local"
UserColumn = Literal["api_key_hash", "username", "user_id"]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AccountsStore:
    """Methods of :class:`lanner.store.Store` over the account tables."""

    backend: Backend
    con: Any

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """Run one statement and commit; the first row it returns, if any."""
        try:
            cur = self.con.execute(sql, params)
            row = cur.fetchone() if cur.description else None
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        return row

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        try:
            rows = self.con.execute(sql, params).fetchall()
            self.con.commit()  # end the read transaction (PostgreSQL)
        except BaseException:
            self.con.rollback()
            raise
        return list(rows)

    # -- users ----------------------------------------------------------------------------
    def local_user_id(self) -> int:
        """Id of the embedded mode's user ``local``, made on first use."""
        ph = self.backend.placeholder
        found = self._read(f"SELECT user_id FROM users WHERE username = {ph}", (LOCAL_USERNAME,))
        if found:
            return int(found[0][0])
        self._write(
            f"INSERT INTO users (username, created) VALUES ({ph}, {ph}) ON CONFLICT DO NOTHING",
            (LOCAL_USERNAME, self._stamp(utc_now())),
        )
        found = self._read(f"SELECT user_id FROM users WHERE username = {ph}", (LOCAL_USERNAME,))
        return int(found[0][0])

    def add_user(self, username: str, email: str | None, key_hash: str) -> int | None:
        """A new user's id, or ``None`` if the name is taken."""
        ph = self.backend.placeholder
        row = self._write(
            f"INSERT INTO users (username, email, api_key_hash, created) "
            f"VALUES ({ph}, {ph}, {ph}, {ph}) ON CONFLICT DO NOTHING RETURNING user_id",
            (username, email, key_hash, self._stamp(utc_now())),
        )
        return None if row is None else int(row[0])

    def user_where(self, column: UserColumn, value: object) -> tuple[int, str, str | None] | None:
        """(id, name, e-mail) of the user whose ``column`` is ``value``."""
        ph = self.backend.placeholder
        rows = self._read(
            f"SELECT user_id, username, email FROM users WHERE {quote(column)} = {ph}", (value,)
        )
        return None if not rows else (int(rows[0][0]), rows[0][1], rows[0][2])

    def visible_list_ids(self, user_id: int) -> dict[str, frozenset[int]]:
        """Ids of the watchlists and watchmaps ``user_id`` may filter on: the public ones and
        their own, by table (``watchlists``, ``watchmaps``)."""
        ph = self.backend.placeholder
        ids: dict[str, frozenset[int]] = {}
        for table, id_col in (("watchlists", "wl_id"), ("watchmaps", "ar_id")):
            rows = self._read(
                f'SELECT {quote(id_col)} FROM {quote(table)} WHERE "public" OR "owner_id" = {ph}',
                (user_id,),
            )
            ids[table] = frozenset(int(r[0]) for r in rows)
        return ids

    # -- filters --------------------------------------------------------------------------
    def add_filter_row(self, values: Mapping[str, Any]) -> int | None:
        """Insert a filter (every column but the id); its new id, or ``None`` if its owner
        has a filter of that name already."""
        cols = [c for c in FILTER_COLUMNS if c != "filter_id"]
        ph = self.backend.placeholder
        row = self._write(
            f"INSERT INTO filters ({', '.join(quote(c) for c in cols)}) "
            f"VALUES ({', '.join([ph] * len(cols))}) ON CONFLICT DO NOTHING RETURNING filter_id",
            tuple(self._value(values[c]) for c in cols),
        )
        return None if row is None else int(row[0])

    def filter_rows(self, **where: Any) -> list[dict[str, Any]]:
        """Filters whose columns equal the values given (all when none), by id."""
        ph = self.backend.placeholder
        cond = " AND ".join(f"{quote(k)} = {ph}" for k in where)
        rows = self._read(
            f"SELECT {', '.join(quote(c) for c in FILTER_COLUMNS)} FROM filters"
            + (f" WHERE {cond}" if cond else "")
            + " ORDER BY filter_id",
            tuple(where.values()),
        )
        return [dict(zip(FILTER_COLUMNS, r, strict=True)) for r in rows]

    def update_filter(self, filter_id: int, values: Mapping[str, Any]) -> None:
        """Set columns of one filter."""
        ph = self.backend.placeholder
        sets = ", ".join(f"{quote(k)} = {ph}" for k in values)
        self._write(
            f"UPDATE filters SET {sets} WHERE filter_id = {ph}",
            (*(self._value(v) for v in values.values()), filter_id),
        )

    def delete_filter_rows(self, filter_id: int) -> None:
        """Delete a filter with its matches and notices, in one transaction, so that no
        later filter can see them."""
        ph = self.backend.placeholder
        try:
            for table in ("filter_matches", "filter_notices", "filters"):
                self.con.execute(f"DELETE FROM {table} WHERE filter_id = {ph}", (filter_id,))
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    # -- notices --------------------------------------------------------------------------
    def add_notice(self, filter_id: int, kind: str, message: str, daily: bool = False) -> bool:
        """Tell a filter's owner something; with ``daily``, at most once per UTC day for
        this filter and kind. Returns whether a notice was added."""
        now = utc_now()
        ph = self.backend.placeholder
        row = self._write(
            "INSERT INTO filter_notices (filter_id, created, kind, message, day) "
            f"VALUES ({ph}, {ph}, {ph}, {ph}, {ph}) ON CONFLICT DO NOTHING RETURNING notice_id",
            (filter_id, self._stamp(now), kind, message, now.date().isoformat() if daily else None),
        )
        return row is not None

    def notice_rows(self, filter_id: int, limit: int = 20) -> list[tuple[str, str, str]]:
        """(time, kind, message) of a filter's latest notices, newest first."""
        ph = self.backend.placeholder
        rows = self._read(
            f"SELECT created, kind, message FROM filter_notices WHERE filter_id = {ph} "
            f"ORDER BY notice_id DESC LIMIT {int(limit)}",
            (filter_id,),
        )
        return [(str(r[0]), r[1], r[2]) for r in rows]

    # -- values ---------------------------------------------------------------------------
    def _stamp(self, moment: dt.datetime) -> Any:
        """A UTC time as the backend stores it (ISO text on SQLite)."""
        if self.backend.dialect == "sqlite":
            return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")
        return moment

    def _value(self, value: Any) -> Any:
        return self._stamp(value) if isinstance(value, dt.datetime) else value
