"""The CLI a newcomer uses: run, ingest, query, filter add/list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner.cli import build_cli


@pytest.fixture()
def runner(lanner_home: Path) -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(build_cli(), list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("survey", "alerts"), [("lsst", 70), ("ztf", 60)])
def test_run_ingests_the_bundled_sample(runner: CliRunner, survey: str, alerts: int) -> None:
    out = invoke(runner, "run", "--survey", survey)
    assert f"alerts ingested : {alerts}" in out
    assert "rejected        : 0" in out
    objects = int(out.split("objects         : ")[1].split()[0])
    assert 0 < objects <= alerts


def test_ingest_reports_dead_letters_and_exits_zero(
    runner: CliRunner, tmp_path: Path, alerts_dir: Path
) -> None:
    bad = tmp_path / "bad.avro"
    bad.write_bytes(b"Obj\x01 broken")
    good = alerts_dir / "ztf" / "boom-astro__boom" / "data"
    out = invoke(runner, "ingest", str(good), str(bad))
    assert "rejected        : 1" in out
    notes = list((tmp_path / "home" / "deadletter").glob("*.json"))
    assert len(notes) == 1 and json.loads(notes[0].read_text())["origin"] == str(bad)


def test_query_json_keeps_64_bit_ids(runner: CliRunner) -> None:
    invoke(runner, "run", "--survey", "lsst")
    out = invoke(
        runner, "query", "SELECT diaObjectId FROM objects ORDER BY diaObjectId", "--format", "json"
    )
    ids = [r["diaObjectId"] for r in json.loads(out)]
    assert max(ids) > 2**53 and all(isinstance(i, int) for i in ids)


def test_active_filter_matches_are_kept_and_counted(runner: CliRunner) -> None:
    invoke(runner, "run", "--survey", "lsst")
    invoke(
        runner,
        "filter",
        "add",
        "bright",
        "SELECT diaObjectId, latest_psfFlux FROM objects WHERE latest_psfFlux > 10000",
        "--active",
    )
    assert "bright  1      yes" in invoke(runner, "filter", "list")
    sample = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "lsst"
    out = invoke(runner, "ingest", str(sample))
    n = int(out.split("bright: ")[1].split()[0])
    expected = json.loads(
        invoke(
            runner,
            "query",
            "SELECT count(*) AS n FROM objects WHERE latest_psfFlux > 10000",
            "--format",
            "json",
        )
    )[0]["n"]
    assert n == expected > 0


def test_bad_filter_is_rejected_with_a_message(runner: CliRunner) -> None:
    invoke(runner, "run", "--survey", "lsst")
    result = runner.invoke(build_cli(), ["filter", "add", "evil", "DROP TABLE objects"])
    assert result.exit_code != 0
    assert "one SELECT statement" in result.output


def test_survey_is_peeked_without_losing_or_reading_ahead(alerts_dir: Path) -> None:
    from lanner.cli.pipeline_commands import _peek_survey
    from lanner.ingest import iter_packets
    from lanner.ingest.packets import RawPacket

    real = list(iter_packets([alerts_dir / "lsst" / "boom-astro__boom"]))
    pulled = []

    def stream():  # type: ignore[no-untyped-def]
        for p in [RawPacket(b"junk", "junk"), *real]:
            pulled.append(p.origin)
            yield p

    survey, packets = _peek_survey(stream())
    assert survey == "lsst"
    assert pulled == ["junk", real[0].origin]  # stopped at the first alert that decodes
    assert [p.origin for p in packets] == ["junk", *(p.origin for p in real)]
