"""The HEALPix cone index and the watchlist file formats."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from lanner.sky_areas.cone_files import MAX_CONES, ConeFileError, read_cones
from lanner.sky_areas.cones import ConeIndex, depth_for_radius
from lanner.store.reading import angular_separation_deg


def _sky(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    dec[: n // 5] = rng.uniform(85, 90, n // 5)  # the polar caps, where pixels are odd
    dec[n // 5 : 2 * n // 5] = rng.uniform(-44, -39, n // 5)  # a cap/equator boundary
    return ra, dec


def test_index_finds_exactly_the_brute_force_pairs() -> None:
    rng = np.random.default_rng(3)
    ra, dec = _sky(rng, 3000)
    radius = rng.choice([1.0, 5.0, 60.0, 600.0, 1800.0], len(ra))
    index = ConeIndex(ra, dec, radius)
    assert {t.depth for t in index.tiers} == {5, 6, 10, 11}  # 1 and 5 arcsec share depth 11
    # Positions near the cone edges (inside and out) and at random.
    k = rng.integers(0, len(ra), 4000)
    frac = rng.uniform(0.9, 1.1, 4000)
    pa = rng.uniform(0, 2 * np.pi, 4000)
    step = np.radians(radius[k] * frac / 3600)
    p_dec = np.degrees(
        np.arcsin(
            np.clip(
                np.sin(np.radians(dec[k])) * np.cos(step)
                + np.cos(np.radians(dec[k])) * np.sin(step) * np.cos(pa),
                -1,
                1,
            )
        )
    )
    p_ra = (
        ra[k]
        + np.degrees(
            np.arctan2(
                np.sin(pa) * np.sin(step) * np.cos(np.radians(dec[k])),
                np.cos(step) - np.sin(np.radians(dec[k])) * np.sin(np.radians(p_dec)),
            )
        )
    ) % 360
    m = index.match(p_ra, p_dec)
    sep = angular_separation_deg(p_ra[:, None], p_dec[:, None], ra[None, :], dec[None, :]) * 3600
    expected = set(zip(*np.nonzero(sep <= radius[None, :]), strict=True))
    assert {(int(p), int(c)) for p, c in zip(m.position, m.cone, strict=True)} == expected
    assert len(expected) > 3000  # most near-edge positions are inside
    np.testing.assert_allclose(m.arcsec, sep[m.position, m.cone])


def test_depth_shrinks_with_radius() -> None:
    depths = depth_for_radius(np.array([30.0, 300.0, 1800.0]))
    assert depths[0] > depths[1] > depths[2] >= 0


def test_csv_lines_comma_pipe_header_and_sexagesimal() -> None:
    text = (
        "# my targets\n"
        "ra, dec, name, radius\n"
        "10.5, -20.25, first, 3\n"
        "\n"
        "200.0|45.0|second\n"
        "12:00:00 | +30:00:00 | third | 1800\n"
    )
    cones = read_cones(text.encode(), "t.csv")
    np.testing.assert_allclose(cones.ra, [10.5, 200.0, 180.0])
    np.testing.assert_allclose(cones.dec, [-20.25, 45.0, 30.0])
    assert cones.name == ["first", "second", "third"]
    assert cones.radius[0] == 3 and np.isnan(cones.radius[1]) and cones.radius[2] == 1800


def test_bad_lines_are_all_reported_with_their_numbers() -> None:
    text = "1, 2, a\nabc, 2, b\n1, 95, c\n1, 2, d, 2000\n1, 2, e, x\n1, 2, f\n"
    with pytest.raises(ConeFileError) as err:
        read_cones(text.encode())
    lines = [p.split(":")[0] for p in err.value.problems]
    assert lines == ["line 2", "line 3", "line 4", "line 5"]
    assert "Dec 95.0 is not in [-90, 90]" in str(err.value)
    assert "radius 2000.0 arcsec is not in (0, 1800]" in str(err.value)


def test_messier_watchlist_radii_over_the_cap_are_refused(catalogs: Path) -> None:
    data = (catalogs / "watchlists" / "messier_objects_watchlist.csv").read_bytes()
    lines = data.decode().splitlines()
    too_big = [
        i + 1 for i, line in enumerate(lines[1:], start=1) if float(line.split(",")[3]) > 1800
    ]
    with pytest.raises(ConeFileError) as err:
        read_cones(data, "messier.csv")
    assert [int(p.split(":")[0].split()[1]) for p in err.value.problems] == too_big
    assert len(too_big) > 0


def test_votable_and_fits_tables_read_like_csv(messier_cones: bytes) -> None:
    cones = read_cones(messier_cones, "m.csv")
    table = Table(
        {
            "RAJ2000": cones.ra,
            "DEJ2000": cones.dec,
            "Name": cones.name,
            "radius_arcsec": cones.radius,
        }
    )
    for fmt, name in (("votable", "m.xml"), ("fits", "m.fits")):
        out = io.BytesIO()
        table.write(out, format=fmt)
        again = read_cones(out.getvalue(), name)
        np.testing.assert_allclose(again.ra, cones.ra)
        np.testing.assert_allclose(again.radius, cones.radius)
        assert again.name == cones.name


def test_more_than_a_million_cones_is_refused() -> None:
    text = "\n".join(["1, 1, x"] * (MAX_CONES + 1))
    with pytest.raises(ConeFileError, match="at most 1,000,000"):
        read_cones(text.encode())
