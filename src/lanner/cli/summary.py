"""The end-of-run lines every pipeline command prints after its totals: dead letters by
reason, filter failures and truncations, batch latency, and (for workers) the faults
survived. Input: a :class:`~lanner.pipeline.RunSummary` and optionally the run's
:class:`~lanner.observe.metrics.Metrics`. Output: lines on stdout (failures on stderr).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from lanner.observe.metrics import Metrics
    from lanner.pipeline import RunSummary


def print_run_metrics(
    summary: RunSummary, metrics: Metrics | None = None, reasons: bool = True
) -> None:
    """Print what a run counted beyond alerts and matches; ``reasons``: the dead letters
    by kind of reason (when the caller has not listed them already)."""
    if reasons and summary.dead_letter_reasons:
        click.echo(
            "dead letters by reason: "
            + ", ".join(f"{k}: {n}" for k, n in sorted(summary.dead_letter_reasons.items()))
        )
    for name, n in summary.truncated.items():
        click.echo(f"filter {name}: result cut at the row cap in {n} batches", err=True)
    for name, error in summary.filter_errors.items():
        kind = "timed out" if name in summary.filter_timeouts else "failed"
        click.echo(f"filter {name} {kind}: {error}", err=True)
    if summary.batches:
        total = sum(summary.seconds.values())
        click.echo(
            f"batches         : {summary.batches}, {total / summary.batches:.3f} s each on average"
        )
    if metrics is not None:
        outages = metrics.value("lanner_database_outages_total")
        commits = metrics.value("lanner_failed_commits_total")
        if outages or commits:
            click.echo(
                f"faults survived : {outages:.0f} database outages, {commits:.0f} refused commits"
            )
