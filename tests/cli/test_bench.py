"""``lanner bench`` runs the whole pipeline on real alerts and reports every figure."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from lanner.cli import build_cli

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "ztf"


def test_bench_reports_each_stage_as_json() -> None:
    result = CliRunner().invoke(
        build_cli(), ["bench", str(SAMPLE), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["alerts"] == 60 and figures["dead_letters"] == 0
    assert set(figures["stages"]) == {"decode", "enrich", "store", "sky_areas", "filter", "distribute"}
    assert {"sherlock", "objects_ztf", "ztf_magnitudes"} <= set(figures["enrichers"])
    assert all(v > 0 for v in figures["stages"].values())
    assert figures["end_to_end"] > 0 and figures["decode_only"] > 0
    assert figures["extra"]["filters_100_on_10000"]["n_filters"] == 100
    assert figures["extra"]["context"]["alerts"] == 60
