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

import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from sqlglot import exp

from lanner.filter.compile import CompiledFilter
from lanner.filter.errors import FilterError
from lanner.filter.execute import STREAMING, FilterEngine, FilterResult, Limits

K = TypeVar("K", bound=Hashable)

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
    run.elapsed_s = time.perf_counter() - start
    return run
