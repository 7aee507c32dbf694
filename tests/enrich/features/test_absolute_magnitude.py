"""Absolute magnitudes: worked examples with a catalogued distance and with a redshift."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest
from scipy.integrate import quad

from lanner.batch import AlertBatch
from lanner.enrich.features.absolute_magnitude import AbsoluteMagnitude
from lanner.enrich.features.milky_way import MilkyWay
from tests.enrich.features import reference
from tests.enrich.features.rubin_batches import run, synthetic_batch

C_KM_S = 299792.458


def luminosity_distance_mpc(z: float, h0: float = 70.0, om: float = 0.3) -> float:
    comoving, _ = quad(lambda x: 1.0 / math.sqrt(om * (1 + x) ** 3 + 1 - om), 0.0, z)
    return (1 + z) * C_KM_S / h0 * comoving


def _batch() -> AlertBatch:
    lcs = [
        [(60000.0, "g", 1000.0, 10.0, 0.9), (60002.0, "r", 3000.0, 10.0, 0.9),
         (60004.0, "i", 2500.0, 10.0, 0.9), (60005.0, "g", -9000.0, 10.0, 0.9)],
        [(60000.0, "r", 200.0, 10.0, 0.9)],
        [(60000.0, "z", 400.0, 10.0, 0.9)],
        [(60000.0, "g", -50.0, 10.0, 0.9)],
    ]  # fmt: skip
    return synthetic_batch(lcs, positions=[(40.0, -30.0)] * 4)


def _sky_context(distance: list[float | None], z: list[float | None],
                 photo_z: list[float | None]) -> pa.Table:  # fmt: skip
    return pa.table(
        {
            "distance": pa.array(distance, pa.float64()),
            "z": pa.array(z, pa.float64()),
            "photoZ": pa.array(photo_z, pa.float64()),
        }
    )


def _expected(flux: float, band: str, ebv: float, mu: float, z: float | None) -> float:
    m = 31.4 - 2.5 * math.log10(flux) - reference.EXTINCTION[band] * ebv
    k = -2.5 * math.log10(1 + z) if z else 0.0
    return m - mu - k


def test_distance_redshift_and_photoz() -> None:
    batch = _batch()
    ebv = run(batch, [MilkyWay("lsst")])["ebv"].to_pylist()
    batch.add_columns(
        "sherlock_classifications",
        _sky_context([40.0, None, None, 40.0], [0.01, 0.05, None, None], [None, 0.3, 0.2, None]),
    )
    got = run(batch, [AbsoluteMagnitude()]).to_pylist()
    # 0: catalogued distance 40 Mpc; peak is the brightest extinction-corrected flux (r or i).
    corrected = {
        (b, f): f * 10 ** (0.4 * reference.EXTINCTION[b] * ebv[0])
        for b, f in (("g", 1000.0), ("r", 3000.0), ("i", 2500.0))
    }
    (band, flux), _ = max(corrected.items(), key=lambda kv: kv[1])
    mu40 = 5 * math.log10(40e6 / 10)
    assert got[0]["absMag"] == pytest.approx(_expected(flux, band, ebv[0], mu40, 0.01), rel=1e-6)
    assert got[0]["absMagMJD"] == (60002.0 if band == "r" else 60004.0)
    # 1: spectroscopic z wins over photoZ, luminosity distance from the cosmology.
    mu = 5 * math.log10(luminosity_distance_mpc(0.05) * 1e5)
    assert got[1]["absMag"] == pytest.approx(_expected(200.0, "r", ebv[1], mu, 0.05), rel=1e-6)
    # 2: photoZ only.
    mu = 5 * math.log10(luminosity_distance_mpc(0.2) * 1e5)
    assert got[2]["absMag"] == pytest.approx(_expected(400.0, "z", ebv[2], mu, 0.2), rel=1e-6)
    # 3: a distance but only a negative flux: nothing to measure.
    assert got[3]["absMag"] is None and got[3]["absMagMJD"] is None
    assert all(r["BBBPeakAbsMag"] is None for r in got)  # BBB has not run


def test_without_sky_context_everything_is_null() -> None:
    batch = _batch()
    got = run(batch, [MilkyWay("lsst"), AbsoluteMagnitude()]).to_pylist()
    assert all(r["absMag"] is None and r["absMagMJD"] is None for r in got)


def test_bbb_peak_absolute_magnitude() -> None:
    batch = _batch()
    run(batch, [MilkyWay("lsst")])
    batch.add_columns("objects", pa.table({"BBBPeakFlux": pa.array([5000.0, None, -1.0, 10.0])}))
    context = _sky_context([100.0, 100.0, 100.0, None], [0.02] * 4, [None] * 4)
    batch.add_columns("sherlock_classifications", context)
    got = run(batch, [AbsoluteMagnitude()]).to_pylist()
    mu = 5 * math.log10(100e6 / 10)
    want = 31.4 - 2.5 * math.log10(5000.0) - mu + 2.5 * math.log10(1.02)
    assert got[0]["BBBPeakAbsMag"] == pytest.approx(want, rel=1e-6)
    assert got[1]["BBBPeakAbsMag"] is None and got[2]["BBBPeakAbsMag"] is None
    mu3 = 5 * math.log10(luminosity_distance_mpc(0.02) * 1e5)
    want3 = 31.4 - 2.5 * math.log10(10.0) - mu3 + 2.5 * math.log10(1.02)
    assert got[3]["BBBPeakAbsMag"] == pytest.approx(want3, rel=1e-6)


def test_requires_milky_way_first() -> None:
    with pytest.raises(RuntimeError, match="milky_way"):
        AbsoluteMagnitude()(_batch())
