"""Agreement of Lanner's Bazin × blackbody fits with Lasair-LSST's BBB definition.

Runs Lanner's ``bazin_blackbody`` enricher on every shared Rubin alert, and beside it a
re-implementation of Lasair-LSST's own BBB fit (``pipeline/filter/alert/features``:
``BBBEngine.make_fit`` with ``BBBCore.fit_expit`` / ``fit_bazin``), as written there:

* all detections of the packet in time order (at least 5), the last 4 forced-photometry points
  before the first one prepended; fluxes de-reddened with the same coefficients; no weights;
* band wavelengths 0.380, 0.500, 0.620, 0.740, 0.880, 1.000 µm; unnormalised ``λ^-3 /
  (exp(14.387 / λT) − 1)``;
* ``scipy.optimize.leastsq`` (at most 500 evaluations; reaching them is no fit) from
  (A, T, t0, kr, kf) = (1000, 4, 6, 0.1, 0.01), and when neither model is kept from
  (100000, 4, −5, 0.01, 0.01); the exponential starts at (A, T, kr − kf);
* kept: Bazin if SSE/SST ≤ 0.25 and 0 ≤ kr ≤ 15, 0 ≤ kf ≤ 2; exponential if SSE/SST ≤ 0.35,
  0 ≤ k ≤ 2, its covariance exists and σ_k ≤ k; the lower ``100 + n ln(SSE/n) + 2p`` wins.

Lasair fits only objects Sherlock calls SN, NT or ORPHAN; here every alert is fitted, so the
comparison is of the fits themselves. Detections with a non-finite flux are left out (Lasair's
fit would return NaN for them). One Python loop per alert: this is an offline study.

Usage::

    python scripts/bbb_agreement.py [SHARED_DIR] > bbb_agreement.md

Prints Markdown tables (used in docs/features-lsst.md).
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import leastsq

from lanner.enrich.features.bazin_blackbody import BazinBlackBody
from lanner.enrich.features.light_curve import RUBIN_EXTINCTION_COEFF, detections, forced
from lanner.enrich.features.milky_way import MilkyWay
from lanner.ingest import read_alerts

REPO = Path(__file__).resolve().parents[1]
LASAIR_WL = np.array([0.380, 0.500, 0.620, 0.740, 0.880, 1.000])
MAXFEV = 500
STARTS = ((1000.0, 4.0, 6.0, 0.1, 0.01), (100000.0, 4.0, -5.0, 0.01, 0.01))


def _bb(lam: np.ndarray, temp: float) -> np.ndarray:
    return np.power(lam, -3.0) / (np.exp(14.387 / (lam * temp)) - 1)


def _bazin(p: np.ndarray, t: np.ndarray, lam: np.ndarray) -> np.ndarray:
    a, temp, t0, kr, kf = p
    tau = t - t0
    return a * _bb(lam, temp) * np.exp(-kf * tau) / (1 + np.exp(-kr * tau))


def _exp(p: np.ndarray, t: np.ndarray, lam: np.ndarray) -> np.ndarray:
    a, temp, k = p
    return a * _bb(lam, temp) * np.exp(k * t)


def _fit(model: Any, p0: list[float], t: np.ndarray, lam: np.ndarray, f: np.ndarray) -> Any:
    fit, cov, info, _, _ = leastsq(lambda p: f - model(p, t, lam), p0, full_output=1, maxfev=MAXFEV)
    if info["nfev"] >= MAXFEV:
        return None
    sse = float(np.sum((f - model(fit, t, lam)) ** 2))
    sst = float(np.sum((f - f.mean()) ** 2))
    if not sse > 0 or not sst > 0:
        return None
    return fit, cov, 100 + len(t) * math.log(sse / len(t)) + 2 * len(p0), sse / sst


def lasair_fit(t: np.ndarray, band: np.ndarray, f: np.ndarray, start: tuple[float, ...]) -> Any:
    """``(model, T, rise rate, fall rate)`` of Lasair's definition, or None."""
    lam = LASAIR_WL[band]
    a, temp, t0, kr, kf = start
    found = []
    e = _fit(_exp, [a, temp, kr - kf], t, lam, f)
    if e is not None:
        p, cov, aic, rsq = e
        ok = rsq <= 0.35 and 0 <= p[2] <= 2 and cov is not None
        if ok and math.sqrt(abs(cov[2][2])) <= p[2]:
            found.append((aic, "exp", p[1], p[2], None))
    b = _fit(_bazin, [a, temp, t0, kr, kf], t, lam, f)
    if b is not None:
        p, _, aic, rsq = b
        if rsq <= 0.25 and 0 <= p[3] <= 15 and 0 <= p[4] <= 2:
            found.append((aic, "bazin", p[1], p[3], p[4]))
    return min(found, key=lambda c: c[0])[1:] if found else None


def main() -> None:
    shared = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(os.environ.get("LANNER_SHARED", REPO.parent / "shared"))
    )
    batch = read_alerts([shared / "data" / "alerts" / "lsst"], survey="lsst")
    for enricher in (MilkyWay("lsst"), BazinBlackBody()):
        batch.add_columns(enricher.table, enricher(batch))
    ours = batch.enriched["objects"].to_pylist()
    for row, object_id in zip(ours, batch.alerts["object_id"].to_pylist(), strict=True):
        row["diaObjectId"] = object_id
    ebv = np.array([r["ebv"] for r in ours], dtype=float)
    det, frc = detections(batch), forced(batch)
    rows: list[tuple[Any, Any]] = []
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    for i in range(len(batch)):
        s = slice(det.offsets[i], det.offsets[i + 1])
        ok = np.isfinite(det.flux[s]) & (det.band[s] >= 0)
        mjd, band, flux = det.mjd[s][ok], det.band[s][ok], det.flux[s][ok]
        theirs = None
        if len(mjd) >= 5:
            fs = slice(frc.offsets[i], frc.offsets[i + 1])
            before = np.flatnonzero(
                (frc.mjd[fs] < mjd[0]) & np.isfinite(frc.flux[fs]) & (frc.band[fs] >= 0)
            )[-4:]
            t = np.concatenate([frc.mjd[fs][before], mjd]) - mjd[0]
            b = np.concatenate([frc.band[fs][before], band]).astype(int)
            f = np.concatenate([frc.flux[fs][before], flux])
            f = f * np.power(10.0, ebv[i] * RUBIN_EXTINCTION_COEFF[b] / 2.5)
            for start in STARTS:
                theirs = lasair_fit(t, b, f, start)
                if theirs is not None:
                    break
        rows.append((ours[i], theirs))
    report(rows)


def report(rows: list[tuple[Any, Any]]) -> None:
    both = [(o, t) for o, t in rows if o["BBBModel"] and t]
    only_lasair = [(o, t) for o, t in rows if not o["BBBModel"] and t]
    only_lanner = [(o, t) for o, t in rows if o["BBBModel"] and not t]
    neither = len(rows) - len(both) - len(only_lasair) - len(only_lanner)
    print(f"{len(rows)} shared Rubin alerts.\n")
    print("| | Lasair fit | Lasair no fit |\n|---|---:|---:|")
    print(f"| Lanner fit | {len(both)} | {len(only_lanner)} |")
    print(f"| Lanner no fit | {len(only_lasair)} | {neither} |")
    print("\n| both fitted: diaObjectId | model (Lanner / Lasair) | T kK | rise /day | fall /day |")
    print("|---|---|---|---|---|")
    for o, t in both:
        fall = f"{o['BBBFallRate']} / {t[3]}" if o["BBBFallRate"] or t[3] else "—"
        print(
            f"| {o['diaObjectId']} | {o['BBBModel']} / {t[0]} | "
            f"{o['BBBTemp']:.2f} / {t[1]:.2f} | {o['BBBRiseRate']:.3f} / {t[2]:.3f} | {fall} |"
        )
    print("\nLanner's reasons where only Lasair keeps a fit (Lasair's model, T, rise rate):\n")
    print("| Lanner's reason | n | Lasair's fits |\n|---|---:|---|")
    by_reason: dict[str, list[Any]] = {}
    for o, t in only_lasair:
        by_reason.setdefault(o["BBBNoFitReason"], []).append(t)
    for reason, fits in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        shown = "; ".join(f"{m} {temp:.1f} kK {k:.2f}" for m, temp, k, _ in fits[:4])
        print(f"| {reason} | {len(fits)} | {shown}{' …' if len(fits) > 4 else ''} |")
    print("\nLanner's reasons on all alerts:\n")
    for reason, n in Counter(o["BBBNoFitReason"] for o, _ in rows).most_common():
        print(f"- {reason or '(fit kept)'}: {n}")


if __name__ == "__main__":
    main()
