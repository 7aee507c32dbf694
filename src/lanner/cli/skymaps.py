"""``lanner skymap …``: multi-messenger sky maps by hand (a FITS map or an LVK notice) or
from GCN (``lanner skymap listen``), and their hits.

The commands parse arguments and call :mod:`lanner.sky_areas.mma` and
:mod:`lanner.sky_areas.gcn_listener`.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import click

from lanner.cli.output import emit
from lanner.cli.pipeline_commands import db_option
from lanner.cli.watchlists import format_option, open_for_cli, survey_option
from lanner.settings import Settings
from lanner.sky_areas import mma
from lanner.sky_areas.gcn_listener import GcnListener, ListenReport, gcn_consumer, selection_of
from lanner.sky_areas.notices import NoticeError, parse_notice
from lanner.sky_areas.skymap import SkyMapError, read_skymap
from lanner.store.sky_areas import record_rows

AREA_COLUMNS = [
    "mw_id",
    "namespace",
    "otherId",
    "version",
    "alert_type",
    "event_date",
    "classification",
    "area10",
    "area50",
    "area90",
    "distmean",
    "ra",
    "decl",
    "active",
]


@click.group("skymap")
def skymap_group() -> None:
    """Gravitational-wave and other multi-messenger sky maps."""


@skymap_group.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--event",
    "event_id",
    default=None,
    help="Event id of a FITS map (default: its OBJECT keyword or the file name).",
)
@click.option(
    "--namespace",
    default="LVK",
    show_default=True,
    help="Who issued the event (LVK, Fermi, Swift, ...).",
)
@click.option(
    "--time",
    "event_time",
    default=None,
    help="Event time (ISO 8601) of a map whose header has no MJD-OBS.",
)
@survey_option
@db_option
def skymap_add(
    file: Path,
    event_id: str | None,
    namespace: str,
    event_time: str | None,
    survey: str | None,
    db_url: str | None,
) -> None:
    """Store a sky map (flat or multi-order FITS, gzipped or not) or an LVK notice (.json)."""
    data = file.read_bytes()
    with open_for_cli(db_url, survey) as store:
        try:
            if data.lstrip()[:1] == b"{":
                outcome = mma.receive_notice(
                    store, parse_notice(data), selection_of(Settings.for_db(db_url))
                )
                click.echo(
                    f"notice {outcome.notice_id}: {outcome.decision}"
                    + (f" as map {outcome.mw_id}, {outcome.hits} hits" if outcome.mw_id else "")
                )
                return
            skymap = read_skymap(data)
        except (NoticeError, SkyMapError) as exc:
            raise click.ClickException(str(exc)) from exc
        name = event_id or str(skymap.header.get("OBJECT") or file.name.split(".")[0])
        mw_id, hits = mma.add_skymap(
            store,
            skymap,
            namespace=namespace,
            other_id=name,
            event_mjd=mma._mjd(event_time) if event_time else skymap.mjd,
        )
    click.echo(
        f"map {mw_id} of {namespace} {name}: 90% area {skymap.areas[0.9]:.1f} deg2, {hits} hits"
    )


@skymap_group.command("list")
@format_option
@db_option
def skymap_list(fmt: str, db_url: str | None) -> None:
    """Every stored sky map (each version of each event)."""
    with open_for_cli(db_url) as store:
        rows = record_rows(store, "mma_areas")
    emit(AREA_COLUMNS, [tuple(r[c] for c in AREA_COLUMNS) for r in rows], fmt)


@skymap_group.command("notices")
@format_option
@db_option
def skymap_notices(fmt: str, db_url: str | None) -> None:
    """Every notice received and what was done with it."""
    with open_for_cli(db_url) as store:
        rows = record_rows(store, "mma_notices")
    cols = [
        "notice_id",
        "superevent_id",
        "alert_type",
        "time_created",
        "area90",
        "mw_id",
        "decision",
    ]
    emit(cols, [tuple(r[c] for c in cols) for r in rows], fmt)


@skymap_group.command("hits")
@click.argument("mw_id", type=int)
@format_option
@db_option
def skymap_hits(mw_id: int, fmt: str, db_url: str | None) -> None:
    """Objects inside a map's 90% region, most probable first."""
    with open_for_cli(db_url) as store:
        ph = store.backend.placeholder
        rows = record_rows(store, "mma_area_hits", f"mw_id = {ph}", (mw_id,))
    rows.sort(key=lambda r: r["contour"])
    if not rows:
        click.echo("no hits")
        return
    emit(list(rows[0]), [tuple(r.values()) for r in rows], fmt)


@skymap_group.command("listen")
@click.option("--max-polls", type=int, default=None, help="Stop after this many polls.")
@click.option(
    "--kafka-option",
    "kafka_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Extra librdkafka setting of the consumer (timeouts); repeatable.",
)
@db_option
def skymap_listen(
    max_polls: int | None, kafka_options: tuple[str, ...], db_url: str | None
) -> None:
    """Receive LVK notices from GCN (LANNER_GCN_* settings) until interrupted."""
    from lanner.cli.kafka import parse_options

    settings = Settings.for_db(db_url)
    extra = parse_options(kafka_options)
    stopping = {"now": False, "polls": 0}

    def stop() -> bool:
        stopping["polls"] = int(stopping["polls"]) + 1
        return bool(stopping["now"]) or (
            max_polls is not None and int(stopping["polls"]) > max_polls
        )

    def show(report: ListenReport) -> None:
        for o in report.outcomes:
            click.echo(
                f"notice {o.notice_id}: {o.decision}"
                + (f" as map {o.mw_id}, {o.hits} hits" if o.mw_id else "")
            )
        for reason in report.rejected:
            click.echo(f"rejected {reason}", err=True)

    def interrupt(*_: Any) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, interrupt)
    with open_for_cli(db_url) as store:
        listener = GcnListener(
            store, gcn_consumer(settings, extra=extra), settings.gcn_topic, selection_of(settings)
        )
        try:
            listener.run(stop, show)
        except KeyboardInterrupt:
            pass
        finally:
            listener.close()


COMMANDS = (skymap_group,)
