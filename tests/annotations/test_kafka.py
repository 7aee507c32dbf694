"""Annotations and Kafka, through a real broker (tansu), on SQLite and PostgreSQL: an
annotation written by ``lanner annotate`` fires an active filter whose match the writing
process sends to the filter's topic; ``lanner annotations consume`` writes Lasair-style
fast-annotation messages, dead-letters the bad ones with the reason and commits its
offsets."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import pytest

from lanner.distribute.topic_names import topic_name
from lanner.filter.users import get_user
from tests.annotations.conftest import Archive, Cli
from tests.kafka_fixtures import committed_offset, produce_values, read_topic

pytestmark = pytest.mark.kafka


@pytest.fixture()
def kafka_cli(cli: Cli, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("LANNER_KAFKA", kafka_bootstrap)
    return cli


def _state(a: Archive, name: str) -> list[tuple[int, str]]:
    ph = a.store.backend.placeholder
    rows = a.store.con.execute(
        f'SELECT m."diaObjectId", m.state FROM filter_matches m JOIN filters f '
        f"ON f.filter_id = m.filter_id WHERE f.name = {ph}",
        (name,),
    ).fetchall()
    a.store.con.commit()
    return [(int(r[0]), r[1]) for r in rows]


def _filter(cli: Cli, a: Archive, topic: str, owner: str, threshold: float) -> str:
    name = f"kn_{uuid.uuid4().hex[:8]}"
    cli(
        "filter",
        "add",
        name,
        "--selected",
        f"objects.diaObjectId, {topic}.classification, "
        f"JSON_EXTRACT({topic}.classdict, '$.kn') AS kn",
        "--tables",
        f"objects, annotator:{topic}",
        "--conditions",
        f"JSON_EXTRACT({topic}.classdict, '$.kn') > {threshold}",
        "--active",
        "--output",
        "kafka",
        "--user",
        owner,
    )
    return name


def test_annotate_fires_a_filter_and_the_writer_delivers(
    archive: Archive, kafka_cli: Cli, kafka_bootstrap: str, topic: str
) -> None:
    a, cli = archive, kafka_cli
    alice = get_user(a.store, a.alice).username
    bob = get_user(a.store, a.bob).username
    cli("annotator", "add", topic, "--user", alice)
    name = _filter(cli, a, topic, bob, 0.7)
    oid = a.object_ids[50]
    cli(
        "annotate",
        topic,
        str(a.object_ids[51]),
        "SN",
        "--classdict",
        '{"kn": 0.1}',
        "--user",
        alice,
    )
    assert _state(a, name) == []  # below the threshold: no match
    started = time.monotonic()
    out = cli("annotate", topic, str(oid), "KN", "--classdict", '{"kn": 0.93}', "--user", alice)
    returned = time.monotonic() - started
    # Sent by the writing command itself: no delivery service runs in this test.
    assert "1 sent" in out
    assert _state(a, name) == [(oid, "sent")]
    messages = read_topic(kafka_bootstrap, topic_name(a.bob, name), 1)
    assert len(messages) == 1
    body = json.loads(messages[0].value())  # type: ignore[attr-defined]
    assert body["diaObjectId"] == oid and body["classification"] == "KN"
    assert float(body["kn"]) == 0.93
    print(f"annotate -> filter match on Kafka: {returned:.2f} s (command, in-process)")


def test_consume_fast_annotations(
    archive: Archive,
    kafka_cli: Cli,
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    topic: str,
) -> None:
    a, cli = archive, kafka_cli
    alice = get_user(a.store, a.alice).username
    bob = get_user(a.store, a.bob).username
    cli("annotator", "add", topic, "--user", alice)
    name = _filter(cli, a, topic, bob, 0.5)
    stream = make_topic("fast-annotations")
    ids = a.object_ids[52:56]

    def message(oid: object, **extra: object) -> bytes:
        doc = {
            "diaObjectId": oid,
            "topic": topic,
            "version": "1",
            "classification": "KN",
            "explanation": "testing",
            "classdict": json.dumps({"kn": 0.9}),
            "url": "",
        }
        doc.update(extra)
        return json.dumps(doc).encode()

    values = [
        message(ids[0]),
        b"{not json",
        message(ids[1], topic="somebody_else"),
        message(12345),  # no such object
        message(ids[2], version="x" * 17),
        message(ids[3], classdict=json.dumps({"kn": 0.2}), classification="SN"),
        message(ids[0], classdict=json.dumps({"kn": 0.95}), version="2"),  # a later version
    ]
    produce_values(kafka_bootstrap, stream, values, partition=0)
    group = f"g-{uuid.uuid4().hex[:6]}"
    out = cli(
        "annotations",
        "consume",
        "--topic",
        stream,
        "--annotator",
        topic,
        "--group",
        group,
        "--max-messages",
        str(len(values)),
        "--idle-timeout",
        "10",
        "--user",
        alice,
    )
    assert f"read {len(values)} messages" in out
    assert "3 annotations written, 4 dead-lettered" in out
    letters = read_topic(kafka_bootstrap, f"{stream}-deadletter", 4)
    reasons = {
        dict(m.headers())["reason"].decode().split(":")[0]  # type: ignore[attr-defined]
        for m in letters
    }
    assert reasons == {"not an annotation", "other topic", "invalid annotation"}
    assert {m.value() for m in letters} == {values[1], values[2], values[3], values[4]}  # type: ignore[attr-defined]
    assert committed_offset(kafka_bootstrap, group, stream) == len(values)
    ph = a.store.backend.placeholder
    rows = a.store.con.execute(
        f'SELECT "diaObjectId", version, classification FROM annotations WHERE topic = {ph} '
        'ORDER BY "diaObjectId"',
        (topic,),
    ).fetchall()
    a.store.con.commit()
    assert sorted((int(r[0]), r[1], r[2]) for r in rows) == sorted(
        [(ids[0], "2", "KN"), (ids[3], "1", "SN")]
    )
    # The filter fired for the one object above its threshold, sent by the consumer.
    assert _state(a, name) == [(ids[0], "sent")]
    sent = read_topic(kafka_bootstrap, topic_name(a.bob, name), 1)
    assert json.loads(sent[0].value())["diaObjectId"] == ids[0]  # type: ignore[attr-defined]
