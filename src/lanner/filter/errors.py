"""Typed errors of the filter language: what went wrong, where, and how to fix it.

Every rejection of a user's filter raises a :class:`FilterError` subclass whose ``str()`` is
a sentence a scientist can act on (``unknown column `objects.gmagg` in conditions - did you
mean `gmag`?``). The parts are kept as attributes for the web and API layers.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class FilterError(Exception):
    """Base class of every error raised for a user's filter.

    Parameters
    ----------
    problem
        What is wrong, in one clause.
    where
        Which part of the filter: ``"selected"``, ``"tables"``, ``"conditions"`` or
        ``"sql"``, optionally with a line/column (``"conditions, line 1 column 7"``).
    hint
        How to fix it (a suggestion, or the list of what is allowed).
    """

    def __init__(self, problem: str, where: str | None = None, hint: str | None = None):
        self.problem = problem
        self.where = where
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = self.problem
        if self.where:
            text += f" in {self.where}"
        if self.hint:
            text += f" - {self.hint}"
        return text


class FilterSyntaxError(FilterError):
    """The text is not SQL the parser understands."""


class FilterRejectedError(FilterError):
    """Valid SQL, but not allowed in a filter (unknown name, forbidden statement, ...)."""


class FilterTimeoutError(FilterError):
    """The filter ran longer than its time limit and was stopped inside the engine."""


class FilterRuntimeError(FilterError):
    """The engine raised an error while running an accepted filter."""


def did_you_mean(name: str, candidates: Iterable[str], quote: str = "`") -> str | None:
    """A ``did you mean ...?`` hint from the closest ``candidates`` (case-insensitive)."""
    pool = sorted(set(candidates))
    lowered = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    if not close:
        return None
    options = " or ".join(f"{quote}{lowered[c]}{quote}" for c in close)
    return f"did you mean {options}?"


def allowed_list(kind: str, names: Iterable[str], limit: int = 40) -> str:
    """A hint naming what is allowed (at most ``limit`` names)."""
    pool = sorted(set(names))
    shown = ", ".join(pool[:limit]) + (", ..." if len(pool) > limit else "")
    return f"allowed {kind}: {shown}"
