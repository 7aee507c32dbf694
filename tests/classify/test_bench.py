"""``lanner bench`` times the classifiers ``auto`` selects and gives the end to end figure
with and without them."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.bench import run_bench
from lanner.classify import registry

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "ztf"


def test_bench_times_the_auto_classifiers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANNER_CLASSIFIERS", raising=False)
    result = run_bench([SAMPLE], batch_size=20, stage_benches=False)
    assert list(result.classifiers) == [c.name for c in registry.selected("auto", "ztf")]
    assert all(rate > 0 for rate in result.classifiers.values())
    # The classifiers' time is part of the wall time: without them the pipeline is faster,
    # by the time of the classify stage.
    assert result.end_to_end_without_classifiers > result.end_to_end > 0
    wall = result.alerts / result.end_to_end
    classify = result.alerts / result.stages["classify"]
    assert result.end_to_end_without_classifiers == pytest.approx(
        result.alerts / (wall - classify), rel=0.02
    )
    assert "end_to_end_without_classifiers" in result.vs_decode

    monkeypatch.setenv("LANNER_CLASSIFIERS", "none")
    bare = run_bench([SAMPLE], batch_size=20, stage_benches=False)
    assert bare.classifiers == {}
    assert bare.end_to_end_without_classifiers == pytest.approx(bare.end_to_end, rel=0.05)
