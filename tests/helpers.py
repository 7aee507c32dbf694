"""Small helpers shared by tests (paths of real alerts, running the pipeline)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lanner.batch import AlertBatch, Survey
from lanner.enrich.registry import default_enrichers
from lanner.ingest import assemble, iter_packets
from lanner.ingest.packets import RawPacket

SERIES = (
    "ztf/mwvgroup__Pitt-Google-Broker/docs/source/working-notes/troyraen/SuperNNova/ZTF21abiuvdk"
)


def enriched(packets: Sequence[RawPacket], survey: Survey) -> AlertBatch:
    """Decode and enrich packets as the pipeline does (without storing)."""
    batch = assemble(packets, survey).batch
    for enricher in default_enrichers():
        if survey in enricher.surveys:
            batch.add_columns(enricher.table, enricher(batch))
    return batch


def packets_of(paths: Sequence[Path]) -> list[RawPacket]:
    return list(iter_packets(paths))
