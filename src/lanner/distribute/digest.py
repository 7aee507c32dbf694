"""Daily e-mail digests, built from the matches the archive recorded.

Input: the store and the time of the previous digest. Output: one e-mail per filter whose
output is ``email`` with ``email_mode=daily`` and that matched since then, and the delivery
reports. Built from ``filter_matches`` rather than from a process's memory, so any number of
workers can record matches and one scheduled ``lanner digest send`` (cron, once a day) sends
them, and nothing is lost when a worker restarts.
"""

from __future__ import annotations

import datetime as dt
import json

from lanner.distribute.base import DeliveryReport
from lanner.distribute.email import EmailDelivery
from lanner.distribute.router import MatchRouter
from lanner.filter.saved import list_filters
from lanner.store import Store


def send_daily_digests(
    store: Store, router: MatchRouter, email: EmailDelivery, since: dt.datetime
) -> list[DeliveryReport]:
    """E-mail each daily-digest filter's matches recorded at or after ``since`` (UTC)."""
    reports = []
    ph = store.backend.placeholder
    for flt in list_filters(store):
        if flt.output != "email":
            continue
        target = router.target(flt)
        if target.outputs.email is None or target.outputs.email_mode != "daily":
            continue
        rows = store.con.execute(
            f"SELECT payload FROM filter_matches WHERE filter_id = {ph} AND matched_at >= {ph} "
            "ORDER BY matched_at, alert_id",
            (flt.filter_id, since.isoformat() if store.backend.dialect == "sqlite" else since),
        ).fetchall()
        if rows:
            reports.append(email.send_digest(target, [json.loads(r[0]) for r in rows]))
    return reports
