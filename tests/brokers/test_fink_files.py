"""Fink's classifier columns in its Data Transfer files (the shared on-sky Rubin v10
re-serialisations, Parquet and Avro) become annotations, one annotator per classifier,
that filters read on both archives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lanner.brokers.consume import import_file
from lanner.brokers.fink import fink_annotations, read_fink_file
from lanner.filter.archive import run_on_archive
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.pipeline import Pipeline
from lanner.settings import Settings
from lanner.store import open_store
from tests.helpers import packets_of

PARQUET = (
    "lsst/astrolabsoftware__fink-filters/datatest/rubin_test_data_10_0.parquet/"
    "part-00000-4877aa8f-2356-4e19-8a31-4db2afe6d000-c000.snappy.parquet"
)
AVRO = "lsst/astrolabsoftware__fink-client/datatest/lsst/part-2-918301.avro"


def test_classifier_columns_read_in_columns(alerts_dir: Path) -> None:
    table = read_fink_file(alerts_dir / PARQUET)
    found = fink_annotations(table, "lsst")
    raw = pq.read_table(alerts_dir / PARQUET)
    ids = pc.struct_field(raw["diaObject"].combine_chunks(), "diaObjectId")
    snn = pc.struct_field(raw["clf"].combine_chunks(), "snnSnVsOthers_score")
    has = ~np.asarray(pc.is_null(ids).to_numpy(zero_copy_only=False), dtype=bool)
    # Alerts without a diaObject (solar-system sources) carry no object to annotate.
    assert 0 < has.sum() < raw.num_rows
    snn_items = found["fink_snn_sn_vs_others"]
    assert len(snn_items) == int(has.sum())
    scores = np.asarray(snn.to_numpy(zero_copy_only=False))[has]
    assert [a.classdict["score"] for a in snn_items] == pytest.approx(scores.tolist(), abs=1e-6)
    assert [a.classification for a in snn_items] == ["SN" if s >= 0.5 else "not SN" for s in scores]
    assert {a.version for a in snn_items} == {"8.35.1"}
    # Fink writes -1 where a classifier did not run: no annotation.
    cats = pc.struct_field(raw["clf"].combine_chunks(), "cats_class").to_numpy()[has]
    assert len(found.get("fink_cats", [])) == int((cats >= 0).sum())
    assert "fink_early_snia" not in found  # -1 everywhere in this file


def test_import_both_formats_then_filter(db_url: str, tmp_path: Path, alerts_dir: Path) -> None:
    files = [alerts_dir / PARQUET, alerts_dir / AVRO]
    store = open_store(db_url, "lsst")
    Pipeline(store, FolderDeadLetters(tmp_path / "dl")).process(packets_of(files[1:]))
    # Only the Avro file's objects are stored: the Parquet file's are counted, not written.
    before = import_file(store, files[0])
    assert sum(before.written.values()) == 0 and sum(before.unknown_objects.values()) > 0
    report = import_file(store, files[1])
    expected = fink_annotations(read_fink_file(files[1]), "lsst")
    assert dict(report.written) == {t: len(items) for t, items in expected.items()}
    Pipeline(store, FolderDeadLetters(tmp_path / "dl")).process(packets_of(files[:1]))
    report = import_file(store, files[0])
    assert report.written["fink_snn_sn_vs_others"] == 24
    store.close()

    settings = Settings(db_url=db_url)
    result = run_on_archive(
        settings,
        "objects.diaObjectId, fink_snn_sn_vs_others.classification",
        tables="objects, annotator:fink_snn_sn_vs_others",
        conditions="JSON_EXTRACT(fink_snn_sn_vs_others.classdict, '$.score') > 0.7",
    )
    scores = [
        a.classdict["score"]
        for f in files
        for a in fink_annotations(read_fink_file(f), "lsst")["fink_snn_sn_vs_others"]
    ]
    assert len(result.rows) == sum(s > 0.7 for s in scores) > 0
    assert {r[1] for r in result.rows} == {"SN"}


def test_not_a_fink_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n")
    with pytest.raises(ValueError, match="neither a Parquet file nor an Avro container"):
        read_fink_file(path)
