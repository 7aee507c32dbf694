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
        ph = self.store.backend.placeholder
        row = self.store.con.execute(
            f"SELECT bytes FROM delivery_quota WHERE topic = {ph} AND day = {ph}",
            (topic, day.isoformat()),
        ).fetchone()
        self.store.con.commit()
        return 0 if row is None or row[0] is None else int(row[0])

    def add(self, topic: str, day: dt.date, nbytes: int) -> None:
        ph = self.store.backend.placeholder
        self.store.con.execute(
            f"INSERT INTO delivery_quota (topic, day, bytes) VALUES ({ph}, {ph}, {ph}) "
            "ON CONFLICT (topic, day) DO UPDATE SET bytes = delivery_quota.bytes + excluded.bytes",
            (topic, day.isoformat(), nbytes),
        )
        self.store.con.commit()
