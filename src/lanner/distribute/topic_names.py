"""Kafka topic names for filters: ASCII-safe, at most 249 characters, stable.

Rule: ``{prefix}_{owner_id}_{slug}_{hash8}`` where

* ``slug`` is the filter name folded to ASCII (accents dropped by NFKD), lower
  case, every run of characters outside ``[a-z0-9]`` replaced by one ``_``,
  leading/trailing ``_`` removed, ``"filter"`` if nothing is left, and cut so the
  whole name fits in 249 characters (Kafka's limit);
* ``hash8`` is the first 8 hex digits of SHA-256 of the exact UTF-8 filter name,
  so two names with the same slug (``"SN Ia"`` and ``"sn-ia"``) get different
  topics, and a cut slug stays unique.

The name depends only on the prefix, owner id and filter name: renaming a filter
changes its topic, nothing else does. Only ``[a-z0-9_]`` is used, which Kafka
accepts everywhere (no ``.``/``_`` metric-name clash). No side effects.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_TOPIC_LENGTH = 249
DEFAULT_PREFIX = "lanner"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_VALID_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")


def slugify(name: str) -> str:
    """Fold ``name`` to ``[a-z0-9_]``; ``"filter"`` if nothing usable remains."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("_", ascii_name.lower()).strip("_")
    return slug or "filter"


def topic_name(owner_id: int, filter_name: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The Kafka topic of ``owner_id``'s filter ``filter_name``.

    Parameters
    ----------
    owner_id
        Non-negative id of the filter's owner.
    filter_name
        The filter's name, any Unicode, not empty.
    prefix
        Deployment prefix, ``[a-z0-9_]``, starting with a letter or digit.

    Raises
    ------
    ValueError
        For a negative owner id, an empty name or an invalid prefix.
    """
    if owner_id < 0:
        raise ValueError(f"owner id must be >= 0, got {owner_id}")
    if not filter_name.strip():
        raise ValueError("filter name is empty")
    if not _VALID_PREFIX.match(prefix):
        raise ValueError(f"topic prefix {prefix!r} must match [a-z0-9][a-z0-9_]*, ≤ 64 chars")
    digest = hashlib.sha256(filter_name.encode("utf-8")).hexdigest()[:8]
    head = f"{prefix}_{owner_id}_"
    tail = f"_{digest}"
    room = MAX_TOPIC_LENGTH - len(head) - len(tail)
    slug = slugify(filter_name)[:room].rstrip("_") or "filter"
    return f"{head}{slug}{tail}"
