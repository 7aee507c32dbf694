"""Run filters on the archive: SQLite (embedded) and PostgreSQL, read-only and limited.

:class:`SQLiteEngine` opens the file read-only (URI ``mode=ro``, ``PRAGMA query_only``)
with an authorizer that allows only reads of catalog tables and a progress handler that
stops a filter at its time limit; it adds the functions some SQLite builds lack (math,
``concat_ws``, standard deviation and variance). :class:`PostgresEngine` runs each filter in
a ``READ ONLY`` transaction that is always rolled back, with ``SET LOCAL
statement_timeout``. Both return :class:`~lanner.filter.execute.FilterResult`.

Side effects: none on the database; the SQLite engine holds an open read-only connection.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from lanner.filter.compile import CompiledFilter
from lanner.filter.errors import FilterRuntimeError
from lanner.filter.execute import (
    ON_DEMAND,
    FilterResult,
    Limits,
    bound_query,
    result_of,
    rows_to_arrow,
    timeout_error,
    too_large,
)
from lanner.filter.functions import Engine
from lanner.schema.columns import Table

#: SQLite limits of the read-only archive connection: the longest string or blob a query
#: may build (``SQLITE_LIMIT_LENGTH``, 4 MB), the longest LIKE pattern, the longest SQL text
#: and the deepest expression.
SQLITE_LIMITS: dict[int, int] = {
    sqlite3.SQLITE_LIMIT_LENGTH: 4 * 1024 * 1024,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 4_096,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 1024 * 1024,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 1_000,
}
#: Virtual-machine steps between two looks at the clock (the time limit's granularity).
_PROGRESS_STEPS = 1_000
#: PostgreSQL memory per sort or hash of a filter, and the most temporary-file space.
PG_WORK_MEM = "64MB"
PG_TEMP_FILE_LIMIT = "1GB"
#: Rows fetched at once while the result's size is counted.
_FETCH_ROWS = 500


def fetch_bounded(cur: Any, limits: Limits) -> list[Any]:
    """All rows of ``cur``, or :func:`~lanner.filter.execute.too_large` once their text and
    bytes pass ``limits.max_result_bytes`` (numbers count 8 bytes)."""
    rows: list[Any] = []
    size = 0
    while chunk := cur.fetchmany(_FETCH_ROWS):
        for row in chunk:
            size += sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row)
        if size > limits.max_result_bytes:
            raise too_large(limits)
        rows += chunk
    return rows


class _Moments:
    """Running sums for SQLite's missing standard-deviation and variance aggregates."""

    sample = False
    root = False

    def __init__(self) -> None:
        self.n, self.total, self.squares = 0, 0.0, 0.0

    def step(self, value: float | None) -> None:
        if value is not None:
            self.n += 1
            self.total += float(value)
            self.squares += float(value) ** 2

    def finalize(self) -> float | None:
        dof = self.n - 1 if self.sample else self.n
        if dof <= 0:
            return None
        var = max(self.squares - self.total**2 / self.n, 0.0) / dof
        return math.sqrt(var) if self.root else var


def _moments(sample: bool, root: bool) -> type[_Moments]:
    return type("Moments", (_Moments,), {"sample": sample, "root": root})


class _Percentile:
    """``percentile_cont(x, p)``: linear interpolation between the closest ranks."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.p = 0.5

    def step(self, value: float | None, p: float) -> None:
        self.p = float(p)
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        if not self.values:
            return None
        v = sorted(self.values)
        pos = self.p * (len(v) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(v) - 1)
        return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def _null_safe(fn: Callable[..., float]) -> Callable[..., float | None]:
    """``fn`` returning NULL for NULL input and for values outside its domain."""

    def wrapped(*args: float | None) -> float | None:
        if any(a is None for a in args):
            return None
        try:
            return fn(*args)
        except (ValueError, OverflowError, ZeroDivisionError):
            return None

    return wrapped


def _sqlite_functions(con: sqlite3.Connection) -> None:
    """Give SQLite the functions Lanner's SQL uses that some builds lack."""
    for name, sample, root in (
        ("stddev_pop", False, True),
        ("stddev_samp", True, True),
        ("var_pop", False, False),
        ("variance_pop", False, False),
        ("var_samp", True, False),
        ("variance", True, False),
        ("stddev", True, True),
    ):
        con.create_aggregate(name, 1, cast(Any, _moments(sample, root)))
    try:
        con.execute("SELECT concat_ws('-', 'a', 'b')").fetchone()
    except sqlite3.OperationalError:

        def concat_ws(sep: str | None, *parts: object) -> str | None:
            if sep is None:
                return None
            return str(sep).join(str(p) for p in parts if p is not None)

        con.create_function("concat_ws", -1, concat_ws, deterministic=True)
    con.create_aggregate("percentile_cont", 2, cast(Any, _Percentile))
    # Not among SQLite's math functions in any build.
    con.create_function(
        "cbrt", 1, _null_safe(lambda x: math.copysign(abs(x) ** (1 / 3), x)), deterministic=True
    )
    con.create_function("cot", 1, _null_safe(lambda x: 1.0 / math.tan(x)), deterministic=True)
    sqlite_math(con)


def sqlite_math(con: sqlite3.Connection, force: bool = False) -> None:
    """Give SQLite builds without math functions the ones Lanner's SQL uses (``force``:
    replace the built-in ones, to test these)."""
    try:
        con.execute("SELECT log10(1), ln(1), power(2, 2), sqrt(4)").fetchone()
        if not force:
            return
    except sqlite3.OperationalError:
        pass

    for name, fn, n in (
        ("log10", math.log10, 1),
        ("ln", math.log, 1),
        ("log", lambda base, x: math.log(x, base), 2),  # SQLite's order: LOG(B, X)
        ("exp", math.exp, 1),
        ("power", math.pow, 2),
        ("pow", math.pow, 2),
        ("sqrt", math.sqrt, 1),
        ("floor", math.floor, 1),
        ("ceil", math.ceil, 1),
        ("sin", math.sin, 1),
        ("cos", math.cos, 1),
        ("tan", math.tan, 1),
        ("asin", math.asin, 1),
        ("acos", math.acos, 1),
        ("atan", math.atan, 1),
        ("atan2", math.atan2, 2),
        ("radians", math.radians, 1),
        ("degrees", math.degrees, 1),
        ("pi", lambda: math.pi, 0),
    ):
        con.create_function(name, n, _null_safe(fn), deterministic=True)


class SQLiteEngine:
    """Run filters on the embedded SQLite archive, read-only."""

    engine: Engine = "sqlite"

    def __init__(self, path: str | Path, catalog: Mapping[str, Table]):
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        self.con = sqlite3.connect(uri, uri=True)
        self.con.execute("PRAGMA query_only = ON")
        for limit, value in SQLITE_LIMITS.items():
            self.con.setlimit(limit, value)
        _sqlite_functions(self.con)
        self._readable = set(catalog)
        self.con.set_authorizer(self._authorize)

    def _authorize(
        self, action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None
    ) -> int:
        # Defence in depth behind the validator: only reads of catalog tables.
        if action == sqlite3.SQLITE_SELECT or action == sqlite3.SQLITE_FUNCTION:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            return sqlite3.SQLITE_OK if arg1 in self._readable else sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_DENY

    def create_function(self, name: str, n_args: int, fn: Callable[..., Any]) -> None:
        """Register a SQL function (the tests register a deliberately slow one)."""
        self.con.create_function(name, n_args, fn)

    def close(self) -> None:
        self.con.close()

    def run(
        self,
        compiled: CompiledFilter,
        limits: Limits = ON_DEMAND,
        *,
        limit: int | None = None,
        offset: int | None = None,
        now_mjd: float | None = None,
    ) -> FilterResult:
        sql, params = bound_query(compiled, "sqlite", limits, limit, offset, now_mjd)
        start = time.perf_counter()
        deadline = time.monotonic() + limits.timeout_s
        fired = [False]

        def progress() -> int:
            if time.monotonic() > deadline:
                fired[0] = True
                return 1
            return 0

        self.con.set_progress_handler(progress, _PROGRESS_STEPS)
        try:
            cur = self.con.execute(sql, params)
            rows = fetch_bounded(cur, limits)
        except sqlite3.Error as err:
            if fired[0]:
                raise timeout_error(limits) from None
            raise FilterRuntimeError(str(err)) from None
        finally:
            self.con.set_progress_handler(None, 0)
        table = rows_to_arrow(compiled.columns, rows)
        return result_of(compiled, table, limits, time.perf_counter() - start)


class PostgresEngine:
    """Run filters on the PostgreSQL archive, each in a read-only, rolled-back transaction.

    Parameters
    ----------
    conn
        An open ``psycopg.Connection`` (the caller owns it).
    schema
        Schema holding the Lanner tables (set as ``search_path`` for the run), or None.
    """

    engine: Engine = "postgres"

    def __init__(self, conn: Any, schema: str | None = None):
        self.conn = conn
        self.schema = schema
        self._superuser: bool | None = None

    def _may_limit_temp_files(self, cur: Any) -> bool:
        # Only a superuser may set temp_file_limit; otherwise the role's own setting holds
        # (an operator sets it with ALTER ROLE ... SET temp_file_limit, see docs/filters.md).
        if self._superuser is None:
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cur.fetchone()
            self._superuser = bool(row and row[0])
        return self._superuser

    def run(
        self,
        compiled: CompiledFilter,
        limits: Limits = ON_DEMAND,
        *,
        limit: int | None = None,
        offset: int | None = None,
        now_mjd: float | None = None,
    ) -> FilterResult:
        import psycopg
        from psycopg import sql as pgsql

        text, params = bound_query(compiled, "postgres", limits, limit, offset, now_mjd)
        start = time.perf_counter()
        try:
            with self.conn.transaction(force_rollback=True), self.conn.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                cur.execute(
                    pgsql.SQL("SET LOCAL statement_timeout = {}").format(
                        pgsql.Literal(max(1, int(limits.timeout_s * 1000)))
                    )
                )
                cur.execute(pgsql.SQL("SET LOCAL work_mem = {}").format(pgsql.Literal(PG_WORK_MEM)))
                if self._may_limit_temp_files(cur):
                    cur.execute(
                        pgsql.SQL("SET LOCAL temp_file_limit = {}").format(
                            pgsql.Literal(PG_TEMP_FILE_LIMIT)
                        )
                    )
                if self.schema:
                    cur.execute(
                        pgsql.SQL("SET LOCAL search_path = {}").format(
                            pgsql.Identifier(self.schema)
                        )
                    )
                cur.execute(text, params)
                rows = fetch_bounded(cur, limits)
        except psycopg.errors.QueryCanceled:
            raise timeout_error(limits) from None
        except psycopg.Error as err:
            raise FilterRuntimeError(str(err).splitlines()[0]) from None
        table = rows_to_arrow(compiled.columns, rows)
        return result_of(compiled, table, limits, time.perf_counter() - start)
