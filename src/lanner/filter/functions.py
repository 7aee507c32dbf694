"""What a filter may contain, and how Lanner's own functions become each engine's SQL.

The filter language is checked on the sqlglot syntax tree against two allow-lists:
:data:`ALLOWED_NODES` (the SQL constructs: SELECT, joins, comparisons, CASE, subqueries...)
and :data:`ALLOWED_FUNCTIONS` (ordinary math, string, conditional and aggregate functions),
plus Lanner's functions:

``mjdnow()``
    The current time [MJD]; bound at run time, so a backtest sees the replayed batch's time.
``jdnow()``
    The same as a Julian date [JD] (``mjdnow() + 2400000.5``).
``flux2mag(flux)``
    AB magnitude of a flux [nJy]: ``31.4 - 2.5 log10(flux)``; NULL when ``flux <= 0``.
``JSON_EXTRACT(col, '$.path')`` (also ``col->'$.path'`` and ``col->>'$.path'``)
    A value inside a JSON text column (``annotations.classdict``), as text; as a number
    when compared with a number or used in arithmetic. Keys are letters, digits and ``_``,
    or quoted when they hold ``-`` (``'$."lsst-r".peak_mag'``); ``[N]`` picks an array item.

:func:`for_engine` rewrites those into DuckDB, SQLite or PostgreSQL expressions. Input and
output are sqlglot trees; no side effects.
"""

from __future__ import annotations

from typing import Literal

from sqlglot import exp

Engine = Literal["duckdb", "sqlite", "postgres"]
ENGINES: tuple[Engine, ...] = ("duckdb", "sqlite", "postgres")

#: Names of the run-time parameters every compiled filter may use.
NOW_PARAM = "lanner_now_mjd"
LIMIT_PARAM = "lanner_limit"
OFFSET_PARAM = "lanner_offset"

#: Lanner's own functions (name -> number of arguments), kept as ``exp.Anonymous``.
CUSTOM_FUNCTIONS: dict[str, int] = {"mjdnow": 0, "jdnow": 0, "flux2mag": 1}

_JD_MINUS_MJD = 2400000.5


def _classes(*names: str) -> frozenset[type[exp.Expr]]:
    # Some classes only exist in some sqlglot versions; take those that do.
    return frozenset(getattr(exp, n) for n in names if hasattr(exp, n))


#: Syntax constructs a filter may use (everything else is rejected by name).
ALLOWED_NODES: frozenset[type[exp.Expr]] = _classes(
    "Select",
    "From",
    "Join",
    "Table",
    "TableAlias",
    "Alias",
    "Column",
    "Identifier",
    "Star",
    "Literal",
    "Boolean",
    "Null",
    "Paren",
    "Neg",
    "Not",
    "And",
    "Or",
    "Xor",
    "EQ",
    "NEQ",
    "GT",
    "GTE",
    "LT",
    "LTE",
    "NullSafeEQ",
    "NullSafeNEQ",
    "Is",
    "In",
    "Between",
    "Like",
    "ILike",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "IntDiv",
    "Mod",
    "Where",
    "Order",
    "Ordered",
    "Limit",
    "Offset",
    "Group",
    "Having",
    "Subquery",
    "With",
    "CTE",
    "Distinct",
    "DataType",
    "DataTypeParam",
    "Case",
    "If",
    "Tuple",
    "Exists",
    "JSONPath",
    "JSONPathRoot",
    "JSONPathKey",
    "JSONPathSubscript",
)

#: Built-in functions a filter may call (sqlglot's typed function nodes).
ALLOWED_FUNCTIONS: frozenset[type[exp.Expr]] = _classes(
    # math
    "Abs",
    "Round",
    "Floor",
    "Ceil",
    "Sqrt",
    "Cbrt",
    "Exp",
    "Ln",
    "Log",
    "Pow",
    "Sign",
    "Sin",
    "Cos",
    "Tan",
    "Asin",
    "Acos",
    "Atan",
    "Atan2",
    "Cot",
    "Radians",
    "Degrees",
    "Pi",
    "Greatest",
    "Least",
    # conditional
    "Coalesce",
    "Nullif",
    "Case",
    "If",
    "Cast",
    "TryCast",
    # text (no REPEAT/LPAD: a tiny expression must not build a huge string)
    "Concat",
    "ConcatWs",
    "Substring",
    "Upper",
    "Lower",
    "Length",
    "Trim",
    "Replace",
    "StrPosition",
    "Left",
    "Right",
    # aggregates
    "Count",
    "Sum",
    "Avg",
    "Min",
    "Max",
    "Stddev",
    "StddevPop",
    "StddevSamp",
    "Variance",
    "VariancePop",
    "Median",
    # JSON inside annotation classdict
    "JSONExtract",
    "JSONExtractScalar",
)

#: Types a filter may CAST to (no regclass/OID tricks, no engine-specific types).
ALLOWED_CAST_TYPES: frozenset[object] = frozenset(
    getattr(exp.DataType.Type, n)
    for n in (
        "DOUBLE",
        "FLOAT",
        "DECIMAL",
        "INT",
        "BIGINT",
        "SMALLINT",
        "TINYINT",
        "TEXT",
        "VARCHAR",
        "CHAR",
        "BOOLEAN",
        "DATE",
        "TIMESTAMP",
        "UBIGINT",
        "UINT",
    )
    if hasattr(exp.DataType.Type, n)
)

NUMERIC_PARENTS: tuple[type[exp.Expr], ...] = (
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.EQ,
    exp.NEQ,
    exp.Between,
)


def function_name(node: exp.Func) -> str:
    """The name a user writes for ``node`` (lower-case)."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower()


def json_keys(path: exp.Expr) -> list[str] | None:
    """Keys of a simple JSON path (``$.a.b[0]`` -> ``["a", "b", "0"]``), or None."""
    if not isinstance(path, exp.JSONPath):
        return None
    keys: list[str] = []
    for i, part in enumerate(path.expressions):
        if isinstance(part, exp.JSONPathRoot) and i == 0:
            continue
        if isinstance(part, exp.JSONPathKey) and isinstance(part.this, str):
            # Letters, digits, _ and - (quoted in the path: '$."lsst-r".peak_mag').
            if not part.this.replace("_", "").replace("-", "").isalnum():
                return None
            keys.append(part.this)
        elif isinstance(part, exp.JSONPathSubscript) and isinstance(part.this, int):
            keys.append(str(part.this))
        else:
            return None
    return keys or None


def _json_path_text(keys: list[str]) -> str:
    return "$" + "".join(
        f"[{k}]" if k.isdigit() else f'."{k}"' if "-" in k else f".{k}" for k in keys
    )


def _numeric_context(node: exp.Expr) -> bool:
    """Whether a JSON value is used as a number (arithmetic, or compared with a number)."""
    parent = node.parent
    while isinstance(parent, exp.Paren):
        node, parent = parent, parent.parent
    if isinstance(parent, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
        return True
    if isinstance(parent, NUMERIC_PARENTS):
        others = [v for k, v in parent.args.items() if isinstance(v, exp.Expr)]
        return any(_number_literal(o) for o in others if o is not node)
    return False


def _number_literal(node: exp.Expr) -> bool:
    """A number written in the SQL: ``0.8``, ``-19``, ``(-1.5)``."""
    while isinstance(node, (exp.Paren, exp.Neg)):
        node = node.this
    return isinstance(node, exp.Literal) and not node.is_string


def _json_extract(node: exp.Expr, engine: Engine) -> exp.Expr:
    keys = json_keys(node.expression)
    assert keys is not None, "JSON paths are checked by the validator"
    col = node.this
    numeric = _numeric_context(node)
    path_text = exp.Literal.string(_json_path_text(keys))
    if engine == "sqlite":
        value = exp.Anonymous(this="json_extract", expressions=[col, path_text])
        if not numeric:
            # Text on every engine, so '= "SN"' means the same everywhere.
            return exp.Cast(this=value, to=exp.DataType.build("text"))
        kind = exp.Anonymous(this="json_type", expressions=[col.copy(), path_text.copy()])
        number_kinds = [exp.Literal.string("integer"), exp.Literal.string("real")]
        return exp.Case(
            ifs=[exp.If(this=exp.In(this=kind, expressions=number_kinds), true=value.copy())]
        )
    if engine == "duckdb":
        text = exp.Anonymous(this="json_extract_string", expressions=[col, path_text])
        if not numeric:
            return text
        kind = exp.Anonymous(this="json_type", expressions=[col.copy(), path_text.copy()])
        number_kinds = [exp.Literal.string(k) for k in ("DOUBLE", "BIGINT", "UBIGINT")]
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.In(this=kind, expressions=number_kinds),
                    true=exp.TryCast(this=text.copy(), to=exp.DataType.build("double")),
                )
            ]
        )
    doc = exp.Cast(this=col, to=exp.DataType.build("jsonb", dialect="postgres"))
    args = [doc, *(exp.Literal.string(k) for k in keys)]
    text = exp.Anonymous(this="jsonb_extract_path_text", expressions=args)
    if not numeric:
        return text
    # PostgreSQL raises on a bad cast; only cast values that are JSON numbers.
    kind = exp.Anonymous(
        this="jsonb_typeof",
        expressions=[
            exp.Anonymous(this="jsonb_extract_path", expressions=[a.copy() for a in args])
        ],
    )
    return exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=kind, expression=exp.Literal.string("number")),
                true=exp.Cast(this=text, to=exp.DataType.build("double")),
            )
        ]
    )


def _log10(x: exp.Expr, engine: Engine) -> exp.Expr:
    # PostgreSQL's one-argument LOG is base 10; DuckDB and SQLite spell it LOG10.
    return exp.Anonymous(this="log" if engine == "postgres" else "log10", expressions=[x])


def _custom(node: exp.Anonymous, engine: Engine) -> exp.Expr:
    name = str(node.this).lower()
    now = exp.Placeholder(this=NOW_PARAM)
    if name == "mjdnow":
        return now
    if name == "jdnow":
        return exp.Paren(this=exp.Add(this=now, expression=exp.Literal.number(_JD_MINUS_MJD)))
    if name == "flux2mag":
        flux = node.expressions[0]
        mag = exp.Sub(
            this=exp.Literal.number(31.4),
            expression=exp.Mul(this=exp.Literal.number(2.5), expression=_log10(flux, engine)),
        )
        positive = exp.GT(this=flux.copy(), expression=exp.Literal.number(0))
        return exp.Case(ifs=[exp.If(this=positive, true=mag)])
    return node


def _postgres_round(node: exp.Round) -> exp.Expr:
    # PostgreSQL has ROUND(numeric, int) but no ROUND(double precision, int).
    if node.args.get("decimals") is None:
        return node
    as_numeric = exp.Cast(this=node.this, to=exp.DataType.build("decimal"))
    rounded = exp.Round(this=as_numeric, decimals=node.args["decimals"])
    return exp.Cast(this=rounded, to=exp.DataType.build("double"))


def _postgres_log(node: exp.Log) -> exp.Expr:
    # PostgreSQL's LOG(b, x) works on NUMERIC and returns NUMERIC; keep double precision.
    base, x = node.this, node.expression
    if x is None:
        return node
    if isinstance(base, exp.Literal) and base.this in ("10", "10.0"):
        return exp.Anonymous(this="log", expressions=[x])
    return exp.Div(this=exp.Ln(this=x), expression=exp.Ln(this=base))


def _sqlite_left_right(node: exp.Left | exp.Right) -> exp.Expr:
    # SQLite has no LEFT()/RIGHT(); SUBSTR with a negative start counts from the end.
    n = node.expression
    if isinstance(node, exp.Left):
        return exp.Substring(this=node.this, start=exp.Literal.number(1), length=n)
    return exp.Substring(this=node.this, start=exp.Neg(this=n))


def for_engine(tree: exp.Expr, engine: Engine) -> exp.Expr:
    """Return a copy of a validated filter tree with Lanner's functions in ``engine``'s SQL."""

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, (exp.JSONExtract, exp.JSONExtractScalar)):
            return _json_extract(node, engine)
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in CUSTOM_FUNCTIONS:
            return _custom(node, engine)
        if engine == "postgres" and isinstance(node, exp.Round):
            return _postgres_round(node)
        if engine == "sqlite" and isinstance(node, (exp.Left, exp.Right)):
            return _sqlite_left_right(node)
        if engine == "postgres" and isinstance(node, exp.Log):
            return _postgres_log(node)
        return node

    return tree.copy().transform(rewrite, copy=False)
