"""The archive as seen by one server process: a store per thread, reused across requests.

Input: the database URL. Output: :meth:`StorePool.session`, a context manager giving the
calling thread's :class:`~lanner.store.Store` (opened on first use, ``create=False``: the
server never runs DDL). Side effects: one connection per thread that served a request; on
leaving a session the read transaction is ended (rolled back: every write commits itself),
and a connection that failed is dropped so the next request opens a new one.

A store belongs to the thread that opened it (SQLite connections may not move between
threads): take it inside the function that uses it, never keep it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from lanner.store import Store, open_store


class StorePool:
    """Thread-local stores of one database."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[Store] = []

    @contextmanager
    def session(self) -> Iterator[Store]:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = open_store(self.db_url, create=False)
            self._local.store = store
            with self._lock:
                self._all.append(store)
        try:
            yield store
        except BaseException as exc:
            if _connection_lost(exc):
                self._drop(store)
            else:
                _end(store)
            raise
        _end(store)

    def _drop(self, store: Store) -> None:
        self._local.store = None
        with self._lock:
            if store in self._all:
                self._all.remove(store)
        with suppress(Exception):  # the connection is gone already
            store.close()

    def close(self) -> None:
        """Close every thread's store (at shutdown)."""
        with self._lock:
            stores, self._all = self._all, []
        for store in stores:
            with suppress(Exception):  # another thread's SQLite connection: freed at exit
                store.con.close()


def _end(store: Store) -> None:
    with suppress(Exception):  # a broken connection is dropped by the next failure
        store.con.rollback()


def _connection_lost(exc: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, (psycopg.OperationalError, sqlite3.OperationalError))
