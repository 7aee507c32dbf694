"""ZTF adapter: every ZTF alert schema (legacy without ``schemavsn``, 2.0 to 3.5, 4.01,
4.02 with ``fp_hists``) onto Lanner's batch model.

Input: decoded ZTF records. Output: rows appended to
:class:`~lanner.ingest.columns.BatchColumns`. The fields used have kept their names and
meaning across all ZTF versions; fields a version lacks are NULL.

Units: ``jd`` becomes MJD (``jd - 2400000.5``); ``magpsf``/``sigmapsf`` are kept and the
signed difference flux in nJy is derived from them (sign from ``isdiffpos``); forced
photometry ``forcediffimflux`` (DN) becomes nJy with the image zero point ``magzpsci``.
"""

from __future__ import annotations

from typing import Any

from lanner.ingest.columns import AdapterError, BatchColumns, entries_of, require

JD_TO_MJD = 2400000.5
BANDS = {1: "g", 2: "r", 3: "i"}
#: ZTF fills missing forced-photometry values with this sentinel.
MISSING = -99999.0
CUTOUTS = (
    ("science", "cutoutScience"),
    ("template", "cutoutTemplate"),
    ("difference", "cutoutDifference"),
)
REQUIRED = ("candid", "jd", "fid", "ra", "dec", "magpsf", "sigmapsf")

#: Alert-level columns this adapter adds to ``alerts`` (besides the common ones).
EXTRA_COLUMNS = (
    "ssnamenr",
    "sgscore1",
    "distpsnr1",
    "sgmag1",
    "srmag1",
    "isdiffpos",
    "ndethist",
    "programid",
    "rb",
    "drb",
)


def is_ztf(record: dict[str, Any]) -> bool:
    return "objectId" in record and "candidate" in record


def schema_tag(record: dict[str, Any]) -> str:
    version = record.get("schemavsn")
    return f"ztf-{version}" if version else "ztf-legacy"


def _positive(isdiffpos: Any) -> bool:
    return str(isdiffpos).lower() in ("t", "1", "true")


def _band(fid: Any) -> str:
    try:
        return BANDS[fid]
    except KeyError:
        raise AdapterError(f"unknown ZTF filter id fid={fid!r}") from None


def append(record: dict[str, Any], row: int, origin: str, out: BatchColumns) -> None:
    """Append one ZTF alert; raise :class:`AdapterError` if it cannot be mapped."""
    cand = record.get("candidate")
    if not isinstance(cand, dict):
        raise AdapterError("missing required field candidate")
    object_id = record.get("objectId")
    if not object_id:
        raise AdapterError("missing required field objectId")
    require(cand, REQUIRED, "candidate.")
    band = _band(cand["fid"])
    mjd = cand["jd"] - JD_TO_MJD
    positive = _positive(cand.get("isdiffpos"))
    reliability = cand.get("drb") if cand.get("drb") is not None else cand.get("rb")
    ssname = cand.get("ssnamenr")
    out.alert(
        {
            "alert_id": cand["candid"],
            "object_id": object_id,
            "mjd": mjd,
            "ra": cand["ra"],
            "dec": cand["dec"],
            "band": band,
            "mag": cand["magpsf"],
            "mag_err": cand["sigmapsf"],
            "sign": 1.0 if positive else -1.0,
            "reliability": reliability,
            "schema": schema_tag(record),
            "origin": origin,
            "ssnamenr": None if ssname in (None, "null", "") else ssname,
            "sgscore1": cand.get("sgscore1"),
            "distpsnr1": cand.get("distpsnr1"),
            "sgmag1": cand.get("sgmag1"),
            "srmag1": cand.get("srmag1"),
            "isdiffpos": positive,
            "ndethist": cand.get("ndethist"),
            "programid": cand.get("programid"),
            "rb": cand.get("rb"),
            "drb": cand.get("drb"),
        }
    )
    out.history("ztf.candidates", row, [cand, *entries_of(record, "prv_candidates")])
    out.history("ztf.fp_hists", row, entries_of(record, "fp_hists"))
    for kind, key in CUTOUTS:
        stamp = record.get(key)
        if isinstance(stamp, dict) and stamp.get("stampData"):
            out.cutout(row, kind, stamp["stampData"])
    out.packets.append({k: v for k, v in record.items() if not k.startswith("cutout")})
