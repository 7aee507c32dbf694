"""Lanner's command line: one entry point, a subcommand per job.

Each subcommand lives in its own module of this package and is registered in
:func:`build_cli`; the commands only parse arguments and call the stages. Errors the user
can fix (a database that cannot be reached or is not set up, a bad setting) end as one
line on stderr and exit status 1; Ctrl-C ends with status 130 and no traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


class LannerGroup(click.Group):
    """The top group: turns the errors a user can fix into messages."""

    def invoke(self, ctx: click.Context) -> Any:
        from lanner.settings import SettingsError
        from lanner.store.backends import StoreError

        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\ninterrupted", err=True)
            ctx.exit(INTERRUPTED)
        except (StoreError, SettingsError) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=LannerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lanner")
def cli() -> None:
    """Lanner: an alert broker for the Rubin (LSST) and ZTF alert streams."""


def build_cli() -> click.Group:
    from lanner.cli import filters as filter_commands
    from lanner.cli import kafka as kafka_commands
    from lanner.cli import pipeline_commands
    from lanner.cli.bench import bench
    from lanner.cli.context import catalog_group, context_command
    from lanner.cli.database import db_group
    from lanner.cli.schema import schema

    for command in (
        *pipeline_commands.COMMANDS,
        *filter_commands.COMMANDS,
        *kafka_commands.COMMANDS,
    ):
        cli.add_command(command)
    for command in (bench, schema, context_command, catalog_group, db_group):
        cli.add_command(command)
    return cli


def main() -> None:
    try:
        group = build_cli()
    except KeyboardInterrupt:  # Ctrl-C while the commands are being imported
        click.echo("\ninterrupted", err=True)
        sys.exit(INTERRUPTED)
    group(prog_name="lanner")
