"""The Rubin adapter on the oldest Rubin schema and on ids that only a float carries."""

from __future__ import annotations

import json
import math
from pathlib import Path

import fastavro

from lanner.ingest import assemble, iter_packets
from lanner.ingest.packets import RawPacket

PRE_V5 = "lsst/lsst-dm__alert-stream-simulator/test/fixtures/sample_10_alert.avro"


def test_pre_versioned_schema_maps_onto_current_names(alerts_dir: Path) -> None:
    path = alerts_dir / PRE_V5
    with path.open("rb") as fh:
        records = list(fastavro.reader(fh))
    result = assemble(iter_packets([path]), "lsst")
    assert not result.dead_letters
    alerts = result.batch.alerts
    assert set(alerts["schema"].to_pylist()) == {"lsst.alert"}
    first = records[0]["diaSource"]
    assert alerts["alert_id"][0].as_py() == first["diaSourceId"]
    assert alerts["mjd"][0].as_py() == first["midPointTai"]
    assert alerts["dec"][0].as_py() == first["decl"]
    assert alerts["band"][0].as_py() == first["filterName"]
    history = sum(1 + len(r["prvDiaSources"] or ()) for r in records)
    assert len(result.batch.detections) == history
    fluxes = {p["psFlux"] for r in records for p in r["prvDiaSources"] or ()}
    measured = {f for f in fluxes if not math.isnan(f)}
    assert measured  # psFlux is renamed psfFlux, not dropped
    assert measured <= set(result.batch.detections["flux"].to_pylist())


def _json_packet(object_id: float, source_object_id: int) -> RawPacket:
    record = {
        "diaSourceId": 1,
        "diaSource": {
            "diaSourceId": 1,
            "diaObjectId": source_object_id,
            "midpointMjdTai": 61000.5,
            "band": "g",
            "ra": 10.0,
            "dec": -5.0,
            "psfFlux": 1000.0,
            "psfFluxErr": 10.0,
        },
        "diaObject": {"diaObjectId": object_id, "ra": 10.0, "dec": -5.0},
        "lsst_schema_version": "lsst.v10_0",
    }
    return RawPacket(json.dumps(record).encode(), "test.json")


def test_a_float_id_above_2_53_takes_the_exact_integer_copy() -> None:
    exact = 169813006680588318  # float64 rounds it to ...320
    result = assemble(iter([_json_packet(float(exact), exact)]), "lsst")
    assert result.batch.alerts["object_id"].to_pylist() == [exact]


def test_a_float_id_without_an_exact_copy_is_dead_lettered() -> None:
    result = assemble(iter([_json_packet(float(169813006680588318), 0)]), "lsst")
    assert len(result.batch) == 0
    [dead] = result.dead_letters
    assert "cannot hold a 64-bit id exactly" in dead.reason


def test_a_small_float_id_is_exact_and_kept() -> None:
    result = assemble(iter([_json_packet(12345.0, 0)]), "lsst")
    assert result.batch.alerts["object_id"].to_pylist() == [12345]
