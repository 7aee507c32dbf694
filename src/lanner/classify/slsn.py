"""Rubin superluminous-supernova classifier (Rainbow fit + random forest, no metadata).

Input: each Rubin alert's forced photometry then its triggering source (nJy, band), and its
position. Output: ``p_slsn``, the forest's probability, and the top class. Fed exactly as
fink-science 7.4.0 ``rubin.slsn.processor.slsn_rubin``: its own ``transform_data`` and
``parametrise`` (light-curve's ``RainbowFit`` per object) and its shipped forest
``SLSN_rainbow_no_MD.joblib``, which is loaded once here rather than per call, with the
features renamed to the forest's training names (see :meth:`SuperluminousSN._training_names`:
Fink's own processor fails there). The forest was pickled by scikit-learn 1.5.2, the version
the ``lanner[ml]`` extra pins. Alerts with
fewer points than the classifier's minimum get 0 from Fink; here they are not scored.

Cost: about 1 s per qualifying light curve, nearly all of it the Rainbow fit (iminuit over a
Python model, inside light-curve), so ``LANNER_CLASSIFIERS=auto`` leaves this classifier out
(:data:`lanner.classify.registry.NOT_IN_AUTO`); name it to run it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa

from lanner.batch import AlertBatch
from lanner.classify import inputs
from lanner.classify.base import binary_labels, score_table
from lanner.classify.fink import FINK_SCIENCE_VERSION, import_fink


class SuperluminousSN:
    """Fink's SLSN classifier for Rubin (see the module docstring)."""

    name = "slsn"
    version = f"fs{FINK_SCIENCE_VERSION}-slsn"
    surveys = frozenset({"lsst"})
    required_columns = (*inputs.FORCED_AND_CURRENT_COLUMNS, "alerts.ra", "alerts.dec")
    scores = ("p_slsn",)

    def __init__(self) -> None:
        import joblib

        self.kernel = import_fink("fink_science.rubin.slsn.kernel")
        self.fe = import_fink("fink_science.rubin.slsn.feature_extraction")
        self.classifier = import_fink("fink_science.rubin.slsn.classifier")
        self.forest = joblib.load(self.kernel.CLASSIFIER_ELASTICC_NO_MD)
        self.minimum_points = int(self.kernel.MINIMUM_POINTS)

    def _training_names(self, features: pd.DataFrame) -> pd.DataFrame:
        """The features under the names the forest was fitted with: fink-science 7.4.0's
        ``parametrise`` writes ``dec``, ``std_y``, ``mean_snr_y`` where the shipped forest
        expects ``decl``, ``std_Y``, ``mean_snr_Y``, which scikit-learn refuses (so Fink's
        own processor raises on every alert with enough points). The first column is the
        object id, as ``get_probabilities`` expects."""
        renamed = features.rename(
            columns={"dec": "decl", "std_y": "std_Y", "mean_snr_y": "mean_snr_Y"}
        )
        wanted = list(getattr(self.forest, "feature_names_in_", renamed.columns[1:]))
        return renamed[[renamed.columns[0], *wanted]]

    def predict(self, batch: AlertBatch) -> pa.Table:
        lcs = inputs.forced_and_current(batch)
        n = len(batch)
        scored = lcs.counts() >= self.minimum_points
        p = np.full(n, np.nan)
        if scored.any():
            idx = np.flatnonzero(scored)
            cut = lcs.offsets
            data = pd.DataFrame(
                {
                    "diaObjectId": np.asarray(batch.alerts["object_id"].to_pylist())[idx],
                    "cmidpointMjdTai": [lcs.mjd[cut[i] : cut[i + 1]] for i in idx],
                    "cpsfFlux": [lcs.flux[cut[i] : cut[i + 1]] for i in idx],
                    "cpsfFluxErr": [lcs.flux_err[cut[i] : cut[i + 1]] for i in idx],
                    "cband": [lcs.band[cut[i] : cut[i + 1]].astype(str) for i in idx],
                    "ra": np.asarray(batch.alerts["ra"]).astype(np.float64)[idx],
                    "dec": np.asarray(batch.alerts["dec"]).astype(np.float64)[idx],
                }
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                transformed, valid = self.fe.transform_data(data)
                if valid.any():
                    features = self._training_names(self.fe.parametrise(transformed[valid], False))
                    p[idx] = self.classifier.get_probabilities(self.forest, features, valid)
                else:
                    p[idx] = 0.0
        return score_table({"p_slsn": p}, binary_labels(p, "SLSN", "other"), scored)
