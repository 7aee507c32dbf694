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

    def connect(self) -> Any:
        """A read-write connection (autocommit off)."""
        if self.dialect == "sqlite":
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.sqlite_path, timeout=30.0)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            return con
        import psycopg

        return psycopg.connect(self.url)

    def connect_read_only(self) -> Any:
        """A connection that cannot write, for users' SQL."""
        if self.dialect == "sqlite":
            if not self.sqlite_path.exists():
                raise StoreError(f"no database at {self.sqlite_path}: ingest alerts first")
            uri = f"file:{self.sqlite_path.resolve()}?mode=ro"
            return sqlite3.connect(uri, uri=True, timeout=30.0)
        import psycopg

        con = psycopg.connect(self.url)
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
