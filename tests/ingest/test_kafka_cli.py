"""``lanner replay`` and ``lanner consume`` against tansu, through the real pipeline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner.cli import kafka as kafka_cli
from lanner.ingest.decode import decode_packet
from lanner.ingest.packets import RawPacket
from lanner.store import open_store
from lanner.store.migrate import init_database
from tests.kafka_fixtures import read_topic

pytestmark = pytest.mark.kafka

BOOM = "lsst/boom-astro__boom/tests/data/alerts/lsst"


def test_replay_then_consume(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    alerts_dir: Path,
    tmp_path: Path,
) -> None:
    folder = alerts_dir / BOOM
    topic = make_topic("cli")
    runner = CliRunner()
    result = runner.invoke(
        kafka_cli.replay_command, [str(folder), "--kafka", kafka_bootstrap, "--topic", topic]
    )
    assert result.exit_code == 0, result.output
    assert "published 3 alerts" in result.output
    assert len(read_topic(kafka_bootstrap, topic, 3)) == 3

    db = tmp_path / "lanner.db"
    init_database(f"sqlite:///{db}", "lsst")  # `lanner db init`: workers run no DDL
    result = runner.invoke(
        kafka_cli.consume_command,
        [
            *("--kafka", kafka_bootstrap, "--topic", topic, "--max-alerts", "2"),
            *("--batch-size", "1", "--kafka-option", "session.timeout.ms=2000"),
            *("--kafka-option", "heartbeat.interval.ms=400", "--db", f"sqlite:///{db}"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "consumed 2 alerts in 2 batches (2 committed" in result.output
    assert "stopped: max-messages" in result.output
    assert "alerts ingested 2" in result.output
    # The two alerts went through the real pipeline into the database.
    expected = {
        p.record["diaSource"]["diaSourceId"]
        for f in sorted(folder.glob("*.avro"))[:2]
        for p in decode_packet(RawPacket(f.read_bytes(), str(f)))
    }
    store = open_store(f"sqlite:///{db}")
    stored = {r[0] for r in store.con.execute("SELECT alert_id FROM alerts").fetchall()}
    store.close()
    assert stored == expected


def test_replay_reports_bad_input_clearly(tmp_path: Path, kafka_bootstrap: str) -> None:
    bogus = tmp_path / "x.avro"
    bogus.write_bytes(b"plain text")
    result = CliRunner().invoke(
        kafka_cli.replay_command, [str(bogus), "--kafka", kafka_bootstrap, "--topic", "t"]
    )
    assert result.exit_code != 0
    assert "neither an Avro container" in result.output


def test_consume_takes_its_settings_from_the_environment(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    alerts_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = make_topic("env")
    runner = CliRunner()
    published = runner.invoke(
        kafka_cli.replay_command,
        [str(alerts_dir / BOOM), "--kafka", kafka_bootstrap, "--topic", topic],
    )
    assert published.exit_code == 0, published.output
    db = f"sqlite:///{tmp_path / 'env.db'}"
    init_database(db, "lsst")
    for name, value in {
        "LANNER_KAFKA": kafka_bootstrap,
        "LANNER_KAFKA_TOPIC": topic,
        "LANNER_DB": db,
        "LANNER_BATCH_SIZE": "1",  # was ignored by consume
        "LANNER_BATCH_SECONDS": "0.5",
    }.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(
        kafka_cli.consume_command,
        ["--max-alerts", "3", "--kafka-option", "session.timeout.ms=2000"],
    )
    assert result.exit_code == 0, result.output
    assert "consumed 3 alerts in 3 batches (3 committed" in result.output
