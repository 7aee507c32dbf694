"""Check the final SQL of each engine again, after Lanner generated its joins and rewrites.

The validator (:mod:`lanner.filter.validate`) checks the user's tree and wraps every read
of a watchlist/watchmap table in a restriction to the ids its owner may see. This module
does not trust that: it parses the text each engine will run, in that engine's dialect,
and checks it from scratch, so that a bypass in one stage is caught by the next:

* one SELECT, no comments, every construct and function on the allow-lists (plus the few
  functions Lanner's own rewrites produce), only Lanner's named parameters;
* every table a catalog table, named without schema, or a WITH name that is no table's;
* every reference to a restricted table (``watchlist_hits``, ``area_hits``, ...) guarded
  in the very SELECT that reads it: its WHERE, or the ON of its inner (or left) join, has a
  top-level condition ``<alias>.<id> = N`` or ``<alias>.<id> IN (N, ...)`` with every ``N``
  visible to the filter's owner (or ``FALSE``);
* when other users' private annotators exist, every read of ``annotations`` and
  ``annotation_history`` in the FROM of a SELECT whose WHERE has a top-level
  ``NOT <alias>.topic IN (...)`` naming each of them.

Input: SQL text, its engine, the :class:`~lanner.filter.validate.FilterContext`. Output:
none. Raises :class:`~lanner.filter.errors.FilterRejectedError`. No side effects.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lanner.filter.errors import FilterRejectedError
from lanner.filter.functions import (
    ALLOWED_FUNCTIONS,
    ALLOWED_NODES,
    LIMIT_PARAM,
    NOW_PARAM,
    OFFSET_PARAM,
    Engine,
)
from lanner.filter.validate import ANNOTATION_TABLES, RESTRICTED, FilterContext, visible_ids

#: Constructs Lanner's rewrites and sqlglot's dialect translations produce in the final SQL
#: (``||`` for CONCAT, ``TYPEOF`` in DuckDB's LENGTH, ``PERCENTILE_CONT ... WITHIN GROUP``
#: for MEDIAN, SQLite's ``DATE(x)`` for a cast to DATE), beyond the user's allow-list.
_GENERATED_NODES = frozenset(
    getattr(exp, n)
    for n in (
        "Placeholder",
        "JSONType",
        "TryCast",
        "Cast",
        "DPipe",
        "Typeof",
        "PercentileCont",
        "WithinGroup",
        "Date",
    )
    if hasattr(exp, n)
)
#: Functions the engine rewrites call by name (see :func:`lanner.filter.functions.for_engine`).
_GENERATED_FUNCTIONS = frozenset(
    {
        "json_extract",
        "json_type",
        "json_extract_string",
        "jsonb_extract_path",
        "jsonb_extract_path_text",
        "jsonb_typeof",
        "log",
        "log10",
        "octet_length",
    }
)
_PARAMS = frozenset({NOW_PARAM, LIMIT_PARAM, OFFSET_PARAM})


def _fail(problem: str) -> FilterRejectedError:
    return FilterRejectedError(
        f"the generated SQL failed its final check: {problem}",
        None,
        "this filter cannot run; report it if you think it should",
    )


def _conjuncts(node: exp.Expr | None) -> list[exp.Expr]:
    while isinstance(node, exp.Paren):
        node = node.this
    if node is None:
        return []
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


def _id_column(node: exp.Expr, alias: str, id_col: str) -> bool:
    return isinstance(node, exp.Column) and node.name == id_col and node.table == alias


def _visible_literal(node: exp.Expr, visible: frozenset[int]) -> bool:
    return (
        isinstance(node, exp.Literal)
        and node.is_int
        and len(str(node.this)) < 20
        and int(node.this) in visible
    )


def _restricts(cond: exp.Expr, alias: str, id_col: str, visible: frozenset[int]) -> bool:
    if isinstance(cond, exp.Boolean) and cond.this is False:
        return True
    if isinstance(cond, exp.EQ):
        a, b = cond.this, cond.expression
        return (_id_column(a, alias, id_col) and _visible_literal(b, visible)) or (
            _id_column(b, alias, id_col) and _visible_literal(a, visible)
        )
    if isinstance(cond, exp.In) and not cond.args.get("query"):
        values = cond.expressions
        return (
            _id_column(cond.this, alias, id_col)
            and bool(values)
            and all(_visible_literal(v, visible) for v in values)
        )
    return False


def _guarded(table: exp.Table, id_col: str, visible: frozenset[int]) -> bool:
    alias = table.alias_or_name
    parent = table.parent
    conds: list[exp.Expr] = []
    if isinstance(parent, exp.Join):
        side = (parent.side or "").upper()
        kind = (parent.kind or "").upper()
        if side in ("", "LEFT") and kind in ("", "INNER", "OUTER"):
            conds += _conjuncts(parent.args.get("on"))
        select = parent.parent
    elif isinstance(parent, exp.From):
        select = parent.parent
    else:
        return False
    if not isinstance(select, exp.Select):
        return False
    where = select.args.get("where")
    if where is not None:
        conds += _conjuncts(where.this)
    return any(_restricts(c, alias, id_col, visible) for c in conds)


def _hides(table: exp.Table, hidden: frozenset[str]) -> bool:
    """Whether the SELECT reading ``table`` (directly in its FROM) has a top-level
    ``NOT <alias>.topic IN ('a', ...)`` naming every hidden topic."""
    parent = table.parent
    select = parent.parent if isinstance(parent, exp.From) else None
    if not isinstance(select, exp.Select):
        return False
    where = select.args.get("where")
    alias = table.alias_or_name
    for cond in _conjuncts(where.this if where is not None else None):
        inner = cond.this if isinstance(cond, exp.Not) else None
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if (
            isinstance(inner, exp.In)
            and not inner.args.get("query")
            and _id_column(inner.this, alias, "topic")
            and hidden
            <= {v.this for v in inner.expressions if isinstance(v, exp.Literal) and v.is_string}
        ):
            return True
    return False


def _check_nodes(tree: exp.Expr, ctx: FilterContext) -> None:
    allowed = ALLOWED_NODES | ALLOWED_FUNCTIONS | _GENERATED_NODES
    names = _GENERATED_FUNCTIONS | ctx.extra_functions
    for node in tree.walk():
        if node.comments:
            raise _fail("a comment")
        if isinstance(node, exp.Anonymous):
            if str(node.this).lower() not in names:
                raise _fail(f"function {node.this}()")
        elif isinstance(node, exp.Placeholder):
            if node.name not in _PARAMS:
                raise _fail(f"parameter {node.name!r}")
        elif type(node) not in allowed:
            raise _fail(f"{type(node).__name__}")


def _check_tables(tree: exp.Expr, ctx: FilterContext) -> None:
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    lowered = {t.lower() for t in ctx.catalog}
    if any(c.lower() in lowered for c in ctes):
        raise _fail("a WITH name is a table name")
    for select in tree.find_all(exp.Select):
        aliases = [j.this.alias_or_name for j in select.args.get("joins") or []]
        source = select.args.get("from_") or select.args.get("from")
        if source is not None:
            aliases.append(source.this.alias_or_name)
        if len(aliases) != len(set(aliases)):
            raise _fail("a table listed twice")
    for table in tree.find_all(exp.Table):
        if table.args.get("db") or table.args.get("catalog"):
            raise _fail(f"schema-qualified table {table.sql()}")
        if table.name in ctes:
            continue
        if table.name not in ctx.catalog:
            raise _fail(f"table {table.name}")
        hidden = ctx.visibility.hidden_annotators
        if table.name in ANNOTATION_TABLES and hidden and not _hides(table, hidden):
            raise _fail(f"{table.name} is read without hiding others' private annotators")
        restricted = RESTRICTED.get(table.name)
        if restricted is None:
            continue
        id_col, kind = restricted
        if not _guarded(table, id_col, visible_ids(ctx, kind)):
            raise _fail(f"{table.name} is read without a restriction to your {kind}s")


def recheck(sql: str, engine: Engine, ctx: FilterContext) -> None:
    """Check ``sql``, the text ``engine`` will run, against ``ctx`` from scratch."""
    text = sql.replace("%%", "%") if engine == "postgres" else sql
    try:
        statements = sqlglot.parse(text, read=engine)
    except (ParseError, TokenError, RecursionError) as err:
        raise _fail(f"cannot parse it again ({type(err).__name__})") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        raise _fail("not exactly one SELECT")
    tree = statements[0]
    _check_nodes(tree, ctx)
    _check_tables(tree, ctx)
