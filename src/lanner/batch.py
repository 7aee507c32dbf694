"""The unit of work: a batch of alerts held in columns.

Every survey adapter (:mod:`lanner.ingest.ztf`, :mod:`lanner.ingest.lsst`) turns decoded
packets into one :class:`AlertBatch`; every later stage reads its Arrow tables and adds
tables of its own. Nothing downstream looks at a survey's raw packet layout.

Tables and their columns (units in brackets; ``row`` always indexes ``alerts``):

``alerts`` — one row per alert, the triggering detection:
    ``alert_id`` int64 (ZTF ``candid`` / Rubin ``diaSourceId``), ``object_id`` (ZTF
    ``objectId`` string / Rubin ``diaObjectId`` int64, exact), ``mjd`` float64 [MJD; ZTF
    ``jd - 2400000.5``, Rubin ``midpointMjdTai``], ``ra``, ``dec`` float64 [deg], ``band``
    string (``g``/``r``/``i`` for ZTF ``fid`` 1/2/3; ``u``…``y`` for Rubin), ``flux``,
    ``flux_err`` float64 [nJy, difference flux, signed], ``mag``, ``mag_err`` float64 [AB mag
    of ``|flux|``], ``reliability`` float64 (ZTF ``drb`` else ``rb``; Rubin
    ``reliability``), ``schema`` string (``ztf-3.3``, ``lsst.v9_0``, ...), ``origin`` string
    (where the packet came from: ``path#index`` or ``topic/partition/offset``), plus the
    survey's own extra columns (ZTF: ``ssnamenr``, ``sgscore1``, ``distpsnr1``, ``sgmag1``,
    ``srmag1``, ``isdiffpos``, ``ndethist``, ``programid``; Rubin: ``ssObjectId``,
    ``nDiaSources``, ``diaObject_ra``, ``diaObject_dec``, ...).

``detections`` — the triggering detection and every detection in the packet history,
    one row per ``source_id`` within each alert (a repeated candid is kept once): ``row``
    int32, ``object_id``, ``source_id`` int64 (ZTF ``candid`` / Rubin ``diaSourceId``),
    ``mjd``, ``band``, ``ra``, ``dec``, ``flux``, ``flux_err``, ``mag``, ``mag_err``,
    ``reliability``, ``is_positive`` bool (ZTF ``isdiffpos``; Rubin ``flux > 0``). Sorted by
    (``row``, ``mjd``).

``forced`` — forced photometry at the object's position (ZTF ``fp_hists``, Rubin
    ``prvDiaForcedSources``), one row per ``source_id`` within each alert: ``row``,
    ``object_id``, ``source_id`` int64 (Rubin ``diaForcedSourceId`` / ZTF ``pid``), ``mjd``,
    ``band``, ``flux``, ``flux_err`` [nJy]. Sorted by (``row``, ``mjd``).

``upper_limits`` — non-detections (ZTF ``prv_candidates`` without ``candid``; Rubin
    ``prvDiaNondetectionLimits``), one row per (``mjd``, ``band``) within each alert:
    ``row``, ``object_id``, ``mjd``, ``band``, ``limit_mag`` [AB mag, 5 sigma],
    ``limit_flux`` [nJy, 5 sigma], ``source_id`` (always null). Sorted by (``row``, ``mjd``).

``cutouts`` — ``row``, ``object_id``, ``alert_id``, ``kind`` (``science``, ``template``,
    ``difference``), ``fits`` binary (uncompressed FITS bytes).

Enrichers add more tables keyed by the same ``row`` (``objects`` features,
``sherlock_classifications``, ...) through :meth:`AlertBatch.add_columns`.

Flux/magnitude convention: AB, ``mag = 31.4 - 2.5 log10(flux / nJy)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Declared in lanner.surveys (no science stack), re-exported beside the batch types.
from lanner.surveys import OBJECT_ID_COLUMN as OBJECT_ID_COLUMN
from lanner.surveys import SURVEYS as SURVEYS
from lanner.surveys import Survey as Survey

#: AB zero point of a flux in nJy: ``mag = NJY_ZP - 2.5 log10(flux_nJy)``.
NJY_ZP = 31.4

#: Object-id Arrow type per survey (ZTF names are strings, Rubin ids are exact 64-bit ints).
OBJECT_ID_TYPE: dict[str, pa.DataType] = {"ztf": pa.string(), "lsst": pa.int64()}

CUTOUT_KINDS = ("science", "template", "difference")


def mag_from_flux(flux: np.ndarray) -> np.ndarray:
    """AB magnitude of ``|flux|`` [nJy]; NaN where the flux is zero or missing."""
    f = np.abs(np.asarray(flux, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        m = NJY_ZP - 2.5 * np.log10(f)
    m[~np.isfinite(m)] = np.nan
    return m


def flux_from_mag(mag: np.ndarray) -> np.ndarray:
    """Flux [nJy] of an AB magnitude; NaN for a missing or absurd magnitude."""
    with np.errstate(over="ignore", invalid="ignore"):
        f = np.power(10.0, -0.4 * (np.asarray(mag, dtype=np.float64) - NJY_ZP))
    f[~np.isfinite(f)] = np.nan
    return f


def empty_table(schema: pa.Schema) -> pa.Table:
    return pa.Table.from_batches([], schema=schema)


@dataclass
class AlertBatch:
    """A batch of decoded alerts of one survey, in columns.

    ``packets`` keeps each alert's decoded record (cutouts removed) for the ``full``
    delivery payload and the few packet fields classifiers read; no stage computes on it.
    """

    survey: Survey
    alerts: pa.Table
    detections: pa.Table
    forced: pa.Table
    upper_limits: pa.Table
    cutouts: pa.Table
    packets: Sequence[dict[str, Any]] = field(default_factory=list)
    #: Tables added by enrichers, each with one row per alert (aligned with ``alerts``).
    enriched: dict[str, pa.Table] = field(default_factory=dict)
    #: Kit tables of this batch with any number of rows per object (the watchlist,
    #: watchmap and sky-map hits of :mod:`lanner.sky_areas.stage`), for the filters.
    kit: dict[str, pa.Table] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.alerts.num_rows

    def add_columns(self, table: str, columns: pa.Table) -> None:
        """Append enricher output ``columns`` (one row per alert) to enriched ``table``."""
        if columns.num_rows != len(self):
            raise ValueError(
                f"enricher output for {table} has {columns.num_rows} rows, batch has {len(self)}"
            )
        current = self.enriched.get(table)
        if current is None:
            self.enriched[table] = columns
            return
        clash = set(current.column_names) & set(columns.column_names)
        if clash:
            raise ValueError(f"columns of {table} produced twice: {sorted(clash)}")
        for name in columns.column_names:
            current = current.append_column(columns.schema.field(name), columns[name])
        self.enriched[table] = current


def newest_rows(batch: AlertBatch, recency: np.ndarray) -> np.ndarray:
    """Row of each object's newest alert in the batch (largest ``recency``), sorted.

    ``recency`` is one value per alert (``jdmax`` / ``lastDiaSourceMjdTai``); ties keep the
    earlier row.
    """
    codes = pc.rank(batch.alerts["object_id"], "ascending", tiebreaker="dense").to_numpy()
    order = np.lexsort((-recency, codes))
    first = np.ones(len(order), dtype=bool)
    first[1:] = codes[order][1:] != codes[order][:-1]
    return np.sort(order[first])


def row_offsets(table: pa.Table, n_alerts: int) -> np.ndarray:
    """Offsets of each alert's rows in a light-curve ``table`` sorted by ``row``.

    Returns an int64 array of length ``n_alerts + 1``: alert ``i`` owns rows
    ``offsets[i]:offsets[i + 1]``. Use with ``np.add.reduceat`` and friends to work on every
    light curve of the batch at once.
    """
    rows = table["row"].to_numpy()
    return np.searchsorted(rows, np.arange(n_alerts + 1), side="left").astype(np.int64)
