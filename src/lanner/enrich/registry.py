"""The one list of enrichers, in the order the pipeline runs them.

Imported objects, not strings: a typo fails at import time. An enricher may read the tables
of those before it (the absolute-magnitude feature reads the sky context, for example).
"""

from __future__ import annotations

from functools import lru_cache

from lanner.enrich.base import Enricher


@lru_cache(maxsize=1)
def default_enrichers() -> tuple[Enricher, ...]:
    """Build the default enrichers once per process (each loads its data here, once)."""
    from lanner.enrich.context.enricher import SkyContext
    from lanner.enrich.dia_object import DiaObjectFields
    from lanner.enrich.features.absolute_magnitude import AbsoluteMagnitude
    from lanner.enrich.features.bazin_blackbody import BazinBlackBody
    from lanner.enrich.features.counts import DetectionCounts
    from lanner.enrich.features.jump import FluxJump
    from lanner.enrich.features.lightcurve_package import LightCurvePackageFeatures
    from lanner.enrich.features.milky_way import MilkyWay
    from lanner.enrich.features.pair_colours import PairColours
    from lanner.enrich.features.ztf_magnitudes import ZtfMagnitudeFeatures
    from lanner.enrich.features.ztf_moving_averages import ZtfMovingAverages
    from lanner.enrich.objects import ObjectSummary

    return (
        SkyContext(),
        ObjectSummary("ztf"),
        ObjectSummary("lsst"),
        DiaObjectFields(),
        ZtfMagnitudeFeatures(),
        ZtfMovingAverages(),
        LightCurvePackageFeatures("ztf"),
        LightCurvePackageFeatures("lsst"),
        MilkyWay("lsst"),
        MilkyWay("ztf"),
        DetectionCounts(),
        FluxJump(),
        PairColours(),
        BazinBlackBody(),
        # Needs the sky context (sherlock_classifications) to run before it.
        AbsoluteMagnitude(),
    )
