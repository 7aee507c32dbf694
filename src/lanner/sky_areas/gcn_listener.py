"""The GCN listener: LVK notices from Kafka topic ``igwn.gwalert`` into the archive.

Input: a Kafka consumer (``gcn_kafka.Consumer``; bootstrap servers, security protocol and
GCN client credentials from :class:`~lanner.settings.Settings`, so the same code reads
GCN or a local broker). Side effects: each notice goes through
:func:`lanner.sky_areas.mma.receive_notice` (stored, its map stored and matched, or a
retraction applied); offsets are committed after the notices are stored, so a crash
re-reads rather than loses a notice. A message that is not a notice is logged with its
reason and counted, never silently dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lanner.settings import Settings
from lanner.sky_areas.mma import NoticeOutcome, receive_notice
from lanner.sky_areas.notices import NoticeError, Selection, parse_notice
from lanner.sky_areas.skymap import SkyMapError
from lanner.store import Store

log = logging.getLogger(__name__)


def selection_of(settings: Settings) -> Selection:
    """The map selection rule configured in ``settings``."""
    return Selection(always=settings.gw_classes, max_area=settings.gw_max_area)


def gcn_consumer(
    settings: Settings, group_id: str = "lanner-gcn", extra: dict[str, Any] | None = None
) -> Any:
    """A ``gcn_kafka.Consumer`` configured from ``settings`` (GCN itself by default);
    ``extra`` librdkafka settings win."""
    from gcn_kafka import Consumer

    config: dict[str, Any] = {
        "group.id": group_id,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }
    if settings.gcn_kafka:
        config["bootstrap.servers"] = settings.gcn_kafka
    if settings.gcn_security:
        config["security.protocol"] = settings.gcn_security
    config.update(extra or {})
    return Consumer(
        config=config,
        client_id=settings.gcn_client_id,
        client_secret=settings.gcn_client_secret,
    )


@dataclass
class ListenReport:
    """What the listener did."""

    outcomes: list[NoticeOutcome] = field(default_factory=list)
    #: Messages that were not notices, with the reason.
    rejected: list[str] = field(default_factory=list)


class GcnListener:
    """Reads notices from a consumer into a store."""

    def __init__(self, store: Store, consumer: Any, topic: str, selection: Selection) -> None:
        self.store = store
        self.consumer = consumer
        self.selection = selection
        consumer.subscribe([topic])

    def poll(self, timeout_s: float = 1.0, max_messages: int = 100) -> ListenReport:
        """Handle the messages that arrive within ``timeout_s`` (at most ``max_messages``)."""
        report = ListenReport()
        messages = self.consumer.consume(max_messages, timeout_s)
        for message in messages:
            if message.error() is not None:
                raise RuntimeError(f"GCN Kafka error: {message.error()}")
            where = f"{message.topic()}/{message.partition()}/{message.offset()}"
            try:
                notice = parse_notice(message.value())
                report.outcomes.append(receive_notice(self.store, notice, self.selection))
            except (NoticeError, SkyMapError) as exc:
                log.error("message %s is not a usable notice: %s", where, exc)
                report.rejected.append(f"{where}: {exc}")
        if messages:
            self.consumer.commit(asynchronous=False)
        return report

    def run(self, stop: Callable[[], bool], on_report: Callable[[ListenReport], None]) -> None:
        """Poll until ``stop()`` is true, passing each non-empty report to ``on_report``."""
        while not stop():
            report = self.poll()
            if report.outcomes or report.rejected:
                on_report(report)

    def close(self) -> None:
        self.consumer.close()
