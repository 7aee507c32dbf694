"""Bring the account and match tables of a database made by an earlier Lanner up to date.

Input: an open store whose tables exist. Side effects: on a database whose ``users``,
``filters`` or ``filter_notices`` ids were not numbered by the database, makes them identity
columns (PostgreSQL: ``ADD GENERATED ALWAYS AS IDENTITY``, its sequence started after the
largest id stored; SQLite: the table rebuilt with ``AUTOINCREMENT``, rows and ids kept), and
marks matches recorded before the outbox existed (no delivery state) as ``sent``, with a
note: they were sent, or not, by code that did not record the outcome. Idempotent: a
database already up to date is left as it is. Output: the names of the tables changed.
"""

from __future__ import annotations

from typing import Any

from lanner.schema.columns import Table
from lanner.store.ddl import create_statements, quote

LEGACY_NOTE = "recorded before deliveries were tracked"


def upgrade_accounts(con: Any, dialect: str, tables: dict[str, Table]) -> list[str]:
    """Upgrade the tables of ``tables`` that have an identity column; see the module."""
    changed = []
    for table in tables.values():
        column = table.identity
        if column is None:
            continue
        if dialect == "postgres" and not _pg_is_identity(con, table.name, column):
            name, col = quote(table.name), quote(column)
            con.execute(f"ALTER TABLE {name} ALTER COLUMN {col} ADD GENERATED ALWAYS AS IDENTITY")
            # Once, for existing rows: later ids come from the sequence alone.
            con.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                f"(SELECT coalesce(max({col}), 0) + 1 FROM {name}), false)",
                (table.name, column),
            )
            changed.append(table.name)
        elif dialect == "sqlite" and not _sqlite_is_autoincrement(con, table.name):
            _sqlite_rebuild(con, table)
            changed.append(table.name)
    # Read first: an UPDATE would lock the table against every worker starting at once.
    if con.execute("SELECT 1 FROM filter_matches WHERE state IS NULL LIMIT 1").fetchone():
        con.execute(
            "UPDATE filter_matches SET state = 'sent', channel = coalesce(channel, 'none'), "
            f"attempts = coalesce(attempts, 1), last_error = '{LEGACY_NOTE}' "
            "WHERE state IS NULL"
        )
        changed.append("filter_matches")
    return changed


def _pg_is_identity(con: Any, table: str, column: str) -> bool:
    row = con.execute(
        "SELECT is_identity FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s AND column_name = %s",
        (table, column),
    ).fetchone()
    return row is None or row[0] == "YES"


def _sqlite_is_autoincrement(con: Any, table: str) -> bool:
    row = con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    found = row.fetchone()
    return found is None or "AUTOINCREMENT" in str(found[0]).upper()


def _sqlite_rebuild(con: Any, table: Table) -> None:
    """Re-create ``table`` with its declared DDL and copy its rows, ids included."""
    old = quote(f"_lanner_old_{table.name}")
    con.execute(f"ALTER TABLE {quote(table.name)} RENAME TO {old}")
    for stmt in create_statements(table, "sqlite"):
        if stmt.startswith("CREATE TABLE"):
            con.execute(stmt)
    present = {r[1] for r in con.execute(f"PRAGMA table_info({old})").fetchall()}
    cols = ", ".join(quote(c) for c in table.column_names if c in present)
    con.execute(f"INSERT INTO {quote(table.name)} ({cols}) SELECT {cols} FROM {old}")
    con.execute(f"DROP TABLE {old}")
    for stmt in create_statements(table, "sqlite"):
        if not stmt.startswith("CREATE TABLE"):
            con.execute(stmt)
