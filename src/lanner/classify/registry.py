"""The one list of classifiers, and which of them a process runs.

Imported classes, not strings. A classifier needs the ``lanner[ml]`` extra (fink-science's
models, supernnova, torch, onnxruntime, ...); without it the list is empty and the pipeline
runs as before. ``auto`` (the default of ``LANNER_CLASSIFIERS``) runs every classifier fast
enough for a stream: :data:`NOT_IN_AUTO` lists those left out, and why. Each classifier loads
its model once per process (:func:`load`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache

import pyarrow as pa

from lanner.batch import AlertBatch, Survey
from lanner.classify.base import Classifier
from lanner.classify.fink import installed

log = logging.getLogger(__name__)

#: Libraries every shipped classifier needs (the ``lanner[ml]`` extra).
ML_MODULES = ("fink_science", "fink_utils", "supernnova", "torch", "onnxruntime", "pandas")

#: Classifiers too slow for a stream, left out of ``auto`` (they run when named), and why.
NOT_IN_AUTO: dict[str, str] = {
    "slsn": "a Rainbow fit per light curve of >= 7 points, about 1 s each: name it to run it",
}


def classifier_classes() -> dict[str, type]:
    """Every shipped classifier by name (its annotation topic), in running order."""
    from lanner.classify.slsn import SuperluminousSN
    from lanner.classify.snad import AnomalyScore
    from lanner.classify.snn import RubinSnVsOther, ZtfSnIaVsNonIa, ZtfSnVsAll
    from lanner.classify.ztf_roid import AsteroidFlag

    classes: tuple[type, ...] = (
        AsteroidFlag,
        ZtfSnIaVsNonIa,
        ZtfSnVsAll,
        AnomalyScore,
        RubinSnVsOther,
        SuperluminousSN,
    )
    return {c.name: c for c in classes}  # type: ignore[attr-defined]


def ml_installed() -> bool:
    """True when the ``lanner[ml]`` extra is installed."""
    return installed(*ML_MODULES)


@cache
def load(name: str) -> Classifier:
    """The classifier ``name``, its model loaded (once per process)."""
    classes = classifier_classes()
    if name not in classes:
        raise ValueError(f"no classifier {name!r}: choose among {', '.join(classes)}")
    made: Classifier = classes[name]()
    return made


class Deferred:
    """A classifier whose model loads on its first batch (so a command starts at once and
    a survey's models load only when that survey's alerts arrive)."""

    def __init__(self, name: str) -> None:
        cls = classifier_classes()[name]
        self.name = name
        self.version: str = cls.version  # type: ignore[attr-defined]
        self.surveys: frozenset[Survey] = cls.surveys  # type: ignore[attr-defined]
        self.required_columns: tuple[str, ...] = cls.required_columns  # type: ignore[attr-defined]
        self.scores: tuple[str, ...] = cls.scores  # type: ignore[attr-defined]

    def predict(self, batch: AlertBatch) -> pa.Table:
        return load(self.name).predict(batch)


def auto_names() -> list[str]:
    """The classifiers ``auto`` runs: every shipped one but :data:`NOT_IN_AUTO`, when the
    extra is installed (none otherwise)."""
    if not ml_installed():
        return []
    return [n for n in classifier_classes() if n not in NOT_IN_AUTO]


def selected(choice: str, survey: str | None = None) -> list[Classifier]:
    """The classifiers of the ``LANNER_CLASSIFIERS`` setting: ``none``, or names separated by
    commas, where ``auto`` stands for :func:`auto_names` (``auto,slsn``: those and the SLSN
    classifier); only those serving ``survey`` when given, in running order. Unknown names,
    or names asked for without the extra, raise ValueError."""
    words = [w.strip() for w in choice.lower().split(",") if w.strip()]
    if words == ["none"]:
        return []
    classes = classifier_classes()
    unknown = [w for w in words if w not in classes and w != "auto"]
    if unknown:
        raise ValueError(
            f"LANNER_CLASSIFIERS names unknown classifiers {unknown}: choose among "
            f"{', '.join(classes)}, or auto, or none"
        )
    named: Sequence[str] = [w for w in words if w != "auto"]
    if named and not ml_installed():
        raise ValueError(
            "LANNER_CLASSIFIERS names classifiers but their libraries are not installed: "
            "pip install 'lanner[ml]'"
        )
    wanted = set(named) | (set(auto_names()) if "auto" in words else set())
    return [
        load(n)
        for n in classes
        if n in wanted and (survey is None or survey in classes[n].surveys)  # type: ignore[attr-defined]
    ]
