"""Which database errors are transient: the one rule the workers use to decide whether to
wait and retry or to stop.

Input: an exception raised by a store call. Output: ``True`` for a database outage or lock
conflict that will likely go away by itself (a lost or closed connection, an administrator
shutdown, a deadlock, a serialisation failure, a lock time-out, SQLite busy or locked).
Side effects: none (psycopg is imported only when the error is not already recognised).
"""

from __future__ import annotations

import sqlite3

from lanner.store.backends import DatabaseUnavailableError


def is_transient(exc: BaseException) -> bool:
    """Whether a store error will likely go away by itself (see the module)."""
    if isinstance(exc, DatabaseUnavailableError):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "busy" in str(exc)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    # OperationalError covers lost connections, admin shutdown, deadlocks, serialisation
    # failures and lock time-outs; InterfaceError a connection already closed.
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
