"""``lanner context`` and ``lanner catalog`` through click."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner.cli import build_cli
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


def test_context_of_a_stored_object_and_sql_on_the_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANNER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LANNER_DB", raising=False)
    runner = CliRunner()
    cli = build_cli()
    assert runner.invoke(cli, ["run", "--survey", "ztf"]).exit_code == 0
    sql = (
        "SELECT o.objectId, o.ramean, o.decmean, s.classification FROM objects o "
        "JOIN sherlock_classifications s ON s.objectId = o.objectId ORDER BY o.objectId"
    )
    out = runner.invoke(cli, ["query", sql, "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert rows and all(r["classification"] is not None for r in rows)
    first = rows[0]
    by_id = runner.invoke(cli, ["context", "--object", first["objectId"], "--json"])
    assert by_id.exit_code == 0, by_id.output
    answer = json.loads(by_id.output)
    assert (answer["ra"], answer["dec"]) == (first["ramean"], first["decmean"])
    by_position = runner.invoke(
        cli, ["context", str(first["ramean"]), str(first["decmean"]), "--json"]
    )
    assert json.loads(by_position.output)["classification"] == answer["classification"]
    unknown = runner.invoke(cli, ["context", "--object", "ZTF00nothere"])
    assert unknown.exit_code != 0 and "not in the database" in unknown.output
