"""The daily byte quota kept in the archive: shared by workers, by day, on both backends."""

from __future__ import annotations

import datetime as dt

from lanner.distribute.quota import StoreQuotaLedger
from lanner.store import open_store


def test_quota_adds_up_across_workers_and_days(db_url: str) -> None:
    first, second = open_store(db_url, "lsst"), open_store(db_url, "lsst")
    a, b = StoreQuotaLedger(first), StoreQuotaLedger(second)
    today, tomorrow = dt.date(2026, 11, 22), dt.date(2026, 11, 23)
    assert a.used("t", today) == 0
    a.add("t", today, 1000)
    b.add("t", today, 234)  # another worker, another connection
    a.add("t", tomorrow, 5)
    assert a.used("t", today) == b.used("t", today) == 1234
    assert b.used("t", tomorrow) == 5 and b.used("other", today) == 0
    first.close()
    second.close()
