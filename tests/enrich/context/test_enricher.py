"""The enricher on batches: one row per alert, ZTF packet neighbours, bad positions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from lanner.batch import AlertBatch
from lanner.enrich.base import Enricher
from lanner.enrich.context import ContextClassifier, classify_positions
from lanner.enrich.context.enricher import SkyContext


def _batch(survey: str, alerts: dict[str, list[object]]) -> AlertBatch:
    empty = pa.table({"row": pa.array([], pa.int32())})
    return AlertBatch(survey, pa.table(alerts), empty, empty, empty, empty)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def enricher() -> SkyContext:
    return SkyContext()


def test_every_alert_gets_a_row_and_bad_positions_get_null(enricher: SkyContext) -> None:
    assert isinstance(enricher, Enricher)
    batch = _batch(
        "lsst",
        {"ra": [187.2779155, float("nan"), 150.0, 400.0], "dec": [2.0523883, 1.0, -60.0, 0.0]},
    )
    out = enricher(batch)
    assert out.num_rows == 4
    assert out.schema.names == [c.name for c in enricher.columns]
    assert out["classification"].to_pylist() == ["AGN", None, "ORPHAN", None]
    assert out["description"].null_count == 2


def test_ztf_ps1_neighbour_star_and_galaxy(enricher: SkyContext) -> None:
    # Empty sky (ORPHAN without the packet): a PS1 star at 0.4" is a VS synonym, an
    # extended PS1 source 6" away an angular SN association, no neighbour stays ORPHAN.
    batch = _batch(
        "ztf",
        {
            "ra": [150.0, 150.0, 150.0],
            "dec": [-60.0, -60.0, -60.0],
            "distpsnr1": [0.4, 6.0, -999.0],
            "sgscore1": [0.98, 0.02, -999.0],
            "srmag1": [18.2, 19.5, -999.0],
            "sgmag1": [18.9, 20.1, -999.0],
        },
    )
    out = enricher(batch).to_pylist()
    assert [r["classification"] for r in out] == ["VS", "SN", "ORPHAN"]
    assert out[0]["catalogue_table_name"] == "PS1"
    assert [r["catalogue_object_type"] for r in out[:2]] == ["star", "galaxy"]
    assert out[0]["Mag"] == pytest.approx(18.2, abs=1e-4)
    assert out[1]["classificationReliability"] == 3
    assert out[1]["separationArcsec"] == pytest.approx(6.0)


def test_catalogue_synonym_beats_packet_neighbour(enricher: SkyContext) -> None:
    batch = _batch(
        "ztf",
        {
            "ra": [187.2779155],
            "dec": [2.0523883],
            "distpsnr1": [0.1],
            "sgscore1": [0.9],
            "srmag1": [12.0],
            "sgmag1": [12.5],
        },
    )
    assert enricher(batch)["classification"].to_pylist() == ["AGN"]


def test_strict_positions_raise_clear_errors(classifier: ContextClassifier) -> None:
    with pytest.raises(ValueError, match="not valid sky positions"):
        classifier.classify(np.array([10.0]), np.array([95.0]))
    with pytest.raises(ValueError, match="not valid sky positions"):
        classifier.classify(np.array([np.nan]), np.array([0.0]))
    with pytest.raises(ValueError, match="differ in length"):
        classifier.classify(np.array([1.0, 2.0]), np.array([0.0]))


def test_classify_positions_answers_scalars_and_arrays() -> None:
    one = classify_positions(187.2779155, 2.0523883)
    many = classify_positions(np.array([187.2779155, 150.0]), np.array([2.0523883, -60.0]))
    assert one["classification"].to_pylist() == ["AGN"]
    assert many["classification"].to_pylist() == ["AGN", "ORPHAN"]


def test_empty_batch(classifier: ContextClassifier) -> None:
    out = classifier.classify(np.array([]), np.array([]))
    assert out.num_rows == 0
