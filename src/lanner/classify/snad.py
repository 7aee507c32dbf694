"""SNAD anomaly score for ZTF: 26 light-curve features per band, then the AAD isolation
forests of fink-science 7.4.0 (ONNX, one per band).

Input: each alert's detections (g and r), turned into DC magnitudes where a reference source
lies under the transient (``distnr`` ≤ 1.5 px; ``magnr``, ``sigmagnr`` per detection from the
packets), as fink-science ``ztf.ad_features.processor.extract_features_ad_raw`` does.
Output: ``anomaly_score`` (lower = more anomalous; Fink's convention) and the 18 features per
band the forests read (``g_*``, ``r_*``), which the personal ranking re-uses
(:mod:`lanner.classify.learning`). As in Fink, an alert is scored when both g and r were
observed (a detection or an upper limit) and at least one band has features; a band without
features takes the training means. Alerts Fink gives 0 are not scored here. The features
come from the ``light-curve`` package's ``Extractor.many`` (all light curves of the batch in
one call); the forests are loaded once. No side effects.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa

from lanner.batch import AlertBatch
from lanner.classify import inputs
from lanner.classify.base import score_table
from lanner.classify.fink import FINK_SCIENCE_VERSION, import_fink, model_path

#: Scores below this are labelled ``anomalous`` (about the most anomalous tenth of the shared
#: ZTF sample; the ranking, not the label, is what the anomaly lists use).
ANOMALY_THRESHOLD = -0.02

#: ZTF bands Fink's features use, as its ``fid`` (1 = g, 2 = r).
BAND_FID = {"g": 1, "r": 2}


def dc_magnitudes(
    mag: np.ndarray,
    mag_err: np.ndarray,
    distnr: np.ndarray,
    magnr: np.ndarray,
    sigmagnr: np.ndarray,
    positive: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Fink's per-alert rule on flat arrays: where any point of an alert has a source behind
    (``0 ≤ distnr ≤ 1.5``), that alert's magnitudes become DC magnitudes
    (fink-utils ``vect_dc_mag``); the caller applies it per alert."""
    conversion = import_fink("fink_utils.photometry.vect_conversion")
    isdiffpos = np.where(positive, "t", "f")
    return conversion.vect_dc_mag(mag, mag_err, magnr, sigmagnr, isdiffpos)


class AnomalyScore:
    """SNAD's AAD isolation forests on 26 light-curve features (see the module docstring)."""

    name = "anomaly_score"
    version = f"fs{FINK_SCIENCE_VERSION}-aad"
    surveys = frozenset({"ztf"})
    required_columns = (
        "detections.mjd",
        "detections.band",
        "detections.mag",
        "detections.mag_err",
        "detections.is_positive",
        "packets.candidate.distnr",
        "packets.candidate.magnr",
        "packets.candidate.sigmagnr",
    )
    scores = ("anomaly_score",)

    def __init__(self) -> None:
        import onnxruntime as rt

        features = import_fink("fink_science.ztf.ad_features.processor")
        anomaly = import_fink("fink_science.ztf.anomaly_detection.processor")
        self.extractor = features.create_extractor()
        self.feature_names: list[str] = list(self.extractor.names)
        self.model_columns: list[str] = list(anomaly.MODEL_COLUMNS)
        folder = model_path("anomaly_detection")
        # Fink reads "r_means" for the features of fid 1 and "g_means" for fid 2, and runs
        # forest "g" on fid 2 and forest "r" on fid 1: kept as is, the forests expect it.
        self.means = {
            1: pd.read_csv(folder / "r_means.csv", header=None, index_col=0).iloc[:, 0],
            2: pd.read_csv(folder / "g_means.csv", header=None, index_col=0).iloc[:, 0],
        }
        with zipfile.ZipFile(folder / "anomaly_detection_forest_AAD.zip") as z:
            blobs = {n.rsplit("/", 1)[-1]: z.read(n) for n in z.namelist()}
        options = rt.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3  # the forests' declared output shape is {-1}: noise
        self.forests = {
            1: rt.InferenceSession(blobs["forest_r_AAD.onnx"], options),
            2: rt.InferenceSession(blobs["forest_g_AAD.onnx"], options),
        }

    def features(self, batch: AlertBatch) -> tuple[dict[int, np.ndarray], np.ndarray]:
        """The extractor's features per fid (1, 2): arrays of shape (alerts, features), NaN
        where an alert has no usable point in that band; and which alerts Fink scores: both
        bands seen (a detection or an upper limit), neither refused by the extractor (times
        not strictly ascending), and features in at least one."""
        lcs = inputs.detections(batch)
        extra = inputs.packet_detection_fields(batch, ("distnr", "magnr", "sigmagnr"))
        positive = np.asarray(batch.detections["is_positive"].to_numpy(zero_copy_only=False))
        rows = lcs.row_of_point()
        mag, err = lcs.mag.copy(), lcs.mag_err.copy()
        ok = np.isfinite(mag) & np.isfinite(err)
        behind = ok & (extra["distnr"] >= 0) & (extra["distnr"] <= 1.5)
        convert_alert = np.zeros(len(batch), dtype=bool)
        convert_alert[rows[behind]] = True
        convert = ok & convert_alert[rows]
        if convert.any():
            with np.errstate(all="ignore"):
                dc, dc_err = dc_magnitudes(
                    mag[convert],
                    err[convert],
                    extra["distnr"][convert],
                    extra["magnr"][convert],
                    extra["sigmagnr"][convert],
                    positive[convert],
                )
            mag[convert], err[convert] = dc, dc_err
            ok &= np.isfinite(mag) & np.isfinite(err)
        limit_rows = batch.upper_limits["row"].to_numpy().astype(np.int64)
        limit_bands = np.asarray(batch.upper_limits["band"].to_pylist(), dtype=object)
        out: dict[int, np.ndarray] = {}
        qualifies = np.ones(len(batch), dtype=bool)
        for band, fid in BAND_FID.items():
            seen = np.zeros(len(batch), dtype=bool)
            seen[rows[lcs.band == band]] = True
            seen[limit_rows[limit_bands == band]] = True
            sel = ok & (lcs.band == band)
            counts = np.bincount(rows[sel], minlength=len(batch))
            splits = np.cumsum(counts)[:-1]
            t = np.split(lcs.mjd[sel] + inputs.JD_TO_MJD, splits)
            m = np.split(mag[sel], splits)
            s = np.split(err[sel], splits)
            # The extractor refuses times that are not strictly ascending; Fink then drops
            # the band, and the alert.
            tt, rr = lcs.mjd[sel], rows[sel]
            refused = np.zeros(len(batch), dtype=bool)
            same_row = rr[1:] == rr[:-1]
            refused[rr[1:][same_row & (np.diff(tt) <= 0)]] = True
            values = np.full((len(batch), len(self.feature_names)), np.nan)
            has = np.flatnonzero((counts > 0) & ~refused)
            if len(has):
                lcs_band = [(t[i], m[i], s[i]) for i in has]
                values[has] = self.extractor.many(lcs_band, fill_value=np.nan, n_jobs=1)
            out[fid] = values
            qualifies &= seen & ~refused
        some = ~np.all(np.isnan(out[1]), axis=1) | ~np.all(np.isnan(out[2]), axis=1)
        return out, qualifies & some

    def model_inputs(self, features: dict[int, np.ndarray]) -> dict[int, pd.DataFrame]:
        """The forests' inputs per fid, missing features filled with the training means."""
        frames = {}
        for fid, values in features.items():
            frame = pd.DataFrame(values, columns=self.feature_names)[self.model_columns]
            frames[fid] = frame.fillna(self.means[fid][self.model_columns])
        return frames

    def predict(self, batch: AlertBatch) -> pa.Table:
        feats, both = self.features(batch)
        frames = self.model_inputs(feats)
        score = np.full(len(batch), np.nan)
        if both.any():
            runs = [
                self.forests[fid].run(None, {"X": frames[fid][both].to_numpy(np.float32)})[-1]
                for fid in (1, 2)
            ]
            score[both] = (np.asarray(runs[0]) + np.asarray(runs[1])).ravel() / 2
        label = np.where(score < ANOMALY_THRESHOLD, "anomalous", "normal").astype(object)
        columns = {"anomaly_score": score}
        for fid, band in ((1, "g"), (2, "r")):
            for name in self.model_columns:
                columns[f"{band}_{name}"] = frames[fid][name].to_numpy()
        table = score_table(columns, label, both)
        return table
