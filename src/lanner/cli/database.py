"""``lanner db init`` and ``lanner db upgrade``: the schema step, apart from the workers.

The commands parse arguments and call :mod:`lanner.store.migrate`.
"""

from __future__ import annotations

from typing import cast

import click

from lanner.batch import Survey
from lanner.cli.options import SURVEY, db_option
from lanner.settings import Settings
from lanner.store.migrate import SchemaReport, init_database, upgrade_database


@click.group(name="db")
def db_group() -> None:
    """Create or upgrade a Lanner database (run before starting workers)."""


def _report(verb: str, report: SchemaReport) -> None:
    state = verb if report.changed else "already current"
    click.echo(f"{report.url}: {report.survey} database {state} (schema {report.fingerprint})")


@db_group.command(name="init")
@click.option("--survey", type=SURVEY, required=True, help="Survey the database serves.")
@db_option
def db_init(survey: str, db_url: str | None) -> None:
    """Create the tables of a new database (or complete an existing one)."""
    _report("created", init_database(Settings.for_db(db_url).db_url, cast(Survey, survey)))


@db_group.command(name="upgrade")
@db_option
def db_upgrade(db_url: str | None) -> None:
    """Add the tables, columns and indexes this version of Lanner declares."""
    _report("upgraded", upgrade_database(Settings.for_db(db_url).db_url))
