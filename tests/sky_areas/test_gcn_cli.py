"""``lanner skymap listen`` and ``lanner consume --gcn`` reading recorded LVK notices from a
real Kafka-protocol broker (tansu): notices stored, maps made, a retraction applied, a
message that is not a notice rejected with its reason; no network."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import Producer

from lanner.cli import build_cli
from lanner.store import open_store
from lanner.store.migrate import init_database
from lanner.store.sky_areas import record_rows
from tests.kafka_fixtures import FAST_GROUP

pytestmark = pytest.mark.kafka

GROUP_OPTIONS = [x for k, v in FAST_GROUP.items() for x in ("--kafka-option", f"{k}={v}")]
NOTICES = ("MS181101ab-preliminary", "MS181101ab-retraction", "S230528ay-preliminary")


def _publish(bootstrap: str, topic: str, catalogs: Path) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 8_000_000})
    for name in NOTICES:
        producer.produce(topic, (catalogs / "gw_notices" / f"{name}.json").read_bytes())
    producer.produce(topic, b"not a notice")
    assert producer.flush(10) == 0


def _gcn_env(monkeypatch: pytest.MonkeyPatch, bootstrap: str, topic: str) -> None:
    monkeypatch.setenv("LANNER_GCN_KAFKA", bootstrap)
    monkeypatch.setenv("LANNER_GCN_SECURITY", "plaintext")
    monkeypatch.setenv("LANNER_GCN_TOPIC", topic)


def _check_stored(db: str) -> None:
    store = open_store(db)
    try:
        notices = record_rows(store, "mma_notices")
        areas = record_rows(store, "mma_areas")
    finally:
        store.close()
    assert [(n["superevent_id"], n["alert_type"]) for n in notices] == [
        ("MS181101ab", "PRELIMINARY"),
        ("MS181101ab", "RETRACTION"),
        ("S230528ay", "PRELIMINARY"),
    ]
    assert [(a["otherId"], bool(a["active"])) for a in areas] == [
        ("MS181101ab", False),
        ("S230528ay", True),
    ]


def test_skymap_listen_reads_notices_from_kafka(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    catalogs: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = make_topic("igwn.gwalert")
    _publish(kafka_bootstrap, topic, catalogs)
    _gcn_env(monkeypatch, kafka_bootstrap, topic)
    db = f"sqlite:///{tmp_path / 'lanner.db'}"
    init_database(db, "ztf")
    result = CliRunner().invoke(
        build_cli(), ["skymap", "listen", "--max-polls", "6", *GROUP_OPTIONS, "--db", db]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "notice 1: stored as map 1, 0 hits"
    assert lines[1] == "notice 2: retraction: 1 map(s) deactivated"
    assert lines[2] == "notice 3: stored as map 2, 0 hits"
    assert f"rejected {topic}/0/3: " in result.stderr and "not JSON" in result.stderr
    _check_stored(db)


def test_consume_runs_the_gcn_listener_beside_the_alerts(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    catalogs: Path,
    alerts_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gcn_topic = make_topic("igwn.gwalert")
    _publish(kafka_bootstrap, gcn_topic, catalogs)
    _gcn_env(monkeypatch, kafka_bootstrap, gcn_topic)
    monkeypatch.setenv("LANNER_GCN_LISTEN", "1")
    alerts = make_topic("alerts")
    runner = CliRunner()
    folder = alerts_dir / "ztf/skyportal__kowalski/data/ztf_alerts/20200202"
    published = runner.invoke(
        build_cli(),
        ["replay", str(folder), "--kafka", kafka_bootstrap, "--topic", alerts, "--format", "avro"],
    )
    assert published.exit_code == 0, published.output
    db = f"sqlite:///{tmp_path / 'lanner.db'}"
    init_database(db, "ztf")
    result = runner.invoke(
        build_cli(),
        [
            *("consume", "--kafka", kafka_bootstrap, "--topic", alerts, "--db", db),
            *("--idle-timeout", "6", *GROUP_OPTIONS),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "GCN notices     : 3 received, 1 rejected, 0 listener errors" in result.stderr
    assert "alerts ingested 5" in result.stdout
    _check_stored(db)


def test_the_background_listener_waits_out_a_database_not_set_up(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    catalogs: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its database is not set up at first: the failure is logged once and counted, the
    listener is rebuilt until it works, then the notices arrive and are counted."""
    from lanner.observe.metrics import Metrics
    from lanner.settings import Settings
    from lanner.sky_areas.gcn_listener import BackgroundListener, listener_from

    topic = make_topic("igwn.gwalert")
    _publish(kafka_bootstrap, topic, catalogs)
    db = f"sqlite:///{tmp_path / 'lanner.db'}"
    settings = Settings(
        db_url=db, gcn_kafka=kafka_bootstrap, gcn_security="plaintext", gcn_topic=topic
    )
    metrics = Metrics()
    background = BackgroundListener(
        lambda: listener_from(settings, {k: str(v) for k, v in FAST_GROUP.items()}),
        retry_s=0.2,
        metrics=metrics,
    ).start()
    try:
        deadline = time.monotonic() + 10
        while background.errors < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert background.errors >= 3 and not background.totals.outcomes
        init_database(db, "ztf")
        while len(background.totals.rejected) < 1 and time.monotonic() < deadline + 20:
            time.sleep(0.2)
    finally:
        done = background.stop()
    assert [o.decision.split(":")[0] for o in done.outcomes] == ["stored", "retraction", "stored"]
    assert len(done.rejected) == 1
    stopped = [r for r in caplog.records if "GCN listener stopped" in r.getMessage()]
    assert len(stopped) == 1 and "no Lanner database" in stopped[0].getMessage()
    assert any("GCN listener running again" in r.getMessage() for r in caplog.records)
    assert metrics.value("lanner_gcn_errors_total") == background.errors
    assert metrics.value("lanner_gcn_notices_total", decision="stored") == 2
    assert metrics.value("lanner_gcn_notices_total", decision="retraction") == 1
    assert metrics.value("lanner_gcn_rejected_total") == 1
    _check_stored(db)
