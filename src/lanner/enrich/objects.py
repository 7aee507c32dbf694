"""Object summary: the core ``objects`` columns every alert refreshes.

Input: a batch. Output: one row per alert with the object's id, position (and, for ZTF, its
scatter), first/last detection time, number of detections, the latest flux or magnitude per
band, the HTM level-16 id of the position (Lasair's ``htm16``) and, for Rubin, the time the
row was computed (``timestamp``) and ``tns_name`` (NULL: filled by the TNS cross-match), named
as Lasair names them for the survey (lsst-uk/lasair-lsst for Rubin, lsst-uk/lasair4 for ZTF).
The objects row stored for an object is the one computed from its newest alert (by
observation time), whatever the order of arrival.

Everything is computed on whole columns: per-alert reductions use ``np.*.reduceat`` over the
detections table, which is sorted by (row, mjd).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from lanner.batch import OBJECT_ID_COLUMN, AlertBatch, Survey, row_offsets
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.enrich.htm import htm_id
from lanner.schema.columns import Column

JD_TO_MJD = 2400000.5
LSST_BANDS = ("u", "g", "r", "i", "z", "y")
ZTF_BANDS = ("g", "r")
#: Depth of the ``htm16`` column's mesh (triangles of about 3.4 arcsec).
HTM_LEVEL = 16


def _lsst_columns() -> tuple[Column, ...]:
    p = "objects"
    cols = [
        Column("diaObjectId", "bigint", "Rubin DIAObject id", None, p, nullable=False),
        Column("ra", "double", "Mean RA of this object", "deg", p),
        Column("decl", "double", "Mean Dec of this object", "deg", p),
        Column(
            "firstDiaSourceMjdTai", "double", "Earliest MJD of a diaSource in the packet", "MJD", p
        ),
        Column(
            "lastDiaSourceMjdTai", "double", "Latest MJD of a diaSource", "MJD", p, nullable=False
        ),
        Column(
            "nDiaSources", "int", "Number of diaSources associated with this diaObject", None, p
        ),
        Column("latest_psfFlux", "float", "Latest flux of any band", "nJy", p),
        Column("latest_band", "text", "Band of the latest flux", None, p),
    ]
    for b in LSST_BANDS:
        cols.append(Column(f"{b}_psfFlux", "float", f"Latest {b} flux", "nJy", p))
        cols.append(Column(f"{b}_latestMJD", "double", f"MJD of latest {b} flux", "MJD", p))
    cols += [
        _htm_column(p),
        Column(
            "timestamp", "timestamp", "Time at which this objects row was computed (UTC)", None, p
        ),
        Column(
            "tns_name",
            "text",
            "TNS name of this object if it exists (NULL until the TNS cross-match fills it)",
            None,
            p,
        ),
    ]
    return tuple(cols)


def _htm_column(producer: str) -> Column:
    return Column(
        "htm16",
        "bigint",
        "Hierarchical Triangular Mesh level-16 id of the object position (Lasair's)",
        None,
        producer,
    )


def _ztf_columns() -> tuple[Column, ...]:
    p = "objects"
    return (
        Column("objectId", "text", "ZTF object identifier", None, p, nullable=False),
        Column("ramean", "double", "Mean RA of the detections", "deg", p),
        Column(
            "rastd",
            "double",
            "Standard deviation of the detections' RA (population, not scaled by cos Dec)",
            "arcsec",
            p,
        ),
        Column("decmean", "double", "Mean Dec of the detections", "deg", p),
        Column(
            "decstd",
            "double",
            "Standard deviation of the detections' Dec (population)",
            "arcsec",
            p,
        ),
        Column(
            "jdmin", "double", "Earliest Julian Day of candidates that cite this object", "JD", p
        ),
        Column(
            "jdmax",
            "double",
            "Latest Julian Day of candidates (maximum of jdgmax and jdrmax, and of the i band)",
            "JD",
            p,
            nullable=False,
        ),
        Column("jdgmax", "double", "Latest Julian Day of g mag candidates", "JD", p),
        Column("jdrmax", "double", "Latest Julian Day of r mag candidates", "JD", p),
        Column("ncand", "int", "Number of detections (distinct candids) in the packet", None, p),
        Column("gmag", "float", "Latest g magnitude", "mag", p),
        Column("rmag", "float", "Latest r magnitude", "mag", p),
        Column(
            "sgscore1",
            "float",
            "Star/galaxy score of the closest PS1 source, 0 to 1 (1: star)",
            None,
            p,
        ),
        Column(
            "distpsnr1", "float", "Distance of the closest PS1 source within 30 arcsec", "arcsec", p
        ),
        Column("sgmag1", "float", "g PSF magnitude of the closest PS1 source", "mag", p),
        Column("srmag1", "float", "r PSF magnitude of the closest PS1 source", "mag", p),
        Column("ssnamenr", "text", "MPC name of the nearest Solar System object, if any", None, p),
        _htm_column(p),
    )


def latest_index(offsets: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Index of the last ``mask``-true entry of each group, -1 where there is none.

    ``offsets`` delimit groups sorted by time (see :func:`lanner.batch.row_offsets`).
    """
    n = len(offsets) - 1
    idx = np.where(mask, np.arange(len(mask)), -1)
    out = np.full(n, -1, dtype=np.int64)
    nonempty = offsets[1:] > offsets[:-1]
    if len(idx) and nonempty.any():
        out[nonempty] = np.maximum.reduceat(idx, offsets[:-1][nonempty])
    return out


def take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[index]`` as float, NaN where ``index`` is -1."""
    out = np.full(len(index), np.nan)
    ok = index >= 0
    out[ok] = values[index[ok]]
    return out


def group_reduce(
    ufunc: np.ufunc, values: np.ndarray, offsets: np.ndarray, empty: float = np.nan
) -> np.ndarray:
    """``ufunc.reduceat`` per group, with ``empty`` for groups without entries."""
    n = len(offsets) - 1
    out = np.full(n, empty, dtype=np.float64)
    nonempty = offsets[1:] > offsets[:-1]
    if nonempty.any():
        out[nonempty] = ufunc.reduceat(values, offsets[:-1][nonempty])
    return out


def _htm16(ra: np.ndarray, dec: np.ndarray) -> pa.Array:
    """``htm16`` of each position; NULL where the position is unknown."""
    ids = htm_id(np.asarray(ra, dtype=np.float64), np.asarray(dec, dtype=np.float64), HTM_LEVEL)
    return pa.array(ids, pa.int64(), mask=ids < 0)


class ObjectSummary(ObjectFeatureEnricher):
    """Fills the core ``objects`` columns for one survey."""

    def __init__(self, survey: Survey) -> None:
        self.survey = survey
        self.name = f"objects_{survey}"
        self.surveys: frozenset[Survey] = frozenset({survey})
        self.declared_columns = _ztf_columns() if survey == "ztf" else _lsst_columns()

    def values(self, batch: AlertBatch) -> Mapping[str, object]:
        det = batch.detections
        off = row_offsets(det, len(batch))
        mjd = det["mjd"].to_numpy()
        band = np.asarray(det["band"].to_numpy(zero_copy_only=False), dtype=object)
        count = np.diff(off)
        det_row = np.asarray(det["row"].to_numpy(), dtype=np.int64)
        alerts = batch.alerts
        values: dict[str, object] = {OBJECT_ID_COLUMN[self.survey]: alerts["object_id"]}
        if self.survey == "lsst":
            flux = det["flux"].to_numpy(zero_copy_only=False)
            obj_ra = alerts["diaObject_ra"].to_numpy(zero_copy_only=False)
            obj_dec = alerts["diaObject_dec"].to_numpy(zero_copy_only=False)
            ra = alerts["ra"].to_numpy()
            dec = alerts["dec"].to_numpy()
            obj_ra = np.where(np.isfinite(obj_ra), obj_ra, ra)
            obj_dec = np.where(np.isfinite(obj_dec), obj_dec, dec)
            values["ra"], values["decl"] = obj_ra, obj_dec
            values["firstDiaSourceMjdTai"] = group_reduce(np.minimum, mjd, off)
            values["lastDiaSourceMjdTai"] = group_reduce(np.maximum, mjd, off)
            n_obj = alerts["nDiaSources"].to_numpy(zero_copy_only=False)
            values["nDiaSources"] = np.where(np.isfinite(n_obj), n_obj, count)
            last = latest_index(off, np.ones(len(mjd), dtype=bool))
            values["latest_psfFlux"] = take(flux, last)
            values["latest_band"] = [band[i] if i >= 0 else None for i in last.tolist()]
            for b in LSST_BANDS:
                idx = latest_index(off, band == b)
                values[f"{b}_psfFlux"] = take(flux, idx)
                values[f"{b}_latestMJD"] = take(mjd, idx)
            values["htm16"] = _htm16(obj_ra, obj_dec)
            now = dt.datetime.now(dt.UTC)
            values["timestamp"] = pa.array([now] * len(batch), pa.timestamp("us", tz="UTC"))
            values["tns_name"] = pa.nulls(len(batch), pa.string())
        else:
            mag = det["mag"].to_numpy(zero_copy_only=False)
            ra = det["ra"].to_numpy(zero_copy_only=False)
            dec = det["dec"].to_numpy(zero_copy_only=False)
            with np.errstate(invalid="ignore", divide="ignore"):
                ramean = group_reduce(np.add, ra, off) / count
                decmean = group_reduce(np.add, dec, off) / count
                # Population standard deviation in arcsec, as Lasair's 3600 * np.std.
                rastd = np.sqrt(group_reduce(np.add, (ra - ramean[det_row]) ** 2, off) / count)
                decstd = np.sqrt(group_reduce(np.add, (dec - decmean[det_row]) ** 2, off) / count)
            values["ramean"], values["decmean"] = ramean, decmean
            values["rastd"], values["decstd"] = 3600.0 * rastd, 3600.0 * decstd
            values["htm16"] = _htm16(ramean, decmean)
            values["jdmin"] = group_reduce(np.minimum, mjd, off) + JD_TO_MJD
            values["jdmax"] = group_reduce(np.maximum, mjd, off) + JD_TO_MJD
            values["ncand"] = count
            for b in ZTF_BANDS:
                idx = latest_index(off, band == b)
                values[f"jd{b}max"] = take(mjd, idx) + JD_TO_MJD
                values[f"{b}mag"] = take(mag, idx)
            for name in ("sgscore1", "distpsnr1", "sgmag1", "srmag1", "ssnamenr"):
                values[name] = alerts[name]
        return values
