"""``lanner consume`` and ``lanner replay``: the Kafka edges of the command line.

``consume`` reads a topic with a consumer group in batches (by count and time)
and hands them to the pipeline, which commits each batch after storing and
sending it. ``replay`` publishes alert files to a topic to simulate a survey.
The commands only parse arguments and call :mod:`lanner.ingest.kafka` and
:mod:`lanner.ingest.replay`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from lanner.cli.pipeline_commands import background_delivery, report_delivery
from lanner.ingest.deadletter_kafka import KafkaDeadLetterSink
from lanner.ingest.kafka import ConsumerSettings, KafkaBatchConsumer, KafkaConsumeError
from lanner.ingest.replay import ReplayError, publish
from lanner.pipeline import Pipeline, run_stream
from lanner.settings import Settings
from lanner.store import StoreError, open_store


def _parse_options(options: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{option!r} is not KEY=VALUE", param_hint="--kafka-option")
        parsed[key.strip()] = value.strip()
    return parsed


@click.command("consume")
@click.option("--kafka", "bootstrap", required=True, help="Brokers, HOST:PORT[,HOST:PORT].")
@click.option("--topic", required=True, help="Topic to read alerts from.")
@click.option("--group", default="lanner", show_default=True, help="Consumer group id.")
@click.option("--db", default=None, help="sqlite:///path or postgresql://... (default: embedded).")
@click.option("--batch-size", default=1000, show_default=True, help="Alerts per batch at most.")
@click.option(
    "--batch-wait", default=1.0, show_default=True, help="Seconds a batch stays open at most."
)
@click.option("--max-alerts", type=int, default=None, help="Stop after this many alerts.")
@click.option(
    "--idle-timeout", type=float, default=None, help="Stop after this many seconds without alerts."
)
@click.option(
    "--dead-letter-topic",
    default=None,
    help="Topic for packets that cannot be ingested (default: TOPIC-deadletter).",
)
@click.option(
    "--kafka-option",
    "kafka_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Extra librdkafka setting (security, timeouts); repeatable.",
)
def consume_command(
    bootstrap: str,
    topic: str,
    group: str,
    db: str | None,
    batch_size: int,
    batch_wait: float,
    max_alerts: int | None,
    idle_timeout: float | None,
    dead_letter_topic: str | None,
    kafka_options: tuple[str, ...],
) -> None:
    """Ingest alerts from a Kafka topic; offsets are committed after each stored batch."""
    settings = ConsumerSettings(
        bootstrap=bootstrap,
        topic=topic,
        group=group,
        batch_size=batch_size,
        batch_wait_s=batch_wait,
        max_messages=max_alerts,
        idle_timeout_s=idle_timeout,
        extra=_parse_options(kafka_options),
    )
    lanner_settings = Settings.for_db(db)
    lanner_settings = replace(lanner_settings, kafka=lanner_settings.kafka or bootstrap)
    dead_letter = KafkaDeadLetterSink(bootstrap, dead_letter_topic or f"{topic}-deadletter")
    try:
        store = open_store(lanner_settings.db_url)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    consumer = KafkaBatchConsumer(settings)
    restore_signals = consumer.install_signal_handlers()
    summary = None
    delivery = background_delivery(lanner_settings)
    try:
        pipeline = Pipeline(
            store,
            dead_letter,
            delivery=delivery,
            filter_timeout=lanner_settings.filter_timeout,
            max_rows=lanner_settings.max_rows,
        )
        with consumer:
            summary = run_stream(pipeline, consumer)
    except KafkaConsumeError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        restore_signals()
        dead_letter.flush()
        store.close()
        report_delivery(delivery.stop())
    stats = consumer.stats
    click.echo(
        f"consumed {stats.messages} alerts in {stats.batches} batches "
        f"({stats.committed_batches} committed, {dead_letter.count} dead-lettered, "
        f"{stats.transient_errors} transient errors); stopped: {consumer.stop_reason}"
    )
    if summary is not None:
        click.echo(
            f"alerts ingested {summary.alerts}, objects updated "
            f"{summary.objects_updated}, filter matches {sum(summary.matches.values())}"
        )


@click.command("replay")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--kafka", "bootstrap", required=True, help="Brokers, HOST:PORT.")
@click.option("--topic", required=True, help="Topic to publish to.")
@click.option(
    "--rate", default=0.0, show_default=True, help="Alerts per second; 0 = as fast as possible."
)
@click.option(
    "--format",
    "wire_format",
    type=click.Choice(["confluent", "avro"]),
    default="confluent",
    show_default=True,
    help="Confluent wire format (Rubin) or one-record Avro containers (ZTF).",
)
@click.option(
    "--schema-id", type=int, default=None, help="Confluent schema id for non-Rubin-named schemas."
)
def replay_command(
    paths: tuple[Path, ...],
    bootstrap: str,
    topic: str,
    rate: float,
    wire_format: str,
    schema_id: int | None,
) -> None:
    """Publish alert files, folders and tarballs to a Kafka topic."""
    try:
        report = publish(
            list(paths),
            bootstrap,
            topic,
            wire_format="avro" if wire_format == "avro" else "confluent",
            rate=rate,
            schema_id=schema_id,
        )
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"published {report.messages} alerts ({report.bytes / 1e6:.2f} MB) from "
        f"{report.files} files to {topic} in {report.elapsed_s:.2f} s "
        f"({report.rate:.0f} alerts/s)"
    )


COMMANDS: list[click.Command] = [consume_command, replay_command]
