"""The one list of enrichers, in the order the pipeline runs them.

Imported objects, not strings: a typo fails at import time. An enricher may read the tables
of those before it (the absolute-magnitude feature reads the sky context, for example).
"""

from __future__ import annotations

from lanner.enrich.base import Enricher


def default_enrichers() -> list[Enricher]:
    """Build the default enrichers (each loads its catalogues or models once, here)."""
    from lanner.enrich.context.enricher import SkyContext
    from lanner.enrich.objects import ObjectSummary

    return [
        SkyContext(),
        ObjectSummary(),
    ]
