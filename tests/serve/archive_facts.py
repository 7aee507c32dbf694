"""Facts about a test archive read straight from its database (not through the server),
so the tests compare the API with the data rather than with hard-coded answers."""

from __future__ import annotations

from typing import Any

import numpy as np

from lanner.batch import OBJECT_ID_COLUMN
from lanner.schema.registry import POSITION_COLUMNS
from lanner.store import open_store
from lanner.store.reading import angular_separation_deg


def rows(db_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    store = open_store(db_url, create=False)
    try:
        if store.backend.dialect == "postgres":
            sql = sql.replace("?", "%s")
        return [tuple(r) for r in store.con.execute(sql, params).fetchall()]
    finally:
        store.close()


def busiest_object(db_url: str, survey: str) -> tuple[Any, float, float]:
    """(id, ra, dec) of the object with the most detections."""
    oid = OBJECT_ID_COLUMN[survey]
    ra, dec = POSITION_COLUMNS[survey]
    (object_id,) = rows(
        db_url,
        f'SELECT "{oid}" FROM detections GROUP BY "{oid}" ORDER BY count(*) DESC, "{oid}" LIMIT 1',
    )[0]
    ((r, d),) = rows(db_url, f'SELECT "{ra}", "{dec}" FROM objects WHERE "{oid}" = ?', (object_id,))
    return object_id, float(r), float(d)


def within(db_url: str, survey: str, ra: float, dec: float, radius_arcsec: float) -> list[Any]:
    """Ids of the objects within the radius, nearest first (brute force over all)."""
    oid = OBJECT_ID_COLUMN[survey]
    rc, dc = POSITION_COLUMNS[survey]
    found = rows(db_url, f'SELECT "{oid}", "{rc}", "{dc}" FROM objects')
    sep = (
        angular_separation_deg(
            np.array([f[1] for f in found]), np.array([f[2] for f in found]), ra, dec
        )
        * 3600
    )
    order = np.argsort(sep, kind="stable")
    return [found[i][0] for i in order if sep[i] <= radius_arcsec]


def detection_count(db_url: str, survey: str, object_id: Any) -> int:
    oid = OBJECT_ID_COLUMN[survey]
    return int(
        rows(db_url, f'SELECT count(*) FROM detections WHERE "{oid}" = ?', (object_id,))[0][0]
    )
