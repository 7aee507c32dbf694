"""ZTF detections of a batch as flat numpy arrays, grouped into per-band light curves.

Input: ``AlertBatch.detections`` (sorted by ``row``, then ``mjd``). Output: numpy arrays and
segment bookkeeping shared by the ZTF feature enrichers. No side effects.

A *segment* is the light curve of one alert in one band: segment ``row * n_bands + band``.
Points are ordered by (segment, mjd), so per-segment reductions are ``np.bincount`` /
``ufunc.reduceat`` calls and "the last k detections" are fixed offsets from a segment's end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import AlertBatch

#: ZTF bands that carry Lasair's per-band features (``fid`` 1 and 2).
ZTF_BANDS: tuple[str, ...] = ("g", "r")

#: Detections columns the ZTF features read.
DETECTION_COLUMNS = [
    "row",
    "source_id",
    "mjd",
    "band",
    "mag",
    "mag_err",
    "is_positive",
    "reliability",
]

#: Julian Date of MJD 0; Lasair-ZTF's ``jd*`` columns are Julian Dates.
JD_MINUS_MJD = 2400000.5


def _float_column(table: pa.Table, name: str) -> np.ndarray:
    """Float64 numpy copy of a column, NULL as NaN."""
    col = pc.fill_null(table[name].cast(pa.float64()), np.nan)
    return np.asarray(col.to_numpy(), dtype=np.float64)


def time_ordered(table: pa.Table) -> pa.Table:
    """A (row, mjd)-sorted detections table with ties in time broken by ``source_id``
    (NULL first), then by ``mag``: an order that does not depend on the packet's."""
    row = table["row"].to_numpy()
    mjd = _float_column(table, "mjd")
    tie = (row[1:] == row[:-1]) & (mjd[1:] == mjd[:-1])
    if not tie.any():
        return table
    source = np.asarray(
        pc.fill_null(table["source_id"].cast(pa.int64()), -1).to_numpy(), dtype=np.int64
    )
    mag = _float_column(table, "mag")
    return table.take(pa.array(np.lexsort((mag, source, mjd, row))))


@dataclass(frozen=True)
class Detections:
    """Every detection of a batch, flat, in the detections table's (row, mjd) order.

    Attributes
    ----------
    n_alerts
        Number of alerts in the batch.
    row
        Alert index of each detection (int64).
    mjd
        Time [MJD]; NaN where missing.
    band
        Index into :data:`ZTF_BANDS` (0 = g, 1 = r), -1 for other or missing bands.
    mag, mag_err
        PSF magnitude of ``|difference flux|`` and its 1-sigma error [mag]; NaN where missing.
    positive
        True where the difference is positive (ZTF ``isdiffpos`` t/1); NULL counts as False.
    reliability
        Real/bogus score (``drb`` where the packet has it, else ``rb``); NaN where missing.
    """

    n_alerts: int
    row: np.ndarray
    mjd: np.ndarray
    band: np.ndarray
    mag: np.ndarray
    mag_err: np.ndarray
    positive: np.ndarray
    reliability: np.ndarray

    @classmethod
    def from_batch(cls, batch: AlertBatch, bands: tuple[str, ...] = ZTF_BANDS) -> Detections:
        """Read the detections table of ``batch`` into numpy arrays.

        Detections at the same time are put in ``source_id`` (ZTF ``candid``), then
        magnitude order (:func:`time_ordered`), so features that depend on the order of
        simultaneous points (which one is "last", the moving averages) do not depend on
        how the packet listed them.
        """
        det = time_ordered(batch.detections.select(DETECTION_COLUMNS))
        band = pc.fill_null(pc.index_in(det["band"], value_set=pa.array(bands)), -1)
        positive = pc.fill_null(det["is_positive"].cast(pa.bool_()), False)
        return cls(
            n_alerts=len(batch),
            row=np.asarray(det["row"].to_numpy(), dtype=np.int64),
            mjd=_float_column(det, "mjd"),
            band=np.asarray(band.to_numpy(), dtype=np.int64),
            mag=_float_column(det, "mag"),
            mag_err=_float_column(det, "mag_err"),
            positive=np.asarray(positive.to_numpy(zero_copy_only=False), dtype=bool),
            reliability=_float_column(det, "reliability"),
        )


@dataclass(frozen=True)
class BandSegments:
    """Selected detections regrouped into per-alert, per-band light curves.

    Attributes
    ----------
    n_bands
        Number of bands; segment ``s`` is alert ``s // n_bands`` in band ``s % n_bands``.
    take
        Indices into the :class:`Detections` arrays, ordered by (segment, mjd).
    seg
        Segment of each taken point.
    start, count
        First position in ``take`` and number of points of every segment (length
        ``n_alerts * n_bands``; empty segments have ``count == 0``).
    """

    n_bands: int
    take: np.ndarray
    seg: np.ndarray
    start: np.ndarray
    count: np.ndarray

    @classmethod
    def select(
        cls, det: Detections, mask: np.ndarray, n_bands: int = len(ZTF_BANDS)
    ) -> BandSegments:
        """Group detections where ``mask`` holds (and the band is known) by alert and band.

        The detections are in (row, mjd) order; a stable sort on the segment number keeps
        the time order inside each segment.
        """
        idx = np.flatnonzero(mask & (det.band >= 0))
        seg_unsorted = det.row[idx] * n_bands + det.band[idx]
        order = np.argsort(seg_unsorted, kind="stable")
        take = idx[order]
        seg = seg_unsorted[order]
        n_seg = det.n_alerts * n_bands
        count = np.bincount(seg, minlength=n_seg).astype(np.int64)
        start = np.zeros(n_seg, dtype=np.int64)
        np.cumsum(count[:-1], out=start[1:])
        return cls(n_bands=n_bands, take=take, seg=seg, start=start, count=count)

    def last(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions in ``take`` of the ``k``-th last point of each segment (``k`` >= 1).

        Returns ``(segments, positions)`` for the segments holding at least ``k`` points.
        """
        segs = np.flatnonzero(self.count >= k)
        return segs, self.start[segs] + self.count[segs] - k

    def per_band(self, values: np.ndarray) -> list[np.ndarray]:
        """Split a per-segment array into one per-alert array per band."""
        return [values[b :: self.n_bands] for b in range(self.n_bands)]
