"""Annotations as JSON text: Lasair's annotation messages (the ``fast_annotations`` Kafka
topic, and the fields of its REST ``annotate/`` call) and the lines of an annotations file.

Input: one JSON object (bytes or text), e.g.
``{"diaObjectId": 1234, "topic": "test", "version": "1", "classification": "TEST",
"explanation": "testing", "classdict": "{\\"ra\\": 149.9}", "url": ""}``; the object id is
``diaObjectId`` (Rubin) or ``objectId`` (ZTF, and accepted for Rubin too); ``classdict`` is a
JSON object or a JSON text of one; ``topic`` is optional. Output: an
:class:`~lanner.annotations.model.Annotation` and the topic the message names (or ``None``),
or :class:`MessageError` saying what is wrong; :func:`message_for` also refuses a message
naming another topic than the one written to (the Kafka consumer and ``lanner annotate
--file`` read messages with it). No side effects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lanner.annotations.model import Annotation

#: Fields a message may carry.
FIELDS = frozenset(
    {"diaObjectId", "objectId", "topic", "version", "classification", "explanation"}
    | {"classdict", "url"}
)


class MessageError(ValueError):
    """A message that is not an annotation; the text says what to fix."""


class OtherTopicError(MessageError):
    """An annotation for another annotator than the one written to."""


def message_for(data: bytes | str, topic: str) -> Annotation:
    """The annotation in one JSON message to be written to the annotator ``topic``:
    :class:`MessageError` if it is not one, :class:`OtherTopicError` if it names another
    topic (a message may leave the topic out)."""
    item, named = parse_message(data)
    if named is not None and named != topic:
        raise OtherTopicError(f"the message is for annotator {named!r}, not {topic!r}")
    return item


def parse_message(data: bytes | str) -> tuple[Annotation, str | None]:
    """The annotation in one JSON message, and the topic it names (``None`` if none)."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MessageError(f"not JSON ({exc})") from None
    if not isinstance(doc, Mapping):
        raise MessageError(f"a JSON object is needed, not {type(doc).__name__}")
    return from_fields(doc)


def from_fields(doc: Mapping[str, Any]) -> tuple[Annotation, str | None]:
    """An annotation from a mapping of Lasair's fields."""
    unknown = sorted(set(doc) - FIELDS)
    if unknown:
        raise MessageError(f"unknown fields {unknown}: use {sorted(FIELDS)}")
    object_id = doc.get("diaObjectId", doc.get("objectId"))
    if object_id is None:
        raise MessageError("no object id: give diaObjectId (Rubin) or objectId (ZTF)")
    classdict = doc.get("classdict")
    if isinstance(classdict, str):
        if not classdict.strip():
            classdict = None
        else:
            try:
                classdict = json.loads(classdict)
            except ValueError as exc:
                raise MessageError(f"classdict is not JSON text ({exc})") from None
    if classdict is not None and not isinstance(classdict, Mapping):
        raise MessageError(f"classdict must be a JSON object, not {type(classdict).__name__}")
    texts: dict[str, str] = {}
    for name in ("classification", "version", "explanation", "url"):
        value = doc.get(name)
        if value is None:
            value = ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # Lasair's clients send versions such as 1 or 0.1
        if not isinstance(value, str):
            raise MessageError(f"{name} must be text, not {type(value).__name__}")
        texts[name] = value
    topic = doc.get("topic")
    if topic is not None and not isinstance(topic, str):
        raise MessageError(f"topic must be text, not {type(topic).__name__}")
    item = Annotation(
        object_id=object_id,
        classification=texts["classification"],
        version=texts["version"],
        explanation=texts["explanation"],
        classdict=classdict,
        url=texts["url"],
    )
    return item, topic
