"""The outbox: ``filter_matches`` rows waiting to be sent, and what came of each attempt.

Input: the matches of a batch (:class:`MatchRow`), recorded once the batch is stored
(:meth:`lanner.store.Store.record_matches`), and the outcomes of delivery attempts. Output: the
matches due for delivery (:class:`OutboxRow`), each claimed by one delivery worker at a time.
Side effects: writes to ``filter_matches``.

A match is ``pending`` until its channel acknowledges it (``sent``) or the delivery worker
gives up (``failed``, with the reason); ``none`` when its filter has no output. A claim sets
``claimed_until`` (a lease): another worker skips the row until then, so two workers do not
send one match twice, and a worker killed mid-send only delays it by the lease. On
PostgreSQL the claim also skips rows another transaction holds (``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lanner.store.accounts import AccountsStore
from lanner.store.ddl import quote

#: Columns of ``filter_matches`` written when a match is recorded.
MATCH_COLUMNS = (
    "filter_id",
    "alert_id",
    "object_id",  # renamed to the survey's object id column
    "matched_at",
    "payload",
    "why",
    "attachments",
    "channel",
    "state",
    "attempts",
    "next_attempt",
)
#: Largest number of keys in one IN (...) list.
_CHUNK = 500


@dataclass(frozen=True)
class MatchRow:
    """A match as recorded: ``payload``, ``why`` and ``attachments`` are JSON text."""

    filter_id: int
    alert_id: int
    object_id: Any
    matched_at: dt.datetime
    payload: str
    why: str
    attachments: str | None
    #: ``kafka``, ``email``, ``digest``, ``webhook`` or ``None`` (no output).
    channel: str | None


@dataclass(frozen=True)
class OutboxRow:
    """A pending match claimed for delivery."""

    filter_id: int
    alert_id: int
    matched_at: dt.datetime
    payload: str
    attachments: str | None
    channel: str
    attempts: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.filter_id, self.alert_id)


class OutboxStore(AccountsStore):
    """Methods of :class:`lanner.store.Store` over the outbox."""

    def _match_tuples(self, rows: Sequence[MatchRow]) -> list[tuple[Any, ...]]:
        out = []
        for r in rows:
            state = "pending" if r.channel else "none"
            out.append(
                (
                    r.filter_id,
                    r.alert_id,
                    r.object_id,
                    self._stamp(r.matched_at),
                    r.payload,
                    r.why,
                    r.attachments,
                    r.channel or "none",
                    state,
                    0,
                    self._stamp(r.matched_at),
                )
            )
        return out

    def match_columns(self, object_id_column: str) -> list[str]:
        """:data:`MATCH_COLUMNS` with the survey's object id column."""
        return [object_id_column if c == "object_id" else c for c in MATCH_COLUMNS]

    def claim_matches(
        self, now: dt.datetime, lease_s: float, limit: int, due_only: bool = True
    ) -> list[OutboxRow]:
        """Claim up to ``limit`` pending matches (oldest first) for ``lease_s`` seconds.

        ``due_only`` keeps back those whose retry time has not come (``lanner deliver
        --once`` sends them all). Daily digests are left to ``lanner digest send``.
        """
        ph = self.backend.placeholder
        due = f" AND next_attempt <= {ph}" if due_only else ""
        pick = (
            "SELECT filter_id, alert_id FROM filter_matches WHERE state = 'pending' "
            f"AND channel <> 'digest' AND (claimed_until IS NULL OR claimed_until <= {ph}){due} "
            f"ORDER BY matched_at, filter_id, alert_id LIMIT {int(limit)}"
        )
        if self.backend.dialect == "postgres":
            pick += " FOR UPDATE SKIP LOCKED"
        params: list[Any] = [self._stamp(now + dt.timedelta(seconds=lease_s)), self._stamp(now)]
        if due_only:
            params.append(self._stamp(now))
        try:
            rows = self.con.execute(
                f"UPDATE filter_matches SET claimed_until = {ph} "
                f"WHERE (filter_id, alert_id) IN ({pick}) "
                "RETURNING filter_id, alert_id, matched_at, payload, attachments, channel, "
                "attempts",
                params,
            ).fetchall()
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        claimed = [
            OutboxRow(int(r[0]), int(r[1]), _moment(r[2]), r[3], r[4], r[5], int(r[6] or 0))
            for r in rows
        ]
        return sorted(claimed, key=lambda r: (r.matched_at, r.filter_id, r.alert_id))

    def mark_sent(self, keys: Sequence[tuple[int, int]], now: dt.datetime) -> None:
        """The channel acknowledged these matches."""
        self._mark(
            keys,
            "state = 'sent', attempts = attempts + 1, last_error = NULL, "
            "claimed_until = NULL, sent_at = {ph}",
            (self._stamp(now),),
        )

    def mark_retry(
        self, keys: Sequence[tuple[int, int]], error: str, next_attempt: dt.datetime
    ) -> None:
        """An attempt failed; try again from ``next_attempt``."""
        self._mark(
            keys,
            "attempts = attempts + 1, last_error = {ph}, claimed_until = NULL, next_attempt = {ph}",
            (error, self._stamp(next_attempt)),
        )

    def mark_failed(self, keys: Sequence[tuple[int, int]], error: str) -> None:
        """Given up on these matches, for ``error``."""
        self._mark(
            keys,
            "state = 'failed', attempts = attempts + 1, last_error = {ph}, claimed_until = NULL",
            (error,),
        )

    def _mark(self, keys: Sequence[tuple[int, int]], sets: str, values: tuple[Any, ...]) -> None:
        ph = self.backend.placeholder
        assignment = sets.format(ph=ph)
        try:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                pairs = ", ".join([f"({ph}, {ph})"] * len(chunk))
                self.con.execute(
                    f"UPDATE filter_matches SET {assignment} "
                    f"WHERE (filter_id, alert_id) IN (VALUES {pairs})",
                    (*values, *(v for key in chunk for v in key)),
                )
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    def match_states(self, filter_id: int, object_id_column: str, limit: int) -> list[Any]:
        """A filter's latest matches with their delivery state, newest first: object id,
        alert id, matched at, state, attempts, last error, sent at, payload, why."""
        ph = self.backend.placeholder
        return self._read(
            f"SELECT {quote(object_id_column)}, alert_id, matched_at, state, attempts, "
            "last_error, sent_at, payload, why FROM filter_matches "
            f"WHERE filter_id = {ph} ORDER BY matched_at DESC, alert_id DESC LIMIT {int(limit)}",
            (filter_id,),
        )

    def match_count(self, filter_id: int) -> dict[str, int]:
        """A filter's matches by delivery state."""
        ph = self.backend.placeholder
        rows = self._read(
            f"SELECT state, count(*) FROM filter_matches WHERE filter_id = {ph} GROUP BY state",
            (filter_id,),
        )
        return {str(state): int(n) for state, n in rows}

    def digest_rows(self, filter_id: int, since: dt.datetime) -> list[tuple[int, str]]:
        """(alert id, payload) of a daily-digest filter's pending matches since ``since``."""
        ph = self.backend.placeholder
        rows = self._read(
            f"SELECT alert_id, payload FROM filter_matches WHERE filter_id = {ph} "
            f"AND channel = 'digest' AND state = 'pending' AND matched_at >= {ph} "
            "ORDER BY matched_at, alert_id",
            (filter_id, self._stamp(since)),
        )
        return [(int(a), p) for a, p in rows]

    # -- Kafka quota ----------------------------------------------------------------------
    def quota_used(self, topic: str, day: dt.date) -> int:
        """Bytes sent to a filter topic on a UTC day."""
        ph = self.backend.placeholder
        rows = self._read(
            f"SELECT bytes FROM delivery_quota WHERE topic = {ph} AND day = {ph}",
            (topic, day.isoformat()),
        )
        return 0 if not rows or rows[0][0] is None else int(rows[0][0])

    def quota_add(self, topic: str, day: dt.date, nbytes: int) -> None:
        """Add to the bytes sent to a filter topic on a UTC day, in SQL (concurrent workers
        do not overwrite each other)."""
        ph = self.backend.placeholder
        self._write(
            f"INSERT INTO delivery_quota (topic, day, bytes) VALUES ({ph}, {ph}, {ph}) "
            "ON CONFLICT (topic, day) DO UPDATE SET bytes = delivery_quota.bytes + excluded.bytes",
            (topic, day.isoformat(), nbytes),
        )

    # -- alerts of matches ----------------------------------------------------------------
    def latest_alert_ids(self, object_id_column: str, ids: Sequence[Any]) -> dict[Any, int]:
        """The newest stored alert id of each object (the alert a re-run match names)."""
        oid = quote(object_id_column)
        ph = self.backend.placeholder
        out: dict[Any, tuple[float, int]] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            rows = self._read(
                f"SELECT {oid}, mjd, alert_id FROM alerts WHERE {oid} IN "
                f"({', '.join([ph] * len(chunk))})",
                tuple(chunk),
            )
            for object_id, mjd, alert_id in rows:
                if object_id not in out or mjd > out[object_id][0]:
                    out[object_id] = (mjd, int(alert_id))
        return {k: v[1] for k, v in out.items()}


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
