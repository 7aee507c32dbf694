"""``CREATE TABLE`` / ``CREATE INDEX`` statements generated from the table declarations.

One generator, two dialects: SQLite (the embedded default) and PostgreSQL (with a q3c
index on the objects position for cone searches). Identifiers are always quoted, so
Lasair's mixed-case names (``diaObjectId``) survive PostgreSQL's case folding.
"""

from __future__ import annotations

from typing import Literal

from lanner.schema.columns import Table

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
    types = TYPES[dialect]
    cols = [
        f"{quote(c.name)} {types[c.type]}{'' if c.nullable else ' NOT NULL'}" for c in table.columns
    ]
    cols.append(f"PRIMARY KEY ({', '.join(quote(k) for k in table.primary_key)})")
    body = ",\n  ".join(cols)
    out = [f"CREATE TABLE IF NOT EXISTS {quote(table.name)} (\n  {body}\n)"]
    for index in table.indexes:
        name = quote(f"ix_{table.name}_{'_'.join(index)}")
        out.append(
            f"CREATE INDEX IF NOT EXISTS {name} ON {quote(table.name)} "
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


def add_column_statements(table: Table, existing: set[str], dialect: Dialect) -> list[str]:
    """``ALTER TABLE`` statements for declared columns an older database lacks."""
    types = TYPES[dialect]
    return [
        f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(c.name)} {types[c.type]}"
        for c in table.columns
        if c.name not in existing
    ]
