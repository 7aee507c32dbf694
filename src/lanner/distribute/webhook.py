"""POST a filter's matches to a webhook URL.

Input: a :class:`FilterTarget` with ``webhook_url`` and the matches to send.
Output: one HTTP POST with a JSON body, either Lanner's document
``{"filter", "owner_id", "topic", "UTC", "matches": [...]}`` (exact 64-bit ids, each match
with its stable ``match_id``) or, for ``webhook_body="slack"``, ``{"text": "..."}`` as Slack
incoming webhooks expect. The URL is checked again before each request, the request goes to
the checked address with a timeout and follows no redirect
(:mod:`lanner.distribute.webhook_url`). One attempt by default: the delivery worker
(:mod:`lanner.distribute.outbox`) retries later, off the batch's path. With
``max_attempts > 1``, server errors (5xx), 429 and connection failures are retried in the
call after ``backoff_s * 2**(attempt-1)`` seconds; other answers are not. Failures are
reported, not raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lanner.distribute.base import (
    ALERT_KEY,
    LIGHTCURVE_KEY,
    DeliveryReport,
    FilterTarget,
    shape_match,
    utc_now,
)
from lanner.distribute.json_payload import to_json_bytes, to_jsonable
from lanner.distribute.webhook_url import UnsafeURLError, check_webhook_url, post

#: Matches listed in a Slack text; the rest are counted.
MAX_SLACK_LINES = 20


@dataclass(frozen=True)
class WebhookSettings:
    """Retry and timeout policy.

    Attributes
    ----------
    max_attempts
        Tries per call, first one included.
    backoff_s
        Wait before the first retry in the call (s); doubled after each failure.
    timeout_s
        Socket timeout of one request (s): connecting, and each read of the answer.
    allow_private
        Allow private and loopback addresses (default: ``LANNER_WEBHOOK_ALLOW_PRIVATE``).
    """

    max_attempts: int = 1
    backoff_s: float = 1.0
    timeout_s: float = 10.0
    allow_private: bool | None = None


def json_body(target: FilterTarget, matches: Sequence[dict[str, Any]], sent_at: str) -> bytes:
    """Lanner's webhook document for one batch of matches."""
    shaped = [shape_match(m, target.outputs.payload, sent_at) for m in matches]
    return to_json_bytes(
        {
            "filter": target.filter_name,
            "owner_id": target.owner_id,
            "topic": target.topic,
            "UTC": sent_at,
            "matches": shaped,
        }
    )


def slack_body(target: FilterTarget, matches: Sequence[dict[str, Any]], sent_at: str) -> bytes:
    """A Slack-compatible ``{"text": ...}`` body: one line per match."""
    lines = [f"Lanner filter *{target.filter_name}*: {len(matches)} match(es) at {sent_at}"]
    for match in matches[:MAX_SLACK_LINES]:
        cells = to_jsonable(
            {k: v for k, v in match.items() if k not in (LIGHTCURVE_KEY, ALERT_KEY)}
        )
        lines.append(" ".join(f"{k}={v}" for k, v in cells.items()))
    if len(matches) > MAX_SLACK_LINES:
        lines.append(f"... and {len(matches) - MAX_SLACK_LINES} more")
    return to_json_bytes({"text": "\n".join(lines)})


class WebhookDelivery:
    """Webhook channel of the :class:`~lanner.distribute.base.Delivery` protocol."""

    channel = "webhook"

    def __init__(
        self,
        settings: WebhookSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or WebhookSettings()
        self._sleep = sleep

    def deliver(self, target: FilterTarget, matches: list[dict[str, Any]]) -> DeliveryReport:
        """POST the batch's matches; retry transient failures; report the outcome."""
        report = DeliveryReport(self.channel, target.filter_name)
        url = target.outputs.webhook_url
        if not matches or url is None:
            return report
        sent_at = utc_now()
        build = slack_body if target.outputs.webhook_body == "slack" else json_body
        body = build(target, matches, sent_at)
        delay = self.settings.backoff_s
        for attempt in range(1, self.settings.max_attempts + 1):
            report.attempts = attempt
            status, problem = self._post(url, body)
            if problem is None:
                report.sent = len(matches)
                report.bytes_sent = len(body)
                report.delivered = list(range(len(matches)))
                report.errors.clear()
                return report
            several = self.settings.max_attempts > 1
            report.errors.append(f"attempt {attempt}: {problem}" if several else problem)
            retriable = status is None or status >= 500 or status == 429
            if not retriable:
                break
            if attempt < self.settings.max_attempts:
                self._sleep(delay)
                delay *= 2
        report.failed = len(matches)
        if self.settings.max_attempts > 1:
            report.errors.append(f"gave up on {url} after {report.attempts} attempt(s)")
        return report

    def _post(self, url: str, body: bytes) -> tuple[int | None, str | None]:
        """One POST. Returns (HTTP status or None, problem or None if 2xx)."""
        try:
            checked = check_webhook_url(url, self.settings.allow_private)
        except UnsafeURLError as exc:
            return 0, f"{exc}: {exc.hint}"
        headers = {"Content-Type": "application/json", "User-Agent": "lanner-webhook"}
        return post(checked, body, headers, self.settings.timeout_s)
