"""Read alert packets from a Kafka topic in batches, committing only what was handled.

Input: a Kafka topic (any Kafka-protocol broker) read with a consumer group through
confluent-kafka, automatic offset commit switched off. Output: an iterator of
:class:`KafkaBatch` objects, each a ``list[RawPacket]`` (origin ``"topic/partition/
offset"``) closed when it holds ``batch_size`` packets or when ``batch_wait_s`` has
passed since its first packet arrived, whichever comes first.

Side effects: offsets are committed to the broker, synchronously and per partition
(the next offset to read, i.e. last offset + 1), only when the caller calls
:meth:`KafkaBatch.commit` after the batch was stored and sent. A batch that is not
committed (the process crashed or stopped) is delivered again to the next consumer
of the same group. Asking for the next batch before committing the previous one is
an error, because committing a later offset would implicitly commit the earlier one;
a batch whose commit failed (a rebalance took its partition, the broker restarted) is
:meth:`KafkaBatch.release`-d instead: its alerts are stored, and the partition's next owner
reads them again (the archive absorbs the repeat).

An unreachable broker is logged once (not once per retry) and retried; with an idle timeout
a consumer that never reached it stops with :class:`KafkaConsumeError` after that time.
librdkafka's own log goes to the ``lanner.librdkafka`` logger, critical messages only
unless ``log_level`` is given.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from lanner.ingest.packets import RawPacket

log = logging.getLogger(__name__)

# Errors that no retry can fix: configuration, authorisation, a fenced member.
_FATAL_CODES = frozenset(
    {
        KafkaError._INVALID_ARG,
        KafkaError._AUTHENTICATION,
        KafkaError._SSL,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError._FENCED,
    }
)


# Errors that mean the brokers cannot be reached (yet, or any more).
_UNREACHABLE_CODES = frozenset(
    {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._RESOLVE}
)

#: Where librdkafka's log lines go.
RDKAFKA_LOG = logging.getLogger("lanner.librdkafka")

# Settings that would break commit-after-store if a user overrode them.
_COMMIT_SETTINGS = frozenset({"enable.auto.commit", "enable.auto.offset.store"})

# Longest wait (s) for the group to assign partitions before an idle-timeout run
# gives up; group joins take about half of session.timeout.ms on some brokers.
JOIN_GRACE_S = 60.0


class KafkaConsumeError(RuntimeError):
    """A fatal consumer error (bad configuration, authorisation, fenced member)."""


class CommitError(RuntimeError):
    """Offsets could not be committed, or a batch was left uncommitted."""


@dataclass(frozen=True)
class ConsumerSettings:
    """How to read a topic.

    Attributes
    ----------
    bootstrap
        ``"HOST:PORT[,HOST:PORT...]"`` of the brokers.
    topic
        Topic to subscribe to.
    group
        Consumer group id; consumers of one group share the partitions and the
        committed offsets.
    batch_size
        Largest number of packets in one batch.
    batch_wait_s
        Longest time (s) a batch stays open after its first packet arrived.
    max_messages
        Stop after this many packets in total (``None``: no limit).
    idle_timeout_s
        Stop when no packet arrived for this long (s) (``None``: wait forever).
    offset_reset
        Where a group with no committed offset starts: ``"earliest"`` or ``"latest"``.
    extra
        Further librdkafka settings (e.g. security), passed through unchanged.
    """

    bootstrap: str
    topic: str
    group: str = "lanner"
    batch_size: int = 1000
    batch_wait_s: float = 1.0
    max_messages: int | None = None
    idle_timeout_s: float | None = None
    offset_reset: str = "earliest"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.batch_wait_s <= 0:
            raise ValueError(f"batch_wait_s must be > 0 s, got {self.batch_wait_s}")
        if self.max_messages is not None and self.max_messages < 1:
            raise ValueError(f"max_messages must be >= 1, got {self.max_messages}")
        locked = sorted(set(self.extra) & _COMMIT_SETTINGS)
        if locked:
            raise ValueError(
                f"{locked} cannot be overridden: offsets are committed only after a batch "
                "is stored and sent"
            )

    def librdkafka_config(self) -> dict[str, Any]:
        """The consumer configuration handed to confluent-kafka."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "group.id": self.group,
            "enable.auto.commit": False,
            # Offsets are committed explicitly per batch; storing them
            # automatically would let a later commit() include unhandled ones.
            "enable.auto.offset.store": False,
            "auto.offset.reset": self.offset_reset,
            "enable.partition.eof": True,
            "logger": RDKAFKA_LOG,
            # Connection failures come through error_cb, logged once; librdkafka would
            # otherwise print one line per reconnection attempt.
            "log_level": 2,
        }
        config.update(self.extra)
        return config


@dataclass
class ConsumerStats:
    """Counters of one consumer's run."""

    messages: int = 0
    batches: int = 0
    committed_batches: int = 0
    partition_eofs: int = 0
    transient_errors: int = 0
    last_error: str | None = None
    #: Commits refused (rebalance, broker restart): those batches are re-delivered.
    failed_commits: int = 0


class KafkaBatch:
    """One batch of packets and the offsets to commit once it is handled."""

    def __init__(self, consumer: KafkaBatchConsumer, packets: list[RawPacket]) -> None:
        self.packets = packets
        # (topic, partition) -> next offset to read
        self.next_offsets: dict[tuple[str, int], int] = {}
        self._consumer = consumer
        self.committed = False

    def __len__(self) -> int:
        return len(self.packets)

    def __iter__(self) -> Iterator[RawPacket]:
        return iter(self.packets)

    def commit(self) -> None:
        """Commit this batch's offsets synchronously; call after store and send.

        Raises
        ------
        CommitError
            If the broker refused the commit for any partition.
        """
        if self.committed:
            return
        self._consumer._commit(self)
        self.committed = True

    def release(self) -> None:
        """Give up committing this batch (its commit failed): the consumer moves on, and
        the partition's owner after the rebalance reads the batch again."""
        self.committed = True


class KafkaBatchConsumer:
    """Consume a topic as batches of :class:`RawPacket`; use as a context manager.

    Examples
    --------
    >>> settings = ConsumerSettings("127.0.0.1:9092", "ztf", group="lanner")  # doctest: +SKIP
    >>> with KafkaBatchConsumer(settings) as consumer:  # doctest: +SKIP
    ...     for batch in consumer:
    ...         store_and_send(batch.packets)
    ...         batch.commit()
    """

    def __init__(self, settings: ConsumerSettings) -> None:
        self.settings = settings
        self.stats = ConsumerStats()
        self._consumer: Consumer | None = None
        self._pending: KafkaBatch | None = None
        self._stop_requested = False
        self._stop_reason: str | None = None
        self._assigned_at: float | None = None
        # Since when the brokers could not be reached (None: reachable, as far as known).
        self._unreachable_since: float | None = None
        self._fatal: KafkaConsumeError | None = None

    @property
    def stop_reason(self) -> str | None:
        """Why iteration ended.

        ``"max-messages"``, ``"idle-timeout"``, ``"stop"``, or ``"no-assignment"``
        (the group never assigned a partition within the join grace time).
        """
        return self._stop_reason

    def open(self) -> None:
        """Create the consumer and subscribe to the topic."""
        if self._consumer is not None:
            return
        config = {"error_cb": self._on_error, **self.settings.librdkafka_config()}
        try:
            self._consumer = Consumer(config)
        except KafkaException as exc:
            raise KafkaConsumeError(f"cannot create Kafka consumer: {exc}") from exc
        self._consumer.subscribe([self.settings.topic], on_assign=self._on_assign)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # The idle clock starts when partitions are assigned: joining a group can
        # take seconds, during which no message can arrive.
        self._assigned_at = time.monotonic()
        self._reachable()

    def _on_error(self, error: KafkaError) -> None:
        # Called by librdkafka from poll/consume; a fatal error is raised by _fill.
        try:
            self._handle_error(error)
        except KafkaConsumeError as exc:
            self._fatal = exc

    def _reachable(self) -> None:
        if self._unreachable_since is not None:
            down = time.monotonic() - self._unreachable_since
            log.warning(
                "Kafka broker %s reachable again after %.0f s", self.settings.bootstrap, down
            )
            self._unreachable_since = None

    def lag(self) -> dict[tuple[str, int], int]:
        """Messages not yet read, per assigned (topic, partition); asks the broker."""
        if self._consumer is None:
            return {}
        out: dict[tuple[str, int], int] = {}
        try:
            assigned = self._consumer.assignment()
            positions = self._consumer.position(assigned)
            for tp in positions:
                low, high = self._consumer.get_watermark_offsets(tp, timeout=1.0)
                position = tp.offset if tp.offset >= 0 else low
                out[(tp.topic, tp.partition)] = max(0, high - position)
        except KafkaException as exc:
            log.debug("Kafka lag unknown: %s", exc)
        return out

    def close(self) -> None:
        """Leave the group and close the connection; uncommitted offsets are not committed."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def stop(self) -> None:
        """Ask the iteration to end after the current poll (safe from a signal handler)."""
        self._stop_requested = True

    def install_signal_handlers(self) -> Callable[[], None]:
        """Make SIGINT and SIGTERM end the iteration cleanly instead of killing it.

        Returns
        -------
        Callable
            A function that puts the previous handlers back.
        """

        def handler(signum: int, frame: FrameType | None) -> None:
            log.info("signal %d received: stopping after the current batch", signum)
            self.stop()

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore

    def __enter__(self) -> KafkaBatchConsumer:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[KafkaBatch]:
        return self.batches()

    def batches(self) -> Iterator[KafkaBatch]:
        """Yield batches until a stop condition; each must be committed before the next."""
        self.open()
        settings = self.settings
        started = last_arrival = time.monotonic()
        while True:
            if self._pending is not None and not self._pending.committed:
                raise CommitError(
                    "the previous batch was not committed: call batch.commit() after it "
                    "is stored and sent (a later commit would also commit its offsets)"
                )
            remaining = None
            if settings.max_messages is not None:
                remaining = settings.max_messages - self.stats.messages
                if remaining <= 0:
                    self._stop_reason = "max-messages"
                    return
            if self._stop_requested:
                self._stop_reason = "stop"
                return
            batch = self._fill(min(settings.batch_size, remaining or settings.batch_size))
            now = time.monotonic()
            if batch.packets:
                last_arrival = now
                self._pending = batch
                self.stats.batches += 1
                yield batch
                continue
            if settings.idle_timeout_s is None:
                continue
            if (
                self._assigned_at is None
                and self._unreachable_since is not None
                and now - started >= settings.idle_timeout_s
            ):
                raise KafkaConsumeError(
                    f"cannot reach the Kafka broker at {settings.bootstrap} "
                    f"({self.stats.last_error}): check --kafka / LANNER_KAFKA"
                )
            if self._assigned_at is None:
                if now - started >= max(settings.idle_timeout_s, JOIN_GRACE_S):
                    self._stop_reason = "no-assignment"
                    return
            elif now - max(last_arrival, self._assigned_at) >= settings.idle_timeout_s:
                self._stop_reason = "idle-timeout"
                return

    def _fill(self, size: int) -> KafkaBatch:
        """Poll until ``size`` packets, ``batch_wait_s`` after the first, or a quiet spell."""
        assert self._consumer is not None
        batch = KafkaBatch(self, [])
        deadline: float | None = None
        # Without a packet yet, poll in short slices so stop() and the idle
        # timeout are honoured promptly.
        idle_slice = min(0.5, self.settings.idle_timeout_s or 0.5)
        while len(batch.packets) < size and not self._stop_requested:
            if deadline is None:
                timeout = idle_slice
            else:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
            messages = self._consumer.consume(
                num_messages=size - len(batch.packets), timeout=timeout
            )
            if self._fatal is not None:
                raise self._fatal
            added = [self._accept(message, batch) for message in messages]
            if deadline is None:
                if not any(added):
                    break
                deadline = time.monotonic() + self.settings.batch_wait_s
        return batch

    def _accept(self, message: Message, batch: KafkaBatch) -> bool:
        """Add a message to the batch; handle error events. True if a packet was added."""
        error = message.error()
        if error is not None:
            self._handle_error(error)
            return False
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        # Consumed messages always carry these; the types allow None for produced ones.
        assert topic is not None and partition is not None and offset is not None
        # A null value (tombstone) is still handed on, so the decoder dead-letters
        # it with its offset instead of it vanishing.
        if self._unreachable_since is not None:
            self._reachable()
        batch.packets.append(RawPacket(message.value() or b"", f"{topic}/{partition}/{offset}"))
        batch.next_offsets[(topic, partition)] = offset + 1
        self.stats.messages += 1
        return True

    def _handle_error(self, error: KafkaError) -> None:
        code = error.code()
        if code == KafkaError._PARTITION_EOF:
            self.stats.partition_eofs += 1
            return
        if error.fatal() or code in _FATAL_CODES:
            raise KafkaConsumeError(f"fatal Kafka error on {self.settings.topic!r}: {error.str()}")
        self.stats.transient_errors += 1
        repeated = self.stats.last_error == error.str()
        self.stats.last_error = error.str()
        if code in _UNREACHABLE_CODES:
            if self._unreachable_since is None:
                self._unreachable_since = time.monotonic()
                log.warning(
                    "cannot reach the Kafka broker %s (%s): retrying",
                    self.settings.bootstrap,
                    error.str(),
                )
            return
        if not repeated:
            log.warning("transient Kafka error on %r: %s", self.settings.topic, error.str())

    def _commit(self, batch: KafkaBatch) -> None:
        if self._consumer is None:
            raise CommitError("the consumer is closed; the batch will be re-delivered")
        offsets = [
            TopicPartition(topic, partition, offset)
            for (topic, partition), offset in sorted(batch.next_offsets.items())
        ]
        if not offsets:
            return
        try:
            result = self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            self.stats.failed_commits += 1
            raise CommitError(f"offset commit failed: {exc}") from exc
        failed = [tp for tp in result or [] if tp.error is not None]
        if failed:
            self.stats.failed_commits += 1
            detail = ", ".join(f"{tp.topic}/{tp.partition}: {tp.error}" for tp in failed)
            raise CommitError(f"offset commit failed for {detail}")
        self.stats.committed_batches += 1
