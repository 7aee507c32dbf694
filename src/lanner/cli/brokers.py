"""``lanner brokers consume`` and ``lanner brokers import``: other brokers' classifications
(Fink, ALeRCE) as annotations, one annotator per source and classifier.

The commands parse arguments and call :mod:`lanner.brokers.consume`.
"""

from __future__ import annotations

from pathlib import Path

import click

from lanner.brokers.write import SOURCES, BrokerReport
from lanner.cli.options import db_option
from lanner.settings import Settings, option_help


def _summary(report: BrokerReport, read: int | None = None) -> str:
    written = ", ".join(f"{t} {n}" for t, n in sorted(report.written.items())) or "none"
    unknown = sum(report.unknown_objects.values())
    rejected = ", ".join(f"{n} {r}" for r, n in report.rejected.items()) or "none"
    head = f"{read} messages read; " if read is not None else ""
    return (
        f"{head}annotations written: {written}; of objects not in this database: {unknown}; "
        f"set aside: {rejected}"
    )


def _open(db_url: str | None):  # type: ignore[no-untyped-def]
    from lanner.store import StoreError, open_store

    settings = Settings.for_db(db_url)
    try:
        store = open_store(settings.db_url, create=False)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    if store.survey is None:
        store.close()
        raise click.ClickException("the database is empty: ingest alerts first")
    return settings, store


@click.group("brokers")
def brokers_group() -> None:
    """Classifications published by other brokers, written as annotations."""


@brokers_group.command("consume")
@click.option("--kafka", "bootstrap", required=True, help="Bootstrap servers, HOST:PORT.")
@click.option("--topic", required=True, help="The broker's topic to read.")
@click.option("--source", type=click.Choice(SOURCES), required=True, help="Whose messages.")
@click.option("--group", default=None, help=option_help("kafka_group"))
@click.option(
    "--schema",
    "schema_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Avro schema (.avsc) of schemaless values that carry none in their key.",
)
@click.option("--max-messages", type=int, default=None, help="Stop after this many messages.")
@click.option(
    "--idle-seconds", type=float, default=None, help="Stop when nothing came for this long."
)
@click.option("--metrics-port", type=int, default=None, help=option_help("metrics_port"))
@db_option
def consume_command(
    bootstrap: str,
    topic: str,
    source: str,
    group: str | None,
    schema_path: Path | None,
    max_messages: int | None,
    idle_seconds: float | None,
    metrics_port: int | None,
    db_url: str | None,
) -> None:
    """Read a Fink or ALeRCE topic and write its classifications as annotations
    (offsets committed after each batch is written; matches of the filters they make fire
    are delivered by this process)."""
    from lanner.brokers.consume import consume, load_schema
    from lanner.cli.pipeline_commands import background_delivery, report_delivery
    from lanner.observe.metrics import Metrics

    settings, store = _open(db_url)
    settings = settings.with_overrides(metrics_port=metrics_port)
    delivery = background_delivery(settings)
    server = Metrics().serve(settings.metrics_port) if settings.metrics_port is not None else None
    try:
        config = {
            **settings.kafka_config(),
            "bootstrap.servers": bootstrap,
            "group.id": group or f"{settings.kafka_group}-{source}",
        }
        report, read = consume(
            store,
            config,
            topic,
            source,
            schema=load_schema(schema_path),
            max_messages=max_messages,
            idle_seconds=idle_seconds,
            delivery=delivery,
        )
    finally:
        store.close()
        if server is not None:
            server.stop()
        report_delivery(delivery.stop())
    click.echo(_summary(report, read))


@brokers_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", type=click.Choice(["fink"]), default="fink", help="Whose file (Fink).")
@db_option
def import_command(path: Path, source: str, db_url: str | None) -> None:
    """Write the classifier columns of a Fink Data Transfer file (Parquet or Avro) as
    annotations."""
    from lanner.brokers.consume import import_file

    _, store = _open(db_url)
    try:
        report = import_file(store, path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(_summary(report))
