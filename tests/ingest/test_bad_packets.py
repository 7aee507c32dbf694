"""Hostile and broken alert packets: each is dead-lettered with its reason, the rest stored."""

from __future__ import annotations

import copy
import io
import json
import math
from pathlib import Path
from typing import Any

import fastavro
import pytest

from lanner.ingest import assemble
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.limits import IngestLimits
from lanner.ingest.packets import RawPacket
from lanner.pipeline import Pipeline
from lanner.store import open_store

RUBIN_JSON = (
    "lsst/pypi__lsst-alert-packet-30.2026.2700/lsst/alert/packet/schema/11/1/sample_data/alert.json"
)
LIMITS = IngestLimits(
    max_packet_bytes=1 << 20,
    max_file_bytes=4 << 20,
    max_packet_alerts=1000,
    max_nesting=64,
    max_cutout_bytes=1 << 16,
)


@pytest.fixture(scope="module")
def rubin(alerts_dir: Path) -> dict[str, Any]:
    return json.loads((alerts_dir / RUBIN_JSON).read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def ztf(alerts_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    path = next((alerts_dir / "ztf" / "boom-astro__boom" / "data").rglob("*.avro"))
    reader = fastavro.reader(io.BytesIO(path.read_bytes()))
    return reader.writer_schema, next(reader)  # type: ignore[return-value]


def _variant(base: dict[str, Any], path: str, value: Any, n: int) -> dict[str, Any]:
    """A copy of ``base`` with ``path`` (``a.b`` or ``a.0.b``) set to ``value`` and fresh ids
    (so variants are distinct alerts of distinct objects)."""
    alert = copy.deepcopy(base)
    alert["diaSource"]["diaSourceId"] += n
    alert["diaObject"]["diaObjectId"] += n
    *parents, last = path.split(".")
    node: Any = alert
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    node[int(last) if last.isdigit() else last] = value
    return alert


def _json(alert: dict[str, Any], origin: str) -> RawPacket:
    # allow_nan (the default) writes NaN/Infinity tokens, as a careless producer does.
    return RawPacket(json.dumps(alert).encode(), origin)


RUBIN_CASES = [
    ("diaSource.midpointMjdTai", math.nan, "non-finite time mjd=nan in alert"),
    ("prvDiaSources.0.midpointMjdTai", math.nan, "non-finite time mjd=nan in detections"),
    ("diaSource.ra", math.nan, "invalid coordinates ra=nan"),
    ("diaSource.ra", math.inf, "invalid coordinates ra=inf"),
    ("diaSource.dec", 123.0, "invalid coordinates ra="),
    ("prvDiaSources.1.dec", -math.inf, "invalid coordinates"),
    ("diaSource.diaSourceId", -5, "invalid id diaSourceId=-5"),
    ("diaObject.diaObjectId", 0, "no diaObjectId"),
    ("diaSource.diaSourceId", 2**64, "malformed alert: alert_id="),
    ("prvDiaSources", "not a list", "prvDiaSources is a str, not a list of records"),
    ("prvDiaSources", [1, 2], "malformed diaSource/prvDiaSources entry"),
    ("prvDiaSources.1", None, "malformed diaSource/prvDiaSources entry: null"),
    ("prvDiaSources.0.diaSourceId", -7, "invalid id source id=-7"),
    ("diaSource.ra", "12.5", "malformed alert: ra='12.5'"),
]


def test_bad_rubin_packets_are_dead_lettered_and_the_rest_kept(rubin: dict[str, Any]) -> None:
    packets = [_json(rubin, "good.json")]
    for n, (path, value, _) in enumerate(RUBIN_CASES, start=1):
        packets.append(_json(_variant(rubin, path, value, n), f"case{n}.json"))
    result = assemble(packets, "lsst", LIMITS)
    reasons = {d.origin: d.reason for d in result.dead_letters}
    for n, (path, _, expected) in enumerate(RUBIN_CASES, start=1):
        assert expected in reasons.get(f"case{n}.json", ""), (path, reasons.get(f"case{n}.json"))
    assert len(reasons) == len(RUBIN_CASES)
    batch = result.batch
    assert batch.alerts["origin"].to_pylist() == ["good.json"]
    assert set(batch.detections["row"].to_pylist()) == {0}
    assert len(batch.packets) == 1


def test_nan_times_never_reach_the_store(rubin: dict[str, Any], tmp_path: Path) -> None:
    """Once a NOT NULL violation that stopped the whole ingest: now one dead letter."""
    bad = _variant(rubin, "prvDiaSources.0.midpointMjdTai", math.nan, 1)
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}", "lsst")
    sink = FolderDeadLetters(tmp_path / "dl")
    try:
        summary = Pipeline(store, sink).run([[_json(rubin, "good.json"), _json(bad, "nan.json")]])
        assert (summary.alerts, summary.dead_letters) == (1, 1)
        assert store.counts()["alerts"] == 1
    finally:
        store.close()
    assert sink.reasons == {"non-finite time mjd=nan in detections": 1}


def _ztf_container(schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    fastavro.writer(buf, schema, [record])
    return buf.getvalue()


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("jd", math.nan, "non-finite time mjd=nan in alert"),
        ("dec", 123.0, "invalid coordinates"),
        ("candid", 0, "invalid id candid=0"),
        ("candid", -12, "invalid id candid=-12"),
    ],
)
def test_bad_ztf_candidates_are_dead_lettered(
    ztf: tuple[dict[str, Any], dict[str, Any]], field: str, value: Any, reason: str
) -> None:
    schema, record = ztf
    bad = copy.deepcopy(record)
    bad["candidate"][field] = value
    packets = [
        RawPacket(_ztf_container(schema, record), "good.avro"),
        RawPacket(_ztf_container(schema, bad), "bad.avro"),
    ]
    result = assemble(packets, "ztf", LIMITS)
    assert [(d.origin, reason in d.reason) for d in result.dead_letters] == [("bad.avro", True)], [
        d.reason for d in result.dead_letters
    ]
    assert result.batch.alerts["origin"].to_pylist() == ["good.avro"]


@pytest.mark.parametrize("name", ["ZTF'; DROP TABLE objects;--", "../../etc/passwd", "ZTF18"])
def test_ztf_object_ids_must_be_object_names(
    ztf: tuple[dict[str, Any], dict[str, Any]], name: str
) -> None:
    schema, record = ztf
    bad = dict(record, objectId=name)
    result = assemble([RawPacket(_ztf_container(schema, bad), "bad.avro")], "ztf", LIMITS)
    assert len(result.batch) == 0
    assert [d.reason for d in result.dead_letters] == [
        f"invalid objectId {name!r}: not a ZTF object name (ZTF + 2 digits + 7 letters)"
    ]


def test_oversize_cutouts_are_refused(ztf: tuple[dict[str, Any], dict[str, Any]]) -> None:
    schema, record = ztf
    big = copy.deepcopy(record)
    big["cutoutScience"]["stampData"] = b"\x00" * (LIMITS.max_cutout_bytes + 1)
    result = assemble([RawPacket(_ztf_container(schema, big), "big.avro")], "ztf", LIMITS)
    assert [d.reason for d in result.dead_letters] == [
        f"cutout science of {LIMITS.max_cutout_bytes + 1} bytes exceeds "
        f"LANNER_MAX_CUTOUT_BYTES ({LIMITS.max_cutout_bytes})"
    ]
    assert len(result.batch) == 0 and result.batch.cutouts.num_rows == 0


WRONG_VALUES: list[Any] = ["x", 1.5, -1, [], [1], {}, {"a": 1}, None, True]


def test_no_wrong_type_anywhere_stops_a_batch(
    rubin: dict[str, Any], ztf: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """Every field of a Rubin alert, of its sources and of a ZTF candidate, set to values of
    every wrong type, in one batch: each variant is kept or dead-lettered, none is lost and
    nothing raises."""
    variants: list[tuple[str, Any, dict[str, Any]]] = []
    for section in (None, "diaSource", "diaObject", "prvDiaSources.0"):
        node = rubin
        for key in section.split(".") if section else []:
            node = node[int(key)] if key.isdigit() else node[key]
        for name in node:
            path = f"{section}.{name}" if section else name
            variants += [(path, value, _variant(rubin, path, value, 0)) for value in WRONG_VALUES]
    packets = [_json(rubin, "good.json")]
    packets += [_json(v, f"v{i}.json") for i, (_, _, v) in enumerate(variants)]
    result = assemble(packets, "lsst", LIMITS)
    assert "good.json" in result.batch.alerts["origin"].to_pylist()
    assert len(result.batch) + len(result.dead_letters) == len(packets)
    # A field Lanner reads, given something that is not a number, always refuses the alert.
    refused = {d.origin for d in result.dead_letters}
    for i, (path, value, _) in enumerate(variants):
        if path in ("diaSource.midpointMjdTai", "diaSource.ra", "diaSource.dec") and not (
            isinstance(value, float | int)
        ):
            assert f"v{i}.json" in refused, (path, value)

    # ZTF as JSON, since the Avro writer would refuse wrong types before Lanner sees them.
    good = {k: v for k, v in ztf[1].items() if not k.startswith("cutout")}
    packets = [RawPacket(json.dumps(good).encode(), "good.json")]
    for name in good["candidate"]:
        for value in ("x", [], {"a": 1}, None):
            bad = dict(good, candidate=dict(good["candidate"], **{name: value}))
            packets.append(RawPacket(json.dumps(bad).encode(), f"z{len(packets)}.json"))
    result = assemble(packets, "ztf", LIMITS)
    assert "good.json" in result.batch.alerts["origin"].to_pylist()
    assert len(result.batch) + len(result.dead_letters) == len(packets)


def test_ztf_json_with_numeric_isdiffpos_keeps_its_sign(
    ztf: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """Some brokers' JSON gives ``isdiffpos`` as 1/-1: read as ZTF's "1"/"-1" text."""
    good = {k: v for k, v in ztf[1].items() if not k.startswith("cutout")}

    def signed(numeric: bool) -> RawPacket:
        prv = [
            dict(p, isdiffpos=(-1 if i % 2 else 1) if numeric else ("f" if i % 2 else "t"))
            for i, p in enumerate(good["prv_candidates"])
        ]
        return RawPacket(json.dumps(dict(good, prv_candidates=prv)).encode(), "a.json")

    numeric = assemble([signed(True)], "ztf", LIMITS)
    assert not numeric.dead_letters
    text = assemble([signed(False)], "ztf", LIMITS).batch.detections
    assert numeric.batch.detections.equals(text)
    assert 0 < sum(text["is_positive"].to_pylist()) < text.num_rows
