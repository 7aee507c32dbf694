"""Fixtures for the feature enrichers: real ZTF alerts from the shared data folder.

``ztf_packets`` are the decoded packets (the independent reference computations in the tests
read them directly with fastavro); ``ztf_batch`` is the same files through Lanner's ingest,
row for row. The Rubin fixtures do the same with the shared Parquet alerts, and
``make_ztf_batch`` builds a batch from hand-written light curves for edge cases. The Rubin
feature tests read ``or4_records`` / ``lasair_record`` (raw records) beside
``lsst_sample_batch`` (the same alerts through ingest) and ``all_rubin_batch``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lanner.batch import AlertBatch, flux_from_mag
from lanner.ingest import read_alerts


def batch_from_records(
    n_alerts: int, detections: list[dict[str, Any]], limits: list[dict[str, Any]] | None = None
) -> AlertBatch:
    """An AlertBatch of ``n_alerts`` ZTF alerts from per-point dicts (``row``, ``mjd``, ...)."""
    det_schema = pa.schema(
        [
            ("row", pa.int32()),
            ("object_id", pa.string()),
            ("source_id", pa.int64()),
            ("mjd", pa.float64()),
            ("band", pa.string()),
            ("flux", pa.float64()),
            ("flux_err", pa.float64()),
            ("mag", pa.float64()),
            ("mag_err", pa.float64()),
            ("reliability", pa.float64()),
            ("is_positive", pa.bool_()),
        ]
    )
    rows = []
    for d in detections:
        full = {name: d.get(name) for name in det_schema.names}
        mag, err = full["mag"], full["mag_err"]
        if full["flux"] is None and mag is not None and np.isfinite(mag):
            flux = float(flux_from_mag(np.array([mag]))[0])
            sign = -1.0 if full["is_positive"] is False else 1.0
            full["flux"] = sign * flux
            if err is not None:
                full["flux_err"] = flux * 0.4 * np.log(10.0) * err
        rows.append(full)
    lim_schema = pa.schema(
        [
            ("row", pa.int32()),
            ("mjd", pa.float64()),
            ("band", pa.string()),
            ("limit_mag", pa.float64()),
        ]
    )
    empty = pa.table({"row": pa.array([], pa.int32())})
    alerts = pa.table({"alert_id": pa.array(np.arange(n_alerts, dtype=np.int64))})
    return AlertBatch(
        survey="ztf",
        alerts=alerts,
        detections=pa.Table.from_pylist(rows, schema=det_schema),
        forced=empty,
        upper_limits=pa.Table.from_pylist(limits or [], schema=lim_schema),
        cutouts=empty,
    )


def _ztf_files(shared_dir: Path) -> list[Path]:
    return sorted((shared_dir / "data" / "alerts" / "ztf").rglob("*.avro"))


@pytest.fixture(scope="session")
def ztf_packets(shared_dir: Path) -> list[dict[str, Any]]:
    """Every ZTF alert packet in the shared Avro files, cutouts dropped."""
    packets = []
    for path in _ztf_files(shared_dir):
        with path.open("rb") as fh:
            for record in fastavro.reader(fh):
                packet = dict(record)  # type: ignore[arg-type]
                for kind in ("cutoutScience", "cutoutTemplate", "cutoutDifference"):
                    packet.pop(kind, None)
                packets.append(packet)
    assert len(packets) > 1000
    return packets


@pytest.fixture(scope="session")
def ztf_history(ztf_packets: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Each packet's detections (raw fields), de-duplicated by candid, in time order."""
    out = []
    for p in ztf_packets:
        seen: dict[int, dict[str, Any]] = {}
        for c in [*(p.get("prv_candidates") or []), p["candidate"]]:
            if c.get("candid") is not None:
                seen[c["candid"]] = c
        # One detection per candid (distinct candids at one time and band stay distinct).
        out.append(sorted(seen.values(), key=lambda c: (c["jd"], c["candid"])))
    return out


@pytest.fixture(scope="session")
def ztf_batch(shared_dir: Path, ztf_packets: list[dict[str, Any]]) -> AlertBatch:
    """The same files through Lanner's ingest; row ``i`` is ``ztf_packets[i]``."""
    batch = read_alerts(_ztf_files(shared_dir), "ztf")
    assert batch.alerts["alert_id"].to_pylist() == [p["candid"] for p in ztf_packets]
    return batch


Point = tuple[float, str | None, float | None, float | None, bool | None, float | None]


@pytest.fixture
def make_ztf_batch() -> Any:
    """Build a ZTF AlertBatch from hand-written light curves.

    Each alert is a list of ``(mjd, band, mag, mag_err, is_positive, reliability)`` points
    (any field may be None); an empty list is an alert whose packet holds no detection.
    """

    def make(alerts: list[list[Point]], limits: list[dict[str, Any]] | None = None) -> AlertBatch:
        rows = []
        for row, points in enumerate(alerts):
            for k, (mjd, band, mag, err, positive, score) in enumerate(
                sorted(points, key=lambda p: (p[0] is None, p[0] or 0.0))
            ):
                rows.append(
                    {
                        "row": row,
                        "object_id": f"ZTF00test{row:04d}",
                        "source_id": row * 1000 + k,
                        "mjd": mjd,
                        "band": band,
                        "mag": mag,
                        "mag_err": err,
                        "is_positive": positive,
                        "reliability": score,
                    }
                )
        return batch_from_records(len(alerts), rows, limits)

    return make


def _rubin_files(shared_dir: Path) -> list[Path]:
    paths = sorted((shared_dir / "data" / "alerts" / "lsst").rglob("*.parquet"))
    assert paths, "no Rubin parquet alerts in the shared data"
    return paths


@pytest.fixture(scope="session")
def rubin_packets(shared_dir: Path) -> list[dict[str, Any]]:
    """Rubin alerts (schema 7.1, Operations Rehearsal 4) with long histories: the triggering
    diaSource and prvDiaSources of each."""
    packets = []
    for path in _rubin_files(shared_dir):
        packets += pq.read_table(path, columns=["diaSource", "prvDiaSources"]).to_pylist()
    return packets


@pytest.fixture(scope="session")
def rubin_batch(shared_dir: Path, rubin_packets: list[dict[str, Any]]) -> AlertBatch:
    """The same alerts through Lanner's ingest; row ``i`` is ``rubin_packets[i]``."""
    batch = read_alerts(_rubin_files(shared_dir), "lsst")
    want = [p["diaSource"]["diaSourceId"] for p in rubin_packets]
    assert batch.alerts["alert_id"].to_pylist() == want
    return batch


OR4_PARQUET = (
    "data/alerts/lsst/astrolabsoftware__fink-broker/datasim/or4_lsst7.1/"
    "part-00000-96629e4a-60d4-442b-a338-687a16b8a35c-c000.snappy.parquet"
)
LASAIR_JSON = (
    "data/alerts/lsst/lsst-uk__lasair-lsst/tests/system/sample_alerts/schema7.1/alert.json"
)


@pytest.fixture(scope="session")
def or4_records(shared_dir: Path) -> list[dict[str, Any]]:
    """The 50 Operations Rehearsal 4 alerts (long histories, with forced photometry)."""
    return pq.read_table(shared_dir / OR4_PARQUET).to_pylist()


@pytest.fixture(scope="session")
def lasair_record(shared_dir: Path) -> dict[str, Any]:
    """Lasair-LSST's sample alert with 70 previous diaSources."""
    return dict(json.loads((shared_dir / LASAIR_JSON).read_text()))


@pytest.fixture
def lsst_sample_batch(shared_dir: Path) -> AlertBatch:
    """``or4_records`` then ``lasair_record`` through Lanner's ingest, fresh for each test
    (enrichers add tables to it)."""
    return read_alerts([shared_dir / OR4_PARQUET, shared_dir / LASAIR_JSON], survey="lsst")


@pytest.fixture
def all_rubin_batch(shared_dir: Path) -> AlertBatch:
    """Every Rubin-format alert of the shared data (all schema versions)."""
    return read_alerts([shared_dir / "data" / "alerts" / "lsst"], survey="lsst")
