"""Printing result rows: an aligned table, JSON (64-bit ids exact) or CSV."""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

import click


def emit(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    """Print rows as an aligned table, JSON (64-bit ids exact) or CSV."""
    if fmt == "json":
        click.echo(
            json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str, indent=1)
        )
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        text = [[("" if v is None else str(v)) for v in r] for r in rows]
        widths = [max([len(c)] + [len(r[i]) for r in text]) for i, c in enumerate(columns)]
        click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        for r in text:
            click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
