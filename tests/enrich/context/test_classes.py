"""Classes of real positions: stars, galaxies, blazars, CVs and empty sky.

Expected values come from the shared source catalogues (read here directly, not through
Lanner's store) and from astropy's separations, not from the classifier's own output.
"""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from astropy.coordinates import SkyCoord

from lanner.enrich.context import ContextClassifier


def _csv(path: Path) -> dict[str, np.ndarray]:
    table = pacsv.read_csv(path)
    return {c: table[c].to_numpy(zero_copy_only=False) for c in table.column_names}


def _row(classifier: ContextClassifier, ra: float, dec: float) -> dict[str, object]:
    return classifier.classify(np.array([ra]), np.array([dec]), survey="ztf").to_pylist()[0]


def test_gaia_bright_star_is_vs_on_it_and_bs_in_its_halo(
    classifier: ContextClassifier, catalogs: Path
) -> None:
    gaia = pq.read_table(catalogs / "stars/gaia_dr3_g_lt_10.parquet")
    # A G ~ 7.5 Gaia star at high Galactic latitude, away from crowded fields.
    pick = pc.and_(
        pc.less(pc.abs(pc.subtract(gaia["g_mag"], 7.5)), 0.05), pc.greater(gaia["dec"], 60)
    )
    star = gaia.filter(pick).slice(0, 1).to_pylist()[0]
    on = _row(classifier, star["ra"], star["dec"])
    assert on["classification"] == "VS"
    assert on["catalogue_object_id"] == f"Gaia DR3 {star['source_id']}"
    # Sherlock's halo radius for this star: 10^(3.47712 - 0.2 G) arcsec (~94" at G = 7.5).
    halo = 10 ** (3.47712 - 0.2 * star["g_mag"])
    centre = SkyCoord(star["ra"] * u.deg, star["dec"] * u.deg)
    inside = centre.directional_offset_by(0 * u.deg, 0.5 * halo * u.arcsec)
    near = _row(classifier, inside.ra.deg, inside.dec.deg)
    assert near["classification"] == "BS"
    assert near["separationArcsec"] == pytest.approx(0.5 * halo, abs=0.01)
    assert near["northSeparationArcsec"] == pytest.approx(0.5 * halo, abs=0.01)
    assert near["eastSeparationArcsec"] == pytest.approx(0.0, abs=0.01)
    outside = centre.directional_offset_by(90 * u.deg, 1.1 * halo * u.arcsec)
    far = _row(classifier, outside.ra.deg, outside.dec.deg)
    assert far["catalogue_object_id"] != on["catalogue_object_id"]


def test_galaxy_cores_are_nt(classifier: ContextClassifier, catalogs: Path) -> None:
    ngc = _csv(catalogs / "galaxies/openngc.csv.gz")
    for name in ("NGC4472", "NGC3379", "NGC5457"):
        i = int(np.flatnonzero(ngc["name"] == name)[0])
        row = _row(classifier, float(ngc["ra"][i]), float(ngc["dec"][i]))
        assert row["classification"] == "NT", name
        assert row["separationArcsec"] < 1.5


def test_sn_2011fe_is_sn_of_m101_with_hand_computed_offsets(
    classifier: ContextClassifier, catalogs: Path
) -> None:
    # SN 2011fe (TNS position) in M101 = NGC 5457.
    sn = SkyCoord(210.774208 * u.deg, 54.273722 * u.deg)
    row = _row(classifier, sn.ra.deg, sn.dec.deg)
    assert row["classification"] == "SN"
    assert row["catalogue_object_id"] == "NGC5457"
    gal = SkyCoord(row["catalogue_ra"] * u.deg, row["catalogue_dec"] * u.deg)
    sep = gal.separation(sn).arcsec
    d_lon, d_lat = gal.spherical_offsets_to(sn)
    assert row["separationArcsec"] == pytest.approx(sep, abs=1e-3)
    assert row["northSeparationArcsec"] == pytest.approx(d_lat.arcsec, abs=0.01)
    assert row["eastSeparationArcsec"] == pytest.approx(d_lon.arcsec, abs=0.01)
    gwgc = _csv(catalogs / "galaxies/gwgc_good.csv.gz")
    dist = float(gwgc["Dist"][gwgc["NED_name"] == "NGC5457"][0])
    assert row["distance"] == pytest.approx(dist, rel=1e-6)
    # Physical separation: angle [rad] times the distance [kpc].
    assert row["physical_separation_kpc"] == pytest.approx(
        np.radians(sep / 3600) * dist * 1000, rel=1e-4
    )
    # Inside the disc (2.5 semi-major axes) but beyond 50 kpc is not associated.
    assert row["physical_separation_kpc"] < 50


def test_redshift_distance_is_luminosity_distance(classifier: ContextClassifier) -> None:
    # 3C 273 at z = 0.158 (4LAC): D_L for H0 = 70, Om = 0.3 from the integral, by hand.
    row = _row(classifier, 187.2779155, 2.0523883)
    z = row["z"]
    zs = np.linspace(0, z, 20001)
    e = np.sqrt(0.3 * (1 + zs) ** 3 + 0.7)
    d_c = 299792.458 / 70 * np.trapezoid(1 / e, zs)
    assert row["distance"] == pytest.approx((1 + z) * d_c, rel=1e-4)


@pytest.mark.parametrize(
    ("ra", "dec", "name"),
    [
        (187.2779155, 2.0523883, "3C 273"),
        (166.113792, 38.208608, "Mrk 421"),
        (187.70593, 12.391123, "M87"),
    ],
)
def test_blazars_are_agn(classifier: ContextClassifier, ra: float, dec: float, name: str) -> None:
    row = _row(classifier, ra, dec)
    assert row["classification"] == "AGN", name
    assert row["catalogue_object_type"] == "agn"


def test_gcvs_cvs_are_cv(classifier: ContextClassifier, catalogs: Path) -> None:
    gcvs = _csv(catalogs / "variables_cv/gcvs_positions_types.csv.gz")
    cv = np.flatnonzero(gcvs["is_cv"])
    pick = np.random.default_rng(7).choice(cv, 20, replace=False)
    out = classifier.classify(gcvs["ra"][pick], gcvs["dec"][pick], survey="ztf")
    assert out["classification"].to_pylist() == ["CV"] * 20


def test_empty_sky_is_orphan(classifier: ContextClassifier, catalogs: Path) -> None:
    rng = np.random.default_rng(3)
    ra, dec = rng.uniform(0, 360, 400), np.degrees(np.arcsin(rng.uniform(-1, 1, 400)))
    probe = SkyCoord(ra * u.deg, dec * u.deg)
    # Clear of every source by more than any radius that could apply to it: 5' from
    # Gaia stars (halos of G > 5.4), 1 deg from brighter ones, 1' from variable stars and
    # blazars, and 30' or 2.5 semi-major axes (if larger) from galaxies.
    gaia = pq.read_table(catalogs / "stars/gaia_dr3_g_lt_10.parquet")
    bright = gaia.filter(pc.less(gaia["g_mag"], 5.4))
    sources = [
        (gaia["ra"].to_numpy(), gaia["dec"].to_numpy(), 300.0),
        (bright["ra"].to_numpy(), bright["dec"].to_numpy(), 3600.0),
    ]
    for f, r, d, size in [
        ("galaxies/gwgc_good.csv.gz", "RAJ2000", "DEJ2000", "maj"),
        ("galaxies/openngc.csv.gz", "ra", "dec", "majax"),
        ("galaxies/sga2020_ngc_subset.csv.gz", "RAJ2000", "DEJ2000", None),
        ("galaxies/50mgc_short.csv.gz", "ra", "dec", None),
        ("agn_qso/roma_bzcat5_positions.csv.gz", "ra", "dec", None),
        ("agn_qso/3hsp_blazars.csv.gz", "ra", "dec", None),
        ("variables_cv/gcvs_positions_types.csv.gz", "ra", "dec", None),
    ]:
        t = _csv(catalogs / f)
        reach = 60.0 if "galaxies" not in f else 1800.0
        if size is not None:
            reach = np.fmax(reach, 2.5 * t[size].astype(float) * 60 / 2)
        sources.append((t[r].astype(float), t[d].astype(float), reach))
    far = np.ones(ra.size, dtype=bool)
    for sra, sdec, reach in sources:
        ok = np.isfinite(sra) & np.isfinite(sdec)
        reach = np.broadcast_to(reach, sra.shape)[ok]
        cat = SkyCoord(sra[ok] * u.deg, sdec[ok] * u.deg)
        j, i, sep, _ = probe.search_around_sky(cat, 4 * u.deg)
        near = sep.arcsec <= reach[j]
        far[i[near]] = False
    assert far.sum() >= 5
    out = classifier.classify(ra[far], dec[far], survey="ztf")
    assert set(out["classification"].to_pylist()) == {"ORPHAN"}, out.filter(
        pc.not_equal(out["classification"], "ORPHAN")
    ).to_pylist()


def test_galaxy_association_needs_both_extent_and_50_kpc(
    classifier: ContextClassifier, catalogs: Path
) -> None:
    # M101 in GWGC: D = 6.7 Mpc and a 28.8' major axis, so 50 kpc is ~1539" while 2.5
    # semi-major axes are 2160"; OpenNGC gives 23.99' (2.5 a = 1799"). A point 1400" north
    # of the centre is inside both limits, one 1900" north is outside the 50 kpc one (GWGC)
    # and the extent (OpenNGC).
    gwgc = _csv(catalogs / "galaxies/gwgc_good.csv.gz")
    i = int(np.flatnonzero(gwgc["NED_name"] == "NGC5457")[0])
    dist, maj = float(gwgc["Dist"][i]), float(gwgc["maj"][i])
    r50 = np.degrees(50.0 / (dist * 1000.0)) * 3600.0
    assert r50 < 1900.0 < 2.5 * maj * 60 / 2
    centre = SkyCoord(float(gwgc["RAJ2000"][i]) * u.deg, float(gwgc["DEJ2000"][i]) * u.deg)
    inner = centre.directional_offset_by(0 * u.deg, 1400 * u.arcsec)
    outer = centre.directional_offset_by(0 * u.deg, 1900 * u.arcsec)
    near = _row(classifier, inner.ra.deg, inner.dec.deg)
    assert (near["classification"], near["catalogue_object_id"]) == ("SN", "NGC5457")
    far = _row(classifier, outer.ra.deg, outer.dec.deg)
    assert far["catalogue_object_id"] != "NGC5457"


def test_batch_answers_equal_single_answers(classifier: ContextClassifier) -> None:
    ra = np.array([187.2779155, 210.774208, 150.0, 10.6847])
    dec = np.array([2.0523883, 54.273722, -60.0, 41.2690])
    batch = classifier.classify(ra, dec).to_pylist()
    singles = [_row(classifier, float(r), float(d)) for r, d in zip(ra, dec, strict=True)]
    assert batch == singles
