"""Rubin diaObject summary fields carried into ``objects`` under Lasair-LSST's names.

Input: the decoded packets of a Rubin batch (``AlertBatch.packets``: each alert's
``diaObject`` record, as Rubin's pipelines computed it at alert time). Output: the 76
``objects`` columns of Lasair-LSST's ``diaObject`` feature group (lsst-uk/lasair-lsst
``common/schema/10_0/objects.py``): per band the PSF-flux mean, its error, spread, count,
minimum, maximum, largest slope and mean error, the forced-photometry and science-image flux
means with errors, and the position errors and the validity start. No side effects.

Every field is copied as the packet has it, under the same name (these are the names of Rubin
schemas lsst.v9_0 to lsst.v11_1). A field the packet's schema lacks is NULL: lsst.v5_0 to
lsst.v7_x have no ``*_scienceFlux*``, ``*_psfFluxMin/Max/MaxSlope`` (and lsst.v5_0 no
``*_psfFluxErrMean``) and lsst.v8_0 calls the validity start ``validityStart``; so is every
field of an alert without a diaObject (a Solar System source) and of a batch rebuilt from the
archive, which keeps light curves but not packets. NaN (Rubin's "not computed") is NULL.

The fields are read in columns: one conversion of the batch's diaObject records into an Arrow
struct array of the declared fields (unknown fields are ignored), then one column each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import AlertBatch, Survey
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.schema.columns import Column, ColumnType

NAME = "dia_object"
BANDS = ("u", "g", "r", "i", "z", "y")

#: Per-band fields: (suffix, type, unit, description with ``{b}`` for the band).
_BAND_FIELDS: tuple[tuple[str, ColumnType, str | None, str], ...] = (
    ("psfFluxMean", "float", "nJy", "Weighted mean point-source model flux in {b}"),
    ("psfFluxMeanErr", "float", "nJy", "Standard error of {b}_psfFluxMean"),
    ("psfFluxSigma", "float", "nJy", "Standard deviation of the {b}_psfFlux distribution"),
    ("psfFluxNdata", "int", None, "Number of {b} diaSources used in the {b}_psfFlux statistics"),
    ("fpFluxMean", "float", "nJy", "Weighted mean forced-photometry flux in {b}"),
    ("fpFluxMeanErr", "float", "nJy", "Standard error of {b}_fpFluxMean"),
    ("scienceFluxMean", "float", "nJy", "Weighted mean direct-image (science) flux in {b}"),
    ("scienceFluxMeanErr", "float", "nJy", "Standard error of {b}_scienceFluxMean"),
    ("psfFluxMin", "float", "nJy", "Minimum {b} difference-image PSF flux"),
    ("psfFluxMax", "float", "nJy", "Maximum {b} difference-image PSF flux"),
    (
        "psfFluxMaxSlope",
        "float",
        "nJy/day",
        "Largest slope max(delta flux / delta time) between {b} observations",
    ),
    ("psfFluxErrMean", "float", "nJy", "Mean of the {b} PSF flux errors"),
)

_OBJECT_FIELDS: tuple[tuple[str, ColumnType, str | None, str], ...] = (
    (
        "validityStartMjdTai",
        "double",
        "MJD",
        "Processing time when the validity of this diaObject version starts (TAI)",
    ),
    ("raErr", "float", "deg", "Uncertainty of the diaObject ra"),
    ("decErr", "float", "deg", "Uncertainty of the diaObject dec"),
    ("ra_dec_Cov", "float", "deg**2", "Covariance between the diaObject ra and dec"),
)


def _columns() -> tuple[Column, ...]:
    cols = [Column(n, t, f"{d} (diaObject)", u, NAME) for n, t, u, d in _OBJECT_FIELDS]
    for b in BANDS:
        cols += [
            Column(f"{b}_{s}", t, f"{d.format(b=b)} (diaObject)", u, NAME)
            for s, t, u, d in _BAND_FIELDS
        ]
    return tuple(cols)


COLUMNS: tuple[Column, ...] = _columns()

#: Arrow struct of the fields read from each packet's diaObject: all as float64 (JSON dumps may
#: write counts as floats), cast to the declared types afterwards.
_STRUCT = pa.struct([(c.name, pa.float64()) for c in COLUMNS])


def dia_object_columns(packets: Sequence[Mapping[str, object]], n_alerts: int) -> dict[str, object]:
    """The declared columns from the packets' ``diaObject`` records (all NULL without packets).

    Parameters
    ----------
    packets
        One decoded record per alert, in batch order, or an empty list.
    n_alerts
        Number of alerts of the batch.
    """
    if len(packets) != n_alerts:
        if packets:
            raise ValueError(f"{len(packets)} packets for a batch of {n_alerts} alerts")
        return {c.name: pa.nulls(n_alerts, c.arrow_type) for c in COLUMNS}
    objects = [p.get("diaObject") for p in packets]
    struct = pa.array([o if isinstance(o, dict) else None for o in objects], type=_STRUCT)
    out: dict[str, object] = {}
    for col in COLUMNS:
        # struct_field keeps the struct's nulls (alerts without a diaObject).
        values = pc.struct_field(struct, [col.name])
        out[col.name] = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    return out


class DiaObjectFields(ObjectFeatureEnricher):
    """Rubin's diaObject summary statistics, passed through to ``objects``."""

    name = NAME
    surveys: frozenset[Survey] = frozenset({"lsst"})
    declared_columns = COLUMNS

    def values(self, batch: AlertBatch) -> Mapping[str, object]:
        return dia_object_columns(batch.packets, len(batch))
