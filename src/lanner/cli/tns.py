"""``lanner tns import FILE`` and ``lanner tns refresh --full|--daily DATE|--hourly HH``:
keep the database's copy of the Transient Name Server up to date.

The commands parse arguments and call :mod:`lanner.tns` (reading, downloading, importing).
"""

from __future__ import annotations

from pathlib import Path

import click

from lanner.cli.options import SURVEY, db_option
from lanner.settings import Settings, option_help


def _import(data: bytes, db_url: str | None, survey: str | None, radius: float | None) -> None:
    from lanner.cli.pipeline_commands import background_delivery, report_delivery
    from lanner.filter.errors import FilterError
    from lanner.ingest.deadletter import FolderDeadLetters
    from lanner.pipeline import Pipeline
    from lanner.store import StoreError, open_store
    from lanner.tns.csv_file import TnsFormatError, read_tns_bytes
    from lanner.tns.importer import import_tns

    settings = Settings.for_db(db_url).with_overrides(tns_radius=radius)
    try:
        rows = read_tns_bytes(data)
    except TnsFormatError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        store = open_store(settings.db_url, survey)  # type: ignore[arg-type]
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        if store.survey is None:
            raise click.ClickException(
                "the database has no survey yet: ingest alerts first or pass --survey"
            )
        # No enrichers: the pipeline here only re-runs filters and records their matches,
        # which this process then delivers.
        delivery = background_delivery(settings)
        pipeline = Pipeline(
            store, FolderDeadLetters(settings.dead_letter_dir), enrichers=[], delivery=delivery
        )
        try:
            report = import_tns(
                store,
                rows,
                radius=settings.tns_radius,
                rerun=lambda ids: len(pipeline.rerun_tns(ids)),
            )
        finally:
            report_delivery(delivery.stop())
    except (FilterError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    rejected = ", ".join(f"{n} {reason}" for reason, n in report.rejected.items()) or "none"
    click.echo(
        f"TNS file of {report.timestamp or 'unknown time'}: {report.read} rows read "
        f"(set aside: {rejected}; repeated names: {report.repeated}); "
        f"{report.new} new, {report.changed} changed ({report.reclassified} reclassified, "
        f"{report.moved} moved), {report.unchanged} unchanged; {report.hits} archive matches, "
        f"{report.objects_named} objects named; filters re-run for {report.rerun_objects} "
        f"objects: {report.rerun_matches} matches; {report.seconds} s"
    )


radius_option = click.option(
    "--radius", type=float, default=None, help=option_help("tns_radius", "Match radius (arcsec).")
)
survey_option = click.option(
    "--survey", type=SURVEY, default=None, help="Survey of a new database."
)


@click.group("tns")
def tns_group() -> None:
    """The Transient Name Server's catalogue: import or refresh the copy filters read."""


@tns_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@survey_option
@radius_option
def import_command(
    path: Path, db_url: str | None, survey: str | None, radius: float | None
) -> None:
    """Import a TNS public objects CSV (or its .zip): upsert by name, match the archive,
    re-run the filters reading crossmatch_tns for reclassified entries."""
    _import(path.read_bytes(), db_url, survey, radius)


@tns_group.command("refresh")
@click.option("--full", is_flag=True, help="The whole catalogue (rebuilt daily by TNS).")
@click.option("--daily", metavar="YYYYMMDD", default=None, help="One day's new and changed rows.")
@click.option("--hourly", metavar="HH", type=int, default=None, help="One hour's rows (0-23).")
@db_option
@survey_option
@radius_option
def refresh_command(
    full: bool,
    daily: str | None,
    hourly: int | None,
    db_url: str | None,
    survey: str | None,
    radius: float | None,
) -> None:
    """Download a TNS public objects file with the bot's key, then import it."""
    from lanner.tns.download import TnsDownloadError, download, file_name

    try:
        name = file_name(full, daily, hourly)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    settings = Settings.for_db(db_url)
    try:
        data = download(settings, name)
    except TnsDownloadError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"downloaded {name}: {len(data)} bytes", err=True)
    _import(data, db_url, survey, radius)
