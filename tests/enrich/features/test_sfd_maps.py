"""The full SFD Lambert maps (on a small map of the same format), the bundled map against NED,
and the choice between them (setting, fallback, ``lanner data``)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from click.testing import CliRunner

from lanner.cli import build_cli
from lanner.enrich.features.milky_way import SfdMap, dust_map_status, load_dust_map
from lanner.enrich.features.sfd_lambert import SfdLambertMap
from lanner.settings import Settings

#: Pixels from pole to equator of the test map (the real maps: 2048 on 4096 x 4096).
SCALE = 16
SIZE = 2 * SCALE


def _plane(sign: int) -> tuple[float, float, float]:
    """Coefficients of the linear pixel values ``c0 + cx x + cy y`` of each hemisphere."""
    return (1.0, 0.01, 0.003) if sign == 1 else (5.0, -0.002, 0.02)


def _header(sign: int) -> fits.Header:
    """An SFD map header: the Lambert keywords and the equivalent ZEA WCS of the real files."""
    h = fits.Header()
    cd = np.degrees(np.sqrt(2.0)) / SCALE
    h["OBJECT"] = "E(B-V)"
    h["BUNIT"] = "mag"
    h["CTYPE1"], h["CTYPE2"] = "GLON-ZEA", "GLAT-ZEA"
    h["CRPIX1"] = h["CRPIX2"] = SCALE + 0.5
    h["CRVAL1"], h["CRVAL2"] = 90.0 * sign, 90.0 * sign
    h["CD1_1"], h["CD1_2"], h["CD2_1"], h["CD2_2"] = -cd, 0.0, 0.0, cd
    h["LONPOLE"] = 180.0 if sign == 1 else 0.0
    h["LAM_NSGP"] = sign
    h["LAM_SCAL"] = SCALE
    return h


@pytest.fixture(scope="module")
def sfd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both hemispheres, values linear in the pixel coordinates, in a dustmaps-style sfd/."""
    root = tmp_path_factory.mktemp("dust")
    (root / "sfd").mkdir()
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    for sign, pole in ((1, "ngp"), (-1, "sgp")):
        c0, cx, cy = _plane(sign)
        data = (c0 + cx * x + cy * y).astype(np.float32)
        fits.PrimaryHDU(data, _header(sign)).writeto(root / "sfd" / f"SFD_dust_4096_{pole}.fits")
    return root


def _expected(glon: np.ndarray, glat: np.ndarray) -> np.ndarray:
    """The linear values at the WCS pixel positions (astropy, as dustmaps projects)."""
    out = np.empty(glon.shape)
    for sign in (1, -1):
        sel = glat >= 0 if sign == 1 else glat < 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # astropy notes the header's missing NAXISn
            x, y = WCS(_header(sign)).wcs_world2pix(glon[sel], glat[sel], 0)
        c0, cx, cy = _plane(sign)
        out[sel] = c0 + cx * x + cy * y
    return out


def test_lambert_reader_projects_as_the_wcs_and_interpolates_bilinearly(sfd_dir: Path) -> None:
    sfd = SfdLambertMap(sfd_dir)
    rng = np.random.default_rng(11)
    glon = rng.uniform(0, 360, 500)
    # Away from the equator, where the linear plane is sampled inside the image.
    glat = np.where(rng.uniform(size=500) < 0.5, 1, -1) * rng.uniform(5, 90, 500)
    np.testing.assert_allclose(sfd.ebv(glon, glat), _expected(glon, glat), rtol=2e-6)


def test_lambert_reader_at_poles_pixel_centres_edges_and_bad_input(sfd_dir: Path) -> None:
    sfd = SfdLambertMap(sfd_dir)
    c0, cx, cy = _plane(1)
    centre = SCALE - 0.5  # 0-based pixel of the pole (CRPIX - 1)
    pole = sfd.ebv(np.array([0.0]), np.array([90.0]))[0]
    assert pole == pytest.approx(c0 + (cx + cy) * centre, rel=1e-6)
    c0s, cxs, cys = _plane(-1)
    assert sfd.ebv(np.array([0.0]), np.array([-90.0]))[0] == pytest.approx(
        c0s + (cxs + cys) * centre, rel=1e-6
    )
    # On the equator of l = 0 the north map's x runs off the image: clamped to the last column.
    edge = sfd.ebv(np.array([0.0]), np.array([0.0]))[0]
    assert edge == pytest.approx(c0 + cx * (SIZE - 1) + cy * centre, rel=1e-6)
    assert np.isnan(sfd.ebv(np.array([np.nan, 10.0]), np.array([10.0, 91.0]))).all()


def test_lambert_reader_rejects_missing_or_wrong_files(tmp_path: Path, sfd_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"SFD_dust_4096_ngp\.fits"):
        SfdLambertMap(tmp_path)
    swapped = tmp_path / "swapped"
    swapped.mkdir()
    for pole, other in (("ngp", "sgp"), ("sgp", "ngp")):
        data = fits.getdata(sfd_dir / "sfd" / f"SFD_dust_4096_{other}.fits")
        header = fits.getheader(sfd_dir / "sfd" / f"SFD_dust_4096_{other}.fits")
        fits.PrimaryHDU(data, header).writeto(swapped / f"SFD_dust_4096_{pole}.fits")
    with pytest.raises(ValueError, match="LAM_NSGP is -1, expected 1"):
        SfdLambertMap(swapped)


#: NED's Schlafly & Finkbeiner (2011) A_V at nine positions (gregreen/dustmaps
#: dustmaps/tests/ned_output.json): Galactic (l, b) [deg] and A_V [mag]. SFD's E(B-V) is
#: A_V / 2.742, as in dustmaps' own test.
NED = [
    ((127.61792509, -62.79381769), 0.078),
    ((173.50436382, -7.59575416), 1.327),
    ((284.88378965, 46.06141592), 0.161),
    ((327.87931013, 6.01653677), 1.247),
    ((121.02405449, 23.19009091), 0.826),
    ((0.0, 0.0), 273.371),
    ((75.0, -89.0), 0.040),
    ((130.0, 10.0), 2.679),
    ((305.0, 37.0), 0.221),
]


def test_bundled_map_against_ned() -> None:
    """Tolerance of the bundled ~1 deg map: 10% at |b| >= 20 deg, 20% at 5-20 deg; at the
    Galactic centre its smoothing halves the peak (0.48 of SFD)."""
    glon = np.array([p[0][0] for p in NED])
    glat = np.array([p[0][1] for p in NED])
    sfd = np.array([p[1] for p in NED]) / 2.742
    got = SfdMap().ebv(glon, glat)
    ratio = got / sfd
    high, low, centre = np.abs(glat) >= 20, (np.abs(glat) >= 5) & (np.abs(glat) < 20), glat == 0
    assert high.sum() == 5 and low.sum() == 3 and centre.sum() == 1
    np.testing.assert_allclose(ratio[high], 1.0, atol=0.10)
    np.testing.assert_allclose(ratio[low], 1.0, atol=0.20)
    assert 0.4 < ratio[centre][0] < 0.6


def test_setting_chooses_the_full_maps_and_falls_back_when_absent(
    sfd_dir: Path, tmp_path: Path
) -> None:
    full = load_dust_map(Settings(sfd_dir=sfd_dir))
    assert isinstance(full, SfdLambertMap)
    assert dust_map_status(Settings(sfd_dir=sfd_dir))[0] == "full"
    kind, why = dust_map_status(Settings(sfd_dir=tmp_path))
    assert kind == "bundled" and why is not None and str(tmp_path) in why
    assert isinstance(load_dust_map(Settings(sfd_dir=tmp_path)), SfdMap)
    assert dust_map_status(Settings(sfd_dir=None)) == ("bundled", "LANNER_SFD_DIR is not set")


def test_lanner_data_names_the_map_in_use(sfd_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(build_cli(), ["data", "--json"], env={"LANNER_SFD_DIR": str(sfd_dir)})
    assert out.exit_code == 0, out.output
    info = json.loads(out.output)["milky_way_dust_map"]
    assert info["map"] == "full" and "SFD_dust_4096_sgp.fits" in info["files"]
    out = runner.invoke(build_cli(), ["data"], env={"LANNER_SFD_DIR": str(tmp_path)})
    assert out.exit_code == 0, out.output
    assert "bundled" in out.output and "LANNER_SFD_DIR" in out.output
    assert "dustmaps.sfd.fetch()" in out.output
