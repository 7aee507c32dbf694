"""Jump detector: a worked example, and a plain per-alert computation on many light curves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lanner.batch import AlertBatch
from lanner.enrich.features.jump import FluxJump
from tests.enrich.features import reference
from tests.enrich.features.rubin_batches import batch_from_rubin_records, run, synthetic_batch


def test_worked_example() -> None:
    t0 = 60100.0
    base_g = [100.0, 110.0, 90.0, 105.0, 95.0]  # mean 100, sample sd = sqrt(62.5)
    base_r = [50.0, 52.0, 48.0, 50.0, 50.0, 49.0]
    lc = [(t0 - 60 + 5 * k, "g", f, 5.0, 0.9) for k, f in enumerate(base_g)]
    lc += [(t0 - 55 + 6 * k + 0.5, "r", f, 5.0, 0.9) for k, f in enumerate(base_r)]
    lc += [
        (t0 - 80, "g", 1e6, 5.0, 0.9),  # outside both windows: ignored
        (t0 - 3, "g", 130.0, 5.0, 0.9),
        (t0 - 1, "r", 40.0, 5.0, 0.9),
        (t0, "g", 120.0, 5.0, 0.9),  # the latest detection is a test point
        (t0 - 2, "i", 500.0, 5.0, 0.9),  # no i baseline: no i jump
    ]
    row = run(synthetic_batch([lc]), [FluxJump()]).to_pylist()[0]
    jump_g = 30.0 / np.sqrt(62.5)
    mean_r = sum(base_r) / 6
    sd_r = np.sqrt(sum((f - mean_r) ** 2 for f in base_r) / 5)
    jump_r = abs(40.0 - mean_r) / sd_r
    assert sorted([jump_g, jump_r], reverse=True) == pytest.approx([row["jump1"], row["jump2"]])


def test_too_few_baseline_points_gives_zero_as_lasair() -> None:
    lc = [(60000.0 + 5 * k, "g", 100.0 + k, 5.0, 0.9) for k in range(4)] + [
        (60040.0, "g", 500.0, 5.0, 0.9)
    ]
    row = run(synthetic_batch([lc]), [FluxJump()]).to_pylist()[0]
    assert row["jump1"] == 0.0 and row["jump2"] == 0.0


def test_constant_baseline_gives_zero_as_lasair() -> None:
    lc = [(60000.0 + 5 * k, "g", 100.0, 5.0, 0.9) for k in range(6)] + [
        (60045.0, "g", 500.0, 5.0, 0.9)
    ]
    row = run(synthetic_batch([lc]), [FluxJump()]).to_pylist()[0]
    assert row["jump1"] == 0.0 and row["jump2"] == 0.0


def _random_records(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    records = []
    for i in range(n):
        m = int(rng.integers(1, 60))
        mjd = np.sort(60000 + rng.uniform(0, 120, m))
        src = [
            {
                "diaSourceId": 10_000 * i + j,
                "diaObjectId": i + 1,
                "midpointMjdTai": float(mjd[j]),
                "ra": 10.0,
                "dec": -5.0,
                "band": str(rng.choice(list("ugrizy"))),
                "psfFlux": float(rng.normal(1000, 300)),
                "psfFluxErr": 30.0,
                "reliability": float(rng.uniform()),
            }
            for j in range(m)
        ]
        records.append({"diaSource": src[-1], "prvDiaSources": src[:-1]})
    return records


def test_matches_reference_on_random_light_curves() -> None:
    records = _random_records(np.random.default_rng(7), 300)
    got = run(batch_from_rubin_records(records), [FluxJump()]).to_pylist()
    computed = 0
    for row, rec in zip(got, records, strict=True):
        j1, j2 = reference.jumps(rec)
        for name, want in (("jump1", j1), ("jump2", j2)):
            if want == 0.0:
                assert row[name] == 0.0
            else:
                computed += 1
                assert row[name] == pytest.approx(want, rel=1e-6)
    assert computed > 100


def test_real_alerts_match_reference(
    lsst_sample_batch: AlertBatch, or4_records: list[dict[str, Any]], lasair_record: dict[str, Any]
) -> None:
    # The real packets span at most a couple of nights: no 10-70 day baseline exists, and the
    # reference agrees that every jump is 0 (Lasair's value for "no band qualifies").
    got = run(lsst_sample_batch, [FluxJump()]).to_pylist()
    for row, rec in zip(got, [*or4_records, lasair_record], strict=True):
        assert (row["jump1"], row["jump2"]) == reference.jumps(rec)
