"""The stored tables of a Lanner database, per survey.

The light-curve, cutout and bookkeeping tables are declared here; the ``objects`` table and
the other enriched tables (``sherlock_classifications``, ...) take their columns from the
enrichers that fill them (see :func:`lanner.schema.registry.tables_for`).

Light-curve rows are keyed by the survey's own identity of each measurement, so that two
distinct sources of one object at one time (two diaSources of a visit) stay two rows, while
re-ingesting an alert, or a later alert repeating its history, adds nothing:

* ``detections``: (object id, ``source_id``), the ZTF ``candid`` / Rubin ``diaSourceId``;
* ``forced_photometry``: (object id, ``source_id``), the Rubin ``diaForcedSourceId`` / the ZTF
  ``pid`` of the image the photometry was forced on (one measurement per object and image);
* ``upper_limits``: (object id, ``mjd``, ``band``): ZTF non-detections and Rubin
  ``prvDiaNondetectionLimits`` carry no id of their own, and an object has one limit per
  exposure.

Every light-curve row also records which alert packet its values came from (``alert_mjd``,
``alert_id``) and a hash of its values (``digest``): when two packets carry different values
for one measurement, the newest packet wins (see :mod:`lanner.store.light_curves`).
"""

from __future__ import annotations

from lanner.schema.columns import Column, ColumnType, Table
from lanner.surveys import OBJECT_ID_COLUMN, Survey

#: Columns of the ``alerts`` table besides the object id: the triggering detection of each
#: alert, as :mod:`lanner.ingest` reads it, so that an archived alert can be filtered again.
ALERT_COLUMNS: tuple[Column, ...] = (
    Column("alert_id", "bigint", "ZTF candid / Rubin diaSourceId", nullable=False),
    Column("mjd", "double", "Time of the triggering observation", "MJD"),
    Column("ra", "double", "Right ascension of the triggering detection", "deg"),
    Column("dec", "double", "Declination of the triggering detection", "deg"),
    Column("band", "text", "Band of the triggering detection"),
    Column("flux", "double", "Difference flux of the triggering detection, signed", "nJy"),
    Column("flux_err", "double", "1-sigma error of flux", "nJy"),
    Column("mag", "double", "AB magnitude of |flux| (ZTF: magpsf)", "mag"),
    Column("mag_err", "double", "1-sigma error of mag (ZTF: sigmapsf)", "mag"),
    Column("reliability", "double", "Real/bogus score (ZTF drb or rb; Rubin reliability)"),
    Column("schema", "text", "Schema the packet was written with"),
    Column("origin", "text", "File, tarball member or topic/partition/offset"),
)
SURVEY_ALERT_COLUMNS: dict[str, tuple[Column, ...]] = {
    "ztf": (
        Column("ssnamenr", "text", "MPC name of the nearest Solar System object"),
        Column("sgscore1", "double", "Star/galaxy score of the closest PS1 source (1: star)"),
        Column("distpsnr1", "double", "Distance of the closest PS1 source", "arcsec"),
        Column("sgmag1", "double", "g PSF magnitude of the closest PS1 source", "mag"),
        Column("srmag1", "double", "r PSF magnitude of the closest PS1 source", "mag"),
        Column("isdiffpos", "bool", "Brighter than the template"),
        Column("ndethist", "int", "Number of detections in the survey's history"),
        Column("programid", "int", "ZTF programme (1 public, 2 partnership, 3 Caltech)"),
        Column("rb", "double", "RealBogus score"),
        Column("drb", "double", "Deep-learning RealBogus score"),
    ),
    "lsst": (
        Column("ssObjectId", "bigint", "Solar System object id, if associated"),
        Column("nDiaSources", "int", "diaObject.nDiaSources at alert time"),
        Column("diaObject_ra", "double", "diaObject mean RA at alert time", "deg"),
        Column("diaObject_dec", "double", "diaObject mean Dec at alert time", "deg"),
    ),
}


def object_id_column(survey: Survey, description: str = "Object id") -> Column:
    """The survey's object id column (ZTF ``objectId`` text, Rubin ``diaObjectId``)."""
    kind: ColumnType = "text" if survey == "ztf" else "bigint"
    return Column(OBJECT_ID_COLUMN[survey], kind, description, nullable=False)


#: Version of the light-curve tables' layout (keys by source identity, packet provenance).
#: Databases made before it are upgraded by :func:`lanner.store.upgrade.upgrade_light_curves`.
LIGHT_CURVE_LAYOUT = 2

#: The tables holding light curves: archive table -> attribute of :class:`~lanner.batch.AlertBatch`.
LIGHT_CURVE_ATTRIBUTES = {
    "detections": "detections",
    "forced_photometry": "forced",
    "upper_limits": "upper_limits",
}


def light_curve_tables(survey: Survey) -> list[Table]:
    oid = object_id_column(survey)
    mjd = Column(
        "mjd", "double", "Time of the observation (ZTF: UTC, Rubin: TAI)", "MJD", nullable=False
    )
    band = Column("band", "text", "Band: g, r, i (ZTF); u, g, r, i, z, y (Rubin)", nullable=False)
    flux = Column("flux", "double", "Difference-image flux, signed", "nJy")
    flux_err = Column("flux_err", "double", "1-sigma error of flux", "nJy")
    provenance = (
        Column(
            "alert_mjd",
            "double",
            "Time of the alert whose packet gave these values (the newest packet wins)",
            "MJD",
        ),
        Column("alert_id", "bigint", "Id of that alert (ZTF candid / Rubin diaSourceId)"),
        Column(
            "digest",
            "bigint",
            "64-bit hash of the row's values: tells the store a repeated row is unchanged",
        ),
    )
    return [
        Table(
            "detections",
            "Every detection seen in any alert of the object (triggering and history).",
            (
                oid,
                Column("source_id", "bigint", "ZTF candid / Rubin diaSourceId", nullable=False),
                mjd,
                band,
                Column("ra", "double", "Right ascension", "deg"),
                Column("dec", "double", "Declination", "deg"),
                flux,
                flux_err,
                Column("mag", "double", "AB magnitude of |flux| (ZTF: magpsf)", "mag"),
                Column("mag_err", "double", "1-sigma error of mag (ZTF: sigmapsf)", "mag"),
                Column(
                    "reliability", "double", "Real/bogus score (ZTF drb or rb; Rubin reliability)"
                ),
                Column("is_positive", "bool", "Brighter than the template (ZTF isdiffpos)"),
                *provenance,
            ),
            primary_key=(oid.name, "source_id"),
        ),
        Table(
            "forced_photometry",
            "Forced photometry on difference images at the object's position.",
            (
                oid,
                Column(
                    "source_id",
                    "bigint",
                    "Rubin diaForcedSourceId / ZTF pid (processing id of the image)",
                    nullable=False,
                ),
                mjd,
                band,
                flux,
                flux_err,
                *provenance,
            ),
            primary_key=(oid.name, "source_id"),
        ),
        Table(
            "upper_limits",
            "Non-detections: 5-sigma limits where the object was observed and not seen.",
            (
                oid,
                mjd,
                band,
                Column("limit_mag", "double", "5-sigma limiting AB magnitude", "mag"),
                Column("limit_flux", "double", "5-sigma limiting flux", "nJy"),
                *provenance,
            ),
            primary_key=(oid.name, "mjd", "band"),
        ),
        Table(
            "light_curve_state",
            "Per object and light-curve table: what is stored, summarised, so that a packet "
            "repeating stored history is recognised without reading it back.",
            (
                oid,
                Column(
                    "light_curve",
                    "text",
                    "detections, forced_photometry or upper_limits",
                    nullable=False,
                ),
                Column("n_rows", "bigint", "Rows stored"),
                Column("set_hash", "bigint", "XOR of a 64-bit hash of each row's key and digest"),
                Column("max_mjd", "double", "Latest mjd of the rows", "MJD"),
                Column(
                    "max_alert_mjd", "double", "Newest packet among the rows' provenance", "MJD"
                ),
                Column("max_alert_id", "bigint", "Its alert id (ties of max_alert_mjd)"),
            ),
            primary_key=(oid.name, "light_curve"),
        ),
        Table(
            "cutouts",
            "Image stamps of each alert, stored once, as sent (ZTF: gzip-compressed FITS).",
            (
                oid,
                Column("alert_id", "bigint", "ZTF candid / Rubin diaSourceId", nullable=False),
                Column("kind", "text", "science, template or difference", nullable=False),
                Column("data", "blob", "The FITS file as sent (may be gzip-compressed)"),
            ),
            primary_key=("alert_id", "kind"),
            indexes=((oid.name,),),
        ),
        Table(
            "alerts",
            "One row per alert ingested: its triggering detection, schema and origin.",
            (
                ALERT_COLUMNS[0],
                oid,
                *ALERT_COLUMNS[1:],
                *SURVEY_ALERT_COLUMNS[survey],
                Column("ingested_at", "timestamp", "When Lanner stored it (UTC)"),
            ),
            primary_key=("alert_id",),
            # ingested_at: the status page's batches and alerts per minute.
            indexes=((oid.name,), ("mjd",), ("ingested_at",)),
        ),
    ]


def filter_tables(survey: Survey) -> list[Table]:
    """Users, their filters and what the filters matched."""
    oid = object_id_column(survey)
    return [
        Table(
            "users",
            "People who own filters, watchlists and watchmaps.",
            (
                Column("user_id", "bigint", "User id", nullable=False, identity=True),
                Column("username", "text", "Login name", nullable=False),
                Column("email", "text", "Where e-mail digests go"),
                Column("api_key_hash", "text", "SHA-256 of the user's API key"),
                Column("created", "timestamp", "When the account was made (UTC)"),
            ),
            primary_key=("user_id",),
            unique=(("username",),),
        ),
        Table(
            "filters",
            "Users' SQL filters: run on demand against the archive, or active on every batch.",
            (
                Column("filter_id", "bigint", "Filter id", nullable=False, identity=True),
                Column("owner_id", "bigint", "User id of the owner", nullable=False),
                Column("name", "text", "Name, unique per owner", nullable=False),
                Column("description", "text", "What the filter looks for"),
                Column("sql", "text", "The filter's SQL as the user wrote it", nullable=False),
                Column("public", "bool", "Visible to (and copyable by) everyone"),
                Column("active", "bool", "Runs on every incoming batch"),
                Column("output", "text", "Where matches go: none, kafka, email, webhook"),
                Column("output_options", "text", "Delivery settings (JSON)"),
                Column("created", "timestamp", "When it was made (UTC)"),
                Column("expires", "timestamp", "When an active filter stops unless renewed"),
            ),
            primary_key=("filter_id",),
            unique=(("owner_id", "name"),),
        ),
        Table(
            "delivery_quota",
            "Bytes each filter topic was sent per UTC day, for the daily quota.",
            (
                Column("topic", "text", "Kafka topic of the filter", nullable=False),
                Column("day", "text", "UTC date, YYYY-MM-DD", nullable=False),
                Column("bytes", "bigint", "Message bytes sent that day", "byte"),
            ),
            primary_key=("topic", "day"),
        ),
        Table(
            "filter_notices",
            "What a filter's owner is told: expiry, errors and time-outs in streaming.",
            (
                Column("notice_id", "bigint", "Notice id", nullable=False, identity=True),
                Column("filter_id", "bigint", "The filter", nullable=False),
                Column("created", "timestamp", "When (UTC)"),
                Column("kind", "text", "expired, error, timeout or delivery"),
                Column("message", "text", "What happened and what to do"),
                Column(
                    "day",
                    "text",
                    "UTC date (YYYY-MM-DD) of a notice given at most once a day per filter "
                    "and kind; empty for the others",
                ),
            ),
            primary_key=("notice_id",),
            indexes=(("filter_id",),),
            unique=(("filter_id", "kind", "day"),),
        ),
        Table(
            "filter_matches",
            "Every match of an active filter, with the values that made it fire; also the "
            "outbox its delivery is sent from (state, attempts, last error).",
            (
                Column("filter_id", "bigint", "The filter", nullable=False),
                Column("alert_id", "bigint", "The alert that matched", nullable=False),
                oid,
                Column("matched_at", "timestamp", "When it matched (UTC)"),
                Column("payload", "text", "The selected columns as sent (JSON)"),
                Column("why", "text", "Values of every column the WHERE clause used (JSON)"),
                Column(
                    "attachments",
                    "text",
                    "Light curve and alert sent with a lite or full payload (JSON), or empty",
                ),
                Column("channel", "text", "kafka, email, digest (daily e-mail), webhook or none"),
                Column(
                    "state",
                    "text",
                    "pending (to send), sent, failed (given up: see last_error) or none "
                    "(the filter has no output)",
                ),
                Column("attempts", "int", "Delivery attempts made"),
                Column("last_error", "text", "Why the last attempt failed"),
                Column("next_attempt", "timestamp", "Not retried before this time (UTC)"),
                Column(
                    "claimed_until",
                    "timestamp",
                    "A delivery worker is sending it until this time (UTC)",
                ),
                Column("sent_at", "timestamp", "When the channel acknowledged it (UTC)"),
            ),
            primary_key=("filter_id", "alert_id"),
            indexes=((oid.name,), ("state", "next_attempt")),
        ),
        Table(
            "dead_letters",
            "Packets a worker set aside, so a re-delivered one is dead-lettered once.",
            (
                Column("origin", "text", "topic/partition/offset or path", nullable=False),
                Column("reason", "text", "Why it could not be ingested"),
                Column("recorded_at", "timestamp", "When it was set aside (UTC)"),
            ),
            primary_key=("origin",),
        ),
    ]
