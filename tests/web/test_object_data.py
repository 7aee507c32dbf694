"""The object page's data without a browser: the Bazin × blackbody curve drawn from stored
fit parameters, ids in URLs, and JSON-safe values."""

from __future__ import annotations

import math

import numpy as np

from lanner.enrich.features.bazin_model import bazin_rows
from lanner.enrich.features.light_curve import RUBIN_BANDS
from lanner.schema.registry import tables_for
from lanner.web.object_data import (
    _json,
    _json_column,
    bbb_model_curve,
    bbb_state,
    column_groups,
    json_twin,
    page_data,
)


def _fit(peak_mjd: float = 60010.0) -> dict[str, object]:
    return {
        "BBBModel": "bazin",
        "BBBRiseRate": 0.5,
        "BBBFallRate": 0.05,
        "BBBTemp": 12.0,
        "BBBPeakFlux": 5000.0,
        "BBBPeakBand": "g",
        "BBBPeakMJD": peak_mjd,
    }


def test_the_model_curve_peaks_where_the_fit_says() -> None:
    curves = bbb_model_curve(_fit(), ["g", "r"], [60000.0, 60030.0])
    g = next(c for c in curves if c["band"] == "g")
    i = int(np.argmax(g["flux"]))
    assert abs(g["mjd"][i] - 60010.0) < 0.5
    assert math.isclose(max(g["flux"]), 5000.0, rel_tol=1e-3)


def test_the_model_curve_is_the_fitted_model() -> None:
    """The curve equals Lanner's own Bazin × blackbody model with the parameters implied by
    the stored peak (t0 and amplitude recovered from peak time and flux)."""
    fit = _fit()
    curves = {c["band"]: c for c in bbb_model_curve(fit, ["g", "r", "i"], [60000.0, 60030.0])}
    kr, kf, temp = 0.5, 0.05, 12.0
    t0 = 60010.0 - math.log(kr / kf - 1.0) / kr
    t = np.asarray(curves["r"]["mjd"])
    bands = np.full((1, t.size), RUBIN_BANDS.index("r"))
    g_band = np.full((1, 1), RUBIN_BANDS.index("g"))
    unit = np.array([[0.0, temp, t0, kr, kf]])
    at_peak, _ = bazin_rows(unit, np.array([[60010.0]]), g_band)
    p = np.array([[math.log(5000.0 / at_peak[0, 0]), temp, t0, kr, kf]])
    expected, _ = bazin_rows(p, t[None, :], bands)
    assert np.allclose(curves["r"]["flux"], expected[0], rtol=1e-9)


def test_no_curve_without_a_bazin_fit() -> None:
    assert bbb_model_curve({**_fit(), "BBBModel": "exp"}, ["g"], [60000.0]) == []
    assert bbb_model_curve({"BBBModel": None}, ["g"], [60000.0]) == []
    assert bbb_model_curve(_fit(), ["g"], []) == []


def test_every_objects_column_is_grouped_with_its_unit() -> None:
    table = tables_for("lsst")["objects"]
    groups = column_groups(table, {"ra": 10.5})
    names = [c["name"] for g in groups for c in g["columns"]]
    assert names == table.column_names
    ra = next(c for g in groups for c in g["columns"] if c["name"] == "ra")
    assert ra["unit"] == "deg" and ra["value"] == 10.5


def test_json_values_survive_javascript() -> None:
    assert _json(3516508293973409799) == "3516508293973409799"  # beyond 2**53: as text
    assert _json(12) == 12
    assert _json(float("nan")) is None
    assert _json(b"\x00") is None


def test_the_page_gets_the_light_curve_by_column_and_the_twin_by_row() -> None:
    lc = {
        "detections": {"mjd": [60000.0, 60001.0], "band": ["g", "r"], "flux": [1.0, None]},
        "forced_photometry": {"mjd": [], "flux": []},
        "upper_limits": {"mjd": [59999.0], "limit_mag": [20.5]},
        "counts": {"detections": 2, "forced_photometry": 0, "upper_limits": 1},
        "model": [],
        "fit": None,
        "bands": ["g", "r"],
    }
    view = {
        "object_id": "x",
        "ra": 1.0,
        "dec": 2.0,
        "sky_marks": [],
        "groups": [1],
        "light_curve": lc,
    }
    page = page_data(view)
    assert "groups" not in page and page["light_curve"]["detections"]["flux"] == [1.0, None]
    twin = json_twin(view)
    assert twin["light_curve"]["detections"] == [
        {"mjd": 60000.0, "band": "g", "flux": 1.0},
        {"mjd": 60001.0, "band": "r", "flux": None},
    ]
    assert twin["light_curve"]["forced_photometry"] == []
    assert twin["groups"] == [1]


def test_json_columns_drop_nan_and_keep_big_ids_exact() -> None:
    assert _json_column([1.5, float("nan"), None]) == [1.5, None, None]
    assert _json_column([3516508293973409799, 7]) == ["3516508293973409799", 7]


def test_what_the_page_says_of_the_fit() -> None:
    drawn = bbb_state({**_fit(), "BBBChi2Dof": 1.2, "BBBNdata": 30}, drawn=True)
    assert drawn is not None and drawn["drawn"] and "drawn dashed" in drawn["text"]
    assert "peak 5000 nJy in g at MJD 60010.00" in drawn["text"]
    exp = bbb_state({"BBBModel": "exp", "BBBTemp": 9.0, "BBBNoFitReason": None}, drawn=False)
    assert exp is not None and "stores no amplitude" in exp["text"]
    none = bbb_state({"BBBModel": None, "BBBNoFitReason": "poor fit"}, drawn=False)
    assert none is not None and none["text"] == "No Bazin × blackbody fit: poor fit."
    assert bbb_state({"ncand": 3}, drawn=False) is None  # ZTF: no such fit
