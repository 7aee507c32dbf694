"""The rules that turn a catalogue match into a Sherlock class, and rank the matches.

Input: per-match arrays (separation, the catalogue's role, the source's size, magnitude and
distance). Output: per-match class, reliability, association radius and rank score.
No side effects.

Roles (what a catalogue holds) and what a match with it means:

=============  ===========================  =========================================
role           synonym (within r_syn)       association (within the role's radius)
=============  ===========================  =========================================
bright_star    VS                           BS, r = 10^(3.47712 - 0.2 m) arcsec
star           VS                           VS, 3 arcsec
cv             CV                           CV, 2.5 arcsec
agn            AGN                          SN, 3 arcsec
galaxy         NT (the galaxy's core)       SN, see :func:`galaxy_radius_arcsec`
=============  ===========================  =========================================

These follow the defaults of Sherlock (qub-sherlock 3.1.0 ``advanced_settings.yaml`` and its
``_bright_star_match``); the synonym radius ``r_syn`` is per survey (1.5 arcsec for ZTF, as
in Lasair). Reliability is Sherlock's ``classificationReliability``: 1 synonym, 2 association
backed by a distance or a size, 3 angular-only association.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

ROLES = ("bright_star", "star", "cv", "agn", "galaxy")
CLASSES = ("VS", "CV", "BS", "AGN", "NT", "SN", "ORPHAN")

SYNONYM_CLASS = {"bright_star": "VS", "star": "VS", "cv": "CV", "agn": "AGN", "galaxy": "NT"}
ASSOCIATION_CLASS = {"bright_star": "BS", "star": "VS", "cv": "CV", "agn": "SN", "galaxy": "SN"}
#: Fixed association radius [arcsec] of the roles that have one.
ASSOCIATION_RADIUS_ARCSEC = {"star": 3.0, "cv": 2.5, "agn": 3.0}

#: Synonym radius [arcsec] per survey; position queries without a survey use ZTF's.
SYNONYM_RADIUS_ARCSEC = {"ztf": 1.5, "lsst": 1.0}

#: Physical association radius around a galaxy with a known distance [kpc].
GALAXY_PHYSICAL_RADIUS_KPC = 50.0
#: Angular cap of the physical search when the galaxy has no usable size [arcsec].
GALAXY_PHYSICAL_CAP_ARCSEC = 30.0
#: Angular association radius of galaxies without a distance [arcsec].
GALAXY_ANGULAR_RADIUS_ARCSEC = 10.0
#: A transient "within the galaxy" lies within this many semi-major axes (Sherlock's
#: ``galaxy radius stretch factor``).
GALAXY_STRETCH = 2.5
#: Sherlock 3.1.0 shrinks the stretch for galaxies that extend far on the sky (so that a
#: background transient is not given to a nearby giant): (major axis [arcsec], factor),
#: largest first; the major axis is twice the semi-major axis.
GALAXY_STRETCH_SCALING = ((6000.0, 0.5), (600.0, 0.7))
#: Sherlock skips direct-distance associations farther than this [arcsec]. Lanner's
#: distance-only association (a galaxy without a size) stops at
#: ``GALAXY_PHYSICAL_CAP_ARCSEC``, inside this limit, so the rule holds by construction.
DIRECT_DISTANCE_MAX_ARCSEC = 300.0
#: Widest galaxy association radius [arcsec] (Sherlock's cap for its "super big" galaxies).
GALAXY_MAX_RADIUS_ARCSEC = 14000.0
#: Widest bright-star halo considered [arcsec] (Sirius-like stars would otherwise reach 1.5 deg).
BRIGHT_STAR_MAX_RADIUS_ARCSEC = 1800.0
#: Matches of one source in several catalogues are merged when within this [arcsec].
MERGE_RADIUS_ARCSEC = 1.0
#: Entries of one galaxy in several catalogues are merged when their centres lie within this
#: fraction of the winning entry's semi-major axis (catalogues centre a large galaxy
#: differently by a few arcsec: M100 in SGA, 50MGC and GWGC lie within 3.5 arcsec)...
GALAXY_MERGE_FRACTION = 0.1
#: ... but never farther apart than this [arcsec] (so satellites stay separate).
GALAXY_MERGE_MAX_ARCSEC = 60.0

#: Type order used to break ties between merged catalogue entries (first wins).
TYPE_ORDER = ("AGN", "CV", "NT", "SN", "VS", "BS")


@lru_cache(maxsize=1)
def cosmology() -> Any:
    """Flat LCDM, H0 = 70 km/s/Mpc, Om0 = 0.3; made on first use, as astropy.cosmology takes
    a second to import and commands that compute nothing should not pay for it."""
    from astropy.cosmology import FlatLambdaCDM

    return FlatLambdaCDM(H0=70.0, Om0=0.3)


ARCSEC_PER_RADIAN = 206264.806


def bright_star_radius_arcsec(mag: np.ndarray) -> np.ndarray:
    """Sherlock's bright-star association radius, ``10^(3.47712 - 0.2 m)`` [arcsec].

    ``m`` is the star's catalogue magnitude (Gaia G here): 30 arcsec at m = 10, 190 arcsec at
    m = 6. Stars without a magnitude get 7 arcsec (Sherlock's plain bright-star search).
    """
    m = np.asarray(mag, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        r = np.power(10.0, 3.47712 - 0.2 * m)
    r = np.where(np.isfinite(r), r, 7.0)
    return np.minimum(r, BRIGHT_STAR_MAX_RADIUS_ARCSEC)


def luminosity_distance_mpc(z: np.ndarray) -> np.ndarray:
    """Luminosity distance [Mpc] of redshift ``z`` (flat LCDM, H0 = 70, Om = 0.3); NaN when
    ``z`` is missing or not positive."""
    z = np.asarray(z, dtype=np.float64)
    out = np.full(z.shape, np.nan)
    ok = np.isfinite(z) & (z > 0)
    if ok.any():
        out[ok] = cosmology().luminosity_distance(z[ok]).value
    return out


def kpc_per_arcsec(z: np.ndarray, direct_distance_mpc: np.ndarray) -> np.ndarray:
    """Transverse scale [kpc/arcsec] of a source: from its direct (redshift-independent)
    distance when known (``d / 206.265``, as Sherlock), otherwise from the angular-diameter
    distance of its redshift; NaN when neither is known."""
    z = np.asarray(z, dtype=np.float64)
    d = np.asarray(direct_distance_mpc, dtype=np.float64)
    scale = np.where(np.isfinite(d) & (d > 0), d * 1000.0 / ARCSEC_PER_RADIAN, np.nan)
    need = ~np.isfinite(scale) & np.isfinite(z) & (z > 0)
    if need.any():
        d_a = cosmology().angular_diameter_distance(z[need]).value
        scale[need] = d_a * 1000.0 / ARCSEC_PER_RADIAN
    return scale


def galaxy_radius_arcsec(
    semi_major_arcsec: np.ndarray, scale_kpc_per_arcsec: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Association radius [arcsec] of each galaxy and whether it rests on a size or distance.

    With ``a`` the semi-major axis, ``s a`` the galaxy's extent (``s`` = 2.5, Sherlock's
    stretch factor, times 0.7 for a major axis ``2a`` of 10 arcmin or more and 0.5 for 100
    arcmin or more: :func:`stretch_factor`) and ``r50`` the angle of 50 kpc at the galaxy's
    distance, a transient is associated when it lies within the largest of

    * ``min(r50, s a)`` — inside the galaxy's extent and within 50 kpc,
    * ``min(r50, 30)`` — within 50 kpc and 30 arcsec (galaxies of any size),
    * ``min(10, s a)`` — within 10 arcsec and inside the extent (no distance),

    terms needing an unknown quantity being dropped; with neither size nor distance the
    radius is 10 arcsec; no radius exceeds 14,000 arcsec (Sherlock's cap). This is the
    union of Sherlock's NED-D/NED "spec" searches (50 kpc, with and without the
    semi-major-axis condition) and its "phot" searches (10 arcsec). A galaxy without a size
    is never associated beyond 30 arcsec, so Sherlock's rule that a direct-distance match
    lies within 300 arcsec (``DIRECT_DISTANCE_MAX_ARCSEC``) always holds.

    Returns
    -------
    radius, backed
        Radius [arcsec]; ``backed`` is True where a distance or a size supports the radius
        (reliability 2), False for the plain 10 arcsec search (reliability 3).
    """
    a = np.asarray(semi_major_arcsec, dtype=np.float64)
    scale = np.asarray(scale_kpc_per_arcsec, dtype=np.float64)
    has_a = np.isfinite(a) & (a > 0)
    has_d = np.isfinite(scale) & (scale > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r50 = np.where(has_d, GALAXY_PHYSICAL_RADIUS_KPC / scale, np.nan)
    extent = np.where(has_a, stretch_factor(a) * a, np.nan)
    candidates = np.stack(
        [
            np.where(has_a & has_d, np.fmin(r50, extent), 0.0),
            np.where(has_d, np.fmin(r50, GALAXY_PHYSICAL_CAP_ARCSEC), 0.0),
            np.where(has_a, np.fmin(GALAXY_ANGULAR_RADIUS_ARCSEC, extent), 0.0),
        ]
    )
    radius = candidates.max(axis=0)
    bare = ~has_a & ~has_d
    radius = np.where(bare, GALAXY_ANGULAR_RADIUS_ARCSEC, radius)
    return np.minimum(radius, GALAXY_MAX_RADIUS_ARCSEC), ~bare


def stretch_factor(semi_major_arcsec: np.ndarray) -> np.ndarray:
    """Sherlock's galaxy stretch factor for each semi-major axis [arcsec]: 2.5, times 0.7 when
    the major axis is at least 10 arcmin and 0.5 when at least 100 arcmin."""
    major = 2.0 * np.asarray(semi_major_arcsec, dtype=np.float64)
    factor = np.full(major.shape, GALAXY_STRETCH)
    with np.errstate(invalid="ignore"):
        for limit, scale in reversed(GALAXY_STRETCH_SCALING):
            factor = np.where(major >= limit, GALAXY_STRETCH * scale, factor)
    return factor


def galaxy_merge_radius_arcsec(semi_major_arcsec: np.ndarray) -> np.ndarray:
    """Radius [arcsec] within which another catalogue's galaxy is the same galaxy as one of
    this semi-major axis: ``GALAXY_MERGE_FRACTION`` of it, between 1 and 60 arcsec (1 arcsec
    without a size)."""
    a = np.asarray(semi_major_arcsec, dtype=np.float64)
    r = np.where(np.isfinite(a), GALAXY_MERGE_FRACTION * a, MERGE_RADIUS_ARCSEC)
    return np.clip(r, MERGE_RADIUS_ARCSEC, GALAXY_MERGE_MAX_ARCSEC)


def association_radius_arcsec(
    role: str, mag: np.ndarray, semi_major_arcsec: np.ndarray, scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-source association radius [arcsec] of a catalogue of ``role`` and whether each
    association would be backed by size/distance (reliability 2) or not (3)."""
    n = np.size(mag)
    if role == "bright_star":
        return bright_star_radius_arcsec(mag), np.ones(n, dtype=bool)
    if role == "galaxy":
        return galaxy_radius_arcsec(semi_major_arcsec, scale)
    if role in ASSOCIATION_RADIUS_ARCSEC:
        return np.full(n, ASSOCIATION_RADIUS_ARCSEC[role]), np.ones(n, dtype=bool)
    raise ValueError(f"unknown catalogue role {role!r}; expected one of {', '.join(ROLES)}")


def rank_score(
    cls: np.ndarray, reliability: np.ndarray, sep_arcsec: np.ndarray, kpc: np.ndarray
) -> np.ndarray:
    """Sherlock's rank score of each match (lower ranks first).

    ``1000 * reliability`` plus: ``2 - (50 - kpc) + sep/60`` when a physical separation is
    known (galaxies with a distance), ``5 + sep/60`` for other SN associations, ``sep + 2``
    for VS, ``sep`` for BS and ``10 + sep/60`` otherwise (AGN, CV, NT without distance);
    the ``sep/60`` penalty is capped at 100.
    """
    cls = np.asarray(cls)
    rel = np.asarray(reliability, dtype=np.float64)
    sep = np.asarray(sep_arcsec, dtype=np.float64)
    kpc = np.asarray(kpc, dtype=np.float64)
    penalty = np.minimum(sep / 60.0, 100.0)
    extra = np.full(sep.shape, 10.0) + penalty
    extra = np.where(cls == "BS", sep, extra)
    extra = np.where(cls == "VS", sep + 2.0, extra)
    extra = np.where(cls == "SN", 5.0 + penalty, extra)
    extra = np.where(np.isfinite(kpc), 2.0 - (50.0 - kpc) + penalty, extra)
    return rel * 1000.0 + extra
