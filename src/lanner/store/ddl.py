"""``CREATE TABLE`` / ``CREATE INDEX`` statements generated from the table declarations.

One generator, two dialects: SQLite (the embedded default) and PostgreSQL (with a q3c
index on the objects position for cone searches). Identifiers are always quoted, so
Lasair's mixed-case names (``diaObjectId``) survive PostgreSQL's case folding.
"""

from __future__ import annotations

from typing import Literal

from lanner.schema.columns import Column, Table

Dialect = Literal["sqlite", "postgres"]

TYPES: dict[Dialect, dict[str, str]] = {
    "sqlite": {
        "bigint": "INTEGER",
        "int": "INTEGER",
        "double": "REAL",
        "float": "REAL",
        "text": "TEXT",
        "bool": "INTEGER",
        "blob": "BLOB",
        "timestamp": "TEXT",
    },
    "postgres": {
        "bigint": "BIGINT",
        "int": "INTEGER",
        "double": "DOUBLE PRECISION",
        "float": "REAL",
        "text": "TEXT",
        "bool": "BOOLEAN",
        "blob": "BYTEA",
        "timestamp": "TIMESTAMPTZ",
    },
}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_statements(table: Table, dialect: Dialect) -> list[str]:
    """Statements that create ``table`` and its indexes if they do not exist."""
    cols = [_column_sql(c, dialect) for c in table.columns]
    if not (table.identity and dialect == "sqlite"):  # SQLite: declared on the column
        cols.append(f"PRIMARY KEY ({', '.join(quote(k) for k in table.primary_key)})")
    body = ",\n  ".join(cols)
    out = [f"CREATE TABLE IF NOT EXISTS {quote(table.name)} (\n  {body}\n)"]
    for kind, index in [("INDEX", i) for i in table.indexes] + [
        ("UNIQUE INDEX", u) for u in table.unique
    ]:
        name = quote(f"{'ux' if kind != 'INDEX' else 'ix'}_{table.name}_{'_'.join(index)}")
        out.append(
            f"CREATE {kind} IF NOT EXISTS {name} ON {quote(table.name)} "
            f"({', '.join(quote(c) for c in index)})"
        )
    if table.position:
        ra, dec = (quote(c) for c in table.position)
        name = quote(f"ix_{table.name}_position")
        if dialect == "postgres":
            out.append(
                f"CREATE INDEX IF NOT EXISTS {name} ON {quote(table.name)} "
                f"(q3c_ang2ipix({ra}, {dec}))"
            )
        else:
            out.append(f"CREATE INDEX IF NOT EXISTS {name} ON {quote(table.name)} ({dec}, {ra})")
    return out


def _column_sql(column: Column, dialect: Dialect) -> str:
    """One column's definition; identity columns are numbered by the database (SQLite's
    AUTOINCREMENT never reuses the id of a deleted row; neither does a PostgreSQL identity)."""
    if column.identity:
        if dialect == "sqlite":
            return f"{quote(column.name)} INTEGER PRIMARY KEY AUTOINCREMENT"
        return f"{quote(column.name)} BIGINT GENERATED ALWAYS AS IDENTITY"
    null = "" if column.nullable else " NOT NULL"
    return f"{quote(column.name)} {TYPES[dialect][column.type]}{null}"


def add_column_statements(table: Table, existing: set[str], dialect: Dialect) -> list[str]:
    """``ALTER TABLE`` statements for declared columns an older database lacks."""
    types = TYPES[dialect]
    return [
        f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(c.name)} {types[c.type]}"
        for c in table.columns
        if c.name not in existing
    ]
