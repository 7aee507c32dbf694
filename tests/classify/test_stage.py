"""The classifier stage in the pipeline: scores become annotations of the stored objects, a
filter on a score fires, a re-delivered batch writes nothing twice, a new alert re-scores,
and the history answers "rose above a threshold since"."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from lanner.batch import AlertBatch
from lanner.classify import registry
from lanner.classify.ztf_roid import AsteroidFlag
from lanner.filter.saved import add_filter, lasair_to_sql
from lanner.ingest import iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.pipeline import Pipeline
from lanner.store import Store, open_store
from lanner.store.faults import is_transient

KOWALSKI = "ztf/skyportal__kowalski/data/ztf_alerts"


def _counts(store, sql: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    rows = store.con.execute(sql).fetchall()
    store.con.commit()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_scores_become_annotations_and_fire_filters(
    backend: str, alerts_dir: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'l.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    store = open_store(url, "ztf")
    classifiers = registry.selected("roid,snn_sn_vs_all,anomaly_score", "ztf")
    pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dl"), classifiers=classifiers)
    sql = lasair_to_sql(
        store,
        "objects.objectId, roid.classification",
        "objects, annotator:roid",
        "roid.classification = 'known_sso'",
        1,
    )
    flt = add_filter(store, "asteroids", sql, active=True)
    packets = list(iter_packets(sorted((alerts_dir / KOWALSKI).rglob("*.avro"))))
    report = pipeline.process(packets)
    assert report.classified["roid"] == report.objects_updated > 0
    assert report.classifier_failures == {}
    assert set(report.classifier_seconds) == {"roid", "snn_sn_vs_all", "anomaly_score"}
    by_class = dict(
        _counts(
            store,
            "SELECT classification, COUNT(*) FROM annotations WHERE topic = 'roid' "
            "GROUP BY classification",
        )
    )
    assert by_class.get("known_sso", 0) > 0
    (classdict,) = _counts(store, "SELECT classdict FROM annotations WHERE topic = 'roid' LIMIT 1")[
        0
    ]
    d = json.loads(classdict)
    assert set(d) == {"roid", "classifier", "model_version", "alert_id"}
    fired = _counts(store, f"SELECT COUNT(*) FROM filter_matches WHERE filter_id = {flt.filter_id}")
    assert fired[0][0] == by_class["known_sso"]
    history = _counts(store, "SELECT COUNT(*) FROM annotation_history")[0][0]
    # Re-delivered: the same alerts are not scored twice.
    again = pipeline.process(packets)
    assert sum(again.classified.values()) == 0
    assert _counts(store, "SELECT COUNT(*) FROM annotation_history")[0][0] == history
    store.close()


class _OutageDuringScoring(AsteroidFlag):
    """The asteroid flag, but the database connection is cut while it scores."""

    def __init__(self, url: str, store: Store) -> None:
        self.url, self.store = url, store

    def predict(self, batch: AlertBatch) -> pa.Table:
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (self.store.con.info.backend_pid,))
        return super().predict(batch)


def test_a_database_outage_while_scoring_is_raised_not_counted_as_a_failure(
    alerts_dir: Path, tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker waits out an outage and retries the batch; the classifier stage must not
    log it as the classifier's failure and go on with a lost connection."""
    store = open_store(pg_url, "ztf")
    try:
        pipeline = Pipeline(
            store,
            FolderDeadLetters(tmp_path / "dl"),
            classifiers=[_OutageDuringScoring(pg_url, store)],
        )
        packets = list(iter_packets(sorted((alerts_dir / KOWALSKI).rglob("*.avro"))))[:20]
        with pytest.raises((psycopg.OperationalError, psycopg.InterfaceError)) as raised:
            pipeline.process(packets)
        assert is_transient(raised.value)
        assert "classifier roid failed" not in caplog.text
    finally:
        store.close()
