"""LVK alert notices (the IGWN JSON of Kafka topic ``igwn.gwalert``) and the selection rule.

Input: a notice's JSON bytes. Output: a :class:`Notice`. No side effects.

Only ``superevent_id``, ``alert_type`` and ``time_created`` are required: a RETRACTION has
``event: null``, Burst notices have no ``classification`` or ``properties``, and a sky map
may lack distance layers. Selection follows Lasair: a map is kept when the most probable
class is in ``always`` (BNS, NSBH), or else when its 90 % area is at most ``max_area``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

ALERT_TYPES = ("EARLYWARNING", "PRELIMINARY", "INITIAL", "UPDATE", "RETRACTION")


class NoticeError(ValueError):
    """A message that is not an LVK notice."""


@dataclass(frozen=True)
class Notice:
    """The parts of a notice the broker keeps."""

    superevent_id: str
    alert_type: str
    time_created: str
    event_time: str | None = None
    group: str | None = None
    pipeline: str | None = None
    search: str | None = None
    far: float | None = None
    significant: bool | None = None
    classification: dict[str, float] = field(default_factory=dict)
    properties: dict[str, float] = field(default_factory=dict)
    skymap: bytes | None = None
    url: str | None = None

    @property
    def is_retraction(self) -> bool:
        return self.alert_type == "RETRACTION"

    @property
    def most_probable_class(self) -> str | None:
        if not self.classification:
            return None
        return max(self.classification, key=lambda k: self.classification[k])


def parse_notice(data: bytes | str | dict[str, Any]) -> Notice:
    """A :class:`Notice` from JSON (bytes, text or an already parsed object)."""
    try:
        doc = data if isinstance(data, dict) else json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NoticeError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise NoticeError("a notice is a JSON object")
    missing = [k for k in ("superevent_id", "alert_type", "time_created") if not doc.get(k)]
    if missing:
        raise NoticeError(f"not an LVK notice: no {', '.join(missing)}")
    alert_type = str(doc["alert_type"]).upper().replace("_", "")
    if alert_type not in ALERT_TYPES:
        raise NoticeError(f"unknown alert_type {doc['alert_type']!r}")
    event = doc.get("event") or {}
    if not isinstance(event, dict):
        raise NoticeError("event is not an object")
    skymap = None
    if event.get("skymap"):
        try:
            skymap = base64.b64decode(event["skymap"], validate=False)
        except (binascii.Error, ValueError) as exc:
            raise NoticeError(f"event.skymap is not base64: {exc}") from exc
    urls = doc.get("urls") or {}
    return Notice(
        superevent_id=str(doc["superevent_id"]),
        alert_type=alert_type,
        time_created=str(doc["time_created"]),
        event_time=event.get("time"),
        group=event.get("group"),
        pipeline=event.get("pipeline"),
        search=event.get("search"),
        far=_number(event.get("far")),
        significant=event.get("significant"),
        classification=_numbers(event.get("classification")),
        properties=_numbers(event.get("properties")),
        skymap=skymap,
        url=urls.get("gracedb") if isinstance(urls, dict) else None,
    )


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _numbers(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in value.items() if _number(v) is not None}


@dataclass(frozen=True)
class Selection:
    """Which maps are kept: classes always kept, and the 90 % area cap [deg²] of others."""

    always: tuple[str, ...] = ("BNS", "NSBH")
    max_area: float = 1000.0

    def verdict(self, gw_class: str | None, area90: float) -> str | None:
        """``None`` when the map is kept, else why not."""
        if gw_class in self.always or area90 <= self.max_area:
            return None
        return (
            f"not selected: class {gw_class or 'unknown'} and 90% area {area90:.0f} deg2 "
            f"over {self.max_area:g}"
        )
