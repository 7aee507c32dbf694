"""Reading the archive: cone search, object positions, light curves and cutouts.

Input: a :class:`~lanner.store.Store`. Output: plain Python values (ids stay exact ints).
Reads only.

Cone search uses q3c on PostgreSQL (``q3c_radial_query`` on the indexed position); on SQLite
it narrows with the (dec, ra) index to the bounding box and keeps the rows whose exact
angular separation (haversine, on unit vectors) is within the radius.
"""

from __future__ import annotations

import gzip
from typing import Any

import numpy as np

from lanner.batch import OBJECT_ID_COLUMN
from lanner.schema.registry import POSITION_COLUMNS
from lanner.store.database import Store
from lanner.store.ddl import quote


def angular_separation_deg(
    ra1: np.ndarray, dec1: np.ndarray, ra2: float, dec2: float
) -> np.ndarray:
    """Great-circle separation [deg] (haversine: exact at small angles)."""
    r1, d1, r2, d2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (ra1, dec1, ra2, dec2))
    h = np.sin((d1 - d2) / 2) ** 2 + np.cos(d1) * np.cos(d2) * np.sin((r1 - r2) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def _check_position(ra: float, dec: float) -> None:
    if not (np.isfinite(ra) and np.isfinite(dec)) or not 0 <= ra < 360 or not -90 <= dec <= 90:
        raise ValueError(f"position out of range: ra={ra} (0 to 360), dec={dec} (-90 to 90)")


def cone_search(
    store: Store, ra: float, dec: float, radius_arcsec: float, limit: int = 1000
) -> list[dict[str, Any]]:
    """Objects within ``radius_arcsec`` of (``ra``, ``dec``) [deg], nearest first."""
    _check_position(ra, dec)
    if not 0 < radius_arcsec <= 3600 * 5:
        raise ValueError("radius must be between 0 and 18000 arcsec (5 deg)")
    survey = store.survey or "ztf"
    oid = OBJECT_ID_COLUMN[survey]
    ra_col, dec_col = POSITION_COLUMNS[survey]
    radius = radius_arcsec / 3600.0
    q_oid, q_ra, q_dec = quote(oid), quote(ra_col), quote(dec_col)
    if store.backend.dialect == "postgres":
        sql = (
            f"SELECT {q_oid}, {q_ra}, {q_dec} FROM objects WHERE "
            f"q3c_radial_query({q_ra}, {q_dec}, %s, %s, %s)"
        )
        rows = store.con.execute(sql, (ra, dec, radius)).fetchall()
    else:
        dec_lo, dec_hi = dec - radius, dec + radius
        cosd = np.cos(np.radians(min(abs(dec) + radius, 90.0)))
        dra = 360.0 if cosd < 1e-6 else min(radius / cosd, 360.0)
        sql = f"SELECT {q_oid}, {q_ra}, {q_dec} FROM objects WHERE {q_dec} BETWEEN ? AND ?"
        params: list[float] = [dec_lo, dec_hi]
        if dra < 180.0:
            lo, hi = (ra - dra) % 360.0, (ra + dra) % 360.0
            joiner = "AND" if lo <= hi else "OR"
            sql += f" AND ({q_ra} >= ? {joiner} {q_ra} <= ?)"
            params += [lo, hi]
        rows = store.con.execute(sql, params).fetchall()
    if not rows:
        return []
    ras = np.array([r[1] for r in rows], dtype=np.float64)
    decs = np.array([r[2] for r in rows], dtype=np.float64)
    sep = angular_separation_deg(ras, decs, ra, dec) * 3600.0
    order = [i for i in np.argsort(sep, kind="stable") if sep[i] <= radius_arcsec][:limit]
    return [
        {
            oid: rows[i][0],
            ra_col: rows[i][1],
            dec_col: rows[i][2],
            "separation_arcsec": float(sep[i]),
        }
        for i in order
    ]


def object_position(store: Store, object_id: Any) -> tuple[float, float] | None:
    """Stored (ra, dec) [deg] of an object, or ``None`` if it is unknown."""
    survey = store.survey or "ztf"
    ra_col, dec_col = (quote(c) for c in POSITION_COLUMNS[survey])
    ph = store.backend.placeholder
    row = store.con.execute(
        f"SELECT {ra_col}, {dec_col} FROM objects WHERE {quote(OBJECT_ID_COLUMN[survey])} = {ph}",
        (object_id,),
    ).fetchone()
    return None if row is None else (float(row[0]), float(row[1]))


def light_curve(store: Store, object_id: Any) -> dict[str, list[dict[str, Any]]]:
    """Detections, forced photometry and upper limits of an object, in time order."""
    survey = store.survey or "ztf"
    oid = quote(OBJECT_ID_COLUMN[survey])
    ph = store.backend.placeholder
    out: dict[str, list[dict[str, Any]]] = {}
    for table in ("detections", "forced_photometry", "upper_limits"):
        cur = store.con.execute(
            f"SELECT * FROM {quote(table)} WHERE {oid} = {ph} ORDER BY mjd", (object_id,)
        )
        names = [d[0] for d in cur.description]
        out[table] = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return out


def cutout(store: Store, alert_id: int, kind: str) -> bytes | None:
    """The FITS bytes of one cutout (decompressed if it was sent gzip-compressed)."""
    ph = store.backend.placeholder
    row = store.con.execute(
        f"SELECT data FROM cutouts WHERE alert_id = {ph} AND kind = {ph}", (alert_id, kind)
    ).fetchone()
    if row is None:
        return None
    data = bytes(row[0])
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
