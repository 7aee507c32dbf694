"""The batch model's helpers: newest alert per object, light-curve offsets, flux/mag."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lanner.batch import AlertBatch, flux_from_mag, mag_from_flux, newest_rows, row_offsets


def _batch(object_ids: list[object]) -> AlertBatch:
    empty = pa.table({"row": pa.array([], pa.int32())})
    alerts = pa.table({"object_id": object_ids})
    return AlertBatch("ztf", alerts, empty, empty, empty, empty)


def test_newest_row_per_object_whatever_the_order() -> None:
    batch = _batch(["b", "a", "b", "c", "a", "b"])
    recency = np.array([3.0, 1.0, 5.0, 2.0, 4.0, 5.0])
    # a: rows 1 (1.0) and 4 (4.0) -> 4; b: rows 0, 2, 5 with 5.0 twice -> the earlier, 2.
    assert newest_rows(batch, recency).tolist() == [2, 3, 4]


def test_row_offsets_delimit_each_alerts_rows() -> None:
    table = pa.table({"row": pa.array([0, 0, 2, 2, 2], pa.int32())})
    assert row_offsets(table, 4).tolist() == [0, 2, 2, 5, 5]


def test_flux_and_magnitude_are_inverse_and_nan_safe() -> None:
    flux = np.array([3631e9, 1.0, -10.0, 0.0, np.nan])
    mag = mag_from_flux(flux)
    assert mag[0] == 31.4 - 2.5 * np.log10(3631e9)  # AB zero point: 3631 Jy is mag 0
    assert abs(mag[0]) < 1e-4 and mag[1] == 31.4  # 31.4 is the AB zero point of 1 nJy to 1e-4
    assert mag[2] == mag_from_flux(np.array([10.0]))[0]  # |flux|
    assert np.isnan(mag[3]) and np.isnan(mag[4])
    np.testing.assert_allclose(flux_from_mag(mag[:2]), flux[:2], rtol=1e-12)
    assert np.isnan(flux_from_mag(np.array([-1e6]))).all()  # overflow: NaN, no warning
