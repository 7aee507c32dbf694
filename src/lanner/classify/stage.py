"""The classifier stage: after a batch is stored, score its alerts and write the scores as
annotations, so the filters of this batch (and later ones) can use them.

Input: an :class:`~lanner.batch.AlertBatch` already stored. Output: the number of
annotations written per classifier. Side effects: creates each classifier's annotator
(topic = classifier name, owned by the operator's local user, public) on first use; writes
annotations through :func:`lanner.annotations.write_annotations` (the latest per object,
history kept). They are not re-run through the archive: the objects scored are this
batch's, whose filters run next and read the annotations (``AnnotationStage``); reports
failures in
the batch report (``lanner_classifier_failures_total``).

Only the alerts that are still their object's newest stored alert are annotated, so a late
or re-delivered older alert never replaces the score of a newer one, and each new alert of
an object re-scores it (the history keeps the earlier scores). A classifier that fails is
logged and counted; the batch goes on. A database outage is not a classifier's failure: it
is raised, for the worker to wait out and retry the batch.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from lanner.annotations import (
    Annotation,
    AnnotatorNotFoundError,
    add_annotator,
    get_annotator,
    write_annotations,
)
from lanner.batch import AlertBatch
from lanner.classify.base import CLASSIFICATION, Classifier, missing_columns
from lanner.filter.users import ensure_local_user
from lanner.store import Store
from lanner.store.annotations import current_rows
from lanner.store.faults import is_transient

log = logging.getLogger(__name__)


def annotations_of(
    classifier: Classifier,
    table: pa.Table,
    object_ids: Sequence[Any],
    alert_ids: Sequence[Any],
    rows: np.ndarray,
) -> list[Annotation]:
    """Annotations of ``rows`` of a :meth:`Classifier.predict` table: the top class, and a
    classdict of every score plus the model, its version and the alert scored."""
    labels = table[CLASSIFICATION].to_pylist()
    columns = {name: table[name].to_pylist() for name in table.column_names}
    out = []
    for r in rows.tolist():
        label = labels[r]
        if label is None:
            continue
        scores = {
            k: (None if v[r] is None or not math.isfinite(v[r]) else float(v[r]))
            for k, v in columns.items()
            if k != CLASSIFICATION
        }
        classdict = {
            **scores,
            "classifier": classifier.name,
            "model_version": classifier.version,
            "alert_id": alert_ids[r],
        }
        main = scores.get(classifier.scores[0])
        out.append(
            Annotation(
                object_id=object_ids[r],
                classification=str(label),
                version=classifier.version,
                explanation=f"{classifier.scores[0]}={main:.4g}" if main is not None else "",
                classdict=classdict,
            )
        )
    return out


def _new(store: Store, topic: str, items: list[Annotation]) -> list[Annotation]:
    """``items`` whose alert is not already the one the object's current annotation scored
    (a re-delivered batch writes nothing twice)."""
    if not items:
        return items
    done = {}
    for row in current_rows(store, topic, [a.object_id for a in items]):
        try:
            done[row[store.object_id_column]] = json.loads(row["classdict"] or "{}").get("alert_id")
        except (ValueError, AttributeError):
            continue
    return [
        a
        for a in items
        if a.classdict is None or done.get(a.object_id) != a.classdict.get("alert_id")
    ]


class ClassifierStage:
    """Runs the classifiers of a store's survey on each stored batch."""

    def __init__(self, store: Store, classifiers: Sequence[Classifier]) -> None:
        self.store = store
        self.classifiers = list(classifiers)
        self._ready: set[str] = set()

    def _annotator(self, name: str, description: str) -> int:
        owner = ensure_local_user(self.store)
        if name not in self._ready:
            try:
                get_annotator(self.store, name, user_id=owner)
            except AnnotatorNotFoundError:
                add_annotator(self.store, name, owner, description=description, public=True)
            self._ready.add(name)
        return owner

    def run(
        self,
        batch: AlertBatch,
        seconds: dict[str, float] | None = None,
        failures: dict[str, str] | None = None,
    ) -> dict[str, int]:
        """Score the batch with each classifier and write the annotations; returns how many
        were written per classifier. ``seconds`` collects each one's time, ``failures`` the
        reason of each that failed."""
        written: dict[str, int] = {}
        chosen = [c for c in self.classifiers if batch.survey in c.surveys]
        if not chosen or len(batch) == 0:
            return written
        current = np.asarray(sorted(set(self.store.current_rows(batch).tolist())), dtype=int)
        object_ids = batch.alerts["object_id"].to_pylist()
        alert_ids = batch.alerts["alert_id"].to_pylist()
        for c in chosen:
            clock = time.perf_counter()
            try:
                missing = missing_columns(batch, c.required_columns)
                if missing:
                    raise ValueError(f"the batch lacks the columns {missing}")
                table = c.predict(batch)
                items = _new(
                    self.store, c.name, annotations_of(c, table, object_ids, alert_ids, current)
                )
                owner = self._annotator(c.name, (type(c).__doc__ or "").strip().split("\n")[0])
                written[c.name] = (
                    write_annotations(self.store, c.name, items, user_id=owner, rerun=False)
                    if items
                    else 0
                )
            except Exception as exc:
                if is_transient(exc):  # a database outage is the worker's to wait out
                    raise
                log.error("classifier %s failed on a batch: %s", c.name, exc, exc_info=True)
                written[c.name] = 0
                if failures is not None:
                    failures[c.name] = str(exc)
            if seconds is not None:
                seconds[c.name] = seconds.get(c.name, 0.0) + time.perf_counter() - clock
        return written
