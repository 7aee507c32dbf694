"""Bound and clean a user's filter text before the parser sees it.

The parser and the validator walk the syntax tree recursively, and sqlglot turns some
comments into node metadata (``/* sqlglot.meta ... */``) or optimizer hints. So before
parsing, :func:`prepare` checks the text against documented limits and blanks every
comment:

* at most :data:`MAX_TEXT_LENGTH` characters and :data:`MAX_TOKENS` SQL words (a 1 MB chain
  of ``AND``/``OR`` is refused in microseconds instead of validated for a minute);
* at most :data:`MAX_DEPTH` levels of nesting, counting parentheses (so sub-queries),
  ``CASE ... END`` and runs of prefix operators (``NOT``, unary ``-``/``+``/``~``/``!``);
* every comment (``-- ...``, ``# ...``, ``/* ... */``, MySQL's ``/*! ... */`` and hints
  ``/*+ ... */``) is replaced by spaces of the same length, so error positions stay right
  and nothing the user writes in a comment reaches the parser.

Input: text. Output: the same text with comments blanked. Raises
:class:`~lanner.filter.errors.FilterRejectedError` (too long, too deep) or
:class:`~lanner.filter.errors.FilterSyntaxError` (cannot be split into SQL words). No side
effects.
"""

from __future__ import annotations

from sqlglot.dialects.mysql import MySQL
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from lanner.filter.errors import FilterRejectedError, FilterSyntaxError

#: Longest filter text accepted, per part [characters].
MAX_TEXT_LENGTH = 50_000
#: Most SQL words (tokens) in one part of a filter.
MAX_TOKENS = 4_000
#: Deepest nesting of parentheses, CASE and prefix operators.
MAX_DEPTH = 32

_OPEN = {TokenType.L_PAREN, TokenType.CASE}
_CLOSE = {TokenType.R_PAREN, TokenType.END}
_PREFIX = {TokenType.NOT, TokenType.DASH, TokenType.PLUS, TokenType.TILDE, TokenType.EXCLAMATION}
# Tokens after which '-' or '+' is a binary operator, not a sign.
_OPERAND_END = {
    TokenType.R_PAREN,
    TokenType.END,
    TokenType.NUMBER,
    TokenType.STRING,
    TokenType.VAR,
    TokenType.IDENTIFIER,
    TokenType.NULL,
    TokenType.TRUE,
    TokenType.FALSE,
    TokenType.STAR,
    TokenType.R_BRACKET,
}


def _position(text: str, offset: int, where: str, shift: int) -> str:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    if line == 1:
        col = max(col - shift, 1)
    return f"{where}, line {line} column {col}"


def _tokens(text: str, where: str) -> list[Token]:
    try:
        return MySQL().tokenize(text)
    except TokenError:
        raise FilterSyntaxError(
            "cannot split the text into SQL words",
            where,
            "look for an unclosed quote or a stray character",
        ) from None


def _check_depth(text: str, tokens: list[Token], where: str, shift: int) -> None:
    depth = 0
    run = 0
    previous: TokenType | None = None
    for tok in tokens:
        kind = tok.token_type
        is_sign = kind in (TokenType.DASH, TokenType.PLUS) and previous in _OPERAND_END
        if kind in _PREFIX and not is_sign:
            run += 1
        else:
            run = 0
        if kind in _OPEN:
            depth += 1
        elif kind in _CLOSE:
            depth = max(depth - 1, 0)
        if depth + run > MAX_DEPTH:
            raise FilterRejectedError(
                f"the filter nests more than {MAX_DEPTH} levels deep",
                _position(text, tok.start, where, shift),
                "flatten nested parentheses, sub-queries, CASE or NOT",
            )
        previous = kind


def prepare(text: str, where: str, shift: int = 0) -> str:
    """Check ``text`` against the limits and return it with every comment blanked.

    Parameters
    ----------
    text
        The SQL text to parse (possibly with a prefix Lanner added).
    where
        Which part of the filter it is (``sql``, ``selected``, ``conditions``), for messages.
    shift
        Length of the prefix Lanner added before the user's text [characters].
    """
    length = len(text) - shift
    if length > MAX_TEXT_LENGTH:
        raise FilterRejectedError(
            f"the filter is {length:,} characters long; at most {MAX_TEXT_LENGTH:,} are allowed",
            where,
            "shorten it, e.g. put long lists of objects in a watchlist",
        )
    tokens = _tokens(text, where)
    if len(tokens) > MAX_TOKENS:
        raise FilterRejectedError(
            f"the filter has {len(tokens):,} SQL words; at most {MAX_TOKENS:,} are allowed",
            where,
            "shorten it, e.g. put long lists of objects in a watchlist",
        )
    _check_depth(text, tokens, where, shift)
    # Keep every token's characters; blank what lies between tokens except white space.
    out = list(text)
    keep = bytearray(len(text))
    for tok in tokens:
        keep[tok.start : tok.end + 1] = b"\x01" * (tok.end + 1 - tok.start)
    for i, ch in enumerate(text):
        if not keep[i] and not ch.isspace():
            out[i] = " "
    return "".join(out)
