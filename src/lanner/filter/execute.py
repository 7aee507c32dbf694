"""Run compiled filters inside an engine, with a time limit and a row cap.

Three engines, one interface (:class:`FilterEngine`):

:class:`DuckDBEngine`
    The per-batch engine: an in-memory DuckDB holding only the current batch's tables as
    registered Arrow tables, opened with external access disabled and its configuration
    locked (no file, network or extension access even if a function slipped through).
    Time limit: ``con.interrupt()`` from a timer thread.
:class:`~lanner.filter.archive_engines.SQLiteEngine`
    The embedded archive, read-only, with an authorizer. Time limit: a progress handler.
:class:`~lanner.filter.archive_engines.PostgresEngine`
    The server archive: each run is a ``READ ONLY`` transaction, always rolled back, with
    ``SET LOCAL statement_timeout``.

Every run binds LIMIT/OFFSET and ``mjdnow()`` as parameters, fetches at most
``row_cap + 1`` rows to tell whether the result was truncated, and returns a
:class:`FilterResult`. A run that is too slow raises
:class:`~lanner.filter.errors.FilterTimeoutError`; any other engine error raises
:class:`~lanner.filter.errors.FilterRuntimeError`. Side effects: none beyond the engine's
own connection state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from lanner.filter.bounds import MAX_LIMIT
from lanner.filter.compile import CompiledFilter
from lanner.filter.errors import FilterRejectedError, FilterRuntimeError, FilterTimeoutError
from lanner.filter.functions import LIMIT_PARAM, NOW_PARAM, OFFSET_PARAM, Engine
from lanner.filter.result_types import normalize
from lanner.schema.columns import Table

_UNIX_EPOCH_MJD = 40587.0


@dataclass(frozen=True)
class Limits:
    """Resource limits of one filter run.

    Parameters
    ----------
    timeout_s
        Wall-clock limit inside the engine [s].
    row_cap
        Most rows returned; more are cut and the result marked ``truncated``.
    max_result_bytes
        Largest result [bytes]; a larger one is an error (the row cap alone does not bound
        the size of rows of long strings).
    """

    timeout_s: float = 10.0
    row_cap: int = 10_000
    max_result_bytes: int = 64 * 1024 * 1024


#: Memory one per-batch DuckDB may use for its work (the batch's Arrow tables are not
#: counted: they are registered, not copied).
DUCKDB_MEMORY_LIMIT = "1GB"

#: Streaming filters, once per batch (issue: 10 s per filter per batch).
STREAMING = Limits(timeout_s=10.0, row_cap=10_000)
#: On-demand queries on the archive.
ON_DEMAND = Limits(timeout_s=30.0, row_cap=1_000)


@dataclass(frozen=True)
class FilterResult:
    """Rows a filter returned.

    Attributes
    ----------
    columns
        Output column names, in order.
    table
        The rows as an Arrow table (64-bit ids stay exact).
    truncated
        True when more than ``row_cap`` rows matched and only ``row_cap`` are returned.
    elapsed_s
        Time spent in the engine [s].
    """

    columns: tuple[str, ...]
    table: pa.Table
    truncated: bool
    elapsed_s: float

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def rows(self) -> list[dict[str, Any]]:
        """The rows as a list of dicts."""
        return self.table.to_pylist()


class FilterEngine(Protocol):
    """Something that runs compiled filters (DuckDB, SQLite or PostgreSQL)."""

    engine: Engine

    def run(
        self,
        compiled: CompiledFilter,
        limits: Limits = ...,
        *,
        limit: int | None = None,
        offset: int | None = None,
        now_mjd: float | None = None,
    ) -> FilterResult: ...


def mjd_now() -> float:
    """The current time [MJD, UTC]."""
    return time.time() / 86400.0 + _UNIX_EPOCH_MJD


#: How each engine's SQL text writes a named parameter.
_PLACEHOLDER: dict[Engine, str] = {"duckdb": "${}", "sqlite": ":{}", "postgres": "%({})s"}


def bound_query(
    compiled: CompiledFilter,
    engine: Engine,
    limits: Limits,
    limit: int | None,
    offset: int | None,
    now_mjd: float | None,
) -> tuple[str, dict[str, Any]]:
    """The filter's SQL for ``engine`` and the values of the parameters it uses.

    The parameters are LIMIT, OFFSET and ``mjdnow()``; the row cap always applies. Only
    those the SQL names are returned: DuckDB rejects parameters a statement does not use.
    """
    requested = compiled.limit if limit is None else limit
    start = compiled.offset if offset is None else offset
    for name, value in (("limit", requested), ("offset", start)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        if value is not None and value > MAX_LIMIT:
            raise FilterRejectedError(
                f"{name} {value} is out of range", None, f"use 0 to {MAX_LIMIT:,}"
            )
    # One row past the cap tells whether the result was cut.
    fetch = limits.row_cap + 1 if requested is None or requested > limits.row_cap else requested
    params = {
        LIMIT_PARAM: fetch,
        OFFSET_PARAM: start,
        NOW_PARAM: mjd_now() if now_mjd is None else float(now_mjd),
    }
    sql = compiled.sql(engine)
    placeholder = _PLACEHOLDER[engine]
    return sql, {k: v for k, v in params.items() if placeholder.format(k) in sql}


def timeout_error(limits: Limits) -> FilterTimeoutError:
    """The error of a run the engine stopped at ``limits.timeout_s``."""
    return FilterTimeoutError(
        f"filter stopped after {limits.timeout_s:g} s", None, "make it more selective or simpler"
    )


def too_large(limits: Limits) -> FilterRuntimeError:
    """The error of a result larger than ``limits.max_result_bytes``."""
    return FilterRuntimeError(
        f"the result is larger than {limits.max_result_bytes / 2**20:g} MB",
        None,
        "select fewer or shorter columns, or fewer rows",
    )


def result_of(
    compiled: CompiledFilter, table: pa.Table, limits: Limits, elapsed: float
) -> FilterResult:
    """The run's result: cut at the row cap, every column of a type Lanner writes."""
    truncated = table.num_rows > limits.row_cap
    if truncated:
        table = table.slice(0, limits.row_cap)
    if table.nbytes > limits.max_result_bytes:
        raise too_large(limits)
    return FilterResult(tuple(compiled.columns), normalize(table), truncated, elapsed)


def rows_to_arrow(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> pa.Table:
    arrays = []
    for i in range(len(columns)):
        # PostgreSQL returns NUMERIC for AVG/SUM of integers; other engines give doubles.
        values = [float(v) if isinstance(v, Decimal) else v for v in (r[i] for r in rows)]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            # SQLite columns may mix types; keep them readable rather than fail the run.
            arrays.append(pa.array([None if v is None else str(v) for v in values]))
    return pa.Table.from_arrays(arrays, names=list(columns))


#: One sandboxed in-memory database per memory limit, made once per process; every
#: :func:`sandboxed_duckdb` is a connection (cursor) of it.
_SANDBOXES: dict[str, duckdb.DuckDBPyConnection] = {}
_SANDBOXES_LOCK = threading.Lock()


def _new_sandbox(memory_limit: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        ":memory:",
        config={
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "threads": 1,
            # A hard cap: no spilling to disk, so a query past it fails instead of growing.
            "memory_limit": memory_limit,
            "temp_directory": "",
        },
    )
    con.execute("SET lock_configuration = true")
    return con


def _sandbox(memory_limit: str) -> duckdb.DuckDBPyConnection:
    with _SANDBOXES_LOCK:
        con = _SANDBOXES.get(memory_limit)
        if con is None:
            con = _SANDBOXES[memory_limit] = _new_sandbox(memory_limit)
        return con.cursor()


def sandboxed_duckdb(
    tables: Mapping[str, pa.Table], memory_limit: str = DUCKDB_MEMORY_LIMIT, fresh: bool = False
) -> duckdb.DuckDBPyConnection:
    """A connection to an in-memory DuckDB that can reach nothing but ``tables`` (registered,
    not copied), using at most ``memory_limit`` (DuckDB's size syntax, e.g. ``"1GB"``) for
    its work.

    External access and extension loading are off and the configuration is locked when the
    database is made, so users' SQL cannot turn them back on. The database is made once per
    process and memory limit (opening one costs tens of milliseconds, paid on every batch
    before); each call is a new connection to it, whose registered tables are its own
    (temporary views no other connection sees) and go when it is closed. The memory limit
    is therefore shared by the connections open at the same time. Nothing else is stored
    in the database: filters are single SELECT statements (:mod:`lanner.filter.validate`).
    ``fresh``: a database of its own instead (for a caller that adds functions to it, which
    a database keeps for every connection).
    """
    con = _new_sandbox(memory_limit) if fresh else _sandbox(memory_limit)
    for name, table in tables.items():
        con.register(name, table)
    return con


class DuckDBEngine:
    """Run filters on a batch held in an in-memory DuckDB (the streaming engine)."""

    engine: Engine = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self._lock = threading.Lock()

    @classmethod
    def for_batch(
        cls,
        catalog: Mapping[str, Table],
        tables: Mapping[str, pa.Table],
        memory_limit: str = DUCKDB_MEMORY_LIMIT,
        fresh: bool = False,
    ) -> DuckDBEngine:
        """An engine over one batch: ``tables`` by name; catalog tables not given are empty.

        The connection can reach nothing but these tables: external access is off and the
        configuration is locked before any user SQL runs (:func:`sandboxed_duckdb`, whose
        ``fresh`` this passes on).
        """
        unknown = set(tables) - set(catalog)
        if unknown:
            raise KeyError(f"batch tables not in the catalog: {sorted(unknown)}")
        return cls(
            sandboxed_duckdb(
                {
                    name: tables[name] if name in tables else decl.arrow_schema().empty_table()
                    for name, decl in catalog.items()
                },
                memory_limit,
                fresh,
            )
        )

    def run(
        self,
        compiled: CompiledFilter,
        limits: Limits = STREAMING,
        *,
        limit: int | None = None,
        offset: int | None = None,
        now_mjd: float | None = None,
    ) -> FilterResult:
        sql, used = bound_query(compiled, "duckdb", limits, limit, offset, now_mjd)
        state = {"running": True, "fired": False}

        def stop() -> None:
            with self._lock:
                if state["running"]:
                    state["fired"] = True
                    self.con.interrupt()

        timer = threading.Timer(limits.timeout_s, stop)
        start = time.perf_counter()
        timer.start()
        try:
            table = self.con.sql(sql, params=used).to_arrow_table()
        except duckdb.InterruptException:
            raise timeout_error(limits) from None
        except duckdb.Error as err:
            if state["fired"]:
                raise timeout_error(limits) from None
            raise FilterRuntimeError(str(err).splitlines()[0]) from None
        finally:
            with self._lock:
                state["running"] = False
            timer.cancel()
        return result_of(compiled, table, limits, time.perf_counter() - start)
