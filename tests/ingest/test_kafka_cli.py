"""``lanner replay`` and ``lanner consume`` against tansu (pipeline replaced by a recorder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lanner.cli import kafka as kafka_cli
from lanner.ingest.kafka import KafkaBatchConsumer
from tests.kafka_fixtures import read_topic

pytestmark = pytest.mark.kafka

BOOM = "lsst/boom-astro__boom/tests/data/alerts/lsst"


def test_replay_then_consume(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    alerts_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
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

    seen: list[bytes] = []

    def fake_run_stream(consumer: KafkaBatchConsumer, settings: dict[str, Any]) -> str:
        for batch in consumer:
            seen.extend(p.data for p in batch.packets)
            batch.commit()
        return "pipeline summary"

    monkeypatch.setattr(kafka_cli, "_pipeline_entry", lambda: fake_run_stream)
    result = runner.invoke(
        kafka_cli.consume_command,
        [
            *("--kafka", kafka_bootstrap, "--topic", topic, "--max-alerts", "2"),
            *("--batch-size", "1", "--kafka-option", "session.timeout.ms=2000"),
            *("--kafka-option", "heartbeat.interval.ms=400"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "consumed 2 alerts in 2 batches (2 committed" in result.output
    assert "stopped: max-messages" in result.output
    assert seen == [f.read_bytes() for f in sorted(folder.glob("*.avro"))][:2]


def test_replay_reports_bad_input_clearly(tmp_path: Path, kafka_bootstrap: str) -> None:
    bogus = tmp_path / "x.avro"
    bogus.write_bytes(b"plain text")
    result = CliRunner().invoke(
        kafka_cli.replay_command, [str(bogus), "--kafka", kafka_bootstrap, "--topic", "t"]
    )
    assert result.exit_code != 0
    assert "neither an Avro container" in result.output
