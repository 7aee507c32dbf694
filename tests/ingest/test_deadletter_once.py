"""A re-delivered poison packet is dead-lettered once, whichever worker sees it again."""

from __future__ import annotations

from pathlib import Path

from lanner.ingest.deadletter_once import OnceDeadLetters
from lanner.store import open_store


class ListSink:
    def __init__(self) -> None:
        self.letters: list[tuple[str, str]] = []
        self.flushes = 0

    def put(self, data: bytes, origin: str, reason: str) -> None:
        self.letters.append((origin, reason))

    def flush(self) -> None:
        self.flushes += 1


def test_redelivered_letters_are_set_aside_once(db_url: str) -> None:
    store = open_store(db_url, "ztf")
    first, second = ListSink(), ListSink()
    one, other = OnceDeadLetters(first, store), OnceDeadLetters(second, store)
    one.put(b"x", "alerts/0/7", "malformed alert: x")
    one.put(b"x", "alerts/0/7", "malformed alert: x")  # the batch processed twice
    one.flush()
    # Re-delivered to another worker after a crash, with a new poison packet beside it.
    other.put(b"x", "alerts/0/7", "malformed alert: x")
    other.put(b"y", "alerts/1/3", "unknown schema id 9")
    other.flush()
    assert first.letters == [("alerts/0/7", "malformed alert: x")]
    assert second.letters == [("alerts/1/3", "unknown schema id 9")]
    assert (one.count, one.repeats, other.count, other.repeats) == (1, 0, 1, 1)
    assert store.known_dead_letters(["alerts/0/7", "alerts/1/3", "alerts/2/0"]) == {
        "alerts/0/7",
        "alerts/1/3",
    }
    store.close()


def test_nothing_to_flush_still_flushes_the_sink(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}", "lsst")
    sink = ListSink()
    OnceDeadLetters(sink, store).flush()
    assert sink.flushes == 1 and sink.letters == []
    store.close()
