"""Fixtures of the TNS tests: the BTS list as TNS rows, and the positions of the bundled
Rubin sample's objects (to place TNS entries on them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lanner.batch import AlertBatch
from lanner.tns.recorded import Row, bts_rows
from tests.helpers import enriched, packets_of

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "lsst"


@pytest.fixture(scope="session")
def bts(shared_dir: Path) -> list[Row]:
    """The 5,417 BTS transients as TNS rows."""
    return bts_rows(
        shared_dir / "data" / "catalogs" / "transients" / "ztf_bts_explorer_2022-09-01.csv.gz"
    )


@pytest.fixture(scope="session")
def sample_batch() -> AlertBatch:
    return enriched(packets_of([SAMPLE]), "lsst")


@pytest.fixture(scope="session")
def sample_objects(sample_batch: AlertBatch) -> list[tuple[int, float, float]]:
    """(diaObjectId, ra, decl) of each object of the bundled sample, once."""
    objects = sample_batch.enriched["objects"]
    ids = sample_batch.alerts["object_id"].to_pylist()
    ra = objects["ra"].to_numpy(zero_copy_only=False)
    dec = objects["decl"].to_numpy(zero_copy_only=False)
    seen: dict[int, tuple[int, float, float]] = {}
    for i, oid in enumerate(ids):
        seen.setdefault(oid, (oid, float(ra[i]), float(dec[i])))
    return sorted(seen.values())


def placed(rows: list[Row], objects: list[tuple[int, float, float]], n: int) -> list[Row]:
    """A copy of ``rows`` whose first ``n`` entries sit 1 arcsec east of the first ``n``
    objects, as AT (unclassified)."""
    out = [dict(r) for r in rows]
    for row, (_, ra, dec) in zip(out[:n], objects[:n], strict=True):
        row.update(
            ra=f"{ra + 1.0 / 3600 / np.cos(np.radians(dec)):.7f}",
            declination=f"{dec:.7f}",
            name_prefix="AT",
            type="",
        )
    return out


from tests.cli.conftest import cli, lanner_home  # noqa: E402, F401  (the CLI fixtures)
