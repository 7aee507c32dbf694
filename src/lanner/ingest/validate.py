"""Checks on a whole batch before it is stored: times, coordinates, ids, cutout sizes.

Input: the batch's alert columns (Arrow arrays) and light-curve
:class:`~lanner.ingest.history.Measurements`, before they become an
:class:`~lanner.batch.AlertBatch`. Output: the alert rows that fail, each with the first
reason found. No side effects; every rule is a numpy or pyarrow mask over the batch.

Rules (the reasons as written):

* ``non-finite time mjd=nan in <table>``: a time that is NaN or infinite, in the alert or
  anywhere in its history (a missing time is not an error: such history entries are left
  out);
* ``invalid coordinates ra=…, dec=… in <table>``: the alert's position not finite, or any
  finite position outside 0 ≤ ra < 360, −90 ≤ dec ≤ 90 (infinite counts too);
* ``invalid id …``: a Rubin id (``diaSourceId``, ``diaObjectId``, a history source id) that
  is not positive; a ZTF ``candid`` that is zero, or negative outside the legacy schema
  (ZTF's pre-survey IPAC test packets carry negative candids, so those are kept);
* ``invalid objectId '…': not a ZTF object name (ZTF + 2 digits + 7 letters)``: which also
  refuses quotes, SQL and path separators;
* ``cutout <kind> of N bytes exceeds LANNER_MAX_CUTOUT_BYTES (M)``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import Survey
from lanner.ingest.columns import Measurements

ZTF_OBJECT_ID = r"^ZTF[0-9]{2}[a-z]{7}$"
ZTF_LEGACY = "ztf-legacy"


def _floats(array: pa.Array) -> np.ndarray:
    return pc.fill_null(array.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def _note(bad: dict[int, str], rows: np.ndarray, reason: object) -> None:
    """Record ``reason`` (a string, or one per row) for each row not already refused."""
    reasons = reason if isinstance(reason, list) else [reason] * len(rows)
    for row, text in zip(rows.tolist(), reasons, strict=True):
        bad.setdefault(int(row), str(text))


def _first(rows: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (unique) where ``mask`` holds, and the index of each row's first such entry."""
    hit = np.flatnonzero(mask)
    unique, first = np.unique(rows[hit], return_index=True)
    return unique, hit[first]


def _times(bad: dict[int, str], rows: np.ndarray, mjd: np.ndarray, where: str) -> None:
    r, i = _first(rows, ~np.isfinite(mjd))
    _note(bad, r, [f"non-finite time mjd={mjd[k]} in {where}" for k in i])


def _coordinates(
    bad: dict[int, str],
    rows: np.ndarray,
    ra: np.ndarray,
    dec: np.ndarray,
    where: str,
    required: bool,
) -> None:
    with np.errstate(invalid="ignore"):
        wrong = np.isinf(ra) | np.isinf(dec) | (ra < 0) | (ra >= 360) | (np.abs(dec) > 90)
        if required:
            wrong |= np.isnan(ra) | np.isnan(dec)
    r, i = _first(rows, wrong)
    _note(bad, r, [f"invalid coordinates ra={ra[k]}, dec={dec[k]} in {where}" for k in i])


def _ids(
    bad: dict[int, str], rows: np.ndarray, ids: np.ndarray, wrong: np.ndarray, name: str
) -> None:
    r, i = _first(rows, wrong)
    _note(bad, r, [f"invalid id {name}={ids[k]}" for k in i])


def check(
    survey: Survey,
    alerts: dict[str, pa.Array],
    tables: dict[str, Measurements],
    cutouts: dict[str, list[object]],
    max_cutout_bytes: int,
) -> dict[int, str]:
    """Alert rows to refuse, with the first reason found for each."""
    bad: dict[int, str] = {}
    n = len(alerts["alert_id"])
    rows = np.arange(n)
    _times(bad, rows, _floats(alerts["mjd"]), "alert")
    _coordinates(bad, rows, _floats(alerts["ra"]), _floats(alerts["dec"]), "alert", True)
    alert_id = pc.fill_null(alerts["alert_id"], 0).to_numpy(zero_copy_only=False)
    if survey == "lsst":
        _ids(bad, rows, alert_id, alert_id <= 0, "diaSourceId")
        object_id = pc.fill_null(alerts["object_id"], 0).to_numpy(zero_copy_only=False)
        _ids(bad, rows, object_id, object_id <= 0, "diaObjectId")
    else:
        legacy = pc.equal(alerts["schema"], ZTF_LEGACY).to_numpy(zero_copy_only=False)
        _ids(bad, rows, alert_id, (alert_id == 0) | ((alert_id < 0) & ~legacy), "candid")
        names = alerts["object_id"]
        ok = pc.fill_null(pc.match_substring_regex(names, ZTF_OBJECT_ID), False)
        wrong = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
        _note(
            bad,
            wrong,
            [
                f"invalid objectId {names[int(k)].as_py()!r}: not a ZTF object name "
                "(ZTF + 2 digits + 7 letters)"
                for k in wrong
            ],
        )
    for table, m in tables.items():
        _times(bad, m.row, m.mjd, table)
        _coordinates(bad, m.row, m.ra, m.dec, table, False)
        if survey == "lsst":
            _ids(bad, m.row, m.source_id, ~m.source_missing & (m.source_id <= 0), "source id")
    sizes = np.fromiter((len(d) for d in cutouts["data"]), dtype=np.int64)  # type: ignore[arg-type]
    big = np.flatnonzero(sizes > max_cutout_bytes)
    _note(
        bad,
        np.asarray(cutouts["row"], dtype=np.int64)[big],
        [
            f"cutout {cutouts['kind'][k]} of {sizes[k]} bytes exceeds "
            f"LANNER_MAX_CUTOUT_BYTES ({max_cutout_bytes})"
            for k in big
        ],
    )
    return bad
