"""Column and table declarations: Lanner's schema is data.

Every stored column is declared exactly once, as a :class:`Column`, by the module that fills
it (the ingest adapters for raw fields, each enricher for the columns it adds). The
declarations feed the ``CREATE TABLE`` statements of every backend (:mod:`lanner.schema.ddl`),
the filter validator (which tables and columns a user's SQL may name) and the docs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pyarrow as pa

ColumnType = Literal["bigint", "int", "double", "float", "text", "bool", "blob", "timestamp"]


@lru_cache(maxsize=1)
def arrow_types() -> dict[str, pa.DataType]:
    """Arrow type used in batches for each declared column type (pyarrow is imported only
    when a batch is built or read, not to read the schema)."""
    import pyarrow as pa

    return {
        "bigint": pa.int64(),
        "int": pa.int32(),
        "double": pa.float64(),
        "float": pa.float32(),
        "text": pa.string(),
        "bool": pa.bool_(),
        "blob": pa.binary(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }


@dataclass(frozen=True)
class Column:
    """One column of a stored table.

    Parameters
    ----------
    name
        Column name, exactly as users write it in SQL (Lasair's name where Lasair has one).
    type
        Portable type; each backend maps it (see :mod:`lanner.schema.ddl`).
    description
        One line for the filter builder, the API docs and ``lanner schema``.
    unit
        Physical unit ("deg", "arcsec", "MJD", "nJy", "mag", "mag/day", "kK", "Mpc", ...),
        or ``None`` for dimensionless values, identifiers and text.
    producer
        Who fills it: ``"ingest"`` or the name of an enricher.
    nullable
        ``False`` for keys and fields every alert carries.
    identity
        The database gives each new row its value (an identity column on PostgreSQL,
        ``AUTOINCREMENT`` on SQLite): ids are never computed by Lanner, never reused after a
        delete, and two writers never take the same one. Only for a table's one-column key.
    """

    name: str
    type: ColumnType
    description: str
    unit: str | None = None
    producer: str = "ingest"
    nullable: bool = True
    identity: bool = False

    @property
    def arrow_type(self) -> pa.DataType:
        return arrow_types()[self.type]


@dataclass(frozen=True)
class Table:
    """One stored table: its columns, key and indexes.

    ``filterable`` tables may be named in users' SQL filters; the others (light curves,
    cutouts, bookkeeping) are reached through the API and the CLI.
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    filterable: bool = False
    #: Column holding right ascension / declination, for cone searches (q3c on PostgreSQL).
    position: tuple[str, str] | None = None
    extra: dict[str, str] = field(default_factory=dict)
    #: Column sets whose values no two rows share (besides the primary key).
    unique: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"table {self.name}: columns declared twice: {sorted(dup)}")
        missing = [k for k in self.primary_key if k not in names]
        if missing:
            raise ValueError(f"table {self.name}: primary key names unknown columns {missing}")
        generated = [c.name for c in self.columns if c.identity]
        if generated and tuple(generated) != self.primary_key:
            raise ValueError(f"table {self.name}: an identity column must be the whole key")

    @property
    def identity(self) -> str | None:
        """The column the database numbers, if any."""
        return next((c.name for c in self.columns if c.identity), None)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    def arrow_schema(self) -> pa.Schema:
        import pyarrow as pa

        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])

    def with_columns(self, extra: Iterable[Column]) -> Table:
        """Return this table with ``extra`` columns appended (enrichers' columns)."""
        return Table(
            name=self.name,
            description=self.description,
            columns=self.columns + tuple(extra),
            primary_key=self.primary_key,
            indexes=self.indexes,
            filterable=self.filterable,
            position=self.position,
            extra=dict(self.extra),
            unique=self.unique,
        )
