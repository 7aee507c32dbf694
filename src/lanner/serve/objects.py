"""What ``/api/object/``, ``/api/objects/``, ``/api/lightcurves/`` and ``/api/sherlock/…``
return: Lasair's shapes built from the archive.

Input: a store, a validated object id and the caller's options. Output: dicts shaped as
lasair-lsst's ``objjson`` (Rubin: ``diaObjectId``, ``diaObject``, ``lasairData``,
``diaSourcesList``, ``diaForcedSourcesList``) or lasair4's (ZTF: ``objectId``,
``objectData``, ``candidates``, …); ``None`` for an object the archive does not have.
Side effects: reads only.

Differences from Lasair, on purpose: ``reliabilityThreshold`` drops detections whose
reliability is at or below it (Lasair's test never drops any); image URLs are given for
the sources whose cutouts are stored, and a source without them never fails the object;
``latestFilter`` is the band of the latest detection; counts are counted once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import re
import time
from typing import Any

from lanner.batch import OBJECT_ID_COLUMN, Survey
from lanner.serve.coordinates import sky_coordinates
from lanner.store import Store
from lanner.store.ddl import quote

#: Rubin ids are 64-bit integers; ZTF ids are "ZTF", two digits of year and 7 letters.
ZTF_ID = re.compile(r"^ZTF\d{2}[a-z]{7}$")
MJD_UNIX_EPOCH = 40587.0
JD_MJD = 2400000.5
ZTF_FID = {"g": 1, "r": 2, "i": 3}
CUTOUT_KINDS = (("Science", "science"), ("Template", "template"), ("Difference", "difference"))
LITE_LASAIR = ("nDiaSources", "glat", "ebv", "firstDiaSourceMjdTai", "lastDiaSourceMjdTai")
#: Columns of the ``objects`` row a lite, Lanner-added answer reads.
LITE_ROW = (*LITE_LASAIR, "diaObjectId", "ra", "decl", "tns_name")


def parse_object_id(survey: Survey, raw: Any) -> int | str:
    """A valid object id of ``survey`` from a request value; ``ValueError`` with DRF's
    message otherwise (checked before any query)."""
    if survey == "lsst":
        text = str(raw).strip() if not isinstance(raw, bool) else ""
        if isinstance(raw, float) and raw.is_integer():
            text = str(int(raw))
        if not re.fullmatch(r"-?\d{1,19}", text) or not -(2**63) <= int(text) < 2**63:
            raise ValueError("A valid integer is required.")
        return int(text)
    text = str(raw).strip() if isinstance(raw, str) else ""
    if not ZTF_ID.match(text):
        raise ValueError("Not a valid ZTF object id (ZTF, 2 digits, 7 lower-case letters).")
    return text


def _rows(store: Store, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cur = store.con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _one(
    store: Store, table: str, oid: str, object_id: Any, columns: tuple[str, ...] = ()
) -> dict[str, Any] | None:
    """The row of ``object_id`` in ``table`` (only ``columns``, if given)."""
    ph = store.backend.placeholder
    chosen = ", ".join(quote(c) for c in columns) if columns else "*"
    sql = f"SELECT {chosen} FROM {quote(table)} WHERE {quote(oid)} = {ph}"
    rows = _rows(store, sql, (object_id,))
    return rows[0] if rows else None


def _light(store: Store, table: str, oid: str, object_id: Any) -> list[dict[str, Any]]:
    """Rows of a light-curve table, newest first; detections also say whether their
    cutouts are stored (``has_cutouts``), in the same query."""
    ph = store.backend.placeholder
    t = quote(table)
    if table == "upper_limits":
        sql = f"SELECT * FROM {t} WHERE {quote(oid)} = {ph} ORDER BY mjd DESC"
    else:
        extra = (
            ", EXISTS (SELECT 1 FROM cutouts c WHERE c.alert_id = d.source_id) AS has_cutouts"
            if table == "detections"
            else ""
        )
        sql = (
            f"SELECT d.*{extra} FROM {t} d WHERE d.{quote(oid)} = {ph} "
            "ORDER BY d.mjd DESC, d.source_id DESC"
        )
    return _rows(store, sql, (object_id,))


def image_urls(base: str, source_id: int) -> dict[str, Any]:
    """Lasair's cutout links of one source (served by ``/fits/<id>_cutout<Kind>``)."""
    out: dict[str, Any] = {
        label: f"{base}/fits/{source_id}_cutout{label}" for label, _ in CUTOUT_KINDS
    }
    return out


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _utc(mjd: float | None) -> str | None:
    """UTC text of an MJD; None for a time no calendar holds (placeholder or missing times,
    which some alerts carry) rather than a failed request."""
    if mjd is None or not math.isfinite(mjd):
        return None
    try:
        moment = dt.datetime.fromtimestamp((mjd - MJD_UNIX_EPOCH) * 86400.0, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def now_mjd() -> float:
    return time.time() / 86400.0 + MJD_UNIX_EPOCH


def _annotations(store: Store, oid: str, object_id: Any, user_id: int) -> list[dict[str, Any]]:
    """The object's annotations the caller may read (not others' private annotators)."""
    from lanner.store.annotations import hidden_topics

    ph = store.backend.placeholder
    rows = _rows(
        store,
        f"SELECT * FROM annotations WHERE {quote(oid)} = {ph} ORDER BY topic",
        (object_id,),
    )
    hidden = hidden_topics(store, user_id) if rows else frozenset()
    out = []
    for row in rows:
        if row["topic"] in hidden:
            continue
        stamp = row.get("timestamp")
        if isinstance(stamp, str):
            stamp = stamp.replace("T", " ")[:19]
        elif isinstance(stamp, dt.datetime):
            stamp = stamp.strftime("%Y-%m-%d %H:%M:%S")
        classdict = row.get("classdict")
        if isinstance(classdict, str):
            with contextlib.suppress(ValueError):  # text that is not JSON stays text
                classdict = json.loads(classdict)
        out.append(
            {
                "annotationID": row.get("annotationID", row.get("annotation_id")),
                "topic": row["topic"],
                "version": row.get("version"),
                "timestamp": stamp,
                "classification": row.get("classification"),
                "explanation": row.get("explanation"),
                "classdict": classdict,
                "url": row.get("url"),
            }
        )
    return out


def _tns(store: Store, tns_name: str | None) -> dict[str, Any]:
    if not tns_name:
        return {}
    ph = store.backend.placeholder
    rows = _rows(store, f"SELECT * FROM crossmatch_tns WHERE tns_name = {ph}", (tns_name,))
    if not rows:
        return {}
    row = {k: v for k, v in rows[0].items() if v not in (None, "", 0) and k != "raw"}
    if isinstance(row.get("disc_int_name"), str):
        row["disc_int_name"] = row["disc_int_name"].split(",")[0]
    return row


def sherlock_of(store: Store, survey: Survey, object_id: Any) -> dict[str, Any]:
    """The object's ``sherlock_classifications`` row, or ``{}``."""
    row = _one(store, "sherlock_classifications", OBJECT_ID_COLUMN[survey], object_id)
    return row or {}


#: Crossmatch fields of the lite Sherlock answer (Lasair's ``lite=True``).
SHERLOCK_LITE = (
    "catalogue_object_id", "catalogue_table_name", "catalogue_object_type", "separationArcsec",
    "z", "photoZ", "distance", "Mag", "MagFilter",
)  # fmt: skip


def sherlock_answer(key: str, row: dict[str, Any], lite: bool) -> dict[str, Any]:
    """Lasair's ``{"classifications": {key: [class, sentence]}, "crossmatches": […]}``."""
    if not row:
        return {"classifications": {}, "crossmatches": []}
    crossmatch = {
        k: v
        for k, v in row.items()
        if k not in (*OBJECT_ID_COLUMN.values(), "classification", "description", "summary")
    }
    if lite:
        crossmatch = {k: crossmatch.get(k) for k in SHERLOCK_LITE}
    matched = bool(row.get("catalogue_object_id"))
    return {
        "classifications": {key: [row.get("classification"), row.get("description")]},
        "crossmatches": [crossmatch] if matched else [],
    }


# -- Rubin (lasair-lsst) -------------------------------------------------------------------
def _lsst_source(row: dict[str, Any], lite: bool) -> dict[str, Any]:
    out = {
        "diaSourceId": row["source_id"],
        "midpointMjdTai": row["mjd"],
        "band": row["band"],
        "psfFlux": row["flux"],
        "psfFluxErr": row["flux_err"],
        "reliability": row.get("reliability"),
    }
    if not lite:
        out.update(
            ra=row.get("ra"),
            dec=row.get("dec"),
            mag=row.get("mag"),
            magErr=row.get("mag_err"),
            isPositive=row.get("is_positive"),
        )
    return out


def _lsst_forced(row: dict[str, Any], lite: bool) -> dict[str, Any]:
    out = {
        "midpointMjdTai": row["mjd"],
        "band": row["band"],
        "psfFlux": row["flux"],
        "psfFluxErr": row["flux_err"],
    }
    if not lite:
        out = {"diaForcedSourceId": row["source_id"], **out}
    return out


def _flux_text(flux: Any, err: Any) -> str | None:
    if not _finite(flux):
        return None
    return f"{flux:.2f}±{err:.2f}" if _finite(err) else f"{flux:.2f}"


def _events(sources: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """Discovery, latest and peak of a light curve (newest first), as Lasair names them."""
    out: dict[str, Any] = {}
    if not sources:
        return out
    chrono = sorted(sources, key=lambda s: s["midpointMjdTai"])
    measured = [s for s in chrono if _finite(s["psfFlux"])]
    for name, src in (
        ("disc", chrono[0]),
        ("latest", chrono[-1]),
        ("peak", max(measured, key=lambda s: s["psfFlux"]) if measured else None),
    ):
        if src is None:
            continue
        out[f"{name}Mjd"] = src["midpointMjdTai"]
        out[f"{name}Utc"] = _utc(src["midpointMjdTai"])
        out[f"{name}Mag"] = _flux_text(src["psfFlux"], src["psfFluxErr"])
        out[f"{name}Filter"] = src["band"]
    return out


def lsst_object(
    store: Store,
    object_id: int,
    *,
    lite: bool,
    lasair_added: bool,
    reliability_threshold: float,
    base_url: str,
    user_id: int,
) -> dict[str, Any] | None:
    """Rubin object answer (lasair-lsst's shapes); ``None`` when ``lasair_added`` and the
    object is unknown or has no detections."""
    oid = "diaObjectId"
    row = _one(store, "objects", oid, object_id, LITE_ROW if lite and lasair_added else ())
    detections = _light(store, "detections", oid, object_id)
    if reliability_threshold > 0:
        detections = [
            d
            for d in detections
            if _finite(d.get("reliability")) and d["reliability"] > reliability_threshold
        ]
    forced = _light(store, "forced_photometry", oid, object_id)
    sources = [_lsst_source(d, lite) for d in detections]
    forced_rows = [_lsst_forced(f, lite) for f in forced]
    if lite:
        forced_rows = [f for f in forced_rows if _finite(f["psfFlux"])]
    if not lasair_added:
        out: dict[str, Any] = {"diaObjectId": object_id}
        if not lite:
            out["diaObject"] = row
        out["diaSourcesList"] = sources
        out["diaForcedSourcesList"] = forced_rows
        return out
    if row is None or not detections:
        return None
    now = now_mjd()
    keep = LITE_LASAIR if lite else tuple(row)
    data = {k: row.get(k) for k in keep if k not in ("ra", "decl", "mjdmin", "mjdmax")}
    data.update(sky_coordinates(row["ra"], row["decl"]))
    data["now_mjd"] = f"{now:.2f}"
    first, last = row["firstDiaSourceMjdTai"], row["lastDiaSourceMjdTai"]
    data["mjdmin_ago"] = now - float(first) if _finite(first) else None
    data["mjdmax_ago"] = now - float(last) if _finite(last) else None
    data.update(_events(sources, now))
    data["sherlock"] = sherlock_of(store, "lsst", object_id)
    data["TNS"] = _tns(store, row.get("tns_name"))
    data["annotations"] = _annotations(store, oid, object_id, user_id)
    data["imageUrls"] = [
        {**image_urls(base_url, d["source_id"]), "diaSourceId": d["source_id"]}
        for d in detections
        if d["has_cutouts"]
    ]
    return {
        "diaObjectId": object_id,
        "diaObject": {
            "ra": row["ra"],
            "decl": row["decl"],
            "firstDiaSourceMjdTai": first,
            "lastDiaSourceMjdTai": last,
        },
        "lasairData": data,
        "diaSourcesList": sources,
        "diaForcedSourcesList": forced_rows,
    }


# -- ZTF (lasair4) -------------------------------------------------------------------------
def ztf_candidates(store: Store, object_id: str, base_url: str) -> list[dict[str, Any]]:
    """lasair4's ``candidates``: detections and non-detections, newest first."""
    oid = "objectId"
    detections = _light(store, "detections", oid, object_id)
    limits = _light(store, "upper_limits", oid, object_id)
    out: list[dict[str, Any]] = []
    for d in detections:
        cand = {
            "candid": d["source_id"],
            "mjd": d["mjd"],
            "jd": d["mjd"] + JD_MJD,
            "ra": d.get("ra"),
            "dec": d.get("dec"),
            "fid": ZTF_FID.get(d["band"], 0),
            "magpsf": d.get("mag"),
            "sigmapsf": d.get("mag_err"),
            "isdiffpos": "t" if d.get("is_positive") in (True, 1) else "f",
            "drb": d.get("reliability"),
        }
        if d["has_cutouts"]:
            cand["image_urls"] = image_urls(base_url, d["source_id"])
        out.append(cand)
    for u in limits:
        out.append(
            {
                "mjd": u["mjd"],
                "jd": u["mjd"] + JD_MJD,
                "fid": ZTF_FID.get(u["band"], 0),
                "magpsf": u.get("limit_mag"),
                "diffmaglim": u.get("limit_mag"),
            }
        )
    out.sort(key=lambda c: c["mjd"], reverse=True)
    return out


def ztf_object(
    store: Store, object_id: str, *, lite: bool, base_url: str, user_id: int
) -> dict[str, Any] | None:
    """ZTF object answer (lasair4's shape), or ``None`` for an unknown object."""
    row = _one(store, "objects", "objectId", object_id)
    if row is None:
        return None
    now = now_mjd()
    data = dict(row)
    data.update(sky_coordinates(row["ramean"], row["decmean"]))
    data["now_mjd"] = f"{now:.2f}"
    for key, col in (("mjdmin", "jdmin"), ("mjdmax", "jdmax")):
        jd = row[col]
        mjd = float(jd) - JD_MJD if _finite(jd) else None
        data[key] = mjd
        data[f"{key}_ago"] = now - mjd if mjd is not None else None
    data["annotations"] = _annotations(store, "objectId", object_id, user_id)
    candidates = ztf_candidates(store, object_id, base_url)
    dets = [c for c in candidates if "candid" in c]
    forced = _light(store, "forced_photometry", "objectId", object_id)
    forcedphot = [
        {
            "mjd": f["mjd"],
            "fid": ZTF_FID.get(f["band"], 0),
            "forcediffimflux": f["flux"],
            "forcediffimfluxunc": f["flux_err"],
        }
        for f in forced
    ]
    latest_images: dict[str, Any] = next((c["image_urls"] for c in dets if "image_urls" in c), {})
    out: dict[str, Any] = {
        "objectId": object_id,
        "objectData": data,
        "candidates": candidates,
        "count_isdiffpos": sum(1 for c in dets if c["isdiffpos"] == "t"),
        "count_isdiffneg": sum(1 for c in dets if c["isdiffpos"] == "f"),
        "count_all_candidates": len(dets),
        "count_noncandidate": len(candidates) - len(dets),
        "forcedphot": [] if lite else forcedphot,
        "sherlock": sherlock_of(store, "ztf", object_id),
        "image_urls": latest_images,
        "TNS": _tns(store, row.get("tns_name")),
        "message": "",
    }
    return out
