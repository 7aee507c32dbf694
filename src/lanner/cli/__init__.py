"""Lanner's command line: one entry point, a subcommand per job.

Each subcommand lives in its own module of this package and is registered in
:func:`build_cli`; the commands only parse arguments and call the stages.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lanner")
def cli() -> None:
    """Lanner: an alert broker for the Rubin (LSST) and ZTF alert streams."""


def build_cli() -> click.Group:
    from lanner.cli import deliver as deliver_commands
    from lanner.cli import filters as filter_commands
    from lanner.cli import kafka as kafka_commands
    from lanner.cli import pipeline_commands
    from lanner.cli import skymaps as skymap_commands
    from lanner.cli import watchlists as watchlist_commands
    from lanner.cli.bench import bench
    from lanner.cli.context import catalog_group, context_command
    from lanner.cli.data import data
    from lanner.cli.schema import schema

    for command in (
        *pipeline_commands.COMMANDS,
        *filter_commands.COMMANDS,
        *kafka_commands.COMMANDS,
        *deliver_commands.COMMANDS,
        *watchlist_commands.COMMANDS,
        *skymap_commands.COMMANDS,
    ):
        cli.add_command(command)
    for command in (bench, schema, context_command, catalog_group, data):
        cli.add_command(command)
    return cli


def main() -> None:
    build_cli()(prog_name="lanner")
