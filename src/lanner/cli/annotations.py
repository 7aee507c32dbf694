"""``lanner annotator …``, ``lanner annotate …`` and ``lanner annotations …``: annotators
(topics), writing annotations (one, or a JSON-lines file), their history, and annotations
from a Kafka topic.

The commands parse arguments and call :mod:`lanner.annotations`; after a write, the matches
of the filters that re-ran are delivered by this process (:mod:`lanner.annotations.delivery`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lanner.annotations.model import MAX_VERSION
from lanner.cli.options import db_option
from lanner.cli.output import emit
from lanner.settings import Settings, option_help
from lanner.store import Store, StoreError, open_store

if TYPE_CHECKING:
    from lanner.distribute.outbox import DeliveryPass

user_option = click.option(
    "--user", "username", default=None, help="Act as this user (default: the local user)."
)
format_option = click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table"
)


@contextmanager
def _open(db_url: str | None) -> Iterator[tuple[Store, Settings]]:
    """The store of ``--db`` (set up by ``lanner db init`` or an ingest), with errors the
    user can fix turned into messages."""
    from lanner.annotations import AnnotationError
    from lanner.filter.errors import FilterError

    settings = Settings.for_db(db_url)
    try:
        store = open_store(settings.db_url, create=False)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield store, settings
    except AnnotationError as exc:
        if len(exc.problems) == 1:
            raise click.ClickException(exc.problems[0]) from exc
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        raise click.ClickException(f"{len(exc.problems)} problems; nothing was written") from exc
    except (FilterError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()


def _user(store: Store, username: str | None) -> int:
    from lanner.filter.users import ensure_local_user, user_by_name

    return ensure_local_user(store) if username is None else user_by_name(store, username).user_id


def _names(store: Store, ids: frozenset[int]) -> str:
    from lanner.filter.users import get_user

    return ", ".join(sorted(get_user(store, i).username for i in ids))


# -- annotators -----------------------------------------------------------------------------
@click.group("annotator")
def annotator_group() -> None:
    """Annotators: topics that people and classifiers write annotations to."""


@annotator_group.command("add")
@click.argument("topic")
@click.option("--description", default="", help="What the annotator does.")
@click.option("--private", is_flag=True, help="Only you (and writers you authorise) see it.")
@click.option("--inactive", is_flag=True, help="Refuse annotations until activated.")
@user_option
@db_option
def annotator_add(
    topic: str,
    description: str,
    private: bool,
    inactive: bool,
    username: str | None,
    db_url: str | None,
) -> None:
    """Make an annotator TOPIC that you own."""
    from lanner.annotations import add_annotator

    with _open(db_url) as (store, _):
        a = add_annotator(
            store,
            topic,
            _user(store, username),
            description=description,
            public=not private,
            active=not inactive,
        )
    click.echo(
        f"annotator {a.topic!r} ({'public' if a.public else 'private'}, "
        f"{'active' if a.active else 'inactive'}); filters read it with annotator:{a.topic}"
    )


@annotator_group.command("list")
@user_option
@format_option
@db_option
def annotator_list(username: str | None, fmt: str, db_url: str | None) -> None:
    """Your annotators and the public ones."""
    from lanner.annotations import list_annotators

    with _open(db_url) as (store, _):
        found = list_annotators(store, user_id=_user(store, username))
        rows = [(a.topic, a.owner_id, a.public, a.active, a.description) for a in found]
    emit(["topic", "owner_id", "public", "active", "description"], rows, fmt)


@annotator_group.command("show")
@click.argument("topic")
@user_option
@format_option
@db_option
def annotator_show(topic: str, username: str | None, fmt: str, db_url: str | None) -> None:
    """An annotator's settings, writers and number of annotations."""
    from lanner.annotations import get_annotator
    from lanner.store.annotations import annotation_count

    with _open(db_url) as (store, _):
        a = get_annotator(store, topic, user_id=_user(store, username))
        row = (
            a.topic,
            _names(store, frozenset({a.owner_id})),
            a.description,
            a.public,
            a.active,
            _names(store, a.writers),
            annotation_count(store, topic),
        )
    emit(
        ["topic", "owner", "description", "public", "active", "writers", "annotations"], [row], fmt
    )


@annotator_group.command("delete")
@click.argument("topic")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@user_option
@db_option
def annotator_delete(topic: str, yes: bool, username: str | None, db_url: str | None) -> None:
    """Delete an annotator with its annotations and their history."""
    from lanner.annotations import delete_annotator

    if not yes:
        click.confirm(f"delete annotator {topic!r} and all its annotations?", abort=True)
    with _open(db_url) as (store, _):
        delete_annotator(store, topic, _user(store, username))
    click.echo(f"deleted annotator {topic!r}")


def _writer_command(action: str) -> None:
    @annotator_group.command(
        action,
        help="Let USERNAME write to your annotator TOPIC."
        if action == "authorise"
        else "Stop USERNAME writing to your annotator TOPIC.",
    )
    @click.argument("topic")
    @click.argument("writer")
    @user_option
    @db_option
    def command(topic: str, writer: str, username: str | None, db_url: str | None) -> None:
        from lanner.annotations import authorise_writer, revoke_writer
        from lanner.filter.users import user_by_name

        with _open(db_url) as (store, _):
            owner = _user(store, username)
            writer_id = user_by_name(store, writer).user_id
            (authorise_writer if action == "authorise" else revoke_writer)(
                store, topic, owner, writer_id
            )
        click.echo(
            f"{writer} {'may' if action == 'authorise' else 'may no longer'} write to {topic!r}"
        )


def _flag_command(action: str, helptext: str, flag: str, value: bool) -> None:
    @annotator_group.command(action, help=helptext)
    @click.argument("topic")
    @user_option
    @db_option
    def command(topic: str, username: str | None, db_url: str | None) -> None:
        from lanner.annotations import set_annotator_flags

        with _open(db_url) as (store, _):
            owner = _user(store, username)
            if flag == "active":
                a = set_annotator_flags(store, topic, owner, active=value)
            else:
                a = set_annotator_flags(store, topic, owner, public=value)
        click.echo(f"annotator {a.topic!r}: public={a.public} active={a.active}")


for _action in ("authorise", "revoke"):
    _writer_command(_action)
_flag_command("activate", "Accept annotations again.", "active", True)
_flag_command("deactivate", "Refuse annotations (the stored ones stay).", "active", False)
_flag_command("publish", "Let every user see the annotator and filter on it.", "public", True)
_flag_command("hide", "Only you and your writers see the annotator.", "public", False)


# -- annotate -----------------------------------------------------------------------------
@click.command("annotate")
@click.argument("topic")
@click.argument("object_id", metavar="OBJECT", required=False)
@click.argument("classification", required=False)
@click.option("--classdict", default=None, help="Details as a JSON object, e.g. '{\"p\": 0.9}'.")
@click.option("--explanation", default="", help="Why, in words.")
@click.option("--url", default="", help="Where to read more (http:// or https://).")
@click.option(
    "--version", "version", default="", help=f"Version of the classifier (<= {MAX_VERSION})."
)
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Many annotations: JSON lines with Lasair's fields (diaObjectId or objectId, "
    "classification, version, explanation, classdict, url).",
)
@user_option
@db_option
def annotate_command(
    topic: str,
    object_id: str | None,
    classification: str | None,
    classdict: str | None,
    explanation: str,
    url: str,
    version: str,
    file: Path | None,
    username: str | None,
    db_url: str | None,
) -> None:
    """Annotate OBJECT with CLASSIFICATION under TOPIC, or every line of --file.

    The whole input is checked first and nothing is written if any item is bad (every bad
    line of a file is reported, with its number); then the active filters reading TOPIC run
    for the annotated objects and their matches are sent.
    """
    from lanner.annotations import Annotation, write_annotations
    from lanner.annotations.delivery import DeliverWhenWoken

    if file is not None:
        if object_id is not None or classification is not None:
            raise click.UsageError("give OBJECT CLASSIFICATION or --file, not both")
        _annotate_file(file, topic, username, db_url)
        return
    if object_id is None or classification is None:
        raise click.UsageError("give OBJECT and CLASSIFICATION (or --file FILE)")
    doc: Any = None
    if classdict is not None:
        try:
            doc = json.loads(classdict)
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--classdict") from exc
    items = [Annotation(object_id, classification, version, explanation, doc, url)]
    with _open(db_url) as (store, settings):
        delivery = DeliverWhenWoken(settings)
        n = write_annotations(
            store, topic, items, user_id=_user(store, username), delivery=delivery
        )
        done = delivery.flush()
    _report_written(n, topic, done)


def _report_written(n: int, topic: str, done: DeliveryPass) -> None:
    click.echo(f"{n} annotation(s) written to {topic!r}")
    if done.claimed:
        click.echo(
            f"filter matches: {done.sent} sent, {done.retrying} to retry, {done.failed} failed",
            err=True,
        )


def _annotate_file(path: Path, topic: str, username: str | None, db_url: str | None) -> None:
    """Write every annotation of a JSON-lines file, or none: each bad line (not an
    annotation, another topic, a rule broken, an object not in the database) is reported
    with its number and what is wrong, and the command fails."""
    from lanner.annotations.api import item_checks, writable_annotator, write_checked
    from lanner.annotations.counts import annotation_counts
    from lanner.annotations.delivery import DeliverWhenWoken

    lines, items, problems = _read_file(path, topic)
    with _open(db_url) as (store, settings):
        user_id = _user(store, username)
        writable_annotator(store, topic, user_id=user_id)
        checked, bad = item_checks(store, items)
        for n, found in bad.items():
            problems.setdefault(lines[n], []).extend(found)
        if problems:
            annotation_counts.rejected(topic, len(items))
            for line in sorted(problems):
                for problem in problems[line]:
                    click.echo(f"error: {path.name}: line {line}: {problem}", err=True)
            raise click.ClickException(
                f"{len(problems)} bad line(s) in {path}; nothing was written"
            )
        if not items:
            raise click.ClickException(f"{path} holds no annotations")
        delivery = DeliverWhenWoken(settings)
        n = write_checked(store, topic, checked, delivery=delivery)
        done = delivery.flush()
    _report_written(n, topic, done)


def _read_file(path: Path, topic: str) -> tuple[list[int], list[Any], dict[int, list[str]]]:
    """The annotations of a JSON-lines file: the line number of each, the annotations, and
    the problems of the lines that are not annotations of ``topic``, by line number (blank
    lines are skipped)."""
    from lanner.annotations.messages import MessageError, message_for

    lines: list[int] = []
    items: list[Any] = []
    problems: dict[int, list[str]] = {}
    with path.open("rb") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = message_for(line, topic)
            except MessageError as exc:
                problems[n] = [str(exc)]
                continue
            lines.append(n)
            items.append(item)
    return lines, items, problems


# -- annotations ----------------------------------------------------------------------------
@click.group("annotations")
def annotations_group() -> None:
    """Read annotation histories; write annotations from a Kafka topic."""


@annotations_group.command("history")
@click.argument("topic")
@click.argument("object_id", metavar="OBJECT")
@user_option
@format_option
@db_option
def annotations_history(
    topic: str, object_id: str, username: str | None, fmt: str, db_url: str | None
) -> None:
    """Every version of OBJECT's annotation by TOPIC, oldest first."""
    from lanner.annotations import annotation_history

    with _open(db_url) as (store, _):
        rows = annotation_history(store, topic, object_id, user_id=_user(store, username))
    if not rows:
        click.echo(f"no annotations of {object_id} by {topic!r}")
        return
    emit(list(rows[0]), [tuple(r.values()) for r in rows], fmt)


@annotations_group.command("consume")
@click.option("--kafka", "bootstrap", default=None, help=option_help("kafka"))
@click.option("--topic", required=True, help="Kafka topic of annotation messages (JSON).")
@click.option("--annotator", required=True, help="Annotator topic the messages are written to.")
@click.option(
    "--group", default=None, help="Consumer group (default: lanner-annotations-ANNOTATOR)."
)
@click.option(
    "--dead-letter-topic",
    default=None,
    help="Topic for messages that are not valid annotations (default: TOPIC-deadletter).",
)
@click.option("--batch-size", type=int, default=500, show_default=True, help="Messages per batch.")
@click.option(
    "--batch-wait",
    type=float,
    default=0.2,
    show_default=True,
    help="Longest wait (s) for a batch to fill.",
)
@click.option("--max-messages", type=int, default=None, help="Stop after this many messages.")
@click.option(
    "--idle-timeout",
    type=float,
    default=None,
    help="Stop after this many seconds without messages.",
)
@click.option("--metrics-port", type=int, default=None, help=option_help("metrics_port"))
@user_option
@db_option
def annotations_consume(
    bootstrap: str | None,
    topic: str,
    annotator: str,
    group: str | None,
    dead_letter_topic: str | None,
    batch_size: int,
    batch_wait: float,
    max_messages: int | None,
    idle_timeout: float | None,
    metrics_port: int | None,
    username: str | None,
    db_url: str | None,
) -> None:
    """Write annotations from a Kafka topic (Lasair's fast-annotation messages) to an
    annotator, as --user; offsets are committed after each batch is written. Messages that
    are not valid annotations go to the dead-letter topic, counted; they never stop it."""
    from confluent_kafka import KafkaException

    from lanner.annotations.consume import AnnotationConsumer
    from lanner.cli.pipeline_commands import background_delivery, report_delivery
    from lanner.ingest.deadletter_kafka import KafkaDeadLetterSink
    from lanner.ingest.kafka import ConsumerSettings, KafkaBatchConsumer, KafkaConsumeError
    from lanner.observe.logs import configure_logging
    from lanner.observe.metrics import Metrics

    settings = Settings.for_db(db_url).with_overrides(kafka=bootstrap, metrics_port=metrics_port)
    if not settings.kafka:
        raise click.UsageError("no Kafka broker: give --kafka HOST:PORT or set LANNER_KAFKA")
    configure_logging(settings.log_level, settings.log_format)
    try:
        consumer_settings = ConsumerSettings(
            bootstrap=settings.kafka,
            topic=topic,
            group=group or f"lanner-annotations-{annotator}",
            batch_size=batch_size,
            batch_wait_s=batch_wait,
            max_messages=max_messages,
            idle_timeout_s=idle_timeout,
            extra=settings.kafka_config(),
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    with _open(db_url) as (store, _):
        from lanner.annotations.api import writable_annotator

        user_id = _user(store, username)
        writable_annotator(store, annotator, user_id=user_id)  # fail now, not per message
        try:
            sink = KafkaDeadLetterSink(
                settings.kafka, dead_letter_topic or f"{topic}-deadletter", settings.kafka_config()
            )
        except KafkaException as exc:
            raise click.ClickException(f"Kafka settings: {exc.args[0].str()}") from exc
        delivery = background_delivery(settings)
        worker = AnnotationConsumer(
            store, annotator, user_id, sink, delivery, retry_s=settings.db_retry_seconds
        )
        consumer = KafkaBatchConsumer(consumer_settings)
        restore_signals = consumer.install_signal_handlers()
        port = settings.metrics_port
        server = Metrics().serve(port) if port is not None else None
        try:
            with consumer:
                report = worker.run(consumer)
        except KafkaConsumeError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            restore_signals()
            if server is not None:
                server.stop()
            report_delivery(delivery.stop())
    reasons = ", ".join(f"{k}: {n}" for k, n in report.reasons.most_common())
    click.echo(
        f"read {report.messages} messages in {report.batches} batches: {report.written} "
        f"annotations written, {report.dead_lettered} dead-lettered"
        + (f" ({reasons})" if reasons else "")
        + f"; stopped: {consumer.stop_reason}"
    )


COMMANDS: list[click.Command] = [annotator_group, annotate_command, annotations_group]
