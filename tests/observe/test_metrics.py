"""Metrics of a real run, scraped over HTTP from ``/metrics`` and parsed with
prometheus_client's own parser; the run's log and notices say each failure once."""

from __future__ import annotations

import logging
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lanner.filter.saved import add_filter, notices
from lanner.ingest import iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.packets import RawPacket
from lanner.observe.metrics import Metrics
from lanner.pipeline import BatchReport, Pipeline, chunked
from lanner.store import open_store

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "lsst"
BRIGHT = "SELECT diaObjectId, latest_psfFlux FROM objects WHERE latest_psfFlux > 10000"
EVERYTHING = "SELECT diaObjectId FROM objects"
BROKEN = "SELECT diaObjectId FROM objects WHERE CAST(latest_band AS INTEGER) > 1"


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_run_scraped_from_metrics(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'lanner.db'}", "lsst")
    add_filter(store, "bright", BRIGHT, active=True)
    add_filter(store, "everything", EVERYTHING, active=True)
    broken = add_filter(store, "broken", BROKEN, active=True)
    pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dead"), max_rows=3)
    metrics = Metrics()
    server = metrics.serve(0, "127.0.0.1")
    packets = [*iter_packets([SAMPLE]), RawPacket(b"not an alert", "junk.avro")]
    reports: list[BatchReport] = []

    def observe(report: BatchReport) -> None:
        reports.append(report)
        metrics.observe(report)

    with caplog.at_level(logging.WARNING, logger="lanner"):
        summary = pipeline.run(chunked(packets, 8), on_batch=observe)
    metrics.set_deliveries(store.delivery_counts())
    try:
        got = scrape(server.port)
    finally:
        server.stop()
        store.close()

    assert got[("lanner_alerts_total", ())] == summary.alerts > 0
    batches = len(reports)
    assert got[("lanner_batches_total", ())] == summary.batches == batches == 3
    letters = {k[1][0][1]: v for k, v in got.items() if k[0] == "lanner_dead_letters_total"}
    assert letters == summary.dead_letter_reasons and sum(letters.values()) == 1
    for name in ("bright", "everything"):
        assert got[("lanner_matches_total", (("filter", name),))] == summary.matches[name]
    # 'everything' selects every object of a batch: cut at 3 rows in each batch of more
    # objects (every batch here has more than 3 alerts of distinct objects).
    assert all(r.objects_updated > 3 for r in reports)
    assert got[("lanner_truncations_total", (("filter", "everything"),))] == batches
    assert summary.matches["everything"] == 3 * batches
    assert got[("lanner_filter_errors_total", (("filter", "broken"),))] == batches
    assert got[("lanner_batch_seconds_count", ())] == batches
    assert got[("lanner_batch_seconds_sum", ())] == pytest.approx(sum(summary.seconds.values()))
    # These filters have no output: their matches are recorded with nothing to send.
    assert got[("lanner_deliveries", (("state", "none"),))] == sum(summary.matches.values())
    assert got[("lanner_deliveries", (("state", "sent"),))] == 0

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("dead-lettered" in w and "junk.avro" in w for w in warnings) == 1
    assert sum("everything: result cut at 3 rows" in w for w in warnings) == batches
    # The broken filter is logged on each batch; its owner is told once.
    assert sum("filter broken" in w for w in warnings) == batches
    store = open_store(f"sqlite:///{tmp_path / 'lanner.db'}")
    assert [kind for _, kind, _ in notices(store, broken.filter_id)] == ["error"]
    store.close()


def test_json_logs_carry_the_ids(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from lanner.observe.logs import configure_logging

    configure_logging("INFO", "json")
    try:
        logging.getLogger("lanner.test").warning(
            "filter %s failed", "f", extra={"filter_id": 7, "alert_id": 2**60}
        )
    finally:
        logging.getLogger("lanner").handlers.clear()
        logging.getLogger("lanner").setLevel(logging.NOTSET)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "filter f failed" and line["level"] == "WARNING"
    assert (line["filter_id"], line["alert_id"]) == (7, 2**60)
