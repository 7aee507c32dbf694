"""Parse a user's filter into one sqlglot SELECT tree, generating the kit joins.

Two forms are accepted, both in Lasair's (MySQL) dialect, so strings may be in ``'...'`` or
``"..."`` and identifiers may be back-quoted:

Lasair's form, three strings (what the ``lasair`` Python client sends):
    ``selected``  ``objects.objectId, objects.gmag``
    ``tables``    ``objects, sherlock_classifications, watchlist:12, annotator:fastfinker``
    ``conditions`` ``objects.gmag < 18 ORDER BY objects.gmag`` (may be empty or start with
    ``ORDER BY``)
A full statement:
    ``SELECT ... FROM ... [JOIN ...] WHERE ... ORDER BY ... LIMIT ...``

In Lasair's form the ``tables`` list names kit relations that are joined on the object id:
``sherlock_classifications`` (and any other catalog table carrying the object id),
``crossmatch_tns`` (through the hits of the TNS watchlist), ``watchlist:N``,
``watchmap:N`` / ``area:N``, ``annotator:TOPIC``; ``N`` and ``TOPIC`` may be ``a&b`` lists,
each joined under its own alias (``wl0``, ``wl1``; ``ar0``, ``ar1``; the topic names).
Joins are explicit ``JOIN ... ON`` so that nothing in ``conditions`` can loosen them.

Input: text. Output: an unvalidated :class:`ParsedFilter` (the validator checks names).
No side effects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lanner.filter.errors import FilterRejectedError, FilterSyntaxError
from lanner.filter.guard import MAX_TEXT_LENGTH, prepare

#: Most kit relations and tables Lasair's table list may join to ``objects``.
MAX_JOINS = 32

#: Dialect user text is read in (Lasair runs MySQL; its filters must run unchanged).
READ_DIALECT = "mysql"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KIT_PREFIXES = {
    "watchlist": "watchlist",
    "watchmap": "watchmap",
    "area": "watchmap",
    "annotator": "annotator",
}


@dataclass
class ParsedFilter:
    """A filter as one SELECT tree plus what its table list asked for."""

    tree: exp.Select
    form: str  # "lasair" or "sql"
    watchlists: list[int] = field(default_factory=list)
    watchmaps: list[int] = field(default_factory=list)
    annotators: list[str] = field(default_factory=list)
    uses_tns: bool = False
    #: Hits-table references Lanner generated with their id checked, kept by identity:
    #: nothing in the user's text can add to this list.
    checked_joins: list[exp.Table] = field(default_factory=list)

    def is_checked_join(self, table: exp.Table) -> bool:
        return any(table is t for t in self.checked_joins)


def _syntax_error(err: ParseError | TokenError, where: str, offset: int) -> FilterSyntaxError:
    if isinstance(err, ParseError) and err.errors:
        first = err.errors[0]
        desc = str(first.get("description") or "invalid SQL")
        line, col = first.get("line"), first.get("col")
        if isinstance(line, int) and isinstance(col, int):
            if line == 1:
                col = max(col - offset, 1)
            near = str(first.get("highlight") or "")
            hint = f"near {near!r}" if near else None
            return FilterSyntaxError(desc, f"{where}, line {line} column {col}", hint)
        return FilterSyntaxError(desc, where)
    return FilterSyntaxError(
        "cannot split the text into SQL words",
        where,
        "look for an unclosed quote or a stray character",
    )


def parse_one_statement(text: str, where: str, offset: int = 0) -> exp.Expr:
    """Parse ``text`` that must hold exactly one statement (a trailing ``;`` is allowed).

    The text is first bounded and its comments blanked (:func:`~lanner.filter.guard.prepare`);
    the tree returned carries no comments and no metadata.
    """
    clean = prepare(text, where, offset)
    try:
        statements = [s for s in sqlglot.parse(clean, read=READ_DIALECT) if s is not None]
    except (ParseError, TokenError) as err:
        raise _syntax_error(err, where, offset) from None
    except RecursionError:
        raise FilterRejectedError("the filter nests too deeply", where) from None
    for statement in statements:
        for node in statement.walk():
            if node.comments:
                raise FilterRejectedError("comments are not allowed here", where)
            node._meta = None  # nothing read from the text may steer the validator
    if not statements:
        raise FilterSyntaxError("empty statement", where, "write a SELECT statement")
    if len(statements) > 1:
        kinds = ", ".join(type(s).__name__.upper() for s in statements)
        raise FilterRejectedError(
            f"{len(statements)} statements ({kinds})",
            where,
            "a filter is exactly one SELECT statement; remove the ';' and what follows",
        )
    return statements[0]


def parse_statement(sql: str) -> ParsedFilter:
    """Parse a full ``SELECT ... FROM ...`` filter."""
    tree = parse_one_statement(sql, "sql")
    if not isinstance(tree, exp.Select):
        raise FilterRejectedError(
            f"{type(tree).__name__.upper()} statement",
            "sql",
            "a filter is one SELECT statement",
        )
    return ParsedFilter(tree=tree, form="sql")


def _parse_selected(selected: str) -> list[exp.Expr]:
    if not selected.strip():
        raise FilterRejectedError(
            "the SELECT list is empty",
            "selected",
            "name the columns to return, e.g. objects.objectId, or *",
        )
    prefix = "SELECT "
    tree = parse_one_statement(prefix + selected, "selected", len(prefix))
    if not isinstance(tree, exp.Select):
        raise FilterRejectedError("not a list of columns", "selected")
    extra = [k for k, v in tree.args.items() if v and k not in ("expressions", "kind")]
    if extra:
        raise FilterRejectedError(
            f"{extra[0].rstrip('_').upper()} clause in the SELECT list",
            "selected",
            "put tables in 'tables' and conditions in 'conditions'",
        )
    return list(tree.expressions)


def _parse_conditions(conditions: str) -> dict[str, exp.Expr]:
    text = conditions.strip()
    if not text:
        return {}
    starts_with_order = re.match(r"(?is)^order\s+by\b", text) is not None
    prefix = "SELECT 1 FROM lanner_conditions " + ("" if starts_with_order else "WHERE ")
    tree = parse_one_statement(prefix + text, "conditions", len(prefix))
    if not isinstance(tree, exp.Select):
        raise FilterRejectedError(
            f"{type(tree).__name__.upper()} in the conditions",
            "conditions",
            "conditions are a WHERE expression, optionally followed by ORDER BY",
        )
    parts: dict[str, exp.Expr] = {}
    for key, value in tree.args.items():
        if key in ("expressions", "from", "from_") or not value:
            continue
        if key not in ("where", "group", "having", "order", "limit", "offset"):
            raise FilterRejectedError(
                f"{key.upper()} clause in the conditions",
                "conditions",
                "conditions are a WHERE expression, then GROUP BY, HAVING, ORDER BY, LIMIT",
            )
        parts[key] = value
    return parts


def _object_id_eq(left: str, right: str, oid: str) -> exp.EQ:
    return exp.EQ(this=exp.column(oid, table=left), expression=exp.column(oid, table=right))


def _hits_join(
    parsed: ParsedFilter,
    table: str,
    alias: str | None,
    id_col: str,
    id_value: int,
    oid: str,
    base: str,
) -> exp.Join:
    ref = exp.to_table(table)
    if alias:
        ref.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    parsed.checked_joins.append(ref)
    name = alias or table
    on = exp.and_(
        _object_id_eq(base, name, oid),
        exp.EQ(this=exp.column(id_col, table=name), expression=exp.Literal.number(id_value)),
    )
    return exp.Join(this=ref, on=on, kind="")


def _ids(kind: str, spec: str, item: str) -> list[int]:
    try:
        return [int(x) for x in spec.split("&")]
    except ValueError:
        raise FilterRejectedError(
            f"{item!r} is not of the form {kind}:N",
            "tables",
            f"write {kind}:12 or {kind}:12&15 with numeric ids",
        ) from None


def parse_lasair(
    selected: str, tables: str, conditions: str, object_id: str, tns_watchlist_id: int | None
) -> ParsedFilter:
    """Build the SELECT tree of a Lasair-form filter, with joins on ``object_id``.

    Parameters
    ----------
    selected, tables, conditions
        The three parts, as the Lasair client sends them.
    object_id
        Name of the object id column (``objectId`` or ``diaObjectId``).
    tns_watchlist_id
        Id of the watchlist whose hits link objects to ``crossmatch_tns``, or None when
        this deployment has no TNS cross-match.
    """
    parsed = ParsedFilter(tree=exp.Select(), form="lasair")
    others: list[str] = []
    if len(tables) > MAX_TEXT_LENGTH:
        raise FilterRejectedError(
            f"the table list is {len(tables):,} characters long", "tables", "name fewer tables"
        )
    for raw in tables.split(","):
        item = raw.strip()
        if not item:
            continue
        head, sep, spec = item.partition(":")
        kind = _KIT_PREFIXES.get(head.strip().lower()) if sep else None
        if sep and kind is None:
            raise FilterRejectedError(
                f"unknown table form {item!r}",
                "tables",
                "use watchlist:N, watchmap:N, area:N or annotator:TOPIC",
            )
        if kind == "watchlist":
            parsed.watchlists += _ids("watchlist", spec, item)
        elif kind == "watchmap":
            parsed.watchmaps += _ids(head.strip().lower(), spec, item)
        elif kind == "annotator":
            for topic in spec.split("&"):
                if not _IDENT.match(topic.strip()):
                    raise FilterRejectedError(
                        f"annotator topic {topic.strip()!r} is not a name",
                        "tables",
                        "topics are letters, digits and _",
                    )
                parsed.annotators.append(topic.strip())
        elif item.lower() == "crossmatch_tns":
            parsed.uses_tns = True
        elif item.lower() != "objects":
            others.append(item)

    joins = len(others) + len(parsed.watchlists) + len(parsed.watchmaps) + len(parsed.annotators)
    if joins > MAX_JOINS:
        raise FilterRejectedError(
            f"{joins} tables to join; at most {MAX_JOINS} are allowed", "tables", "name fewer"
        )
    base = "objects"
    tree = exp.Select(expressions=_parse_selected(selected)).from_(base, copy=False)
    for name in others:
        if not _IDENT.match(name):
            raise FilterRejectedError(f"{name!r} is not a table name", "tables")
        if name.lower() == "mma_areas":
            continue  # joined through its hits below
        tree = tree.join(
            exp.Join(this=exp.to_table(name), on=_object_id_eq(base, name, object_id)), copy=False
        )
    if "mma_areas" in (n.lower() for n in others):
        # A sky map's attributes reach an object through that map's hits.
        if "mma_area_hits" not in (n.lower() for n in others):
            raise FilterRejectedError(
                "mma_areas is joined through mma_area_hits", "tables", "add mma_area_hits"
            )
        through = exp.EQ(
            this=exp.column("mw_id", table="mma_areas"),
            expression=exp.column("mw_id", table="mma_area_hits"),
        )
        tree = tree.join(exp.Join(this=exp.to_table("mma_areas"), on=through), copy=False)
    many = len(parsed.watchlists) > 1
    for i, wl in enumerate(parsed.watchlists):
        tree = tree.join(
            _hits_join(
                parsed, "watchlist_hits", f"wl{i}" if many else None, "wl_id", wl, object_id, base
            ),
            copy=False,
        )
    many = len(parsed.watchmaps) > 1
    for i, ar in enumerate(parsed.watchmaps):
        tree = tree.join(
            _hits_join(
                parsed, "area_hits", f"ar{i}" if many else None, "ar_id", ar, object_id, base
            ),
            copy=False,
        )
    if parsed.uses_tns:
        if tns_watchlist_id is None:
            raise FilterRejectedError(
                "crossmatch_tns is not available on this deployment",
                "tables",
                "remove crossmatch_tns from the tables",
            )
        # Lasair users write watchlist_hits.* for the TNS match; keep that name when free.
        alias = "tns_hits" if parsed.watchlists else None
        tree = tree.join(
            _hits_join(parsed, "watchlist_hits", alias, "wl_id", tns_watchlist_id, object_id, base),
            copy=False,
        )
        hits = alias or "watchlist_hits"
        tree = tree.join(
            exp.Join(
                this=exp.to_table("crossmatch_tns"),
                on=exp.EQ(
                    this=exp.column("name", table=hits),
                    expression=exp.column("tns_name", table="crossmatch_tns"),
                ),
            ),
            copy=False,
        )
    for topic in parsed.annotators:
        ref = exp.alias_(exp.to_table("annotations"), topic, table=True)
        on = exp.and_(
            _object_id_eq(base, topic, object_id),
            exp.EQ(this=exp.column("topic", table=topic), expression=exp.Literal.string(topic)),
        )
        tree = tree.join(exp.Join(this=ref, on=on), copy=False)

    for key, value in _parse_conditions(conditions).items():
        tree.set(key, value)
    parsed.tree = tree
    return parsed
