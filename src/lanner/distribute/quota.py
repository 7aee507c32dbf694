"""The daily byte quota of filter topics, kept in the archive.

A :class:`~lanner.distribute.kafka.QuotaLedger` backed by the ``delivery_quota`` table, so
that every worker of a consumer group counts against the same quota and a restart does not
reset it. Each addition is one upsert that adds to the stored count in SQL, so concurrent
workers do not overwrite each other.
"""

from __future__ import annotations

import datetime as dt

from lanner.store import Store


class StoreQuotaLedger:
    """Bytes sent per topic per UTC day, in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def used(self, topic: str, day: dt.date) -> int:
        return self.store.quota_used(topic, day)

    def add(self, topic: str, day: dt.date, nbytes: int) -> None:
        self.store.quota_add(topic, day, nbytes)
