"""Fink's own functions (fink-science 7.4.0 ``.func``) fed the way Fink feeds them, from the
decoded packets: the references the classifiers are compared with."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lanner.batch import AlertBatch
from lanner.classify.fink import import_fink


def _entries(packet: dict[str, Any], once: bool) -> list[dict[str, Any]]:
    """``prv_candidates`` then the candidate; ``once``: without the copies of the candidate
    that some packets also list in ``prv_candidates``."""
    prv = packet.get("prv_candidates") or []
    if once:
        prv = [e for e in prv if e.get("candid") != packet["candidate"]["candid"]]
    return [*prv, packet["candidate"]]


def _c(batch: AlertBatch, field: str, once: bool = False) -> pd.Series:
    """Fink's ``c<field>``: ``prv_candidates`` values then the candidate's (None → NaN)."""
    out = []
    for p in batch.packets:
        entries = _entries(p, once)
        out.append(np.array([np.nan if e.get(field) is None else e[field] for e in entries]))
    return pd.Series(out)


def _cand(batch: AlertBatch, field: str) -> pd.Series:
    return pd.Series(
        [
            np.nan if p["candidate"].get(field) is None else p["candidate"][field]
            for p in batch.packets
        ]
    )


def roid(batch: AlertBatch) -> np.ndarray:
    mod = import_fink("fink_science.ztf.asteroids.processor")
    args = [_c(batch, "jd"), _c(batch, "magpsf")]
    args += [_cand(batch, k) for k in ("ndethist", "sgscore1", "ssdistnr", "distpsnr1")]
    return np.asarray(mod.roid_catcher.func(*args))


def ztf_snn(batch: AlertBatch, model: str, once: bool = False) -> np.ndarray:
    """Fink's SuperNNova on the packets' arrays (``once``: each candid once, see
    :func:`_entries`)."""
    mod = import_fink("fink_science.ztf.snn.processor")
    n = len(batch)
    return np.asarray(
        mod.snn_ia.func(
            _cand(batch, "candid").astype("int64"),
            _c(batch, "jd", once),
            _c(batch, "fid", once),
            _c(batch, "magpsf", once),
            _c(batch, "sigmapsf", once),
            pd.Series(roid(batch)),
            pd.Series(["Unknown"] * n),
            _cand(batch, "jdstarthist"),
            pd.Series([model] * n),
        )
    )


def ztf_anomaly(batch: AlertBatch, monkeypatch: Any) -> np.ndarray:
    """Features then forest, with pandas 2's ``read_csv`` given back its ``squeeze``."""
    feats = import_fink("fink_science.ztf.ad_features.processor")
    anomaly = import_fink("fink_science.ztf.anomaly_detection.processor")
    real = pd.read_csv

    def read_csv(*args: Any, squeeze: bool = False, **kwargs: Any) -> Any:
        frame = real(*args, **kwargs)
        return frame.squeeze("columns") if squeeze else frame

    monkeypatch.setattr(anomaly.pd, "read_csv", read_csv)
    cols = {
        k: _c(batch, k) for k in ("magpsf", "jd", "sigmapsf", "fid", "distnr", "magnr", "sigmagnr")
    }
    isdiffpos = [
        np.array([e.get("isdiffpos") for e in [*(p.get("prv_candidates") or []), p["candidate"]]])
        for p in batch.packets
    ]
    features = [
        feats.extract_features_ad_raw(
            cols["magpsf"][i],
            cols["jd"][i],
            cols["sigmapsf"][i],
            cols["fid"][i],
            batch.packets[i]["objectId"],
            cols["distnr"][i],
            cols["magnr"][i],
            cols["sigmagnr"][i],
            isdiffpos[i],
        )
        for i in range(len(batch))
    ]
    return np.asarray(anomaly.anomaly_score.func(pd.Series(features)))


def _rubin_c(batch: AlertBatch, field: str) -> pd.Series:
    out = []
    for p in batch.packets:
        entries = [*(p.get("prvDiaForcedSources") or []), p["diaSource"]]
        out.append(np.array([e.get(field) for e in entries]))
    return pd.Series(out)


def rubin_snn(batch: AlertBatch) -> np.ndarray:
    mod = import_fink("fink_science.rubin.snn.processor")
    n = len(batch)
    return np.asarray(
        mod.snn_ia_elasticc.func(
            pd.Series([p["diaSource"]["diaSourceId"] for p in batch.packets]),
            _rubin_c(batch, "midpointMjdTai"),
            _rubin_c(batch, "band"),
            _rubin_c(batch, "psfFlux").apply(lambda x: x.astype(float)),
            _rubin_c(batch, "psfFluxErr").apply(lambda x: x.astype(float)),
            pd.Series(["elasticc_binary_broad/SN_vs_other"] * n),
        )
    )


def rubin_slsn(batch: AlertBatch) -> np.ndarray:
    mod = import_fink("fink_science.rubin.slsn.processor")
    return np.asarray(
        mod.slsn_rubin.func(
            pd.Series([p["diaSource"]["diaObjectId"] for p in batch.packets]),
            _rubin_c(batch, "midpointMjdTai"),
            _rubin_c(batch, "psfFlux").apply(lambda x: x.astype(float)),
            _rubin_c(batch, "psfFluxErr").apply(lambda x: x.astype(float)),
            _rubin_c(batch, "band"),
            pd.Series([p["diaSource"]["ra"] for p in batch.packets]),
            pd.Series([p["diaSource"]["dec"] for p in batch.packets]),
        )
    )
