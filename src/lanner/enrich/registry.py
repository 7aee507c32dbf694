"""The one list of enrichers, in the order the pipeline runs them.

Imported objects, not strings: a typo fails at import time. An enricher may read the tables
of those before it (the absolute-magnitude feature reads the sky context, for example).
"""

from __future__ import annotations

from lanner.enrich.base import Enricher


def default_enrichers() -> list[Enricher]:
    """Build the default enrichers (each loads its catalogues or models once, here)."""
    from lanner.enrich import features
    from lanner.enrich.objects import ObjectSummary

    return [
        ObjectSummary(),
        features.MilkyWay("lsst"),
        features.MilkyWay("ztf"),
        features.DetectionCounts(),
        features.FluxJump(),
        features.PairColours(),
        features.BazinBlackBody(),
        # Needs the sky context (sherlock_classifications) to run before it.
        features.AbsoluteMagnitude(),
    ]
