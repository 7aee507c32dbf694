"""Dead letters on disk: the embedded mode's quarantine.

Each letter is two files in the dead-letter folder: ``<n>.bin`` (the bytes exactly as
received, so the packet can be inspected or replayed) and ``<n>.json`` (origin, reason,
time). Nothing is ever dropped silently; ``lanner ingest`` reports how many went here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path


class FolderDeadLetters:
    """A :class:`~lanner.ingest.packets.DeadLetterSink` writing to a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        #: Letters put, by reason (the run summary shows the commonest).
        self.reasons: Counter[str] = Counter()

    def put(self, data: bytes, origin: str, reason: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(data + origin.encode()).hexdigest()[:16]
        (self.folder / f"{digest}.bin").write_bytes(data)
        note = {
            "origin": origin,
            "reason": reason,
            "time": dt.datetime.now(dt.UTC).isoformat(),
            "bytes": len(data),
        }
        (self.folder / f"{digest}.json").write_text(json.dumps(note, indent=1))
        self.count += 1
        self.reasons[reason] += 1

    def flush(self) -> None:
        """Letters are written synchronously by :meth:`put`: nothing is pending."""
