"""Lasair-LSST's own test vector, column by column, through Lanner's whole ingest and enrich.

``vectors/313637921267122191.json`` is Lasair-LSST's sample alert
``tests/unit/pipeline/filter/sample_alerts/313637921267122191.json`` (lsst-uk/lasair-lsst,
commit 2b42512a13622d630b2bdb6870b5727555bb27b3) in the Rubin lsst.v10_0 layout Lanner ingests:
the same diaObject (all its fields, ``decl`` under its schema name ``dec``) and the same eight
diaSources (the newest as ``diaSource``, the others as ``prvDiaSources``), each with the
fields Lanner reads (id, time, band, PSF flux and error, reliability, position), and the
schema version noted as brokers' JSON dumps note it (``lsst_schema_version``).
``vectors/313637921267122191_object.json`` is Lasair's expected ``objects`` row for it.

Every Lasair column must agree, except those of :data:`DIFFERENCES`, each checked for what
Lanner gives instead (the same differences are in ``docs/lasair-parity.md``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from lanner.batch import AlertBatch
from lanner.enrich.features.pair_colours import PairColours
from tests.helpers import enriched, packets_of

HERE = Path(__file__).parent / "vectors"
ALERT = HERE / "313637921267122191.json"

#: Lasair columns where Lanner's value differs, and why (each is checked below).
DIFFERENCES = {
    "g_psfFlux": "the vector predates Lasair's time-sorted latestFlux: it holds the oldest g",
    "g_latestMJD": "as g_psfFlux",
    "i_psfFlux": "as g_psfFlux (oldest i)",
    "i_latestMJD": "as g_psfFlux",
    "ebv": "Lanner's bundled SFD map is smoothed to ~1 deg; Lasair reads the full SFD maps",
    "latestPairColourMag": "extinction-corrected with Lanner's E(B-V)",
    "latestPairColourTemp": "extinction-corrected with Lanner's E(B-V)",
    "BBBRiseRate": "Lanner fits every qualifying light curve; Lasair kept no fit here",
    "BBBFallRate": "as BBBRiseRate",
    "BBBTemp": "as BBBRiseRate",
    "BBBPeakFlux": "as BBBRiseRate",
    "BBBPeakMJD": "as BBBRiseRate",
}


@pytest.fixture(scope="module")
def batch() -> AlertBatch:
    return enriched(packets_of([ALERT]), "lsst")


@pytest.fixture(scope="module")
def lasair() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / "313637921267122191_object.json").read_text())
    return data["objects"]


def _agree(got: Any, want: Any) -> bool:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    if isinstance(want, str) or got is None:
        return bool(got == want)
    return math.isclose(got, want, rel_tol=1e-6 if abs(want) < 1e4 else 1e-12, abs_tol=1e-15)


def test_every_lasair_column_agrees_or_is_a_listed_difference(
    batch: AlertBatch, lasair: dict[str, Any]
) -> None:
    row = batch.enriched["objects"].to_pylist()[0]
    assert len(lasair) == 125
    disagree = {k for k, want in lasair.items() if not _agree(row[k], want)}
    # The Bazin fit's columns may agree or not (whether Lanner keeps a fit); all others must.
    bbb = {k for k in DIFFERENCES if k.startswith("BBB")}
    assert disagree <= set(DIFFERENCES)
    assert disagree - bbb == set(DIFFERENCES) - bbb


def test_the_differences_are_what_they_say(batch: AlertBatch, lasair: dict[str, Any]) -> None:
    row = batch.enriched["objects"].to_pylist()[0]
    # Newest i and g diaSources of the packet (Lasair's current latestFlux sorts by time).
    assert (row["i_latestMJD"], row["i_psfFlux"]) == (60983.20685446523, 24162.1953125)
    assert (row["g_latestMJD"], row["g_psfFlux"]) == (60983.202726822914, 10804.8056640625)
    # Bundled map within 5% of Lasair's SFD value here; colour and temperature follow.
    assert row["ebv"] == pytest.approx(lasair["ebv"], rel=0.05)
    assert row["latestPairColourMag"] == pytest.approx(lasair["latestPairColourMag"], abs=1e-3)
    assert row["latestPairColourTemp"] == pytest.approx(lasair["latestPairColourTemp"], rel=1e-3)


def test_pair_colour_with_lasairs_reddening_is_lasairs(
    batch: AlertBatch, lasair: dict[str, Any]
) -> None:
    # With Lasair's own E(B-V) the pair columns agree to Lasair's Newton tolerance.
    objects = batch.enriched["objects"]
    at_lasair_ebv = objects.set_column(
        objects.column_names.index("ebv"), "ebv", pa.array(np.array([lasair["ebv"]], np.float32))
    )
    batch.enriched["objects"] = at_lasair_ebv
    try:
        row = PairColours()(batch).to_pylist()[0]
    finally:
        batch.enriched["objects"] = objects
    assert row["latestPairColourBands"] == "g-i"
    assert row["latestPairColourMag"] == pytest.approx(0.7555619524093306, abs=1e-6)
    assert row["latestPairColourTemp"] == pytest.approx(5.033269464266835, abs=2e-3)
    assert row["penultimatePairMJD"] is None
