"""The classifier contract: a batch in, columns of scores out.

A classifier has a ``name`` (its annotation topic), a ``version`` (written with every score),
the ``surveys`` it serves, the batch columns it reads (``required_columns``, as
``table.column`` of :class:`~lanner.batch.AlertBatch`, ``packets.<field>`` for a value read
from the decoded packet) and a vectorised :meth:`Classifier.predict` that maps a whole batch
to one row per alert: its score columns (float64, NULL where the alert does not qualify) and
``classification``, the top class (NULL where not scored). It loads its model once, in its
constructor, and writes nothing: :mod:`lanner.classify.stage` turns the scores into
annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import pyarrow as pa

from lanner.batch import AlertBatch, Survey

#: The column of :meth:`Classifier.predict`'s table holding the top class.
CLASSIFICATION = "classification"


@runtime_checkable
class Classifier(Protocol):
    """A model that scores every alert of a batch (see the module docstring)."""

    name: str
    version: str
    surveys: frozenset[Survey]
    required_columns: tuple[str, ...]
    #: The score columns of :meth:`predict`, in order.
    scores: tuple[str, ...]

    def predict(self, batch: AlertBatch) -> pa.Table:
        """``scores`` and ``classification`` columns, one row per alert of ``batch``."""
        ...


def score_table(
    scores: dict[str, np.ndarray], classification: np.ndarray, scored: np.ndarray
) -> pa.Table:
    """A :meth:`Classifier.predict` result: float64 score columns and the top class, NULL
    where ``scored`` is false."""
    columns: dict[str, pa.Array] = {}
    for name, values in scores.items():
        v = np.asarray(values, dtype=np.float64)
        columns[name] = pa.array(v, mask=~scored | ~np.isfinite(v))
    columns[CLASSIFICATION] = pa.array(
        np.asarray(classification, dtype=object), type=pa.string(), mask=~scored
    )
    return pa.table(columns)


def binary_labels(p: np.ndarray, positive: str, negative: str) -> np.ndarray:
    """Top class of a two-class score ``p`` (probability of ``positive``)."""
    return np.where(np.asarray(p) >= 0.5, positive, negative).astype(object)


def missing_columns(batch: AlertBatch, required: Sequence[str]) -> list[str]:
    """Required ``table.column`` names that ``batch`` lacks (``packets.*`` are optional:
    a value missing from the packets reads as NULL)."""
    tables = {
        "alerts": batch.alerts,
        "detections": batch.detections,
        "forced": batch.forced,
        "upper_limits": batch.upper_limits,
        **batch.enriched,
    }
    out = []
    for name in required:
        table, _, column = name.partition(".")
        if table == "packets":
            continue
        t = tables.get(table)
        if t is None or column not in t.column_names:
            out.append(name)
    return out
