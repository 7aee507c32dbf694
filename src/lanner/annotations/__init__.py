"""Annotations: classifications that people, partner brokers and classifiers attach to
objects, which filters combine with everything else (``annotator:TOPIC``,
``JSON_EXTRACT(classdict, '$.path')``).

:mod:`lanner.annotations.model` (what an annotation and an annotator are, the rules),
:mod:`lanner.annotations.api` (the functions below), :mod:`lanner.store.annotations` (the
SQL), :mod:`lanner.annotations.stage` (annotations of a batch's objects for the streaming
filters), :mod:`lanner.annotations.consume` (annotations from a Kafka topic). See
``docs/annotations.md``.
"""

from lanner.annotations.api import (
    add_annotator,
    annotation_history,
    authorise_writer,
    check_annotations,
    delete_annotator,
    get_annotator,
    list_annotators,
    revoke_writer,
    set_annotator_flags,
    write_annotations,
)
from lanner.annotations.model import Annotation, AnnotationError, Annotator, AnnotatorNotFoundError

__all__ = [
    "Annotation",
    "AnnotationError",
    "Annotator",
    "AnnotatorNotFoundError",
    "add_annotator",
    "annotation_history",
    "authorise_writer",
    "check_annotations",
    "delete_annotator",
    "get_annotator",
    "list_annotators",
    "revoke_writer",
    "set_annotator_flags",
    "write_annotations",
]
