"""Annotation-triggered runs: filters reading an annotator re-run for the objects it just
annotated, on both archives; matches are recorded with why they fired."""

from __future__ import annotations

import json
from pathlib import Path

from lanner.filter.saved import add_filter
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.pipeline import Pipeline
from lanner.store import open_store
from tests.helpers import packets_of

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "lsst"


def test_filters_reading_an_annotator_rerun_for_annotated_objects(
    db_url: str, tmp_path: Path
) -> None:
    store = open_store(db_url, "lsst")
    pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dl"))
    pipeline.process(packets_of([SAMPLE]))
    ids = [
        r[0]
        for r in store.con.execute(
            'SELECT "diaObjectId" FROM objects ORDER BY "diaObjectId" LIMIT 3'
        ).fetchall()
    ]
    lasair_form = add_filter(
        store,
        "fast",
        "SELECT objects.diaObjectId, annotations.classification FROM objects "
        "JOIN annotations ON annotations.diaObjectId = objects.diaObjectId "
        "WHERE annotations.topic = 'fastfinder' AND annotations.classification = 'kilonova'",
        active=True,
    )
    add_filter(store, "other", "SELECT diaObjectId FROM objects", active=True)
    ph = store.backend.placeholder
    for oid, cls in zip(ids, ["kilonova", "kilonova", "SN"], strict=True):
        store.con.execute(
            f'INSERT INTO annotations ("diaObjectId", topic, classification, classdict) '
            f"VALUES ({ph}, {ph}, {ph}, {ph})",
            (oid, "fastfinder", cls, json.dumps({"p": 0.9})),
        )
    store.con.commit()

    matches = pipeline.rerun_annotations("fastfinder", ids)
    assert {m.filter.name for m in matches} == {"fast"}  # "other" does not read the annotator
    assert sorted(m.object_id for m in matches) == sorted(ids[:2])
    assert all(m.why["annotations.classification"] == "kilonova" for m in matches)
    recorded = store.con.execute(
        f"SELECT count(*) FROM filter_matches WHERE filter_id = {ph}", (lasair_form.filter_id,)
    ).fetchone()[0]
    assert recorded == 2
    assert pipeline.rerun_annotations("someone-else", ids) == []
    store.close()
