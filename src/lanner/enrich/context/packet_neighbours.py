"""The nearest Pan-STARRS1 source that ZTF packets carry, as one more catalogue match.

Input: per-alert ``distpsnr1`` [arcsec], ``sgscore1`` (star-galaxy score, 1 = star),
``srmag1`` and ``sgmag1`` [mag]. Output: :class:`~.crossmatch.Pairs` ranked with the
catalogue matches. No side effects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lanner.enrich.context.association_rules import CLASSES
from lanner.enrich.context.crossmatch import Pairs

#: Pan-STARRS1 star-galaxy score above which the packet's neighbour is a star
#: (Tachibana & Miller 2018 recommend 0.5).
PS1_STAR_SCORE = 0.5


@dataclass(frozen=True)
class PacketNeighbours:
    """Nearest Pan-STARRS1 source carried by ZTF packets (``distpsnr1``, ``sgscore1``,
    ``srmag1``, ``sgmag1``): distance [arcsec], star-galaxy score (1 = star), r and g [mag].
    Values below 0 (ZTF's -999) mean no source."""

    distance_arcsec: np.ndarray
    sgscore: np.ndarray
    rmag: np.ndarray
    gmag: np.ndarray


def ps1_pairs(nb: PacketNeighbours, idx: np.ndarray, r_syn: float) -> Pairs:
    """Pairs with the packet's nearest PS1 source: a star (sgscore > 0.5) is VS within 3
    arcsec (synonym within ``r_syn``); an extended source (sgscore < 0.5) is NT within
    ``r_syn`` and SN within 10 arcsec (angular only). The magnitude (r, else g) rides in the
    ``kpc`` field until the pairs are merged."""
    dist = np.asarray(nb.distance_arcsec, dtype=np.float64)[idx]
    sg = np.asarray(nb.sgscore, dtype=np.float64)[idx]
    r = np.asarray(nb.rmag, dtype=np.float64)[idx]
    g = np.asarray(nb.gmag, dtype=np.float64)[idx]
    mag = np.where(r > 0, r, np.where(g > 0, g, np.nan))
    with np.errstate(invalid="ignore"):
        star = (sg > PS1_STAR_SCORE) & (sg <= 1.0)
        galaxy = (sg >= 0.0) & (sg < PS1_STAR_SCORE)
        ok = np.isfinite(dist) & (dist >= 0)
        synonym = ok & (dist <= r_syn) & (star | galaxy)
        assoc = ok & ~synonym & ((star & (dist <= 3.0)) | (galaxy & (dist <= 10.0)))
    keep = np.flatnonzero(synonym | assoc)
    cls = np.where(
        star[keep],
        CLASSES.index("VS"),
        np.where(synonym[keep], CLASSES.index("NT"), CLASSES.index("SN")),
    ).astype(np.int8)
    rel = np.where(synonym[keep], 1, np.where(star[keep], 2, 3)).astype(np.int8)
    nan = np.full(keep.size, np.nan)
    return Pairs(
        keep.astype(np.int64),
        np.zeros(keep.size, np.int64),
        dist[keep],
        nan,
        nan.copy(),
        cls,
        rel,
        mag[keep],
    )
