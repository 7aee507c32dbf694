"""An archive of every shared ZTF alert with the built-in classifiers' annotations (SQLite),
built once per session for the learning and target-list tests."""

from __future__ import annotations

from pathlib import Path

from lanner.classify import registry
from lanner.ingest import iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.pipeline import Pipeline, chunked
from lanner.store import open_store


def build(alerts_dir: Path, folder: Path) -> str:
    url = f"sqlite:///{folder / 'classified.db'}"
    store = open_store(url, "ztf")
    pipeline = Pipeline(
        store, FolderDeadLetters(folder / "dl"), classifiers=registry.selected("auto", "ztf")
    )
    packets = iter_packets(sorted((alerts_dir / "ztf").rglob("*.avro")))
    pipeline.run(chunked(packets, 1000))
    store.close()
    return url
