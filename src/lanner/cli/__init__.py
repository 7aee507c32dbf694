"""Lanner's command line: one entry point, a subcommand per job.

Each subcommand lives in its own module of this package and is registered in
:func:`build_cli`; the commands only parse arguments and call the stages. Errors the user
can fix (a database that cannot be reached or is not set up, a bad setting) end as one
line on stderr and exit status 1; Ctrl-C ends with status 130 and no traceback.
"""

from __future__ import annotations

import importlib
import signal
from types import FrameType
from typing import Any

import click

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


#: Every command: name -> "module:attribute", imported only when it runs (or for --help),
#: so a command that computes nothing does not pay for importing the science stack.
COMMANDS = {
    "run": "lanner.cli.pipeline_commands:run",
    "ingest": "lanner.cli.pipeline_commands:ingest",
    "query": "lanner.cli.pipeline_commands:query",
    "filter": "lanner.cli.filters:filter_group",
    "user": "lanner.cli.filters:user_group",
    "digest": "lanner.cli.filters:digest_group",
    "consume": "lanner.cli.kafka:consume_command",
    "replay": "lanner.cli.kafka:replay_command",
    "deliver": "lanner.cli.deliver:deliver_command",
    "db": "lanner.cli.database:db_group",
    "bench": "lanner.cli.bench:bench",
    "schema": "lanner.cli.schema:schema",
    "context": "lanner.cli.context:context_command",
    "catalog": "lanner.cli.context:catalog_group",
    "data": "lanner.cli.data:data",
    "watchlist": "lanner.cli.watchlists:watchlist_group",
    "watchmap": "lanner.cli.watchlists:watchmap_group",
    "skymap": "lanner.cli.skymaps:skymap_group",
    "serve": "lanner.cli.serve:serve_command",
    "account": "lanner.cli.serve:account_group",
    "tns": "lanner.cli.tns:tns_group",
    "brokers": "lanner.cli.brokers:brokers_group",
    "annotator": "lanner.cli.annotations:annotator_group",
    "annotate": "lanner.cli.annotations:annotate_command",
    "annotations": "lanner.cli.annotations:annotations_group",
    "classifiers": "lanner.cli.classify:classifiers_command",
    "anomaly": "lanner.cli.classify:anomaly_group",
    "targets": "lanner.cli.targets:targets_command",
}


class LannerGroup(click.Group):
    """The top group: loads each command on first use, and turns the errors a user can
    fix into messages."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute = COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

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
    """The ``lanner`` command group (its commands load when used)."""
    return cli


#: Set by the SIGINT handler, so the exit status is 130 even if a library swallowed the
#: SystemExit it raised.
_INTERRUPT: list[int] = []


def _interrupted(signum: int, frame: FrameType | None) -> None:
    # SystemExit, unlike KeyboardInterrupt, is not turned into "Aborted!" by click and
    # prints no traceback; finally blocks still run (open transactions roll back).
    if not _INTERRUPT:
        click.echo("\ninterrupted", err=True)
    _INTERRUPT.append(signum)
    raise SystemExit(INTERRUPTED)


def main() -> None:
    """The ``lanner`` entry point: Ctrl-C at any moment ends with status 130."""
    signal.signal(signal.SIGINT, _interrupted)
    try:
        build_cli()(prog_name="lanner")
    except SystemExit as exc:
        if _INTERRUPT and exc.code != INTERRUPTED:
            raise SystemExit(INTERRUPTED) from None
        raise
