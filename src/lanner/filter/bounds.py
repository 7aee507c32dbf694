"""Bounds the validator puts on what one filter can make an engine build or search.

An engine cannot interrupt a single call of a string function (SQLite checks its progress
handler between virtual-machine steps, PostgreSQL its ``statement_timeout`` at points inside
loops that not every function has), so no query may build a string far larger than the
values stored in the archive, nor search such a string. :func:`check_bounds` refuses:

* ``concat``, ``concat_ws`` and ``replace`` (the functions that make a longer string than
  they are given) anywhere but in the outermost SELECT, so no CTE or sub-query can feed a
  built string into another one; ``replace`` inside another ``replace``; a ``replace``
  whose pattern is not a non-empty literal or whose replacement is not a literal of at most
  :data:`MAX_REPLACEMENT` characters;
* a string built by those functions as an argument of ``instr``/``strpos``/``locate`` or
  ``LIKE`` (searches are at most quadratic in values the archive holds);
* ``LIKE`` patterns with more than :data:`MAX_LIKE_WILDCARDS` ``%`` (backtracking);
* string literals longer than :data:`MAX_LITERAL`, numbers longer than :data:`MAX_NUMBER`
  characters, ``CHAR(n)``/``VARCHAR(n)`` with ``n`` above :data:`MAX_CHAR_LENGTH`;
* ``LIMIT``/``OFFSET`` outside ``0 ..`` :data:`MAX_LIMIT`;
* the same table or alias twice in one FROM (``table listed twice``), and ``WITH`` names
  that are table names (a CTE must not shadow a catalog table).

Input: a parsed SELECT tree and a ``reject(problem, node, hint)`` callback. Output: none
(the callback raises). No side effects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NoReturn

from sqlglot import exp

#: Longest string literal [characters].
MAX_LITERAL = 4_096
#: Longest number literal [characters].
MAX_NUMBER = 100
#: Longest replacement text of ``replace()`` [characters].
MAX_REPLACEMENT = 64
#: Most ``%`` wildcards in one LIKE pattern.
MAX_LIKE_WILDCARDS = 4
#: Largest length of ``CHAR(n)``/``VARCHAR(n)``.
MAX_CHAR_LENGTH = 1_000
#: Largest LIMIT and OFFSET.
MAX_LIMIT = 1_000_000_000

Reject = Callable[[str, exp.Expr, str | None], NoReturn]

_GROWTH: tuple[type[exp.Expr], ...] = (exp.Concat, exp.ConcatWs, exp.Replace)
_SEARCH: tuple[type[exp.Expr], ...] = (exp.StrPosition, exp.Like, exp.ILike)
_CHAR_TYPES = {exp.DataType.Type.CHAR, exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT}


_NAMES: dict[type[exp.Expr], str] = {exp.StrPosition: "instr", exp.Like: "LIKE", exp.ILike: "ILIKE"}


def _name(node: exp.Expr) -> str:
    return _NAMES.get(type(node), type(node).__name__.lower())


def _check_literal(node: exp.Literal, reject: Reject) -> None:
    text = str(node.this)
    if node.is_string and len(text) > MAX_LITERAL:
        reject(
            f"a string of {len(text):,} characters; at most {MAX_LITERAL:,} are allowed",
            node,
            "use a watchlist for long lists",
        )
    if not node.is_string and len(text) > MAX_NUMBER:
        reject(f"a number of {len(text):,} digits", node, f"at most {MAX_NUMBER} are allowed")


def _check_limit(node: exp.Limit | exp.Offset, reject: Reject) -> None:
    value = node.expression
    word = "LIMIT" if isinstance(node, exp.Limit) else "OFFSET"
    if not (isinstance(value, exp.Literal) and value.is_int):
        reject(f"{word} must be a whole number", node, None)
    if not 0 <= int(value.this) <= MAX_LIMIT:
        reject(f"{word} {value.this} is out of range", node, f"use 0 to {MAX_LIMIT:,}")


def _check_growth(node: exp.Expr, root: exp.Expr, reject: Reject) -> None:
    name = _name(node)
    if node.find_ancestor(exp.Select) is not root:
        reject(
            f"{name}() inside a sub-query or WITH",
            node,
            "build strings only in the outer SELECT",
        )
    search = node.find_ancestor(*_SEARCH)
    if search is not None:
        reject(f"{_name(search)} over a string built by {name}()", node, "search a column")
    if not isinstance(node, exp.Replace):
        return
    if node.find_ancestor(exp.Replace) is not None:
        reject("replace() inside replace()", node, "replace once")
    pattern, replacement = node.expression, node.args.get("replacement")
    if not (isinstance(pattern, exp.Literal) and pattern.is_string and pattern.this):
        reject("replace() needs a non-empty literal text to find", node, None)
    if not (
        isinstance(replacement, exp.Literal)
        and replacement.is_string
        and len(replacement.this) <= MAX_REPLACEMENT
    ):
        reject(
            f"replace() needs a literal replacement of at most {MAX_REPLACEMENT} characters",
            node,
            None,
        )


def _check_sources(select: exp.Select, catalog: Iterable[str], reject: Reject) -> None:
    seen: set[str] = set()
    joins = select.args.get("joins") or []
    source = select.args.get("from_") or select.args.get("from")
    items = ([source.this] if source is not None else []) + [j.this for j in joins]
    for item in items:
        name = item.alias_or_name.lower()
        if name and name in seen:
            reject(
                f"table `{item.alias_or_name}` listed twice",
                item,
                "give each use of a table its own alias: FROM objects a, objects b",
            )
        seen.add(name)
    tables = {c.lower() for c in catalog}
    with_ = select.args.get("with_") or select.args.get("with")
    for cte in with_.expressions if with_ is not None else []:
        if cte.alias.lower() in tables:
            reject(f"WITH name `{cte.alias}` is a table's name", cte, "choose another name")


def check_bounds(tree: exp.Select, catalog: Iterable[str], reject: Reject) -> None:
    """Refuse what :mod:`lanner.filter.bounds` documents; ``reject`` raises."""
    names = list(catalog)
    for node in tree.walk():
        if isinstance(node, exp.Literal):
            _check_literal(node, reject)
        elif isinstance(node, (exp.Limit, exp.Offset)):
            _check_limit(node, reject)
        elif isinstance(node, exp.Select):
            _check_sources(node, names, reject)
        elif isinstance(node, _GROWTH):
            _check_growth(node, tree, reject)
        elif isinstance(node, (exp.Like, exp.ILike)):
            pattern = node.expression
            if isinstance(pattern, exp.Literal) and pattern.this.count("%") > MAX_LIKE_WILDCARDS:
                reject(
                    f"a LIKE pattern with more than {MAX_LIKE_WILDCARDS} '%'",
                    node,
                    "use fewer wildcards",
                )
        elif isinstance(node, exp.DataType) and node.this in _CHAR_TYPES:
            for param in node.expressions:
                size = param.this if isinstance(param, exp.DataTypeParam) else param
                if isinstance(size, exp.Literal) and (
                    not size.is_int or int(size.this) > MAX_CHAR_LENGTH
                ):
                    reject(
                        f"{node.sql()} is longer than {MAX_CHAR_LENGTH:,} characters",
                        node,
                        None,
                    )
