"""``lanner serve``: the web server (REST API, web site, metrics); ``lanner account``: the
web side of a user (password, tier, API tokens).

``lanner serve`` runs uvicorn with ``--workers`` processes (default
``LANNER_SERVE_WORKERS``, 4), each building the application with
:func:`lanner.serve.app.create_app` from the environment; ``--db`` is handed to them as
``LANNER_DB``. Prometheus values of all workers are pooled in a folder
(``PROMETHEUS_MULTIPROC_DIR``, a temporary one unless set). Uvicorn's own access log is off:
the application logs each request with tokens in query strings hidden.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import click

from lanner.cli.options import db_option
from lanner.settings import Settings, option_help

#: Seconds a worker may take to answer the supervisor's health check before it is restarted
#: (uvicorn's default, 5 s, restarts busy workers on a loaded machine).
WORKER_HEALTHCHECK_S = 60


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@db_option
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help=option_help("serve_workers")
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def serve_command(
    host: str, port: int, db_url: str | None, workers: int | None, log_level: str
) -> None:
    """Serve the REST API (Lasair's routes under /api/, Lanner's under /api/v1/), the web
    site and /metrics."""
    import uvicorn

    from lanner.store import open_store

    settings = Settings.for_db(db_url)
    store = open_store(settings.db_url, create=False)  # fail here, once, if it is missing
    store.close()
    if db_url:
        os.environ["LANNER_DB"] = db_url
    own_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_dir = tempfile.mkdtemp(prefix="lanner-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_dir
    try:
        uvicorn.run(
            "lanner.serve.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers or settings.serve_workers,
            access_log=False,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
            log_level=log_level,
            proxy_headers=True,
        )
    finally:
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)


@click.group("account")
def account_group() -> None:
    """A user's web account: password, tier, API tokens."""


def _user_id(store: object, username: str) -> int:
    from lanner.filter.users import user_by_name

    return user_by_name(store, username).user_id  # type: ignore[arg-type]


@account_group.command("password")
@click.argument("username")
@db_option
@click.password_option("--password", prompt="New password", help="The password (prompted).")
def account_password(username: str, db_url: str | None, password: str) -> None:
    """Set USERNAME's password (for the web site and /api/auth-token/)."""
    from lanner.filter.errors import FilterError
    from lanner.serve import accounts
    from lanner.store import open_store

    store = open_store(Settings.for_db(db_url).db_url, create=False)
    try:
        accounts.set_password(store, _user_id(store, username), password)
    except (ValueError, FilterError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"password of {username} set")


@account_group.command("tier")
@click.argument("username")
@click.argument("tier", type=click.Choice(["anon", "user", "power"]))
@click.option("--query-timeout", type=float, default=None, help="Their own query time limit (s).")
@db_option
def account_tier(username: str, tier: str, query_timeout: float | None, db_url: str | None) -> None:
    """Put USERNAME in TIER: hourly call limit and row cap (LANNER_API_RATES, _ROW_CAPS)."""
    from lanner.filter.errors import FilterError
    from lanner.serve import accounts
    from lanner.store import open_store

    store = open_store(Settings.for_db(db_url).db_url, create=False)
    try:
        accounts.set_tier(store, _user_id(store, username), tier, query_timeout)
    except (ValueError, FilterError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"{username} is in tier {tier}")


@account_group.command("token")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Delete every token of the user instead.")
@db_option
def account_token(username: str, revoke: bool, db_url: str | None) -> None:
    """Make a new API token for USERNAME (shown only now), or --revoke them all."""
    from lanner.filter.errors import FilterError
    from lanner.serve import accounts
    from lanner.store import open_store

    store = open_store(Settings.for_db(db_url).db_url, create=False)
    try:
        user_id = _user_id(store, username)
        if revoke:
            click.echo(f"{accounts.revoke_tokens(store, user_id)} token(s) revoked")
        else:
            click.echo(accounts.issue_token(store, user_id, label="cli"))
    except FilterError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
