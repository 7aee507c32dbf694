"""Pair colours and temperatures against a plain per-alert computation on real alerts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from lanner.batch import AlertBatch
from lanner.enrich.features.blackbody import temperature_from_ratio
from lanner.enrich.features.milky_way import MilkyWay
from lanner.enrich.features.pair_colours import PairColours
from tests.enrich.features import reference
from tests.enrich.features.rubin_batches import run, synthetic_batch


def test_real_alerts_match_reference(
    lsst_sample_batch: AlertBatch, or4_records: list[dict[str, Any]], lasair_record: dict[str, Any]
) -> None:
    got = run(lsst_sample_batch, [MilkyWay("lsst"), PairColours()]).to_pylist()
    n_latest = n_penultimate = n_temp = 0
    for row, rec in zip(got, [*or4_records, lasair_record], strict=True):
        want = reference.pairs(rec, row["ebv"])
        for prefix, w in zip(("latest", "penultimate"), want, strict=True):
            if not w:
                assert row[f"{prefix}PairMJD"] is None
                assert row[f"{prefix}PairColourBands"] is None
                continue
            n_latest += prefix == "latest"
            n_penultimate += prefix == "penultimate"
            assert row[f"{prefix}PairMJD"] == pytest.approx(w["MJD"], rel=1e-12)
            assert row[f"{prefix}PairColourBands"] == w["ColourBands"]
            assert row[f"{prefix}PairColourMag"] == pytest.approx(w["ColourMag"], rel=1e-6)
            if w["ColourTemp"] is None:
                assert row[f"{prefix}PairColourTemp"] is None
            else:
                n_temp += 1
                assert row[f"{prefix}PairColourTemp"] == pytest.approx(w["ColourTemp"], rel=1e-6)
    assert n_latest > 30 and n_penultimate > 20 and n_temp > 40


def test_temperature_recovered_from_blackbody_fluxes() -> None:
    lam1, lam2 = reference.WAVELENGTH_UM["g"], reference.WAVELENGTH_UM["r"]
    temps = np.array([2.0, 5.8, 10.0, 25.0, 120.0])
    ratio = np.array([reference.planck(lam1, t) / reference.planck(lam2, t) for t in temps])
    got = temperature_from_ratio(ratio, np.full(5, lam1), np.full(5, lam2))
    np.testing.assert_allclose(got, temps, rtol=1e-9)
    # Bluer than the Rayleigh-Jeans limit, negative or NaN ratios: no temperature.
    bad = temperature_from_ratio(
        np.array([(lam2 / lam1) ** 2 * 1.01, -1.0, np.nan, 0.0]), np.full(4, lam1), np.full(4, lam2)
    )
    assert np.isnan(bad).all()


def test_worked_pair_example() -> None:
    # A 10 kK blackbody seen in g, then in r 30 minutes later; the r flux is chosen so that
    # the extinction-corrected ratio (with the position's own E(B-V)) is exactly that shape.
    t = 10.0
    lc = [
        (60000.0, "g", 1000.0, 10.0, 0.9),
        (60000.0 + 30 / 1440, "r", 0.0, 10.0, 0.9),
    ]
    batch = synthetic_batch([lc], positions=[(150.0, 60.0)])
    ebv = run(batch, [MilkyWay("lsst")])["ebv"].to_pylist()[0]
    lam_g, lam_r = reference.PAIR_WAVELENGTH_UM["g"], reference.PAIR_WAVELENGTH_UM["r"]
    f_r = (
        1000.0
        * 10 ** (0.4 * (reference.EXTINCTION["g"] - reference.EXTINCTION["r"]) * ebv)
        * reference.planck(lam_r, t)
        / reference.planck(lam_g, t)
    )
    lc[1] = (lc[1][0], "r", f_r, 10.0, 0.9)
    batch = synthetic_batch([lc], positions=[(150.0, 60.0)])
    row = run(batch, [MilkyWay("lsst"), PairColours()]).to_pylist()[0]
    assert row["latestPairColourBands"] == "g-r"
    # The colour is of the extinction-corrected fluxes, as in Lasair.
    ratio = reference.planck(lam_g, t) / reference.planck(lam_r, t)
    assert row["latestPairColourMag"] == pytest.approx(-2.5 * math.log10(ratio))
    assert row["latestPairColourTemp"] == pytest.approx(t, rel=1e-6)
    assert row["latestPairMJD"] == pytest.approx(60000.0 + 30 / 1440)
    assert row["penultimatePairMJD"] is None


def test_same_band_identical_time_and_slow_pairs_are_not_pairs() -> None:
    lc = [
        (60000.0, "g", 100.0, 1.0, 0.9),
        (60000.01, "g", 100.0, 1.0, 0.9),  # same band
        (60001.0, "g", 100.0, 1.0, 0.9),
        (60001.0, "r", 100.0, 1.0, 0.9),  # identical time
        (60002.0, "g", 100.0, 1.0, 0.9),
        (60002.0 + 41 / 1440, "r", 100.0, 1.0, 0.9),  # 41 minutes
        (60003.0, "g", -100.0, 1.0, 0.9),
        (60003.01, "r", 100.0, 1.0, 0.9),  # negative flux
    ]
    row = run(synthetic_batch([lc]), [MilkyWay("lsst"), PairColours()]).to_pylist()[0]
    assert row["latestPairMJD"] is None and row["penultimatePairMJD"] is None


def test_penultimate_pair_is_the_one_before_as_in_lasair() -> None:
    # g, r, i within 40 minutes: Lasair's backward scan takes r-i, then g-r (sharing the r).
    lc = [
        (60000.0, "g", 100.0, 1.0, 0.9),
        (60000.01, "r", 90.0, 1.0, 0.9),
        (60000.02, "i", 80.0, 1.0, 0.9),
    ]
    row = run(synthetic_batch([lc]), [MilkyWay("lsst"), PairColours()]).to_pylist()[0]
    assert row["latestPairColourBands"] == "r-i"
    assert row["penultimatePairColourBands"] == "g-r"
    assert row["penultimatePairMJD"] == pytest.approx(60000.01)


def test_pair_with_a_negative_flux_is_the_latest_pair_with_null_values() -> None:
    # As Lasair: the latest pair is found, its values are NULL, the pair before is the
    # penultimate one.
    lc = [
        (60000.0, "g", 100.0, 1.0, 0.9),
        (60000.01, "r", 90.0, 1.0, 0.9),
        (60001.0, "g", -50.0, 1.0, 0.9),
        (60001.01, "r", 90.0, 1.0, 0.9),
    ]
    row = run(synthetic_batch([lc]), [MilkyWay("lsst"), PairColours()]).to_pylist()[0]
    assert row["latestPairMJD"] is None and row["latestPairColourMag"] is None
    assert row["penultimatePairColourBands"] == "g-r"
