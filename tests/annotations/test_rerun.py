"""Writing annotations re-runs the active filters that read the topic, for the annotated
objects only, and records their matches in the outbox; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from lanner.annotations import Annotation, add_annotator, write_annotations
from lanner.filter.saved import add_filter, delete_filter, lasair_to_sql
from tests.annotations.conftest import Archive


def _matches(a: Archive, filter_id: int) -> dict[int, dict[str, object]]:
    ph = a.store.backend.placeholder
    rows = a.store.con.execute(
        f'SELECT "diaObjectId", payload, state FROM filter_matches WHERE filter_id = {ph}',
        (filter_id,),
    ).fetchall()
    a.store.con.commit()
    return {int(r[0]): {**json.loads(r[1]), "_state": r[2]} for r in rows}


def test_annotation_fires_active_filter(archive: Archive, topic: str) -> None:
    a = archive
    add_annotator(a.store, topic, a.alice)
    sql = lasair_to_sql(
        a.store,
        f"objects.diaObjectId, {topic}.classification, JSON_EXTRACT({topic}.classdict, '$.p') AS p",
        f"objects, annotator:{topic}",
        f"JSON_EXTRACT({topic}.classdict, '$.p') > 0.8",
        a.bob,
    )
    flt = add_filter(a.store, f"f_{topic}", sql, active=True, owner_id=a.bob, output="kafka")
    other = add_filter(a.store, f"g_{topic}", "SELECT diaObjectId FROM objects", active=True)
    try:
        hi, lo, later = a.object_ids[3], a.object_ids[4], a.object_ids[5]
        write_annotations(
            a.store,
            topic,
            [
                Annotation(hi, "SLSN", classdict={"p": 0.93}),
                Annotation(lo, "SN", classdict={"p": 0.2}),
            ],
            user_id=a.alice,
        )
        got = _matches(a, flt.filter_id)
        assert set(got) == {hi}
        assert (
            got[hi]["classification"] == "SLSN" and got[hi]["p"] == "0.93"
        )  # selected JSON values are text
        assert got[hi]["_state"] == "pending"  # the delivery worker sends it
        assert _matches(a, other.filter_id) == {}  # does not read the topic: not re-run
        # A new version raising the score fires for that object, once.
        write_annotations(
            a.store, topic, [Annotation(lo, "SN", classdict={"p": 0.85})], user_id=a.alice
        )
        write_annotations(
            a.store, topic, [Annotation(later, "SN", classdict={"p": 0.1})], user_id=a.alice
        )
        assert set(_matches(a, flt.filter_id)) == {hi, lo}
        # Without re-run nothing is recorded.
        write_annotations(
            a.store,
            topic,
            [Annotation(later, "SN", classdict={"p": 0.9})],
            user_id=a.alice,
            rerun=False,
        )
        assert set(_matches(a, flt.filter_id)) == {hi, lo}
    finally:
        delete_filter(a.store, flt, owner_id=a.bob)
        delete_filter(a.store, other)
