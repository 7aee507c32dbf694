"""Delivery right after an annotation: the writing process sends the matches it recorded.

Input: the settings of the database (its delivery channels). Output: what was sent
(:class:`~lanner.distribute.outbox.DeliveryPass`). Side effects: delivery passes over the
outbox in this thread (Kafka, e-mail, webhooks), as ``lanner deliver`` makes them.

A match a re-run records is ``pending`` in the outbox; a ``lanner deliver`` service would
send it at its next poll (seconds). So that an annotation makes its filters' results
arrive within a second whatever process writes it, the writer also delivers: a one-shot
command (``lanner annotate``) with :class:`DeliverWhenWoken` (one pass after the write, if
the write recorded matches); a long-running one (``lanner annotations consume``, a web
server) with a started :class:`~lanner.distribute.outbox.BackgroundDelivery` thread given
to :func:`~lanner.annotations.write_annotations` as ``delivery``. Claims keep a match from
being sent twice by two processes.
"""

from __future__ import annotations

from lanner.distribute.channels import delivery_worker
from lanner.distribute.outbox import DeliveryPass
from lanner.settings import Settings


class DeliverWhenWoken:
    """A delivery hook that remembers a wake; :meth:`flush` then delivers in this thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.woken = False

    def wake(self) -> None:
        self.woken = True

    def flush(self) -> DeliveryPass:
        """Send the pending matches now (nothing if no match was recorded since the last
        flush)."""
        totals = DeliveryPass()
        if not self.woken:
            return totals
        self.woken = False
        worker = delivery_worker(self.settings)
        try:
            while True:
                done = worker.run_once()
                for name in ("claimed", "sent", "retrying", "failed"):
                    setattr(totals, name, getattr(totals, name) + getattr(done, name))
                totals.errors.update(done.errors)
                if done.claimed < worker.policy.pass_limit or done.sent == 0:
                    return totals
        finally:
            worker.store.close()
