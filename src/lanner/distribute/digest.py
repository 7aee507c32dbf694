"""Daily e-mail digests, built from the matches the archive recorded.

Input: the store and the earliest match time to include. Output: one e-mail per filter whose
output is ``email`` with ``email_mode=daily`` and that has pending matches since then, and
the delivery reports; the matches e-mailed are marked sent, so a second run the same day
sends nothing twice and a failed one leaves them for the next. Built from ``filter_matches``
rather than from a process's memory, so any number of workers can record matches and one
scheduled ``lanner digest send`` (cron, once a day) sends them, and nothing is lost when a
worker restarts.
"""

from __future__ import annotations

import datetime as dt
import json

from lanner.distribute.base import MATCH_ID_KEY, DeliveryReport, match_id
from lanner.distribute.email import EmailDelivery
from lanner.distribute.router import channel_of, filter_target
from lanner.filter.saved import list_filters
from lanner.store import Store


def send_daily_digests(
    store: Store, email: EmailDelivery, since: dt.datetime
) -> list[DeliveryReport]:
    """E-mail each daily-digest filter its pending matches recorded at or after ``since``."""
    reports = []
    for flt in list_filters(store):
        if flt.output != "email":
            continue
        try:
            target = filter_target(flt, store.object_id_column)
        except ValueError as exc:  # options saved before they were validated
            reports.append(DeliveryReport("email", flt.name, errors=[str(exc)]))
            continue
        if channel_of(target.outputs) != "digest":
            continue
        rows = store.digest_rows(flt.filter_id, since)
        if not rows:
            continue
        messages = [
            {MATCH_ID_KEY: match_id(flt.filter_id, alert), **json.loads(payload)}
            for alert, payload in rows
        ]
        report = email.send_digest(target, messages)
        if report.delivered:
            now = dt.datetime.now(dt.UTC)
            store.mark_sent([(flt.filter_id, rows[i][0]) for i in report.delivered], now)
        reports.append(report)
    return reports
