"""Declared columns of ``sherlock_classifications`` (Lasair's names), one row per object.

The object id column (``objectId`` / ``diaObjectId``) is added by the store from the alerts;
these are the columns the sky-context enricher produces.
"""

from __future__ import annotations

from lanner.schema.columns import Column

PRODUCER = "sherlock"


def _c(name: str, type_: str, description: str, unit: str | None = None) -> Column:
    return Column(name, type_, description, unit, PRODUCER)  # type: ignore[arg-type]


SHERLOCK_COLUMNS: tuple[Column, ...] = (
    _c(
        "classification",
        "text",
        "Top-ranked context class: VS, CV, BS, AGN, NT, SN or ORPHAN (NULL: no valid position)",
    ),
    _c("association_type", "text", "Class given by the top-ranked match (as classification)"),
    _c(
        "classificationReliability",
        "int",
        "1 synonym, 2 association backed by a distance or size, 3 angular-only association",
    ),
    _c("description", "text", "One-sentence, human-readable account of the context"),
    _c("summary", "text", "Short quick-look form of the context"),
    _c(
        "catalogue_table_name",
        "text",
        "Catalogue(s) of the best match; several joined by / when one source is in each",
    ),
    _c("catalogue_object_id", "text", "Identifier of the best match in its catalogue"),
    _c("catalogue_object_type", "text", "Kind of source matched: star, cv, agn or galaxy"),
    _c(
        "catalogue_object_subtype",
        "text",
        "Catalogue's own type of the source (variable-star type, blazar class, ...)",
    ),
    _c("catalogue_ra", "double", "Right ascension of the matched source", "deg"),
    _c("catalogue_dec", "double", "Declination of the matched source", "deg"),
    _c("separationArcsec", "float", "Angular separation from the matched source", "arcsec"),
    _c(
        "northSeparationArcsec",
        "float",
        "Offset of the transient north of the matched source (tangent plane)",
        "arcsec",
    ),
    _c(
        "eastSeparationArcsec",
        "float",
        "Offset of the transient east of the matched source (tangent plane)",
        "arcsec",
    ),
    _c(
        "physical_separation_kpc",
        "float",
        "Projected separation from the matched source at its distance",
        "kpc",
    ),
    _c("z", "float", "Spectroscopic redshift of the matched source"),
    _c("photoZ", "float", "Photometric redshift of the matched source"),
    _c("photoZErr", "float", "Uncertainty of photoZ"),
    _c(
        "distance",
        "float",
        "Best distance of the matched source: direct if known, else luminosity distance of z",
        "Mpc",
    ),
    _c(
        "distance_source",
        "text",
        "Where distance comes from: 'direct:<catalogue>' or 'redshift:<catalogue>'",
    ),
    _c(
        "direct_distance",
        "float",
        "Redshift-independent distance of the matched source (Cepheids, TRGB, ...)",
        "Mpc",
    ),
    _c("Mag", "float", "Catalogue magnitude of the matched source", "mag"),
    _c("MagFilter", "text", "Band of Mag"),
    _c("MagErr", "float", "Uncertainty of Mag", "mag"),
    _c("major_axis_arcsec", "float", "Major axis (diameter) of the matched galaxy", "arcsec"),
)
