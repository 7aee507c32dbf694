"""Geometry and ranking rules on a small hand-made library (values checked by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from lanner.enrich.context import ContextClassifier
from lanner.enrich.context.catalogue_import import ColumnMap, ImportOptions, import_catalogue

GALAXIES = """name,ra,dec,diam_arcmin,dist_mpc
G0,359.99995,0.0,,
GPOLE,45.0,89.9999,,
GBIG,150.0,20.0,2.0,40.0
"""
STARS = """name,ra,dec,gmag
S1,150.0,20.01,7.0
"""
AGN = """name,ra,dec
A1,150.0,20.0
"""


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> ContextClassifier:
    root = tmp_path_factory.mktemp("toy")
    lib = root / "lib"
    for name, text in (("gal", GALAXIES), ("stars", STARS), ("agn", AGN)):
        (root / f"{name}.csv").write_text(text)
    galaxy_map = ColumnMap(
        ra="ra", dec="dec", object_id="name", distance="dist_mpc",
        semi_major="diam_arcmin", axis_unit="arcmin", axis_is_diameter=True,
    )  # fmt: skip
    import_catalogue("gal", root / "gal.csv", lib, galaxy_map, ImportOptions("galaxy", priority=1))
    star_map = ColumnMap(ra="ra", dec="dec", object_id="name", mag="gmag")
    import_catalogue("stars", root / "stars.csv", lib, star_map, ImportOptions("bright_star"))
    agn_map = ColumnMap(ra="ra", dec="dec", object_id="name")
    import_catalogue("agn", root / "agn.csv", lib, agn_map, ImportOptions("agn", priority=4))
    return ContextClassifier([lib])


def _row(c: ContextClassifier, ra: float, dec: float, survey: str = "ztf") -> dict[str, object]:
    return c.classify(np.array([ra]), np.array([dec]), survey=survey).to_pylist()[0]


def test_match_across_ra_zero(toy: ContextClassifier) -> None:
    # 0.00005 deg on each side of RA = 0 at the equator: 0.36" apart, the position east.
    row = _row(toy, 0.00005, 0.0)
    assert (row["classification"], row["catalogue_object_id"]) == ("NT", "G0")
    assert row["separationArcsec"] == pytest.approx(0.36, abs=1e-6)
    assert row["eastSeparationArcsec"] == pytest.approx(0.36, abs=1e-6)
    assert row["northSeparationArcsec"] == pytest.approx(0.0, abs=1e-6)


def test_match_near_the_pole(toy: ContextClassifier) -> None:
    # At dec 89.9999 a 180 deg step in RA crosses the pole: 2 x 0.0001 deg = 0.72".
    row = _row(toy, 225.0, 89.9999)
    assert row["catalogue_object_id"] == "GPOLE"
    assert row["separationArcsec"] == pytest.approx(0.72, abs=1e-4)


def test_synonym_radius_depends_on_survey(toy: ContextClassifier) -> None:
    # 1.2" from G0's centre: a synonym for ZTF (1.5"), an association for Rubin (1.0").
    ra = (359.99995 + 1.2 / 3600) % 360
    assert _row(toy, ra, 0.0, "ztf")["classification"] == "NT"
    lsst = _row(toy, ra, 0.0, "lsst")
    assert (lsst["classification"], lsst["classificationReliability"]) == ("SN", 3)


def test_merged_source_takes_the_trusted_class(toy: ContextClassifier) -> None:
    # A1 (AGN, priority 4) and GBIG (galaxy, priority 1) are one source: AGN, both named.
    row = _row(toy, 150.0, 20.0)
    assert row["classification"] == "AGN"
    assert row["catalogue_table_name"] == "AGN/GAL"
    assert row["distance"] == pytest.approx(40.0)


def test_galaxy_association_outranks_bright_star_halo(toy: ContextClassifier) -> None:
    # 30" south of GBIG (inside 2.5 a = 150", 5.8 kpc at 40 Mpc) and 66" south of S1
    # (G = 7: halo 10^(3.47712 - 1.4) = 119.4"): SN ranks first (score ~1957 < 2066).
    row = _row(toy, 150.0, 20.0 - 30 / 3600)
    assert (row["classification"], row["catalogue_object_id"]) == ("SN", "GBIG")
    assert row["physical_separation_kpc"] == pytest.approx(np.radians(30 / 3600) * 40_000, rel=1e-6)
    # 115" north of S1 is inside its halo and 151" from GBIG, beyond 2.5 a = 150": BS.
    halo = _row(toy, 150.0, 20.01 + 115 / 3600)
    assert (halo["classification"], halo["catalogue_object_id"]) == ("BS", "S1")
