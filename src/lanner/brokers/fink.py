"""Fink's classifications as annotations: one annotator per Fink classifier.

Input: Fink alerts as an Arrow table — from Fink's Kafka streams (decoded by
:mod:`lanner.brokers.messages`) or from its Data Transfer files (Parquet, or Avro
containers; :func:`read_fink_file`). Two layouts:

* ZTF (Fink's ZTF livestream and its science database): ``objectId`` with flat score
  columns next to the ZTF fields — ``snn_snia_vs_nonia``, ``snn_sn_vs_all`` (SuperNNova),
  ``rf_snia_vs_nonia`` (early SN Ia random forest), ``rf_kn_vs_nonkn`` (kilonova),
  ``anomaly_score`` (SNAD), ``mulens`` (microlensing), ``roid`` (asteroid flag),
  ``cdsxmatch`` (SIMBAD class of the counterpart).
* Rubin (Fink's LSST streams, schema ``lsst.v10_0`` plus Fink's columns):
  ``diaObject.diaObjectId`` with the structs ``clf`` (``snnSnVsOthers_score``,
  ``cats_class``/``cats_score``, ``earlySNIa_score``) and ``pred``
  (``main_label_crossmatch``) and ``fink_science_version``.

Output: ``{topic: [Annotation, ...]}`` — topic ``fink_<classifier>``, ``classification``
the class a score decides (at :data:`THRESHOLD`), ``classdict`` the score(s) and Fink's
version. A classifier that did not run on an alert (Fink writes NULL, ``-1`` or ``-99``)
gives no annotation. Scores are read and thresholded in columns (NumPy); only the
annotations themselves are built one by one. No side effects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.annotations import Annotation
from lanner.brokers.write import broker_annotation

#: A score at or above this is the classifier's positive class.
THRESHOLD = 0.5

#: Fink's CATS broad classes (ELAsTiCC taxonomy); other codes are shown as numbers.
CATS_CLASSES = {11: "SN-like", 12: "Fast", 13: "Long", 21: "Periodic", 22: "Non-periodic"}


@dataclass(frozen=True)
class ScoreClassifier:
    """A Fink score column read as a two-class classifier."""

    topic: str
    survey: str
    #: Column path in the alert table (``("clf", "snnSnVsOthers_score")``).
    path: tuple[str, ...]
    positive: str
    negative: str
    description: str
    #: Lowest valid score (Fink's "did not run" values are below it).
    minimum: float = 0.0


@dataclass(frozen=True)
class LabelClassifier:
    """A Fink column holding a class label (a code or a text)."""

    topic: str
    survey: str
    path: tuple[str, ...]
    description: str
    #: Extra column read into classdict (a score), if any.
    score_path: tuple[str, ...] | None = None
    #: Code -> label; ``None``: the value is the label.
    labels: dict[int, str] | None = None
    #: Values meaning "no class".
    missing: tuple[Any, ...] = (None, "", -1, "Unknown", "Fail")


Classifier = ScoreClassifier | LabelClassifier

ZTF_CLASSIFIERS: tuple[Classifier, ...] = (
    ScoreClassifier(
        "fink_snn_snia_vs_nonia",
        "ztf",
        ("snn_snia_vs_nonia",),
        "SN Ia",
        "non-Ia",
        "Fink SuperNNova score, SN Ia vs other supernovae",
    ),
    ScoreClassifier(
        "fink_snn_sn_vs_all",
        "ztf",
        ("snn_sn_vs_all",),
        "SN",
        "not SN",
        "Fink SuperNNova score, supernova vs everything else",
    ),
    ScoreClassifier(
        "fink_rf_snia_vs_nonia",
        "ztf",
        ("rf_snia_vs_nonia",),
        "early SN Ia",
        "not early SN Ia",
        "Fink random-forest score of an early SN Ia",
    ),
    ScoreClassifier(
        "fink_rf_kn_vs_nonkn",
        "ztf",
        ("rf_kn_vs_nonkn",),
        "kilonova",
        "not kilonova",
        "Fink random-forest score of a kilonova",
    ),
    ScoreClassifier(
        "fink_mulens",
        "ztf",
        ("mulens",),
        "microlensing",
        "not microlensing",
        "Fink microlensing score",
    ),
    ScoreClassifier(
        "fink_anomaly_score",
        "ztf",
        ("anomaly_score",),
        "normal",
        "anomalous",
        "Fink SNAD anomaly score (below 0: anomalous)",
        minimum=-np.inf,
    ),
    LabelClassifier(
        "fink_roid",
        "ztf",
        ("roid",),
        "Fink asteroid flag (2: candidate, 3: known asteroid)",
        labels={2: "asteroid candidate", 3: "known asteroid"},
        missing=(None, 0, 1, -1),
    ),
    LabelClassifier(
        "fink_cdsxmatch", "ztf", ("cdsxmatch",), "Fink's SIMBAD class of the counterpart"
    ),
)

LSST_CLASSIFIERS: tuple[Classifier, ...] = (
    ScoreClassifier(
        "fink_snn_sn_vs_others",
        "lsst",
        ("clf", "snnSnVsOthers_score"),
        "SN",
        "not SN",
        "Fink SuperNNova (ELAsTiCC) score, supernova vs everything else",
    ),
    ScoreClassifier(
        "fink_early_snia",
        "lsst",
        ("clf", "earlySNIa_score"),
        "early SN Ia",
        "not early SN Ia",
        "Fink random-forest score of an early SN Ia",
    ),
    LabelClassifier(
        "fink_cats",
        "lsst",
        ("clf", "cats_class"),
        "Fink CATS broad class (SN-like, Fast, Long, Periodic, Non-periodic)",
        score_path=("clf", "cats_score"),
        labels=CATS_CLASSES,
    ),
    LabelClassifier(
        "fink_crossmatch",
        "lsst",
        ("pred", "main_label_crossmatch"),
        "Fink's class from catalogue cross-matches",
    ),
)


def classifiers(survey: str) -> tuple[Classifier, ...]:
    """Fink's classifiers read for ``survey``."""
    return ZTF_CLASSIFIERS if survey == "ztf" else LSST_CLASSIFIERS


def _column(table: pa.Table, path: tuple[str, ...]) -> pa.Array | None:
    """The (nested) column at ``path``, or None when the table lacks it."""
    if path[0] not in table.column_names:
        return None
    arr: Any = table[path[0]].combine_chunks()
    for name in path[1:]:
        if not pa.types.is_struct(arr.type) or arr.type.get_field_index(name) < 0:
            return None
        arr = pc.struct_field(arr, name)
    return arr


def object_ids(table: pa.Table, survey: str) -> pa.Array | None:
    """The survey's object id of each alert (NULL for Rubin alerts without a diaObject)."""
    if survey == "ztf":
        return _column(table, ("objectId",))
    found = _column(table, ("diaObject", "diaObjectId"))
    return found if found is not None else _column(table, ("diaObjectId",))


def _version(table: pa.Table) -> str:
    if "fink_science_version" in table.column_names and table.num_rows:
        values = table["fink_science_version"].drop_null()
        return str(values[0]) if len(values) else ""
    return ""


def fink_annotations(table: pa.Table, survey: str) -> dict[str, list[Annotation]]:
    """Annotations of every Fink classifier that ran on the alerts of ``table``."""
    ids = object_ids(table, survey)
    if ids is None:
        return {}
    has_id = ~np.asarray(pc.is_null(ids).to_numpy(zero_copy_only=False), dtype=bool)
    id_list = ids.to_pylist()
    version = _version(table)
    out: dict[str, list[Annotation]] = {}
    for c in classifiers(survey):
        values = _column(table, c.path)
        if values is None:
            continue
        make = _scores if isinstance(c, ScoreClassifier) else _labels
        items = make(c, table, values, has_id, id_list, version)  # type: ignore[arg-type]
        if items:
            out[c.topic] = items
    return out


def _scores(
    c: ScoreClassifier,
    table: pa.Table,
    values: pa.Array,
    has_id: np.ndarray,
    ids: list[Any],
    version: str,
) -> list[Annotation]:
    score = np.asarray(
        pc.fill_null(values.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False),
        dtype=np.float64,
    )
    ok = has_id & np.isfinite(score) & (score >= c.minimum)
    rows = np.flatnonzero(ok)
    positive = score[rows] >= (0.0 if c.minimum == -np.inf else THRESHOLD)
    return [
        _annotation(
            ids[r],
            c.positive if p else c.negative,
            version,
            f"{c.description}: {s:.3f}",
            {"score": round(float(s), 6)},
        )
        for r, p, s in zip(rows.tolist(), positive.tolist(), score[rows].tolist(), strict=True)
    ]


def _labels(
    c: LabelClassifier,
    table: pa.Table,
    values: pa.Array,
    has_id: np.ndarray,
    ids: list[Any],
    version: str,
) -> list[Annotation]:
    labels = values.to_pylist()
    score = _column(table, c.score_path) if c.score_path else None
    scores = score.to_pylist() if score is not None else [None] * len(labels)
    out = []
    for r in np.flatnonzero(has_id).tolist():
        value = labels[r]
        if value in c.missing:
            continue
        text = c.labels.get(int(value), str(value)) if c.labels is not None else str(value)
        details: dict[str, Any] = {"class": value}
        score_value = scores[r]
        if score_value is not None:
            details["score"] = round(float(score_value), 6)
        out.append(_annotation(ids[r], text, version, c.description, details))
    return out


def _annotation(
    object_id: Any, classification: str, version: str, explanation: str, details: dict[str, Any]
) -> Annotation:
    return broker_annotation(
        object_id,
        classification,
        explanation,
        details,
        version=version,
        version_key="fink_science_version",
    )


def _wanted(names: list[str]) -> list[str]:
    """The id and classifier columns among ``names`` (others are not read)."""
    keep = {"objectId", "diaObject", "diaObjectId", "fink_science_version"}
    keep |= {c.path[0] for c in (*ZTF_CLASSIFIERS, *LSST_CLASSIFIERS)}
    return [n for n in names if n in keep]


def read_fink_file(path: Path) -> pa.Table:
    """The alerts of a Fink Data Transfer file (Parquet, or an Avro container), keeping
    only the id and classifier columns."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == b"PAR1":
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        return pq.read_table(path, columns=_wanted(schema.names))
    if magic == b"Obj\x01":
        import fastavro

        with open(path, "rb") as f:
            records = [r for r in fastavro.reader(f) if isinstance(r, dict)]
        return records_table(records)
    raise ValueError(f"{path}: neither a Parquet file nor an Avro container")


def records_table(records: list[dict[str, Any]]) -> pa.Table:
    """Decoded Fink alerts (dicts) as a table of their id and classifier columns."""
    if not records:
        return pa.table({})
    names = _wanted(list(records[0]))
    return pa.Table.from_pylist([{n: r.get(n) for n in names} for r in records])


def fink_topics() -> dict[str, str]:
    """Every Fink annotator topic with its description."""
    return {c.topic: c.description for c in (*ZTF_CLASSIFIERS, *LSST_CLASSIFIERS)}
