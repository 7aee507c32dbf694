"""Options shared by several command modules, kept apart so that a command importing them
does not import the pipeline."""

from __future__ import annotations

import click

from lanner.settings import option_help

SURVEY = click.Choice(["lsst", "ztf"])
db_option = click.option("--db", "db_url", default=None, help=option_help("db_url"))
