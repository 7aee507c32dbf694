"""Read a Lanner filter's Kafka topic: poll, consume, commit, without repeats.

Input: the topic names of filters (``lanner_<owner>_<slug>_<hash8>``, see
:func:`lanner.distribute.topic_names.topic_name`), a bootstrap address and a consumer
group, or a credentials file (:mod:`lanner.client.credentials`). Each message Lanner
publishes is one filter match as JSON (the filter's selected columns, ``UTC``, the stable
``match_id`` ``"<filter>:<alert>"``, which is also the message key; optionally the light
curve and the alert). Output: :class:`Message` objects with the decoded value.

Behaviour:

* offsets are committed only by :meth:`LannerConsumer.commit` (synchronously, for every
  message handed out so far), so a crash before the commit re-delivers, never loses;
* a message whose ``match_id`` was already handed out (Lanner re-sent it after a crash, or
  the group re-delivered it after a rebalance) is dropped and counted in ``duplicates``;
* a topic that does not exist yet, or exists but holds nothing, is a state
  (:attr:`LannerConsumer.state`, :meth:`LannerConsumer.topic_status`), not an error: the
  filter has simply produced nothing yet;
* a value that is not JSON is logged and counted in ``undecodable`` and skipped (its offset
  is committed with the rest), so one bad message never blocks the topic;
* errors that need the user (authentication, authorisation, bad configuration, fatal
  broker errors) raise :class:`ConsumerError` with librdkafka's text.

Side effects: network connections to the brokers; logs to ``lanner.client.consumer``.
"""

from __future__ import annotations

import enum
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka import Message as KafkaMessage

from lanner.client.credentials import load_credentials
from lanner.distribute.base import MATCH_ID_KEY

log = logging.getLogger(__name__)

#: How many recent match ids are remembered to drop repeats.
DEFAULT_DEDUP_WINDOW = 100_000


_USER_ERRORS = {
    KafkaError.SASL_AUTHENTICATION_FAILED,
    KafkaError._AUTHENTICATION,
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    KafkaError._INVALID_ARG,
    KafkaError._SSL,
}


class ConsumerError(RuntimeError):
    """A problem the user must fix (credentials, rights, configuration), or a fatal one."""


class State(enum.Enum):
    """What the last :meth:`LannerConsumer.poll` found."""

    STARTING = "starting: joining the group, no partition assigned yet"
    NO_TOPIC_YET = "no topic yet: the filter has not produced anything (or is not active)"
    NOTHING_PRODUCED_YET = "the topic exists but nothing has been produced to it yet"
    CAUGHT_UP = "caught up: every message produced so far has been read"
    MESSAGE = "a message was returned"


@dataclass(frozen=True)
class Message:
    """One filter match read from Kafka.

    Attributes
    ----------
    topic, partition, offset
        Where it was read.
    key
        The message key as text (Lanner: the match id), or None.
    value
        The decoded JSON document.
    raw
        The message value as sent.
    timestamp_ms
        The broker's or producer's time stamp (ms since 1970), or None.
    """

    topic: str
    partition: int
    offset: int
    key: str | None
    value: dict[str, Any]
    raw: bytes
    timestamp_ms: int | None = None

    @property
    def match_id(self) -> str | None:
        """The stable id of the match (``"<filter id>:<alert id>"``), if it carries one."""
        found = self.value.get(MATCH_ID_KEY)
        return str(found) if found is not None else self.key


@dataclass(frozen=True)
class TopicStatus:
    """A topic seen from the broker: whether it exists and how much it holds."""

    topic: str
    exists: bool
    produced: int
    """Messages currently on the topic (sum over partitions of high − low watermark)."""
    ever_produced: int
    """Messages ever produced (sum of the high watermarks)."""

    @property
    def nothing_produced_yet(self) -> bool:
        return not self.exists or self.ever_produced == 0


class LannerConsumer:
    """Consumer of Lanner filter topics.

    Parameters
    ----------
    topics
        Topic names (one or more).
    config
        librdkafka settings; at least ``bootstrap.servers``. Lanner's own keys win for
        ``enable.auto.commit`` (off); ``auto.offset.reset`` defaults to ``offset_reset``.
    group_id
        The consumer group; a group that read before resumes after its last commit.
    offset_reset
        Where a new group starts: ``"earliest"`` (default, every match kept on the topic)
        or ``"latest"`` (only new matches).
    dedup_window
        How many recent match ids are remembered to drop repeats.
    value_format
        ``"json"``, the only format Lanner publishes.
    """

    def __init__(
        self,
        topics: str | Iterable[str],
        config: Mapping[str, Any],
        *,
        group_id: str,
        offset_reset: str = "earliest",
        dedup_window: int = DEFAULT_DEDUP_WINDOW,
        value_format: str = "json",
    ) -> None:
        if value_format != "json":
            raise ValueError(f"value_format {value_format!r}: Lanner filter topics are JSON")
        if offset_reset not in ("earliest", "latest"):
            raise ValueError("offset_reset must be 'earliest' or 'latest'")
        if "bootstrap.servers" not in config:
            raise ValueError("config needs 'bootstrap.servers' (HOST:PORT of the brokers)")
        self.topics = [topics] if isinstance(topics, str) else list(topics)
        if not self.topics:
            raise ValueError("give at least one topic")
        settings: dict[str, Any] = {
            "auto.offset.reset": offset_reset,
            "logger": logging.getLogger("lanner.client.librdkafka"),
            "log_level": 2,
            **config,
            "group.id": group_id,
            "enable.auto.commit": False,
        }
        # errors of the client itself (a refused SASL login) arrive here, not as messages
        self._client_errors: list[KafkaError] = []
        settings.setdefault("error_cb", self._client_errors.append)
        self.group_id = group_id
        self._consumer = Consumer(settings)
        self._consumer.subscribe(self.topics)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._dedup_window = dedup_window
        self._positions: dict[tuple[str, int], int] = {}
        self._missing_topics: set[str] = set()
        self.state = State.STARTING
        self.received = 0
        self.duplicates = 0
        self.undecodable = 0
        self._closed = False

    @classmethod
    def from_config(
        cls,
        path: str | Path | None = None,
        topics: str | Iterable[str] | None = None,
        *,
        group_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> LannerConsumer:
        """A consumer from a credentials file (default ``~/.lanner/credentials.yml``).

        ``topics`` and ``group_id`` override the file's ``topics`` and ``group_id``;
        ``config`` adds librdkafka settings (timeouts) to the file's.
        """
        creds = load_credentials(path)
        chosen = topics if topics is not None else creds.topics
        group = group_id or creds.group_id
        if not chosen:
            raise ValueError("no topics: give them or list them under 'topics' in the file")
        if not group:
            raise ValueError("no group: give group_id or set 'group_id' in the file")
        kwargs.setdefault("offset_reset", creds.offset_reset)
        return cls(chosen, {**creds.kafka_config(), **(config or {})}, group_id=group, **kwargs)

    # -- reading ---------------------------------------------------------------------------

    def poll(self, timeout: float = 10.0) -> Message | None:
        """The next new match, or None when none arrived within ``timeout`` seconds.

        After None, :attr:`state` says why (no topic yet, nothing produced yet, caught up).
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            left = deadline - time.monotonic()
            raw = self._consumer.poll(max(left, 0.0))
            self._raise_client_errors()
            if raw is None:
                self._idle_state()
                return None
            message = self._accept(raw)
            if message is not None:
                self.state = State.MESSAGE
                return message
            if time.monotonic() >= deadline:
                self._idle_state()
                return None

    def consume(self, num_messages: int = 1, timeout: float = 10.0) -> list[Message]:
        """Up to ``num_messages`` new matches, waiting at most ``timeout`` seconds in all."""
        out: list[Message] = []
        deadline = time.monotonic() + max(timeout, 0.0)
        while len(out) < num_messages:
            message = self.poll(max(deadline - time.monotonic(), 0.0))
            if message is None:
                break
            out.append(message)
        return out

    def __iter__(self) -> Iterator[Message]:
        """Matches as they come, for ever (stop with ``break`` or by closing)."""
        while not self._closed:
            message = self.poll(1.0)
            if message is not None:
                yield message

    def commit(self) -> list[tuple[str, int, int]]:
        """Commit, synchronously, the position after every message handed out so far.

        Returns
        -------
        list of (topic, partition, next offset)
            What was committed (empty when nothing new was read).

        Raises
        ------
        ConsumerError
            If the broker refused the commit (e.g. after a rebalance took the partition);
            the messages will then be read again by the partition's next owner.
        """
        if not self._positions:
            return []
        offsets = [TopicPartition(t, p, o) for (t, p), o in sorted(self._positions.items())]
        try:
            result = self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            raise ConsumerError(f"commit refused: {exc}") from exc
        failed = [tp for tp in result or [] if tp.error is not None]
        if failed:
            raise ConsumerError(f"commit refused for {[(t.topic, t.partition) for t in failed]}")
        self._positions.clear()
        return [(tp.topic, tp.partition, tp.offset) for tp in offsets]

    def topic_status(self, timeout: float = 10.0) -> dict[str, TopicStatus]:
        """Each subscribed topic: does it exist, how many messages it holds and ever held."""
        metadata = self._consumer.list_topics(timeout=timeout)
        out: dict[str, TopicStatus] = {}
        for topic in self.topics:
            meta = metadata.topics.get(topic)
            if meta is None or meta.error is not None or not meta.partitions:
                out[topic] = TopicStatus(topic, False, 0, 0)
                continue
            held = ever = 0
            for partition in meta.partitions:
                low, high = self._consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=timeout
                )
                held += high - low
                ever += high
            out[topic] = TopicStatus(topic, True, held, ever)
        return out

    def close(self) -> None:
        """Leave the group (uncommitted messages will be read again by the group)."""
        if not self._closed:
            self._closed = True
            self._consumer.close()

    def __enter__(self) -> LannerConsumer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _accept(self, raw: KafkaMessage) -> Message | None:
        error = raw.error()
        if error is not None:
            self._on_error(error, raw.topic())
            return None
        topic, partition, offset = raw.topic(), raw.partition(), raw.offset()
        assert topic is not None and partition is not None and offset is not None
        self._missing_topics.discard(topic)
        self.received += 1
        self._positions[(topic, partition)] = offset + 1
        payload = raw.value() or b""
        try:
            value = json.loads(payload)
            if not isinstance(value, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            self.undecodable += 1
            log.warning(
                "%s/%d/%d: value is not a JSON object (%s); skipped", topic, partition, offset, exc
            )
            return None
        key_bytes = raw.key()
        key = key_bytes.decode("utf-8", "replace") if isinstance(key_bytes, bytes) else key_bytes
        stamp_type, stamp = raw.timestamp()
        message = Message(
            topic, partition, offset, key, value, payload, stamp if stamp_type else None
        )
        ident = message.match_id or f"{topic}/{partition}/{offset}"
        if ident in self._seen:
            self.duplicates += 1
            self._seen.move_to_end(ident)
            return None
        self._seen[ident] = None
        if len(self._seen) > self._dedup_window:
            self._seen.popitem(last=False)
        return message

    def _raise_client_errors(self) -> None:
        """Act on the errors librdkafka reported through ``error_cb`` during the last call:
        raise for those that need the user, log the ones it retries."""
        while self._client_errors:
            self._on_error(self._client_errors.pop(0), None)

    def _on_error(self, error: KafkaError, topic: str | None) -> None:
        code = error.code()
        if code == KafkaError._PARTITION_EOF:
            return
        if code in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
            if topic is not None and topic not in self._missing_topics:
                self._missing_topics.add(topic)
                log.info("topic %s does not exist yet: its filter has produced nothing", topic)
            return
        if error.fatal() or code in _USER_ERRORS:
            raise ConsumerError(f"Kafka: {error.str()}")
        log.warning("Kafka (retrying): %s", error.str())

    def _idle_state(self) -> None:
        if self._missing_topics and self._missing_topics.issuperset(self.topics):
            self.state = State.NO_TOPIC_YET
            return
        assignment = self._consumer.assignment()
        if not assignment:
            self.state = State.NO_TOPIC_YET if self._missing_topics else State.STARTING
            return
        ever = 0
        for tp in assignment:
            try:
                _, high = self._consumer.get_watermark_offsets(tp, cached=True)
                if high < 0:  # nothing fetched yet: ask the broker
                    _, high = self._consumer.get_watermark_offsets(tp, timeout=2.0)
            except KafkaException:
                high = 0
            ever += max(high, 0)
        if ever == 0 and self.received == 0:
            self.state = State.NOTHING_PRODUCED_YET
        else:
            self.state = State.CAUGHT_UP
