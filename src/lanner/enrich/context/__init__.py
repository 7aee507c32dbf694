"""Sky context: a Sherlock-style classifier of every alert's position against catalogues.

Input: alert positions (and, for ZTF, the packet's nearest Pan-STARRS1 source). Output: the
``sherlock_classifications`` table, one row per alert. Side effects: reads the catalogue
store (Parquet partitions in the HATS layout).

The names below are imported on first use (the classifier needs scipy), so that declaring
the table's columns (:mod:`lanner.enrich.context.sherlock_columns`) imports no science
package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lanner.enrich.context.classifier import (
        ContextClassifier,
        PacketNeighbours,
        classify_positions,
        default_classifier,
        default_library,
    )

__all__ = [
    "ContextClassifier",
    "PacketNeighbours",
    "classify_positions",
    "default_classifier",
    "default_library",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from lanner.enrich.context import classifier

        return getattr(classifier, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
