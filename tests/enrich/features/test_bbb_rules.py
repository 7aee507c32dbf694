"""Each plausibility rule of the Bazin × blackbody fits rejects a candidate that breaks it, and
a candidate that keeps every rule is kept."""

from __future__ import annotations

import numpy as np
import pytest

from lanner.enrich.features import bbb_fits
from lanner.enrich.features.bbb_inputs import FitPoints

N = 20


def _points(bands: list[int]) -> FitPoints:
    """One light curve of ``N`` points cycling through ``bands``, unit errors, varying flux."""
    t = np.arange(N, dtype=float)
    flux = 100.0 + 50.0 * np.sin(t)  # χ² about the mean: 50² · N / 2 ≈ 25,000
    return FitPoints(
        alerts=np.zeros(1, np.int64),
        offsets=np.array([0, N]),
        discovery=np.zeros(1),
        t=t,
        band=np.array([bands[i % len(bands)] for i in range(N)]),
        flux=flux,
        err=np.ones(N),
    )


def _candidate(**change: object) -> bbb_fits._Candidates:
    """A plausible Bazin candidate (exponential not tried) with ``change`` applied."""
    cand = bbb_fits._Candidates.empty(1)
    cand.x[0, 1] = [5.0, 8.0, 3.0, 0.5, 0.05]
    cand.lo[0, 1] = [-7.0, 1.0, -100.0, 1e-3, 1e-4]
    cand.hi[0, 1] = [17.0, 100.0, 120.0, 15.0, 2.0]
    cand.chi2[0, 1] = float(change.pop("chi2", 100.0))  # type: ignore[arg-type]
    cand.converged[0, 1] = bool(change.pop("converged", True))
    for i, value in change.pop("x", {}).items():  # type: ignore[attr-defined]
        cand.x[0, 1, i] = value
    return cand


def _reason(cand: bbb_fits._Candidates, bands: list[int] | None = None) -> object:
    points = _points(bands or [1, 2, 3])  # g, r, i
    return bbb_fits._reasons(cand, points, bbb_fits._chi2_constant(points))[0, 1]


def test_a_candidate_within_every_rule_is_kept() -> None:
    assert _reason(_candidate()) is None


def test_not_converged() -> None:
    assert _reason(_candidate(converged=False)) == "did not converge"


@pytest.mark.parametrize(
    ("index", "value", "name"),
    [
        (3, 15.0, "rise rate"),
        (4, 1e-4, "fall rate"),
        (1, 100.0, "temperature"),
        (0, -7.0, "amplitude"),
        (2, 120.0, "t0"),
    ],
)
def test_parameter_at_a_bound(index: int, value: float, name: str) -> None:
    assert _reason(_candidate(x={index: value})) == f"{name} at bound"


def test_peak_in_a_band_never_observed() -> None:
    # 8 kK is brightest (f_nu) in r/i: fine with g-r-i, not for a u-g light curve.
    assert _reason(_candidate(), bands=[0, 1]) == "peak band not observed"
    assert _reason(_candidate(x={1: 40.0}), bands=[0, 1]) is None  # hot: brightest in u


def test_chi2_per_degree_of_freedom() -> None:
    limit = bbb_fits.MAX_CHI2_DOF * (N - 5)
    assert _reason(_candidate(chi2=limit * 1.01)) == "chi2/dof above 10"
    assert _reason(_candidate(chi2=limit * 0.99)) is None


def test_poor_fit_explains_too_little_variance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bbb_fits, "MAX_CHI2_DOF", 1e9)  # isolate the variance rule
    const = bbb_fits._chi2_constant(_points([1, 2, 3]))[0]
    assert _reason(_candidate(chi2=0.26 * const)) == "poor fit"
    assert _reason(_candidate(chi2=0.24 * const)) is None


def test_the_first_rule_broken_is_the_reason() -> None:
    assert _reason(_candidate(converged=False, x={3: 15.0})) == "did not converge"
    assert _reason(_candidate(x={3: 15.0}, chi2=1e9)) == "rise rate at bound"
