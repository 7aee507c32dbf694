"""Classifier inputs from a batch's Arrow columns: light curves as flat arrays with offsets
per alert, and the few packet fields Lanner's tables do not hold.

Input: an :class:`~lanner.batch.AlertBatch`. Output: NumPy arrays (one value per alert, or
per light-curve point with ``offsets`` of length ``len(batch) + 1``). No side effects.

ZTF fields not kept in Lanner's columns (``ssdistnr``, ``jdstarthist``, and per detection
``distnr``, ``magnr``, ``sigmagnr``) are read from ``batch.packets`` (the decoded records);
where the packets are absent (a batch rebuilt from the archive) they are NaN, which the
classifiers treat as Fink treats a missing value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import AlertBatch, row_offsets

JD_TO_MJD = 2400000.5


def _floats(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def packet_candidate_field(batch: AlertBatch, name: str) -> np.ndarray:
    """``candidate.<name>`` of each ZTF alert's packet as float64 (NaN when absent)."""
    if len(batch.packets) != len(batch):
        return np.full(len(batch), np.nan)
    return _floats([(p.get("candidate") or {}).get(name) for p in batch.packets])


def packet_detection_fields(batch: AlertBatch, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per row of ``batch.detections``: ``names`` of the packet entry with the same candid
    (the candidate or a ``prv_candidates`` detection), NaN when absent."""
    n = batch.detections.num_rows
    out = {k: np.full(n, np.nan) for k in names}
    if len(batch.packets) != len(batch) or n == 0:
        return out
    rows: list[int] = []
    candids: list[int] = []
    values: dict[str, list[Any]] = {k: [] for k in names}
    for row, packet in enumerate(batch.packets):
        entries = [packet.get("candidate") or {}, *(packet.get("prv_candidates") or [])]
        for e in entries:
            candid = e.get("candid")
            if candid is None:
                continue
            rows.append(row)
            candids.append(int(candid))
            for k in names:
                values[k].append(e.get(k))
    if not rows:
        return out
    import pandas as pd

    stored = pd.MultiIndex.from_arrays([np.array(rows, dtype=np.int64), np.array(candids)])
    wanted = pd.MultiIndex.from_arrays(
        [
            batch.detections["row"].to_numpy().astype(np.int64),
            batch.detections["source_id"].to_numpy(zero_copy_only=False).astype(np.int64),
        ]
    )
    keep = ~stored.duplicated()
    pos = stored[keep].get_indexer(wanted)
    found = pos >= 0
    for k in names:
        v = _floats(values[k])[keep]
        out[k] = np.where(found, v[np.clip(pos, 0, None)], np.nan)
    return out


@dataclass(frozen=True)
class LightCurves:
    """Points of every alert's light curve, flat and time-ordered within each alert:
    alert ``i`` owns ``offsets[i]:offsets[i+1]``."""

    offsets: np.ndarray
    mjd: np.ndarray
    band: np.ndarray
    flux: np.ndarray
    flux_err: np.ndarray
    mag: np.ndarray
    mag_err: np.ndarray
    source_id: np.ndarray

    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def row_of_point(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.offsets) - 1), self.counts())


def _column(table: pa.Table, name: str, dtype: Any = np.float64) -> np.ndarray:
    col = table[name]
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return np.asarray(col.to_pylist(), dtype=object)
    return np.asarray(pc.fill_null(col, np.nan) if dtype is np.float64 else col, dtype=dtype)


def detections(batch: AlertBatch) -> LightCurves:
    """Each alert's detections (the triggering one included), as stored in
    ``batch.detections`` (sorted by row, then time)."""
    t = batch.detections
    return LightCurves(
        offsets=row_offsets(t, len(batch)),
        mjd=_column(t, "mjd"),
        band=_column(t, "band", object),
        flux=_column(t, "flux"),
        flux_err=_column(t, "flux_err"),
        mag=_column(t, "mag"),
        mag_err=_column(t, "mag_err"),
        source_id=t["source_id"].to_numpy(zero_copy_only=False),
    )


#: The batch columns :func:`forced_and_current` reads (a classifier's ``required_columns``).
FORCED_AND_CURRENT_COLUMNS = (
    "forced.mjd",
    "forced.band",
    "forced.flux",
    "forced.flux_err",
    "alerts.mjd",
    "alerts.band",
    "alerts.flux",
    "alerts.flux_err",
)


def forced_and_current(batch: AlertBatch) -> LightCurves:
    """Rubin's ``prvDiaForcedSources`` then the triggering ``diaSource`` of each alert, the
    light curve Fink's Rubin classifiers read (``concat_col(current='diaSource',
    history='prvDiaForcedSources')``)."""
    f = batch.forced
    a = batch.alerts
    n = len(batch)
    f_off = row_offsets(f, n)
    f_counts = np.diff(f_off)
    counts = f_counts + 1
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(counts)
    total = int(offsets[-1])
    is_current = np.zeros(total, dtype=bool)
    is_current[offsets[1:] - 1] = True

    def merge(history: np.ndarray, current: np.ndarray) -> np.ndarray:
        out = np.empty(total, dtype=np.result_type(history.dtype, current.dtype))
        out[~is_current] = history
        out[is_current] = current
        return out

    return LightCurves(
        offsets=offsets,
        mjd=merge(_column(f, "mjd"), _column(a, "mjd")),
        band=merge(_column(f, "band", object), _column(a, "band", object)),
        flux=merge(_column(f, "flux"), _column(a, "flux")),
        flux_err=merge(_column(f, "flux_err"), _column(a, "flux_err")),
        mag=merge(np.full(f.num_rows, np.nan), _column(a, "mag")),
        mag_err=merge(np.full(f.num_rows, np.nan), _column(a, "mag_err")),
        source_id=merge(
            f["source_id"].to_numpy(zero_copy_only=False).astype(np.int64),
            a["alert_id"].to_numpy(zero_copy_only=False).astype(np.int64),
        ),
    )


def previous_epoch(batch: AlertBatch) -> np.ndarray:
    """Time [MJD] of each ZTF alert's latest history entry before it (a detection or an upper
    limit), NaN when it has none: ``np.diff(cjd)[-1]`` of Fink's inputs is ``mjd`` minus this."""
    n = len(batch)
    mjd = _column(batch.alerts, "mjd")
    best = np.full(n, -np.inf)
    for table in (batch.detections, batch.upper_limits):
        if table.num_rows == 0:
            continue
        rows = table["row"].to_numpy().astype(np.int64)
        t = _column(table, "mjd")
        before = t < mjd[rows] - 1e-9
        np.maximum.at(best, rows[before], t[before])
    best[~np.isfinite(best)] = np.nan
    return best
