"""``lanner bench`` runs the whole pipeline on real alerts and reports every figure."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner.bench_alerts import onsky_v10_paths
from lanner.bench_scaling import NOT_LINEAR_RATIO, enricher_scaling
from lanner.cli import build_cli
from lanner.ingest import read_alerts

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "ztf"


def test_bench_reports_each_stage_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "lanner.sky_areas.bench.SIZES", {"n_cones": 20_000, "n_alerts": 1000, "n_archive": 5000}
    )
    result = CliRunner().invoke(
        build_cli(), ["bench", str(SAMPLE), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["alerts"] == 60 and figures["dead_letters"] == 0
    # One worker process per core by default, as lanner ingest runs.
    assert figures["workers"] == len(os.sched_getaffinity(0))
    assert set(figures["stages"]) == {
        "decode",
        "enrich",
        "store",
        "classify",
        "sky_areas",
        "filter",
    }
    assert {"sherlock", "objects_ztf", "ztf_magnitudes"} <= set(figures["enrichers"])
    assert all(v > 0 for v in figures["stages"].values())
    assert figures["end_to_end"] > 0 and figures["decode_only"] > 0
    assert figures["extra"]["filters_100_on_10000"]["n_filters"] == 100
    assert figures["extra"]["context"]["alerts"] == 60
    assert figures["extra"]["watchlists"]["cones"] == 20_000


def test_bench_reports_megabytes_and_ratios_to_decode() -> None:
    result = CliRunner().invoke(
        build_cli(), ["bench", str(SAMPLE), "--json"], catch_exceptions=False
    )
    figures = json.loads(result.output)
    size_mb = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file()) / 1e6
    assert figures["input_mb"] == pytest.approx(size_mb, rel=0.01)
    mb, ratio = figures["mb_per_s"], figures["vs_decode"]
    assert set(mb) == set(ratio)
    assert {"decode_only", "end_to_end", "stage:store", "enricher:sherlock"} <= set(mb)
    assert ratio["decode_only"] == 1.0
    # The ceiling is the faster of the passes before and after the timed run.
    assert figures["decode_only"] == max(
        figures["decode_only_before"], figures["decode_only_after"]
    )
    assert min(figures["decode_only_before"], figures["decode_only_after"]) > 0
    per_alert = figures["input_mb"] / figures["alerts"]
    assert mb["end_to_end"] == pytest.approx(figures["end_to_end"] * per_alert, rel=0.01)
    assert ratio["end_to_end"] == pytest.approx(
        figures["end_to_end"] / figures["decode_only"], rel=0.01
    )


def test_bench_with_worker_processes_runs_the_same_alerts() -> None:
    from lanner.bench import run_bench

    one = run_bench([SAMPLE], batch_size=10, stage_benches=False)
    two = run_bench([SAMPLE], batch_size=10, stage_benches=False, workers=2)
    assert (one.workers, two.workers) == (1, 2)
    assert one.peak_worker_memory_mb == 0 and two.peak_worker_memory_mb > 100
    assert one.alerts == two.alerts == 60 and one.dead_letters == two.dead_letters == 0
    assert set(two.stages) == set(one.stages) and all(v > 0 for v in two.stages.values())
    assert set(two.enrichers) == set(one.enrichers)
    # vs_decode is rounded to 3 decimals.
    assert two.end_to_end > 0 and two.vs_decode["end_to_end"] == pytest.approx(
        two.end_to_end / two.decode_only, abs=1e-3
    )


def test_enricher_scaling_reports_every_enricher(shared_dir: Path) -> None:
    batch = read_alerts(onsky_v10_paths(shared_dir), survey="lsst")
    result = enricher_scaling(batch, sizes=(40, 400))
    assert result.sizes == [40, 400]
    assert {"bazin_blackbody", "pair_colours", "sherlock", "all enrichers"} <= set(
        result.us_per_alert
    )
    for name, per_alert in result.us_per_alert.items():
        assert len(per_alert) == 2 and all(v > 0 for v in per_alert), name
        assert result.ratio[name] == pytest.approx(per_alert[1] / per_alert[0], abs=0.01)
    assert result.not_linear == [n for n, r in result.ratio.items() if r > NOT_LINEAR_RATIO]


@pytest.mark.kafka
def test_visit_delivers_every_alert(shared_dir: Path, pg_url: str) -> None:
    result = CliRunner().invoke(
        build_cli(),
        ["bench", "--visit", "200", "--db", pg_url, "--json"],
        catch_exceptions=False,
        env={"LANNER_SHARED": str(shared_dir)},
    )
    assert result.exit_code == 0, result.output
    visit = json.loads(result.output)
    assert visit["alerts"] == visit["stored_alerts"] == 200  # every alert arrived
    assert visit["workers"] == 2 and visit["filters"] == 10
    # The catch-all filter alone matches every object.
    assert visit["matches"] >= 200 and visit["pending_at_stop"] == 0
    # Every match on its filter's topic, once: [recorded, messages, distinct match ids].
    assert visit["matches_on_kafka"] == visit["distinct_on_kafka"] == visit["matches"]
    assert all(len(set(v)) == 1 for v in visit["per_filter"].values()), visit["per_filter"]
    # alerts/s is rounded to 0.1, seconds to 0.01: a slow run's rate differs by up to 0.05.
    assert visit["seconds"] > 0 and visit["alerts_per_s"] == pytest.approx(
        200 / visit["seconds"], rel=0.01, abs=0.06
    )
    assert visit["mb_per_s"] == pytest.approx(visit["input_mb"] / visit["seconds"], rel=0.05)
    # From the timed seconds, not the rounded rate: at a few alerts/s, rounding the rate to
    # 0.1 moves a core count of hundreds by more than one.
    per_core = 200 / visit["seconds"] / 2
    assert abs(visit["cores_for_night"] - math.ceil(10_000_000 / 36_000 / per_core)) <= 1
    assert abs(visit["cores_for_visit_in_60s"] - math.ceil(40_000 / 60 / per_core)) <= 1
    assert visit["decode_only_per_core"] > 0 and visit["peak_worker_memory_mb"] > 0


def test_bench_repeats_ztf_alerts_with_fresh_ids() -> None:
    from lanner.bench import run_bench

    figures = run_bench(
        [SAMPLE], batch_size=50, stage_benches=False, workers=1, alerts=130
    ).as_dict()
    assert figures["alerts"] == 130 and figures["dead_letters"] == 0
    # Input MB counts the copies (each with its stamps), not the 60 source alerts.
    size_mb = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file()) / 1e6
    assert figures["input_mb"] > 2 * size_mb
