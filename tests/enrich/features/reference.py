"""Plain-Python reference computations, one alert at a time, from the raw alert records.

Written independently of the vectorised code under test: loops over dictionaries, the
standard library's statistics, no shared helpers.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

WAVELENGTH_UM = {"u": 0.3709, "g": 0.4767, "r": 0.6194, "i": 0.7539, "z": 0.8668, "y": 0.9739}
#: Lasair-LSST's pair-colour wavelengths [µm] (its ``pair`` feature).
PAIR_WAVELENGTH_UM = {"u": 0.38, "g": 0.50, "r": 0.62, "i": 0.74, "z": 0.88, "y": 1.00}
EXTINCTION = {"u": 4.145, "g": 3.237, "r": 2.273, "i": 1.684, "z": 1.323, "y": 1.088}


def sources(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The alert's diaSource and previous diaSources, de-duplicated, in time order."""
    by_id: dict[int, dict[str, Any]] = {}
    for s in [record["diaSource"], *(record.get("prvDiaSources") or [])]:
        by_id.setdefault(s["diaSourceId"], s)
    return sorted(by_id.values(), key=lambda s: s["midpointMjdTai"])


def counts(record: dict[str, Any]) -> dict[str, Any]:
    src = sources(record)
    fluxes = [s["psfFlux"] for s in src]
    rel = [s.get("reliability") for s in src]
    good_rel = [r for r in rel if r is not None and not math.isnan(r)]
    nights = {int(s["midpointMjdTai"] + 0.5) for s in src if (s["psfFlux"] or 0) > 0}
    out: dict[str, Any] = {
        "nPosDiaSources": sum(1 for f in fluxes if f is not None and f > 0),
        "nNegDiaSources": sum(1 for f in fluxes if f is not None and f < 0),
        "nPosDiaSourcesNights": len(nights),
        "nSourcesGood": sum(1 for r in good_rel if r > 0.5),
        "medianR": statistics.median(good_rel) if good_rel else None,
        "latestR": rel[-1] if rel and rel[-1] is not None else None,
    }
    for b in "ugrizy":
        out[f"n{b}Sources"] = sum(1 for s in src if s["band"] == b)
    return out


def jumps(record: dict[str, Any]) -> tuple[float | None, float | None]:
    src = [s for s in sources(record) if s["psfFlux"] is not None]
    if not src:
        return None, None
    latest = src[-1]["midpointMjdTai"]
    best: list[float] = []
    for b in "ugrizy":
        base = [
            s["psfFlux"] for s in src if s["band"] == b and 10 < latest - s["midpointMjdTai"] < 70
        ]
        if len(base) < 5:
            continue
        mean = statistics.fmean(base)
        sd = statistics.stdev(base)
        if sd == 0:
            continue
        test = [s["psfFlux"] for s in src if s["band"] == b and latest - s["midpointMjdTai"] <= 10]
        if test:
            best.append(max(abs(f - mean) / sd for f in test))
    best.sort(reverse=True)
    # Lasair's convention: 0 where no band (or no second band) has a jump.
    return (best[0] if best else 0.0), (best[1] if len(best) > 1 else 0.0)


def planck(lam: float, t_kk: float) -> float:
    return lam**-3 / math.expm1(14.387769 / (lam * t_kk))


def pair_temperature(ratio: float, lam1: float, lam2: float) -> float | None:
    """Temperature [kK] by bisection on T (linear), from first principles."""
    if ratio <= 0:
        return None
    lo, hi = 0.5, 300.0
    f = lambda t: planck(lam1, t) / planck(lam2, t) - ratio  # noqa: E731
    if f(lo) > 0 or f(hi) < 0:
        return None
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if f(mid) > 0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def pairs(record: dict[str, Any], ebv: float) -> list[dict[str, Any]]:
    """[latest, penultimate] pair results (dicts; empty dict for none, or for a pair whose
    fluxes are not both positive), scanning back as Lasair does."""
    src = sources(record)
    found: list[dict[str, Any]] = []
    k = len(src) - 1
    while k >= 1 and len(found) < 2:
        a, b = src[k - 1], src[k]
        dt = b["midpointMjdTai"] - a["midpointMjdTai"]
        k -= 1
        if not (a["band"] != b["band"] and 0 < dt < 40 / 1440):
            continue
        fa, fb = a["psfFlux"], b["psfFlux"]
        if fa is None or fb is None or not (fa > 0 and fb > 0):
            found.append({})
            continue
        blue, red = (a, b) if WAVELENGTH_UM[a["band"]] < WAVELENGTH_UM[b["band"]] else (b, a)
        corr = lambda s: 10 ** (0.4 * EXTINCTION[s["band"]] * ebv)  # noqa: E731
        ratio = blue["psfFlux"] * corr(blue) / (red["psfFlux"] * corr(red))
        found.append(
            {
                "MJD": b["midpointMjdTai"],
                "ColourMag": -2.5 * math.log10(ratio),
                "ColourBands": f"{blue['band']}-{red['band']}",
                "ColourTemp": pair_temperature(
                    ratio, PAIR_WAVELENGTH_UM[blue["band"]], PAIR_WAVELENGTH_UM[red["band"]]
                ),
            }
        )
    return found + [{}] * (2 - len(found))
