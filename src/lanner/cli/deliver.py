"""``lanner deliver``: the delivery worker on its own, as a service or once.

It sends the matches the pipeline recorded as pending (``filter_matches``), retrying
failures with backoff until ``LANNER_DELIVERY_MAX_AGE`` hours, then marks them failed and
tells the owner. ``lanner run``, ``ingest`` and ``consume`` run the same worker in a thread;
a separate ``lanner deliver`` lets delivery run (and be restarted) apart from ingestion. The
command parses arguments and calls :mod:`lanner.distribute.outbox`.
"""

from __future__ import annotations

import signal
from types import FrameType

import click

from lanner.cli.pipeline_commands import db_option
from lanner.distribute.channels import delivery_worker
from lanner.distribute.outbox import BackgroundDelivery, DeliveryPass
from lanner.settings import Settings
from lanner.store import StoreError


@click.command("deliver")
@click.option(
    "--once",
    is_flag=True,
    help="Send every pending match now (retry waits included), then exit.",
)
@click.option("--poll", default=5.0, show_default=True, help="Seconds between passes when idle.")
@db_option
def deliver_command(once: bool, poll: float, db_url: str | None) -> None:
    """Send pending matches to Kafka, e-mail and webhooks; runs until stopped."""
    settings = Settings.for_db(db_url)
    if once:
        totals = _once(settings)
    else:
        service = BackgroundDelivery(lambda: delivery_worker(settings), poll_s=poll)

        def on_signal(signum: int, frame: FrameType | None) -> None:
            service.request_stop()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            service.serve()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        totals = service.totals
    click.echo(f"{totals.sent} sent, {totals.retrying} to retry, {totals.failed} failed")
    for name, error in totals.errors.items():
        click.echo(f"  {name}: {error}", err=True)


def _once(settings: Settings) -> DeliveryPass:
    """Every pending match, retry waits included, in as many passes as it takes."""
    try:
        worker = delivery_worker(settings)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    totals = DeliveryPass()
    try:
        while True:
            done = worker.run_once(due_only=False)
            for name in ("claimed", "sent", "retrying", "failed"):
                setattr(totals, name, getattr(totals, name) + getattr(done, name))
            totals.errors.update(done.errors)
            if done.claimed < worker.policy.pass_limit or done.sent == 0:
                # (a full pass that sent nothing would only claim its failures again)
                return totals
    finally:
        worker.store.close()


COMMANDS: list[click.Command] = [deliver_command]
