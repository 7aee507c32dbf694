"""``lasair_consumer``: the Lasair client's Kafka consumer, for Lanner filter topics.

A Lasair notebook does::

    consumer = lasair_consumer(host, group_id, topic)
    while True:
        msg = consumer.poll(timeout=20)
        if msg is None: break
        if msg.error(): print(str(msg.error())); break
        jmsg = json.loads(msg.value())

With ``from lanner.client import lasair_consumer`` the same code runs unchanged against
Lanner: the constructor and ``poll``/``close`` have the signatures of ``lasair`` 0.1.4,
``poll`` returns the raw confluent-kafka message (``value()``, ``key()``, ``error()``,
``topic()``, …), and new groups start at the earliest message as Lasair's do. Two
differences make such loops more reliable: a topic that does not exist yet (the filter
has produced nothing) gives ``None`` instead of an ``UNKNOWN_TOPIC_OR_PART`` error message
that would end the loop with an error, and a match re-delivered with the same ``match_id``
is not returned twice. Offsets are committed automatically, as Lasair's consumer does.

Input: ``host`` (bootstrap servers), ``group_id``, ``topic_in``; optional
``credentials`` (a credentials file, for SASL on private topics) and ``config`` (further
librdkafka settings). Side effects: a Kafka
consumer connection.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError
from confluent_kafka import Message as KafkaMessage

from lanner.client.consumer import DEFAULT_DEDUP_WINDOW
from lanner.client.credentials import load_credentials
from lanner.distribute.base import MATCH_ID_KEY

log = logging.getLogger(__name__)


class lasair_consumer:  # noqa: N801 - the Lasair client's name, kept for its notebooks
    """Drop-in for ``lasair.lasair_consumer`` reading Lanner filter topics."""

    def __init__(
        self,
        host: str,
        group_id: str,
        topic_in: str,
        credentials: str | Path | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        settings: dict[str, Any] = {
            "bootstrap.servers": host,
            "group.id": group_id,
            "auto.offset.reset": "earliest",
            "logger": logging.getLogger("lanner.client.librdkafka"),
            "log_level": 2,
        }
        if credentials is not None:
            creds = load_credentials(credentials)
            settings.update(creds.kafka_config())
            settings["bootstrap.servers"] = host
        settings.update(config or {})
        self.topic = topic_in
        self.consumer = Consumer(settings)
        self.consumer.subscribe([topic_in])
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.duplicates = 0

    def poll(self, timeout: float = 10) -> KafkaMessage | None:
        """The next message within ``timeout`` seconds, or None (also while the topic
        does not exist yet)."""
        deadline = time.monotonic() + max(float(timeout), 0.0)
        while True:
            message = self.consumer.poll(max(deadline - time.monotonic(), 0.0))
            if message is None:
                return None
            error = message.error()
            if error is not None and error.code() in (
                KafkaError.UNKNOWN_TOPIC_OR_PART,
                KafkaError._UNKNOWN_TOPIC,
                KafkaError._PARTITION_EOF,
            ):
                log.info("%s: %s (nothing produced yet)", self.topic, error.str())
            elif error is not None or not self._repeat(message):
                return message
            if time.monotonic() >= deadline:
                return None

    def close(self) -> None:
        """Leave the group."""
        self.consumer.close()

    def _repeat(self, message: KafkaMessage) -> bool:
        try:
            ident = json.loads(message.value() or b"").get(MATCH_ID_KEY)
        except (ValueError, AttributeError):
            return False  # not Lanner's JSON: handed to the caller as is
        if ident is None:
            return False
        ident = str(ident)
        if ident in self._seen:
            self.duplicates += 1
            return True
        self._seen[ident] = None
        if len(self._seen) > DEFAULT_DEDUP_WINDOW:
            self._seen.popitem(last=False)
        return False
