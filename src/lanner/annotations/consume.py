"""Annotations from a Kafka topic, as Lasair's fast annotations: ``lanner annotations
consume``.

Input: batches of JSON messages (:mod:`lanner.annotations.messages`) from a
:class:`~lanner.ingest.kafka.KafkaBatchConsumer`, written to one annotator as one user.
Output: a :class:`ConsumeReport`. Side effects: annotations written (and the filters that
read the annotator re-run, their matches recorded and the delivery hook woken), bad
messages put to the dead-letter sink with the reason, offsets committed after each batch is
written and its dead letters are durable.

A bad message — not JSON, not an annotation, for another topic, breaking a rule, naming an
object this database does not hold, or refused because the annotator became inactive — is
dead-lettered and counted (``lanner_annotations_rejected_total``); it never stops the
consumer, and the batch's good messages are still written. A database outage is logged once
and the batch retried until the database is back (nothing is committed meanwhile).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from lanner.annotations.api import item_checks, writable_annotator, write_checked
from lanner.annotations.counts import annotation_counts
from lanner.annotations.messages import MessageError, OtherTopicError, message_for
from lanner.annotations.model import Annotation, AnnotationError
from lanner.ingest.packets import DeadLetterSink, RawPacket, reason_kind
from lanner.store import Store

if TYPE_CHECKING:
    from lanner.pipeline import DeliveryHook

log = logging.getLogger(__name__)


class MessageBatch(Protocol):
    """A batch whose stream position is committed once handled
    (:class:`lanner.ingest.kafka.KafkaBatch`)."""

    packets: list[RawPacket]

    def commit(self) -> None: ...

    def release(self) -> None: ...


@dataclass
class ConsumeReport:
    """What a consumer did."""

    batches: int = 0
    messages: int = 0
    written: int = 0
    dead_lettered: int = 0
    #: Dead letters by kind of reason (:func:`lanner.ingest.packets.reason_kind`).
    reasons: Counter[str] = field(default_factory=Counter)
    #: Batches whose commit the broker refused (read again by the partition's next owner).
    released: int = 0


class AnnotationConsumer:
    """Writes the annotations of message batches to ``annotator`` as ``user_id``."""

    def __init__(
        self,
        store: Store,
        annotator: str,
        user_id: int,
        dead_letters: DeadLetterSink,
        delivery: DeliveryHook | None = None,
        retry_s: float = 5.0,
    ) -> None:
        self.store = store
        self.annotator = annotator
        self.user_id = user_id
        self.dead_letters = dead_letters
        self.delivery = delivery
        self.retry_s = retry_s
        self.report = ConsumeReport()

    def run(self, batches: Iterable[MessageBatch]) -> ConsumeReport:
        """Handle every batch, committing each once handled."""
        from lanner.ingest.kafka import CommitError

        for batch in batches:
            self.handle_retrying(batch.packets)
            try:
                batch.commit()
            except CommitError as exc:
                log.warning("batch of %d messages not committed: %s", len(batch.packets), exc)
                self.report.released += 1
                batch.release()
        return self.report

    def handle_retrying(self, packets: Sequence[RawPacket]) -> None:
        """:meth:`handle`, again after each database outage until it succeeds."""
        from lanner.worker import is_transient

        failing = False
        while True:
            try:
                self.handle(packets)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if not failing:
                    log.error("annotations paused: %s; retrying every %s s", exc, self.retry_s)
                    failing = True
                time.sleep(self.retry_s)
                try:
                    self.store.reconnect()
                except Exception as again:  # still down: the next try says so
                    log.debug("reconnecting: %s", again)
                continue
            if failing:
                log.warning("annotations resumed")
            return

    def handle(self, packets: Sequence[RawPacket]) -> None:
        """Write the good messages of one batch; dead-letter the others."""
        rejected: list[tuple[RawPacket, str]] = []
        items: list[Annotation] = []
        kept: list[RawPacket] = []
        for packet in packets:
            if packet.error:
                rejected.append((packet, packet.error))
                continue
            try:
                item = message_for(packet.data, self.annotator)
            except OtherTopicError as exc:
                rejected.append((packet, f"other topic: {exc}"))
                continue
            except MessageError as exc:
                rejected.append((packet, f"not an annotation: {exc}"))
                continue
            items.append(item)
            kept.append(packet)
        written = 0
        if items:
            try:
                writable_annotator(self.store, self.annotator, user_id=self.user_id)
            except AnnotationError as exc:
                rejected += [(p, f"refused: {exc}") for p in kept]
            else:
                checked, problems = item_checks(self.store, items)
                rejected += [
                    (kept[n], "invalid annotation: " + "; ".join(problems[n]))
                    for n in sorted(problems)
                ]
                good = [row for n, row in enumerate(checked) if n not in problems]
                if good:
                    written = write_checked(
                        self.store, self.annotator, good, delivery=self.delivery
                    )
        for packet, reason in rejected:
            self.dead_letters.put(packet.data, packet.origin, reason)
        if rejected:
            self.dead_letters.flush()
            annotation_counts.rejected(self.annotator, len(rejected))
            first = rejected[0]
            log.warning(
                "%d annotation messages dead-lettered; first: %s: %s",
                len(rejected),
                first[0].origin,
                first[1],
            )
        r = self.report
        r.batches += 1
        r.messages += len(packets)
        r.written += written
        r.dead_lettered += len(rejected)
        r.reasons.update(reason_kind(reason) for _, reason in rejected)
