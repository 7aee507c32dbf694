"""Colours and blackbody temperatures from pairs of near-simultaneous detections.

Input: ``batch.detections`` and ``objects.ebv`` (from the Milky Way enricher, which must run
first). Output: the ``latestPair*`` and ``penultimatePair*`` columns of ``objects``. No side
effects.

Definitions are Lasair-LSST's ``pair`` feature (lsst-uk/lasair-lsst), so a Lasair filter on
these columns selects the same objects. A *pair* is two consecutive detections (in time order)
of one alert in different bands, ``0 < Δt < 40`` minutes apart (Rubin revisits a field about
33 minutes later, often in another filter). The latest pair is the one ending last; the
penultimate is the pair ending just before it (it may share the latest pair's earlier
detection, as in Lasair's backward scan). A pair whose fluxes are not both positive is still
the latest (or penultimate) pair, but its columns are NULL, as in Lasair. For each:

* ``...PairMJD``: MJD of the later detection of the pair;
* ``...PairColourBands``: the bands, bluer first (``g-r``, ``u-i``, ...);
* ``...PairColourMag``: ``m_blue - m_red`` [mag] of the Milky-Way-extinction-corrected fluxes;
* ``...PairColourTemp``: blackbody temperature [kK] whose flux ratio at Lasair's pair
  wavelengths (``PAIR_WAVELENGTH_UM``) equals the extinction-corrected flux ratio; NULL when
  no temperature in 0.5–300 kK does.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lanner.batch import AlertBatch, Survey
from lanner.enrich.base import ObjectFeatureEnricher
from lanner.enrich.features.blackbody import temperature_from_ratio
from lanner.enrich.features.light_curve import (
    RUBIN_BANDS,
    LightCurves,
    detections,
    extinction_correction,
    require_ebv,
)
from lanner.schema.columns import Column

NAME = "pair_colours"

#: Longest gap between the two detections of a pair [day].
MAX_PAIR_GAP_DAYS = 40.0 / (24 * 60)

#: Wavelengths [µm] at which Lasair-LSST evaluates the blackbody for the pair temperatures, in
#: ``RUBIN_BANDS`` order (rounded band centres; the Bazin fit uses ``RUBIN_WAVELENGTH_UM``).
PAIR_WAVELENGTH_UM = np.array([0.38, 0.50, 0.62, 0.74, 0.88, 1.00])


def _pair_columns(prefix: str, label: str) -> tuple[Column, ...]:
    return (
        Column(
            f"{prefix}PairMJD", "double", f"MJD of the {label} pair's later diaSource", "MJD", NAME
        ),
        Column(
            f"{prefix}PairColourMag",
            "float",
            f"Colour (bluer minus redder magnitude) from the {label} pair, extinction corrected",
            "mag",
            NAME,
        ),
        Column(
            f"{prefix}PairColourBands",
            "text",
            f"Bands of the {label} pair colour, bluer first, e.g. g-r, u-r",
            None,
            NAME,
        ),
        Column(
            f"{prefix}PairColourTemp",
            "float",
            f"Blackbody temperature from the extinction-corrected {label} pair flux ratio",
            "kK",
            NAME,
        ),
    )


COLUMNS: tuple[Column, ...] = _pair_columns("latest", "latest") + _pair_columns(
    "penultimate", "penultimate"
)

_BAND_PAIR_LABELS = np.array(
    [f"{RUBIN_BANDS[min(a, b)]}-{RUBIN_BANDS[max(a, b)]}" for a in range(6) for b in range(6)],
    dtype=object,
)


def _last_pair_end(is_end: np.ndarray, lc: LightCurves) -> np.ndarray:
    """Index of the last pair-ending point of each alert, -1 if none."""
    candidates = np.where(is_end, np.arange(len(is_end)), -1)
    out = np.full(lc.n_alerts, -1, dtype=np.int64)
    np.maximum.at(out, lc.row, candidates)
    return out


def pair_columns(lc: LightCurves, ebv: np.ndarray) -> dict[str, np.ndarray]:
    """Pair colour columns from the detections ``lc`` and E(B-V) per alert."""
    n = lc.n_alerts
    m = len(lc.mjd)
    # is_end[k]: detections k-1 and k form a pair (whatever the sign of their fluxes).
    is_end = np.zeros(m, dtype=bool)
    if m > 1:
        dt = lc.mjd[1:] - lc.mjd[:-1]
        is_end[1:] = (
            (lc.row[1:] == lc.row[:-1])
            & (lc.band[1:] != lc.band[:-1])
            & (lc.band[1:] >= 0)
            & (lc.band[:-1] >= 0)
            & (dt > 0)
            & (dt < MAX_PAIR_GAP_DAYS)
        )
    latest = _last_pair_end(is_end, lc)
    # The penultimate pair ends before the latest one (Lasair scans back from its start).
    before = latest[lc.row]
    penultimate = _last_pair_end(is_end & (np.arange(m) < before), lc)
    positive = np.zeros(m, dtype=bool)
    if m > 1:
        with np.errstate(invalid="ignore"):
            positive[1:] = (lc.flux[1:] > 0) & (lc.flux[:-1] > 0)

    corr = extinction_correction(lc.band, ebv[lc.row]) if m else np.ones(0)
    out: dict[str, np.ndarray] = {}
    for prefix, end in (("latest", latest), ("penultimate", penultimate)):
        has = end >= 1
        has[has] = positive[end[has]]
        k = end[has]
        b1, b2 = lc.band[k - 1].astype(np.int64), lc.band[k].astype(np.int64)
        f1, f2 = lc.flux[k - 1], lc.flux[k]
        blue_first = b1 < b2
        fb = np.where(blue_first, f1, f2)
        fr = np.where(blue_first, f2, f1)
        bb = np.minimum(b1, b2)
        br = np.maximum(b1, b2)
        cb = np.where(blue_first, corr[k - 1], corr[k])
        cr = np.where(blue_first, corr[k], corr[k - 1])
        mjd = np.full(n, np.nan)
        mag = np.full(n, np.nan)
        temp = np.full(n, np.nan)
        bands = np.full(n, None, dtype=object)
        mjd[has] = lc.mjd[k]
        ratio = fb * cb / (fr * cr)
        mag[has] = -2.5 * np.log10(ratio)
        temp[has] = temperature_from_ratio(ratio, PAIR_WAVELENGTH_UM[bb], PAIR_WAVELENGTH_UM[br])
        bands[has] = _BAND_PAIR_LABELS[b1 * 6 + b2]
        out[f"{prefix}PairMJD"] = mjd
        out[f"{prefix}PairColourMag"] = mag
        out[f"{prefix}PairColourBands"] = bands
        out[f"{prefix}PairColourTemp"] = temp
    return out


class PairColours(ObjectFeatureEnricher):
    """Colour and blackbody temperature of the latest and penultimate detection pairs
    (Rubin)."""

    name = NAME
    surveys: frozenset[Survey] = frozenset({"lsst"})
    declared_columns = COLUMNS

    def values(self, batch: AlertBatch) -> Mapping[str, np.ndarray]:
        return pair_columns(detections(batch), require_ebv(batch))
