"""The sky-context enricher: ``sherlock_classifications`` for every alert of a batch.

Input: ``batch.alerts`` positions (``ra``, ``dec`` [deg]); for ZTF also the packet's nearest
Pan-STARRS1 source (``distpsnr1`` [arcsec], ``sgscore1``, ``srmag1``, ``sgmag1`` [mag]).
Output: one row per alert with the columns of :mod:`.sherlock_columns`; an alert without a
valid position gets an all-NULL row. Side effects: none beyond reading catalogue partitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from lanner.batch import AlertBatch, Survey
from lanner.enrich.context.sherlock_columns import PRODUCER, SHERLOCK_COLUMNS
from lanner.schema.columns import Column

PS1_FIELDS = ("distpsnr1", "sgscore1", "srmag1", "sgmag1")


def _float_column(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)


class SkyContext:
    """Sherlock-style sky context of each alert against the catalogue library.

    Parameters
    ----------
    libraries
        Catalogue library directories; default: the library shipped in the package.
    use_packet_neighbours
        For ZTF, also use the packet's nearest Pan-STARRS1 source.
    """

    name = PRODUCER
    table = "sherlock_classifications"
    surveys: frozenset[Survey] = frozenset({"ztf", "lsst"})

    def __init__(
        self, libraries: Sequence[Path] | None = None, use_packet_neighbours: bool = True
    ) -> None:
        self.libraries = libraries
        self._classifier: Any = None
        self.use_packet_neighbours = use_packet_neighbours

    @property
    def classifier(self) -> Any:
        """The classifier and its catalogues, loaded on first use (once): declaring this
        enricher's columns needs neither the catalogues nor scipy."""
        if self._classifier is None:
            from lanner.enrich.context.classifier import ContextClassifier

            self._classifier = ContextClassifier(self.libraries)
        return self._classifier

    @property
    def columns(self) -> Sequence[Column]:
        return SHERLOCK_COLUMNS

    def __call__(self, batch: AlertBatch) -> pa.Table:
        alerts = batch.alerts
        ra, dec = _float_column(alerts, "ra"), _float_column(alerts, "dec")
        neighbours = None
        if (
            self.use_packet_neighbours
            and batch.survey == "ztf"
            and all(f in alerts.column_names for f in PS1_FIELDS)
        ):
            from lanner.enrich.context.packet_neighbours import PacketNeighbours

            neighbours = PacketNeighbours(
                distance_arcsec=_float_column(alerts, "distpsnr1"),
                sgscore=_float_column(alerts, "sgscore1"),
                rmag=_float_column(alerts, "srmag1"),
                gmag=_float_column(alerts, "sgmag1"),
            )
        return self.classifier.classify(
            ra, dec, survey=batch.survey, neighbours=neighbours, strict=False
        )
