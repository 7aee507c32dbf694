"""Dead-letter packets to a Kafka topic: the original bytes, with reason and origin.

Input: packets that could not be ingested (undecodable, unknown schema, missing
fields, survey mismatch). Output: one message per packet on the dead-letter topic;
the value is the original bytes unchanged, the key is the origin, the headers ``reason``
and ``origin`` (UTF-8) say why and where from. Side effects: produces to Kafka; :meth:`flush`
waits for the broker's acknowledgement and raises if any message was not stored.
This is the Kafka counterpart of the file-based sink of the embedded mode; both
follow :class:`lanner.ingest.packets.DeadLetterSink`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

DEFAULT_FLUSH_TIMEOUT_S = 30.0


class DeadLetterError(RuntimeError):
    """Dead-lettered packets were not acknowledged by the broker."""


class KafkaDeadLetterSink:
    """Write dead-lettered packets to a Kafka topic.

    Parameters
    ----------
    bootstrap
        ``"HOST:PORT"`` of the brokers.
    topic
        The dead-letter topic (e.g. ``"<input topic>-deadletter"``).
    extra
        Further librdkafka producer settings.
    flush_timeout_s
        Longest wait (s) of :meth:`flush` for the broker's acknowledgements.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        extra: Mapping[str, Any] | None = None,
        flush_timeout_s: float = DEFAULT_FLUSH_TIMEOUT_S,
    ) -> None:
        self.topic = topic
        self.flush_timeout_s = flush_timeout_s
        config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "message.max.bytes": 10_000_000,
        }
        config.update(extra or {})
        self._config = config
        self._producer = Producer(config)
        self.count = 0
        self._errors: list[str] = []

    def put(self, data: bytes, origin: str, reason: str) -> None:
        """Queue one packet for the dead-letter topic.

        Parameters
        ----------
        data
            The original bytes, sent unchanged as the message value.
        origin
            Where the packet came from (``"topic/partition/offset"`` or a path).
        reason
            Why it could not be ingested.
        """
        self._producer.produce(
            self.topic,
            value=data,
            key=origin.encode(),
            headers=[("reason", reason.encode()), ("origin", origin.encode())],
            on_delivery=self._on_delivery,
        )
        self.count += 1
        # Serve delivery callbacks so the local queue does not fill up.
        self._producer.poll(0)

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._errors.append(error.str())

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait for every queued packet to be acknowledged.

        Raises
        ------
        DeadLetterError
            If packets are still queued after ``timeout_s`` or the broker refused any.
        """
        timeout_s = self.flush_timeout_s if timeout_s is None else timeout_s
        left = self._producer.flush(timeout_s)
        if left:
            raise DeadLetterError(
                f"{left} dead-letter messages to {self.topic!r} not acknowledged in {timeout_s} s"
            )
        if self._errors:
            errors, self._errors = self._errors, []
            raise DeadLetterError(
                f"{len(errors)} dead-letter messages to {self.topic!r} failed: {errors[0]}"
            )

    def reset(self) -> None:
        """Drop what is queued and start a new producer (after a failed :meth:`flush`,
        e.g. a broker restart lost the idempotent producer's state); put the letters
        again to send them."""
        self._producer.purge()
        self._producer.flush(0)
        self._producer = Producer(self._config)
        self._errors = []

    def __enter__(self) -> KafkaDeadLetterSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.flush()
