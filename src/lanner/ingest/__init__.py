"""Ingest: alert packets in, columnar batches out.

Sources are files, folders, tarballs and compressed files (:mod:`lanner.ingest.files`) or
Kafka topics (:mod:`lanner.ingest.kafka`); :mod:`lanner.ingest.decode` turns bytes into
records whatever the container, within the bounds of :mod:`lanner.ingest.limits`; one
adapter per survey family (:mod:`lanner.ingest.ztf`, :mod:`lanner.ingest.lsst`) maps them
onto the batch model; :mod:`lanner.ingest.history` turns histories into columns,
:mod:`lanner.ingest.validate` checks the batch, and :mod:`lanner.ingest.assemble` builds the
:class:`~lanner.batch.AlertBatch` and collects dead letters.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lanner.batch import AlertBatch, Survey
from lanner.ingest.assemble import Assembled, assemble
from lanner.ingest.files import iter_packets
from lanner.ingest.packets import DeadLetter, RawPacket

__all__ = ["Assembled", "DeadLetter", "RawPacket", "assemble", "iter_packets", "read_alerts"]


def read_alerts(paths: Iterable[str | Path], survey: Survey | None = None) -> AlertBatch:
    """Decode every alert under ``paths`` into one batch (dead letters are discarded).

    For tests and notebooks; the pipeline uses :func:`assemble` and keeps the dead letters.
    """
    return assemble(iter_packets(paths), survey).batch
