"""The Bazin × blackbody columns of an alert are the same bytes whatever its batch-mates and
however busy the machine: fits stop by iteration count and tolerance, and no step mixes rows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from lanner.batch import AlertBatch
from lanner.bench_alerts import onsky_v10_paths, replicate_batch
from lanner.enrich.features.bazin_blackbody import bbb_columns
from lanner.enrich.features.light_curve import LightCurves, detections, forced
from lanner.enrich.features.milky_way import MilkyWay
from lanner.ingest import read_alerts
from tests.enrich.features.rubin_batches import run


@pytest.fixture(scope="module")
def fit_inputs(shared_dir: Path) -> tuple[LightCurves, LightCurves, np.ndarray]:
    """Every shared Rubin alert plus the on-sky deep-history ones again as new objects."""
    rubin = read_alerts([shared_dir / "data" / "alerts" / "lsst"], survey="lsst")
    onsky = replicate_batch(read_alerts(onsky_v10_paths(shared_dir), survey="lsst"), 100)
    ebv: list[np.ndarray] = []
    det: list[LightCurves] = []
    frc: list[LightCurves] = []
    for batch in (rubin, onsky):
        ebv.append(run(batch, [MilkyWay("lsst")])["ebv"].to_numpy(zero_copy_only=False))
        det.append(detections(batch))
        frc.append(forced(batch))
    return _concat(det), _concat(frc), np.concatenate(ebv)


def _concat(parts: list[LightCurves]) -> LightCurves:
    shift = np.cumsum([0] + [p.n_alerts for p in parts])
    fields = ("mjd", "band", "flux", "flux_err", "reliability")
    offsets = [parts[0].offsets[:1]] + [
        p.offsets[1:] + sum(q.offsets[-1] for q in parts[:i]) for i, p in enumerate(parts)
    ]
    return LightCurves(
        offsets=np.concatenate(offsets),
        row=np.concatenate([p.row + s for p, s in zip(parts, shift, strict=False)]),
        **{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields},
    )


def _subset(lc: LightCurves, rows: np.ndarray) -> LightCurves:
    """The light curves of alerts ``rows`` (ascending), as a batch of their own."""
    counts = lc.counts[rows]
    take = np.concatenate([np.arange(lc.offsets[r], lc.offsets[r + 1]) for r in rows])
    return LightCurves(
        offsets=np.concatenate([[0], np.cumsum(counts)]),
        row=np.repeat(np.arange(len(rows)), counts),
        mjd=lc.mjd[take],
        band=lc.band[take],
        flux=lc.flux[take],
        flux_err=lc.flux_err[take],
        reliability=lc.reliability[take],
    )


def _as_bytes(cols: dict[str, np.ndarray], rows: np.ndarray | slice) -> dict[str, bytes]:
    return {
        k: (
            v[rows].astype(np.float64).tobytes()
            if v.dtype != object
            else repr(list(v[rows])).encode()
        )
        for k, v in cols.items()
    }


@contextmanager
def busy_cpu() -> Iterator[None]:
    """A thread doing CPU-bound numpy work for as long as the block runs."""
    stop = threading.Event()

    def spin() -> None:
        x = np.random.default_rng(0).normal(size=200_000)
        while not stop.is_set():
            x = np.sort(np.exp(-np.abs(x)))

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_columns_are_bit_identical_under_load(
    fit_inputs: tuple[LightCurves, LightCurves, np.ndarray],
) -> None:
    det, frc, ebv = fit_inputs
    idle = bbb_columns(det, frc, ebv)
    assert (
        sum(m is not None for m in idle["BBBModel"])
        + sum(r not in (None, "fewer than 5 detections") for r in idle["BBBNoFitReason"])
        > 100
    )  # many light curves were really fitted
    with busy_cpu():
        loaded = bbb_columns(det, frc, ebv)
    assert _as_bytes(loaded, slice(None)) == _as_bytes(idle, slice(None))


@pytest.mark.parametrize("size", [1, 7, 64])
def test_columns_do_not_depend_on_the_batch(
    fit_inputs: tuple[LightCurves, LightCurves, np.ndarray], size: int
) -> None:
    det, frc, ebv = fit_inputs
    whole = bbb_columns(det, frc, ebv)
    fitted = np.flatnonzero([r != "fewer than 5 detections" for r in whole["BBBNoFitReason"]])
    # Light curves of every kind (real, replicated, short, deep), in batches of ``size``.
    picks = np.random.default_rng(size).choice(
        fitted, size=min(len(fitted), 3 * size), replace=False
    )
    for chunk in np.array_split(np.sort(picks), 3):
        part = bbb_columns(_subset(det, chunk), _subset(frc, chunk), ebv[chunk])
        assert _as_bytes(part, slice(None)) == _as_bytes(whole, chunk)


def test_replicated_alerts_are_distinct_objects(shared_dir: Path) -> None:
    batch: AlertBatch = read_alerts(onsky_v10_paths(shared_dir), survey="lsst")
    copies = replicate_batch(batch, 3 * len(batch))
    ids = copies.alerts["object_id"].to_pylist()
    assert len(set(ids)) == len(ids) == 3 * len(batch)
    assert copies.detections.num_rows == 3 * batch.detections.num_rows
    det = detections(copies)
    # Copy k of alert i has alert i's light curve.
    n = len(batch)
    for i in (0, 2, n - 1):
        a = slice(det.offsets[i], det.offsets[i + 1])
        b = slice(det.offsets[i + 2 * n], det.offsets[i + 2 * n + 1])
        np.testing.assert_array_equal(det.flux[a], det.flux[b])
