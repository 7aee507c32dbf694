"""The store's rule of transient faults, on real errors of both databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from lanner.store import DatabaseUnavailableError, StoreError
from lanner.store.faults import is_transient


def test_a_locked_sqlite_database_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (a INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0.01)
    with pytest.raises(sqlite3.OperationalError) as locked:
        other.execute("INSERT INTO t VALUES (1)")
    holder.close()
    with pytest.raises(sqlite3.OperationalError) as missing:
        other.execute("SELECT * FROM nope")
    other.close()
    assert is_transient(locked.value)
    assert not is_transient(missing.value)  # a mistake, not an outage


def test_an_unreachable_postgres_is_transient_and_bad_sql_is_not(pg_url: str) -> None:
    with pytest.raises(psycopg.OperationalError) as down:
        psycopg.connect("postgresql://postgres@127.0.0.1:9/x", connect_timeout=2)
    assert is_transient(down.value)
    with psycopg.connect(pg_url) as con, pytest.raises(psycopg.Error) as bad:
        con.execute("SELECT * FROM no_such_table")
    assert not is_transient(bad.value)
    assert is_transient(DatabaseUnavailableError("down"))
    assert not is_transient(StoreError("not set up"))
    assert not is_transient(ValueError("x"))
