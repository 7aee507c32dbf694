"""``lanner consume`` and ``lanner replay``: the Kafka edges of the command line.

``consume`` reads a topic with a consumer group in batches (by count and time)
and hands them to the pipeline, which commits each batch after storing and
sending it. ``replay`` publishes alert files to a topic to simulate a survey.
The commands only parse arguments and call :mod:`lanner.ingest.kafka` and
:mod:`lanner.ingest.replay`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from confluent_kafka import KafkaException

from lanner.cli.pipeline_commands import background_delivery, report_delivery
from lanner.cli.summary import print_run_metrics
from lanner.ingest.deadletter_kafka import KafkaDeadLetterSink
from lanner.ingest.kafka import ConsumerSettings, KafkaBatchConsumer, KafkaConsumeError
from lanner.ingest.replay import ReplayError, publish
from lanner.pipeline import Pipeline
from lanner.settings import Settings, option_help
from lanner.store import StoreError

if TYPE_CHECKING:
    from lanner.observe.metrics import Metrics
    from lanner.sky_areas.gcn_listener import BackgroundListener


def parse_options(options: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{option!r} is not KEY=VALUE", param_hint="--kafka-option")
        parsed[key.strip()] = value.strip()
    return parsed


@click.command("consume")
@click.option("--kafka", "bootstrap", default=None, help=option_help("kafka"))
@click.option("--topic", default=None, help=option_help("kafka_topic"))
@click.option("--group", default=None, help=option_help("kafka_group"))
@click.option("--db", default=None, help=option_help("db_url"))
@click.option("--batch-size", type=int, default=None, help=option_help("batch_size"))
@click.option("--batch-wait", type=float, default=None, help=option_help("batch_seconds"))
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
    help="Extra librdkafka setting of the consumers (timeouts); repeatable. Security "
    "settings (shared by every producer) come from the LANNER_KAFKA_* variables.",
)
@click.option(
    "--gcn/--no-gcn",
    "gcn",
    default=None,
    help=option_help("gcn_listen", "Also receive LVK notices from GCN (LANNER_GCN_* settings)."),
)
@click.option("--metrics-port", type=int, default=None, help=option_help("metrics_port"))
@click.option("--log-level", default=None, help=option_help("log_level"))
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help=option_help("log_format"),
)
def consume_command(
    bootstrap: str | None,
    topic: str | None,
    group: str | None,
    db: str | None,
    batch_size: int | None,
    batch_wait: float | None,
    max_alerts: int | None,
    idle_timeout: float | None,
    dead_letter_topic: str | None,
    kafka_options: tuple[str, ...],
    gcn: bool | None,
    metrics_port: int | None,
    log_level: str | None,
    log_format: str | None,
) -> None:
    """Ingest alerts from a Kafka topic; offsets are committed after each stored batch.

    The database must be set up first (`lanner db init`); the worker survives broker
    restarts, rebalances and database outages, and stops on SIGINT/SIGTERM after the
    current batch. With --gcn, the GCN notice listener runs beside it (a thread with its
    own connection; its failures are logged and retried, never stopping the consumer).
    """
    from lanner.ingest.deadletter_once import OnceDeadLetters
    from lanner.observe.logs import configure_logging
    from lanner.observe.metrics import Metrics
    from lanner.worker import StreamWorker, open_store_retrying

    settings = Settings.for_db(db).with_overrides(
        kafka=bootstrap,
        kafka_topic=topic,
        kafka_group=group,
        batch_size=batch_size,
        batch_seconds=batch_wait,
        metrics_port=metrics_port,
        log_level=log_level,
        log_format=log_format,
        gcn_listen=gcn,
    )
    if not settings.kafka:
        raise click.UsageError("no Kafka broker: give --kafka HOST:PORT or set LANNER_KAFKA")
    if not settings.kafka_topic:
        raise click.UsageError("no topic: give --topic NAME or set LANNER_KAFKA_TOPIC")
    topic = settings.kafka_topic
    configure_logging(settings.log_level, settings.log_format)
    try:
        store = open_store_retrying(settings.db_url, settings.db_retry_seconds)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        consumer_settings = ConsumerSettings(
            bootstrap=settings.kafka,
            topic=topic,
            group=settings.kafka_group,
            batch_size=settings.batch_size,
            batch_wait_s=settings.batch_seconds,
            max_messages=max_alerts,
            idle_timeout_s=idle_timeout,
            extra={**settings.kafka_config(), **parse_options(kafka_options)},
        )
    except ValueError as exc:
        store.close()
        raise click.UsageError(str(exc)) from exc
    try:
        sink = KafkaDeadLetterSink(
            settings.kafka,
            dead_letter_topic or f"{topic}-deadletter",
            settings.kafka_config(),
            flush_timeout_s=10.0,  # then the worker starts a new producer and retries
        )
    except KafkaException as exc:
        store.close()
        raise click.ClickException(f"Kafka settings: {exc.args[0].str()}") from exc
    dead_letters = OnceDeadLetters(sink, store)
    delivery = background_delivery(settings)
    pipeline = Pipeline(
        store,
        dead_letters,
        delivery=delivery,
        filter_timeout=settings.filter_timeout,
        max_rows=settings.max_rows,
    )
    metrics = Metrics()
    server = metrics.serve(settings.metrics_port) if settings.metrics_port is not None else None
    consumer = KafkaBatchConsumer(consumer_settings)
    gcn_listener = _gcn_beside(settings, parse_options(kafka_options), metrics)
    restore_signals = consumer.install_signal_handlers()
    worker = StreamWorker(pipeline, consumer, metrics, retry_s=settings.db_retry_seconds)
    try:
        with consumer:
            summary = worker.run()
    except KafkaConsumeError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        restore_signals()
        if server is not None:
            server.stop()
        store.close()
        report_delivery(delivery.stop())
        if gcn_listener is not None:
            _report_gcn(gcn_listener)
    stats = consumer.stats
    click.echo(
        f"consumed {stats.messages} alerts in {stats.batches} batches "
        f"({stats.committed_batches} committed, {dead_letters.count} dead-lettered, "
        f"{stats.transient_errors} transient errors); stopped: {consumer.stop_reason}"
    )
    click.echo(
        f"alerts ingested {summary.alerts}, objects updated "
        f"{summary.objects_updated}, filter matches {sum(summary.matches.values())}"
    )
    print_run_metrics(summary, metrics)


def _gcn_beside(
    settings: Settings, extra: dict[str, str], metrics: Metrics
) -> BackgroundListener | None:
    """The GCN listener thread of ``consume``, started, if the settings ask for it."""
    if not settings.gcn_listen:
        return None
    from lanner.sky_areas.gcn_listener import BackgroundListener, listener_from

    return BackgroundListener(lambda: listener_from(settings, extra), metrics=metrics).start()


def _report_gcn(listener: BackgroundListener) -> None:
    done = listener.stop()
    click.echo(
        f"GCN notices     : {len(done.outcomes)} received, {len(done.rejected)} rejected, "
        f"{listener.errors} listener errors",
        err=True,
    )
    for outcome in done.outcomes:
        click.echo(f"  notice {outcome.notice_id}: {outcome.decision}", err=True)


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
