"""The schema comes from the pipeline's enrichers without their science: reading it imports
no scipy, astropy or light-curve package; an enricher whose columns the schema does not
store stops the pipeline at start-up; the light-curve package gives the declared names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from lanner.batch import AlertBatch, Survey
from lanner.enrich.features.lightcurve_package import LightCurvePackageFeatures
from lanner.enrich.registry import default_enrichers
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.pipeline import Pipeline
from lanner.schema.columns import Column
from lanner.schema.registry import tables_for, undeclared_columns
from lanner.store import open_store

SCIENCE = ("scipy", "astropy", "light_curve", "astropy_healpix")


def test_reading_the_schema_imports_no_science() -> None:
    code = (
        "import sys\n"
        "from lanner.schema.registry import tables_for\n"
        "from lanner.enrich.registry import default_enrichers\n"
        "tables_for('ztf'); tables_for('lsst'); default_enrichers()\n"
        f"print(sorted(m for m in {SCIENCE!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_schema_stores_every_default_enricher_column() -> None:
    assert undeclared_columns(default_enrichers()) == []
    objects = tables_for("lsst")["objects"].column_names
    assert "lc_stetson_k_u" in objects and "BBBRiseRate" in objects and "glat" in objects


@pytest.mark.parametrize("survey", ["ztf", "lsst"])
def test_the_light_curve_package_gives_the_declared_columns(survey: Survey) -> None:
    enricher = LightCurvePackageFeatures(survey)
    enricher.extractor()  # raises if the package's names differ from the declaration
    assert len(enricher.columns) == 26 * (2 if survey == "ztf" else 6)


class Custom:
    """An enricher whose column no table declares."""

    name = "custom"
    table = "objects"
    surveys = frozenset({"ztf"})
    columns = (Column("my_score", "double", "A score", producer="custom"),)

    def __call__(self, batch: AlertBatch) -> pa.Table:
        return pa.table({"my_score": pa.array([0.0] * len(batch))})


def test_an_enricher_whose_column_is_not_stored_is_refused(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'l.db'}", "ztf")
    try:
        with pytest.raises(ValueError, match=r"custom: ztf objects\.my_score"):
            Pipeline(store, FolderDeadLetters(tmp_path), [*default_enrichers(), Custom()])
    finally:
        store.close()


def test_commands_reading_records_import_no_sql_parser_or_engine() -> None:
    """``lanner filter list`` (and the other filter record commands) start without the filter
    compiler (sqlglot), the batch engine (DuckDB) or the enrichers' science."""
    code = (
        "import sys\n"
        "import lanner.cli.filters, lanner.store\n"
        f"print(sorted(m for m in {(*SCIENCE, 'sqlglot', 'duckdb')!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
