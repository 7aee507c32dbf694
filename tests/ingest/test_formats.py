"""The formats Rubin's archive and brokers use: gzip'd Confluent messages, compressed
containers, JSON, Parquet and tarballs; a folder walk names every file it did not read."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
from collections.abc import Callable
from pathlib import Path

import fastavro
import pyarrow as pa
import pytest

from lanner.ingest import assemble, iter_packets
from lanner.ingest.confluent_wire import frame
from lanner.ingest.decode import rubin_schema
from lanner.ingest.files import ALERT_SUFFIXES, SkippedFile

V9 = "lsst/alercebroker__pipeline/libs/lsst_schema_parser/tests/sample_data/sample_v9.avro"
RUBIN_JSON = (
    "lsst/pypi__lsst-alert-packet-30.2026.2700/lsst/alert/packet/schema/11/1/sample_data/alert.json"
)
FINK_PARQUET = "lsst/astrolabsoftware__fink-science/fink_science/data/alerts/hostless_detection"
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
}


def _alerts(paths: list[Path]) -> pa.Table:
    """The alerts table of ``paths``, without the origin column (it names the file)."""
    result = assemble(iter_packets(paths), None)
    assert not result.dead_letters, [d.reason for d in result.dead_letters]
    return result.batch.alerts.drop_columns(["origin"])


def test_a_gzipped_confluent_message_decodes_like_its_container(
    tmp_path: Path, alerts_dir: Path
) -> None:
    container = alerts_dir / V9
    (record,) = list(fastavro.reader(io.BytesIO(container.read_bytes())))
    payload = io.BytesIO()
    fastavro.schemaless_writer(payload, rubin_schema(900), record)
    message = tmp_path / "169298433221853273.avro.gz"
    message.write_bytes(gzip.compress(frame(900, payload.getvalue())))
    got, want = _alerts([message]), _alerts([container])
    assert got.num_rows == 1
    assert got.equals(want)


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
@pytest.mark.parametrize(
    "source",
    ["ztf/boom-astro__boom/data", RUBIN_JSON, FINK_PARQUET],
    ids=["avro", "json", "parquet"],
)
def test_compressed_files_decode_like_the_originals(
    tmp_path: Path, alerts_dir: Path, source: str, suffix: str
) -> None:
    base = alerts_dir / source
    original = base if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())[0]
    packed = tmp_path / (original.name + suffix)
    packed.write_bytes(COMPRESSORS[suffix](original.read_bytes()))
    got = _alerts([packed])
    assert got.num_rows >= 1
    assert got.equals(_alerts([original]))


@pytest.mark.parametrize("codec", ["deflate", "bzip2", "xz"])
def test_avro_codecs_decode_like_null(tmp_path: Path, alerts_dir: Path, codec: str) -> None:
    original = next((alerts_dir / "ztf" / "boom-astro__boom" / "data").rglob("*.avro"))
    reader = fastavro.reader(io.BytesIO(original.read_bytes()))
    packed = tmp_path / f"{codec}.avro"
    with packed.open("wb") as fh:
        fastavro.writer(fh, reader.writer_schema, list(reader), codec=codec)
    assert _alerts([packed]).equals(_alerts([original]))


@pytest.mark.parametrize("mode", ["w:bz2", "w:xz", "w"])
def test_tarballs_of_every_compression_are_streamed(
    tmp_path: Path, alerts_dir: Path, mode: str
) -> None:
    files = sorted((alerts_dir / "ztf" / "boom-astro__boom" / "data").rglob("*.avro"))[:3]
    path = tmp_path / "night.archive"  # no telling name: the content says it is a tarball
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        for p in files:
            tar.add(p, arcname=f"alerts/{p.name}")
        # A gzip'd message inside the tarball, as Rubin's archive keeps them.
        data = gzip.compress(files[0].read_bytes())
        info = tarfile.TarInfo("alerts/again.avro.gz")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    packets = list(iter_packets([path]))
    assert [p.origin.split("!")[1] for p in packets] == [
        *(f"alerts/{p.name}" for p in files),
        "alerts/again.avro.gz",
    ]
    assert packets[-1].data == files[0].read_bytes()
    assert len(assemble(packets, "ztf").batch) == 4


def test_tar_links_are_dead_lettered(tmp_path: Path, alerts_dir: Path) -> None:
    good = next((alerts_dir / "ztf" / "boom-astro__boom" / "data").rglob("*.avro"))
    path = tmp_path / "links.tar"
    with tarfile.open(path, "w") as tar:
        tar.add(good, arcname="good.avro")
        symlink = tarfile.TarInfo("secret.avro")
        symlink.type, symlink.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tar.addfile(symlink)
        hardlink = tarfile.TarInfo("again.avro")
        hardlink.type, hardlink.linkname = tarfile.LNKTYPE, "good.avro"
        tar.addfile(hardlink)
    result = assemble(iter_packets([path]), "ztf")
    assert len(result.batch) == 1
    assert [(d.origin.split("!")[1], d.reason) for d in result.dead_letters] == [
        ("secret.avro", "tar member is a symbolic link to '/etc/shadow': links are not followed"),
        ("again.avro", "tar member is a hard link to 'good.avro': links are not followed"),
    ]


def test_a_folder_walk_reports_every_file_it_did_not_read(tmp_path: Path, alerts_dir: Path) -> None:
    good = next((alerts_dir / "ztf" / "boom-astro__boom" / "data").rglob("*.avro"))
    night = tmp_path / "night"
    (night / "sub").mkdir(parents=True)
    (night / "sub" / "a.avro").write_bytes(good.read_bytes())
    (night / "README.md").write_text("notes")
    (night / "gone.avro").symlink_to(tmp_path / "missing.avro")
    skipped: list[SkippedFile] = []
    packets = list(iter_packets([night], skipped))
    assert [p.origin for p in packets] == [str(night / "sub" / "a.avro")]
    assert skipped == [
        SkippedFile(
            str(night / "README.md"), f"unknown type: not one of {' '.join(ALERT_SUFFIXES)}"
        ),
        SkippedFile(str(night / "gone.avro"), "unreadable: No such file or directory"),
    ]
    # Named explicitly, a file of unknown type is read (and its content judged).
    (packet,) = iter_packets([night / "README.md"], skipped)
    assert packet.data == b"notes" and len(skipped) == 2
