"""Write other brokers' classifications as annotations.

Input: a store, a source (``fink`` or ``alerce``) and ``{topic: [Annotation, ...]}`` from
:mod:`lanner.brokers.fink` or :mod:`lanner.brokers.alerce`. Output: a
:class:`BrokerReport`. Side effects: the user named after the source and its public
annotators are made on first use; for each topic, the annotations of objects this database
holds are written with :func:`lanner.annotations.write_annotations` (latest wins, history
kept, filters reading the topic re-run). A broker classifies objects this database may not
have, and a message may break a rule: those are counted and left out, so one bad message
never holds back the others.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lanner.annotations import (
    Annotation,
    AnnotationError,
    AnnotatorNotFoundError,
    add_annotator,
    get_annotator,
    write_annotations,
)
from lanner.annotations.counts import annotation_counts
from lanner.annotations.model import MAX_VERSION, item_problems, object_id_value
from lanner.store import Store
from lanner.store.annotations import existing_objects

if TYPE_CHECKING:
    from lanner.pipeline import DeliveryHook

log = logging.getLogger(__name__)

SOURCES = ("fink", "alerce")


@dataclass
class BrokerReport:
    """What one batch of a broker's classifications did."""

    written: Counter[str] = field(default_factory=Counter)
    #: Annotations of objects this database does not hold, by topic.
    unknown_objects: Counter[str] = field(default_factory=Counter)
    #: Messages or annotations left out, by reason.
    rejected: Counter[str] = field(default_factory=Counter)

    def add(self, other: BrokerReport) -> None:
        self.written.update(other.written)
        self.unknown_objects.update(other.unknown_objects)
        self.rejected.update(other.rejected)


def broker_annotation(
    object_id: Any,
    classification: str,
    explanation: str,
    details: dict[str, Any],
    *,
    version: str,
    version_key: str,
    url: str = "",
) -> Annotation:
    """One of another broker's classifications as an annotation. Its classifier version
    goes into ``details`` under ``version_key``, and is the annotation's ``version`` when it
    fits (:data:`~lanner.annotations.model.MAX_VERSION` characters; a longer one is kept
    only in ``classdict``, so the annotation is not refused for it)."""
    if version:
        details[version_key] = version
    return Annotation(
        object_id=object_id,
        classification=classification,
        version=version if len(version) <= MAX_VERSION else "",
        explanation=explanation,
        classdict=details,
        url=url,
    )


def broker_user(store: Store, source: str) -> int:
    """The user owning ``source``'s annotators (made on first use; nobody logs in as it)."""
    found = store.user_where("username", source)
    if found is not None:
        return int(found[0])
    made = store.add_user(source, None, hashlib.sha256(secrets.token_bytes(32)).hexdigest())
    if made is not None:
        return made
    again = store.user_where("username", source)
    assert again is not None
    return int(again[0])


def ensure_annotator(store: Store, topic: str, owner: int, description: str) -> None:
    try:
        get_annotator(store, topic, user_id=owner)
    except AnnotatorNotFoundError:
        # Made meanwhile by another consumer: the write below checks who may write.
        with contextlib.suppress(AnnotationError):
            add_annotator(store, topic, owner, description=description, public=True)


def write_broker_annotations(
    store: Store,
    source: str,
    per_topic: Mapping[str, Sequence[Annotation]],
    descriptions: Mapping[str, str] | None = None,
    delivery: DeliveryHook | None = None,
) -> BrokerReport:
    """Write ``per_topic`` as ``source``'s annotations (see the module docstring);
    ``delivery`` is woken when the filters' re-run records matches. Items left out for
    breaking a rule count in ``lanner_annotations_rejected_total``."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}: one of {', '.join(SOURCES)}")
    report = BrokerReport()
    if not per_topic:
        return report
    owner = broker_user(store, source)
    survey = store.survey or "ztf"
    wanted = [object_id_value(survey, a.object_id) for items in per_topic.values() for a in items]
    known = existing_objects(store, [w for w in wanted if w is not None])
    for topic, items in per_topic.items():
        latest: dict[Any, Annotation] = {}
        for item in items:
            oid = object_id_value(survey, item.object_id)
            if oid is None or oid not in known:
                report.unknown_objects[topic] += 1
                continue
            problems, _ = item_problems(item)
            if problems:
                report.rejected[problems[0].split(":")[0]] += 1
                annotation_counts.rejected(topic, 1)
                log.warning("%s annotation of %s left out: %s", topic, oid, "; ".join(problems))
                continue
            latest[oid] = item  # the last of an object in one batch wins
        if not latest:
            continue
        ensure_annotator(store, topic, owner, (descriptions or {}).get(topic, source))
        try:
            report.written[topic] += write_annotations(
                store, topic, list(latest.values()), user_id=owner, delivery=delivery
            )
        except AnnotationError as exc:
            report.rejected[f"{topic}: {exc.problems[0]}"] += len(latest)
            log.error("%s annotations refused: %s", topic, exc)
    return report
