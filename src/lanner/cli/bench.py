"""``lanner bench``: the throughput benchmark (see :mod:`lanner.bench`)."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--batch-size", default=1000, show_default=True, help="Alerts per batch.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option(
    "--db",
    "db_url",
    default=None,
    help="An empty database to store into (e.g. postgresql://…); default: a temporary SQLite file.",
)
def bench(paths: tuple[Path, ...], batch_size: int, as_json: bool, db_url: str | None) -> None:
    """Measure alerts/s of decoding, each stage and end to end on real alerts (default:
    the shared ZTF alerts of a checkout, else the ZTF sample shipped with Lanner)."""
    from lanner.bench import BenchError, default_alerts, run_bench

    targets = list(paths) or [default_alerts()]
    try:
        result = run_bench(targets, batch_size, db_url=db_url)
    except BenchError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=1))
        return
    click.echo(
        f"alerts {result.alerts} (dead letters {result.dead_letters}), "
        f"batches of {result.batch_size}"
    )
    click.echo(f"decode only      {result.decode_only:>10} alerts/s")
    for stage, rate in result.stages.items():
        click.echo(f"stage {stage:<10} {rate:>10} alerts/s")
    for name, rate in result.enrichers.items():
        click.echo(f"  enricher {name:<20} {rate:>10} alerts/s")
    click.echo(f"end to end       {result.end_to_end:>10} alerts/s")
    click.echo(f"peak memory      {result.peak_memory_mb:>10} MB")
    filters = result.extra.get("filters_100_on_10000")
    if isinstance(filters, dict):
        click.echo(
            f"filters: {filters['n_filters']} on a {filters['n_rows']}-object batch in "
            f"{filters['run_s']} s ({filters['per_filter_ms']['mean']} ms each, "
            f"compiled once in {filters['compile_s']} s)"
        )
    context = result.extra.get("context")
    if isinstance(context, dict):
        click.echo(
            f"context: {context['alerts_per_s']:.0f} alerts/s warm; library load "
            f"{context['library_load_s']:.2f} s; cold partition read "
            f"{1000 * context['cold_partition_load_s']:.1f} ms"
        )
    sky = result.extra.get("watchlists")
    if isinstance(sky, dict):
        click.echo(
            f"watchlists: {sky['cones']} cones x {sky['alerts']} alerts in "
            f"{sky['batch_match_s']} s ({sky['cone_alert_pairs_per_s']:.3g} pairs/s); retro-match "
            f"over {sky['archive_objects']} objects {sky['watchlist_add_and_retro_match_s']} s"
        )
