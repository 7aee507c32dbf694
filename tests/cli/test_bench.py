"""``lanner bench`` runs the whole pipeline on real alerts and reports every figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner.cli import build_cli

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
    assert set(figures["stages"]) == {
        "decode",
        "enrich",
        "store",
        "sky_areas",
        "filter",
        "distribute",
    }
    assert {"sherlock", "objects_ztf", "ztf_magnitudes"} <= set(figures["enrichers"])
    assert all(v > 0 for v in figures["stages"].values())
    assert figures["end_to_end"] > 0 and figures["decode_only"] > 0
    assert figures["extra"]["filters_100_on_10000"]["n_filters"] == 100
    assert figures["extra"]["context"]["alerts"] == 60
    assert figures["extra"]["watchlists"]["cones"] == 20_000
