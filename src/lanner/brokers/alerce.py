"""ALeRCE's classifications as annotations: one annotator per ALeRCE classifier.

Input: decoded messages of ALeRCE's classifier output streams (dicts), in the shapes its
pipeline publishes (``alercebroker/pipeline``, the classifier steps' Kafka output):

* the light-curve classifier: ``{"oid", "candid", "features": {...}, "lc_classification":
  {"class", "probabilities": {class: p}, "hierarchical": {"top": {...}, "children":
  {...}}}}`` → annotator ``alerce_lc_classifier``;
* the stamp classifier: ``{"objectId" (or "oid"), "candid", "probabilities": {class: p}}``
  → ``alerce_stamp_classifier``;
* a probabilities record as ALeRCE's REST API and client return them
  (``query_probabilities``): ``{"oid", "classifier_name", "classifier_version",
  "class_name", "probability", "ranking"}`` → ``alerce_<classifier_name>``; records of one
  object and classifier are gathered into one annotation.

Output: ``{topic: [Annotation, ...]}``: ``classification`` the most probable class,
``classdict`` every probability (and the hierarchical top level when given), and the
messages that fit no shape, counted by reason. No side effects.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from lanner.annotations import Annotation
from lanner.brokers.write import broker_annotation

LC_TOPIC = "alerce_lc_classifier"
STAMP_TOPIC = "alerce_stamp_classifier"
#: ALeRCE's object page, where each annotation links.
OBJECT_URL = "https://alerce.online/object/{}"


def _probabilities(value: Any) -> dict[str, float] | None:
    if not isinstance(value, Mapping) or not value:
        return None
    try:
        return {str(k): float(v) for k, v in value.items() if v is not None}
    except (TypeError, ValueError):
        return None


def _annotation(
    oid: str, probs: dict[str, float], version: str, extra: dict[str, Any], what: str
) -> Annotation:
    best = max(probs, key=lambda k: probs[k])
    return broker_annotation(
        oid,
        best,
        f"ALeRCE {what}: {best} with probability {probs[best]:.3f}",
        {"probabilities": probs, **extra},
        version=version,
        version_key="classifier_version",
        url=OBJECT_URL.format(oid),
    )


def topic_name(classifier: str) -> str:
    """``alerce_<classifier>`` with the characters a topic may not hold made ``_``."""
    return "alerce_" + re.sub(r"[^A-Za-z0-9_]", "_", classifier)


def alerce_annotations(
    messages: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, list[Annotation]], Counter[str]]:
    """Annotations of ALeRCE messages, and the messages set aside by reason."""
    out: dict[str, list[Annotation]] = {}
    rejected: Counter[str] = Counter()
    records: dict[tuple[str, str], dict[str, Any]] = {}
    for m in messages:
        oid = m.get("oid") or m.get("objectId") or m.get("aid")
        if not isinstance(oid, str) or not oid:
            rejected["no object id"] += 1
            continue
        if isinstance(m.get("lc_classification"), Mapping):
            lc = m["lc_classification"]
            probs = _probabilities(lc.get("probabilities"))
            if probs is None:
                rejected["no probabilities"] += 1
                continue
            top = (lc.get("hierarchical") or {}).get("top")
            extra = {"top": _probabilities(top)} if _probabilities(top) else {}
            out.setdefault(LC_TOPIC, []).append(
                _annotation(
                    oid, probs, str(m.get("version") or ""), extra, "light-curve classifier"
                )
            )
        elif "class_name" in m and "classifier_name" in m:
            try:
                p = float(m["probability"])
            except (TypeError, ValueError, KeyError):
                rejected["no probability"] += 1
                continue
            key = (oid, str(m["classifier_name"]))
            rec = records.setdefault(key, {"probs": {}, "version": m.get("classifier_version")})
            rec["probs"][str(m["class_name"])] = p
        elif "probabilities" in m:
            probs = _probabilities(m.get("probabilities"))
            if probs is None:
                rejected["no probabilities"] += 1
                continue
            out.setdefault(STAMP_TOPIC, []).append(
                _annotation(oid, probs, str(m.get("version") or ""), {}, "stamp classifier")
            )
        else:
            rejected["not an ALeRCE classification"] += 1
    for (oid, name), rec in records.items():
        out.setdefault(topic_name(name), []).append(
            _annotation(oid, rec["probs"], str(rec["version"] or ""), {}, name)
        )
    return out, rejected
