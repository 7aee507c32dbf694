"""``lanner bench --annotations`` at a small size: the figures are measured, and the
re-runs it times do record matches (a write fires the filters it should)."""

from __future__ import annotations

from lanner.bench_annotations import run_annotation_bench


def test_annotation_bench_figures() -> None:
    f = run_annotation_bench(None, n_objects=300, singles=8, bulk=100)
    assert f["backend"] == "sqlite" and f["objects"] == 300
    assert f["single_per_s"] > 0 and f["bulk_per_s"] > 0
    # The rates are rounded to 0.1 and the ratio to 0.1: the ratio of the rounded rates
    # differs from it by at most what those roundings allow.
    ratio = f["bulk_per_s"] / f["single_per_s"]
    slack = ratio * (0.05 / f["single_per_s"] + 0.05 / f["bulk_per_s"]) + 0.05
    assert abs(f["bulk_vs_single"] - ratio) <= slack * 1.01
    assert 0 < f["rerun_latency_ms"]["median"] <= f["rerun_latency_ms"]["max"]
    # Scores above every threshold: each of the five filters reading the annotator matched
    # each object annotated with a re-run, once per alert (the 2 singles are among the 100).
    assert f["matches_recorded"] == 5 * 100
    assert f["delivered_ms"] is None  # no broker configured
