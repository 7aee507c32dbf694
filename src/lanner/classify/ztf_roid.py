"""ZTF asteroid flag (``roid``): Fink's rules for a Solar System object, on whole columns.

Input: ``alerts`` (``ndethist``, ``sgscore1``, ``distpsnr1``, ``mjd``), the detections and
upper limits of each packet, ``candidate.ssdistnr`` from the packets. Output: ``roid`` (3 =
known SSO within 5" per ZTF/MPC, 2 = Fink SSO candidate, 1 = first ZTF detection, 0 = likely
not an SSO) and its class name. The same rules as fink-science 7.4.0
``ztf.asteroids.processor.roid_catcher`` (tests compare the two on every shared ZTF alert),
written with NumPy instead of a pandas ``apply`` per alert. No model, no side effects.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import AlertBatch
from lanner.classify import inputs
from lanner.classify.base import score_table
from lanner.classify.fink import FINK_SCIENCE_VERSION

ROID_CLASSES = ("not_sso", "first_detection", "sso_candidate", "known_sso")


def _float(batch: AlertBatch, name: str) -> np.ndarray:
    return np.asarray(pc.fill_null(batch.alerts[name].cast(pa.float64()), np.nan))


def roid_flags(batch: AlertBatch) -> np.ndarray:
    """The roid flag (0–3) of every alert of a ZTF batch."""
    ndethist = _float(batch, "ndethist")
    sgscore1 = _float(batch, "sgscore1")
    distpsnr1 = _float(batch, "distpsnr1")
    ssdistnr = inputs.packet_candidate_field(batch, "ssdistnr")
    nalerthist = inputs.detections(batch).counts()
    gap = _float(batch, "mjd") - inputs.previous_epoch(batch)

    flags = np.zeros(len(batch), dtype=np.int64)
    flags[ndethist == 1] = 1
    flags[(sgscore1 < 0.76) & (ndethist <= 2)] = 2
    flags[(distpsnr1 < 5) & (distpsnr1 > 0)] = 0
    flags[(nalerthist == 2) & (gap > 30.0 / (24.0 * 60.0))] = 0
    flags[(ndethist == 2) & (nalerthist == 1)] = 0
    known = (
        (ssdistnr >= 0.0)
        & (ssdistnr < 5.0)
        & ((np.abs(distpsnr1) - ssdistnr) > 0.0)
        & (ndethist <= 5)
        & (nalerthist <= 5)
    )
    flags[known] = 3
    return flags


class AsteroidFlag:
    """Fink's asteroid flag for ZTF (see the module docstring)."""

    name = "roid"
    version = f"fs{FINK_SCIENCE_VERSION}-rules"
    surveys = frozenset({"ztf"})
    required_columns = (
        "alerts.ndethist",
        "alerts.sgscore1",
        "alerts.distpsnr1",
        "alerts.mjd",
        "detections.mjd",
        "upper_limits.mjd",
        "packets.candidate.ssdistnr",
    )
    scores = ("roid",)

    def predict(self, batch: AlertBatch) -> pa.Table:
        flags = roid_flags(batch)
        labels = np.array(ROID_CLASSES, dtype=object)[flags]
        return score_table({"roid": flags.astype(np.float64)}, labels, np.ones(len(batch), bool))
