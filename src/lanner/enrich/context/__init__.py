"""Sky context: a Sherlock-style classifier of every alert's position against catalogues.

Input: alert positions (and, for ZTF, the packet's nearest Pan-STARRS1 source). Output: the
``sherlock_classifications`` table, one row per alert. Side effects: reads the catalogue
store (Parquet partitions in the HATS layout).
"""

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
