"""Sky coordinates of one position as Lasair's ``object/`` adds them: sexagesimal text and
ecliptic and Galactic angles, without astropy work per request.

Input: ICRS right ascension and declination (deg). Output: ``rasex``, ``decsex``,
``ec_lon``, ``ec_lat`` (barycentric true ecliptic, equinox J2000), ``g_lon``, ``g_lat``
(Galactic), deg. Side effects: none; the two rotation matrices are computed by astropy
once per process, on first use (:func:`rotations`).

A direction without distance changes frame by a fixed rotation for these frames (no
aberration or parallax applies), so one 3×3 product per position gives astropy's answer
to within 1e-9° (a test compares them on many positions); building a ``SkyCoord`` and
transforming it cost about 30 ms per object.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]


@functools.cache
def rotations() -> tuple[Matrix, Matrix]:
    """ICRS → barycentric true ecliptic (J2000) and ICRS → Galactic, as 3×3 matrices
    (computed by astropy from the unit vectors of the axes)."""
    from astropy import units as u
    from astropy.coordinates import BarycentricTrueEcliptic, CartesianRepresentation, SkyCoord

    axes = CartesianRepresentation(np.eye(3) * u.one)
    icrs = SkyCoord(axes, frame="icrs", representation_type="cartesian")
    out = []
    for frame in (BarycentricTrueEcliptic(), "galactic"):
        xyz = icrs.transform_to(frame).cartesian.xyz.value  # column j: image of axis j
        out.append(np.array(xyz, dtype=np.float64))
    return out[0], out[1]


def _angles(matrix: Matrix, vector: Matrix) -> tuple[float, float]:
    x, y, z = matrix @ vector
    lon = math.degrees(math.atan2(y, x)) % 360.0
    lat = math.degrees(math.atan2(z, math.hypot(x, y)))
    return lon, lat


def sexagesimal(value: float, unit_per_circle: float, decimals: int, sign: bool) -> str:
    """``value`` (deg) as ``[±]DD:MM:SS.s…`` in hours (``unit_per_circle`` 24) or degrees
    (360), rounded to ``decimals`` digits of seconds with the carry, as astropy's
    ``to_string(sep=":", pad=True)``."""
    scale = 10**decimals
    ticks = round(abs(value) * unit_per_circle / 360.0 * 3600.0 * scale)
    whole, frac = divmod(ticks, scale)
    minutes, seconds = divmod(whole, 60)
    units, minutes = divmod(minutes, 60)
    text = f"{units:02d}:{minutes:02d}:{seconds:02d}.{frac:0{decimals}d}"
    if sign:
        return ("-" if value < 0 else "+") + text
    return text


def sky_coordinates(ra: float, dec: float) -> dict[str, Any]:
    """Sexagesimal position and ecliptic and Galactic coordinates (deg) of an ICRS
    position (deg)."""
    ecliptic, galactic = rotations()
    a, d = math.radians(ra), math.radians(dec)
    vector = np.array([math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d)])
    ec_lon, ec_lat = _angles(ecliptic, vector)
    g_lon, g_lat = _angles(galactic, vector)
    return {
        "rasex": sexagesimal(ra % 360.0, 24.0, 3, sign=False),
        "decsex": sexagesimal(dec, 360.0, 2, sign=True),
        "ec_lon": ec_lon,
        "ec_lat": ec_lat,
        "g_lon": g_lon,
        "g_lat": g_lat,
    }
