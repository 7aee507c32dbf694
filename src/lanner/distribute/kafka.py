"""Publish each active filter's matches to its own Kafka topic as JSON.

Input: a :class:`FilterTarget` and its matches for one batch. Output: one JSON
message per match (selected columns, optional light curve / alert, ``UTC``) on the
filter's topic, keyed by the match's stable id (``match_id``: filter and alert, so a
consumer can drop a repeat) or, without one, by object id; integers are written exactly (see
:mod:`lanner.distribute.json_payload`). Side effects: creates topics with the
admin API when a filter is activated (so a consumer of a quiet filter finds an
empty topic, not an unknown-topic error), produces to Kafka, waits for delivery
reports, and charges message bytes to the filter's daily quota. Messages that
would exceed the quota are counted, not sent. Failures are reported, not raised.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from functools import partial
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from lanner.distribute.base import (
    MATCH_ID_KEY,
    DeliveryReport,
    FilterTarget,
    shape_match,
    utc_now,
)
from lanner.distribute.json_payload import to_json_bytes

DEFAULT_FLUSH_TIMEOUT_S = 30.0


class TopicError(RuntimeError):
    """A filter's topic could not be created."""


class QuotaLedger(Protocol):
    """Bytes sent per topic per UTC day (in memory here; a store may persist it)."""

    def used(self, topic: str, day: dt.date) -> int:
        """Bytes already sent to ``topic`` on ``day``."""
        ...

    def add(self, topic: str, day: dt.date, nbytes: int) -> None:
        """Record ``nbytes`` more sent to ``topic`` on ``day``."""
        ...


class MemoryQuotaLedger:
    """A :class:`QuotaLedger` kept in a dict, for one process."""

    def __init__(self) -> None:
        self._used: dict[tuple[str, dt.date], int] = defaultdict(int)

    def used(self, topic: str, day: dt.date) -> int:
        return self._used[(topic, day)]

    def add(self, topic: str, day: dt.date, nbytes: int) -> None:
        self._used[(topic, day)] += nbytes


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class KafkaDelivery:
    """Kafka channel of the :class:`~lanner.distribute.base.Delivery` protocol.

    Parameters
    ----------
    bootstrap
        ``"HOST:PORT"`` of the brokers.
    ledger
        Where daily quota use is kept; a fresh in-memory one by default.
    partitions
        Partitions of each filter topic created by :meth:`ensure_topic`.
    extra
        Further librdkafka settings for the producer and admin client.
    today
        Function giving the current UTC date (replaceable in tests).
    flush_timeout_s
        Longest wait (s) for the broker to acknowledge a batch's messages.
    request_timeout_s
        Longest wait (s) for topic creation.
    """

    channel = "kafka"

    def __init__(
        self,
        bootstrap: str,
        ledger: QuotaLedger | None = None,
        partitions: int = 1,
        extra: Mapping[str, Any] | None = None,
        today: Any = _utc_today,
        flush_timeout_s: float = DEFAULT_FLUSH_TIMEOUT_S,
        request_timeout_s: float = 10.0,
    ) -> None:
        config: dict[str, Any] = {"bootstrap.servers": bootstrap}
        config.update(extra or {})
        self._admin = AdminClient(config)
        # A message not acknowledged by the end of the flush is reported failed (and sent
        # again later by the delivery worker), not left queued in this producer.
        timeouts = {"message.timeout.ms": int(flush_timeout_s * 1000)}
        self._producer = Producer({**timeouts, **config, "linger.ms": 5})
        self.ledger: QuotaLedger = ledger if ledger is not None else MemoryQuotaLedger()
        self.partitions = partitions
        self._today = today
        self.flush_timeout_s = flush_timeout_s
        self.request_timeout_s = request_timeout_s
        self._known_topics: set[str] = set()

    def ensure_topic(self, target: FilterTarget, timeout_s: float | None = None) -> bool:
        """Create the filter's topic if missing; call when a filter is activated.

        Returns
        -------
        bool
            True if the topic was created, False if it already existed.

        Raises
        ------
        TopicError
            If the broker refused to create it.
        """
        timeout_s = self.request_timeout_s if timeout_s is None else timeout_s
        futures = self._admin.create_topics(
            [NewTopic(target.topic, num_partitions=self.partitions)], request_timeout=timeout_s
        )
        try:
            futures[target.topic].result(timeout=timeout_s)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                self._known_topics.add(target.topic)
                return False
            raise TopicError(f"cannot create topic {target.topic!r}: {exc}") from exc
        except TimeoutError as exc:
            raise TopicError(
                f"cannot create topic {target.topic!r}: no answer in {timeout_s} s"
            ) from exc
        self._known_topics.add(target.topic)
        return True

    def deliver(self, target: FilterTarget, matches: list[dict[str, Any]]) -> DeliveryReport:
        """Publish ``matches`` to ``target.topic`` within the daily quota.

        Returns
        -------
        DeliveryReport
            ``sent``/``bytes_sent`` acknowledged by the broker, ``over_quota``
            withheld, ``failed`` and ``errors`` for refused or unacknowledged ones.
        """
        report = DeliveryReport(self.channel, target.filter_name)
        if not matches:
            return report
        if target.topic not in self._known_topics:
            try:
                self.ensure_topic(target)
            except TopicError as exc:
                report.failed = len(matches)
                report.errors.append(str(exc))
                return report
        outputs = target.outputs
        day = self._today()
        used = self.ledger.used(target.topic, day)
        sent_at = utc_now()
        acked: dict[int, int] = {}
        errors: list[str] = []

        def on_delivery(index: int, error: KafkaError | None, message: Message) -> None:
            if error is None:
                acked[index] = len(message.value() or b"")
            else:
                errors.append(error.str())

        queued = 0
        for index, match in enumerate(matches):
            payload = to_json_bytes(shape_match(match, outputs.payload, sent_at))
            if (
                outputs.daily_quota_bytes is not None
                and used + len(payload) > outputs.daily_quota_bytes
            ):
                report.over_quota += 1
                report.rejected[index] = (
                    f"over the daily quota of {outputs.daily_quota_bytes} bytes"
                )
                continue
            key = match.get(MATCH_ID_KEY, match.get(target.object_id_column))
            callback = partial(on_delivery, index)
            try:
                self._produce(target.topic, payload, None if key is None else str(key), callback)
            except (KafkaException, BufferError) as exc:
                errors.append(str(exc))
                continue
            used += len(payload)
            queued += 1
        left = self._producer.flush(self.flush_timeout_s)
        report.attempts = queued
        report.delivered = sorted(acked)
        report.sent = len(acked)
        report.bytes_sent = sum(acked.values())
        report.failed = len(matches) - report.over_quota - report.sent
        if left:
            errors.append(f"{left} messages not acknowledged within {self.flush_timeout_s} s")
        report.errors = errors
        # Only acknowledged bytes count against the quota.
        self.ledger.add(target.topic, day, report.bytes_sent)
        return report

    def _produce(self, topic: str, payload: bytes, key: str | None, callback: Any) -> None:
        for _ in range(100):
            try:
                self._producer.produce(topic, value=payload, key=key, on_delivery=callback)
                return
            except BufferError:
                # Local queue full: serve delivery reports to make room, then retry.
                self._producer.poll(0.1)
        raise BufferError(f"producer queue for {topic!r} stayed full")
