"""The annotations Python API: annotators (topics with an owner) and the annotations they
write, for the CLI, the REST API, the Kafka consumer and Lanner's own classifiers.

Input: a :class:`~lanner.store.Store`, a user id (:mod:`lanner.filter.users`) and values.
Output: :class:`Annotator` values, counts and history rows. Side effects: writes through
:mod:`lanner.store.annotations`; after annotations are written, the active filters that read
the topic run again for the annotated objects and their matches are recorded in the outbox
(:func:`lanner.filter.rerun.rerun_and_record`), so the delivery worker sends them.

Who may do what: anyone may add an annotator (they own it); only its owner may authorise
other writers or delete it; its owner and the writers they authorised may write to it, while
it is active. A private annotator is invisible to everyone else: it reads as not found.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lanner.annotations.counts import annotation_counts
from lanner.annotations.model import (
    MAX_DESCRIPTION,
    Annotation,
    AnnotationError,
    Annotator,
    AnnotatorNotFoundError,
    item_problems,
    object_id_value,
    topic_problem,
)
from lanner.store import Store
from lanner.store import annotations as rows

if TYPE_CHECKING:
    from lanner.pipeline import DeliveryHook

log = logging.getLogger(__name__)

#: Metric label of annotations refused because their topic does not exist (for the user).
UNKNOWN_TOPIC = "(unknown)"


def _annotator(values: dict[str, Any], writers: frozenset[int]) -> Annotator:
    return Annotator(
        topic=str(values["topic"]),
        owner_id=int(values["owner_id"]),
        description=str(values["description"] or ""),
        public=bool(values["public"]),
        active=bool(values["active"]),
        writers=writers,
    )


def _not_found(topic: str) -> AnnotatorNotFoundError:
    return AnnotatorNotFoundError(
        f"annotator topic {topic!r} does not exist: make it with `lanner annotator add "
        f"{topic}` or ask its owner to make it public or to authorise you"
    )


def _stored(store: Store, topic: str) -> Annotator | None:
    found = rows.annotator_rows(store, topic)
    return _annotator(*found[0]) if found else None


def add_annotator(
    store: Store,
    topic: str,
    owner_id: int,
    *,
    description: str = "",
    public: bool = True,
    active: bool = True,
) -> Annotator:
    """Make the annotator ``topic`` owned by ``owner_id``."""
    problem = topic_problem(topic)
    if problem:
        raise AnnotationError(problem)
    if len(description) > MAX_DESCRIPTION:
        raise AnnotationError(f"the description is over {MAX_DESCRIPTION} characters: shorten it")
    if not rows.insert_annotator(store, topic, owner_id, description, public, active):
        raise AnnotationError(f"annotator topic {topic!r} exists already: choose another name")
    return Annotator(topic, owner_id, description, public, active, frozenset())


def get_annotator(store: Store, topic: str, *, user_id: int) -> Annotator:
    """The annotator ``topic`` if ``user_id`` may see it (public, or theirs to write);
    :class:`AnnotatorNotFoundError` otherwise."""
    found = _stored(store, topic)
    if found is None or not found.visible_to(user_id):
        raise _not_found(topic)
    return found


def list_annotators(store: Store, *, user_id: int) -> list[Annotator]:
    """The annotators ``user_id`` may see, by topic."""
    found = [_annotator(*r) for r in rows.annotator_rows(store)]
    return [a for a in found if a.visible_to(user_id)]


def _owned(store: Store, topic: str, owner_id: int, what: str) -> Annotator:
    found = get_annotator(store, topic, user_id=owner_id)
    if found.owner_id != owner_id:
        raise AnnotationError(f"only the owner of annotator {topic!r} may {what}")
    return found


def authorise_writer(store: Store, topic: str, owner_id: int, writer_id: int) -> None:
    """Let ``writer_id`` write annotations to ``topic`` (owner only)."""
    _owned(store, topic, owner_id, "authorise writers")
    if store.user_where("user_id", writer_id) is None:
        raise AnnotationError(f"there is no user with id {writer_id}: make the user first")
    rows.add_writer(store, topic, writer_id)


def revoke_writer(store: Store, topic: str, owner_id: int, writer_id: int) -> None:
    """Stop ``writer_id`` writing to ``topic`` (owner only)."""
    _owned(store, topic, owner_id, "revoke writers")
    rows.remove_writer(store, topic, writer_id)


def set_annotator_flags(
    store: Store,
    topic: str,
    owner_id: int,
    *,
    public: bool | None = None,
    active: bool | None = None,
    description: str | None = None,
) -> Annotator:
    """Change an annotator's public and active flags or description (owner only)."""
    _owned(store, topic, owner_id, "change it")
    values = {
        k: v
        for k, v in (("public", public), ("active", active), ("description", description))
        if v is not None
    }
    if values:
        rows.set_annotator(store, topic, **values)
    return get_annotator(store, topic, user_id=owner_id)


def delete_annotator(store: Store, topic: str, owner_id: int) -> None:
    """Delete the annotator ``topic`` with its annotations and their history (owner only)."""
    _owned(store, topic, owner_id, "delete it")
    rows.delete_annotator_rows(store, topic)


def writable_annotator(store: Store, topic: str, *, user_id: int) -> Annotator:
    """The annotator ``topic`` if ``user_id`` may write to it now; else
    :class:`AnnotationError` saying why (not found, not allowed, not active)."""
    annotator = get_annotator(store, topic, user_id=user_id)
    if not annotator.may_write(user_id):
        raise AnnotationError(
            f"you may not write to annotator {topic!r}: ask its owner to authorise you "
            f"(lanner annotator authorise {topic} USER)"
        )
    if not annotator.active:
        raise AnnotationError(
            f"annotator {topic!r} is not active: its owner can activate it "
            f"(lanner annotator activate {topic})"
        )
    return annotator


def item_checks(
    store: Store, items: Sequence[Annotation]
) -> tuple[list[tuple[Any, ...]], dict[int, list[str]]]:
    """The rows to write for ``items`` (object id, version, classification, explanation,
    classdict text, url) and the problems of the bad ones, by position in ``items``."""
    survey = store.survey or "ztf"
    problems: dict[int, list[str]] = {}
    out: list[tuple[Any, ...]] = []
    for n, item in enumerate(items):
        if not isinstance(item, Annotation):
            problems[n] = [f"not an Annotation but {type(item).__name__}"]
            out.append((None, "", "", "", None, ""))
            continue
        bad, classdict = item_problems(item)
        object_id = object_id_value(survey, item.object_id)
        if object_id is None:
            kind = "an integer diaObjectId" if survey == "lsst" else "a ZTF objectId text"
            bad.insert(0, f"object id {item.object_id!r} is not {kind}")
        if bad:
            problems[n] = bad
        classification = item.classification if isinstance(item.classification, str) else ""
        out.append(
            (object_id, item.version, classification.strip(), item.explanation, classdict, item.url)
        )
    ids = [r[0] for r in out if r[0] is not None]
    known = rows.existing_objects(store, ids) if ids else set()
    for n, row in enumerate(out):
        if row[0] is not None and row[0] not in known:
            problems.setdefault(n, []).append(
                f"no object {row[0]!r} in this database: annotate objects Lanner has ingested"
            )
    return out, problems


def check_annotations(
    store: Store, topic: str, items: Sequence[Annotation], *, user_id: int
) -> list[tuple[Any, ...]]:
    """Validate a whole batch for ``user_id`` writing to ``topic``; the rows to write, or
    :class:`AnnotationError` listing every bad item (``item N (object X): what to fix``,
    ``N`` counted from 1)."""
    writable_annotator(store, topic, user_id=user_id)
    out, problems = item_checks(store, items)
    if problems:
        raise AnnotationError(
            [
                f"item {n + 1} (object {getattr(items[n], 'object_id', None)!r}): {p}"
                for n in sorted(problems)
                for p in problems[n]
            ]
        )
    return out


def write_annotations(
    store: Store,
    topic: str,
    items: Sequence[Annotation],
    *,
    user_id: int,
    rerun: bool = True,
    delivery: DeliveryHook | None = None,
) -> int:
    """Write ``items`` to ``topic`` as ``user_id``: the whole batch is validated first
    (nothing is written if any item is bad, :class:`AnnotationError` lists them), then
    written in one transaction (the latest of each object wins; earlier versions stay in
    the history). With ``rerun``, the active filters reading ``topic`` then run for the
    annotated objects, their matches are recorded for delivery and ``delivery`` (the
    process's delivery worker, if it has one) is woken. A failing re-run is logged and
    counted (``lanner_annotation_reruns_failed_total``), never undoes the write. Returns the
    number of annotations written."""
    try:
        checked = check_annotations(store, topic, items, user_id=user_id)
    except AnnotationError as exc:
        # Topics that do not exist are counted together: a metric label per made-up name
        # would let anyone grow the metrics without bound.
        label = UNKNOWN_TOPIC if isinstance(exc, AnnotatorNotFoundError) else topic
        annotation_counts.rejected(label, len(items))
        raise
    return write_checked(store, topic, checked, rerun=rerun, delivery=delivery)


def write_checked(
    store: Store,
    topic: str,
    checked: Sequence[tuple[Any, ...]],
    *,
    rerun: bool = True,
    delivery: DeliveryHook | None = None,
) -> int:
    """Write rows made by :func:`check_annotations` / :func:`item_checks` and re-run the
    filters (see :func:`write_annotations`)."""
    written = rows.write_annotation_rows(store, topic, checked, dt.datetime.now(dt.UTC))
    annotation_counts.written(topic, written)
    if rerun and written:
        from lanner.filter.rerun import Changed, rerun_and_record

        try:
            ids = list(dict.fromkeys(r[0] for r in checked))
            rerun_and_record(store, Changed.annotations(topic), ids, delivery=delivery)
        except Exception as exc:  # the annotations are stored; the filters see them next batch
            annotation_counts.rerun_failed(topic)
            log.error("re-running the filters that read %r failed: %s", topic, exc, exc_info=True)
    return written


def annotation_history(
    store: Store, topic: str, object_id: int | str, *, user_id: int
) -> list[dict[str, Any]]:
    """Every version of ``object_id``'s annotation by ``topic``, oldest first (the last
    is the current one), as dicts with ``annotationID``, the object id column, ``topic``,
    ``version``, ``timestamp``, ``mjd``, ``classification``, ``explanation``, ``classdict``
    (JSON text) and ``url``."""
    get_annotator(store, topic, user_id=user_id)
    value = object_id_value(store.survey or "ztf", object_id)
    if value is None:
        raise AnnotationError(f"object id {object_id!r} is not an id of this survey")
    return rows.history_rows(store, topic, value)
