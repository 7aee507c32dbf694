"""Batches rebuilt from the archive (for backtests), on both backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lanner.store import open_store
from lanner.store.reading import light_curve
from lanner.store.rebuild import rebuild_batches
from tests.helpers import SERIES, enriched, packets_of


def test_rebuilt_batches_are_in_time_order_with_history_to_date(
    db_url: str, alerts_dir: Path
) -> None:
    packets = packets_of(sorted((alerts_dir / SERIES).glob("*.avro")))
    original = enriched(packets, "ztf")
    store = open_store(db_url, "ztf")
    store.write_batch(original)
    batches = list(rebuild_batches(store, batch_size=10))
    assert [len(b) for b in batches] == [10, 10, 10, 4]
    mjd = np.concatenate([b.alerts["mjd"].to_numpy() for b in batches])
    assert np.all(np.diff(mjd) >= 0)
    assert sorted(mjd) == sorted(original.alerts["mjd"].to_pylist())
    archived = light_curve(store, "ZTF21abiuvdk")["detections"]
    for batch in batches:
        det_rows = batch.detections["row"].to_numpy()
        det_mjd = batch.detections["mjd"].to_numpy()
        for row, alert_mjd in enumerate(batch.alerts["mjd"].to_pylist()):
            mine = det_mjd[det_rows == row]
            # Every archived detection up to the alert's time, and nothing later.
            assert len(mine) == sum(r["mjd"] <= alert_mjd + 1e-7 for r in archived)
            assert mine.max() <= alert_mjd + 1e-7
    # Only part of the window: the same alerts, no others.
    late = list(rebuild_batches(store, since_mjd=float(mjd[20]), batch_size=100))
    assert sum(len(b) for b in late) == int(np.sum(mjd >= mjd[20]))
    store.close()
