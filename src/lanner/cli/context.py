"""``lanner context`` (sky context of a position or object) and ``lanner catalog`` (import
and list catalogues of the context library).

Input: command-line arguments. Output: text or JSON on stdout. Side effects:
``catalog import`` writes a catalogue directory into the chosen library.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import numpy as np

LIBRARY_ENV = "LANNER_CATALOGS"


def _libraries(extra: tuple[Path, ...], no_default: bool) -> list[Path]:
    from lanner.enrich.context import default_library

    libs = [] if no_default else [default_library()]
    env = os.environ.get(LIBRARY_ENV)
    if env:
        libs.append(Path(env))
    libs.extend(extra)
    return libs


# Negative declinations ("-16.7") must read as the DEC argument, not as an option.
@click.command("context", context_settings={"ignore_unknown_options": True})
@click.argument("ra", type=float, required=False)
@click.argument("dec", type=float, required=False)
@click.option("--object", "object_id", help="Object id: classify its stored position.")
@click.option(
    "--db",
    "db_url",
    default=None,
    help="Database of --object: sqlite:///file.db or postgresql://... (default: $LANNER_DB).",
)
@click.option(
    "--survey",
    type=click.Choice(["ztf", "lsst"]),
    default="ztf",
    show_default=True,
    help="Survey whose synonym radius applies.",
)
@click.option(
    "--library",
    "libraries",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False),
    help=f"Extra catalogue library (also ${LIBRARY_ENV}); repeatable.",
)
@click.option("--no-default-library", is_flag=True, help="Leave out the packaged library.")
@click.option("--json", "as_json", is_flag=True, help="Print the context row as JSON.")
def context_command(
    ra: float | None,
    dec: float | None,
    object_id: str | None,
    db_url: str | None,
    survey: str,
    libraries: tuple[Path, ...],
    no_default_library: bool,
    as_json: bool,
) -> None:
    """Sky context (Sherlock classification) of position RA DEC [deg] or of --object ID."""
    from lanner.enrich.context import ContextClassifier

    if object_id is not None:
        if ra is not None or dec is not None:
            raise click.UsageError("give either RA DEC or --object, not both")
        ra, dec, survey = _object_position(object_id, db_url, survey)
    elif ra is None or dec is None:
        raise click.UsageError("give RA DEC (deg) or --object ID")
    classifier = ContextClassifier(_libraries(libraries, no_default_library))
    try:
        row = classifier.classify(np.array([ra]), np.array([dec]), survey=survey).to_pylist()[0]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({"ra": ra, "dec": dec, **row}, indent=2))
        return
    click.echo(f"{row['classification']}  {row['description']}")
    for key, value in row.items():
        if value is not None and key not in ("classification", "description", "summary"):
            click.echo(f"  {key}: {value}")


def _object_position(object_id: str, db_url: str | None, survey: str) -> tuple[float, float, str]:
    """Stored position [deg] of ``object_id`` and the survey of its database."""
    from lanner.settings import Settings
    from lanner.store import StoreError, open_store
    from lanner.store.reading import object_position

    url = Settings.for_db(db_url).db_url
    try:
        store = open_store(url, create=False)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        survey = store.survey or survey
        key: str | int = int(object_id) if survey == "lsst" else object_id
        position = object_position(store, key)
    finally:
        store.close()
    if position is None:
        raise click.ClickException(f"object {object_id} is not in the database {url}")
    return position[0], position[1], survey


@click.group("catalog")
def catalog_group() -> None:
    """Manage the catalogues of the sky-context library."""


@catalog_group.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--role",
    required=True,
    type=click.Choice(["bright_star", "star", "cv", "agn", "galaxy"]),
    help="What the catalogue holds (sets its synonym and association classes).",
)
@click.option("--ra", required=True, help="RA column or SQL expression [deg].")
@click.option("--dec", required=True, help="Dec column or SQL expression [deg].")
@click.option("--id", "object_id", help="Object identifier column/expression.")
@click.option("--type", "object_type", help="Catalogue's own object type column.")
@click.option("--mag", help="Magnitude column/expression [mag].")
@click.option("--mag-filter", default="", help="Band of --mag (for example G, B, r).")
@click.option("--z", help="Spectroscopic redshift column/expression.")
@click.option("--distance", help="Redshift-independent distance column/expression [Mpc].")
@click.option("--major-axis", help="Galaxy size column/expression.")
@click.option(
    "--axis-unit",
    type=click.Choice(["arcsec", "arcmin", "deg"]),
    default="arcsec",
    show_default=True,
)
@click.option(
    "--axis-is-diameter", is_flag=True, help="--major-axis is a diameter, not a semi-axis."
)
@click.option("--where", help="SQL condition selecting the rows to import.")
@click.option(
    "--priority",
    type=int,
    default=1,
    show_default=True,
    help="Trust when one source is in several catalogues (higher wins).",
)
@click.option("--synonym-radius", type=float, help="Own synonym radius [arcsec].")
@click.option(
    "--max-rows",
    type=int,
    default=250_000,
    show_default=True,
    help="Most rows per HEALPix partition.",
)
@click.option("--description", default="", help="One line on the catalogue and its licence.")
@click.option(
    "--library",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Library to import into (default ${LIBRARY_ENV}).",
)
def catalog_import(name: str, file: Path, role: str, library: Path | None, **opts: object) -> None:
    """Import table FILE (CSV, Parquet or FITS) as catalogue NAME."""
    from lanner.enrich.context.catalogue_import import (
        CatalogueImportError,
        ColumnMap,
        ImportOptions,
        import_catalogue,
    )

    target = library or (Path(os.environ[LIBRARY_ENV]) if LIBRARY_ENV in os.environ else None)
    if target is None:
        raise click.UsageError(f"give --library or set ${LIBRARY_ENV}")

    def text(key: str) -> str | None:
        value = opts.get(key)
        return None if value is None else str(value)

    cmap = ColumnMap(
        ra=str(opts["ra"]),
        dec=str(opts["dec"]),
        object_id=text("object_id"),
        object_type=text("object_type"),
        mag=text("mag"),
        z=text("z"),
        distance=text("distance"),
        semi_major=text("major_axis"),
        axis_unit=str(opts["axis_unit"]),
        axis_is_diameter=bool(opts["axis_is_diameter"]),
        where=text("where"),
    )
    synonym = text("synonym_radius")
    options = ImportOptions(
        role=role,
        mag_filter=str(opts["mag_filter"]),
        priority=int(str(opts["priority"])),
        synonym_radius_arcsec=None if synonym is None else float(synonym),
        description=str(opts["description"]),
        max_rows=int(str(opts["max_rows"])),
    )
    try:
        root = import_catalogue(name, file, target, cmap, options)
    except CatalogueImportError as exc:
        raise click.ClickException(str(exc)) from exc
    from lanner.enrich.context.catalogue_store import CatalogueStore

    store = CatalogueStore(root)
    click.echo(f"{name}: {store.n_rows} rows in {len(store.index)} partitions -> {root}")


@catalog_group.command("list")
@click.option("--library", "libraries", multiple=True, type=click.Path(path_type=Path))
@click.option("--no-default-library", is_flag=True)
def catalog_list(libraries: tuple[Path, ...], no_default_library: bool) -> None:
    """List the catalogues of the libraries: name, role, rows, partitions, source."""
    from lanner.enrich.context.catalogue_store import CatalogueStore

    for lib in _libraries(libraries, no_default_library):
        click.echo(f"# {lib}")
        for d in sorted(p for p in lib.iterdir() if (p / "properties").is_file()):
            s = CatalogueStore(d)
            p = s.properties
            click.echo(
                f"{s.name:12s} {p.get('lanner_role', '?'):12s} {s.n_rows:>9d} rows "
                f"{len(s.index):>4d} partitions  {p.get('lanner_source_file', '')}"
            )
