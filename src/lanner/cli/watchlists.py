"""``lanner watchlist …`` and ``lanner watchmap …``: upload, list, show, activate, delete
watchlists (cones) and watchmaps (MOCs), and read their hits.

The commands parse arguments and call :mod:`lanner.sky_areas.watchlists` and
:mod:`lanner.sky_areas.watchmaps`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from lanner.cli.output import emit
from lanner.cli.pipeline_commands import db_option
from lanner.filter.errors import FilterError
from lanner.filter.users import ensure_local_user, user_by_name
from lanner.settings import Settings
from lanner.sky_areas import watchlists as wl
from lanner.sky_areas import watchmaps as wm
from lanner.sky_areas.cone_files import ConeFileError, read_cones
from lanner.store import Store, StoreError, open_store

user_option = click.option(
    "--user", "username", default=None, help="Act as this user (default: the local user)."
)
survey_option = click.option(
    "--survey",
    type=click.Choice(["ztf", "lsst"]),
    default=None,
    help="Survey of a new, empty database.",
)
format_option = click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table"
)


@contextmanager
def open_for_cli(db_url: str | None, survey: str | None = None) -> Iterator[Store]:
    """The store of ``--db``, with errors turned into command-line messages."""
    settings = Settings.for_db(db_url)
    try:
        store = open_store(settings.db_url, survey)  # type: ignore[arg-type]
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        if store.survey is None:
            raise click.ClickException(
                "the database has no survey yet: ingest alerts first or pass --survey"
            )
        yield store
    except (FilterError, StoreError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()


def owner_of(store: Store, username: str | None) -> int:
    return ensure_local_user(store) if username is None else user_by_name(store, username).user_id


def _show(record: Any, fmt: str) -> None:
    values = asdict(record)
    emit(list(values), [tuple(values.values())], fmt)


def _rows(rows: list[dict[str, Any]], fmt: str) -> None:
    if not rows:
        click.echo("no hits")
        return
    emit(list(rows[0]), [tuple(r.values()) for r in rows], fmt)


@click.group("watchlist")
def watchlist_group() -> None:
    """Watchlists: named lists of cones matched against every alert."""


@watchlist_group.command("add")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--radius",
    type=float,
    default=wl.DEFAULT_RADIUS,
    show_default=True,
    help="Default cone radius [arcsec] for lines that give none (at most 1800).",
)
@click.option("--public", is_flag=True, help="Let every user's filters read it.")
@click.option("--active", is_flag=True, help="Match incoming alerts (for 180 days).")
@click.option("--description", default="", help="What the watchlist is for.")
@user_option
@survey_option
@db_option
def watchlist_add(
    name: str,
    file: Path,
    radius: float,
    public: bool,
    active: bool,
    description: str,
    username: str | None,
    survey: str | None,
    db_url: str | None,
) -> None:
    """Upload a watchlist: CSV lines 'RA, Dec, ID[, radius]' (',' or '|'), VOTable or FITS."""
    try:
        cones = read_cones(file.read_bytes(), file.name)
    except ConeFileError as exc:
        raise click.ClickException(str(exc)) from exc
    with open_for_cli(db_url, survey) as store:
        watchlist, hits = wl.add_watchlist(
            store,
            name,
            cones,
            radius=radius,
            owner_id=owner_of(store, username),
            public=public,
            active=active,
            description=description,
        )
    click.echo(
        f"watchlist {watchlist.wl_id} {name!r}: {watchlist.ncones} cones, "
        f"{hits} archived objects inside (use watchlist:{watchlist.wl_id} in filters)"
    )


@watchlist_group.command("list")
@user_option
@format_option
@db_option
def watchlist_list(username: str | None, fmt: str, db_url: str | None) -> None:
    """Your watchlists and the public ones."""
    with open_for_cli(db_url) as store:
        lists = wl.list_watchlists(store, owner_of(store, username))
    cols = ["wl_id", "name", "ncones", "radius", "public", "active", "expires"]
    emit(cols, [tuple(asdict(w)[c] for c in cols) for w in lists], fmt)


def _owned_commands(group: click.Group, noun: str, module: Any, helps: dict[str, str]) -> None:
    """show / activate / deactivate / delete / hits NAME for a watchlist or a watchmap:
    ``module`` has ``find_<noun>``, ``<noun>_hits``, ``delete_<noun>`` and ``set_active``."""
    find = getattr(module, f"find_{noun}")
    hits = getattr(module, f"{noun}_hits")
    delete = getattr(module, f"delete_{noun}")

    def make(action: str) -> None:
        @group.command(action, help=helps[action])
        @click.argument("name")
        @user_option
        @format_option
        @click.option("--limit", default=1000, show_default=True, help="Most hits shown.")
        @db_option
        def command(
            name: str, username: str | None, fmt: str, limit: int, db_url: str | None
        ) -> None:
            with open_for_cli(db_url) as store:
                owner = owner_of(store, username)
                found = find(store, name, owner)
                if action == "show":
                    _show(found, fmt)
                elif action == "hits":
                    _rows(hits(store, found, limit), fmt)
                elif action == "delete":
                    delete(store, found, owner_id=owner)
                    click.echo(f"deleted {noun} {found.name!r}")
                else:
                    done = module.set_active(store, found, action == "activate", owner_id=owner)
                    click.echo(f"{noun} {done.name!r} active={done.active} expires={done.expires}")

    for action in helps:
        make(action)


_owned_commands(
    watchlist_group,
    "watchlist",
    wl,
    {
        "show": "A watchlist's settings.",
        "activate": "Match incoming alerts for 180 days (renews an active one).",
        "deactivate": "Stop matching incoming alerts.",
        "delete": "Delete a watchlist, its cones and hits.",
        "hits": "Objects inside the cones of a watchlist.",
    },
)


@click.group("watchmap")
def watchmap_group() -> None:
    """Watchmaps: sky areas (MOCs) matched against every alert."""


@watchmap_group.command("add")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public", is_flag=True, help="Let every user's filters read it.")
@click.option("--active", is_flag=True, help="Match incoming alerts (for 180 days).")
@click.option("--description", default="", help="What the watchmap is for.")
@user_option
@survey_option
@db_option
def watchmap_add(
    name: str,
    file: Path,
    public: bool,
    active: bool,
    description: str,
    username: str | None,
    survey: str | None,
    db_url: str | None,
) -> None:
    """Upload a watchmap: a FITS MOC (NUNIQ or RANGE) or an ASCII/JSON MOC string."""
    try:
        moc = wm.read_moc(file.read_bytes())
    except wm.MocError as exc:
        raise click.ClickException(str(exc)) from exc
    with open_for_cli(db_url, survey) as store:
        watchmap, hits = wm.add_watchmap(
            store,
            name,
            moc,
            owner_id=owner_of(store, username),
            public=public,
            active=active,
            description=description,
        )
    click.echo(
        f"watchmap {watchmap.ar_id} {name!r}: {watchmap.area:.2f} deg2, {hits} archived "
        f"objects inside (use watchmap:{watchmap.ar_id} in filters)"
    )


@watchmap_group.command("list")
@user_option
@format_option
@db_option
def watchmap_list(username: str | None, fmt: str, db_url: str | None) -> None:
    """Your watchmaps and the public ones."""
    with open_for_cli(db_url) as store:
        maps = wm.list_watchmaps(store, owner_of(store, username))
    cols = ["ar_id", "name", "area", "public", "active", "expires"]
    emit(cols, [tuple(asdict(m)[c] for c in cols) for m in maps], fmt)


_owned_commands(
    watchmap_group,
    "watchmap",
    wm,
    {
        "show": "A watchmap's settings.",
        "activate": "Match incoming alerts for 180 days (renews an active one).",
        "deactivate": "Stop matching incoming alerts.",
        "delete": "Delete a watchmap and its hits.",
        "hits": "Objects inside a watchmap.",
    },
)

COMMANDS = (watchlist_group, watchmap_group)
