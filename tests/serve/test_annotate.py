"""annotate/ and annotatelist/ with the unmodified lasair client; the two-user privacy
matrix of the Lasair routes (private annotators and watchlists of one user are invisible
to another)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from lasair import LasairError, lasair_client

from lanner.annotations import add_annotator
from lanner.sky_areas.cone_files import Cones
from lanner.sky_areas.watchlists import add_watchlist
from lanner.store import open_store
from tests.serve.archive_facts import busiest_object, rows
from tests.serve.conftest import Instance


def client(instance: Instance, who: str) -> lasair_client:
    return lasair_client(instance.people[who].token, endpoint=instance.api)


def annotator(instance: Instance, topic: str, owner: str, public: bool) -> None:
    store = open_store(instance.db_url, create=False)
    try:
        add_annotator(store, topic, instance.people[owner].user_id, public=public)
    finally:
        store.close()


def objects_of(instance: Instance, n: int) -> list[int]:
    return [r[0] for r in rows(instance.db_url, f"SELECT diaObjectId FROM objects LIMIT {n}")]


def test_annotate_and_read_back(lsst: Instance) -> None:
    annotator(lsst, "power_cls", "power", public=True)
    object_id, _, _ = busiest_object(lsst.db_url, "lsst")
    c = client(lsst, "power")
    reply = c.annotate(
        "power_cls", object_id, "SN Ia", version="1.2", explanation="a fit",
        classdict={"p": 0.93, "model": "salt3"}, url="https://example.org/x",
    )  # fmt: skip
    assert reply["status"] == "success" and reply["annotation_topic"] == "fast_annotations"
    message = json.loads(reply["message"])
    assert message["diaObjectId"] == object_id and message["classification"] == "SN Ia"
    assert json.loads(message["classdict"]) == {"p": 0.93, "model": "salt3"}
    seen = c.object(object_id, lite=True)["lasairData"]["annotations"]
    mine = [a for a in seen if a["topic"] == "power_cls"]
    assert len(mine) == 1 and mine[0]["classdict"] == {"p": 0.93, "model": "salt3"}
    assert mine[0]["version"] == "1.2" and mine[0]["url"] == "https://example.org/x"
    # latest wins: one row per (object, topic)
    c.annotate("power_cls", object_id, "SN II", version="1.3", classdict={"p": 0.6})
    seen = c.object(object_id, lite=True)["lasairData"]["annotations"]
    assert [a["classification"] for a in seen if a["topic"] == "power_cls"] == ["SN II"]
    # and a filter can use it
    got = c.query("objects.diaObjectId", "objects, annotator:power_cls", "")
    assert [r["diaObjectId"] for r in got] == [object_id]


def test_annotate_list_is_all_or_nothing(lsst: Instance) -> None:
    annotator(lsst, "power_batch", "power", public=True)
    ids = objects_of(lsst, 3)
    c = client(lsst, "power")
    reply = c.annotate_list(
        [{"objectId": i, "topic": "power_batch", "classification": "AGN"} for i in ids]
    )
    assert reply == {"status": "success", "n": 3}
    count = "SELECT count(*) FROM annotations WHERE topic = 'power_batch'"
    assert rows(lsst.db_url, count)[0][0] == 3
    batch = [
        {"objectId": ids[0], "topic": "power_batch", "classification": "QSO"},
        {"objectId": -5, "topic": "power_batch", "classification": "QSO"},  # not in the archive
    ]
    with pytest.raises(LasairError, match=r"Bad Request:.*Annotator error.*-5"):
        c.annotate_list(batch)
    changed = (
        "SELECT count(*) FROM annotations WHERE topic = 'power_batch' AND classification='QSO'"
    )
    assert rows(lsst.db_url, changed)[0][0] == 0  # nothing written


def test_annotate_errors(lsst: Instance) -> None:
    annotator(lsst, "alice_only", "alice", public=True)
    object_id = objects_of(lsst, 1)[0]
    with pytest.raises(LasairError, match=r"Annotator error: .*does not exist"):
        client(lsst, "power").annotate("no_such_topic", object_id, "X")
    with pytest.raises(LasairError, match=r"Annotator error: you may not write"):
        client(lsst, "bob").annotate("alice_only", object_id, "X")
    with pytest.raises(LasairError, match=r'Bad Request:\{"objectId"'):
        client(lsst, "alice").annotate("alice_only", "not-an-id", "X")
    assert rows(lsst.db_url, "SELECT count(*) FROM annotations WHERE topic = 'alice_only'") == [
        (0,)
    ]


def test_privacy_two_users(lsst: Instance) -> None:
    """alice's private annotator and private watchlist: bob sees neither, in any route."""
    annotator(lsst, "alice_secret", "alice", public=False)
    object_id, ra, dec = busiest_object(lsst.db_url, "lsst")
    alice, bob = client(lsst, "alice"), client(lsst, "bob")
    alice.annotate("alice_secret", object_id, "mine", classdict={"k": 1})
    topics = lambda c: [a["topic"] for a in c.object(object_id)["lasairData"]["annotations"]]  # noqa: E731
    assert "alice_secret" in topics(alice)
    assert "alice_secret" not in topics(bob)
    assert alice.query("objects.diaObjectId", "objects, annotator:alice_secret", "")
    with pytest.raises(LasairError, match="not visible to you"):
        bob.query("objects.diaObjectId", "objects, annotator:alice_secret", "")
    with pytest.raises(LasairError, match="does not exist"):
        bob.annotate("alice_secret", object_id, "theirs")

    store = open_store(lsst.db_url, create=False)
    try:
        cones = Cones(np.array([ra]), np.array([dec]), ["target"], np.array([np.nan]))
        wl, hits = add_watchlist(
            store, "alice-private", cones, radius=5.0, owner_id=lsst.people["alice"].user_id
        )
    finally:
        store.close()
    assert hits >= 1
    tables = f"objects, watchlist:{wl.wl_id}"
    got = alice.query("objects.diaObjectId", tables, "")
    assert object_id in [r["diaObjectId"] for r in got]
    with pytest.raises(LasairError, match="Bad Request:"):
        bob.query("objects.diaObjectId", tables, "")


def test_annotate_is_post_only(lsst: Instance) -> None:
    import requests

    token = lsst.people["power"].token
    reply = requests.get(f"{lsst.api}/annotate/?token={token}", timeout=10)
    assert reply.status_code == 405 and reply.headers["Allow"] == "POST"
