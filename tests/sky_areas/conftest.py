"""Shared set-up of the sky-area tests: small archives of real alerts on both backends, the
shared catalogue files, and real ZTF alerts moved to a chosen position and time."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import fastavro
import numpy as np
import pytest

from lanner.ingest import iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.packets import RawPacket
from lanner.pipeline import Pipeline
from lanner.store import Store, open_store

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts"


@pytest.fixture(scope="session")
def catalogs(shared_dir: Path) -> Path:
    return shared_dir / "data" / "catalogs"


@pytest.fixture(scope="session")
def ztf_packets() -> list[RawPacket]:
    return list(iter_packets([SAMPLE / "ztf"]))


@pytest.fixture(scope="session")
def lsst_packets() -> list[RawPacket]:
    return list(iter_packets([SAMPLE / "lsst"]))


@pytest.fixture(params=["ztf", "lsst"])
def survey(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def archive(
    db_url: str,
    survey: str,
    tmp_path: Path,
    ztf_packets: list[RawPacket],
    lsst_packets: list[RawPacket],
) -> Iterator[tuple[Store, Pipeline]]:
    """A store of one survey holding the packaged real alerts, and its pipeline."""
    store = open_store(db_url, survey)  # type: ignore[arg-type]
    pipeline = Pipeline(store, FolderDeadLetters(tmp_path / "dead"))
    pipeline.process(ztf_packets if survey == "ztf" else lsst_packets)
    try:
        yield store, pipeline
    finally:
        store.close()


def positions(store: Store) -> tuple[list[object], np.ndarray, np.ndarray]:
    """Ids and positions [deg] of every stored object."""
    from lanner.store.sky_areas import object_chunks

    ids: list[object] = []
    ra, dec = [], []
    for chunk in object_chunks(store):
        ids += chunk.ids
        ra.append(chunk.ra)
        dec.append(chunk.dec)
    return ids, np.concatenate(ra), np.concatenate(dec)


def moved_id(prefix: str, i: int) -> str:
    """A valid ZTF object name (ZTF, 2 digits, 7 letters) for moved alert ``i``."""
    return "ZTF99" + prefix + "".join(chr(97 + (i // 26**k) % 26) for k in range(5, -1, -1))


@pytest.fixture(scope="session")
def moved_ztf(ztf_packets: list[RawPacket]) -> Callable[..., list[RawPacket]]:
    """Real ZTF alerts with their detection moved to (ra, dec) [deg] at Julian date ``jd``
    and their history dropped (so the object's position and last detection are those)."""

    def move(
        count: int, ra: float, dec: float, jd: float, prefix: str = "a", spread: float = 20.0
    ) -> list[RawPacket]:
        out = []
        rng = np.random.default_rng(7)
        for i, packet in enumerate(ztf_packets[:count]):
            reader = fastavro.reader(io.BytesIO(packet.data))
            schema = reader.writer_schema
            record = next(iter(reader))
            cand = record["candidate"]
            cand["ra"] = ra + rng.uniform(-1, 1) * spread / 3600.0
            cand["dec"] = dec + rng.uniform(-1, 1) * spread / 3600.0
            cand["jd"] = jd
            record["objectId"] = moved_id(prefix, i)
            record["prv_candidates"] = None
            if "fp_hists" in record:
                record["fp_hists"] = None
            buf = io.BytesIO()
            fastavro.writer(buf, schema, [record], codec="null")
            out.append(RawPacket(buf.getvalue(), f"moved#{i}"))
        return out

    return move


@pytest.fixture(scope="session")
def messier_cones(catalogs: Path) -> bytes:
    """The shared Messier watchlist as Lasair CSV lines, radii capped at 1,800 arcsec."""
    lines = (catalogs / "watchlists" / "messier_objects_watchlist.csv").read_text().splitlines()
    out = []
    for line in lines[1:]:
        ra, dec, name, radius = line.split(",")[:4]
        out.append(f"{ra}, {dec}, {name}, {min(float(radius), 1800.0):g}")
    return "\n".join(out).encode()


@pytest.fixture(scope="session")
def million_cones(messier_cones: bytes) -> bytes:
    """1,000,000 cones: the Messier objects and random positions, as one CSV file; the
    random cones have no radius (the watchlist default applies)."""
    rng = np.random.default_rng(11)
    n = 1_000_000 - messier_cones.count(b"\n") - 1
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    body = "\n".join(f"{a:.6f},{d:.6f},r{i}" for i, (a, d) in enumerate(zip(ra, dec, strict=False)))
    return messier_cones + b"\n" + body.encode()
