"""Target lists: ranked by the documented expression, reproducible, importable by the TOM
Toolkit (the CSV parses back), and a TNS AT-report draft with the fields TNS requires."""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner.cli import build_cli
from lanner.settings import Settings
from lanner.store import open_store
from lanner.targets import export
from lanner.targets.cases import CASES, case
from lanner.targets.lists import priority, targets


def test_list_names_the_cases_first() -> None:
    out = CliRunner().invoke(build_cli(), ["targets", "--list"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[: len(CASES)] == [c.name for c in CASES]


def test_young_snia_ranked_reproducible_and_exported(classified_url: str) -> None:
    settings = Settings(db_url=classified_url)
    store = open_store(classified_url, create=False)
    try:
        ranked = targets(settings, store, "young_snia")
        assert len(ranked) >= 3
        assert [t.rank for t in ranked] == list(range(1, len(ranked) + 1))
        assert all(a.priority >= b.priority for a, b in itertools.pairwise(ranked))
        for t in ranked:
            assert t.values["score"] is not None and float(t.values["score"]) > 0.5
            assert float(t.values["age_days"]) < 15
            p, reason = priority(case("young_snia"), t.values, "ztf")
            assert p == pytest.approx(t.priority) and reason == t.reason
            assert "score=" in t.reason and "visibility=" in t.reason
        assert targets(settings, store, "young_snia") == ranked  # reproducible
        # TOM Toolkit import file: parses back to the same targets.
        rows = list(csv.DictReader(io.StringIO(export.to_tom(ranked))))
        assert [r["name"] for r in rows] == [t.name for t in ranked]
        assert {r["type"] for r in rows} == {"SIDEREAL"}
        for r, t in zip(rows, ranked, strict=True):
            assert float(r["ra"]) == pytest.approx(t.ra, abs=1e-6)
            assert float(r["dec"]) == pytest.approx(t.dec, abs=1e-6)
            assert float(r["priority"]) == pytest.approx(t.priority)
        assert json.loads(export.to_json(ranked))[0]["name"] == ranked[0].name
        # TNS draft: every required field, for targets without a TNS entry.
        report = export.tns_report(store, ranked)["at_report"]
        assert len(report) == len(ranked)  # none of these is in crossmatch_tns here
        required = {
            "ra",
            "dec",
            "reporting_group_id",
            "discovery_data_source_id",
            "reporter",
            "discovery_datetime",
            "at_type",
            "internal_name",
            "non_detection",
            "photometry",
        }
        for entry in report.values():
            assert required <= set(entry)
            assert 0 <= entry["ra"]["value"] < 360 and -90 <= entry["dec"]["value"] <= 90
            phot = entry["photometry"]["photometry_group"]["0"]
            assert 10 < phot["flux"] < 25 and phot["flux_units"] == "1"
            assert len(entry["discovery_datetime"]) == 19
    finally:
        store.close()


def test_every_case_runs_and_the_cli_formats(classified_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    for c in CASES:
        out = runner.invoke(build_cli(), ["targets", c.name, "--db", classified_url])
        assert out.exit_code == 0, out.output
        header = out.output.splitlines()[0]
        assert header == ",".join(export.COLUMNS)
    out = runner.invoke(
        build_cli(), ["targets", "young_snia", "--format", "tom", "--db", classified_url]
    )
    assert out.output.splitlines()[0] == ",".join(export.TOM_COLUMNS)
    out = runner.invoke(build_cli(), ["targets", "nope", "--db", classified_url])
    assert out.exit_code != 0 and "young_snia" in out.output
