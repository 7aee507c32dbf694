"""Each classifier against Fink's own code and stored values, on real shared alerts.

References: fink-science 7.4.0's functions (``.func``, fed from the packets as Fink feeds
them, :mod:`tests.classify.fink_reference`), the doctest of Rubin SuperNNova
(``SN_vs_other`` > 0.5 for 48 of Fink's 50 ops-rehearsal alerts), and the scores Fink stored
in its own v7.4 test alerts (``snn_sn_vs_others``, fink-science 7.2.0).
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
import pytest

from lanner.batch import AlertBatch
from lanner.classify import registry
from lanner.classify.ztf_roid import roid_flags
from tests.classify import fink_reference as fink
from tests.classify.conftest import RUBIN_74


def _scores(batch: AlertBatch, name: str, column: str) -> np.ndarray:
    table = registry.load(name).predict(batch)
    assert table.num_rows == len(batch)
    return np.asarray(table[column].to_numpy(zero_copy_only=False), dtype=np.float64)


def _clean(batch: AlertBatch) -> np.ndarray:
    """Packets whose history is in time order and repeats no candid: where Fink's inputs
    (the raw arrays) and Lanner's (one point per candid, time-ordered) are the same."""
    out = []
    for p in batch.packets:
        entries = [*(p.get("prv_candidates") or []), p["candidate"]]
        jd = [e["jd"] for e in entries]
        ids = [e["candid"] for e in entries if e.get("candid") is not None]
        out.append(all(a < b for a, b in itertools.pairwise(jd)) and len(ids) == len(set(ids)))
    return np.array(out)


def test_asteroid_flag_equals_fink_on_every_ztf_alert(ztf_batch: AlertBatch) -> None:
    mine = roid_flags(ztf_batch)
    ref = fink.roid(ztf_batch)
    assert len(mine) == len(ztf_batch) > 1000
    assert set(np.unique(ref)) == {0, 1, 2, 3}  # every class occurs
    np.testing.assert_array_equal(mine, ref)
    assert np.array_equal(_scores(ztf_batch, "roid", "roid"), ref.astype(float))


def _repeats_the_candidate(batch: AlertBatch) -> np.ndarray:
    """Packets that list their own candidate again in ``prv_candidates`` (Ampel's test
    packets): Fink's raw arrays count that detection twice."""
    return np.array(
        [
            p["candidate"]["candid"] in {e.get("candid") for e in p.get("prv_candidates") or []}
            for p in batch.packets
        ]
    )


def _simultaneous(batch: AlertBatch) -> np.ndarray:
    """Packets with two detections at one time, whose order SuperNNova's input leaves open."""
    out = []
    for p in batch.packets:
        jd = [e["jd"] for e in fink._entries(p, once=True) if e.get("magpsf") is not None]
        out.append(len(jd) != len(set(jd)))
    return np.array(out)


@pytest.mark.parametrize(
    ("name", "column"), [("snn_snia_vs_nonia", "p_snia"), ("snn_sn_vs_all", "p_sn")]
)
def test_ztf_supernnova_equals_fink(ztf_batch: AlertBatch, name: str, column: str) -> None:
    mine = _scores(ztf_batch, name, column)
    scored = np.isfinite(mine)
    # Fink's function fed each detection once: equal wherever the order of the points is set.
    once = fink.ztf_snn(ztf_batch, name, once=True)
    ordered = ~_simultaneous(ztf_batch)
    assert (scored & ordered).sum() > 200
    np.testing.assert_allclose(mine[scored & ordered], once[scored & ordered], atol=1e-6)
    assert np.all(once[~scored] == 0)  # Fink's 0 means "not scored"
    # Fed the raw arrays, Fink differs only on the packets that repeat their candidate.
    raw = fink.ztf_snn(ztf_batch, name)
    repeats = _repeats_the_candidate(ztf_batch)
    assert repeats.sum() > 800
    np.testing.assert_array_equal(raw[~repeats], once[~repeats])
    assert np.sum(raw[repeats] != once[repeats]) > 700


def test_supernnova_model_equals_classify_lcs(ztf_batch: AlertBatch) -> None:
    """Loading the network once gives what supernnova's own classify_lcs gives."""
    import pandas as pd
    from supernnova.validation.validate_onthefly import classify_lcs

    from lanner.classify import inputs
    from lanner.classify.snn import _snana, _ztf_fluxcal

    c: Any = registry.load("snn_sn_vs_all")
    lcs = inputs.detections(ztf_batch)
    flux, err = _ztf_fluxcal(lcs.mag, lcs.mag_err)
    keep = c.selected(ztf_batch)
    frame = _snana(lcs, keep, np.arange(len(ztf_batch)).astype(str), 0.0, flux, err)
    ids, probs = c.network.predict(frame)
    ref_ids, ref = classify_lcs(frame.copy(), str(c.network.model_file), "cpu")
    assert len(ids) == keep.sum() > 100
    ref_probs = pd.DataFrame(ref[:, 0, :], index=np.asarray(ref_ids)).loc[ids].to_numpy()
    np.testing.assert_allclose(probs, ref_probs, rtol=1e-6)


def test_anomaly_score_equals_fink(ztf_batch: AlertBatch, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = _scores(ztf_batch, "anomaly_score", "anomaly_score")
    # Fink's DC magnitudes of negative fluxes, and its chained in-place fillna (pandas 2).
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ref = fink.ztf_anomaly(ztf_batch, monkeypatch)
    clean = _clean(ztf_batch)
    scored = np.isfinite(mine)
    assert (scored & clean).sum() > 50
    np.testing.assert_allclose(mine[scored & clean], ref[scored & clean], atol=1e-5)
    assert np.all(ref[~scored & clean] == 0)


def test_rubin_sn_vs_other_reproduces_the_doctest(or4_batch: AlertBatch) -> None:
    p = _scores(or4_batch, "snn_sn_vs_other", "p_sn")
    assert len(p) == 50
    assert int(np.sum(p > 0.5)) == 48  # fink-science's doctest on this sample
    np.testing.assert_allclose(p, fink.rubin_snn(or4_batch), atol=1e-6)


def test_rubin_sn_vs_other_equals_finks_stored_scores(
    rubin74_batch: AlertBatch, alerts_dir: Path
) -> None:
    stored = {}
    for path in sorted((alerts_dir / RUBIN_74).glob("*.avro")):
        with path.open("rb") as fh:
            for record in fastavro.reader(fh):
                stored[record["diaSource"]["diaSourceId"]] = record["snn_sn_vs_others"]
    ids = rubin74_batch.alerts["alert_id"].to_pylist()
    ref = np.array([stored[i] for i in ids], dtype=np.float64)
    p = _scores(rubin74_batch, "snn_sn_vs_other", "p_sn")
    assert len(p) == 100
    np.testing.assert_allclose(p, ref, atol=1e-6)


def test_slsn_reproduces_the_doctest_and_scores_deep_histories(
    or4_batch: AlertBatch, deep_rubin_batch: AlertBatch
) -> None:
    # Fink's doctest: 0 for all 50 ops-rehearsal alerts (too few points): not scored here.
    assert np.all(fink.rubin_slsn(or4_batch) == 0)
    assert np.all(np.isnan(_scores(or4_batch, "slsn", "p_slsn")))
    # With enough points, Fink 7.4.0's processor hands the forest misnamed features and
    # scikit-learn refuses them; Lanner renames them and scores.
    with pytest.raises(ValueError, match="feature names"):
        fink.rubin_slsn(deep_rubin_batch)
    mine = _scores(deep_rubin_batch, "slsn", "p_slsn")
    scored = np.isfinite(mine)
    assert scored.sum() >= 3
    assert np.all((mine[scored] >= 0) & (mine[scored] <= 1))
    np.testing.assert_array_equal(mine, _scores(deep_rubin_batch, "slsn", "p_slsn"))
