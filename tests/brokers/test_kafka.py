"""Fink and ALeRCE classification messages, built in their stream formats, read from a
Kafka topic (tansu) by ``lanner brokers consume``: annotations written, bad messages set
aside, and an active filter reading the annotator fires on the new knowledge."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import pytest
from click.testing import CliRunner

from lanner.cli import build_cli
from lanner.filter.saved import add_filter
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.pipeline import Pipeline
from lanner.store import Store, open_store
from tests.helpers import SERIES, packets_of
from tests.kafka_fixtures import produce_values

pytestmark = pytest.mark.kafka

#: Fink's ZTF stream: the ZTF alert fields plus Fink's added values (a subset of the
#: distribution schema, enough for the classifiers; the schema travels in the key).
FINK_ZTF_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "alert",
    "namespace": "fink",
    "fields": [
        {"name": "objectId", "type": "string"},
        {"name": "candid", "type": "long"},
        {
            "name": "candidate",
            "type": {
                "type": "record",
                "name": "candidate",
                "fields": [
                    {"name": "jd", "type": "double"},
                    {"name": "ra", "type": "double"},
                    {"name": "dec", "type": "double"},
                ],
            },
        },
        {"name": "cdsxmatch", "type": "string"},
        {"name": "rf_snia_vs_nonia", "type": "double"},
        {"name": "snn_snia_vs_nonia", "type": "double"},
        {"name": "snn_sn_vs_all", "type": "double"},
        {"name": "mulens", "type": ["null", "double"]},
        {"name": "roid", "type": "int"},
        {"name": "nalerthist", "type": "int"},
        {"name": "rf_kn_vs_nonkn", "type": "double"},
        {"name": "fink_science_version", "type": "string"},
    ],
}

ALERCE_LC_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "lc_classification_output",
    "fields": [
        {"name": "oid", "type": "string"},
        {"name": "candid", "type": "long"},
        {
            "name": "lc_classification",
            "type": {
                "type": "record",
                "name": "lc_classification",
                "fields": [
                    {"name": "class", "type": "string"},
                    {"name": "probabilities", "type": {"type": "map", "values": "double"}},
                ],
            },
        },
    ],
}


def _ztf_store(db_url: str, tmp_path: Path, alerts_dir: Path) -> tuple[Store, list[str]]:
    store = open_store(db_url, "ztf")
    Pipeline(store, FolderDeadLetters(tmp_path / "dl")).process(packets_of([alerts_dir / SERIES]))
    ids = [r[0] for r in store.con.execute('SELECT "objectId" FROM objects').fetchall()]
    store.con.commit()
    return store, ids


def _schemaless(record: dict[str, Any], schema: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), record)
    return buf.getvalue()


def _container(record: dict[str, Any], schema: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    fastavro.writer(buf, fastavro.parse_schema(schema), [record])
    return buf.getvalue()


def _produce(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes]]) -> None:
    keys, values = zip(*messages, strict=True)
    produce_values(bootstrap, topic, values, keys=keys)


def _consume(db_url: str, *args: str) -> str:
    result = CliRunner().invoke(
        build_cli(), ["brokers", "consume", *args, "--db", db_url], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def _fink(object_id: str, snn: float, roid: int = 0, cds: str = "Unknown") -> dict[str, Any]:
    return {
        "objectId": object_id,
        "candid": 1642404680815015001,
        "candidate": {"jd": 2459396.9, "ra": 250.1, "dec": 30.2},
        "cdsxmatch": cds,
        "rf_snia_vs_nonia": 0.0,
        "snn_snia_vs_nonia": snn,
        "snn_sn_vs_all": 0.9,
        "mulens": None,
        "roid": roid,
        "nalerthist": 5,
        "rf_kn_vs_nonkn": -1.0,
        "fink_science_version": "7.4.0",
    }


def test_fink_stream_schema_in_key(
    db_url: str,
    tmp_path: Path,
    alerts_dir: Path,
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
) -> None:
    store, ids = _ztf_store(db_url, tmp_path, alerts_dir)
    (oid,) = ids
    flt = add_filter(
        store,
        "fink_ia",
        "SELECT objects.objectId, fink_snn_snia_vs_nonia.classification FROM objects "
        "JOIN annotations AS fink_snn_snia_vs_nonia ON fink_snn_snia_vs_nonia.objectId = "
        "objects.objectId AND fink_snn_snia_vs_nonia.topic = 'fink_snn_snia_vs_nonia' "
        "WHERE fink_snn_snia_vs_nonia.classification = 'SN Ia'",
        active=True,
    )
    topic = make_topic("fink")
    key = json.dumps(FINK_ZTF_SCHEMA).encode()
    _produce(
        kafka_bootstrap,
        topic,
        [
            (key, _schemaless(_fink(oid, 0.2), FINK_ZTF_SCHEMA)),
            (key, _schemaless(_fink("ZTF99aaaaaaa", 0.9), FINK_ZTF_SCHEMA)),  # not stored here
            (None, b"\x00\x01garbage"),  # schemaless without a schema: set aside
            (key, _schemaless(_fink(oid, 0.87, roid=3, cds="RRLyr"), FINK_ZTF_SCHEMA)),
        ],
    )
    out = _consume(
        db_url, "--kafka", kafka_bootstrap, "--topic", topic, "--source", "fink",
        "--max-messages", "4",
    )  # fmt: skip
    assert "4 messages read" in out and "not in this database: " in out
    assert "1 schemaless Avro without a schema" in out
    rows = dict(store.con.execute("SELECT topic, classification FROM annotations").fetchall())
    store.con.commit()
    # The later message of the object wins; rf_kn -1 (did not run) gives nothing.
    assert rows == {
        "fink_snn_snia_vs_nonia": "SN Ia",
        "fink_snn_sn_vs_all": "SN",
        "fink_rf_snia_vs_nonia": "not early SN Ia",
        "fink_roid": "known asteroid",
        "fink_cdsxmatch": "RRLyr",
    }
    history = store.con.execute("SELECT count(*) FROM annotation_history").fetchone()[0]
    store.con.commit()
    assert history >= 5
    matched = store.con.execute(
        f'SELECT "objectId" FROM filter_matches WHERE filter_id = {flt.filter_id}'
    ).fetchall()
    store.con.commit()
    assert [m[0] for m in matched] == [oid]  # the annotation made the filter fire
    store.close()


def test_alerce_messages(
    db_url: str,
    tmp_path: Path,
    alerts_dir: Path,
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
) -> None:
    store, ids = _ztf_store(db_url, tmp_path, alerts_dir)
    (oid,) = ids
    topic = make_topic("alerce")
    lc = {
        "oid": oid,
        "candid": 1,
        "lc_classification": {"class": "SNIa", "probabilities": {"SNIa": 0.7, "SNII": 0.2}},
    }
    stamp = {"objectId": oid, "candid": 1, "probabilities": {"SN": 0.6, "AGN": 0.3, "bogus": 0.1}}
    records = [
        {"oid": oid, "classifier_name": "lc_classifier_top", "classifier_version": "hrf_1.1.0",
         "class_name": c, "probability": p, "ranking": r}
        for c, p, r in (("Transient", 0.8, 1), ("Periodic", 0.15, 2), ("Stochastic", 0.05, 3))
    ]  # fmt: skip
    _produce(
        kafka_bootstrap,
        topic,
        [
            (None, _container(lc, ALERCE_LC_SCHEMA)),
            (None, json.dumps(stamp).encode()),
            *[(None, json.dumps(r).encode()) for r in records],
            (None, json.dumps({"hello": "world"}).encode()),
            (None, json.dumps({"oid": oid, "score": 3}).encode()),
        ],
    )
    out = _consume(
        db_url, "--kafka", kafka_bootstrap, "--topic", topic, "--source", "alerce",
        "--max-messages", "7",
    )  # fmt: skip
    assert "1 no object id" in out and "1 not an ALeRCE classification" in out
    rows = {
        t: (c, json.loads(d), u)
        for t, c, d, u in store.con.execute(
            "SELECT topic, classification, classdict, url FROM annotations"
        ).fetchall()
    }
    store.con.commit()
    assert rows["alerce_lc_classifier"][0] == "SNIa"
    assert rows["alerce_lc_classifier"][1]["probabilities"] == {"SNIa": 0.7, "SNII": 0.2}
    assert rows["alerce_lc_classifier"][2].endswith(oid)
    assert rows["alerce_stamp_classifier"][0] == "SN"
    assert rows["alerce_lc_classifier_top"][0] == "Transient"
    assert rows["alerce_lc_classifier_top"][1]["classifier_version"] == "hrf_1.1.0"
    owners = store.con.execute(
        "SELECT DISTINCT u.username FROM annotators a JOIN users u ON u.user_id = a.owner_id"
    ).fetchall()
    store.con.commit()
    assert owners == [("alerce",)]
    store.close()
