"""Who may see or act on a saved filter, and secrets kept out of what Lanner prints.

Rules (every command and API call that acts for a user goes through them):

* a user reads a filter's definition (name, SQL, description) when they own it or it is
  public (:func:`require_readable`);
* only the owner sees a filter's matches, backtests it, or sees its output options
  (:func:`require_owner`): a public filter runs with its owner's private watchlists and
  watchmaps, so its matches and a replay of it are the owner's private data;
* changing, activating and deleting stay with the owner (:mod:`lanner.filter.saved`).

:func:`mask_url` and :func:`mask_options` hide passwords and tokens in URLs (a database
URL, a webhook URL with its token in the path or the query) before they are printed.

Input: a :class:`~lanner.filter.saved.SavedFilter` and a user id, or text. Output: the
filter, or masked text. Raises :class:`~lanner.filter.errors.FilterError`. No side effects.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lanner.filter.errors import FilterError
from lanner.filter.saved import SavedFilter

#: What replaces a secret in printed text.
MASK = "***"
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def _denied(flt: SavedFilter) -> FilterError:
    # The answer for an id that does not exist: ids are not an oracle.
    return FilterError(f"no filter with id {flt.filter_id}")


def require_readable(flt: SavedFilter, user_id: int) -> SavedFilter:
    """``flt`` if ``user_id`` owns it or it is public; else the error of an unknown id."""
    if flt.owner_id != user_id and not flt.public:
        raise _denied(flt)
    return flt


def require_owner(flt: SavedFilter, user_id: int, action: str) -> SavedFilter:
    """``flt`` if ``user_id`` owns it; ``action`` names what was asked (for the message)."""
    require_readable(flt, user_id)
    if flt.owner_id != user_id:
        raise FilterError(
            f"only the owner of filter {flt.name!r} may {action}",
            None,
            "copy it to run it as your own: lanner filter copy",
        )
    return flt


def mask_url(url: str) -> str:
    """``url`` with its password, its path and its query hidden, when it has any.

    A database URL keeps its user, host, port and database name
    (``postgresql://lanner:***@db:5432/lanner``); other URLs keep scheme and host only
    (``https://hooks.example.org/***``), since webhook tokens live in the path or query.
    """
    parts = urlsplit(url)
    database = parts.scheme.startswith(("postgres", "sqlite"))
    if database and ":" not in parts.netloc.rpartition("@")[0]:
        return url  # no password to hide
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        name, sep, _ = user.partition(":")
        netloc = f"{name}{':' + MASK if sep else ''}@{host}"
    path = parts.path if database else (f"/{MASK}" if parts.path.strip("/") else "")
    query = "" if not parts.query else MASK
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def mask_text(text: str) -> str:
    """``text`` with every URL in it masked (:func:`mask_url`)."""
    return _URL.sub(lambda m: mask_url(m.group(0)), text)


def mask_options(options: str | None) -> str:
    """A filter's output options (JSON) for printing: URLs masked, secrets hidden."""
    if not options:
        return ""
    try:
        parsed: Any = json.loads(options)
    except ValueError:
        return mask_text(options)
    if not isinstance(parsed, dict):
        return mask_text(options)
    shown = {}
    for key, value in parsed.items():
        secret = any(word in key.lower() for word in ("token", "secret", "password", "key"))
        shown[key] = MASK if secret else mask_text(value) if isinstance(value, str) else value
    return json.dumps(shown)
