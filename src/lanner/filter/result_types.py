"""Make every column a filter returns one that Lanner can store, send and print.

Engines return types the rest of Lanner does not write: DuckDB gives ``DECIMAL`` for
``ncand * 1.5``, a ``CAST(... AS DECIMAL)`` or a ``SUM``; dates beyond year 9999 exist in
DuckDB and PostgreSQL but not in Python; times and intervals have no JSON form. So
:func:`normalize` converts, per column (never per row in Python):

* ``DECIMAL`` with a scale -> float64; ``DECIMAL`` of whole numbers (DuckDB's ``SUM`` of
  integers) -> int64, or the exact number as text when a value needs more than 64 bits;
* times, durations and intervals -> text;
* dates and timestamps outside years 1-9999 -> :class:`~lanner.filter.errors.FilterRuntimeError`
  naming the column (a message for the filter's owner, not a crash of the batch).

Input: an Arrow table. Output: an Arrow table of the same shape. No side effects.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from lanner.filter.errors import FilterRuntimeError

# Days from 1970-01-01 to 0001-01-01 and to 9999-12-31 (Python's date range).
_MIN_DAY, _MAX_DAY = -719_162, 2_932_896
_SECONDS_PER_DAY = 86_400
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _to_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return pa.chunked_array(
            [pa.array([None if v is None else str(v) for v in column.to_pylist()], pa.string())]
        )


def _whole(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Whole-number DECIMALs (DuckDB's SUM of integers) as int64, or as exact text when a
    value does not fit in 64 bits."""
    try:
        return pc.cast(column, pa.int64())
    except pa.ArrowInvalid:
        return _to_text(column)


def _check_dates(name: str, column: pa.ChunkedArray) -> None:
    kind = column.type
    if pa.types.is_date32(kind):
        days = pc.cast(column, pa.int32())
        lo, hi = _MIN_DAY, _MAX_DAY
    elif pa.types.is_date64(kind):
        days = pc.cast(column, pa.int64())
        lo, hi = _MIN_DAY * _SECONDS_PER_DAY * 1000, _MAX_DAY * _SECONDS_PER_DAY * 1000
    elif kind.unit == "ns":
        return  # int64 nanoseconds span years 1677-2262: always representable
    else:
        unit = _PER_SECOND[kind.unit]
        days = pc.cast(column, pa.int64())
        lo, hi = _MIN_DAY * _SECONDS_PER_DAY * unit, (_MAX_DAY + 1) * _SECONDS_PER_DAY * unit - 1
    low, high = pc.min_max(days).values()
    if (low.is_valid and low.as_py() < lo) or (high.is_valid and high.as_py() > hi):
        raise FilterRuntimeError(
            f"column `{name}` holds a date outside years 1-9999",
            None,
            "keep dates within years 1-9999, or return them as text",
        )


def normalize(table: pa.Table) -> pa.Table:
    """``table`` with every column of a type Lanner can store, send and print."""
    columns = []
    changed = False
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        new = column
        if pa.types.is_decimal(kind):
            new = _whole(column) if kind.scale == 0 else pc.cast(column, pa.float64())
        elif pa.types.is_time(kind) or pa.types.is_duration(kind) or pa.types.is_interval(kind):
            new = _to_text(column)
        elif pa.types.is_date(kind) or pa.types.is_timestamp(kind):
            _check_dates(name, column)
        changed |= new is not column
        columns.append(new)
    return pa.Table.from_arrays(columns, names=table.column_names) if changed else table
