"""Dead letters set aside once, however often Kafka re-delivers their packet.

Input: the dead letters of a worker's batches (``put``). Output: each origin
(``topic/partition/offset``) reaches the wrapped sink once; what was sent is recorded in
the ``dead_letters`` table, shared by every worker of the database. Side effects: writes
to the sink and to the table on :meth:`OnceDeadLetters.flush`.

A crash between the sink's acknowledgement and the table's commit may send one batch's
letters twice — bounded by one batch; the Kafka sink keys each message by its origin so a
consumer of the dead-letter topic can drop the repeat.
"""

from __future__ import annotations

import datetime as dt

from lanner.ingest.packets import DeadLetterSink
from lanner.store import Store


class OnceDeadLetters:
    """A :class:`DeadLetterSink` that forwards each origin once to ``sink``.

    Parameters
    ----------
    sink
        Where new dead letters go (a Kafka topic or a folder).
    store
        The database whose ``dead_letters`` table remembers what was set aside.
    """

    def __init__(self, sink: DeadLetterSink, store: Store) -> None:
        self.sink = sink
        self.store = store
        self._pending: dict[str, tuple[bytes, str]] = {}
        #: Dead letters sent, and re-delivered ones not sent again.
        self.count = 0
        self.repeats = 0

    def put(self, data: bytes, origin: str, reason: str) -> None:
        self._pending[origin] = (data, reason)

    def reset(self) -> None:
        """After a failed :meth:`flush`: restart the sink if it can be (the pending
        letters stay, and the next flush sends them)."""
        reset = getattr(self.sink, "reset", None)
        if reset is not None:
            reset()

    def flush(self) -> None:
        """Send the letters not set aside before, wait for the sink, and record them."""
        if not self._pending:
            self.sink.flush()
            return
        known = self.store.known_dead_letters(list(self._pending))
        fresh = {o: v for o, v in self._pending.items() if o not in known}
        for origin, (data, reason) in fresh.items():
            self.sink.put(data, origin, reason)
        self.sink.flush()
        now = dt.datetime.now(dt.UTC).isoformat()
        self.store.add_rows(
            "dead_letters",
            ["origin", "reason", "recorded_at"],
            [(o, reason, now) for o, (_, reason) in fresh.items()],
            ("origin",),
        )
        self.count += len(fresh)
        self.repeats += len(self._pending) - len(fresh)
        self._pending.clear()
