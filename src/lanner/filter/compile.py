"""Compile a user's filter once into checked SQL for every engine.

:func:`compile_lasair` (Lasair's selected/tables/conditions) and :func:`compile_sql` (a full
SELECT) parse, validate and normalise the filter, and return a :class:`CompiledFilter`: the
checked tree, the SQL for each engine (generated on first use and cached), the output
column names, and what the filter uses (tables, watchlists, watchmaps, annotators, the
columns its WHERE reads). Compile when a filter is saved or activated, not per batch.

The outermost LIMIT and OFFSET are replaced by bound parameters (``lanner_limit``,
``lanner_offset``); the values the user wrote are kept and capped by the executor's row cap,
so no spelling of LIMIT can lift the cap. ``mjdnow()`` is the bound parameter
``lanner_now_mjd``.

Input: filter text and a :class:`~lanner.filter.validate.FilterContext`. Output: a
:class:`CompiledFilter`. No side effects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from lanner.batch import Survey
from lanner.filter.errors import FilterError, FilterRejectedError
from lanner.filter.functions import (
    ENGINES,
    LIMIT_PARAM,
    NOW_PARAM,
    OFFSET_PARAM,
    Engine,
    for_engine,
)
from lanner.filter.language import READ_DIALECT, ParsedFilter, parse_lasair, parse_statement
from lanner.filter.recheck import recheck
from lanner.filter.validate import FilterContext, validate

#: PostgreSQL truncates longer identifiers; output names stay under it everywhere.
_MAX_NAME = 63


@dataclass
class CompiledFilter:
    """A validated filter, ready to run on any engine.

    Attributes
    ----------
    tree
        The checked SELECT tree (placeholders for limit, offset and ``mjdnow()``).
    columns
        Output column names, identical on every engine.
    tables
        Catalog tables it reads.
    watchlists, watchmaps, annotators
        Kit relations named in Lasair's table list (for re-running on new annotations).
    where_columns
        ``table.column`` names its WHERE clause reads (to record why a filter fired).
    limit, offset
        The LIMIT/OFFSET the user wrote (None: no LIMIT); capped at run time.
    """

    tree: exp.Select
    columns: tuple[str, ...]
    tables: frozenset[str]
    watchlists: tuple[int, ...] = ()
    watchmaps: tuple[int, ...] = ()
    annotators: tuple[str, ...] = ()
    where_columns: tuple[str, ...] = ()
    limit: int | None = None
    offset: int = 0
    uses_now: bool = False
    #: What the filter was checked against; its final SQL is checked against it again.
    #: None only for SQL built by hand to test an engine alone (``unchecked``).
    context: FilterContext | None = None
    unchecked: bool = False
    _sql: dict[str, str] = field(default_factory=dict, repr=False)

    def sql(self, engine: Engine) -> str:
        """The SQL text for ``engine`` (generated once, re-checked, then cached).

        Raises :class:`~lanner.filter.errors.FilterRejectedError` when the final text fails
        :func:`~lanner.filter.recheck.recheck`.
        """
        text = self._sql.get(engine)
        if text is None:
            if engine not in ENGINES:
                raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
            tree = for_engine(self.tree, engine)
            text = tree.sql(
                dialect=engine, identify=True, comments=False, unsupported_level=ErrorLevel.RAISE
            )
            if engine == "postgres":
                text = _escape_percent(text)
            if self.context is not None:
                recheck(text, engine, self.context)
            elif not self.unchecked:
                raise ValueError("a filter made without a context cannot be re-checked")
            self._sql[engine] = text
        return text

    @property
    def display_sql(self) -> str:
        """The checked filter in Lasair's dialect, for people to read (and to save: it
        compiles again to the same filter), with the user's own LIMIT/OFFSET."""
        tree = self.tree.copy()
        tree.set(
            "limit",
            None if self.limit is None else exp.Limit(expression=exp.Literal.number(self.limit)),
        )
        tree.set(
            "offset",
            exp.Offset(expression=exp.Literal.number(self.offset)) if self.offset else None,
        )
        return tree.sql(dialect=READ_DIALECT, pretty=True, comments=False)


def _escape_percent(text: str) -> str:
    # psycopg reads '%' as a parameter marker: double every '%' except our own markers.
    out = text.replace("%", "%%")
    for name in (NOW_PARAM, LIMIT_PARAM, OFFSET_PARAM):
        out = out.replace(f"%%({name})s", f"%({name})s")
    return out


def _output_names(select: exp.Select) -> list[str]:
    """Give every output an explicit, unique alias so all engines name columns alike."""
    names: list[str] = []
    items: list[exp.Expr] = []
    for i, item in enumerate(select.expressions):
        if isinstance(item, exp.Alias):
            name, inner = item.alias, item.this
        elif isinstance(item, exp.Column):
            name, inner = item.name, item
        else:
            # Named by the expression as written, without the qualifiers Lanner added.
            bare = item.copy().transform(
                lambda n: exp.column(n.name) if isinstance(n, exp.Column) else n
            )
            name, inner = bare.sql(dialect=READ_DIALECT, comments=False), item
            if len(name) > _MAX_NAME:
                name = f"col{i + 1}"
        if name in names:
            table = inner.table if isinstance(inner, exp.Column) else ""
            candidate = f"{table}_{name}" if table else f"{name}_{i + 1}"
            while candidate in names:
                candidate += "_"
            name = candidate
        names.append(name)
        items.append(exp.alias_(inner, name, quoted=True))
    select.set("expressions", items)
    return names


def _take_limits(select: exp.Select) -> tuple[int | None, int]:
    limit_node = select.args.get("limit")
    offset_node = select.args.get("offset")
    limit = int(limit_node.expression.this) if limit_node is not None else None
    offset = int(offset_node.expression.this) if offset_node is not None else 0
    select.set("limit", exp.Limit(expression=exp.Placeholder(this=LIMIT_PARAM)))
    select.set("offset", exp.Offset(expression=exp.Placeholder(this=OFFSET_PARAM)))
    return limit, offset


def _finish(parsed: ParsedFilter, ctx: FilterContext) -> CompiledFilter:
    checked = validate(parsed, ctx)
    tree = checked.tree
    if not tree.expressions:
        raise FilterRejectedError("the SELECT list is empty", "selected")
    uses_now = any(str(f.this).lower() in ("mjdnow", "jdnow") for f in tree.find_all(exp.Anonymous))
    columns = _output_names(tree)
    limit, offset = _take_limits(tree)
    return CompiledFilter(
        tree=tree,
        columns=tuple(columns),
        tables=frozenset(checked.tables),
        watchlists=tuple(parsed.watchlists),
        watchmaps=tuple(parsed.watchmaps),
        annotators=tuple(parsed.annotators),
        where_columns=tuple(checked.where_columns),
        limit=limit,
        offset=offset,
        uses_now=uses_now,
        context=ctx,
    )


def _checked(build: Callable[[], CompiledFilter], where: str) -> CompiledFilter:
    """Run ``build``; any error from the user's text becomes a :class:`FilterError`.

    The parser and validator raise typed errors for everything they foresee; this turns
    what they do not (a sqlglot error, a recursion too deep, a value Python cannot hold)
    into a message naming the part of the filter, instead of a traceback. The engine SQL
    of each engine is generated and re-checked here, so a filter that compiles runs.
    """
    try:
        compiled = build()
        for engine in ENGINES:
            compiled.sql(engine)
        return compiled
    except FilterError:
        raise
    except RecursionError:
        raise FilterRejectedError(
            "the filter nests too deeply", where, "flatten nested expressions"
        ) from None
    except (SqlglotError, ValueError, TypeError, KeyError, IndexError, OverflowError) as err:
        raise FilterRejectedError(
            f"cannot check this filter ({type(err).__name__}: {str(err).splitlines()[0]})"
            if str(err)
            else f"cannot check this filter ({type(err).__name__})",
            where,
            "simplify the part named",
        ) from err


def compile_lasair(
    selected: str, tables: str, conditions: str, ctx: FilterContext
) -> CompiledFilter:
    """Compile a filter given in Lasair's three parts (see :mod:`lanner.filter.language`)."""
    return _checked(
        lambda: _finish(
            parse_lasair(selected, tables, conditions or "", ctx.object_id, ctx.tns_watchlist_id),
            ctx,
        ),
        "the filter",
    )


def compile_sql(sql: str, ctx: FilterContext) -> CompiledFilter:
    """Compile a filter given as one full ``SELECT`` statement."""
    return _checked(lambda: _finish(parse_statement(sql), ctx), "sql")


def _inline_parameters(tree: exp.Expr, compiled: CompiledFilter, now_mjd: float) -> exp.Select:
    """The tree with LIMIT/OFFSET and ``mjdnow()`` as literals (for callers that run the
    SQL text without binding parameters)."""
    tree.set(
        "limit",
        None
        if compiled.limit is None
        else exp.Limit(expression=exp.Literal.number(compiled.limit)),
    )
    tree.set(
        "offset",
        exp.Offset(expression=exp.Literal.number(compiled.offset)) if compiled.offset else None,
    )
    out = tree.transform(
        lambda n: (
            exp.Literal.number(now_mjd)
            if isinstance(n, exp.Placeholder) and n.name == NOW_PARAM
            else n
        )
    )
    assert isinstance(out, exp.Select)
    return out


def compile_filter(sql: str, survey: Survey, engine: str = "duckdb") -> str:
    """Validate a full-SELECT filter against the survey's filterable tables and return
    self-contained SQL for ``engine`` (no bound parameters; ``mjdnow()`` is now).

    For callers that execute the text themselves; new code should keep the
    :class:`CompiledFilter` from :func:`compile_sql` and run it through
    :mod:`lanner.filter.execute`, which also enforces the time limit and the row cap.
    Raises :class:`~lanner.filter.errors.FilterError` with what to fix.
    """
    import time

    from lanner.schema.kit import filterable_kit_tables
    from lanner.schema.registry import filterable_tables

    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    catalog = {**filterable_kit_tables(survey), **filterable_tables(survey)}
    compiled = compile_sql(sql, FilterContext(survey, catalog))
    now_mjd = time.time() / 86400.0 + 40587.0
    tree = _inline_parameters(for_engine(compiled.tree, engine), compiled, now_mjd)
    return tree.sql(
        dialect=engine, identify=True, comments=False, unsupported_level=ErrorLevel.RAISE
    )
