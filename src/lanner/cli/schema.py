"""``lanner schema``: the tables and columns a filter can use, with units and descriptions."""

from __future__ import annotations

import json

import click

from lanner.schema.registry import filterable_tables, tables_for


@click.command()
@click.argument("table", required=False)
@click.option("--survey", type=click.Choice(["lsst", "ztf"]), default="lsst", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Also tables filters cannot name.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def schema(table: str | None, survey: str, show_all: bool, as_json: bool) -> None:
    """Show the schema of a survey's database (the filter builder's reference)."""
    tables = tables_for(survey) if show_all else filterable_tables(survey)  # type: ignore[arg-type]
    if table is not None:
        if table not in tables:
            raise click.ClickException(f"no table {table!r}; tables: {', '.join(sorted(tables))}")
        tables = {table: tables[table]}
    if as_json:
        click.echo(
            json.dumps(
                {
                    name: {
                        "description": t.description,
                        "filterable": t.filterable,
                        "columns": [
                            {
                                "name": c.name,
                                "type": c.type,
                                "unit": c.unit,
                                "description": c.description,
                                "producer": c.producer,
                            }
                            for c in t.columns
                        ],
                    }
                    for name, t in tables.items()
                },
                indent=1,
            )
        )
        return
    for name, t in tables.items():
        click.echo(f"{name}: {t.description}")
        for c in t.columns:
            unit = f" [{c.unit}]" if c.unit else ""
            click.echo(f"  {c.name:<32} {c.type:<9}{unit} {c.description}")
        click.echo()
