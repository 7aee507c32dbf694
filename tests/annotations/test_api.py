"""The annotations Python API on SQLite and PostgreSQL: who may see and write an annotator,
validation of whole batches, latest-wins with history."""

from __future__ import annotations

import json

import pytest

from lanner.annotations import (
    Annotation,
    AnnotationError,
    AnnotatorNotFoundError,
    add_annotator,
    annotation_history,
    authorise_writer,
    delete_annotator,
    get_annotator,
    list_annotators,
    write_annotations,
)
from lanner.annotations.model import MAX_CLASSDICT
from tests.annotations.conftest import Archive


def _current(a: Archive, topic: str) -> dict[int, tuple[str, dict[str, object] | None]]:
    ph = a.store.backend.placeholder
    rows = a.store.con.execute(
        f'SELECT "diaObjectId", classification, classdict FROM annotations WHERE topic = {ph}',
        (topic,),
    ).fetchall()
    a.store.con.commit()
    return {int(r[0]): (r[1], json.loads(r[2]) if r[2] else None) for r in rows}


def test_owner_writes_others_cannot(archive: Archive, topic: str) -> None:
    a = archive
    add_annotator(a.store, topic, a.alice, description="tests")
    oid = a.object_ids[0]
    with pytest.raises(AnnotationError, match="may not write") as err:
        write_annotations(a.store, topic, [Annotation(oid, "SN")], user_id=a.bob, rerun=False)
    assert len(err.value.problems) == 1
    assert _current(a, topic) == {}
    assert write_annotations(a.store, topic, [Annotation(oid, "SN")], user_id=a.alice) == 1
    # Only the owner authorises; then the writer may write.
    with pytest.raises(AnnotationError, match="only the owner"):
        authorise_writer(a.store, topic, a.bob, a.bob)
    authorise_writer(a.store, topic, a.alice, a.bob)
    assert get_annotator(a.store, topic, user_id=a.carol).writers == frozenset({a.bob})
    write_annotations(a.store, topic, [Annotation(oid, "TDE")], user_id=a.bob, rerun=False)
    assert _current(a, topic)[oid][0] == "TDE"
    with pytest.raises(AnnotationError, match="only the owner"):
        delete_annotator(a.store, topic, a.bob)


def test_private_annotator_is_invisible_to_others(archive: Archive, topic: str) -> None:
    a = archive
    add_annotator(a.store, topic, a.alice, public=False)
    assert get_annotator(a.store, topic, user_id=a.alice).public is False
    with pytest.raises(AnnotatorNotFoundError, match="does not exist"):
        get_annotator(a.store, topic, user_id=a.carol)
    assert topic in [x.topic for x in list_annotators(a.store, user_id=a.alice)]
    assert topic not in [x.topic for x in list_annotators(a.store, user_id=a.carol)]
    # The same message as a topic that does not exist: nothing tells it is there.
    with pytest.raises(AnnotatorNotFoundError) as hidden:
        write_annotations(a.store, topic, [Annotation(a.object_ids[0], "SN")], user_id=a.carol)
    with pytest.raises(AnnotatorNotFoundError) as missing:
        write_annotations(
            a.store, "no_such_t", [Annotation(a.object_ids[0], "SN")], user_id=a.carol
        )
    assert str(hidden.value).replace(topic, "X") == str(missing.value).replace("no_such_t", "X")
    with pytest.raises(AnnotatorNotFoundError):
        annotation_history(a.store, topic, a.object_ids[0], user_id=a.carol)
    # A writer the owner authorised sees it.
    authorise_writer(a.store, topic, a.alice, a.carol)
    assert get_annotator(a.store, topic, user_id=a.carol).topic == topic


def test_latest_wins_and_history_keeps_every_version(archive: Archive, topic: str) -> None:
    a = archive
    add_annotator(a.store, topic, a.alice)
    oid, other = a.object_ids[1], a.object_ids[2]
    write_annotations(
        a.store,
        topic,
        [Annotation(oid, "SN", "1.0", classdict={"score": 0.4}), Annotation(other, "AGN")],
        user_id=a.alice,
    )
    write_annotations(
        a.store,
        topic,
        # Two items of one object in one batch: the later wins.
        [
            Annotation(oid, "SN Ia", "1.1", classdict={"score": 0.7}),
            Annotation(str(oid), "SN Ia", "1.2", "confirmed", {"score": 0.9}, "https://x.org/s"),
        ],
        user_id=a.alice,
    )
    now = _current(a, topic)
    assert now[oid] == ("SN Ia", {"score": 0.9})
    assert now[other] == ("AGN", None)
    history = annotation_history(a.store, topic, oid, user_id=a.carol)
    assert [h["version"] for h in history] == ["1.0", "1.1", "1.2"]
    assert [json.loads(h["classdict"])["score"] for h in history] == [0.4, 0.7, 0.9]
    assert history[-1]["explanation"] == "confirmed" and history[-1]["url"] == "https://x.org/s"
    ids = [h["annotationID"] for h in history]
    assert ids == sorted(ids) and len(set(ids)) == 3
    ph = a.store.backend.placeholder
    current_id = a.store.con.execute(
        f'SELECT "annotationID" FROM annotations WHERE topic = {ph} AND "diaObjectId" = {ph}',
        (topic, oid),
    ).fetchone()[0]
    a.store.con.commit()
    assert current_id == ids[-1]
    assert history[0]["mjd"] <= history[-1]["mjd"]


def test_one_bad_item_writes_nothing(archive: Archive, topic: str) -> None:
    a = archive
    add_annotator(a.store, topic, a.alice)
    good = [Annotation(i, "SN", classdict={"p": 0.5}) for i in a.object_ids[:5]]
    bad = [
        Annotation(a.object_ids[5], "SN", version="x" * 17),
        Annotation(1, "SN"),  # no such object
        Annotation(a.object_ids[6], ""),
        Annotation(a.object_ids[7], "SN", classdict={"blob": "x" * MAX_CLASSDICT}),
        Annotation(a.object_ids[8], "SN", classdict=[1, 2]),  # type: ignore[arg-type]
        Annotation("ZTF21abc", "SN"),  # not a Rubin id
        Annotation(a.object_ids[9], "SN", classdict={"x": float("nan")}),
        Annotation(a.object_ids[10], "SN", url="javascript:alert(1)"),
    ]
    with pytest.raises(AnnotationError) as err:
        write_annotations(a.store, topic, good + bad, user_id=a.alice)
    problems = err.value.problems
    assert len(problems) == len(bad)
    for n, fragment in enumerate(
        [
            "version is 17 characters",
            "in this database",
            "classification is empty",
            "classdict is",
            "JSON object",
            "not an integer diaObjectId",
            "JSON cannot carry",
            "not an http",
        ],
        start=len(good) + 1,
    ):
        assert any(p.startswith(f"item {n} ") and fragment in p for p in problems), fragment
    assert _current(a, topic) == {}
    assert annotation_history(a.store, topic, a.object_ids[0], user_id=a.alice) == []
    assert write_annotations(a.store, topic, good, user_id=a.alice) == 5


def test_inactive_annotator_refuses_and_bad_topics(archive: Archive, topic: str) -> None:
    a = archive
    add_annotator(a.store, topic, a.alice, active=False)
    with pytest.raises(AnnotationError, match="not active"):
        write_annotations(a.store, topic, [Annotation(a.object_ids[0], "SN")], user_id=a.alice)
    with pytest.raises(AnnotationError, match="exists already"):
        add_annotator(a.store, topic, a.bob)
    with pytest.raises(AnnotationError, match="not a name"):
        add_annotator(a.store, "bad topic; drop", a.bob)


def test_delete_removes_annotations_and_history(archive: Archive, topic: str) -> None:
    a = archive
    add_annotator(a.store, topic, a.alice)
    write_annotations(a.store, topic, [Annotation(a.object_ids[0], "SN")], user_id=a.alice)
    delete_annotator(a.store, topic, a.alice)
    assert _current(a, topic) == {}
    with pytest.raises(AnnotatorNotFoundError):
        get_annotator(a.store, topic, user_id=a.alice)
    ph = a.store.backend.placeholder
    left = a.store.con.execute(
        f"SELECT count(*) FROM annotation_history WHERE topic = {ph}", (topic,)
    ).fetchone()[0]
    a.store.con.commit()
    assert left == 0


def test_written_and_rejected_are_metrics(archive: Archive, topic: str) -> None:
    from lanner.observe.metrics import Metrics

    a = archive
    add_annotator(a.store, topic, a.alice)
    metrics = Metrics()
    good = [Annotation(i, "SN") for i in a.object_ids[:3]]
    write_annotations(a.store, topic, good, user_id=a.alice, rerun=False)
    with pytest.raises(AnnotationError):
        write_annotations(a.store, topic, [*good, Annotation(7, "SN")], user_id=a.alice)
    assert metrics.value("lanner_annotations_written_total", topic=topic) == 3
    assert metrics.value("lanner_annotations_rejected_total", topic=topic) == 4
