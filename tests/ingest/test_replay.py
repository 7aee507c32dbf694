"""Replay of real alert files into tansu, read back and compared with the files."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import math
import tarfile
from pathlib import Path
from typing import Any

import fastavro
import pytest
from lsst.alert.packet.schema import Schema, get_schema_path

from lanner.ingest.replay import ReplayError, TokenBucket, iter_messages, publish
from tests.kafka_fixtures import read_topic

BOOM = "lsst/boom-astro__boom/tests/data/alerts/lsst"
ALERCE_FRAMED = (
    "lsst/alercebroker__pipeline/rubin_stamp_classifier_step/tests/integration/data/avro_messages"
)
RUBIN_V9_CONTAINER = (
    "lsst/alercebroker__pipeline/libs/lsst_schema_parser/tests/sample_data/sample_v9.avro"
)
ZTF_REAL = "ztf/AmpelProject__Ampel-core/alerts/real"
ZTF_TARBALL = "ztf/AmpelProject__Ampel-core/alerts/ztf_public_20180819_mod1000.tar.gz"


def same(a: Any, b: Any) -> bool:
    """Equality of decoded records where NaN equals NaN."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def official_schema(major: int, minor: int) -> Schema:
    """Rubin's schema through lsst-alert-packet's own loader (independent of Lanner)."""
    return Schema.from_file(
        str(Path(get_schema_path(major, minor)) / f"lsst.v{major}_{minor}.alert.avsc")
    )


pytestmark = pytest.mark.kafka


def test_confluent_framed_rubin_files_round_trip_byte_exact(
    kafka_bootstrap: str, make_topic: Any, alerts_dir: Path
) -> None:
    files = sorted((alerts_dir / BOOM).glob("*.avro")) + sorted(
        (alerts_dir / ALERCE_FRAMED).glob("*.avro")
    )
    assert len(files) == 8
    topic = make_topic("rubin")
    report = publish(files, kafka_bootstrap, topic, wire_format="confluent")
    assert report.messages == 8 and report.files == 8
    values = [m.value() for m in read_topic(kafka_bootstrap, topic, 8)]  # type: ignore[attr-defined]
    assert values == [f.read_bytes() for f in files]
    assert report.bytes == sum(len(v) for v in values)


def test_ztf_containers_and_tarball_round_trip_byte_exact(
    kafka_bootstrap: str, make_topic: Any, alerts_dir: Path
) -> None:
    files = sorted((alerts_dir / ZTF_REAL).glob("*.avro"))[:5]
    tarball = alerts_dir / ZTF_TARBALL
    with tarfile.open(tarball) as tar:
        members = [
            tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar
            if m.isfile() and m.name.endswith(".avro")
        ]
    assert len(members) == 30
    topic = make_topic("ztf")
    report = publish([*files, tarball], kafka_bootstrap, topic, wire_format="avro")
    assert report.messages == 35
    values = [m.value() for m in read_topic(kafka_bootstrap, topic, 35)]  # type: ignore[attr-defined]
    assert values == [f.read_bytes() for f in files] + members


def test_rubin_container_becomes_confluent_with_schema_id(
    kafka_bootstrap: str, make_topic: Any, alerts_dir: Path
) -> None:
    path = alerts_dir / RUBIN_V9_CONTAINER
    topic = make_topic("v9")
    publish([path], kafka_bootstrap, topic, wire_format="confluent")
    (message,) = read_topic(kafka_bootstrap, topic, 1)
    value = message.value()  # type: ignore[attr-defined]
    assert value[:5] == b"\x00" + (900).to_bytes(4, "big")
    decoded = official_schema(9, 0).deserialize(value[5:])
    with path.open("rb") as handle:
        original = next(iter(fastavro.reader(handle)))
    assert same(decoded, original)
    assert decoded["diaObject"]["diaObjectId"] == 169298433221853273


def test_confluent_file_becomes_one_record_container(alerts_dir: Path) -> None:
    path = sorted((alerts_dir / BOOM).glob("*.avro"))[0]
    raw = path.read_bytes()
    major_minor = int.from_bytes(raw[1:5], "big")
    expected = official_schema(*divmod(major_minor, 100)).deserialize(raw[5:])
    ((container, origin),) = list(iter_messages([path], "avro"))
    assert origin == str(path)
    records = list(fastavro.reader(io.BytesIO(container)))
    assert len(records) == 1 and same(records[0], expected)


def test_ztf_cannot_claim_a_confluent_schema_id(alerts_dir: Path) -> None:
    path = sorted((alerts_dir / ZTF_REAL).glob("*.avro"))[0]
    with pytest.raises(ReplayError, match="format 'avro'"):
        list(iter_messages([path], "confluent"))


def test_unknown_file_kind_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.avro"
    bogus.write_bytes(b"hello world")
    with pytest.raises(ReplayError, match="neither an Avro container"):
        list(iter_messages([bogus], "avro"))


def test_token_bucket_paces_to_the_rate() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    bucket = TokenBucket(10.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(21):
        bucket.take()
    # one token at start, then 20 more at 10/s
    assert now[0] == pytest.approx(2.0)
    unlimited = TokenBucket(0.0, clock=lambda: 0.0, sleep=lambda s: pytest.fail("slept"))
    for _ in range(1000):
        unlimited.take()


def test_publish_rate_is_honoured(kafka_bootstrap: str, make_topic: Any, alerts_dir: Path) -> None:
    files = sorted((alerts_dir / BOOM).glob("*.avro")) * 3
    report = publish(files, kafka_bootstrap, make_topic("rate"), rate=20.0)
    assert report.messages == 9
    # 9 messages at 20/s: the first at once, 8 intervals of 0.05 s after it
    assert 8 / 20.0 * 0.95 <= report.elapsed_s < 2.0


COMPRESS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_compressed_files_replay_as_the_files_inside(
    tmp_path: Path, alerts_dir: Path, suffix: str
) -> None:
    framed = sorted((alerts_dir / BOOM).glob("*.avro"))[0]
    container = sorted((alerts_dir / ZTF_REAL).glob("*.avro"))[0]
    for source in (framed, container):
        (tmp_path / f"{source.name}{suffix}").write_bytes(COMPRESS[suffix](source.read_bytes()))
    # Rubin's archive: one gzip'd Confluent message per *.avro.gz, sent byte for byte.
    got = dict(
        (Path(origin).name, value)
        for value, origin in iter_messages([tmp_path / f"{framed.name}{suffix}"], "confluent")
    )
    assert got == {f"{framed.name}{suffix}": framed.read_bytes()}
    # A compressed one-record container, sent as the container; the folder walk finds both.
    values = [v for v, _ in iter_messages([tmp_path], "avro")]
    assert container.read_bytes() in values and len(values) == 2


def test_compressed_tarball_of_compressed_members(tmp_path: Path, alerts_dir: Path) -> None:
    framed = sorted((alerts_dir / BOOM).glob("*.avro"))[:2]
    tarball = tmp_path / "night.tar.xz"
    with tarfile.open(tarball, "w:xz") as tar:
        for member, data in [
            *((f"alerts/{f.name}.gz", gzip.compress(f.read_bytes())) for f in framed),
            ("alerts/README.txt", b"not an alert"),
        ]:
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    messages = list(iter_messages([tmp_path], "confluent"))
    assert [v for v, _ in messages] == [f.read_bytes() for f in framed]
    assert [o.rpartition("!")[2] for _, o in messages] == [f"alerts/{f.name}.gz" for f in framed]


def test_truncated_compressed_file_is_refused_with_its_name(
    tmp_path: Path, alerts_dir: Path
) -> None:
    framed = sorted((alerts_dir / BOOM).glob("*.avro"))[0]
    broken = tmp_path / "cut.avro.gz"
    broken.write_bytes(gzip.compress(framed.read_bytes())[:-40])
    with pytest.raises(ReplayError, match=r"cut\.avro\.gz: unreadable gzip file"):
        list(iter_messages([broken], "confluent"))


def test_avro_gz_published_through_kafka(
    kafka_bootstrap: str, make_topic: Any, tmp_path: Path, alerts_dir: Path
) -> None:
    framed = sorted((alerts_dir / BOOM).glob("*.avro"))[:3]
    for f in framed:
        (tmp_path / f"{f.name}.gz").write_bytes(gzip.compress(f.read_bytes()))
    topic = make_topic("gz")
    report = publish([tmp_path], kafka_bootstrap, topic, wire_format="confluent")
    assert report.messages == 3 and report.files == 3
    values = [m.value() for m in read_topic(kafka_bootstrap, topic, 3)]  # type: ignore[attr-defined]
    assert values == [f.read_bytes() for f in framed]
