"""docs/features-lsst.md names every column the Rubin feature enrichers declare."""

from __future__ import annotations

import re
from pathlib import Path

from lanner.enrich.features.absolute_magnitude import AbsoluteMagnitude
from lanner.enrich.features.bazin_blackbody import BazinBlackBody
from lanner.enrich.features.counts import DetectionCounts
from lanner.enrich.features.jump import FluxJump
from lanner.enrich.features.milky_way import MilkyWay
from lanner.enrich.features.pair_colours import PairColours

DOC = Path(__file__).resolve().parents[3] / "docs" / "features-lsst.md"


def test_every_column_is_documented() -> None:
    text = DOC.read_text()
    documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", text))
    # "`nuSources` … `nySources`" and "`glat` / `glon`" cover ranges and pairs.
    documented |= {f"n{b}Sources" for b in "ugrizy"}
    enrichers = [
        MilkyWay("lsst"),
        MilkyWay("ztf"),
        DetectionCounts(),
        FluxJump(),
        PairColours(),
        BazinBlackBody(),
        AbsoluteMagnitude(),
    ]
    missing = [c.name for e in enrichers for c in e.columns if c.name not in documented]
    assert not missing, f"undocumented columns: {missing}"
    for e in enrichers:
        for c in e.columns:
            assert c.producer == e.name and c.description
