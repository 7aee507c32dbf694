"""Every Rubin alert of the shared data through every feature enricher, via the registry."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import AlertBatch
from lanner.enrich.features.light_curve import RUBIN_BANDS
from lanner.enrich.registry import default_enrichers
from lanner.schema.registry import enriched_tables


def test_registry_runs_on_every_real_rubin_alert(all_rubin_batch: AlertBatch) -> None:
    batch = all_rubin_batch
    for enricher in default_enrichers():
        if batch.survey in enricher.surveys:
            batch.add_columns(enricher.table, enricher(batch))
    objects = batch.enriched["objects"]
    assert objects.num_rows == len(batch) > 300

    # Per-band counts add up to the detections each alert carries.
    per_alert = np.bincount(batch.detections["row"].to_numpy(), minlength=len(batch))
    band_total = sum(objects[f"n{b}Sources"].to_numpy() for b in RUBIN_BANDS)
    known = pc.is_in(batch.detections["band"], value_set=pa.array(RUBIN_BANDS))
    unknown = np.bincount(
        batch.detections["row"].to_numpy()[~known.to_numpy(zero_copy_only=False)],
        minlength=len(batch),
    )
    np.testing.assert_array_equal(band_total + unknown, per_alert)

    ebv = objects["ebv"].to_numpy(zero_copy_only=False)
    assert np.isfinite(ebv).all() and (ebv > 0).all() and (ebv < 1).all()
    glat = objects["glat"].to_numpy(zero_copy_only=False)
    assert (np.abs(glat) <= 90).all()

    reasons = Counter(objects["BBBNoFitReason"].to_pylist())
    models = Counter(objects["BBBModel"].to_pylist())
    assert reasons[None] == len(batch) - models[None] and reasons[None] >= 1


def test_every_feature_column_is_in_the_stored_schema() -> None:
    names = {c.name for t in enriched_tables("lsst") for c in t.columns}
    for wanted in ("glat", "glon", "ebv", "jump1", "BBBTemp", "latestPairColourTemp", "absMag",
                   "nPosDiaSourcesNights", "medianR", "BBBNoFitReason"):  # fmt: skip
        assert wanted in names
    ztf = {c.name for t in enriched_tables("ztf") for c in t.columns}
    assert {"glatmean", "glonmean", "ebv"} <= ztf and "glat" not in ztf and "jump1" not in ztf
