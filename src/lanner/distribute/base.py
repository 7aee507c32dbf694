"""The delivery contract: who a filter's matches go to, how, and what came of it.

Input: a :class:`FilterTarget` (owner, filter name, output options) and the
filter's matches for one batch as ``list[dict]`` (one dict per matching object:
the columns the filter selected; optionally ``lightcurve`` and ``alert``).
Output: a :class:`DeliveryReport` per channel (Kafka, e-mail, webhook). The
channels live in sibling modules and follow the :class:`Delivery` protocol; none
of them raises for a failed delivery — failures are counted and described in
the report so that one filter's problem never holds up a batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

PayloadOption = Literal["plain", "lite", "full"]
DigestMode = Literal["immediate", "daily"]
WebhookBody = Literal["json", "slack"]

#: Where a filter's matches can go besides the database (a filter's ``output``).
OUTPUTS = ("none", "kafka", "email", "webhook")

#: Key of a match holding the object's light curve (list of detections), sent by "lite".
LIGHTCURVE_KEY = "lightcurve"
#: Key of a match holding the whole alert as a dict, sent by "full" (minus cutouts).
ALERT_KEY = "alert"
#: Key added to every message: when Lanner sent it (UTC, ISO 8601), as Lasair does.
UTC_KEY = "UTC"
#: Key of every message's stable id, ``"{filter_id}:{alert_id}"``: the same match sent twice
#: (after a crash) carries the same id, so consumers can drop repeats. Also the Kafka key.
MATCH_ID_KEY = "match_id"


def match_id(filter_id: int, alert_id: int) -> str:
    """The stable id of a filter's match of an alert."""
    return f"{filter_id}:{alert_id}"


@dataclass(frozen=True)
class OutputOptions:
    """Where and in what form a filter's matches go.

    Attributes
    ----------
    kafka
        Publish to the filter's Kafka topic.
    payload
        ``"plain"``: selected columns; ``"lite"``: plus the light curve;
        ``"full"``: plus the whole alert without cutouts.
    daily_quota_bytes
        Largest number of message bytes sent to Kafka per UTC day (``None``: no quota).
    email
        Recipient address, or ``None`` for no e-mail.
    email_mode
        ``"immediate"``: one digest per batch with matches; ``"daily"``: one per day.
    webhook_url
        URL receiving a POST per batch with matches, or ``None``.
    webhook_body
        ``"json"``: Lanner's JSON document; ``"slack"``: ``{"text": ...}``.
    """

    kafka: bool = True
    payload: PayloadOption = "plain"
    daily_quota_bytes: int | None = None
    email: str | None = None
    email_mode: DigestMode = "immediate"
    webhook_url: str | None = None
    webhook_body: WebhookBody = "json"


@dataclass(frozen=True)
class FilterTarget:
    """A filter seen from the delivery side.

    Attributes
    ----------
    owner_id
        Id of the user who owns the filter.
    filter_name
        The filter's name as the user typed it (any Unicode).
    topic
        Kafka topic of the filter (see :func:`lanner.distribute.topic_names.topic_name`).
    outputs
        Output options.
    object_id_column
        Match key holding the object id (used as the Kafka message key).
    """

    owner_id: int
    filter_name: str
    topic: str
    outputs: OutputOptions = field(default_factory=OutputOptions)
    object_id_column: str = "objectId"


@dataclass
class DeliveryReport:
    """Outcome of delivering one filter's matches on one channel.

    Attributes
    ----------
    channel
        ``"kafka"``, ``"email"`` or ``"webhook"``.
    filter_name
        The filter concerned.
    sent
        Matches delivered (acknowledged by the broker / server).
    bytes_sent
        Bytes of the delivered messages or request bodies.
    over_quota
        Matches not sent because the filter's daily quota was used up.
    queued
        Matches kept for a later digest (daily e-mail).
    failed
        Matches that could not be delivered.
    attempts
        Requests or connections tried (retries included).
    errors
        Human-readable descriptions of what went wrong.
    delivered
        Positions (in the list given to ``deliver``) of the matches acknowledged.
    rejected
        Position → reason of matches that will never be sent (over the daily quota).
    """

    channel: str
    filter_name: str
    sent: int = 0
    bytes_sent: int = 0
    over_quota: int = 0
    queued: int = 0
    failed: int = 0
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return self.failed == 0 and not self.errors


class Delivery(Protocol):
    """A delivery channel."""

    def deliver(self, target: FilterTarget, matches: list[dict[str, Any]]) -> DeliveryReport:
        """Send ``matches`` of ``target``'s filter; report, never raise, on failure."""
        ...


def utc_now() -> str:
    """Current UTC time as ISO 8601 with seconds, e.g. ``2026-11-22T01:02:03Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shape_match(match: Mapping[str, Any], payload: PayloadOption, sent_at: str) -> dict[str, Any]:
    """The message for one match under a payload option.

    Parameters
    ----------
    match
        The selected columns, plus optionally ``lightcurve`` and ``alert``.
    payload
        ``"plain"``, ``"lite"`` or ``"full"``.
    sent_at
        UTC time stamp put under ``"UTC"``.

    Returns
    -------
    dict
        Selected columns; ``lightcurve`` for lite and full; ``alert`` (cutouts
        removed) for full; and ``UTC``.
    """
    message = {k: v for k, v in match.items() if k not in (LIGHTCURVE_KEY, ALERT_KEY)}
    if payload in ("lite", "full") and LIGHTCURVE_KEY in match:
        message[LIGHTCURVE_KEY] = match[LIGHTCURVE_KEY]
    if payload == "full" and ALERT_KEY in match:
        message[ALERT_KEY] = _without_cutouts(match[ALERT_KEY])
    message[UTC_KEY] = sent_at
    return message


def _without_cutouts(alert: Any) -> Any:
    # ZTF names them cutoutScience/...; Rubin cutoutDifference/... — same prefix.
    if isinstance(alert, Mapping):
        return {k: v for k, v in alert.items() if not str(k).lower().startswith("cutout")}
    return alert
