"""Fixtures for the feature enrichers: real ZTF alerts from the shared data folder.

``ztf_packets`` are the decoded packets (the independent reference computations in the tests
read them directly); ``ztf_batch`` is the same alerts as an :class:`AlertBatch`, built here
with the columns the batch contract documents, and ``make_ztf_batch`` builds one from
hand-written light curves for edge cases.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
import pyarrow as pa
import pytest

from lanner.batch import AlertBatch, flux_from_mag

REPO_ROOT = Path(__file__).resolve().parents[3]
ZTF_BAND = {1: "g", 2: "r", 3: "i"}
MJD_OF_JD0 = 2400000.5


def _detection_rows(row: int, packet: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """Detections (de-duplicated by candid, time-ordered) and upper limits of one packet."""
    history = [*(packet.get("prv_candidates") or []), packet["candidate"]]
    detections: dict[int, dict] = {}
    limits = []
    for c in history:
        mjd = c["jd"] - MJD_OF_JD0
        band = ZTF_BAND.get(c["fid"])
        if c.get("candid") is None:
            limits.append({"row": row, "mjd": mjd, "band": band, "limit_mag": c["diffmaglim"]})
            continue
        drb = c.get("drb")
        detections[c["candid"]] = {
            "row": row,
            "object_id": packet["objectId"],
            "source_id": c["candid"],
            "mjd": mjd,
            "band": band,
            "mag": c.get("magpsf"),
            "mag_err": c.get("sigmapsf"),
            "reliability": drb if drb is not None else c.get("rb"),
            "is_positive": None if c.get("isdiffpos") is None else c["isdiffpos"] in ("t", "1"),
        }
    ordered = sorted(detections.values(), key=lambda d: d["mjd"])
    return ordered, sorted(limits, key=lambda d: d["mjd"])


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


def batch_from_ztf_packets(packets: list[dict[str, Any]]) -> AlertBatch:
    """The packets as one AlertBatch: detections sorted by (row, mjd)."""
    detections: list[dict] = []
    limits: list[dict] = []
    for row, packet in enumerate(packets):
        d, u = _detection_rows(row, packet)
        detections += d
        limits += u
    return batch_from_records(len(packets), detections, limits)


def _find_shared() -> Path:
    """The shared data folder: ``$LANNER_SHARED``, else ``shared/`` next to the repository."""
    env = os.environ.get("LANNER_SHARED")
    shared = Path(env) if env else REPO_ROOT.parent / "shared"
    if not (shared / "data" / "alerts").is_dir():
        pytest.fail(
            f"shared data not found at {shared}: set LANNER_SHARED or clone next to shared/"
        )
    return shared


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _find_shared()


@pytest.fixture(scope="session")
def ztf_packets(shared_dir: Path) -> list[dict[str, Any]]:
    """Every ZTF alert packet in the shared Avro files, cutouts dropped."""
    packets = []
    for path in sorted((shared_dir / "data" / "alerts" / "ztf").rglob("*.avro")):
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
    """Each packet's detections, de-duplicated by candid and time-ordered (raw fields)."""
    out = []
    for p in ztf_packets:
        seen: dict[int, dict[str, Any]] = {}
        for c in [*(p.get("prv_candidates") or []), p["candidate"]]:
            if c.get("candid") is not None:
                seen[c["candid"]] = c
        out.append(sorted(seen.values(), key=lambda c: c["jd"]))
    return out


@pytest.fixture(scope="session")
def ztf_batch(ztf_packets: list[dict[str, Any]]) -> AlertBatch:
    return batch_from_ztf_packets(ztf_packets)


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


@pytest.fixture(scope="session")
def rubin_packets(shared_dir: Path) -> list[dict[str, Any]]:
    """Rubin alerts (schema 7.1, Operations Rehearsal 4) with long histories: the triggering
    diaSource and prvDiaSources of each."""
    import pyarrow.parquet as pq

    paths = sorted((shared_dir / "data" / "alerts" / "lsst").rglob("*.parquet"))
    assert paths, "no Rubin parquet alerts in the shared data"
    packets = []
    for path in paths:
        table = pq.read_table(path, columns=["diaSource", "prvDiaSources"])
        packets += table.to_pylist()
    return packets


@pytest.fixture(scope="session")
def rubin_batch(rubin_packets: list[dict[str, Any]]) -> AlertBatch:
    """The Rubin packets as an AlertBatch (detections only, fluxes in nJy)."""
    rows = []
    for row, packet in enumerate(rubin_packets):
        sources = {
            s["diaSourceId"]: s for s in [*(packet["prvDiaSources"] or []), packet["diaSource"]]
        }
        for s in sorted(sources.values(), key=lambda s: s["midpointMjdTai"]):
            rows.append(
                {
                    "row": row,
                    "source_id": s["diaSourceId"],
                    "mjd": s["midpointMjdTai"],
                    "band": s["band"],
                    "flux": s["psfFlux"],
                    "flux_err": s["psfFluxErr"],
                    "is_positive": None if s["psfFlux"] is None else s["psfFlux"] > 0,
                }
            )
    batch = batch_from_records(len(rubin_packets), rows)
    batch.survey = "lsst"
    return batch
