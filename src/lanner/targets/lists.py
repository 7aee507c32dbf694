"""Running a science case: its public filter on the archive, then the ranking.

Input: settings (the database), a science case name. Output: :class:`Target` rows, ranked
(rank 1 first), each with its priority and the reason (the factors). Side effects: makes the
case's public filter (owned by the local user, inactive, no output) on first use; users may
copy it (``lanner filter copy``) and adapt it.

Lists are computed from the archive when asked, so each reflects every batch stored so far
(refreshed after each batch); the same archive gives the same list (ties broken by name).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lanner.filter.archive import run_on_archive
from lanner.filter.errors import FilterError
from lanner.filter.saved import SavedFilter, add_filter, find_filter, lasair_to_sql
from lanner.filter.users import ensure_local_user
from lanner.settings import Settings
from lanner.store import Store
from lanner.targets.cases import CASES, SITE_LATITUDE, ScienceCase, case, filter_name

#: Magnitude of the brightness factor's unit, and its cap.
REFERENCE_MAG = 19.0
BRIGHTNESS_CAP = 4.0
NJY_ZP = 31.4
#: Largest rise rate [mag/day] counted (two detections minutes apart give wild slopes).
MAX_RISE = 1.0


@dataclass
class Target:
    """One ranked target."""

    rank: int
    name: Any
    ra: float
    dec: float
    priority: float
    reason: str
    values: dict[str, Any] = field(default_factory=dict)


def ensure_filter(store: Store, c: ScienceCase) -> SavedFilter:
    """The case's public filter, made on first use."""
    survey = store.survey or "ztf"
    owner = ensure_local_user(store)
    try:
        return find_filter(store, filter_name(c), owner)
    except FilterError:
        q = c.queries[survey]
        sql = lasair_to_sql(store, q.selected, q.tables, q.conditions, owner)
        return add_filter(
            store, filter_name(c), sql, owner_id=owner, description=c.description, public=True
        )


def _float(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _mag(row: dict[str, Any]) -> float | None:
    mag = _float(row.get("mag"))
    if mag is None and _float(row.get("gmag")) is not None:
        mag = _float(row.get("gmag"))
    if mag is None:
        flux = _float(row.get("latest_flux"))
        if flux is not None and flux > 0:
            mag = NJY_ZP - 2.5 * math.log10(flux)
    return mag


def _colour(row: dict[str, Any], column: str) -> float | None:
    value = _float(row.get(column))
    if value is None:
        g, r = _float(row.get("g_flux")), _float(row.get("r_flux"))
        if g and r and g > 0 and r > 0:
            value = -2.5 * math.log10(g / r)
    return value


def priority(c: ScienceCase, row: dict[str, Any], survey: str) -> tuple[float, str]:
    """The ranking expression of :mod:`lanner.targets.cases` for one candidate, and the
    reason: each factor with its value."""
    factors: list[tuple[str, float]] = []
    mag = _mag(row)
    brightness = (
        min(BRIGHTNESS_CAP, 10 ** (-0.4 * (mag - REFERENCE_MAG))) if mag is not None else 0.1
    )
    factors.append(
        (f"brightness(mag={mag:.2f})" if mag is not None else "brightness(no mag)", brightness)
    )
    age = _float(row.get("age_days")) or 0.0
    factors.append((f"youth(age={age:.1f}d)", math.exp(-max(age, 0.0) / c.youth_days)))
    if c.score is not None:
        factors.append(("score", _float(row.get(c.score)) or 0.0))
    if c.rise:
        slopes = [
            s for s in (_float(row.get("dmdt_g")), _float(row.get("dmdt_r"))) if s is not None
        ]
        rate = min(MAX_RISE, max(0.0, -min(slopes))) if slopes else 0.0
        factors.append((f"rise({rate:.2f}mag/d)", 1.0 + rate))
    if c.contour is not None:
        level = _float(row.get(c.contour))
        factors.append((f"gw(contour={level}%)", 1.0 - (level or 100.0) / 100.0 + 0.01))
    if c.colour is not None:
        colour = _colour(row, c.colour)
        factors.append(
            (
                f"blue(g-r={colour:.2f})" if colour is not None else "blue(no colour)",
                math.exp(-max(colour, -1.0)) if colour is not None else 1.0,
            )
        )
    dec = _float(row.get("dec")) or 0.0
    factors.append(("visibility", max(0.05, math.cos(math.radians(dec - SITE_LATITUDE[survey])))))
    value = math.prod(f for _, f in factors)
    reason = " × ".join(f"{n}={f:.3g}" for n, f in factors)
    return value, reason


def targets(settings: Settings, store: Store, name: str, limit: int | None = None) -> list[Target]:
    """The ranked target list of the science case ``name``."""
    c = case(name)
    survey = store.survey or "ztf"
    flt = ensure_filter(store, c)
    result = run_on_archive(settings, flt.sql, user_id=flt.owner_id)
    rows = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    best: dict[Any, dict[str, Any]] = {}
    for row in rows:  # one row per object (a sky-map join can give several)
        p, reason = priority(c, row, survey)
        known = best.get(row["name"])
        if known is None or p > known["_p"]:
            best[row["name"]] = {**row, "_p": p, "_reason": reason}
    ordered = sorted(best.values(), key=lambda r: (-r["_p"], str(r["name"])))
    if limit is not None:
        ordered = ordered[:limit]
    return [
        Target(
            rank=i + 1,
            name=r["name"],
            ra=float(r["ra"]),
            dec=float(r["dec"]),
            priority=float(r["_p"]),
            reason=r["_reason"],
            values={k: v for k, v in r.items() if not k.startswith("_")},
        )
        for i, r in enumerate(ordered)
    ]


def case_names() -> list[str]:
    return [c.name for c in CASES]
