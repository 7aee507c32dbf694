"""``lanner bench``: the throughput benchmark (see :mod:`lanner.bench`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lanner.bench import BenchResult


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--batch-size", default=1000, show_default=True, help="Alerts per batch.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option(
    "--db",
    "db_url",
    default=None,
    help="An empty database to store into (e.g. postgresql://…); default: a temporary SQLite "
    "file. With --visit: the PostgreSQL server to use (a fresh schema is made and dropped).",
)
@click.option("--rubin", is_flag=True, help="Run on the shared on-sky Rubin lsst.v10_0 alerts.")
@click.option(
    "--scaling",
    is_flag=True,
    help="Time each enricher at batches of 1,000 and 40,000 on-sky Rubin alerts (linearity).",
)
@click.option(
    "--visit",
    type=int,
    default=None,
    is_flag=False,
    flag_value=40_000,
    help="Replay a synthetic Rubin visit of N alerts (default 40,000) through Kafka into "
    "2 lanner consume workers on PostgreSQL (--db) with 10 active filters.",
)
@click.option(
    "--tns",
    type=int,
    default=None,
    is_flag=False,
    flag_value=170_000,
    help="Time the import of a TNS public objects file of N rows (default 170,000), on a "
    "temporary SQLite file or on --db.",
)
@click.option(
    "--annotations",
    is_flag=True,
    help="Annotations written per second (single, bulk) and the latency from a write to the "
    "matches of the filters it re-runs (to their Kafka topic when LANNER_KAFKA is set).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that decode and enrich (as lanner ingest --workers N); this one stores. "
    "Default: one per core, as lanner ingest; 1: everything in this one process.",
)
@click.option(
    "--overlap/--serial",
    default=True,
    show_default=True,
    help="Prepare the next batch in a background thread while this one is stored (as "
    "lanner ingest, run and consume do), or run the stages one after the other.",
)
@click.option(
    "--alerts",
    "n_alerts",
    type=click.IntRange(min=1),
    default=None,
    help="The alerts repeated to N, each copy with fresh ids (distinct objects, in the "
    "survey's own format), so that there are many batches.",
)
def bench(
    paths: tuple[Path, ...],
    batch_size: int,
    as_json: bool,
    db_url: str | None,
    rubin: bool,
    scaling: bool,
    visit: int | None,
    tns: int | None,
    annotations: bool,
    workers: int | None,
    overlap: bool,
    n_alerts: int | None,
) -> None:
    """Measure alerts/s and MB/s of decoding, each stage, each enricher and end to end
    (default: the shared ZTF alerts of a checkout, else the ZTF sample shipped with Lanner)."""
    from lanner.bench import BenchError, default_alerts, run_bench, shared_dir
    from lanner.parallel import default_workers

    if annotations:
        _annotations(db_url, as_json)
        return
    try:
        if tns is not None:
            _tns(shared_dir(), db_url, tns, as_json)
            return
        if visit is not None:
            _visit(shared_dir(), db_url, visit, batch_size, as_json)
            return
        if scaling:
            _scaling(shared_dir(), as_json)
            return
        if rubin:
            from lanner.bench_alerts import onsky_v10_paths

            targets = onsky_v10_paths(shared_dir())
        else:
            targets = list(paths) or [default_alerts()]
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        result = run_bench(
            targets,
            batch_size,
            db_url=db_url,
            workers=workers or default_workers(),
            overlap=overlap,
            alerts=n_alerts,
        )
    except BenchError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=1))
        return
    _print(result)


def _line(label: str, result: BenchResult, key: str, rate: float) -> None:
    click.echo(
        f"{label:<32} {rate:>10} alerts/s {result.mb_per_s[key]:>9} MB/s "
        f"{result.vs_decode[key]:>7}× decode"
    )


def _print(result: BenchResult) -> None:
    click.echo(
        f"alerts {result.alerts} (dead letters {result.dead_letters}, {result.input_mb} MB), "
        f"batches of {result.batch_size}"
        + (f", {result.workers} worker processes" if result.workers > 1 else "")
        + ("" if result.overlap else ", stages run one after the other (--serial)")
    )
    _line("decode only", result, "decode_only", result.decode_only)
    click.echo(
        f"  (the faster of {result.decode_only_before} alerts/s just before the run and "
        f"{result.decode_only_after} just after)"
    )
    for stage, rate in result.stages.items():
        _line(f"stage {stage}", result, f"stage:{stage}", rate)
    for name, rate in result.enrichers.items():
        _line(f"  enricher {name}", result, f"enricher:{name}", rate)
    for name, rate in result.classifiers.items():
        _line(f"  classifier {name}", result, f"classifier:{name}", rate)
    _line("end to end", result, "end_to_end", result.end_to_end)
    if result.classifiers:
        key = "end_to_end_without_classifiers"
        _line("end to end without classifiers", result, key, result.end_to_end_without_classifiers)
    worker = (
        f" (largest worker {result.peak_worker_memory_mb} MB)"
        if result.peak_worker_memory_mb
        else ""
    )
    click.echo(f"peak memory {result.peak_memory_mb} MB{worker}")
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


def _annotations(db_url: str | None, as_json: bool) -> None:
    from lanner.bench_annotations import run_annotation_bench

    f = run_annotation_bench(db_url)
    if as_json:
        click.echo(json.dumps(f, indent=1))
        return
    click.echo(
        f"annotations on {f['backend']}, {f['objects']} objects, {f['active_filters']} active "
        f"filters ({f['filters_reading_the_annotator']} read the annotator)"
    )
    click.echo(f"single writes        {f['single_per_s']:>10} annotations/s")
    click.echo(
        f"bulk writes          {f['bulk_per_s']:>10} annotations/s (batches of "
        f"{f['bulk_batch']}: {f['bulk_vs_single']}x single)"
    )
    lat = f["rerun_latency_ms"]
    click.echo(
        f"write + re-run       {lat['median']:>10} ms median, {lat['max']} ms max "
        f"({f['rerun_vs_write_only']}x a write alone); {f['bulk_batch']} at once "
        f"{f['bulk_with_rerun_s']} s"
    )
    sent = f["delivered_ms"]
    if sent is None:
        click.echo("write -> Kafka        (set LANNER_KAFKA to measure the delivery)")
    else:
        click.echo(f"write -> Kafka       {sent['median']:>10} ms median, {sent['max']} ms max")


def _scaling(shared: Path, as_json: bool) -> None:
    from lanner.bench_alerts import onsky_v10_paths
    from lanner.bench_scaling import enricher_scaling
    from lanner.ingest import read_alerts

    result = enricher_scaling(read_alerts(onsky_v10_paths(shared), survey="lsst"))
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=1))
        return
    sizes = " / ".join(f"{s:,}" for s in result.sizes)
    click.echo(f"µs per alert at batches of {sizes} (ratio: last / first)")
    for name, per_alert in result.us_per_alert.items():
        values = " / ".join(f"{v:.2f}" for v in per_alert)
        click.echo(f"  {name:<26} {values:>20}   {result.ratio[name]:>5}")
    click.echo(f"not linear: {', '.join(result.not_linear) or 'none'}")
    click.echo(f"peak memory {result.peak_memory_mb} MB")


def _visit(shared: Path, db_url: str | None, n: int, batch_size: int, as_json: bool) -> None:
    from lanner.bench_visit import VisitError, run_visit

    if db_url is None:
        raise click.ClickException("--visit needs --db postgresql://…")
    try:
        result = run_visit(shared, db_url, n, batch_size)
    except VisitError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=1))
        return
    click.echo(
        f"visit: {result.alerts} alerts ({result.input_mb} MB) through Kafka into "
        f"{result.workers} workers, {result.filters} filters; {result.stored_alerts} stored, "
        f"{result.matches} matches recorded, {result.matches_on_kafka} messages on the filters' "
        f"topics ({result.distinct_on_kafka} distinct matches)"
    )
    off = {k: v for k, v in result.per_filter.items() if len(set(v)) > 1}
    if off or result.pending_at_stop:
        click.echo(
            f"not delivered exactly once: {off or 'none'}; "
            f"pending at stop: {result.pending_at_stop}"
        )
    click.echo(
        f"{result.seconds} s from the workers' start to the last delivered match: "
        f"{result.alerts_per_s} alerts/s, {result.mb_per_s} MB/s "
        f"({result.vs_decode}× decode-only per core, {result.decode_only_per_core} alerts/s)"
    )
    click.echo(
        f"cores needed at this rate: {result.cores_for_night} for 10 million alerts in a "
        f"10-hour night; {result.cores_for_visit_in_60s} for a 40,000-alert visit in 60 s"
    )
    click.echo(f"peak worker memory {result.peak_worker_memory_mb} MB")


def _tns(shared: Path, db_url: str | None, n: int, as_json: bool) -> None:
    from lanner.tns.bench import run_tns_bench

    result = run_tns_bench(shared, n, db_url)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=1))
        return
    click.echo(
        f"TNS import of {result.rows:,} rows ({result.file_mb} MB zipped) on {result.backend}: "
        f"parse {result.parse_s} s; first import {result.first_import_s} s "
        f"({result.rows_per_s_first:,} rows/s); same file again {result.same_file_s} s; "
        f"a daily file of 1,000 rows (100 reclassified) {result.daily_1000_s} s"
    )
