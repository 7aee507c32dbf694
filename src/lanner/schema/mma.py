"""Declarations of the multi-messenger tables: sky maps of gravitational-wave (and other)
events, the notices that brought them, and the objects inside them.

Names follow Lasair (``mma_areas``, ``mma_area_hits``); ``mma_area_hits`` is keyed by
(map, object), so one object can sit in several maps. ``mma_areas`` and ``mma_area_hits``
may be named in filters; the notices and the maps' pixels are bookkeeping.

Input: a survey name. Output: :class:`~lanner.schema.columns.Table` declarations. No side
effects.
"""

from __future__ import annotations

from lanner.schema.columns import Column, ColumnType, Table
from lanner.surveys import OBJECT_ID_COLUMN

MMA_PRODUCER = "skymaps"


def mma_areas_table(survey: str) -> Table:
    """One row per version of an event's sky map."""
    p = MMA_PRODUCER
    cols = (
        Column("mw_id", "int", "Sky-map identifier", producer=p, nullable=False, identity=True),
        Column("namespace", "text", "Who issued the event, e.g. LVK", producer=p, nullable=False),
        Column(
            "otherId",
            "text",
            "Event id in that namespace, e.g. S230528ay",
            producer=p,
            nullable=False,
        ),
        Column(
            "version",
            "int",
            "Version of the map for this event (1, 2, ...)",
            producer=p,
            nullable=False,
        ),
        Column("alert_type", "text", "Notice type: PRELIMINARY, INITIAL, UPDATE, ...", producer=p),
        Column("event_tai", "double", "Time of the event", "MJD", p),
        Column("event_date", "timestamp", "Time of the event (UTC)", producer=p),
        Column(
            "classification", "text", "Most probable source class (BNS, NSBH, BBH, ...)", producer=p
        ),
        Column("far", "double", "False-alarm rate", "Hz", p),
        Column("distmean", "double", "Posterior mean distance", "Mpc", p),
        Column("diststd", "double", "Posterior standard deviation of distance", "Mpc", p),
        Column("ra", "double", "Right ascension of the most probable pixel", "deg", p),
        Column("decl", "double", "Declination of the most probable pixel", "deg", p),
        Column("area10", "double", "Area of the 10% credible region", "deg2", p),
        Column("area50", "double", "Area of the 50% credible region", "deg2", p),
        Column("area90", "double", "Area of the 90% credible region", "deg2", p),
        Column(
            "active",
            "bool",
            "Matched against incoming alerts (false once superseded or retracted)",
            producer=p,
            nullable=False,
        ),
        Column("more_info", "text", "Link to the event page", producer=p),
        Column(
            "params",
            "text",
            "JSON: classification probabilities, properties, far, location",
            producer=p,
        ),
        Column("created", "timestamp", "When the map was stored (UTC)", producer=p),
    )
    return Table(
        "mma_areas",
        "Multi-messenger sky maps (gravitational waves, gamma-ray bursts)",
        cols,
        primary_key=("mw_id",),
        indexes=(("otherId",),),
        filterable=True,
        position=("ra", "decl"),
    )


def mma_skymaps_table(survey: str) -> Table:
    """The credible-region MOCs and the 90% region's pixels of each map."""
    p = MMA_PRODUCER
    cols = (
        Column("mw_id", "int", "Sky-map identifier", producer=p, nullable=False),
        Column("moc10", "text", "10% credible region, ASCII MOC", producer=p),
        Column("moc50", "text", "50% credible region, ASCII MOC", producer=p),
        Column("moc90", "text", "90% credible region, ASCII MOC", producer=p),
        Column(
            "cells",
            "blob",
            "The 90% region's multi-order pixels (npz: uniq, "
            "probdensity, level, distmu, distsigma)",
            producer=p,
        ),
    )
    return Table("mma_skymaps", "Credible regions of the sky maps", cols, primary_key=("mw_id",))


def mma_notices_table(survey: str) -> Table:
    """Every notice received, with what was done with it."""
    p = MMA_PRODUCER
    cols = (
        Column(
            "notice_id",
            "int",
            "Notice number (order of arrival)",
            producer=p,
            nullable=False,
            identity=True,
        ),
        Column("superevent_id", "text", "Event id", producer=p, nullable=False),
        Column(
            "alert_type",
            "text",
            "EARLYWARNING, PRELIMINARY, INITIAL, UPDATE or RETRACTION",
            producer=p,
            nullable=False,
        ),
        Column(
            "time_created",
            "text",
            "When the notice was issued (ISO 8601)",
            producer=p,
            nullable=False,
        ),
        Column("event_time", "text", "Time of the event (ISO 8601)", producer=p),
        Column("group", "text", "CBC or Burst", producer=p),
        Column("pipeline", "text", "Detection pipeline", producer=p),
        Column("classification", "text", "JSON of the class probabilities (CBC only)", producer=p),
        Column("far", "double", "False-alarm rate", "Hz", p),
        Column("distmean", "double", "Posterior mean distance", "Mpc", p),
        Column("diststd", "double", "Posterior standard deviation of distance", "Mpc", p),
        Column("ra", "double", "Right ascension of the most probable pixel", "deg", p),
        Column("decl", "double", "Declination of the most probable pixel", "deg", p),
        Column("area90", "double", "Area of the 90% credible region", "deg2", p),
        Column("mw_id", "int", "The sky map stored from this notice, if any", producer=p),
        Column(
            "decision",
            "text",
            "What was done: stored, not selected (why), retraction, no sky map",
            producer=p,
        ),
        Column("received", "timestamp", "When Lanner received it (UTC)", producer=p),
    )
    return Table(
        "mma_notices",
        "Multi-messenger notices received",
        cols,
        primary_key=("notice_id",),
        indexes=(("superevent_id",),),
    )


def mma_area_hits_table(survey: str) -> Table:
    """Objects inside the 90% credible region of a map, detected soon after the event."""
    p = MMA_PRODUCER
    kind: ColumnType = "text" if survey == "ztf" else "bigint"
    oid = OBJECT_ID_COLUMN[survey]
    cols = (
        Column("mw_id", "int", "Sky-map identifier", producer=p, nullable=False),
        Column(
            oid,
            kind,
            "Object identifier (ZTF objectId / Rubin diaObjectId)",
            producer=p,
            nullable=False,
        ),
        Column(
            "contour",
            "double",
            "Searched credible level at the object: the probability "
            "of the pixels denser than its own, and its own",
            "percent",
            p,
        ),
        Column("distance", "double", "Distance of the host from the sky context", "Mpc", p),
        Column("probdens2", "double", "Sky-map probability density at the object", "sr-1", p),
        Column(
            "probdens3",
            "double",
            "probdens2 weighted by exp(-((m - d)/s)^2 / 2), with d "
            "the host distance and (m, s) the map's distance mean and spread on that line "
            "of sight; NULL without both",
            "sr-1",
            p,
        ),
    )
    return Table(
        "mma_area_hits",
        "Objects inside multi-messenger sky maps",
        cols,
        primary_key=("mw_id", oid),
        indexes=((oid,),),
        filterable=True,
    )


def mma_tables(survey: str) -> list[Table]:
    """The multi-messenger tables of ``survey``."""
    return [
        mma_areas_table(survey),
        mma_skymaps_table(survey),
        mma_notices_table(survey),
        mma_area_hits_table(survey),
    ]
