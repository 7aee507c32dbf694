"""Database connections for the two backends: SQLite files and PostgreSQL servers.

A backend knows how to connect (read-write for the pipeline, read-only for users' SQL), its
parameter placeholder and how it lists a table's columns. Everything else is shared SQL.
URLs: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
``postgresql://user@host:port/dbname`` (a password, if any, comes from ``PGPASSWORD``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lanner.store.ddl import Dialect


class StoreError(Exception):
    """A database URL or schema problem the user must fix."""


class DatabaseUnavailableError(StoreError):
    """The database server cannot be reached (down, restarting, wrong host or name)."""


def masked(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    head, sep, tail = url.partition("://")
    userinfo, at, rest = tail.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{head}://{userinfo.split(':', 1)[0]}:***@{rest}"


#: Words of a connection failure that no retry fixes (wrong name, user or password).
_PERMANENT = ("does not exist", "authentication failed", "password", "no pg_hba.conf entry")


@dataclass(frozen=True)
class Backend:
    """How to reach one database."""

    url: str
    dialect: Dialect

    @property
    def placeholder(self) -> str:
        return "?" if self.dialect == "sqlite" else "%s"

    @property
    def sqlite_path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))

    def connect(self, create: bool = True) -> Any:
        """A read-write connection (autocommit off); without ``create``, a SQLite file
        that does not exist is an error rather than a new empty database."""
        if self.dialect == "sqlite":
            if create:
                self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            elif not self.sqlite_path.is_file():
                raise StoreError(
                    f"no Lanner database at {self.sqlite_path}: check --db / LANNER_DB, or "
                    f"create one with `lanner db init --survey ztf|lsst --db {self.url}` "
                    "(or `lanner ingest`)"
                )
            con = sqlite3.connect(self.sqlite_path, timeout=30.0)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            return con
        return self._connect_postgres()

    def _connect_postgres(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self.url, connect_timeout=10)
        except psycopg.OperationalError as exc:
            detail = str(exc).strip().splitlines()[0].removeprefix("connection failed: ")
            message = f"cannot connect to the database {masked(self.url)}: {detail}"
            if any(word in detail for word in _PERMANENT):
                raise StoreError(message) from exc  # waiting will not fix it
            raise DatabaseUnavailableError(message) from exc

    def connect_read_only(self) -> Any:
        """A connection that cannot write, for users' SQL."""
        if self.dialect == "sqlite":
            if not self.sqlite_path.exists():
                raise StoreError(f"no database at {self.sqlite_path}: ingest alerts first")
            uri = f"file:{self.sqlite_path.resolve()}?mode=ro"
            return sqlite3.connect(uri, uri=True, timeout=30.0)
        con = self._connect_postgres()
        con.read_only = True
        return con

    def table_columns(self, con: Any, table: str) -> set[str]:
        if self.dialect == "sqlite":
            rows = con.execute(f'PRAGMA table_info("{table}")').fetchall()
            return {r[1] for r in rows}
        cur = con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        )
        return {r[0] for r in cur.fetchall()}


def backend_for(url: str) -> Backend:
    if url.startswith("sqlite:///"):
        return Backend(url, "sqlite")
    if url.startswith(("postgresql://", "postgres://")):
        return Backend(url, "postgres")
    raise StoreError(
        f"unsupported database URL {url!r}: use sqlite:///path/to/file.db or "
        "postgresql://user@host:port/dbname"
    )
