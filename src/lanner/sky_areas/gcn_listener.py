"""The GCN listener: LVK notices from Kafka topic ``igwn.gwalert`` into the archive.

Input: a Kafka consumer (``gcn_kafka.Consumer``; bootstrap servers, security protocol and
GCN client credentials from :class:`~lanner.settings.Settings`, so the same code reads
GCN or a local broker). Side effects: each notice goes through
:func:`lanner.sky_areas.mma.receive_notice` (stored, its map stored and matched, or a
retraction applied); offsets are committed after the notices are stored, so a crash
re-reads rather than loses a notice. A message that is not a notice is logged with its
reason and counted, never silently dropped.

:class:`BackgroundListener` runs a listener in a thread beside ``lanner consume``
(``--gcn`` / ``LANNER_GCN_LISTEN=1``), with its own connection and consumer: a broker or
database failure is logged once, counted (``lanner_gcn_errors_total``) and the listener is
rebuilt until it works again, so the alert consumer never stops for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lanner.settings import Settings
from lanner.sky_areas.mma import NoticeOutcome, receive_notice
from lanner.sky_areas.notices import NoticeError, Selection, parse_notice
from lanner.sky_areas.skymap import SkyMapError
from lanner.store import Store, open_store

if TYPE_CHECKING:
    from lanner.observe.metrics import Metrics

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


def listener_from(settings: Settings, extra: dict[str, Any] | None = None) -> GcnListener:
    """A listener on ``settings``' database (which must be set up) and GCN topic."""
    store = open_store(settings.db_url, create=False)
    try:
        consumer = gcn_consumer(settings, extra=extra)
    except BaseException:
        store.close()
        raise
    return GcnListener(store, consumer, settings.gcn_topic, selection_of(settings))


class BackgroundListener:
    """A :class:`GcnListener` polling in a thread until :meth:`stop`.

    ``make`` builds the listener in that thread (a SQLite connection belongs to the thread
    that opened it). A failed poll or build (broker or database unreachable, a notice that
    cannot be stored) is logged once per run of failures and counted in :attr:`errors`;
    the listener is then closed and rebuilt after ``retry_s``: the notices not committed
    are read again.
    """

    def __init__(
        self,
        make: Callable[[], GcnListener],
        retry_s: float = 5.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._make = make
        self.retry_s = retry_s
        self.metrics = metrics
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="lanner-gcn", daemon=True)
        #: Everything received since :meth:`start`.
        self.totals = ListenReport()
        self.errors = 0

    def start(self) -> BackgroundListener:
        self._thread.start()
        return self

    def stop(self) -> ListenReport:
        """Stop after the current poll; the totals."""
        self._stop.set()
        self._thread.join()
        return self.totals

    def _serve(self) -> None:
        listener: GcnListener | None = None
        failing = False
        try:
            while not self._stop.is_set():
                try:
                    if listener is None:
                        listener = self._make()
                    report = listener.poll(timeout_s=1.0)
                except Exception as exc:
                    self.errors += 1
                    if self.metrics is not None:
                        self.metrics.gcn_errors.inc()
                    if not failing:
                        log.error(
                            "GCN listener stopped (%s): retrying every %g s", exc, self.retry_s
                        )
                    failing = True
                    _close(listener)
                    listener = None
                    self._stop.wait(self.retry_s)
                    continue
                if failing:
                    log.warning("GCN listener running again")
                    failing = False
                for outcome in report.outcomes:
                    log.info("GCN notice %s: %s", outcome.notice_id, outcome.decision)
                    if self.metrics is not None:
                        self.metrics.gcn_notices.labels(outcome.decision.split(":")[0]).inc()
                if self.metrics is not None and report.rejected:
                    self.metrics.gcn_rejected.inc(len(report.rejected))
                self.totals.outcomes += report.outcomes
                self.totals.rejected += report.rejected
        finally:
            _close(listener)


def _close(listener: GcnListener | None) -> None:
    if listener is None:
        return
    for close in (listener.close, listener.store.close):
        try:
            close()
        except Exception as exc:  # already broken: the error that stopped it was logged
            log.debug("closing the GCN listener: %s", exc)
