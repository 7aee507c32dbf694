"""The delivery channels a running broker has, and its delivery worker, from its settings.

Kafka when ``LANNER_KAFKA`` is set, e-mail when ``LANNER_SMTP_HOST`` is set, webhooks
always (each filter names its own URL). A match whose channel is not configured stays
pending, with the reason as its last error, until the channel is configured or the match is
too old (then it is failed and its owner told). With no output (the embedded default)
matches are only kept in ``filter_matches`` and shown by the CLI.
"""

from __future__ import annotations

from lanner.distribute.base import Delivery
from lanner.distribute.email import EmailDelivery, EmailSettings
from lanner.distribute.outbox import DeliveryWorker, RetryPolicy
from lanner.distribute.quota import StoreQuotaLedger
from lanner.distribute.webhook import WebhookDelivery, WebhookSettings
from lanner.settings import Settings
from lanner.store import Store, open_store


def build_channels(settings: Settings, store: Store | None = None) -> dict[str, Delivery]:
    """Every channel the settings make available; with a ``store``, the Kafka daily quotas
    are kept in it (shared by all workers)."""
    channels: dict[str, Delivery] = {
        "webhook": WebhookDelivery(
            WebhookSettings(
                timeout_s=settings.webhook_timeout, allow_private=settings.webhook_allow_private
            )
        )
    }
    if settings.kafka:
        from lanner.distribute.kafka import KafkaDelivery

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
    return channels


def delivery_worker(settings: Settings) -> DeliveryWorker:
    """A delivery worker on its own connection to the settings' database."""
    store = open_store(settings.db_url)
    policy = RetryPolicy(
        max_age_s=settings.delivery_max_age * 3600.0, lease_s=settings.delivery_lease
    )
    return DeliveryWorker(store, build_channels(settings, store), policy)
