"""``lanner bench --tns N`` generates a file of N rows in the real format and reports the
import times."""

from __future__ import annotations

import json

from click.testing import CliRunner

from lanner.cli import build_cli
from lanner.tns.csv_file import read_tns_bytes
from lanner.tns.recorded import Row, synthetic_rows, tns_file


def test_synthetic_rows_are_unique_and_on_the_sky(bts: list[Row]) -> None:
    rows = synthetic_rows([r for r in bts if r["name"]], 30_000)
    parsed = read_tns_bytes(tns_file(rows, zipped=True))
    assert parsed.table.num_rows == 30_000 and not parsed.rejected and parsed.repeated == 0


def test_bench_option_reports_times() -> None:
    result = CliRunner().invoke(build_cli(), ["bench", "--tns", "3000", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["rows"] == 3000 and figures["backend"] == "sqlite"
    assert figures["parse_s"] > 0 and figures["first_import_s"] > 0
    assert figures["rows_per_s_first"] > 0 and figures["daily_1000_s"] > 0
