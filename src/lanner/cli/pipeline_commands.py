"""Commands that run the pipeline: ``run``, ``ingest`` and ``query``.

They parse arguments, build the stages from :class:`~lanner.settings.Settings` and call
:class:`~lanner.pipeline.Pipeline`; no pipeline logic lives here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import click

from lanner.batch import Survey
from lanner.classify.registry import selected as selected_classifiers
from lanner.cli.options import SURVEY, db_option
from lanner.cli.output import emit
from lanner.cli.summary import print_run_metrics
from lanner.distribute.channels import delivery_worker
from lanner.distribute.outbox import BackgroundDelivery, DeliveryPass
from lanner.filter.access import mask_url
from lanner.filter.errors import FilterError
from lanner.ingest import assemble, iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.files import SkippedFile
from lanner.ingest.limits import IngestLimits
from lanner.ingest.packets import RawPacket
from lanner.parallel import WorkerDiedError, default_workers, run_parallel
from lanner.pipeline import BatchReport, Pipeline, RunSummary, chunked
from lanner.settings import Settings, option_help
from lanner.store import StoreError, open_store
from lanner.store.migrate import init_database

if TYPE_CHECKING:
    from lanner.observe.metrics import Metrics

workers_option = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that decode and enrich alerts; one more stores them "
    "(default: one per core). The database is the same for any number.",
)


def sample_alerts(survey: Survey) -> Path:
    """Folder of the real alerts shipped inside the package."""
    return Path(str(resources.files("lanner") / "data" / "alerts" / survey))


#: Reasons and skipped files listed in the run summary (the rest are counted).
SHOWN = 20

#: How ingest shows progress: a bar (known total), a running count, or nothing.
Progress = Literal["bar", "lines", "none"]


def ingest_paths(
    packets: Iterable[RawPacket],
    settings: Settings,
    survey: Survey | None,
    progress: Progress = "none",
    total: int | None = None,
    workers: int = 1,
    metrics: Metrics | None = None,
    sink: FolderDeadLetters | None = None,
) -> RunSummary:
    """Run the whole pipeline over packets, in batches, streaming: packets are read as the
    batches need them, so a night's folder never sits in memory.

    ``progress``: a bar over ``total`` packets, a running count on stderr, or nothing.
    ``workers``: processes that decode and enrich (:mod:`lanner.parallel`); this one stores.
    ``metrics`` counts each batch.
    """
    stream: Iterator[RawPacket] = iter(packets)
    if survey is None:
        survey, stream = _peek_survey(stream)
    store = open_store(settings.db_url, survey)
    sink = sink or FolderDeadLetters(settings.dead_letter_dir)
    delivery = background_delivery(settings)
    pipeline = Pipeline(
        store,
        sink,
        delivery=delivery,
        filter_timeout=settings.filter_timeout,
        max_rows=settings.max_rows,
        classifiers=selected_classifiers(settings.classifiers, store.survey),
    )
    batches = chunked(stream, settings.batch_size)
    observe = metrics.observe if metrics is not None else None
    try:
        if progress == "bar":
            with click.progressbar(length=total or 0, label="ingesting", file=sys.stderr) as bar:
                return run_parallel(
                    pipeline, _counted(batches, bar.update), workers, on_batch=observe
                )
        if progress == "lines":
            done = [0, 0]

            def report(r: BatchReport) -> None:
                done[0] += r.alerts
                done[1] += r.dead_letters
                click.echo(f"\ringested {done[0]} alerts, {done[1]} rejected", err=True, nl=False)
                if observe is not None:
                    observe(r)

            summary = run_parallel(pipeline, batches, workers, on_batch=report)
            click.echo(err=True)
            return summary
        return run_parallel(pipeline, batches, workers, on_batch=observe)
    except WorkerDiedError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
        report_delivery(delivery.stop())


def background_delivery(settings: Settings) -> BackgroundDelivery:
    """The delivery worker of a pipeline command, started: it sends what the batches record
    (and what earlier runs left pending) while they run, and makes a last pass at the end."""
    return BackgroundDelivery(lambda: delivery_worker(settings)).start()


def report_delivery(done: DeliveryPass) -> None:
    """Say on stderr what the delivery worker sent, and what it could not."""
    if not done.claimed:
        return
    click.echo(
        f"deliveries      : {done.sent} sent, {done.retrying} to retry, {done.failed} failed",
        err=True,
    )
    for name, error in done.errors.items():
        click.echo(f"  {name}: {error} (see: lanner filter matches {name})", err=True)


def _counted(
    batches: Iterator[list[RawPacket]], update: Callable[[int], None]
) -> Iterator[list[RawPacket]]:
    """The batches, advancing a progress bar by each one's packets once it is done."""
    for batch in batches:
        yield batch
        update(len(batch))


def _peek_survey(packets: Iterator[RawPacket]) -> tuple[Survey | None, Iterator[RawPacket]]:
    """Survey of the first alert that decodes (a new database takes it), and the packets
    with those read to find it put back in front."""
    seen: list[RawPacket] = []
    for packet in packets:
        seen.append(packet)
        batch = assemble([packet]).batch
        if len(batch):
            return batch.survey, chain(seen, packets)
    return None, iter(seen)


def print_summary(
    summary: RunSummary,
    settings: Settings,
    sink: FolderDeadLetters | None = None,
    skipped: list[SkippedFile] | None = None,
    metrics: Metrics | None = None,
) -> None:
    click.echo(f"alerts ingested : {summary.alerts}")
    click.echo(
        f"rejected        : {summary.dead_letters}"
        + (f" (dead letters in {settings.dead_letter_dir})" if summary.dead_letters else "")
    )
    for reason, n in sink.reasons.most_common(SHOWN) if sink else []:
        click.echo(f"  {n} × {reason}")
    if skipped is not None:
        click.echo(f"files not read  : {len(skipped)}")
        for item in skipped[:SHOWN]:
            click.echo(f"  {item.path}: {item.reason}")
        if len(skipped) > SHOWN:
            click.echo(f"  … and {len(skipped) - SHOWN} more")
    store = open_store(settings.db_url)
    try:
        counts = store.counts() if store.survey else {}
    finally:
        store.close()
    click.echo(f"objects         : {counts.get('objects', 0)}")
    click.echo(
        f"filter matches  : {sum(summary.matches.values())}"
        + "".join(f"\n  {name}: {n}" for name, n in summary.matches.items())
    )
    print_run_metrics(summary, metrics, reasons=sink is None)
    click.echo(f"database        : {mask_url(settings.db_url)}")


@click.command()
@click.option(
    "--survey",
    type=SURVEY,
    default="lsst",
    show_default=True,
    help="Which bundled sample of real alerts to run.",
)
@db_option
@workers_option
@click.option("--metrics-port", type=int, default=None, help=option_help("metrics_port"))
def run(survey: str, db_url: str | None, workers: int | None, metrics_port: int | None) -> None:
    """Run the embedded broker on the real alerts shipped with Lanner (the database is
    set up first, as by `lanner db init`)."""
    from lanner.observe.metrics import Metrics

    settings = Settings.for_db(db_url).with_overrides(metrics_port=metrics_port)
    init_database(settings.db_url, cast(Survey, survey))
    metrics = Metrics()
    server = metrics.serve(settings.metrics_port) if settings.metrics_port is not None else None
    try:
        packets = list(iter_packets([sample_alerts(cast(Survey, survey))]))  # a few MB
        summary = ingest_paths(
            packets,
            settings,
            cast(Survey, survey),
            "bar",
            len(packets),
            workers or default_workers(),
            metrics,
        )
    finally:
        if server is not None:
            server.stop()
    print_summary(summary, settings, metrics=metrics)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--survey",
    type=SURVEY,
    default=None,
    help="Survey of a new database (default: that of the first alert).",
)
@db_option
@workers_option
def ingest(
    paths: tuple[Path, ...], survey: str | None, db_url: str | None, workers: int | None
) -> None:
    """Ingest alert files, folders and tarballs through the whole pipeline."""
    settings = Settings.for_db(db_url)
    skipped: list[SkippedFile] = []
    sink = FolderDeadLetters(settings.dead_letter_dir)
    summary = ingest_paths(
        iter_packets(paths, skipped, IngestLimits.from_settings(settings)),
        settings,
        cast(Survey | None, survey),
        "lines" if sys.stderr.isatty() else "none",
        workers=workers or default_workers(),
        sink=sink,
    )
    print_summary(summary, settings, sink, skipped)
    mismatched = summary.dead_letter_reasons.get("survey mismatch", 0)
    if survey is not None and mismatched:
        raise click.ClickException(
            f"{mismatched} alerts are not {survey} alerts (survey mismatch; set aside in "
            f"{settings.dead_letter_dir}): give the right --survey, or another --db for them"
        )


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
