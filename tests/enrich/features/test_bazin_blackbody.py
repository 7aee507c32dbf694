"""Bazin / exponential × blackbody fits: parameter recovery on simulated light curves,
sensible results or stated reasons on real alerts, and columns that do not depend on the
batch nor on the machine's load."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lanner.batch import AlertBatch
from lanner.enrich.features.bazin_blackbody import BazinBlackBody, fit_light_curve
from lanner.enrich.features.milky_way import MilkyWay
from tests.enrich.features import reference
from tests.enrich.features.rubin_batches import run, synthetic_batch

LAM_R = reference.WAVELENGTH_UM["r"]


def bazin(t: np.ndarray, band: list[str], a: float, temp: float, t0: float, kr: float,
          kf: float) -> np.ndarray:  # fmt: skip
    shape = np.array([reference.planck(reference.WAVELENGTH_UM[b], temp) for b in band])
    shape /= reference.planck(LAM_R, temp)
    return a * shape * np.exp(-kf * (t - t0)) / (1 + np.exp(-kr * (t - t0)))


def _cadence(rng: np.random.Generator, n: int, span: float) -> tuple[np.ndarray, list[str]]:
    t = np.sort(rng.uniform(0, span, n))
    t -= t[0]
    return t, [str(b) for b in rng.choice(list("ugrizy"), n)]


def _bands(band: list[str]) -> np.ndarray:
    return np.array(["ugrizy".index(b) for b in band])


def test_bazin_parameters_recovered() -> None:
    rng = np.random.default_rng(11)
    truth = {"a": 20000.0, "temp": 12.0, "t0": 12.0, "kr": 0.35, "kf": 0.04}
    t, band = _cadence(rng, 60, 80.0)
    clean = bazin(t, band, **truth)
    err = np.full(t.size, 0.02 * clean.max())
    flux = clean + rng.normal(0, err)
    fit = fit_light_curve(t, _bands(band), flux, err)
    assert fit.model == "bazin", fit
    a, temp, _, kr, kf = fit.params
    assert math.exp(a) == pytest.approx(truth["a"], rel=0.15)
    assert temp == pytest.approx(truth["temp"], rel=0.08)
    assert kr == pytest.approx(truth["kr"], rel=0.2)
    assert kf == pytest.approx(truth["kf"], rel=0.1)
    assert 0.5 < fit.chi2_dof < 2.0


def test_exponential_rise_recovered_through_the_enricher() -> None:
    rng = np.random.default_rng(5)
    temp, k, amp = 8.0, 0.15, 3000.0
    t, band = _cadence(rng, 25, 12.0)
    shape = np.array([reference.planck(reference.WAVELENGTH_UM[b], temp) for b in band])
    intrinsic = amp * shape / reference.planck(LAM_R, temp) * np.exp(k * t)
    # Observed fluxes are dimmed by the Milky Way at this position; the fit must undo it.
    pos = (30.0, -10.0)
    probe = synthetic_batch([[(60000.0, "g", 1.0, 1.0, 0.9)]], positions=[pos])
    ebv = run(probe, [MilkyWay("lsst")])["ebv"].to_pylist()[0]
    assert ebv > 0.01
    dim = np.array([10 ** (-0.4 * reference.EXTINCTION[b] * ebv) for b in band])
    err = 0.02 * intrinsic * dim + 20
    observed = intrinsic * dim + rng.normal(0, err)
    lc = [(60000.0 + ti, b, f, e, 0.9) for ti, b, f, e in zip(t, band, observed, err, strict=True)]
    # Forced points after discovery are not prepended; the ones before are.
    forced = [(60000.0 + 3 * j + 1, "r", rng.normal(0, 20), 20.0) for j in range(3)]
    batch = synthetic_batch([lc], forced=[forced], positions=[pos])
    row = run(batch, [MilkyWay("lsst"), BazinBlackBody()]).to_pylist()[0]
    assert row["BBBNoFitReason"] is None and row["BBBModel"] == "exp"
    assert row["BBBNdata"] == 25
    assert row["BBBRiseRate"] == pytest.approx(k, rel=0.1)
    assert row["BBBFallRate"] is None and row["BBBPeakMJD"] is None
    assert row["BBBTemp"] == pytest.approx(temp, rel=0.1)


def test_forced_points_before_discovery_are_prepended() -> None:
    rng = np.random.default_rng(8)
    truth = {"a": 20000.0, "temp": 10.0, "t0": 8.0, "kr": 0.4, "kf": 0.05}
    t, band = _cadence(rng, 40, 60.0)
    clean = bazin(t, band, **truth)
    lc = [(60010.0 + ti, b, f, 200.0, 0.9) for ti, b, f in zip(t, band, clean, strict=True)]
    forced = [(60010.0 - 2 * j - 1, "g", rng.normal(0, 200), 200.0) for j in range(6)]
    batch = synthetic_batch([lc], forced=[forced], positions=[(190.0, 27.0)])
    row = run(batch, [MilkyWay("lsst"), BazinBlackBody()]).to_pylist()[0]
    assert row["BBBNdata"] == 40 + 4  # the last four forced points before discovery
    assert row["BBBModel"] == "bazin", row


def test_peak_time_and_flux_of_a_bazin_fit() -> None:
    rng = np.random.default_rng(2)
    truth = {"a": 50000.0, "temp": 9.0, "t0": 20.0, "kr": 0.5, "kf": 0.05}
    t, band = _cadence(rng, 80, 70.0)
    clean = bazin(t, band, **truth)
    err = 0.01 * clean.max() * np.ones_like(t)
    lc = [
        (60000.0 + ti, b, f, e, 0.9)
        for ti, b, f, e in zip(t, band, clean + rng.normal(0, err), err, strict=True)
    ]
    # High Galactic latitude: extinction is small but still applied; compare with it undone.
    batch = synthetic_batch([lc], positions=[(190.0, 27.0)])
    row = run(batch, [MilkyWay("lsst"), BazinBlackBody()]).to_pylist()[0]
    assert row["BBBModel"] == "bazin"
    tau = math.log((truth["kr"] - truth["kf"]) / truth["kf"]) / truth["kr"]
    assert row["BBBPeakMJD"] == pytest.approx(60000.0 + truth["t0"] + tau, abs=1.0)
    grid = bazin(np.full(6, truth["t0"] + tau), list("ugrizy"), **truth)
    assert row["BBBPeakBand"] == "ugrizy"[int(np.argmax(grid))]
    assert row["BBBPeakFlux"] == pytest.approx(grid.max(), rel=0.1)


def test_flat_noise_is_not_fitted() -> None:
    rng = np.random.default_rng(9)
    lc = [(60000.0 + 2 * j, "ugrizy"[j % 6], rng.normal(500, 30), 30.0, 0.9) for j in range(30)]
    row = run(synthetic_batch([lc]), [MilkyWay("lsst"), BazinBlackBody()]).to_pylist()[0]
    assert row["BBBModel"] is None and row["BBBNoFitReason"] == "poor fit"
    assert row["BBBTemp"] is None


def test_simulated_batch_recovered_together() -> None:
    # Twenty light curves of different lengths fitted in one batch, as the enricher does.
    rng = np.random.default_rng(21)
    truths, curves = [], []
    for _ in range(20):
        truth = {
            "a": 10 ** rng.uniform(3.5, 4.5),
            "temp": rng.uniform(6, 18),
            "t0": rng.uniform(5, 20),
            "kr": rng.uniform(0.2, 0.6),
            "kf": rng.uniform(0.02, 0.08),
        }
        t, band = _cadence(rng, int(rng.integers(25, 90)), 80.0)
        clean = bazin(t, band, **truth)
        err = np.full(t.size, 0.02 * clean.max())
        truths.append(truth)
        curves.append([(60000.0 + ti, b, f, e, 0.9) for ti, b, f, e in
                       zip(t, band, clean + rng.normal(0, err), err, strict=True)])  # fmt: skip
    rows = run(synthetic_batch(curves, positions=[(190.0, 27.0)] * 20),
               [MilkyWay("lsst"), BazinBlackBody()]).to_pylist()  # fmt: skip
    assert sum(r["BBBModel"] == "bazin" for r in rows) >= 18
    errors = [abs(r["BBBTemp"] / tr["temp"] - 1) for r, tr in zip(rows, truths, strict=True)
              if r["BBBModel"] == "bazin"]  # fmt: skip
    assert np.median(errors) < 0.05


def test_real_alerts_give_fits_or_reasons(lsst_sample_batch: AlertBatch) -> None:
    got = run(lsst_sample_batch, [MilkyWay("lsst"), BazinBlackBody()]).to_pylist()
    fitted = [r for r in got if r["BBBModel"] is not None]
    assert fitted  # the plausibility rules leave few, but not none
    for r in got:
        assert (r["BBBModel"] is None) != (r["BBBNoFitReason"] is None)
        if r["BBBModel"] is None:
            assert r["BBBTemp"] is None and r["BBBRiseRate"] is None
    for r in fitted:
        assert 1.0 <= r["BBBTemp"] <= 100.0
        assert 0.0 <= r["BBBRiseRate"] <= 15.0
        assert np.isfinite(r["BBBChi2Dof"]) and r["BBBNdata"] >= 5
        assert r["BBBChi2Dof"] <= 10
        if r["BBBModel"] == "bazin" and r["BBBPeakMJD"] is not None:
            assert 60300 < r["BBBPeakMJD"] < 60700 and r["BBBPeakFlux"] > 0
    reasons = {r["BBBNoFitReason"] for r in got} - {None}
    params = {"amplitude", "temperature", "t0", "rise rate", "fall rate"}
    assert reasons <= {"fewer than 5 detections", "no positive flux", "poor fit",
                       "did not converge", "identical timestamps", "peak band not observed",
                       "chi2/dof above 10"} | {f"{p} at bound" for p in params}  # fmt: skip
