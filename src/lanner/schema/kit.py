"""Declarations of the "kit" tables that filters join on the object id.

These tables hold sky context that later stages fill (TNS cross-matches, watchlist and
watchmap hits, annotations) and the watchlist/watchmap records whose owner and public flag
decide who may filter on them. They are declared here, as data, so that the store creates
them, the filter language can join and validate them, and tests can fill them before the
stages that write them exist.

Names follow Lasair (lsst-uk/lasair-lsst ``common/schema/lasair_schema``) so that a filter
written for Lasair runs unchanged; the object id column is the survey's
(:data:`lanner.batch.OBJECT_ID_COLUMN`: ``objectId`` for ZTF, ``diaObjectId`` for Rubin).

Input: a survey name. Output: :class:`~lanner.schema.columns.Table` declarations. No side
effects.
"""

from __future__ import annotations

from lanner.schema.columns import Column, ColumnType, Table
from lanner.surveys import OBJECT_ID_COLUMN

#: Producers of the kit tables (the stages that will fill them).
TNS_PRODUCER = "tns"
WATCHLIST_PRODUCER = "watchlists"
WATCHMAP_PRODUCER = "watchmaps"
ANNOTATION_PRODUCER = "annotations"


def _object_id(survey: str, producer: str) -> Column:
    kind: ColumnType = "text" if survey == "ztf" else "bigint"
    return Column(
        OBJECT_ID_COLUMN[survey],
        kind,
        "Object identifier (ZTF objectId / Rubin diaObjectId)",
        producer=producer,
        nullable=False,
    )


def crossmatch_tns_table(survey: str) -> Table:
    """The Transient Name Server catalogue (one row per TNS entry).

    It carries no object id: as in Lasair, objects reach it through the hits of the TNS
    watchlist (``watchlist_hits.name = crossmatch_tns.tns_name``).
    """
    p = TNS_PRODUCER
    cols = (
        Column(
            "tns_name", "text", "TNS name without prefix, e.g. 2021iru", producer=p, nullable=False
        ),
        Column("tns_prefix", "text", "TNS prefix, e.g. SN or AT", producer=p),
        Column("ra", "double", "Right ascension of the TNS entry", "deg", p),
        Column("decl", "double", "Declination of the TNS entry", "deg", p),
        Column("type", "text", "Astrophysical type, e.g. SN Ia", producer=p),
        Column("z", "double", "Redshift of the transient", producer=p),
        Column("hostz", "double", "Redshift of the host galaxy", producer=p),
        Column("host_name", "text", "Name of the host galaxy", producer=p),
        Column("disc_mag", "double", "Discovery magnitude", "mag", p),
        Column("disc_mag_filter", "text", "Band of the discovery magnitude", producer=p),
        Column("disc_int_name", "text", "Discoverer's internal name", producer=p),
        Column("disc_date", "timestamp", "Discovery date (UTC)", producer=p),
        Column("disc_mjd", "double", "Discovery date", "MJD", p),
        Column("lastmodified_date", "timestamp", "Last modified on TNS (UTC)", producer=p),
        Column("sender", "text", "Who sent the report to TNS", producer=p),
        Column("reporters", "text", "Reporters of the discovery", producer=p),
        Column("source_group", "text", "Group that reported the discovery", producer=p),
        Column("ext_catalogs", "text", "External catalogues listing the object", producer=p),
    )
    return Table(
        "crossmatch_tns",
        "Transient Name Server entries, matched to objects through the TNS watchlist",
        cols,
        primary_key=("tns_name",),
        filterable=True,
        position=("ra", "decl"),
    )


def watchlist_hits_table(survey: str) -> Table:
    """Objects that fell within a cone of a watchlist."""
    p = WATCHLIST_PRODUCER
    oid = OBJECT_ID_COLUMN[survey]
    cols = (
        _object_id(survey, p),
        Column("wl_id", "int", "Watchlist identifier", producer=p, nullable=False),
        Column(
            "cone_id", "bigint", "Cone identifier within the watchlist", producer=p, nullable=False
        ),
        Column("arcsec", "double", "Distance from the object to the cone centre", "arcsec", p),
        Column("name", "text", "Name of the cone given by the watchlist owner", producer=p),
    )
    return Table(
        "watchlist_hits",
        "Matches of objects against the cones of watchlists",
        cols,
        primary_key=(oid, "wl_id", "cone_id"),
        indexes=(("wl_id",),),
        filterable=True,
    )


def area_hits_table(survey: str) -> Table:
    """Objects that fell inside a watchmap (a sky area, a MOC)."""
    p = WATCHMAP_PRODUCER
    oid = OBJECT_ID_COLUMN[survey]
    cols = (
        _object_id(survey, p),
        Column("ar_id", "int", "Watchmap (area) identifier", producer=p, nullable=False),
    )
    return Table(
        "area_hits",
        "Objects inside the sky areas of watchmaps",
        cols,
        primary_key=(oid, "ar_id"),
        indexes=(("ar_id",),),
        filterable=True,
    )


def _annotation_columns(survey: str) -> tuple[Column, ...]:
    p = ANNOTATION_PRODUCER
    return (
        _object_id(survey, p),
        Column("topic", "text", "Annotator topic name", producer=p, nullable=False),
        Column("version", "text", "Version of the annotator software", producer=p),
        Column("timestamp", "timestamp", "When the annotation was stored (UTC)", producer=p),
        Column("mjd", "double", "When the annotation was stored", "MJD", p),
        Column(
            "classification",
            "text",
            "Short classification given by the annotator",
            producer=p,
            nullable=False,
        ),
        Column("explanation", "text", "Natural-language explanation", producer=p),
        Column(
            "classdict",
            "text",
            "Machine-readable details, a JSON object; read with JSON_EXTRACT(classdict, '$.key')",
            producer=p,
        ),
        Column("url", "text", "Link to more information", producer=p),
    )


def annotations_table(survey: str) -> Table:
    """Classifications that annotators (external classifiers) attach to objects: the
    latest of each object and topic."""
    oid = OBJECT_ID_COLUMN[survey]
    cols = (
        Column(
            "annotationID",
            "bigint",
            "Id of this version in annotation_history",
            producer=ANNOTATION_PRODUCER,
        ),
        *_annotation_columns(survey),
    )
    return Table(
        "annotations",
        "One annotation per object and annotator topic (the latest)",
        cols,
        primary_key=(oid, "topic"),
        indexes=(("topic",),),
        filterable=True,
    )


def annotation_history_table(survey: str) -> Table:
    """Every annotation ever written, the current ones included, oldest first by id."""
    oid = OBJECT_ID_COLUMN[survey]
    cols = (
        Column(
            "annotationID",
            "bigint",
            "Annotation id",
            producer=ANNOTATION_PRODUCER,
            nullable=False,
            identity=True,
        ),
        *_annotation_columns(survey),
    )
    return Table(
        "annotation_history",
        "Every version of every annotation (the current ones are in annotations)",
        cols,
        primary_key=("annotationID",),
        indexes=((oid, "topic"), ("topic", "mjd")),
        filterable=True,
    )


def annotators_table(survey: str) -> Table:
    """Annotator records: a topic, its owner, and whether others may see it."""
    p = ANNOTATION_PRODUCER
    cols = (
        Column("topic", "text", "Annotator topic name", producer=p, nullable=False),
        Column("owner_id", "bigint", "User id of the owner", producer=p, nullable=False),
        Column("description", "text", "What the annotator does", producer=p),
        Column("public", "bool", "Visible to every user", producer=p, nullable=False),
        Column("active", "bool", "Accepts annotations", producer=p, nullable=False),
        Column("created", "timestamp", "Creation time (UTC)", producer=p),
    )
    return Table("annotators", "Annotators (topics) and their owners", cols, ("topic",))


def annotator_writers_table(survey: str) -> Table:
    """Users an annotator's owner allowed to write to it."""
    p = ANNOTATION_PRODUCER
    cols = (
        Column("topic", "text", "Annotator topic name", producer=p, nullable=False),
        Column("user_id", "bigint", "User allowed to write", producer=p, nullable=False),
    )
    return Table(
        "annotator_writers",
        "Users allowed to write to an annotator besides its owner",
        cols,
        primary_key=("topic", "user_id"),
    )


def watchlists_table(survey: str) -> Table:
    """Watchlist records: who owns each one and whether others may filter on it."""
    p = WATCHLIST_PRODUCER
    cols = (
        Column("wl_id", "int", "Watchlist identifier", producer=p, nullable=False, identity=True),
        Column("owner_id", "int", "User id of the owner", producer=p, nullable=False),
        Column("name", "text", "Watchlist name", producer=p, nullable=False),
        Column("description", "text", "What the watchlist is for", producer=p),
        Column("public", "bool", "Visible to every user's filters", producer=p, nullable=False),
        Column("active", "bool", "Matched against incoming alerts", producer=p, nullable=False),
        Column("radius", "double", "Default cone radius", "arcsec", p),
        Column("created", "timestamp", "Creation time (UTC)", producer=p),
        Column("modified", "timestamp", "Last change of the cones or flags (UTC)", producer=p),
        Column("expires", "timestamp", "When an active watchlist stops (UTC)", producer=p),
        Column("ncones", "int", "Number of cones", producer=p),
    )
    return Table("watchlists", "Watchlists of cones", cols, primary_key=("wl_id",))


def watchlist_cones_table(survey: str) -> Table:
    """The cones of every watchlist (Lasair's ``watchlist_cones``)."""
    p = WATCHLIST_PRODUCER
    cols = (
        Column("wl_id", "int", "Watchlist identifier", producer=p, nullable=False),
        Column(
            "cone_id",
            "bigint",
            "Cone number within the watchlist (1, 2, ...)",
            producer=p,
            nullable=False,
        ),
        Column("name", "text", "Name of the cone", producer=p),
        Column("ra", "double", "Right ascension of the cone centre", "deg", p, nullable=False),
        Column("decl", "double", "Declination of the cone centre", "deg", p, nullable=False),
        Column("radius", "double", "Cone radius (NULL: the watchlist's default)", "arcsec", p),
    )
    return Table("watchlist_cones", "Cones of watchlists", cols, primary_key=("wl_id", "cone_id"))


def watchmaps_table(survey: str) -> Table:
    """Watchmap (sky area) records: owner and public flag."""
    p = WATCHMAP_PRODUCER
    cols = (
        Column(
            "ar_id", "int", "Watchmap (area) identifier", producer=p, nullable=False, identity=True
        ),
        Column("owner_id", "int", "User id of the owner", producer=p, nullable=False),
        Column("name", "text", "Watchmap name", producer=p, nullable=False),
        Column("description", "text", "What the watchmap is for", producer=p),
        Column("public", "bool", "Visible to every user's filters", producer=p, nullable=False),
        Column("active", "bool", "Matched against incoming alerts", producer=p, nullable=False),
        Column("created", "timestamp", "Creation time (UTC)", producer=p),
        Column("modified", "timestamp", "Last change of the area or flags (UTC)", producer=p),
        Column("expires", "timestamp", "When an active watchmap stops (UTC)", producer=p),
        Column("area", "double", "Area of the MOC", "deg2", p),
        Column("moc", "text", "The sky area, a MOC in ASCII serialisation", producer=p),
    )
    return Table("watchmaps", "Watchmaps: sky areas given as MOCs", cols, primary_key=("ar_id",))


def kit_tables(survey: str) -> dict[str, Table]:
    """All kit tables of ``survey`` by name (filterable and bookkeeping ones)."""
    from lanner.schema.mma import mma_tables

    tables = [
        crossmatch_tns_table(survey),
        watchlist_hits_table(survey),
        area_hits_table(survey),
        annotations_table(survey),
        annotation_history_table(survey),
        annotators_table(survey),
        annotator_writers_table(survey),
        watchlists_table(survey),
        watchlist_cones_table(survey),
        watchmaps_table(survey),
        *mma_tables(survey),
    ]
    return {t.name: t for t in tables}


def filterable_kit_tables(survey: str) -> dict[str, Table]:
    """The kit tables users may name in filters."""
    return {name: t for name, t in kit_tables(survey).items() if t.filterable}
