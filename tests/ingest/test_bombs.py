"""Decompression bombs and deep nesting: bounded, dead-lettered with the bound's name.

Each bomb is built streamed (zeros produced and compressed chunk by chunk), so the test holds
a few MB at most while the bomb claims far more once inflated; the bounds are lowered
(``LIMITS``) so that reaching them is quick, and the code paths are those of the defaults.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import random
import tarfile
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lanner.ingest import assemble, iter_packets
from lanner.ingest.avro_container import MAGIC
from lanner.ingest.decode import DecodeError, decode_packet
from lanner.ingest.limits import IngestLimits, nesting_depth
from lanner.ingest.packets import RawPacket

MB = 1 << 20
LIMITS = IngestLimits(
    max_packet_bytes=MB,
    max_file_bytes=8 * MB,
    max_packet_alerts=1000,
    max_nesting=64,
    max_cutout_bytes=MB,
)
BOMB_BYTES = 64 * MB  # what each bomb claims once inflated


class Zeros(io.RawIOBase):
    """``size`` zero bytes, produced as they are read."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def _reason(packet: RawPacket) -> str:
    try:
        decode_packet(packet, LIMITS)
    except DecodeError as exc:
        return str(exc)
    raise AssertionError("the packet decoded")


def test_a_gzipped_tarball_bomb_keeps_the_good_members(tmp_path: Path, alerts_dir: Path) -> None:
    good = sorted((alerts_dir / "ztf" / "boom-astro__boom" / "data").rglob("*.avro"))[:2]
    path = tmp_path / "bomb.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for p in good:
            tar.add(p, arcname=p.name)
        tar.addfile(tarfile.TarInfo("zeros.avro"), None)  # an empty member: still a packet
        info = tarfile.TarInfo("bomb.avro")
        info.size = BOMB_BYTES
        tar.addfile(info, io.BufferedReader(Zeros(BOMB_BYTES)))
        tar.add(good[0], arcname="after.avro")
    assert path.stat().st_size < MB
    packets = list(iter_packets([path], limits=LIMITS))
    result = assemble(packets, "ztf", LIMITS)
    assert result.batch.alerts["origin"].to_pylist() == [f"{path}!{p.name}" for p in good]
    reasons = [(d.origin.rsplit("!", 1)[-1], d.reason) for d in result.dead_letters]
    assert reasons[0] == ("zeros.avro", "empty packet")
    assert reasons[1] == (
        "bomb.avro",
        f"tar member of {BOMB_BYTES} bytes exceeds LANNER_MAX_PACKET_BYTES ({MB})",
    )
    # Skipping the bomb's bytes inflates past the file's bound: the rest is set aside.
    assert reasons[2][1].startswith("truncated or corrupt archive, not read after 3 member(s)")
    assert "LANNER_MAX_FILE_BYTES" in reasons[2][1]
    assert len(reasons) == 3


def test_a_gzipped_file_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "alert.json.gz"
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(b"[")
        zeros = Zeros(BOMB_BYTES)
        while chunk := zeros.read(MB):
            fh.write(b" " * len(chunk))
    (packet,) = iter_packets([path], limits=LIMITS)
    assert packet.error == f"file inflates to more than LANNER_MAX_PACKET_BYTES ({MB})"
    assert packet.data == path.read_bytes()  # kept for the dead letter: it is small


def _long(n: int) -> bytes:
    """Avro zig-zag varint."""
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _text(b: bytes) -> bytes:
    return _long(len(b)) + b


def _avro_header(schema: bytes, codec: bytes, sync: bytes) -> bytes:
    meta = _text(b"avro.schema") + _text(schema) + _text(b"avro.codec") + _text(codec)
    return MAGIC + _long(2) + meta + _long(0) + sync


@pytest.mark.parametrize("codec", ["deflate", "bzip2", "xz"])
def test_an_avro_codec_bomb_is_refused(codec: str) -> None:
    sync = b"S" * 16
    schema = b'{"type":"record","name":"r","fields":[{"name":"x","type":"bytes"}]}'
    packer = {
        "deflate": lambda: zlib.compressobj(1, zlib.DEFLATED, -15),
        "bzip2": lambda: bz2.BZ2Compressor(1),
        "xz": lambda: lzma.LZMACompressor(preset=0),
    }[codec]()
    zeros = Zeros(BOMB_BYTES)
    block = b"".join(packer.compress(c) for c in iter(lambda: zeros.read(MB), b""))
    block += packer.flush()
    assert len(block) < MB
    data = _avro_header(schema, codec.encode(), sync) + _long(1) + _text(block) + sync
    reason = _reason(RawPacket(data, "bomb.avro"))
    assert reason == f"Avro {codec} block inflates beyond LANNER_MAX_PACKET_BYTES ({MB})"


def test_an_avro_codec_that_cannot_be_bounded_is_refused() -> None:
    data = _avro_header(b'"int"', b"snappy", b"S" * 16)
    assert _reason(RawPacket(data, "x.avro")) == (
        "Avro codec 'snappy' is not read (only null, deflate, bzip2, xz: their blocks are "
        "inflated within LANNER_MAX_PACKET_BYTES)"
    )


def test_an_avro_schema_nested_3000_deep_is_refused() -> None:
    schema = b""
    for i in range(3000):
        schema += b'{"type":"record","name":"r%d","fields":[{"name":"f","type":' % i
    schema += b'"int"' + b"}]}" * 3000
    data = _avro_header(schema, b"null", b"S" * 16)
    reason = _reason(RawPacket(data, "deep.avro"))
    assert reason == "Avro schema nests 9000 levels deep, more than LANNER_MAX_NESTING (64)"


def test_a_json_packet_nested_thousands_deep_is_refused() -> None:
    data = b'{"a":' * 5000 + b"1" + b"}" * 5000
    assert _reason(RawPacket(data, "deep.json")) == (
        "JSON packet nests 5000 levels deep, more than LANNER_MAX_NESTING (64)"
    )
    # Brackets inside strings do not count, escaped quotes included.
    shallow = json.dumps({"a": '[[[[{{{{ \\" [[[[', "b": [[1]]}).encode()
    assert decode_packet(RawPacket(shallow, "ok.json"), LIMITS)[0].record["b"] == [[1]]


def _depth(doc: object) -> int:
    if isinstance(doc, dict | list):
        items = doc.values() if isinstance(doc, dict) else doc
        return 1 + max((_depth(v) for v in items), default=0)
    return 0


def _document(rng: random.Random, depth: int = 0) -> object:
    """A random JSON document whose strings are full of brackets, quotes and backslashes."""
    r = rng.random()
    if depth > 6 or r < 0.3:
        return rng.choice(['a\\"[{', "}]\\", 1, "\\\\", '"', None, "[[[]"])
    if r < 0.65:
        return [_document(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {f"{i}{{": _document(rng, depth + 1) for i in range(rng.randint(0, 3))}


def test_nesting_depth_agrees_with_the_parsed_document() -> None:
    rng = random.Random(7)
    for _ in range(500):
        doc = _document(rng)
        assert nesting_depth(json.dumps(doc).encode()) == _depth(doc), doc


def test_a_parquet_file_with_a_huge_row_count_is_refused() -> None:
    buf = io.BytesIO()
    pq.write_table(pa.table({"x": pa.nulls(5_000_000)}), buf)
    assert buf.tell() < MB
    assert _reason(RawPacket(buf.getvalue(), "rows.parquet")) == (
        "packet holds 5000000 alerts, more than LANNER_MAX_PACKET_ALERTS (1000)"
    )


def test_a_packet_beyond_the_byte_bound_is_refused() -> None:
    data = b"{" + b" " * MB + b"}"
    assert _reason(RawPacket(data, "big.json")) == (
        f"packet of {MB + 2} bytes exceeds LANNER_MAX_PACKET_BYTES ({MB})"
    )


def test_an_avro_array_of_zero_size_items_is_refused() -> None:
    """Ten bytes of data could declare 2**62 nulls: the schema is refused up front."""
    schema = json.dumps(
        {
            "type": "record",
            "name": "r",
            "fields": [
                {"name": "e", "type": {"type": "record", "name": "empty", "fields": []}},
                {"name": "x", "type": {"type": "array", "items": "empty"}},
            ],
        }
    ).encode()
    block = _long(2**62) + _long(0)  # one array block of 2**62 items, then the end
    data = _avro_header(schema, b"null", b"S" * 16) + _long(1) + _text(block) + b"S" * 16
    assert _reason(RawPacket(data, "nulls.avro")) == (
        'Avro schema has an array of zero-size items ("empty"): refused, as its item count '
        "is unbounded"
    )
