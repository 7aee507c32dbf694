"""Which classifiers ``LANNER_CLASSIFIERS`` selects, what ``lanner classifiers`` says of them,
and that each model loads once per process."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lanner.classify import registry
from lanner.cli import build_cli
from lanner.settings import Settings


def _names(choice: str, survey: str | None = None) -> list[str]:
    return [c.name for c in registry.selected(choice, survey)]


def test_auto_is_the_default_and_leaves_out_only_the_slow_classifier(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LANNER_CLASSIFIERS", raising=False)
    assert Settings().classifiers == "auto"
    every = list(registry.classifier_classes())
    assert _names("auto") == [n for n in every if n != "slsn"]
    assert _names("auto", "ztf") == ["roid", "snn_snia_vs_nonia", "snn_sn_vs_all", "anomaly_score"]
    assert _names("auto", "lsst") == ["snn_sn_vs_other"]
    assert _names("auto,slsn", "lsst") == ["snn_sn_vs_other", "slsn"]
    assert _names("slsn, roid") == ["roid", "slsn"]  # running order, not the order named
    assert _names("none") == []
    with pytest.raises(ValueError, match="unknown classifiers"):
        registry.selected("auto,snn")


def test_models_load_once_per_process() -> None:
    first = registry.selected("auto")
    again = registry.selected("auto,slsn")
    by_name = {c.name: c for c in again}
    assert all(by_name[c.name] is c for c in first)
    assert registry.load("slsn") is by_name["slsn"]


def test_the_listing_says_what_auto_runs_and_why_not() -> None:
    result = CliRunner().invoke(build_cli(), ["classifiers"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = {line.split("\t")[0]: line.split("\t") for line in result.output.splitlines()}
    assert set(rows) == set(registry.classifier_classes())
    assert rows["roid"][1:] == ["ztf", registry.classifier_classes()["roid"].version, "auto"]  # type: ignore[attr-defined]
    assert rows["snn_sn_vs_other"][3] == "auto"
    assert rows["slsn"][1] == "lsst"
    assert rows["slsn"][3].startswith("not in auto: a Rainbow fit per light curve")
