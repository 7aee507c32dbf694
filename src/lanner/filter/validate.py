"""Check a parsed filter against the allow-lists, the catalog and the user's visibility.

The checks, in order:

1. every syntax node is an allowed construct (:data:`~lanner.filter.functions.ALLOWED_NODES`)
   and every function an allowed one: so no DDL/DML, ``PRAGMA``, ``ATTACH``, ``COPY``,
   ``INTO``, ``UNION``, ``WITH RECURSIVE``, query parameters, session variables, table
   functions (``read_csv``, ``duckdb_tables()``) or file functions (``pg_read_file``,
   ``load_extension``) - not by a list of bad words but because none is on the list;
2. every table is a catalog table (no schema-qualified names, so no ``pg_catalog``,
   ``information_schema`` or ``sqlite_master``), every column exists in the table it comes
   from; names are normalised to the declared spelling and every column is qualified, so the
   SQL generated for each engine is unambiguous;
3. watchlists and watchmaps named in the table list are visible to the user, and every other
   reference to a watchlist/watchmap table is wrapped in a sub-query restricted to visible
   ids, so a private watchlist cannot be read by naming its id in a condition.

Input: a :class:`~lanner.filter.language.ParsedFilter` and a :class:`FilterContext`. Output:
the same tree, checked and normalised, and what it uses. Raises
:class:`~lanner.filter.errors.FilterRejectedError`. No side effects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.scope import Scope, traverse_scope

from lanner.batch import OBJECT_ID_COLUMN
from lanner.filter.bounds import check_bounds
from lanner.filter.errors import FilterRejectedError, allowed_list, did_you_mean
from lanner.filter.functions import (
    ALLOWED_CAST_TYPES,
    ALLOWED_FUNCTIONS,
    ALLOWED_NODES,
    CUSTOM_FUNCTIONS,
    function_name,
    json_keys,
)
from lanner.filter.language import ParsedFilter
from lanner.schema.columns import Table

#: Tables whose rows belong to a watchlist/watchmap owner: table -> (id column, kind).
RESTRICTED: dict[str, tuple[str, str]] = {
    "watchlist_hits": ("wl_id", "watchlist"),
    "watchlists": ("wl_id", "watchlist"),
    "area_hits": ("ar_id", "watchmap"),
    "watchmaps": ("ar_id", "watchmap"),
}

#: Lasair-LSST's table of the diaObject pass-throughs (``objects_ext.g_psfFluxSigma``); Lanner
#: keeps those columns in ``objects``, so the name is read as ``objects AS objects_ext``.
OBJECTS_EXT = "objects_ext"

_NODE_NAMES = {
    "Union": "UNION",
    "Intersect": "INTERSECT",
    "Except": "EXCEPT",
    "Placeholder": "a query parameter",
    "Parameter": "a query parameter",
    "SessionParameter": "a session variable",
    "Into": "SELECT ... INTO",
    "Lock": "FOR UPDATE",
    "Command": "a command",
    "Window": "a window function",
    "Lateral": "LATERAL",
    "Unnest": "UNNEST",
    "Values": "VALUES",
    "TableSample": "TABLESAMPLE",
    "Interval": "INTERVAL",
}


#: Tables of annotations, each read only outside the topics hidden from the filter's owner
#: (the private annotators of other users).
ANNOTATION_TABLES = ("annotations", "annotation_history")


@dataclass(frozen=True)
class Visibility:
    """Watchlists and watchmaps a user's filters may read: the public ones and their own;
    and the annotator topics they may not read (other users' private annotators)."""

    watchlists: frozenset[int] = frozenset()
    watchmaps: frozenset[int] = frozenset()
    hidden_annotators: frozenset[str] = frozenset()

    def ids(self, kind: str) -> frozenset[int]:
        return self.watchlists if kind == "watchlist" else self.watchmaps


@dataclass(frozen=True)
class FilterContext:
    """What a filter is checked against.

    Parameters
    ----------
    survey
        ``ztf`` or ``lsst``; fixes the object id column.
    catalog
        Tables a filter may name, by name (the survey's filterable tables).
    visibility
        Watchlist and watchmap ids the filter's owner may read.
    tns_watchlist_id
        Watchlist linking objects to ``crossmatch_tns`` (None: no TNS on this deployment).
    extra_functions
        More function names to allow (test-only functions, engine UDFs an operator adds).
    """

    survey: str
    catalog: Mapping[str, Table]
    visibility: Visibility = field(default_factory=Visibility)
    tns_watchlist_id: int | None = None
    extra_functions: frozenset[str] = frozenset()

    @property
    def object_id(self) -> str:
        return OBJECT_ID_COLUMN[self.survey]


@dataclass
class Checked:
    """A validated filter tree and what it uses."""

    tree: exp.Select
    tables: set[str] = field(default_factory=set)
    where_columns: list[str] = field(default_factory=list)


class _Checker:
    def __init__(self, parsed: ParsedFilter, ctx: FilterContext):
        self.parsed = parsed
        self.ctx = ctx
        self.tree = parsed.tree
        self.catalog = {name.lower(): name for name in ctx.catalog}
        self.used: set[str] = set()

    # -- where in the user's text a node came from, for error messages
    def where(self, node: exp.Expr) -> str:
        if self.parsed.form == "sql":
            return "sql"
        top = node
        while top.parent is not None and top.parent is not self.tree:
            top = top.parent
        return {
            "expressions": "selected",
            "joins": "tables",
            "from": "tables",
            "from_": "tables",
        }.get(top.arg_key or "", "conditions")

    def reject(self, problem: str, node: exp.Expr, hint: str | None = None) -> NoReturn:
        raise FilterRejectedError(problem, self.where(node), hint)

    # -- 1. constructs and functions
    def check_nodes(self) -> None:
        for node in self.tree.walk():
            kind = type(node)
            if kind in ALLOWED_FUNCTIONS:
                self.check_function(node)
            elif isinstance(node, exp.Anonymous):
                name = str(node.this).lower()
                if name in CUSTOM_FUNCTIONS:
                    if len(node.expressions) != CUSTOM_FUNCTIONS[name]:
                        self.reject(f"{name}() takes {CUSTOM_FUNCTIONS[name]} argument(s)", node)
                elif name not in self.ctx.extra_functions:
                    self.reject_function(name, node)
            elif kind not in ALLOWED_NODES:
                if isinstance(node, exp.Func):
                    self.reject_function(function_name(node), node)
                label = _NODE_NAMES.get(kind.__name__, kind.__name__.upper())
                self.reject(
                    f"{label} is not allowed",
                    node,
                    "a filter is one SELECT over the listed tables",
                )
            if isinstance(node, exp.With) and node.args.get("recursive"):
                self.reject("WITH RECURSIVE is not allowed", node, "use joins or sub-queries")
            if isinstance(node, exp.Table) and (node.args.get("db") or node.args.get("catalog")):
                self.reject(
                    f"schema-qualified table {node.sql()!r}",
                    node,
                    "name tables without a schema: " + ", ".join(sorted(self.catalog)),
                )
            if isinstance(node, exp.Column) and (node.args.get("db") or node.args.get("catalog")):
                self.reject(
                    f"column name {node.sql()!r} has too many parts", node, "write table.column"
                )

        check_bounds(self.tree, self.catalog.values(), self.reject)

    def reject_function(self, name: str, node: exp.Expr) -> NoReturn:
        if isinstance(node.parent, exp.Table):
            tables = ", ".join(sorted(self.catalog.values()))
            self.reject(f"table function {name}() is not allowed", node, f"read from: {tables}")
        names = {function_name_of(c) for c in ALLOWED_FUNCTIONS} | set(CUSTOM_FUNCTIONS)
        hint = did_you_mean(name, names, quote="") or allowed_list("functions", names)
        self.reject(f"function {name}() is not allowed", node, hint)

    def check_function(self, node: exp.Expr) -> None:
        if (
            isinstance(node, (exp.JSONExtract, exp.JSONExtractScalar))
            and json_keys(node.expression) is None
        ):
            self.reject("JSON_EXTRACT needs a literal path like '$.key' or '$.a.b[0]'", node)
        if isinstance(node, (exp.Cast, exp.TryCast)):
            to = node.args["to"]
            if to.this not in ALLOWED_CAST_TYPES:
                self.reject(
                    f"CAST to {to.sql()} is not allowed",
                    node,
                    "cast to DOUBLE, BIGINT, INT, DECIMAL, TEXT, BOOLEAN or DATE",
                )
            if to.this == exp.DataType.Type.CHAR and not to.expressions:
                # MySQL's CAST(x AS CHAR) is a string; PostgreSQL's CHAR is one character.
                node.set("to", exp.DataType.build("text"))

    # -- 2. tables and columns
    def lookup(self, scope: Scope, alias: str) -> tuple[str, exp.Table | Scope] | None:
        current: Scope | None = scope
        while current is not None:
            for name, source in current.sources.items():
                if name.lower() == alias.lower():
                    return name, source
            current = current.parent
        return None

    def table_of(self, source: exp.Table) -> Table:
        return self.ctx.catalog[self.catalog[source.name.lower()]]

    def check_tables(self, scope: Scope) -> None:
        for source in scope.sources.values():
            if not isinstance(source, exp.Table):
                continue
            key = source.name.lower()
            if key == OBJECTS_EXT and self.ctx.survey == "lsst" and key not in self.catalog:
                # Lasair-LSST keeps the diaObject pass-throughs in a second table; Lanner in
                # objects: `objects_ext` reads objects, under its own name.
                if not source.alias:
                    source.set("alias", exp.TableAlias(this=exp.to_identifier(source.name)))
                key = "objects"
            if key not in self.catalog:
                hint = did_you_mean(source.name, self.catalog.values()) or allowed_list(
                    "tables", self.catalog.values()
                )
                self.reject(f"unknown table `{source.name}`", source, hint)
            name = self.catalog[key]
            source.set("this", exp.to_identifier(name))
            self.used.add(name)

    def outputs(self, source: exp.Table | Scope) -> list[str]:
        if isinstance(source, exp.Table):
            return self.table_of(source).column_names
        select = source.expression
        return list(select.named_selects) if isinstance(select, exp.Query) else []

    def resolve_column(self, scope: Scope, col: exp.Column) -> None:
        if col.table:
            found = self.lookup(scope, col.table)
            if found is None:
                if self.parsed.form == "lasair" and col.table.lower() in self.catalog:
                    self.reject(
                        f"table `{col.table}` is not in the tables",
                        col,
                        f"add {self.catalog[col.table.lower()]} to the tables",
                    )
                aliases = [a for s in _chain(scope) for a in s.sources]
                self.reject(
                    f"unknown table `{col.table}` in `{col.sql()}`",
                    col,
                    did_you_mean(col.table, aliases) or allowed_list("here", aliases),
                )
            alias, source = found
            alias = _canonical_alias(alias, source)
            names = self.outputs(source)
            match = [n for n in names if n.lower() == col.name.lower()]
            if not match:
                self.reject(
                    f"unknown column `{col.table}.{col.name}`",
                    col,
                    did_you_mean(col.name, names) or allowed_list("columns", names),
                )
            col.set("this", exp.to_identifier(match[0]))
            col.set("table", exp.to_identifier(alias))
            return
        select = scope.expression
        in_order = col.find_ancestor(exp.Order, exp.Group, exp.Having) is not None
        if (
            in_order
            and isinstance(select, exp.Select)
            and any(a.lower() == col.name.lower() for a in select.named_selects)
        ):
            return  # a reference to a SELECT alias
        for current in _chain(scope):
            hits = [
                (alias, src)
                for alias, src in current.sources.items()
                if any(n.lower() == col.name.lower() for n in self.outputs(src))
            ]
            if hits:
                alias, src = hits[0]  # joins are on equal object ids: the first is right
                if len(hits) > 1 and col.name.lower() != self.ctx.object_id.lower():
                    both = ", ".join(f"`{a}.{col.name}`" for a, _ in hits)
                    self.reject(f"column `{col.name}` is ambiguous", col, f"write {both}")
                name = next(n for n in self.outputs(src) if n.lower() == col.name.lower())
                col.set("this", exp.to_identifier(name))
                col.set("table", exp.to_identifier(_canonical_alias(alias, src)))
                return
        pool = [n for s in _chain(scope) for src in s.sources.values() for n in self.outputs(src)]
        self.reject(
            f"unknown column `{col.name}`",
            col,
            did_you_mean(col.name, pool) or allowed_list("columns", pool),
        )

    def expand_stars(self, scope: Scope) -> None:
        select = scope.expression
        if not isinstance(select, exp.Select):
            return
        items: list[exp.Expr] = []
        order = list(scope.selected_sources)
        for item in select.expressions:
            star_of: list[str] | None = None
            if isinstance(item, exp.Star):
                star_of = order
            elif isinstance(item, exp.Column) and isinstance(item.this, exp.Star):
                found = self.lookup(scope, item.table)
                if found is None:
                    self.reject(f"unknown table `{item.table}` in `{item.sql()}`", item)
                star_of = [found[0]]
            if star_of is None:
                items.append(item)
                continue
            for alias in star_of:
                found = self.lookup(scope, alias)
                assert found is not None
                alias = _canonical_alias(*found)
                items += [exp.column(n, table=alias) for n in self.outputs(found[1])]
        select.set("expressions", items)

    def check_scopes(self) -> None:
        try:
            scopes = list(traverse_scope(self.tree))
        except OptimizeError as err:
            where = "sql" if self.parsed.form == "sql" else None
            raise FilterRejectedError(str(err), where) from None
        for scope in scopes:
            self.check_tables(scope)
        for scope in scopes:
            for col in scope.columns:
                self.resolve_column(scope, col)
            self.expand_stars(scope)

    # -- 3. visibility
    def visible(self, kind: str) -> frozenset[int]:
        return visible_ids(self.ctx, kind)

    def check_visibility(self) -> None:
        for kind, ids in (
            ("watchlist", self.parsed.watchlists),
            ("watchmap", self.parsed.watchmaps),
        ):
            for wid in ids:
                if wid not in self.visible(kind):
                    raise FilterRejectedError(
                        f"{kind} {wid} is not visible to you",
                        "tables",
                        f"it is private to another user or does not exist; use your own "
                        f"or a public {kind}",
                    )
        hidden = self.ctx.visibility.hidden_annotators
        for topic in self.parsed.annotators:
            if topic in hidden:
                raise FilterRejectedError(
                    f"annotator {topic} is not visible to you",
                    "tables",
                    "it is private to another user or does not exist; use a public annotator "
                    "or ask its owner to authorise you",
                )
        for table in list(self.tree.find_all(exp.Table)):
            if table.name.lower() in ANNOTATION_TABLES and hidden:
                self._hide_topics(table, sorted(hidden))
                continue
            restricted = RESTRICTED.get(table.name.lower())
            if restricted is None or self.parsed.is_checked_join(table):
                continue
            id_col, kind = restricted
            visible = sorted(self.visible(kind))
            inner_table = exp.to_table(table.name)
            cond: exp.Expr = (
                exp.In(
                    this=exp.column(id_col, table=table.name),
                    expressions=[exp.Literal.number(i) for i in visible],
                )
                if visible
                else exp.false()
            )
            cols = [
                exp.column(c, table=table.name) for c in self.ctx.catalog[table.name].column_names
            ]
            inner = exp.Select(expressions=cols).from_(inner_table).where(cond)
            table.replace(
                exp.Subquery(
                    this=inner, alias=exp.TableAlias(this=exp.to_identifier(table.alias_or_name))
                )
            )

    def _hide_topics(self, table: exp.Table, hidden: list[str]) -> None:
        """Read ``table`` through a sub-query without the ``hidden`` topics."""
        name = table.name.lower()
        cond = exp.Not(
            this=exp.In(
                this=exp.column("topic", table=name),
                expressions=[exp.Literal.string(t) for t in hidden],
            )
        )
        cols = [exp.column(c, table=name) for c in self.ctx.catalog[name].column_names]
        inner = exp.Select(expressions=cols).from_(exp.to_table(name)).where(cond)
        table.replace(
            exp.Subquery(
                this=inner, alias=exp.TableAlias(this=exp.to_identifier(table.alias_or_name))
            )
        )


def visible_ids(ctx: FilterContext, kind: str) -> frozenset[int]:
    """Ids of the watchlists (``kind="watchlist"``) or watchmaps the filter's owner may read."""
    ids = set(ctx.visibility.ids(kind))
    if kind == "watchlist" and ctx.tns_watchlist_id is not None:
        ids.add(ctx.tns_watchlist_id)  # the TNS watchlist is public
    return frozenset(ids)


def _canonical_alias(alias: str, source: exp.Table | Scope) -> str:
    """The name a column must be qualified with: an unaliased table is known by its
    (normalised) catalog name, whatever case the user wrote it in."""
    if isinstance(source, exp.Table) and not source.alias:
        return source.name
    return alias


def _chain(scope: Scope) -> list[Scope]:
    out: list[Scope] = []
    current: Scope | None = scope
    while current is not None:
        out.append(current)
        current = current.parent
    return out


def function_name_of(kind: type[exp.Expr]) -> str:
    sql_names = getattr(kind, "_sql_names", None)
    return str(sql_names[0]).lower() if sql_names else kind.__name__.lower()


def validate(parsed: ParsedFilter, ctx: FilterContext) -> Checked:
    """Check ``parsed`` in place; raise :class:`FilterRejectedError` with what to fix."""
    checker = _Checker(parsed, ctx)
    checker.check_nodes()
    checker.check_scopes()
    where = parsed.tree.args.get("where")
    where_columns: list[str] = []
    if where is not None:
        for col in where.find_all(exp.Column, bfs=False):
            # Only columns of this SELECT's own sources (not of sub-queries' tables).
            if col.find_ancestor(exp.Subquery) is None and col.table:
                name = f"{col.table}.{col.name}"
                if name not in where_columns:
                    where_columns.append(name)
    checker.check_visibility()
    return Checked(tree=parsed.tree, tables=checker.used, where_columns=where_columns)
