"""Contract: every column of Lasair's ``objects`` table exists in Lanner's, or is documented.

The names come from ``lasair_objects_columns.json`` (read from Lasair's schema files; the
file says where and at which commit). A Lasair column Lanner lacks must be listed, with its
reason, in the table "Lasair columns without a Lanner column" of ``docs/lasair-parity.md``;
a listed column that Lanner has after all fails too, so the list stays true.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lanner.batch import Survey
from lanner.schema.registry import tables_for

HERE = Path(__file__).parent
DOC = HERE.parents[2] / "docs" / "lasair-parity.md"
ABSENT_HEADING = "## Lasair columns without a Lanner column"


def lasair_columns(survey: Survey) -> list[str]:
    data = json.loads((HERE / "lasair_objects_columns.json").read_text())[survey]
    return [*data["fields"], *data.get("ext_fields", [])]


def documented_absent(survey: Survey) -> dict[str, str]:
    """``{column: reason}`` of the docs' table of absent columns, for ``survey``."""
    text = DOC.read_text()
    assert ABSENT_HEADING in text, f"{DOC.name} lacks the section {ABSENT_HEADING!r}"
    section = text.split(ABSENT_HEADING, 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1] == survey:
            out[cells[0].strip("`")] = cells[2]
    return out


def test_the_lasair_name_lists_are_complete() -> None:
    # Counts of the schema files at the recorded commits: 63 fields + 64 ext_fields, 43.
    assert len(lasair_columns("lsst")) == 127 and len(set(lasair_columns("lsst"))) == 127
    assert len(lasair_columns("ztf")) == 43 and len(set(lasair_columns("ztf"))) == 43
    assert re.fullmatch(r"[ugrizy]_psfFluxMaxSlope", lasair_columns("lsst")[-2])


@pytest.mark.parametrize("survey", ["lsst", "ztf"])
def test_every_lasair_objects_column_exists_or_is_documented(survey: Survey) -> None:
    declared = {c.name: c for c in tables_for(survey)["objects"].columns}
    absent = documented_absent(survey)
    missing = [n for n in lasair_columns(survey) if n not in declared]
    assert sorted(missing) == sorted(absent), "undocumented absences or stale docs"
    assert all(reason for reason in absent.values())
    for name in lasair_columns(survey):
        if name in declared:
            column = declared[name]
            assert column.description.strip(), name
            assert column.producer, name
