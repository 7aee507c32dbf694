"""Sherlock 3.1.0's rules for large galaxies and distances, on the packaged catalogues and on
the rule functions (values checked by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from lanner.enrich.context import ContextClassifier
from lanner.enrich.context.association_rules import (
    DIRECT_DISTANCE_MAX_ARCSEC,
    galaxy_merge_radius_arcsec,
    galaxy_radius_arcsec,
    stretch_factor,
)

#: GWGC's NGC 6144 (a Milky Way globular cluster GWGC lists as a galaxy): centre [deg],
#: semi-major axis 997.5 arcsec, distance 0.01 Mpc.
NGC6144 = (246.8085, -26.0247)


def _row(c: ContextClassifier, ra: float, dec: float) -> dict[str, object]:
    return c.classify(np.array([ra]), np.array([dec]), survey="ztf").to_pylist()[0]


def test_stretch_shrinks_for_galaxies_larger_than_10_and_100_arcmin() -> None:
    # Major axis 2a: 599 (no scaling), 600 and 5999 (x0.7), 6000 arcsec (x0.5).
    a = np.array([299.5, 300.0, 2999.5, 3000.0, np.nan])
    np.testing.assert_allclose(stretch_factor(a)[:4], [2.5, 1.75, 1.75, 1.25])
    radius, backed = galaxy_radius_arcsec(a[:4], np.full(4, np.nan))
    # Without a distance the galaxy's radius is min(10, s a): 10 arcsec for all of these.
    np.testing.assert_allclose(radius, 10.0)
    # With a very near distance (r50 huge) the extent decides: s * a.
    radius, _ = galaxy_radius_arcsec(a[:4], np.full(4, 1e-5))
    np.testing.assert_allclose(radius, [748.75, 525.0, 5249.125, 3750.0])
    assert backed.all()


def test_distance_only_association_stays_within_sherlocks_300_arcsec() -> None:
    # No size, any distance: never beyond 30 arcsec, so never beyond Sherlock's 300.
    scale = np.geomspace(1e-6, 10.0, 50)
    radius, _ = galaxy_radius_arcsec(np.full(50, np.nan), scale)
    assert radius.max() <= 30.0 < DIRECT_DISTANCE_MAX_ARCSEC


def test_transient_2361_arcsec_from_ngc6144_is_orphan(classifier: ContextClassifier) -> None:
    # 2.5 x 997.5 = 2494 arcsec would reach it; the x0.7 stretch (2a = 33 arcmin) gives 1746.
    ra, dec = NGC6144
    far = _row(classifier, ra, dec + 2361.0 / 3600.0)
    assert far["classification"] == "ORPHAN"
    near = _row(classifier, ra, dec + 1700.0 / 3600.0)
    assert near["classification"] == "SN" and near["catalogue_object_id"] == "NGC6144"


def test_m100_distance_is_direct_from_a_merged_entry(classifier: ContextClassifier) -> None:
    # ZTF20aaelulu in M100: SGA (redshift, 22.6 Mpc) wins the match; 50MGC (17.2 Mpc, 1.8
    # arcsec from SGA's centre) and GWGC (15.2 Mpc, 3.5 arcsec) are the same galaxy.
    row = _row(classifier, 185.728833, 15.823611)
    assert row["classification"] == "SN"
    assert row["catalogue_table_name"] == "50MGC/GWGC/OPENNGC/SGA"
    assert row["direct_distance"] == pytest.approx(17.2)
    assert row["distance"] == pytest.approx(17.2)
    assert row["distance_source"] == "direct:50MGC"
    # Physical separation from the direct distance: 3.308 arcsec x 17.2 Mpc / 206265.
    assert row["physical_separation_kpc"] == pytest.approx(3.308 * 17200 / 206264.8, rel=1e-3)


def test_merge_radius_follows_the_galaxy_size() -> None:
    r = galaxy_merge_radius_arcsec(np.array([np.nan, 2.0, 258.9, 5670.0]))
    np.testing.assert_allclose(r, [1.0, 1.0, 25.89, 60.0])
