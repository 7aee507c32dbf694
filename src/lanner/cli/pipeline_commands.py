"""Commands that run the pipeline: ``run``, ``ingest``, ``query``, ``filter``, ``schema``.

They parse arguments, build the stages from :class:`~lanner.settings.Settings` and call
:class:`~lanner.pipeline.Pipeline`; no pipeline logic lives here.
"""

from __future__ import annotations

import csv
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any, cast

import click

from lanner.batch import Survey
from lanner.filter.saved import FilterError, add_filter, list_filters
from lanner.ingest import iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
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


def _settings(db_url: str | None) -> Settings:
    return Settings(db_url=db_url) if db_url else Settings()


def ingest_paths(
    paths: list[Path], settings: Settings, survey: Survey | None, progress: bool
) -> RunSummary:
    """Run the whole pipeline over files, in batches, with an optional progress bar."""
    store = open_store(settings.db_url, survey)
    sink = FolderDeadLetters(settings.dead_letter_dir)
    pipeline = Pipeline(
        store, sink, filter_timeout=settings.filter_timeout, max_rows=settings.max_rows
    )
    packets = list(iter_packets(paths))
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
    settings = _settings(db_url)
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
    settings = _settings(db_url)
    try:
        summary = ingest_paths(
            list(paths), settings, cast(Survey | None, survey), progress=sys.stderr.isatty()
        )
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    print_summary(summary, settings)


def emit(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    """Print rows as an aligned table, JSON (64-bit ids exact) or CSV."""
    if fmt == "json":
        click.echo(
            json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str, indent=1)
        )
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        text = [[("" if v is None else str(v)) for v in r] for r in rows]
        widths = [max([len(c)] + [len(r[i]) for r in text]) for i, c in enumerate(columns)]
        click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        for r in text:
            click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


@click.command()
@click.argument("sql")
@db_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
def query(sql: str, db_url: str | None, fmt: str) -> None:
    """Run a filter's SQL on demand against the archive."""
    from lanner.filter.archive import run_on_archive

    settings = _settings(db_url)
    try:
        result = run_on_archive(settings, sql)
    except (FilterError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    emit(result.columns, result.rows, fmt)
    if result.truncated:
        click.echo(f"(truncated at {len(result.rows)} rows)", err=True)


@click.group(name="filter")
def filter_group() -> None:
    """Save, list and activate SQL filters."""


@filter_group.command(name="add")
@click.argument("name")
@click.argument("sql")
@click.option("--active", is_flag=True, help="Run it on every incoming batch.")
@click.option("--description", default="")
@db_option
def filter_add(name: str, sql: str, active: bool, description: str, db_url: str | None) -> None:
    """Save a filter (validated first)."""
    store = open_store(_settings(db_url).db_url)
    try:
        saved = add_filter(store, name, sql, active=active, description=description)
    except (FilterError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(
        f"filter {saved.filter_id} {saved.name!r} saved" + (" and active" if saved.active else "")
    )


@filter_group.command(name="list")
@db_option
def filter_list(db_url: str | None) -> None:
    """List the saved filters."""
    store = open_store(_settings(db_url).db_url)
    try:
        filters = list_filters(store)
    finally:
        store.close()
    emit(
        ["id", "name", "active", "sql"],
        [(f.filter_id, f.name, "yes" if f.active else "no", f.sql) for f in filters],
        "table",
    )


COMMANDS: list[click.Command] = [run, ingest, query, filter_group]
