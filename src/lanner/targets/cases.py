"""The shipped science cases: each an ordinary public filter (Lasair's selected / tables /
conditions, per survey) and a ranking expression over the columns it selects.

Input: none. Output: :class:`ScienceCase` values. No side effects.

Every case selects ``name``, ``ra``, ``dec``, ``age_days`` (days since the first detection)
and ``mag`` (the latest magnitude; Rubin: from the latest flux), plus its own terms. The
priority is a product of factors, each in (0, 1] or a small multiple of 1, and the reason of
a rank lists the factors:

- brightness ``10^(−0.4 (mag − 19))``, capped at 4: bright targets are cheap to follow;
- youth ``exp(−age_days / τ)``;
- rise ``1 + min(1, max(0, −dmdt))`` (ZTF ``dmdt_g``/``dmdt_r``, mag/day; brightening is
  negative; Rubin has no slope column, so the factor is 1);
- visibility ``max(0.05, cos(dec − latitude))`` at the survey's site (Palomar +33.36°, Cerro
  Pachón −30.24°): how high the target transits there;
- the classifier's score where the case uses one.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Site latitude [deg] per survey, for the visibility factor.
SITE_LATITUDE = {"ztf": 33.356, "lsst": -30.241}


@dataclass(frozen=True)
class Query:
    """A Lasair-style filter: the ``selected`` list, ``tables`` and ``conditions``."""

    selected: str
    tables: str
    conditions: str


@dataclass(frozen=True)
class ScienceCase:
    """A science case: its filter per survey and the ranking terms it uses."""

    name: str
    description: str
    queries: dict[str, Query]
    #: Youth time scale τ [days].
    youth_days: float
    #: Column holding the classifier score multiplied in, if any.
    score: str | None = None
    #: Multiply by the rise factor.
    rise: bool = False
    #: Column of the credible level [percent] (GW region): factor ``1 − contour / 100``.
    contour: str | None = None
    #: Column of g − r: factor ``exp(−max(g − r, −1))`` favours blue sources.
    colour: str | None = None


_ZTF = (
    "objects.objectId AS name, objects.ramean AS ra, objects.decmean AS dec, "
    "objects.jdmax - objects.jdmin AS age_days, objects.rmag AS mag, objects.gmag AS gmag, "
    "objects.dmdt_g AS dmdt_g, objects.dmdt_r AS dmdt_r"
)
_LSST = (
    "objects.diaObjectId AS name, objects.ra AS ra, objects.decl AS dec, "
    "objects.lastDiaSourceMjdTai - objects.firstDiaSourceMjdTai AS age_days, "
    "objects.latest_psfFlux AS latest_flux, objects.g_psfFlux AS g_flux, "
    "objects.r_psfFlux AS r_flux"
)

CASES: tuple[ScienceCase, ...] = (
    ScienceCase(
        name="young_snia",
        description="Young type Ia supernovae: SuperNNova SN Ia (ZTF) / SN (Rubin) "
        "probability above 0.5, first seen less than 15 days before the latest detection",
        queries={
            "ztf": Query(
                _ZTF + ", JSON_EXTRACT(snn_snia_vs_nonia.classdict, '$.p_snia') AS score",
                "objects, annotator:snn_snia_vs_nonia",
                "JSON_EXTRACT(snn_snia_vs_nonia.classdict, '$.p_snia') > 0.5 "
                "AND objects.jdmax - objects.jdmin < 15",
            ),
            "lsst": Query(
                _LSST + ", JSON_EXTRACT(snn_sn_vs_other.classdict, '$.p_sn') AS score",
                "objects, annotator:snn_sn_vs_other",
                "JSON_EXTRACT(snn_sn_vs_other.classdict, '$.p_sn') > 0.5 "
                "AND objects.lastDiaSourceMjdTai - objects.firstDiaSourceMjdTai < 15",
            ),
        },
        youth_days=7.0,
        score="score",
        rise=True,
    ),
    ScienceCase(
        name="fast_transients_gw",
        description="Fast transients and kilonova candidates inside the 90% credible region of "
        "a gravitational-wave sky map, first seen less than 5 days before the latest detection",
        queries={
            "ztf": Query(
                _ZTF + ", mma_area_hits.contour AS contour",
                "objects, mma_area_hits",
                "mma_area_hits.contour <= 90 AND objects.jdmax - objects.jdmin < 5",
            ),
            "lsst": Query(
                _LSST + ", mma_area_hits.contour AS contour",
                "objects, mma_area_hits",
                "mma_area_hits.contour <= 90 "
                "AND objects.lastDiaSourceMjdTai - objects.firstDiaSourceMjdTai < 5",
            ),
        },
        youth_days=2.0,
        rise=True,
        contour="contour",
    ),
    ScienceCase(
        name="nuclear_tde",
        description="Nuclear transients, tidal-disruption-event candidates: the sky context "
        "puts the transient on a galaxy's nucleus (Sherlock class NT), at least 3 detections",
        queries={
            "ztf": Query(
                _ZTF + ", objects.g_minus_r AS g_minus_r",
                "objects, sherlock_classifications",
                "sherlock_classifications.classification = 'NT' AND objects.ncand >= 3",
            ),
            "lsst": Query(
                _LSST,
                "objects, sherlock_classifications",
                "sherlock_classifications.classification = 'NT' AND objects.nDiaSources >= 3",
            ),
        },
        youth_days=60.0,
        colour="g_minus_r",
    ),
)


def case(name: str) -> ScienceCase:
    """The science case ``name``; ValueError naming the cases otherwise."""
    for c in CASES:
        if c.name == name:
            return c
    raise ValueError(f"no science case {name!r}: choose among {', '.join(c.name for c in CASES)}")


def filter_name(c: ScienceCase) -> str:
    """Name of the case's public filter."""
    return f"targets_{c.name}"
