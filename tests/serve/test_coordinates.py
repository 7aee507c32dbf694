"""The per-request sky coordinates of ``object/`` (fixed rotations, hand-made sexagesimal
text) against astropy's ``SkyCoord`` on many positions, the poles and the rounding edges."""

from __future__ import annotations

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from lanner.serve.coordinates import sky_coordinates


def test_sky_coordinates_match_astropy() -> None:
    rng = np.random.default_rng(7)
    ra = np.r_[rng.uniform(0, 360, 500), 0.0, 359.9999999, 359.99999999, 10.5, 180.0, 42.0]
    dec = np.r_[
        np.degrees(np.arcsin(rng.uniform(-1, 1, 500))), 0, -89.9999999, -1e-7, -0.5, 90, 89.999999
    ]
    c = SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")
    ecl, gal = c.barycentrictrueecliptic, c.galactic
    rasex = c.ra.to_string(unit=u.hour, sep=":", precision=3, pad=True)
    decsex = c.dec.to_string(unit=u.deg, sep=":", precision=2, alwayssign=True, pad=True)
    for i in range(len(ra)):
        got = sky_coordinates(float(ra[i]), float(dec[i]))
        assert (got["rasex"], got["decsex"]) == (rasex[i], decsex[i]), (ra[i], dec[i])
        cos = max(np.cos(np.radians(dec[i])), 1e-9)
        for key, want in (("ec_lon", ecl.lon.deg[i]), ("g_lon", gal.l.deg[i])):
            assert ((got[key] - want + 180) % 360 - 180) * cos == pytest.approx(0, abs=1e-9)
        assert got["ec_lat"] == pytest.approx(ecl.lat.deg[i], abs=1e-9)
        assert got["g_lat"] == pytest.approx(gal.b.deg[i], abs=1e-9)
