"""``lanner filter …`` and ``lanner user …``: write, test, save, share, activate, backtest
and read the results of filters from the command line.

The commands parse arguments and call :mod:`lanner.filter.saved`,
:mod:`lanner.filter.backtest` and :mod:`lanner.filter.users`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from lanner.cli.options import db_option
from lanner.cli.output import emit
from lanner.distribute.base import OUTPUTS
from lanner.filter.access import mask_options, require_owner, require_readable
from lanner.filter.errors import FilterError
from lanner.filter.saved import (
    ACTIVE_DAYS,
    SavedFilter,
    add_filter,
    copy_filter,
    delete_filter,
    edit_filter,
    find_copyable,
    find_filter,
    lasair_to_sql,
    list_filters,
    notices,
    set_active,
)
from lanner.filter.users import create_user, ensure_local_user, user_by_name
from lanner.settings import Settings
from lanner.store import Store, StoreError, open_store

MJD_EPOCH = dt.date(1858, 11, 17)

output_options_option = click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Output option: payload=plain|lite|full, email=…, email_mode=daily, "
    "webhook_url=…, webhook_body=slack, daily_quota_bytes=N.",
)
user_option = click.option(
    "--user", "username", default=None, help="Act as this user (default: the local user)."
)


@contextmanager
def _store(db_url: str | None) -> Iterator[Store]:
    settings = Settings.for_db(db_url)
    try:
        store = open_store(settings.db_url, create=False)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield store
    except (FilterError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()


def _owner(store: Store, username: str | None) -> int:
    return ensure_local_user(store) if username is None else user_by_name(store, username).user_id


def _options(pairs: tuple[str, ...]) -> str | None:
    if not pairs:
        return None
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--option")
        parsed[key] = int(value) if value.isdigit() else value
    return json.dumps(parsed)


def to_mjd(text: str) -> float:
    """An MJD given as a number or as an ISO date/time (UTC)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is neither an MJD nor an ISO date") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    delta = moment - dt.datetime.combine(MJD_EPOCH, dt.time())
    return delta.total_seconds() / 86400.0


@click.group(name="filter")
def filter_group() -> None:
    """Write, test, save, share, activate and backtest SQL filters."""


@filter_group.command(name="add")
@click.argument("name")
@click.argument("sql", required=False)
@click.option("--selected", help="Lasair form: the SELECT list.")
@click.option("--tables", help="Lasair form: objects, sherlock_classifications, watchlist:N, ...")
@click.option("--conditions", default="", help="Lasair form: the WHERE clause.")
@click.option("--active", is_flag=True, help="Run it on every incoming batch.")
@click.option("--public", is_flag=True, help="Let others see and copy it.")
@click.option("--description", default="")
@click.option(
    "--output",
    type=click.Choice(OUTPUTS),
    default="none",
    show_default=True,
    help="Where matches go besides the database.",
)
@output_options_option
@user_option
@db_option
def filter_add(
    name: str,
    sql: str | None,
    selected: str | None,
    tables: str | None,
    conditions: str,
    active: bool,
    public: bool,
    description: str,
    output: str,
    options: tuple[str, ...],
    username: str | None,
    db_url: str | None,
) -> None:
    """Save a filter given as SQL or in Lasair's form (validated first)."""
    with _store(db_url) as store:
        owner = _owner(store, username)
        if sql is None:
            if not (selected and tables):
                raise click.UsageError("give the SQL, or --selected and --tables")
            sql = lasair_to_sql(store, selected, tables, conditions, owner)
        saved = add_filter(
            store,
            name,
            sql,
            active=active,
            owner_id=owner,
            public=public,
            description=description,
            output=output,
            output_options=_options(options),
        )
        _ensure_topic(saved)
    click.echo(
        f"filter {saved.filter_id} {saved.name!r} saved"
        + (f", active until {saved.expires}" if saved.active else "")
    )


@filter_group.command(name="edit")
@click.argument("name")
@click.option("--sql", default=None, help="New SQL (validated).")
@click.option("--description", default=None)
@click.option("--public/--private", default=None)
@click.option("--output", type=click.Choice(OUTPUTS), default=None)
@output_options_option
@user_option
@db_option
def filter_edit(
    name: str,
    sql: str | None,
    description: str | None,
    public: bool | None,
    output: str | None,
    options: tuple[str, ...],
    username: str | None,
    db_url: str | None,
) -> None:
    """Change a filter; its SQL is re-validated."""
    with _store(db_url) as store:
        owner = _owner(store, username)
        flt = edit_filter(
            store,
            require_readable(find_filter(store, name, owner), owner),
            owner_id=owner,
            sql=sql,
            description=description,
            public=public,
            output=output,
            output_options=_options(options),
        )
        if output is not None:
            _ensure_topic(flt)
    click.echo(f"filter {flt.name!r} updated")


@filter_group.command(name="show")
@click.argument("name")
@user_option
@db_option
def filter_show(name: str, username: str | None, db_url: str | None) -> None:
    """Show a filter, its state, its Kafka topic and what its owner was told."""
    from lanner.distribute.topic_names import topic_name

    with _store(db_url) as store:
        owner = _owner(store, username)
        flt = require_readable(find_filter(store, name, owner), owner)
        mine = flt.owner_id == owner  # others see a public filter's definition only
        told = notices(store, flt.filter_id) if mine else []
        states = store.match_count(flt.filter_id) if mine else {}
    click.echo(
        f"filter {flt.filter_id} {flt.name!r} (owner {flt.owner_id}, "
        f"{'public' if flt.public else 'private'})"
    )
    click.echo(f"  state   : {'active until ' + str(flt.expires) if flt.active else 'inactive'}")
    if mine:
        click.echo(f"  output  : {flt.output} {mask_options(flt.output_options)}".rstrip())
        click.echo(f"  topic   : {topic_name(flt.owner_id, flt.name)}")
        click.echo(
            f"  matches : {sum(states.values())}"
            + (f" ({', '.join(f'{k} {v}' for k, v in sorted(states.items()))})" if states else "")
        )
    if flt.description:
        click.echo(f"  about   : {flt.description}")
    click.echo("  sql     : " + flt.sql.replace("\n", "\n            "))
    for when, kind, message in told:
        click.echo(f"  notice  : {when} {kind}: {message}")


@filter_group.command(name="list")
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Every user's filters, not just yours and the public ones (operators only: "
    "needs --operator).",
)
@click.option("--operator", is_flag=True, help="Act as the operator (for --all).")
@user_option
@db_option
def filter_list(show_all: bool, operator: bool, username: str | None, db_url: str | None) -> None:
    """List filters: yours and the public ones."""
    if show_all and not operator:
        raise click.UsageError(
            "--all shows every user's filters: an operator's command; add --operator"
        )
    with _store(db_url) as store:
        owner = None if show_all else _owner(store, username)
        filters = list_filters(store, owner)
    emit(
        ["id", "name", "owner", "active", "public", "sql"],
        [
            (
                f.filter_id,
                f.name,
                f.owner_id,
                "yes" if f.active else "no",
                "yes" if f.public else "no",
                " ".join(f.sql.split()),
            )
            for f in filters
        ],
        "table",
    )


def _ensure_topic(flt: SavedFilter) -> None:
    """Create an active filter's Kafka topic now, so its consumers find it (empty); without
    a broker, say that its matches will wait."""
    if flt.output != "kafka":
        return
    settings = Settings()
    if not settings.kafka:
        click.echo(
            f"warning: LANNER_KAFKA is not set: the matches of {flt.name!r} are kept as "
            "pending (see: lanner filter matches) until the broker's workers have a Kafka "
            f"broker, and failed after {settings.delivery_max_age:g} h",
            err=True,
        )
        return
    if not flt.active:
        return
    from lanner.distribute.kafka import KafkaDelivery, TopicError
    from lanner.distribute.router import filter_target

    try:
        KafkaDelivery(settings.kafka).ensure_topic(filter_target(flt, "objectId"))
    except TopicError as exc:
        click.echo(f"warning: {exc}; it is made when the first match is sent", err=True)


def _state_command(name: str, active: bool, verb: str) -> Callable[..., None]:
    @filter_group.command(name=name)
    @click.argument("filter_name")
    @user_option
    @db_option
    def command(filter_name: str, username: str | None, db_url: str | None) -> None:
        with _store(db_url) as store:
            owner = _owner(store, username)
            flt = require_readable(find_filter(store, filter_name, owner), owner)
            flt = set_active(store, flt, active, owner_id=owner)
            if active:
                _ensure_topic(flt)
        click.echo(f"filter {flt.name!r} {verb}" + (f" until {flt.expires}" if active else ""))

    command.__doc__ = (
        f"Make a filter run on every batch for {ACTIVE_DAYS} days (renews)."
        if active
        else "Stop running a filter on incoming batches."
    )
    return command


_state_command("activate", True, "active")
_state_command("deactivate", False, "deactivated")


@filter_group.command(name="copy")
@click.argument("name")
@click.argument("new_name")
@user_option
@db_option
def filter_copy(name: str, new_name: str, username: str | None, db_url: str | None) -> None:
    """Copy a public filter (by id or name) to make it your own."""
    with _store(db_url) as store:
        owner = _owner(store, username)
        source = require_readable(find_copyable(store, name, owner), owner)
        flt = copy_filter(store, source, new_name, owner)
    click.echo(f"filter {flt.filter_id} {flt.name!r} copied from {source.name!r}")


@filter_group.command(name="delete")
@click.argument("name")
@user_option
@db_option
def filter_delete(name: str, username: str | None, db_url: str | None) -> None:
    """Delete a filter with its matches and notices."""
    with _store(db_url) as store:
        owner = _owner(store, username)
        flt = require_readable(find_filter(store, name, owner), owner)
        delete_filter(store, flt, owner_id=owner)
    click.echo(f"filter {flt.name!r} deleted")


@filter_group.command(name="backtest")
@click.argument("name")
@click.option("--since", required=True, help="Start: MJD or ISO date (UTC).")
@click.option("--until", default=None, help="End: MJD or ISO date (UTC); default: now.")
@click.option("--batch-size", default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@user_option
@db_option
def filter_backtest(
    name: str,
    since: str,
    until: str | None,
    batch_size: int,
    as_json: bool,
    username: str | None,
    db_url: str | None,
) -> None:
    """Replay the archive in time order: what the filter would have sent, batch by batch
    (nothing is sent)."""
    from lanner.filter.backtest import backtest  # the enrichers: only for this command

    with _store(db_url) as store:
        owner = _owner(store, username)
        flt = require_owner(find_filter(store, name, owner), owner, "backtest it")
        reports = list(
            backtest(store, flt, to_mjd(since), to_mjd(until) if until else 1e9, batch_size)
        )
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in reports], indent=1, default=str))
        return
    for r in reports:
        ids = ", ".join(map(str, r.object_ids)) + (" …" if r.matches > len(r.object_ids) else "")
        click.echo(
            f"MJD {r.first_mjd:.5f}–{r.last_mjd:.5f}: {r.alerts} alerts, "
            f"{r.matches} would be sent"
            + (f": {ids}" if ids else "")
            + (f" (error: {r.error})" if r.error else "")
        )
    click.echo(
        f"total: {sum(r.matches for r in reports)} of {sum(r.alerts for r in reports)} "
        f"alerts in {len(reports)} batches"
    )


@filter_group.command(name="matches")
@click.argument("name")
@click.option("--limit", default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@user_option
@db_option
def filter_matches(
    name: str, limit: int, fmt: str, username: str | None, db_url: str | None
) -> None:
    """What an active filter matched, newest first: each match's delivery state (pending,
    sent, failed; none without an output), attempts and last error, and the values that
    made it fire."""
    with _store(db_url) as store:
        owner = _owner(store, username)
        flt = require_owner(find_filter(store, name, owner), owner, "read its matches")
        oid = store.object_id_column
        rows = store.match_states(flt.filter_id, oid, limit)
    columns = [oid, "alert_id", "matched_at", "state", "attempts", "last_error", "sent_at"]
    emit([*columns, "payload", "why"], [tuple(r) for r in rows], fmt)


@click.group(name="user")
def user_group() -> None:
    """Users and their API keys."""


def _operator_only(operator: bool, what: str) -> None:
    if not operator:
        raise click.UsageError(f"{what} is an operator's command; add --operator")


operator_option = click.option(
    "--operator", is_flag=True, help="Confirm you act as the operator (required)."
)


@user_group.command(name="add")
@click.argument("username")
@click.option("--email", default=None, help="Where e-mail digests and notices go.")
@operator_option
@db_option
def user_add(username: str, email: str | None, operator: bool, db_url: str | None) -> None:
    """Make a user and print their API key (shown only this once). Operator command."""
    _operator_only(operator, "making a user")
    with _store(db_url) as store:
        user, key = create_user(store, username, email)
    click.echo(f"user {user.user_id} {user.username!r} made; API key: {key}")


@click.group(name="digest")
def digest_group() -> None:
    """E-mail digests of daily-digest filters."""


@digest_group.command(name="send")
@click.option(
    "--hours",
    default=24.0,
    show_default=True,
    help="Send the pending matches recorded in this many past hours.",
)
@operator_option
@db_option
def digest_send(hours: float, operator: bool, db_url: str | None) -> None:
    """Send every user's daily digests (run once a day, e.g. from cron). Operator command."""
    _operator_only(operator, "sending every user's digests")
    from lanner.distribute.channels import build_channels
    from lanner.distribute.digest import send_daily_digests
    from lanner.distribute.email import EmailDelivery

    settings = Settings.for_db(db_url)
    with _store(settings.db_url) as store:
        email = build_channels(settings).get("email")
        if not isinstance(email, EmailDelivery):
            raise click.ClickException("no SMTP server: set LANNER_SMTP_HOST")
        since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
        reports = send_daily_digests(store, email, since)
    for r in reports:
        click.echo(
            f"{r.filter_name}: {r.sent} matches sent"
            + (f", failed: {'; '.join(r.errors)}" if r.errors else "")
        )
    if not reports:
        click.echo("no daily digest to send")


COMMANDS: list[click.Command] = [filter_group, user_group, digest_group]
