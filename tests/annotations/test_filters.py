"""Filters on annotations on every engine: the archive on SQLite and PostgreSQL, and the
streaming batch engine (DuckDB); JSON_EXTRACT on classdict, several annotators, the
history, and other users' private annotators kept out of everyone's filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.annotations import Annotation, add_annotator, write_annotations
from lanner.filter.archive import run_on_archive
from lanner.filter.errors import FilterError
from lanner.filter.saved import add_filter, delete_filter
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.pipeline import Pipeline
from lanner.settings import Settings
from tests.annotations.conftest import SAMPLE, Archive
from tests.helpers import packets_of


def _ids(rows: list[tuple[object, ...]]) -> list[int]:
    return sorted(int(r[0]) for r in rows)  # type: ignore[call-overload]


@pytest.fixture()
def scored(archive: Archive, topic: str) -> tuple[Archive, str, dict[int, dict[str, object]]]:
    """Ten objects annotated by ``topic`` with nested scores."""
    a = archive
    add_annotator(a.store, topic, a.alice)
    docs: dict[int, dict[str, object]] = {}
    for n, oid in enumerate(a.object_ids[10:20]):
        docs[oid] = {
            "p": n / 10,
            "kind": "fast" if n % 2 else "slow",
            "lsst-r": {"peak_mag": -17.0 - n / 2},
            "scores": [n, n * 2],
        }
    items = [Annotation(oid, str(d["kind"]).upper(), classdict=d) for oid, d in docs.items()]
    write_annotations(a.store, topic, items, user_id=a.alice)
    return a, topic, docs


def test_json_extract_on_the_archive(
    scored: tuple[Archive, str, dict[int, dict[str, object]]],
) -> None:
    a, topic, docs = scored
    settings = Settings.for_db(a.url)
    result = run_on_archive(
        settings,
        f"objects.diaObjectId, {topic}.classification, "
        f"JSON_EXTRACT({topic}.classdict, '$.kind') AS kind, "
        f"JSON_EXTRACT({topic}.classdict, '$.scores[1]') * 10 AS s10",
        tables=f"objects, annotator:{topic}",
        conditions=f"JSON_EXTRACT({topic}.classdict, '$.p') > 0.45 "
        f"AND JSON_EXTRACT({topic}.classdict, '$.\"lsst-r\".peak_mag') < -19.4",
        user_id=a.bob,
    )
    want = [
        oid
        for oid, d in docs.items()
        if d["p"] > 0.45 and d["lsst-r"]["peak_mag"] < -19.4  # type: ignore[index,operator]
    ]
    assert want and _ids(result.rows) == sorted(want)
    for row in result.rows:
        d = docs[int(row[0])]  # type: ignore[call-overload]
        assert row[1] == str(d["kind"]).upper() and row[2] == d["kind"]
        assert row[3] == pytest.approx(d["scores"][1] * 10)  # type: ignore[index]
    # String equality on a JSON value, as text on every engine.
    fast = run_on_archive(
        settings,
        "objects.diaObjectId",
        tables=f"objects, annotator:{topic}",
        conditions=f"JSON_EXTRACT({topic}.classdict, '$.kind') = 'fast'",
    )
    assert _ids(fast.rows) == sorted(o for o, d in docs.items() if d["kind"] == "fast")


def test_two_annotators_and_the_history(
    scored: tuple[Archive, str, dict[int, dict[str, object]]],
) -> None:
    a, topic, docs = scored
    second = f"{topic}_b"
    add_annotator(a.store, second, a.bob)
    both = list(docs)[:4]
    write_annotations(a.store, second, [Annotation(o, "SN") for o in both], user_id=a.bob)
    settings = Settings.for_db(a.url)
    result = run_on_archive(
        settings,
        f"objects.diaObjectId, {topic}.classification AS a, {second}.classification AS b",
        tables=f"objects, annotator:{topic}&{second}",
        conditions="",
    )
    assert _ids(result.rows) == sorted(both)
    # The score of one object rises: "now above 0.8, and was at most 0.8 before".
    risen = list(docs)[3]
    write_annotations(
        a.store, topic, [Annotation(risen, "FAST", classdict={"p": 0.95})], user_id=a.alice
    )
    rose = run_on_archive(
        settings,
        "SELECT DISTINCT o.diaObjectId FROM objects o "
        "JOIN annotations a ON a.diaObjectId = o.diaObjectId "
        "JOIN annotation_history h ON h.diaObjectId = o.diaObjectId AND h.topic = a.topic "
        f"WHERE a.topic = '{topic}' AND JSON_EXTRACT(a.classdict, '$.p') > 0.8 "
        "AND h.annotationID < a.annotationID AND JSON_EXTRACT(h.classdict, '$.p') <= 0.8 "
        "AND h.mjd > mjdnow() - 1",
    )
    assert _ids(rose.rows) == [risen]


def test_private_annotators_stay_out_of_others_filters(
    archive: Archive, topic: str, tmp_path: Path
) -> None:
    a = archive
    add_annotator(a.store, topic, a.alice, public=False)
    add_annotator(a.store, f"{topic}_pub", a.alice)
    oid, public_oid = a.object_ids[30], a.object_ids[31]
    write_annotations(a.store, topic, [Annotation(oid, "secret")], user_id=a.alice)
    write_annotations(a.store, f"{topic}_pub", [Annotation(public_oid, "open")], user_id=a.alice)
    settings = Settings.for_db(a.url)
    with pytest.raises(FilterError, match="not visible to you"):
        run_on_archive(
            settings, "objects.diaObjectId", tables=f"objects, annotator:{topic}", user_id=a.bob
        )
    sql = f"SELECT diaObjectId, classification FROM annotations WHERE topic = '{topic}'"
    sneaky = "SELECT h.diaObjectId FROM annotation_history h WHERE h.classification = 'secret'"
    assert run_on_archive(settings, sql, user_id=a.bob).rows == []
    assert run_on_archive(settings, sneaky, user_id=a.bob).rows == []
    assert run_on_archive(settings, sql, user_id=a.alice).rows == [(oid, "secret")]
    assert _ids(run_on_archive(settings, sneaky, user_id=a.alice).rows) == [oid]
    # An active filter of bob's reading every annotation never sees alice's private one.
    flt = add_filter(
        a.store, f"all_{topic}", "SELECT diaObjectId FROM annotations", active=True, owner_id=a.bob
    )
    try:
        pipeline = Pipeline(a.store, FolderDeadLetters(tmp_path / "dl"))
        report = pipeline.process(packets_of([SAMPLE]))
        ph = a.store.backend.placeholder
        seen = a.store.con.execute(
            f'SELECT "diaObjectId" FROM filter_matches WHERE filter_id = {ph}', (flt.filter_id,)
        ).fetchall()
        a.store.con.commit()
        assert oid not in {int(r[0]) for r in seen}
        assert public_oid in {int(r[0]) for r in seen}
        assert report.filter_errors == {}
    finally:
        delete_filter(a.store, flt)


def test_streaming_batch_engine_reads_annotations(
    scored: tuple[Archive, str, dict[int, dict[str, object]]], tmp_path: Path
) -> None:
    """A re-delivered visit: the filters run on the batch in DuckDB, with the stored
    annotations of its objects."""
    a, topic, docs = scored
    flt = add_filter(
        a.store,
        f"stream_{topic}",
        f"SELECT objects.diaObjectId, JSON_EXTRACT(t.classdict, '$.\"lsst-r\".peak_mag') AS m "
        f"FROM objects JOIN annotations t ON t.diaObjectId = objects.diaObjectId "
        f"WHERE t.topic = '{topic}' AND JSON_EXTRACT(t.classdict, '$.scores[0]') >= 7",
        active=True,
        owner_id=a.carol,
    )
    try:
        pipeline = Pipeline(a.store, FolderDeadLetters(tmp_path / "dl"))
        report = pipeline.process(packets_of([SAMPLE]))
        want = sorted(o for o, d in docs.items() if d["scores"][0] >= 7)  # type: ignore[index]
        assert report.matches[flt.name] == len(want) == 3
    finally:
        delete_filter(a.store, flt)
