"""SuperNNova classifiers: ZTF SN Ia vs non-Ia and SN vs all, Rubin SN vs other.

Input: ZTF detections (magnitudes → SNANA ``FLUXCAL``), ``alerts.ndethist`` and
``candidate.jdstarthist`` for Fink's selection cuts; Rubin forced photometry then the
triggering source (nJy → ``FLUXCAL`` ×10^(−(31.4−27.5)/2.5)). Output: the probability of the
first class, and the top class. Fed as fink-science 7.4.0 ``ztf.snn.processor.snn_ia`` and
``rubin.snn.processor.snn_ia_elasticc`` feed it (tests compare them); the networks are the
ones shipped in fink-science. No side effects beyond the seeding of
:class:`~lanner.classify.supernnova_model.SuperNNovaModel`.

Fink's ZTF cuts: at least 2 detections, the last within 90 days of ``jdstarthist``, not a
known asteroid (``roid`` ≠ 3), and a SIMBAD class compatible with a host galaxy; Lanner has
no SIMBAD cross-match, so every alert passes that last cut (Fink's doctest does the same with
``cdsxmatch = "Unknown"``). Alerts failing the cuts are not scored (NULL, where Fink writes 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from lanner.batch import AlertBatch, Survey
from lanner.classify import inputs
from lanner.classify.base import binary_labels, score_table
from lanner.classify.fink import FINK_SCIENCE_VERSION, model_path
from lanner.classify.supernnova_model import SuperNNovaModel
from lanner.classify.ztf_roid import roid_flags

#: Rubin fluxes [nJy] to SNANA FLUXCAL (zero point 27.5).
NJY_TO_FLUXCAL = 10 ** (-(31.4 - 27.5) / 2.5)


def _ztf_fluxcal(mag: np.ndarray, mag_err: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """fink-utils ``mag2fluxcal_snana`` on arrays."""
    flux = 10 ** (-0.4 * mag) * 10**11
    err = 9.21034 * 10**10 * np.exp(-0.921034 * mag) * mag_err
    return flux, err


def _snana(
    lcs: inputs.LightCurves,
    keep: np.ndarray,
    ids: np.ndarray,
    mjd_offset: float,
    flux: np.ndarray,
    err: np.ndarray,
) -> pd.DataFrame:
    rows = lcs.row_of_point()
    sel = keep[rows]
    frame = pd.DataFrame(
        {
            "SNID": ids[rows[sel]],
            "MJD": lcs.mjd[sel] + mjd_offset,
            "FLUXCAL": flux[sel],
            "FLUXCALERR": err[sel],
            "FLT": lcs.band[sel],
        }
    )
    return frame.dropna()


class _SuperNNova:
    name: str
    model: str
    scores: tuple[str, ...]
    labels: tuple[str, str]
    surveys: frozenset[Survey]

    def __init__(self) -> None:
        self.network = SuperNNovaModel(model_path("snn_models", self.model, "model.pt"))

    def _score(self, batch: AlertBatch, frame: pd.DataFrame, keep: np.ndarray) -> pa.Table:
        p = np.full(len(batch), np.nan)
        if len(frame):
            snids, probs = self.network.predict(frame)
            order = pd.Index(snids).get_indexer(np.arange(len(batch)).astype(str))
            got = order >= 0
            p[got] = probs[order[got], 0]
        scored = keep & np.isfinite(p)
        return score_table({self.scores[0]: p}, binary_labels(p, *self.labels), scored)


class _ZtfSuperNNova(_SuperNNova):
    surveys: frozenset[Survey] = frozenset({"ztf"})
    version = f"fs{FINK_SCIENCE_VERSION}-snn"
    required_columns = (
        "detections.mjd",
        "detections.band",
        "detections.mag",
        "detections.mag_err",
        "alerts.mjd",
        "alerts.ndethist",
        "packets.candidate.jdstarthist",
        "packets.candidate.ssdistnr",
    )

    def selected(self, batch: AlertBatch) -> np.ndarray:
        """Fink's selection cuts (see the module docstring)."""
        lcs = inputs.detections(batch)
        finite = np.isfinite(lcs.mag)
        n_points = np.add.reduceat(finite, lcs.offsets[:-1]) if len(finite) else finite
        n_points = np.where(lcs.counts() > 0, n_points, 0)
        jd = np.asarray(batch.alerts["mjd"].to_numpy(zero_copy_only=False)) + inputs.JD_TO_MJD
        start = inputs.packet_candidate_field(batch, "jdstarthist")
        recent = ~((jd - start) > 90)  # NaN start: kept, as the comparison is false in Fink
        return (n_points >= 2) & recent & (roid_flags(batch) != 3)

    def predict(self, batch: AlertBatch) -> pa.Table:
        keep = self.selected(batch)
        lcs = inputs.detections(batch)
        flux, err = _ztf_fluxcal(lcs.mag, lcs.mag_err)
        ids = np.arange(len(batch)).astype(str)
        return self._score(batch, _snana(lcs, keep, ids, inputs.JD_TO_MJD, flux, err), keep)


class ZtfSnIaVsNonIa(_ZtfSuperNNova):
    """ZTF SuperNNova: probability of a SN Ia against other supernovae."""

    name = "snn_snia_vs_nonia"
    model = "snn_snia_vs_nonia"
    scores = ("p_snia",)
    labels = ("SN Ia", "non-Ia")


class ZtfSnVsAll(_ZtfSuperNNova):
    """ZTF SuperNNova: probability of a supernova against everything else."""

    name = "snn_sn_vs_all"
    model = "snn_sn_vs_all"
    scores = ("p_sn",)
    labels = ("SN", "other")


class RubinSnVsOther(_SuperNNova):
    """Rubin SuperNNova (ELAsTiCC binary, no metadata): probability of a supernova."""

    name = "snn_sn_vs_other"
    model = "elasticc_binary_broad/SN_vs_other"
    surveys: frozenset[Survey] = frozenset({"lsst"})
    version = f"fs{FINK_SCIENCE_VERSION}-snn"
    scores = ("p_sn",)
    labels = ("SN", "other")
    required_columns = inputs.FORCED_AND_CURRENT_COLUMNS

    def predict(self, batch: AlertBatch) -> pa.Table:
        lcs = inputs.forced_and_current(batch)
        keep = np.ones(len(batch), dtype=bool)
        ids = np.arange(len(batch)).astype(str)
        frame = _snana(
            lcs, keep, ids, 0.0, lcs.flux * NJY_TO_FLUXCAL, lcs.flux_err * NJY_TO_FLUXCAL
        )
        return self._score(batch, frame, keep)
