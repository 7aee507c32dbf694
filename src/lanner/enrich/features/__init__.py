"""Light-curve features of Rubin alerts and Milky Way context for both surveys.

Each module is one feature group and exposes one enricher (see :mod:`lanner.enrich.base`):

* :mod:`.milky_way` — Galactic coordinates and SFD E(B-V) (Rubin and ZTF); runs first, since
  the others correct fluxes for extinction with its ``ebv``;
* :mod:`.counts` — detection counts and reliability;
* :mod:`.jump` — jump of recent fluxes from the earlier baseline;
* :mod:`.pair_colours` — colours and temperatures from near-simultaneous detection pairs;
* :mod:`.bazin_blackbody` — Bazin / exponential × blackbody fits (models in
  :mod:`.bazin_model`, Planck function in :mod:`.blackbody`);
* :mod:`.absolute_magnitude` — peak absolute magnitudes from the sky-context distance.

:mod:`.light_curve` turns a batch's light-curve tables into flat arrays and holds the Rubin
band constants. Definitions, units and measured speeds: ``docs/features-lsst.md``.
"""

from lanner.enrich.features.absolute_magnitude import AbsoluteMagnitude
from lanner.enrich.features.bazin_blackbody import BazinBlackBody
from lanner.enrich.features.counts import DetectionCounts
from lanner.enrich.features.jump import FluxJump
from lanner.enrich.features.milky_way import MilkyWay
from lanner.enrich.features.pair_colours import PairColours

__all__ = [
    "AbsoluteMagnitude",
    "BazinBlackBody",
    "DetectionCounts",
    "FluxJump",
    "MilkyWay",
    "PairColours",
]
