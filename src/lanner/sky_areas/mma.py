"""Multi-messenger sky maps in the archive: notices received, map versions, and hits.

Input: LVK notices (:mod:`lanner.sky_areas.notices`) or sky-map files. Output/side effects:
rows of ``mma_notices`` (every notice, with what was done), ``mma_areas`` (one row per
version of an event's map; a newer version supersedes, a RETRACTION deactivates, all of the
event's maps), ``mma_skymaps`` (the 10/50/90 % MOCs and the 90 % region's pixels) and
``mma_area_hits``.

Hits: objects inside a map's 90 % credible region whose latest detection lies within
:data:`ACTIVE_DAYS` after the event, with ``contour``, ``probdens2`` and ``probdens3`` as
defined in :mod:`lanner.sky_areas.skymap`, and ``distance`` the host distance of the
object's sky context (``sherlock_classifications.distance``) [Mpc]. They are computed over
the archive when a map is stored, and for each batch by :mod:`lanner.sky_areas.stage`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from astropy.time import Time

from lanner.sky_areas.notices import Notice, Selection
from lanner.sky_areas.skymap import Region, SkyMap, probdens3, read_skymap, values_at
from lanner.store import Store
from lanner.store.sky_areas import (
    insert_record,
    object_chunks,
    record_rows,
    update_row,
    upsert_rows,
)

#: Objects whose latest detection is this long after an event are matched with its map.
ACTIVE_DAYS = 21.0
HIT_COLUMNS = ("mw_id", "contour", "distance", "probdens2", "probdens3")


@dataclass(frozen=True)
class NoticeOutcome:
    """What one notice did: its row, the map stored (if any) and the archive hits."""

    notice_id: int
    decision: str
    mw_id: int | None = None
    hits: int = 0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _mjd(iso: str | None) -> float | None:
    if not iso:
        return None
    return float(Time(iso.replace("Z", ""), format="isot", scale="utc").mjd)


def _none(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def receive_notice(store: Store, notice: Notice, selection: Selection) -> NoticeOutcome:
    """Store a notice; store its map if selected (then match the archive); apply a
    RETRACTION by deactivating the event's maps."""
    row: dict[str, Any] = {
        "superevent_id": notice.superevent_id,
        "alert_type": notice.alert_type,
        "time_created": notice.time_created,
        "event_time": notice.event_time,
        "group": notice.group,
        "pipeline": notice.pipeline,
        "classification": json.dumps(notice.classification) if notice.classification else None,
        "far": notice.far,
        "received": _now(),
    }
    mw_id, hits = None, 0
    if notice.is_retraction:
        n = deactivate_event(store, "LVK", notice.superevent_id)
        decision = f"retraction: {n} map(s) deactivated"
    elif notice.skymap is None:
        decision = "no sky map"
    else:
        skymap = read_skymap(notice.skymap)
        row.update(_map_summary(skymap))
        verdict = selection.verdict(notice.most_probable_class, skymap.areas[0.9])
        if verdict is not None:
            decision = verdict
        else:
            mw_id, hits = add_skymap(
                store,
                skymap,
                namespace="LVK",
                other_id=notice.superevent_id,
                event_mjd=_mjd(notice.event_time) or skymap.mjd,
                alert_type=notice.alert_type,
                gw_class=notice.most_probable_class,
                far=notice.far,
                more_info=notice.url,
                params={
                    "classification": notice.classification,
                    "properties": notice.properties,
                    "group": notice.group,
                    "pipeline": notice.pipeline,
                    "search": notice.search,
                },
            )
            decision = "stored"
    row.update({"mw_id": mw_id, "decision": decision})
    notice_id = insert_record(store, "mma_notices", row, "notice_id")
    return NoticeOutcome(notice_id, decision, mw_id, hits)


def _map_summary(skymap: SkyMap) -> dict[str, Any]:
    return {
        "distmean": skymap.distmean,
        "diststd": skymap.diststd,
        "ra": skymap.ra,
        "decl": skymap.dec,
        "area90": skymap.areas[0.9],
    }


def add_skymap(
    store: Store,
    skymap: SkyMap,
    *,
    namespace: str,
    other_id: str,
    event_mjd: float | None,
    alert_type: str | None = None,
    gw_class: str | None = None,
    far: float | None = None,
    more_info: str | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[int, int]:
    """Store a new version of an event's map (older versions stop), then match the archive.

    Returns the map's ``mw_id`` and its number of hits.
    """
    if event_mjd is None:
        raise ValueError("the sky map gives no event time (MJD-OBS): pass one")
    ph = store.backend.placeholder
    versions = record_rows(
        store, "mma_areas", f'namespace = {ph} AND "otherId" = {ph}', (namespace, other_id)
    )
    for old in versions:
        if old["active"]:
            update_row(store, "mma_areas", "mw_id", old["mw_id"], {"active": False}, False)
    event_date = Time(event_mjd, format="mjd", scale="utc").to_datetime(dt.UTC)
    location = {
        "RA": skymap.ra,
        "Dec": skymap.dec,
        "distmean": skymap.distmean,
        "diststd": skymap.diststd,
    }
    area = {
        "namespace": namespace,
        "otherId": other_id,
        "version": len(versions) + 1,
        "alert_type": alert_type,
        "event_tai": event_mjd,
        "event_date": event_date.isoformat(),
        "classification": gw_class,
        "far": far,
        "distmean": skymap.distmean,
        "diststd": skymap.diststd,
        "ra": skymap.ra,
        "decl": skymap.dec,
        "area10": skymap.areas[0.1],
        "area50": skymap.areas[0.5],
        "area90": skymap.areas[0.9],
        "active": True,
        "more_info": more_info,
        "params": json.dumps({**(params or {}), "far": far, "location": location}),
        "created": _now(),
    }
    try:
        mw_id = insert_record(store, "mma_areas", area, "mw_id", commit=False)
        maps = {
            "mw_id": mw_id,
            **{f"moc{int(p * 100)}": skymap.mocs[p].to_string(format="ascii") for p in skymap.mocs},
            "cells": skymap.region.to_bytes(),
        }
        upsert_rows(store, "mma_skymaps", list(maps), [tuple(maps.values())], ["mw_id"], False)
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    return mw_id, match_archive(store, mw_id, event_mjd, skymap.region)


def deactivate_event(store: Store, namespace: str, other_id: str) -> int:
    """Deactivate every map of an event; return how many were active."""
    ph = store.backend.placeholder
    rows = record_rows(
        store,
        "mma_areas",
        f'namespace = {ph} AND "otherId" = {ph} AND active = {ph}',
        (namespace, other_id, True),
    )
    for r in rows:
        update_row(store, "mma_areas", "mw_id", r["mw_id"], {"active": False}, False)
    store.con.commit()
    return len(rows)


def hit_rows(
    mw_id: int,
    region: Region,
    event_mjd: float,
    ids: list[Any],
    ra: np.ndarray,
    dec: np.ndarray,
    last_mjd: np.ndarray,
    host: np.ndarray,
) -> list[tuple[Any, ...]]:
    """``mma_area_hits`` rows (mw_id, object, contour, distance, probdens2, probdens3) of
    the objects inside the 90 % region detected within :data:`ACTIVE_DAYS` of the event."""
    recent = (last_mjd >= event_mjd) & (last_mjd <= event_mjd + ACTIVE_DAYS)
    take = np.flatnonzero(recent)
    if not len(take):
        return []
    v = values_at(region, ra[take], dec[take])
    d = np.asarray(host, dtype=np.float64)[take]
    p3 = probdens3(v.probdens2, d, v.dist_mean, v.dist_std)
    inside = np.flatnonzero(v.inside)
    return [
        (
            mw_id,
            ids[take[i]],
            round(float(v.contour[i]), 2),
            _none(round(float(d[i]), 3)),
            round(float(v.probdens2[i]), 5),
            _none(round(float(p3[i]), 5)),
        )
        for i in inside.tolist()
    ]


def write_hits(store: Store, rows: list[tuple[Any, ...]], commit: bool = True) -> int:
    oid = store.object_id_column
    cols = ["mw_id", oid, "contour", "distance", "probdens2", "probdens3"]
    return upsert_rows(store, "mma_area_hits", cols, rows, ["mw_id", oid], commit)


def match_archive(store: Store, mw_id: int, event_mjd: float, region: Region) -> int:
    """Hits of one map over the archive's objects detected soon after the event."""
    rows: list[tuple[Any, ...]] = []
    for chunk in object_chunks(store, (event_mjd, event_mjd + ACTIVE_DAYS), with_distance=True):
        rows += hit_rows(
            mw_id, region, event_mjd, chunk.ids, chunk.ra, chunk.dec, chunk.last_mjd, chunk.distance
        )
    write_hits(store, rows)
    return len(rows)


@dataclass(frozen=True)
class ActiveMap:
    mw_id: int
    event_mjd: float
    region: Region


def active_maps(store: Store, cache: dict[int, ActiveMap] | None = None) -> list[ActiveMap]:
    """The active maps with their 90 % regions (read once per map when ``cache`` is kept)."""
    ph = store.backend.placeholder
    rows = store.con.execute(
        f"SELECT mw_id, event_tai FROM mma_areas WHERE active = {ph}", (True,)
    ).fetchall()
    out = []
    for mw_id, event in rows:
        known = cache.get(int(mw_id)) if cache is not None else None
        if known is None:
            cells = store.con.execute(
                f"SELECT cells FROM mma_skymaps WHERE mw_id = {ph}", (mw_id,)
            ).fetchone()
            known = ActiveMap(int(mw_id), float(event), Region.from_bytes(bytes(cells[0])))
            if cache is not None:
                cache[known.mw_id] = known
        out.append(known)
    store.con.commit()
    if cache is not None:
        for stale in set(cache) - {m.mw_id for m in out}:
            del cache[stale]  # superseded or retracted
    return out
