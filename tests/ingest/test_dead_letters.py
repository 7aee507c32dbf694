"""Deliberately broken packets go to the dead letters with their reason; the batch goes on."""

from __future__ import annotations

import io
import json
from pathlib import Path

import fastavro

from lanner.ingest import assemble, iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.packets import RawPacket
from tests.helpers import packets_of


def _one_ztf(alerts_dir: Path) -> tuple[RawPacket, dict, dict]:  # type: ignore[type-arg]
    path = next((alerts_dir / "ztf" / "boom-astro__boom" / "data").rglob("*.avro"))
    data = path.read_bytes()
    reader = fastavro.reader(io.BytesIO(data))
    return RawPacket(data, str(path)), reader.writer_schema, next(reader)  # type: ignore[return-value]


def _container(schema: dict, record: dict) -> bytes:  # type: ignore[type-arg]
    buf = io.BytesIO()
    fastavro.writer(buf, schema, [record])
    return buf.getvalue()


def test_broken_packets_are_set_aside_with_reasons(alerts_dir: Path) -> None:
    good, _schema, record = _one_ztf(alerts_dir)
    no_jd = json.loads(json.dumps({k: v for k, v in record.items() if not k.startswith("cutout")}))
    no_jd["candidate"]["jd"] = None
    rubin = packets_of([alerts_dir / "lsst" / "boom-astro__boom"])[0]
    packets = [
        good,
        RawPacket(good.data[: len(good.data) // 2], "truncated.avro"),
        RawPacket(b"\x00\x00\x00\x27\x0f" + b"\x02" * 40, "unknown-id"),
        RawPacket(b"hello, not an alert", "text.txt"),
        RawPacket(b"", "empty"),
        RawPacket(json.dumps(no_jd).encode(), "no-jd.json"),
        RawPacket(json.dumps({"foo": 1}).encode(), "other.json"),
        rubin,
    ]
    result = assemble(packets, "ztf")
    assert len(result.batch) == 1
    reasons = {d.origin: d.reason for d in result.dead_letters}
    assert reasons["truncated.avro"].startswith("corrupt packet")
    assert "unknown schema id 9999" in reasons["unknown-id"]
    assert reasons["text.txt"].startswith("unrecognised format")
    assert reasons["empty"] == "empty packet"
    assert reasons["no-jd.json"] == "missing required field(s) candidate.jd"
    assert reasons["other.json"].startswith("unknown alert schema")
    assert reasons[rubin.origin] == "survey mismatch: a lsst alert in a ztf database"
    assert len(reasons) == 7


def test_a_bad_alert_leaves_no_trace_in_the_batch(alerts_dir: Path) -> None:
    """A record failing half-way is rolled back: no orphan light-curve rows."""
    good, schema, record = _one_ztf(alerts_dir)
    bad = dict(record)
    bad["candidate"] = dict(record["candidate"], fid=9)  # unknown filter: fails after appends
    result = assemble([RawPacket(_container(schema, bad), "bad"), good], "ztf")
    assert [d.reason for d in result.dead_letters] == ["unknown ZTF filter id fid=9"]
    batch = result.batch
    assert len(batch) == 1
    assert set(batch.detections["row"].to_pylist()) == {0}
    assert set(batch.cutouts["row"].to_pylist()) == {0}
    assert len(batch.packets) == 1


def test_folder_sink_keeps_bytes_and_reason(tmp_path: Path) -> None:
    sink = FolderDeadLetters(tmp_path / "dl")
    sink.put(b"\x01\x02", "topic/0/42", "corrupt packet")
    (note,) = list((tmp_path / "dl").glob("*.json"))
    assert json.loads(note.read_text())["reason"] == "corrupt packet"
    assert note.with_suffix(".bin").read_bytes() == b"\x01\x02"
    assert sink.count == 1


def test_tarball_members_are_read(alerts_dir: Path) -> None:
    tarball = next((alerts_dir / "ztf").rglob("*.tar.gz"))
    packets = list(iter_packets([tarball]))
    assert len(packets) == 30 and all("!" in p.origin for p in packets)
    assert len(assemble(packets, "ztf").batch) == 30
