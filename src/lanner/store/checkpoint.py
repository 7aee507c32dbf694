"""SQLite's write-ahead log copied into the database file off the writer's path.

In WAL mode every commit appends pages to the ``-wal`` file, and by default the connection
that commits past 1,000 pages copies them into the database before its commit returns. On
deep Rubin histories that copy is a quarter of the store stage. The store's writing
connection therefore turns SQLite's automatic checkpoints off (``wal_autocheckpoint=0``)
and asks this thread, after each batch, to run a ``PASSIVE`` checkpoint on a connection of
its own: the copy then runs while the pipeline decodes and enriches the next batch (SQLite
works without Python's lock), and a passive checkpoint never blocks the writer or readers.

Input: the database file. Side effects: a daemon thread and its connection, stopped when the
store is closed, or when it is garbage-collected unclosed (:class:`weakref.finalize`). A
checkpoint that fails is logged and counted (:attr:`WalCheckpointer.failures`); the store then gives
the checkpoints back to SQLite, so that the log cannot grow without bound.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class WalCheckpointer:
    """A background thread that checkpoints one SQLite database each time it is poked."""

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        # Opened here so that a database that cannot be opened fails the caller; used by
        # the thread only, and closed by :meth:`close` once the thread has stopped.
        self._con = sqlite3.connect(path, timeout=timeout, check_same_thread=False)
        self._state = threading.Condition()
        self._pending = False
        self._busy = False
        self._stopping = False
        #: Checkpoints that failed, and the last error.
        self.failures = 0
        self.last_error: str | None = None
        #: Checkpoints run (passive: each copies what no reader still needs).
        self.runs = 0
        self._thread = threading.Thread(
            target=self._loop, name=f"wal-checkpoint-{path.name}", daemon=True
        )
        self._thread.start()

    def poke(self) -> None:
        """Ask for a checkpoint (one runs after the current one, if any; pokes coalesce)."""
        with self._state:
            self._pending = True
            self._state.notify()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no checkpoint is asked for or running; ``False`` on timeout."""
        with self._state:
            return self._state.wait_for(lambda: not (self._pending or self._busy), timeout)

    def close(self) -> None:
        """Finish the checkpoint asked for, stop the thread and close its connection (once:
        later calls do nothing)."""
        with self._state:
            if self._stopping:
                return
            self._stopping = True
            self._state.notify()
        self._thread.join()
        self._con.close()

    def _loop(self) -> None:
        while True:
            with self._state:
                self._state.wait_for(lambda: self._pending or self._stopping)
                if not self._pending:
                    return
                self._pending, self._busy = False, True
            try:
                self._con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.runs += 1
            except sqlite3.Error as exc:
                self.failures += 1
                self.last_error = str(exc)
                log.warning("background WAL checkpoint failed: %s", exc)
            finally:
                with self._state:
                    self._busy = False
                    self._state.notify_all()
