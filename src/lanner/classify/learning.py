"""A user's own anomaly ranking, re-fitted from their labels (active learning).

Input: the SNAD annotations of the archive (topic ``anomaly_score``: the forests' score and
the 36 features they read, in ``classdict``) and the user's labels, themselves annotations
of the user's private topic ``anomaly_labels_<user>`` (``interesting`` or ``boring``).
Output: the user's ranking, written as annotations of their private topic
``anomaly_<user>`` (``classdict``: ``score``, ``base_score``, ``rank``, ``labels``), which
their filters read like any annotator (``annotator:anomaly_alice``). Side effects: creates
the two topics for the user on first use; writes annotations (history kept).

Method (relevance feedback in the forest's feature space). The isolation forests cannot be
re-weighted leaf by leaf as AAD (Das et al. 2017, the method SNAD's forests come from) does,
because they ship compiled (ONNX). Instead each object's score moves by a Gaussian kernel
vote of the labelled objects, in the standardised feature space::

    score_u(x) = base(x) − α · σ_base · Σ_i y_i · exp(−‖z(x) − z(x_i)‖² / (2 h²))

with ``y_i = +1`` for *interesting* (lower = more anomalous, Fink's convention, so
interesting objects and their neighbours rise in the ranking) and ``−1`` for *boring*,
``z`` the features standardised over the scored objects, ``σ_base`` the spread of the base
scores, ``α`` = :data:`ALPHA` and ``h`` = :data:`BANDWIDTH` × √(number of features). The
ranking is deterministic (ties by object id).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lanner.annotations import (
    Annotation,
    AnnotationError,
    AnnotatorNotFoundError,
    add_annotator,
    get_annotator,
    write_annotations,
)
from lanner.filter.users import get_user
from lanner.store import Store
from lanner.store.annotations import current_rows

BASE_TOPIC = "anomaly_score"
LABELS = ("interesting", "boring")
ALPHA = 2.0
BANDWIDTH = 0.5


def labels_topic(username: str) -> str:
    return f"anomaly_labels_{_safe(username)}"


def ranking_topic(username: str) -> str:
    return f"anomaly_{_safe(username)}"


def _safe(username: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in username)


@dataclass(frozen=True)
class Ranked:
    """One object of a personal ranking."""

    object_id: Any
    rank: int
    score: float
    base_score: float


def _own_topic(store: Store, topic: str, user_id: int, description: str) -> None:
    try:
        found = get_annotator(store, topic, user_id=user_id)
    except AnnotatorNotFoundError:
        add_annotator(store, topic, user_id, description=description, public=False)
        return
    if found.owner_id != user_id:
        raise AnnotationError(f"topic {topic!r} belongs to another user")


def _all_rows(store: Store, topic: str) -> list[dict[str, Any]]:
    oid = store.object_id_column
    ids = [
        r[0]
        for r in store.con.execute(
            f'SELECT "{oid}" FROM annotations WHERE topic = {store.backend.placeholder}',
            (topic,),
        ).fetchall()
    ]
    store.con.commit()
    return current_rows(store, topic, ids)


def label(store: Store, user_id: int, object_id: Any, verdict: str) -> list[Ranked]:
    """Record the user's ``verdict`` on an object and re-fit their ranking (returned)."""
    if verdict not in LABELS:
        raise AnnotationError(f"label {verdict!r}: use one of {', '.join(LABELS)}")
    user = get_user(store, user_id)
    topic = labels_topic(user.username)
    _own_topic(store, topic, user_id, f"{user.username}'s anomaly labels")
    write_annotations(
        store, topic, [Annotation(object_id, verdict, version="1")], user_id=user_id, rerun=False
    )
    return refit(store, user_id)


def _features(rows: list[dict[str, Any]], oid: str) -> tuple[list[Any], np.ndarray, np.ndarray]:
    ids, base, feats = [], [], []
    names: list[str] | None = None
    for r in rows:
        d = json.loads(r["classdict"] or "{}")
        score = d.get("anomaly_score")
        if score is None:
            continue
        if names is None:
            names = sorted(k for k in d if k[:2] in ("g_", "r_"))
        ids.append(r[oid])
        base.append(float(score))
        feats.append([np.nan if d.get(k) is None else float(d[k]) for k in names])
    return ids, np.array(base, dtype=np.float64), np.array(feats, dtype=np.float64)


def personal_scores(
    base: np.ndarray, features: np.ndarray, labelled: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """The re-fitted scores (see the module docstring); ``labelled`` indexes rows of
    ``features`` with verdict ``y`` (+1 interesting, −1 boring)."""
    if len(labelled) == 0 or len(base) == 0:
        return base.copy()
    mean = np.nanmean(features, axis=0)
    std = np.nanstd(features, axis=0)
    std[~np.isfinite(std) | (std == 0)] = 1.0
    z = np.nan_to_num((features - mean) / std)
    h = BANDWIDTH * math.sqrt(z.shape[1])
    d2 = ((z[:, None, :] - z[None, labelled, :]) ** 2).sum(axis=2)
    vote = (np.exp(-d2 / (2 * h * h)) * y[None, :]).sum(axis=1)
    spread = float(np.std(base)) or 1.0
    return base - ALPHA * spread * vote


def refit(store: Store, user_id: int) -> list[Ranked]:
    """Re-fit and write ``user_id``'s ranking from their labels; returns it, best first."""
    user = get_user(store, user_id)
    oid = store.object_id_column
    ids, base, feats = _features(_all_rows(store, BASE_TOPIC), oid)
    verdicts = {
        r[oid]: (1.0 if r["classification"] == "interesting" else -1.0)
        for r in _all_rows(store, labels_topic(user.username))
    }
    index = {k: i for i, k in enumerate(ids)}
    labelled = np.array([index[k] for k in verdicts if k in index], dtype=np.int64)
    y = np.array([verdicts[ids[i]] for i in labelled], dtype=np.float64)
    score = personal_scores(base, feats, labelled, y)
    order = sorted(range(len(ids)), key=lambda i: (score[i], str(ids[i])))
    ranked = [Ranked(ids[i], n + 1, float(score[i]), float(base[i])) for n, i in enumerate(order)]
    topic = ranking_topic(user.username)
    _own_topic(store, topic, user_id, f"{user.username}'s anomaly ranking")
    items = [
        Annotation(
            r.object_id,
            "interesting" if r.object_id in verdicts and verdicts[r.object_id] > 0 else "ranked",
            version="kernel-1",
            explanation=f"rank {r.rank} of {len(ranked)} from {len(labelled)} labels",
            classdict={
                "score": r.score,
                "base_score": r.base_score,
                "rank": r.rank,
                "labels": len(labelled),
            },
        )
        for r in ranked
    ]
    if items:
        write_annotations(store, topic, items, user_id=user_id)
    return ranked
