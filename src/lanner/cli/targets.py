"""``lanner targets``: the science cases' ranked target lists.

``lanner targets --list`` prints the case names, one per line; ``lanner targets CASE
[--format csv|json|tom|tns] [--limit N]`` prints its ranked list (see
:mod:`lanner.targets`).
"""

from __future__ import annotations

import json

import click

from lanner.cli.options import db_option
from lanner.cli.watchlists import open_for_cli
from lanner.settings import Settings


@click.command("targets")
@click.argument("science_case", required=False)
@click.option("--list", "list_cases", is_flag=True, help="List the science cases, one per line.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "tom", "tns"]),
    default="csv",
    show_default=True,
    help="csv/json: ranked list with reasons; tom: TOM Toolkit import CSV; tns: AT-report "
    "JSON draft for targets not yet on the TNS.",
)
@click.option("--limit", type=int, default=None, help="Keep the first N targets.")
@db_option
def targets_command(
    science_case: str | None, list_cases: bool, fmt: str, limit: int | None, db_url: str | None
) -> None:
    """Ranked target list of a science case (a public filter plus a ranking expression)."""
    from lanner.targets import export
    from lanner.targets.cases import CASES
    from lanner.targets.lists import targets

    if list_cases or science_case is None:
        for c in CASES:
            click.echo(c.name)
        if not list_cases:
            raise click.UsageError("give a SCIENCE_CASE (one of the names above) or --list")
        click.echo()
        for c in CASES:
            click.echo(f"{c.name}: {c.description}")
        return
    settings = Settings.for_db(db_url)
    with open_for_cli(db_url) as store:
        ranked = targets(settings, store, science_case, limit)
        if fmt == "csv":
            click.echo(export.to_csv(ranked), nl=False)
        elif fmt == "json":
            click.echo(export.to_json(ranked))
        elif fmt == "tom":
            click.echo(export.to_tom(ranked), nl=False)
        else:
            click.echo(json.dumps(export.tns_report(store, ranked), indent=1))
