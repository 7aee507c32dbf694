"""Run every active filter on one batch; a filter that fails never holds up the others.

:func:`run_filters` takes an engine holding the batch (normally
:meth:`~lanner.filter.execute.DuckDBEngine.for_batch`) and the compiled active filters, runs
each within its limits, and returns a :class:`BatchFilterRun`: the rows of every filter
that ran, and for each one that timed out or failed, the typed error to report to its
owner. :func:`with_why` adds to a filter the values its WHERE clause read, so a delivered
match can say why it fired.

Input: an engine and compiled filters. Output: results and errors per filter. No side
effects (delivery and recording are the distribute and store stages' job).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from sqlglot import exp

from lanner.filter.compile import CompiledFilter
from lanner.filter.errors import FilterError, FilterRuntimeError
from lanner.filter.execute import STREAMING, DuckDBEngine, FilterEngine, FilterResult, Limits
from lanner.schema.columns import Table

K = TypeVar("K", bound=Hashable)

log = logging.getLogger(__name__)

#: Prefix of the extra output columns :func:`with_why` adds (``why:objects.gmag``).
WHY_PREFIX = "why:"


@dataclass
class BatchFilterRun(Generic[K]):
    """Outcome of the active filters on one batch.

    Attributes
    ----------
    results
        Rows of each filter that ran, by filter key.
    errors
        The error of each filter that timed out or failed, by filter key.
    elapsed_s
        Time for all filters [s].
    """

    results: dict[K, FilterResult] = field(default_factory=dict)
    errors: dict[K, FilterError] = field(default_factory=dict)
    elapsed_s: float = 0.0


def with_why(compiled: CompiledFilter) -> CompiledFilter:
    """The filter with one more output column per column its WHERE clause reads.

    The extra columns are named ``why:<table>.<column>``; split them off with
    :func:`split_why`. A filter that aggregates (GROUP BY, DISTINCT, COUNT...) is returned
    unchanged, since extra columns would change what it returns.
    """
    tree = compiled.tree
    aggregates = any(isinstance(n, exp.AggFunc) for s in tree.expressions for n in s.walk())
    if (
        not compiled.where_columns
        or aggregates
        or tree.args.get("group")
        or tree.args.get("distinct")
    ):
        return compiled
    extra = []
    for name in compiled.where_columns:
        table, column = name.split(".", 1)
        extra.append(exp.alias_(exp.column(column, table=table), WHY_PREFIX + name, quoted=True))
    new_tree = tree.copy()
    new_tree.set("expressions", [*new_tree.expressions, *extra])
    columns = (*compiled.columns, *(WHY_PREFIX + n for n in compiled.where_columns))
    return replace(compiled, tree=new_tree, columns=columns, _sql={})


def only_objects(
    compiled: CompiledFilter, object_id: str, ids: Sequence[str | int]
) -> CompiledFilter:
    """The filter restricted to the objects ``ids`` (ZTF names or Rubin ids).

    Used to re-run the filters that name an annotator for just the objects it annotated.
    The restriction is ANDed to the WHERE clause on the first table of the FROM clause,
    which must carry the object id column ``object_id``.
    """
    source = compiled.tree.args.get("from_") or compiled.tree.args.get("from")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table):
        raise ValueError("the filter does not read a table first; cannot restrict objects")
    if any(isinstance(i, bool) or not isinstance(i, (str, int)) for i in ids):
        raise ValueError("object ids are strings (ZTF) or integers (Rubin)")
    values = [exp.Literal.string(i) if isinstance(i, str) else exp.Literal.number(i) for i in ids]
    column = exp.column(object_id, table=table.alias_or_name)
    cond: exp.Expr = exp.In(this=column, expressions=values) if values else exp.false()
    tree = compiled.tree.copy()
    where = tree.args.get("where")
    tree.set(
        "where",
        exp.Where(this=exp.and_(exp.Paren(this=where.this), cond) if where is not None else cond),
    )
    return replace(compiled, tree=tree, _sql={})


def split_why(row: Mapping[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """Split a row of a :func:`with_why` filter into (selected values, why values)."""
    values = {k: v for k, v in row.items() if not k.startswith(WHY_PREFIX)}
    why = {k[len(WHY_PREFIX) :]: v for k, v in row.items() if k.startswith(WHY_PREFIX)}
    return values, why


def run_filters(
    engine: FilterEngine,
    filters: Mapping[K, CompiledFilter],
    limits: Limits = STREAMING,
    now_mjd: float | None = None,
) -> BatchFilterRun[K]:
    """Run ``filters`` on the batch in ``engine``; errors are collected, not raised.

    Parameters
    ----------
    engine
        Engine holding the batch.
    filters
        Compiled filters by key (filter id, or owner and name).
    limits
        Time limit and row cap of each filter.
    now_mjd
        Value of ``mjdnow()`` for every filter of the batch [MJD]; a backtest passes the
        replayed batch's time. None: the current time.
    """
    run: BatchFilterRun[K] = BatchFilterRun()
    start = time.perf_counter()
    for key, compiled in filters.items():
        try:
            run.results[key] = engine.run(compiled, limits, now_mjd=now_mjd)
        except FilterError as err:
            run.errors[key] = err
        except Exception as err:  # one filter's failure is its owner's notice, not the batch's
            log.exception("filter %s failed", key)
            run.errors[key] = FilterRuntimeError(f"the filter failed: {type(err).__name__}: {err}")
    run.elapsed_s = time.perf_counter() - start
    return run


def check_per_batch(compiled: CompiledFilter, catalog: Mapping[str, Table]) -> None:
    """Run ``compiled`` as the filter stage would (with its "why" columns, on DuckDB) over
    an empty batch, so that what passes when a filter is saved also runs on every batch.

    Raises :class:`~lanner.filter.errors.FilterError` with the engine's message.
    """
    engine = DuckDBEngine.for_batch(catalog, {})
    try:
        engine.run(with_why(compiled), Limits(timeout_s=5.0, row_cap=1))
    finally:
        engine.con.close()
