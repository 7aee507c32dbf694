"""What an annotation and an annotator are, and the rules an annotation must meet.

Input: values from callers (the Python API, the CLI, a Kafka message, the REST API).
Output: :class:`Annotation` and :class:`Annotator` values, and the problems of items that
break a rule (:func:`item_problems`), each saying what to fix. No side effects.

Rules (Lasair's, with Lanner's limits): a topic is a name of letters, digits and ``_``
(as filters write ``annotator:TOPIC``), at most :data:`MAX_TOPIC` characters; an annotation
has a classification (at most :data:`MAX_CLASSIFICATION` characters), a version of at most
:data:`MAX_VERSION` characters, an explanation and a URL of at most :data:`MAX_TEXT`
characters (the URL ``http(s)://``), and ``classdict`` a JSON object of at most
:data:`MAX_CLASSDICT` bytes once serialised. The limits are defined here only, documented
in ``docs/annotations.md`` (a test compares the two), and every way in (CLI, Kafka, REST
API, brokers, classifiers) applies them through :func:`item_problems`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Longest topic name (characters).
MAX_TOPIC = 64
#: Longest ``version`` (characters), as Lasair's client checks.
MAX_VERSION = 16
#: Longest ``classification`` (characters), as Lasair's REST API accepts.
MAX_CLASSIFICATION = 80
#: Longest ``explanation`` and ``url`` (characters).
MAX_TEXT = 1024
#: Largest ``classdict``, serialised as compact JSON (bytes), as Lasair's REST API accepts.
MAX_CLASSDICT = 4096
#: Longest annotator description (characters).
MAX_DESCRIPTION = 4096

TOPIC_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_URL = re.compile(r"^https?://[^\s]+$")


class AnnotationError(ValueError):
    """Annotations or an annotator request refused; ``problems`` has one message per bad
    item (or request), each saying what to fix. Nothing was written."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        shown = self.problems[:10]
        more = len(self.problems) - len(shown)
        super().__init__("; ".join(shown) + (f"; and {more} more" if more > 0 else ""))


class AnnotatorNotFoundError(AnnotationError):
    """No annotator of that topic that the user may see."""


@dataclass(frozen=True)
class Annotation:
    """One annotation to write: ``classification`` (and the rest) of an object, by the
    survey's object id (Rubin ``diaObjectId`` integer, ZTF ``objectId`` text)."""

    object_id: int | str
    classification: str
    version: str = ""
    explanation: str = ""
    classdict: Mapping[str, Any] | None = None
    url: str = ""


@dataclass(frozen=True)
class Annotator:
    """An annotator: a topic, who owns it and who else may write to it."""

    topic: str
    owner_id: int
    description: str
    public: bool
    active: bool
    writers: frozenset[int] = field(default_factory=frozenset)

    def may_write(self, user_id: int) -> bool:
        return user_id == self.owner_id or user_id in self.writers

    def visible_to(self, user_id: int) -> bool:
        return self.public or self.may_write(user_id)


def topic_problem(topic: object) -> str | None:
    """Why ``topic`` is not a valid topic name, or ``None``."""
    if not isinstance(topic, str) or not TOPIC_PATTERN.match(topic):
        return (
            f"topic {topic!r} is not a name: use letters, digits and _, starting with a "
            "letter or _ (filters write annotator:TOPIC)"
        )
    if len(topic) > MAX_TOPIC:
        return f"topic {topic[:20]!r}... is {len(topic)} characters long: at most {MAX_TOPIC}"
    return None


def classdict_text(classdict: Mapping[str, Any] | None) -> str | None:
    """``classdict`` as stored: compact JSON text (``None`` when there is none). Raises
    :class:`ValueError` if it is not a JSON object of finite values."""
    if classdict is None:
        return None
    if not isinstance(classdict, Mapping):
        raise ValueError(f"classdict must be a JSON object, not {type(classdict).__name__}")
    try:
        return json.dumps(dict(classdict), separators=(",", ":"), allow_nan=False)
    except ValueError as exc:  # NaN / Infinity: not JSON
        raise ValueError(f"classdict holds a value JSON cannot carry ({exc})") from exc
    except TypeError as exc:
        raise ValueError(f"classdict holds a value that is not JSON ({exc})") from exc


def item_problems(item: Annotation) -> tuple[list[str], str | None]:
    """The rule breaks of one annotation (empty when it is fine) and its ``classdict`` as
    stored."""
    problems: list[str] = []
    if not isinstance(item.classification, str) or not item.classification.strip():
        problems.append("classification is empty: give a short class, e.g. 'SN Ia'")
    elif len(item.classification) > MAX_CLASSIFICATION:
        problems.append(
            f"classification is {len(item.classification)} characters long: at most "
            f"{MAX_CLASSIFICATION} (put details in explanation or classdict)"
        )
    for name, limit in (("version", MAX_VERSION), ("explanation", MAX_TEXT), ("url", MAX_TEXT)):
        value = getattr(item, name)
        if not isinstance(value, str):
            problems.append(f"{name} must be text, not {type(value).__name__}")
        elif len(value) > limit:
            problems.append(f"{name} is {len(value)} characters long: at most {limit}")
    if isinstance(item.url, str) and item.url and not _URL.match(item.url):
        problems.append(f"url {item.url[:80]!r} is not an http:// or https:// address")
    text: str | None = None
    try:
        text = classdict_text(item.classdict)
    except ValueError as exc:
        problems.append(str(exc))
    if text is not None and len(text.encode()) > MAX_CLASSDICT:
        problems.append(
            f"classdict is {len(text.encode()):,} bytes as JSON: at most {MAX_CLASSDICT:,} "
            "(keep the scores, link to the rest with url)"
        )
    return problems, text


def object_id_value(survey: str, object_id: object) -> int | str | None:
    """The object id as the survey's column holds it (Rubin: an integer, also from its
    decimal text; ZTF: text), or ``None`` if it cannot be one."""
    if isinstance(object_id, bool):
        return None
    if survey == "lsst":
        if isinstance(object_id, int):
            return object_id
        if isinstance(object_id, str) and re.fullmatch(r"-?\d{1,20}", object_id.strip()):
            return int(object_id.strip())
        return None  # a float would lose digits of a 64-bit id: refused, not guessed
    if isinstance(object_id, str) and object_id.strip():
        return object_id.strip()
    return None
