"""Hourly request limits per user, shared by every server process through the database.

Input: a store, the caller's :class:`~lanner.serve.accounts.Account` and the tier's limit.
Output: ``None`` when the request may go on, else the seconds to wait (for
``Retry-After``). Side effects: one row of ``api_calls`` per request counted; rows older
than the window are deleted as the user's next request is counted.

A sliding window, as Lasair's: a request is refused when the user made ``limit`` requests in
the last hour; each request counts once (Lasair's two throttle classes share one key and
count every request twice). The count lives in the database the processes already share,
not in each process's memory, so N workers do not allow N times the limit, and no other
service (Redis) is needed; the check and the insert are one transaction, serialised per
user (SQLite's write lock; a PostgreSQL advisory lock on the user), so concurrent requests
cannot both take the last place.
"""

from __future__ import annotations

import math
import time

from lanner.store import Store

#: The window of the hourly limits (s).
WINDOW_S = 3600.0
#: Advisory-lock class of the throttle (PostgreSQL two-key form: class, user id).
_LOCK_CLASS = 0x1A77


def take(store: Store, user_id: int, limit: int, now: float | None = None) -> float | None:
    """Count one request of ``user_id`` if fewer than ``limit`` were made in the last hour;
    otherwise count nothing and return the seconds until the oldest of them leaves the
    window."""
    now = time.time() if now is None else now
    since = now - WINDOW_S
    ph = store.backend.placeholder
    con = store.con
    try:
        if store.backend.dialect == "sqlite":
            con.execute("BEGIN IMMEDIATE")  # the write lock, before counting
        else:
            con.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, user_id % 2**31))
        con.execute(f"DELETE FROM api_calls WHERE user_id = {ph} AND at <= {ph}", (user_id, since))
        count, oldest = con.execute(
            f"SELECT count(*), min(at) FROM api_calls WHERE user_id = {ph}", (user_id,)
        ).fetchone()
        if count >= limit:
            con.rollback()
            return max(1.0, math.ceil(float(oldest) + WINDOW_S - now))
        con.execute(f"INSERT INTO api_calls (user_id, at) VALUES ({ph}, {ph})", (user_id, now))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return None
