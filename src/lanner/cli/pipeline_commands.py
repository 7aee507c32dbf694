"""Commands that run the pipeline: ``run``, ``ingest`` and ``query``.

They parse arguments, build the stages from :class:`~lanner.settings.Settings` and call
:class:`~lanner.pipeline.Pipeline`; no pipeline logic lives here.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import cast

import click

from lanner.batch import Survey
from lanner.cli.output import emit
from lanner.distribute.channels import build_router
from lanner.filter.errors import FilterError
from lanner.ingest import assemble, iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.packets import RawPacket
from lanner.pipeline import Pipeline, RunSummary, chunked
from lanner.settings import Settings
from lanner.store import StoreError, open_store

SURVEY = click.Choice(["lsst", "ztf"])
db_option = click.option(
    "--db",
    "db_url",
    default=None,
    help="Database URL: sqlite:///file.db or postgresql://… "
    "(default: $LANNER_DB or the embedded SQLite file).",
)


def sample_alerts(survey: Survey) -> Path:
    """Folder of the real alerts shipped inside the package."""
    return Path(str(resources.files("lanner") / "data" / "alerts" / survey))


def ingest_paths(
    paths: list[Path], settings: Settings, survey: Survey | None, progress: bool
) -> RunSummary:
    """Run the whole pipeline over files, in batches, with an optional progress bar."""
    packets = list(iter_packets(paths))
    store = open_store(settings.db_url, survey or _first_survey(packets))
    sink = FolderDeadLetters(settings.dead_letter_dir)
    pipeline = Pipeline(
        store, sink, filter_timeout=settings.filter_timeout, max_rows=settings.max_rows
    )
    if store.survey is not None:
        pipeline.deliveries.append(build_router(settings, store.survey, store))
    try:
        if not progress:
            return pipeline.run(chunked(packets, settings.batch_size))
        with click.progressbar(length=len(packets), label="ingesting", file=sys.stderr) as bar:
            return pipeline.run(
                chunked(packets, settings.batch_size),
                on_batch=lambda r: bar.update(r.alerts + r.dead_letters),
            )
    finally:
        store.close()


def _first_survey(packets: list[RawPacket]) -> Survey | None:
    """Survey of the first alert that decodes (a new database takes it)."""
    for packet in packets:
        batch = assemble([packet]).batch
        if len(batch):
            return batch.survey
    return None


def print_summary(summary: RunSummary, settings: Settings) -> None:
    click.echo(f"alerts ingested : {summary.alerts}")
    click.echo(
        f"rejected        : {summary.dead_letters}"
        + (f" (dead letters in {settings.dead_letter_dir})" if summary.dead_letters else "")
    )
    store = open_store(settings.db_url)
    try:
        counts = store.counts()
    finally:
        store.close()
    click.echo(f"objects         : {counts.get('objects', 0)}")
    click.echo(
        f"filter matches  : {sum(summary.matches.values())}"
        + "".join(f"\n  {name}: {n}" for name, n in summary.matches.items())
    )
    for name, error in summary.filter_errors.items():
        click.echo(f"filter {name} failed: {error}", err=True)
    click.echo(f"database        : {settings.db_url}")


@click.command()
@click.option(
    "--survey",
    type=SURVEY,
    default="lsst",
    show_default=True,
    help="Which bundled sample of real alerts to run.",
)
@db_option
def run(survey: str, db_url: str | None) -> None:
    """Run the embedded broker on the real alerts shipped with Lanner."""
    settings = Settings.for_db(db_url)
    try:
        summary = ingest_paths(
            [sample_alerts(cast(Survey, survey))], settings, cast(Survey, survey), progress=True
        )
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    print_summary(summary, settings)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--survey",
    type=SURVEY,
    default=None,
    help="Survey of a new database (default: that of the first alert).",
)
@db_option
def ingest(paths: tuple[Path, ...], survey: str | None, db_url: str | None) -> None:
    """Ingest alert files, folders and tarballs through the whole pipeline."""
    settings = Settings.for_db(db_url)
    try:
        summary = ingest_paths(
            list(paths), settings, cast(Survey | None, survey), progress=sys.stderr.isatty()
        )
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    print_summary(summary, settings)


@click.command()
@click.argument("sql")
@db_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
def query(sql: str, db_url: str | None, fmt: str) -> None:
    """Run a filter's SQL on demand against the archive."""
    from lanner.filter.archive import run_on_archive

    settings = Settings.for_db(db_url)
    try:
        result = run_on_archive(settings, sql)
    except (FilterError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    emit(result.columns, result.rows, fmt)
    if result.truncated:
        click.echo(f"(truncated at {len(result.rows)} rows)", err=True)


COMMANDS: list[click.Command] = [run, ingest, query]
