"""The delivery worker: sends the outbox's pending matches, off the batch's path.

Input: the store's pending matches (:mod:`lanner.store.outbox`, recorded with each batch)
and the channels a broker has (:func:`lanner.distribute.channels.build_channels`). Output:
each match marked ``sent`` once its channel acknowledged it; a failed attempt is retried
after a backoff (:class:`RetryPolicy`); a match still unsent after ``max_age_s`` is marked
``failed`` with the reason, and its filter's owner gets a notice (at most one per filter
per day). Side effects: the channels' (Kafka, SMTP, HTTP) and writes to ``filter_matches``
and ``filter_notices``.

:class:`DeliveryWorker` makes one pass (``lanner deliver --once``); :class:`BackgroundDelivery`
runs passes in a thread beside a pipeline (``lanner run``, ``ingest``, ``consume``), woken
after each batch, so a slow or dead endpoint never holds a batch up. Every message carries
its match's stable id (``match_id``), so a consumer can drop the rare repeat (a worker
killed after sending and before marking).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lanner.distribute.base import MATCH_ID_KEY, Delivery, DeliveryReport, match_id
from lanner.distribute.router import filter_target
from lanner.filter.saved import SavedFilter, list_filters
from lanner.store import Store
from lanner.store.faults import is_transient
from lanner.store.outbox import OutboxRow

log = logging.getLogger(__name__)

#: Why a channel is missing, and what to do.
MISSING_CHANNEL = {
    "kafka": "no Kafka broker configured: set LANNER_KAFKA",
    "email": "no SMTP server configured: set LANNER_SMTP_HOST",
    "webhook": "no webhook channel",
}


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again, and when to give up.

    Attributes
    ----------
    max_age_s
        A match not delivered this long (s) after it was made is marked failed
        (``LANNER_DELIVERY_MAX_AGE``, in hours).
    first_retry_s
        Wait (s) after the first failed attempt; doubled after each further one.
    longest_wait_s
        Longest wait (s) between two attempts.
    lease_s
        How long (s) a worker holds the matches it claimed before another may take them.
    pass_limit
        Most matches claimed in one pass.
    """

    max_age_s: float = 24 * 3600.0
    first_retry_s: float = 30.0
    longest_wait_s: float = 3600.0
    lease_s: float = 300.0
    pass_limit: int = 2000

    def wait_after(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (1, 2, ...)."""
        return float(min(self.first_retry_s * 2 ** max(attempts - 1, 0), self.longest_wait_s))


@dataclass
class DeliveryPass:
    """What one pass did: matches claimed, sent, left to retry, given up."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    #: Filter name → the last error of this pass.
    errors: dict[str, str] = field(default_factory=dict)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DeliveryWorker:
    """Sends pending matches through the channels, one pass per :meth:`run_once`.

    Parameters
    ----------
    store
        The archive holding the outbox (its connection is this worker's alone).
    channels
        Channel name (``kafka``, ``email``, ``webhook``) to delivery.
    policy
        Retry and give-up rules.
    clock
        Current UTC time (replaceable in tests).
    """

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Delivery],
        policy: RetryPolicy | None = None,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self.store = store
        self.channels = dict(channels)
        self.policy = policy or RetryPolicy()
        self._clock = clock

    def run_once(self, due_only: bool = True) -> DeliveryPass:
        """Claim pending matches and send them; ``due_only=False`` also sends those whose
        retry time has not come."""
        result = DeliveryPass()
        if self.store.refresh_survey() is None:
            return result  # a new database: no batch, so no match, yet
        rows = self.store.claim_matches(
            self._clock(), self.policy.lease_s, self.policy.pass_limit, due_only
        )
        result.claimed = len(rows)
        if not rows:
            return result
        filters = {f.filter_id: f for f in list_filters(self.store)}
        groups: dict[tuple[int, str], list[OutboxRow]] = {}
        for row in rows:
            groups.setdefault((row.filter_id, row.channel), []).append(row)
        for (filter_id, channel), group in groups.items():
            flt = filters.get(filter_id)
            if flt is None:
                continue  # deleted since the claim, with its matches
            self._send(flt, channel, group, result)
        return result

    def _send(
        self, flt: SavedFilter, channel: str, rows: list[OutboxRow], result: DeliveryPass
    ) -> None:
        try:
            target = filter_target(flt, self.store.object_id_column)
        except ValueError as exc:
            self._failed_attempt(flt, rows, f"output options: {exc}", result)
            return
        delivery = self.channels.get(channel)
        if delivery is None:
            self._failed_attempt(flt, rows, MISSING_CHANNEL.get(channel, channel), result)
            return
        messages = [_message(row) for row in rows]
        try:
            report = delivery.deliver(target, messages)
        except Exception as exc:  # a channel bug must not stop the others: record and log
            if is_transient(exc):
                raise  # the database (e.g. the quota's table), not the channel: pause the pass
            log.exception("delivery of filter %s on %s raised", flt.name, channel)
            report = DeliveryReport(channel, flt.name, errors=[f"{type(exc).__name__}: {exc}"])
        now = self._clock()
        sent = [rows[i].key for i in report.delivered]
        if sent:
            self.store.mark_sent(sent, now)
            result.sent += len(sent)
        for i, reason in report.rejected.items():
            self._give_up(flt, [rows[i]], reason, result)
        done = set(report.delivered) | set(report.rejected)
        left = [row for i, row in enumerate(rows) if i not in done]
        if left:
            error = "; ".join(report.errors) or "not acknowledged"
            self._failed_attempt(flt, left, error, result)

    def _failed_attempt(
        self, flt: SavedFilter, rows: list[OutboxRow], error: str, result: DeliveryPass
    ) -> None:
        """Retry later, or give up on the matches older than the policy's age."""
        now = self._clock()
        result.errors[flt.name] = error
        max_age = dt.timedelta(seconds=self.policy.max_age_s)
        old = [r for r in rows if now - r.matched_at >= max_age]
        if old:
            hours = self.policy.max_age_s / 3600
            self._give_up(flt, old, f"not delivered within {hours:g} h: {error}", result)
        by_attempts: dict[int, list[tuple[int, int]]] = {}
        for row in rows:
            if now - row.matched_at < max_age:
                by_attempts.setdefault(row.attempts + 1, []).append(row.key)
        for attempts, keys in by_attempts.items():
            wait = dt.timedelta(seconds=self.policy.wait_after(attempts))
            self.store.mark_retry(keys, error, now + wait)
            result.retrying += len(keys)
        log.warning("filter %s: %d match(es) not delivered: %s", flt.name, len(rows), error)

    def _give_up(
        self, flt: SavedFilter, rows: list[OutboxRow], reason: str, result: DeliveryPass
    ) -> None:
        self.store.mark_failed([r.key for r in rows], reason)
        result.failed += len(rows)
        self.store.add_notice(
            flt.filter_id,
            "delivery",
            f"matches of filter {flt.name!r} could not be delivered and were given up "
            f"({reason}); fix the output, then see: lanner filter matches {flt.name}",
            daily=True,
        )


def _message(row: OutboxRow) -> dict[str, Any]:
    """A match as the channels take it: selected columns, attachments, stable id."""
    values: dict[str, Any] = {MATCH_ID_KEY: match_id(row.filter_id, row.alert_id)}
    values.update(json.loads(row.payload))
    if row.attachments:
        values.update(json.loads(row.attachments))
    return values


class BackgroundDelivery:
    """A :class:`DeliveryWorker` making passes until stopped: in a thread beside a pipeline
    (:meth:`start`, :meth:`stop`), or in the foreground (:meth:`serve`, ``lanner deliver``).

    ``make_worker`` is called where the passes run (a SQLite connection belongs to the
    thread that opened it). A pass is made when woken (:meth:`wake`, after each batch) or
    every ``poll_s`` seconds, and a last one when stopped. If a pass fails (the database
    unreachable), that is logged once, the worker's connection is dropped and a new one is
    opened at the next tick, and its return is logged: delivery resumes by itself.
    """

    def __init__(self, make_worker: Callable[[], DeliveryWorker], poll_s: float = 5.0) -> None:
        self._make_worker = make_worker
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.serve, name="lanner-delivery", daemon=True)
        self.totals = DeliveryPass()
        #: Passes that failed (each logged; a run of them is logged once).
        self.errors = 0
        self._failing = False

    def start(self) -> BackgroundDelivery:
        self._thread.start()
        return self

    def wake(self) -> None:
        """New matches were recorded: make a pass now."""
        self._wake.set()

    def request_stop(self) -> None:
        """Make a last pass and return from :meth:`serve` (safe from a signal handler)."""
        self._stop.set()
        self._wake.set()

    def stop(self) -> DeliveryPass:
        """Make a last pass, stop the thread and return the totals."""
        self.request_stop()
        self._thread.join()
        return self.totals

    def serve(self) -> None:
        """Make passes until :meth:`request_stop`."""
        worker: DeliveryWorker | None = None
        try:
            while True:
                stopping = self._stop.is_set()
                self._wake.clear()
                worker, full = self._pass(worker)
                if stopping:
                    return
                if not full:
                    self._wake.wait(self.poll_s)
        finally:
            if worker is not None:
                worker.store.close()

    def _pass(self, worker: DeliveryWorker | None) -> tuple[DeliveryWorker | None, bool]:
        """One pass (opening the worker first if needed); the worker to keep, and whether
        the pass claimed as many as it may (more are waiting)."""
        try:
            if worker is None:
                worker = self._make_worker()
            done = worker.run_once()
        except Exception as exc:  # counted, logged once per outage, retried
            self.errors += 1
            if not self._failing:
                # A database outage is said in one line; anything else with its traceback.
                log.error(
                    "delivery paused: %s; retrying every %s s",
                    exc,
                    self.poll_s,
                    exc_info=not is_transient(exc),
                )
                self._failing = True
            if worker is not None:
                _close_quietly(worker)
            return None, False
        if self._failing:
            log.warning("delivery resumed")
            self._failing = False
        for name in ("claimed", "sent", "retrying", "failed"):
            setattr(self.totals, name, getattr(self.totals, name) + getattr(done, name))
        self.totals.errors.update(done.errors)
        return worker, done.claimed >= worker.policy.pass_limit


def _close_quietly(worker: DeliveryWorker) -> None:
    """Drop a worker whose connection failed; closing a broken connection may fail too."""
    try:
        worker.store.close()
    except Exception as exc:  # the connection is gone either way
        log.debug("closing the failed delivery connection: %s", exc)
