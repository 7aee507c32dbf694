"""A Rubin alert whose light curve is a Bazin × blackbody transient, for the browser test of
the drawn fit.

No alert of the shared Rubin data gets a Bazin fit from the ``bazin_blackbody`` enricher
(they are variables, too short, or implausible: the only fit kept is one exponential
rise), so the test takes a real on-sky ``lsst.v10_0`` packet (schema, cutouts, position,
bands and times as observed) and replaces the fluxes of its detections with the model's,
plus noise, under fresh ids. The enricher then fits it like any other alert.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastavro
import numpy as np

from lanner.enrich.features.bazin_model import bazin_rows
from lanner.enrich.features.light_curve import RUBIN_BANDS

#: The on-sky v10 packets the transient is made from (Fink's test data).
SOURCE = "lsst/astrolabsoftware__fink-client/datatest/lsst/part-2-918301.avro"
#: Fresh ids: within int64, far from any survey's.
OBJECT_ID = 9_100_000_000_000_000_001
FIRST_SOURCE_ID = 9_100_000_000_000_001_000
#: The transient: peak flux in g [nJy], temperature [kK], rise and fall rates [1/day].
PEAK_FLUX, TEMP_KK, RISE, FALL = 20_000.0, 8.0, 0.4, 0.04
N_POINTS = 24


def bazin_flux(mjd: np.ndarray, bands: list[str], t0: float) -> np.ndarray:
    """The transient's flux [nJy] at ``mjd`` in ``bands``, scaled to its peak in g."""
    idx = np.array([[RUBIN_BANDS.index(b) for b in bands]])
    unit, _ = bazin_rows(np.array([[0.0, TEMP_KK, t0, RISE, FALL]]), mjd[None, :], idx)
    grid = np.linspace(mjd.min(), mjd.max(), 2001)
    peak, _ = bazin_rows(
        np.array([[0.0, TEMP_KK, t0, RISE, FALL]]),
        grid[None, :],
        np.zeros((1, grid.size), int) + RUBIN_BANDS.index("g"),
    )
    return np.asarray(unit[0] * PEAK_FLUX / peak[0].max())


def write_transient(alerts_dir: Path, out: Path, seed: int = 7) -> int:
    """Write the alert as an Avro container file ``out``; return its object id."""
    with (alerts_dir / SOURCE).open("rb") as fh:
        reader = fastavro.reader(fh)
        schema = reader.writer_schema
        record: dict[str, Any] = max(reader, key=lambda r: len(r.get("prvDiaSources") or []))
    sources = sorted([*record["prvDiaSources"], record["diaSource"]],
                     key=lambda s: s["midpointMjdTai"])[-N_POINTS:]  # fmt: skip
    mjd = np.array([s["midpointMjdTai"] for s in sources])
    t0 = mjd.min() + 0.3 * (mjd.max() - mjd.min())
    flux = bazin_flux(mjd, [s["band"] for s in sources], t0)
    err = np.full(mjd.size, 0.02 * PEAK_FLUX)
    noisy = flux + np.random.default_rng(seed).normal(0.0, err)
    for i, (s, f, e) in enumerate(zip(sources, noisy, err, strict=True)):
        s.update(diaSourceId=FIRST_SOURCE_ID + i, diaObjectId=OBJECT_ID, psfFlux=float(f),
                 psfFluxErr=float(e), scienceFlux=float(f), scienceFluxErr=float(e))  # fmt: skip
    record["diaSource"] = sources[-1]
    record["prvDiaSources"] = sources[:-1]
    record["prvDiaForcedSources"] = []
    record["diaSourceId"] = sources[-1]["diaSourceId"]
    record["diaObject"]["diaObjectId"] = OBJECT_ID
    with out.open("wb") as fh:
        fastavro.writer(fh, schema, [record])
    return OBJECT_ID
