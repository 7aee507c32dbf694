"""The delivery channels a running broker has, built from its settings.

Kafka when ``LANNER_KAFKA`` is set, e-mail when ``LANNER_SMTP_HOST`` is set, webhooks
always (each filter names its own URL). With none configured (the embedded default) matches
are only kept in the ``filter_matches`` table and shown by the CLI.
"""

from __future__ import annotations

from lanner.batch import OBJECT_ID_COLUMN, Survey
from lanner.distribute.base import Delivery
from lanner.distribute.email import EmailDelivery, EmailSettings
from lanner.distribute.kafka import KafkaDelivery
from lanner.distribute.quota import StoreQuotaLedger
from lanner.distribute.router import MatchRouter, output_options
from lanner.distribute.webhook import WebhookDelivery
from lanner.settings import Settings
from lanner.store import Store


def build_router(settings: Settings, survey: Survey, store: Store | None = None) -> MatchRouter:
    """A router over every channel the settings make available; with a ``store``, the
    Kafka daily quotas are kept in it (shared by all workers)."""
    channels: dict[str, Delivery] = {"webhook": WebhookDelivery()}
    if settings.kafka:
        ledger = StoreQuotaLedger(store) if store is not None else None
        channels["kafka"] = KafkaDelivery(
            settings.kafka, ledger=ledger, extra=settings.kafka_config()
        )
    if settings.smtp_host:
        channels["email"] = EmailDelivery(
            EmailSettings(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_sender,
                username=settings.smtp_user,
                password=settings.smtp_password,
                security=settings.smtp_security,
            )
        )
    return MatchRouter(
        channels,
        OBJECT_ID_COLUMN[survey],
        options_for=lambda flt: output_options(flt.output, getattr(flt, "output_options", None)),
    )
