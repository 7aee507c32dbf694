"""LannerConsumer and lasair_consumer on a real filter topic (tansu, real Kafka protocol)
filled by ``lanner ingest`` through an active Kafka filter."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Producer

from lanner.client import (
    CredentialsError,
    LannerConsumer,
    State,
    lasair_consumer,
    load_credentials,
)
from tests.client.conftest import FilterStream
from tests.kafka_fixtures import FAST_GROUP, read_topic

pytestmark = pytest.mark.kafka


def group() -> str:
    return f"g-{uuid.uuid4().hex[:8]}"


def consumer(stream: FilterStream, topics: list[str] | str, group_id: str) -> LannerConsumer:
    return LannerConsumer(
        topics, {"bootstrap.servers": stream.bootstrap, **FAST_GROUP}, group_id=group_id
    )


def test_consume_commit_and_resume(filter_stream: FilterStream) -> None:
    gid = group()
    with consumer(filter_stream, filter_stream.topic, gid) as c:
        got = c.consume(filter_stream.matches, timeout=15)
        assert len(got) == filter_stream.matches
        assert c.poll(1) is None
        assert c.state is State.CAUGHT_UP
        # Lanner's messages: match id = key, exact 64-bit ids, the filter's columns, UTC.
        for m in got:
            assert m.key == m.match_id == m.value["match_id"]
            assert m.match_id.startswith("1:")
            assert set(m.value) == {"match_id", "diaObjectId", "latest_psfFlux", "UTC"}
            assert m.value["latest_psfFlux"] > 10000
            assert isinstance(m.value["diaObjectId"], int) and m.value["diaObjectId"] > 2**53
            assert json.loads(m.raw) == m.value
        assert [m.offset for m in got] == list(range(filter_stream.matches))
        committed = c.commit()
        assert committed == [(filter_stream.topic, 0, filter_stream.matches)]
        assert c.commit() == []  # nothing new
    # The same group resumes after its commit: nothing left.
    with consumer(filter_stream, filter_stream.topic, gid) as again:
        assert again.poll(3) is None
        assert again.state is State.CAUGHT_UP


def test_uncommitted_messages_come_back(filter_stream: FilterStream) -> None:
    gid = group()
    with consumer(filter_stream, filter_stream.topic, gid) as c:
        first = c.consume(3, timeout=15)
        assert len(first) == 3
        c.commit()
        c.consume(2, timeout=15)  # read, never committed
    with consumer(filter_stream, filter_stream.topic, gid) as c:
        rest = c.consume(filter_stream.matches - 3, timeout=15)
        assert c.poll(1) is None
    assert [m.offset for m in rest] == list(range(3, filter_stream.matches))


def test_redelivered_matches_are_dropped(filter_stream: FilterStream, make_topic) -> None:  # type: ignore[no-untyped-def]
    # A crash after sending but before recording "sent" makes Lanner send the same
    # matches again, with the same match id: copy the real topic twice over.
    originals = read_topic(filter_stream.bootstrap, filter_stream.topic, filter_stream.matches)
    topic = make_topic("redelivered")
    producer = Producer({"bootstrap.servers": filter_stream.bootstrap})
    for _ in range(2):
        for m in originals:
            producer.produce(topic, value=m.value(), key=m.key())  # type: ignore[attr-defined]
    assert producer.flush(10) == 0
    with consumer(filter_stream, topic, group()) as c:
        got = c.consume(filter_stream.matches, timeout=10)
        assert c.poll(1) is None
        assert len(got) == filter_stream.matches
        assert len({m.match_id for m in got}) == filter_stream.matches
        assert c.duplicates == filter_stream.matches
        assert c.received == 2 * filter_stream.matches
        # Repeats are committed too: the group does not read them again.
        assert c.commit() == [(topic, 0, 2 * filter_stream.matches)]


def test_a_bad_message_is_counted_and_skipped(filter_stream: FilterStream, make_topic) -> None:  # type: ignore[no-untyped-def]
    topic = make_topic("bad")
    producer = Producer({"bootstrap.servers": filter_stream.bootstrap})
    producer.produce(topic, value=b"\xff not json", key=b"x")
    producer.produce(topic, value=b'{"match_id": "9:1", "diaObjectId": 1}', key=b"9:1")
    assert producer.flush(10) == 0
    with consumer(filter_stream, topic, group()) as c:
        got = c.consume(1, timeout=8)
        assert [m.value for m in got] == [{"match_id": "9:1", "diaObjectId": 1}]
        assert c.undecodable == 1
        assert c.commit() == [(topic, 0, 2)]


def test_nothing_produced_yet_is_a_state(filter_stream: FilterStream) -> None:
    with consumer(filter_stream, filter_stream.quiet_topic, group()) as c:
        assert c.poll(4) is None
        assert c.state is State.NOTHING_PRODUCED_YET
        status = c.topic_status()[filter_stream.quiet_topic]
        assert status.exists and status.ever_produced == 0 and status.nothing_produced_yet
    missing = f"lanner_1_not_yet_{uuid.uuid4().hex[:8]}"
    with consumer(filter_stream, missing, group()) as c:
        assert c.poll(4) is None
        assert c.state is State.NO_TOPIC_YET
        assert c.topic_status()[missing].exists is False
    with consumer(filter_stream, filter_stream.topic, group()) as c:
        status = c.topic_status()[filter_stream.topic]
        assert status.exists and status.produced > 0  # (tansu counts batches, not records)
        assert not status.nothing_produced_yet


def write_credentials(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_from_config_file(filter_stream: FilterStream, tmp_path: Path) -> None:
    gid = group()
    creds = write_credentials(
        tmp_path / "credentials.yml",
        f"servers: {filter_stream.bootstrap}\ngroup_id: {gid}\ntopics: [{filter_stream.topic}]\n",
    )
    with LannerConsumer.from_config(creds, config=FAST_GROUP) as c:
        assert c.group_id == gid
        assert len(c.consume(filter_stream.matches, timeout=15)) == filter_stream.matches


def test_sasl_credentials_reach_librdkafka(tmp_path: Path) -> None:
    creds = load_credentials(
        write_credentials(
            tmp_path / "c.yml",
            "servers: k1:9093,k2:9093\nusername: alice\npassword: s3cret\n"
            "security_protocol: sasl_ssl\nssl_ca: /etc/ca.pem\n",
        )
    )
    assert creds.kafka_config() == {
        "bootstrap.servers": "k1:9093,k2:9093",
        "security.protocol": "sasl_ssl",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "alice",
        "sasl.password": "s3cret",
        "ssl.ca.location": "/etc/ca.pem",
    }
    assert "s3cret" not in repr(creds)
    plain = load_credentials(write_credentials(tmp_path / "p.yml", "servers: k:9092\n"))
    assert plain.kafka_config() == {"bootstrap.servers": "k:9092"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("servers: [", "not valid YAML"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("group_id: g\n", "'servers'"),
        ("servers: k:1\npasword: x\n", "unknown keys ['pasword']"),
        ("servers: k:1\npassword: x\n", "without 'username'"),
        ("servers: k:1\noffset_reset: smallest\n", "earliest"),
    ],
)
def test_bad_credentials_files_say_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CredentialsError, match=None) as info:
        load_credentials(write_credentials(tmp_path / "c.yml", text))
    assert message in str(info.value)
    with pytest.raises(CredentialsError, match="not found"):
        load_credentials(tmp_path / "missing.yml")


def lasair_loop(consumer: object, timeout: float) -> tuple[list[dict[str, object]], list[str]]:
    """The loop of Lasair's notebooks and docs, verbatim apart from collecting."""
    out: list[dict[str, object]] = []
    errors: list[str] = []
    while True:
        msg = consumer.poll(timeout=timeout)  # type: ignore[attr-defined]
        if msg is None:
            break
        if msg.error():
            errors.append(str(msg.error()))
            break
        jmsg = json.loads(msg.value())
        out.append(jmsg)
    return out, errors


def test_lasair_notebook_loop_runs_unchanged(filter_stream: FilterStream) -> None:
    consumer = lasair_consumer(
        filter_stream.bootstrap, group(), filter_stream.topic, config=FAST_GROUP
    )
    rows, errors = lasair_loop(consumer, timeout=5)
    consumer.close()
    assert errors == []
    assert len(rows) == filter_stream.matches
    assert all(r["latest_psfFlux"] > 10000 for r in rows)  # type: ignore[operator]


def test_real_lasair_client_reads_lanner_topics(
    filter_stream: FilterStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    import confluent_kafka
    import lasair

    class FastJoin(confluent_kafka.Consumer):  # type: ignore[misc]
        """The client's own consumer, with the tests' short group timeouts (tansu)."""

        def __init__(self, settings: dict[str, object]) -> None:
            super().__init__({**settings, **FAST_GROUP})

    monkeypatch.setattr(confluent_kafka, "Consumer", FastJoin)
    consumer = lasair.lasair_consumer(filter_stream.bootstrap, group(), filter_stream.topic)
    rows, errors = lasair_loop(consumer, timeout=5)
    consumer.close()
    assert errors == [] and len(rows) == filter_stream.matches


def test_lasair_loop_on_a_topic_not_made_yet_ends_quietly(filter_stream: FilterStream) -> None:
    missing = f"lanner_1_not_yet_{uuid.uuid4().hex[:8]}"
    consumer = lasair_consumer(filter_stream.bootstrap, group(), missing, config=FAST_GROUP)
    rows, errors = lasair_loop(consumer, timeout=3)
    consumer.close()
    assert (rows, errors) == ([], [])
