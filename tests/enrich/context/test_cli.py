"""``lanner context`` and ``lanner catalog`` through click."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from lanner.cli.context import catalog_group, context_command


def test_context_of_a_position() -> None:
    result = CliRunner().invoke(context_command, ["187.2779155", "2.0523883", "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert row["classification"] == "AGN"
    assert row["catalogue_object_id"] == "3C 273"


def test_context_rejects_bad_positions_and_arguments() -> None:
    runner = CliRunner()
    bad = runner.invoke(context_command, ["10", "--", "-95"])
    assert bad.exit_code != 0 and "not valid sky positions" in bad.output
    assert runner.invoke(context_command, []).exit_code != 0


def test_catalog_import_and_list(tmp_path: Path, catalogs: Path) -> None:
    runner = CliRunner()
    src = catalogs / "agn_qso/3hsp_blazars.csv.gz"
    args = [
        "import",
        "hsp",
        str(src),
        "--role",
        "agn",
        "--ra",
        "ra",
        "--dec",
        "dec",
        "--id",
        "name",
        "--library",
        str(tmp_path),
    ]
    result = runner.invoke(catalog_group, args)
    assert result.exit_code == 0, result.output
    assert "hsp: 2013 rows" in result.output
    listing = runner.invoke(catalog_group, ["list", "--library", str(tmp_path)])
    assert "hsp" in listing.output and "gwgc" in listing.output
    missing = runner.invoke(
        catalog_group, [*args[:5], "--ra", "RAJ2000", "--dec", "dec", "--library", str(tmp_path)]
    )
    assert missing.exit_code != 0 and "no column 'RAJ2000'" in missing.output
