"""Figures of the sky-area step for ``lanner bench``: watchlist matching, retroactive
matches over a large archive, and a GW sky map's regions and hits.

Input: sizes. Output: a dict of figures (seconds, rates). Side effects: a temporary SQLite
archive of synthetic objects (uniform on the sky), deleted afterwards. Everything runs in
this process, on one core (HEALPix calls are single-threaded); measure on an idle machine.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from lanner.sky_areas.cone_files import Cones
from lanner.sky_areas.cones import ConeIndex
from lanner.sky_areas.mma import match_archive as match_map
from lanner.sky_areas.skymap import read_skymap, values_at
from lanner.sky_areas.watchlists import add_watchlist
from lanner.store import open_store

#: A GW map for the sky-map figures: the LVK mock event's multi-order map is embedded in its
#: notices; without the shared data the benchmark makes no sky-map figures.
SKYMAP_NOTICE = Path("data") / "catalogs" / "gw_notices" / "MS181101ab-preliminary.json"


#: Sizes of ``lanner bench``'s figures (the issue's: a million cones, a 10,000-alert batch,
#: a million-object archive).
SIZES = {"n_cones": 1_000_000, "n_alerts": 10_000, "n_archive": 1_000_000}


def bench_for_cli() -> dict[str, Any]:
    """The figures at :data:`SIZES`, with the sky-map ones when the shared data is found."""
    import os

    env = os.environ.get("LANNER_SHARED")
    candidates = [Path(env)] if env else [Path.cwd().parent / "shared", Path.cwd() / "shared"]
    shared = next((c for c in candidates if (c / SKYMAP_NOTICE).exists()), None)
    return bench_sky_areas(**SIZES, shared=shared)


def _sky(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


def bench_sky_areas(
    n_cones: int = 1_000_000,
    n_alerts: int = 10_000,
    n_archive: int = 1_000_000,
    radius_arcsec: float = 2.0,
    shared: Path | None = None,
    repeat: int = 3,
) -> dict[str, Any]:
    """Time the cone index and the retroactive matches.

    ``shared`` is the shared data folder (for the sky-map figures); ``None`` skips them.
    """
    rng = np.random.default_rng(2024)
    ra, dec = _sky(rng, n_cones)
    start = time.perf_counter()
    index = ConeIndex(ra, dec, np.full(n_cones, radius_arcsec))
    build = time.perf_counter() - start
    # Alerts: half of them within the radius of a cone, half anywhere.
    a_ra, a_dec = _sky(rng, n_alerts)
    near = rng.integers(0, n_cones, n_alerts // 2)
    a_ra[: len(near)] = ra[near]
    a_dec[: len(near)] = dec[near] + rng.uniform(-0.5, 0.5, len(near)) * radius_arcsec / 3600
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        matches = index.match(a_ra, a_dec)
        runs.append(time.perf_counter() - start)
    match_s = min(runs)
    out: dict[str, Any] = {
        "cones": n_cones,
        "alerts": n_alerts,
        "index_build_s": round(build, 3),
        "batch_match_s": round(match_s, 4),
        "cone_alert_pairs_per_s": float(f"{n_cones * n_alerts / match_s:.3g}"),
        "batch_hits": len(matches),
    }
    with tempfile.TemporaryDirectory() as tmp:
        out.update(_archive_figures(Path(tmp), rng, n_archive, ra, dec, radius_arcsec, shared))
    return out


def _archive_figures(
    folder: Path,
    rng: np.random.Generator,
    n_archive: int,
    ra: np.ndarray,
    dec: np.ndarray,
    radius_arcsec: float,
    shared: Path | None,
) -> dict[str, Any]:
    store = open_store(f"sqlite:///{folder / 'bench.db'}", "lsst")
    try:
        o_ra, o_dec = _sky(rng, n_archive)
        o_ra[:1000], o_dec[:1000] = ra[:1000], dec[:1000]  # 1,000 objects in cones
        mjd = 58423.93 + rng.uniform(0, 30, n_archive)
        if shared is not None:  # 1,000 objects in the GW map's 90% region, after the event
            o_ra[1000:2000] = 194.3 + rng.uniform(-1, 1, 1000)
            o_dec[1000:2000] = -17.9 + rng.uniform(-1, 1, 1000)
        rows = list(
            zip(range(1, n_archive + 1), o_ra.tolist(), o_dec.tolist(), mjd.tolist(), strict=True)
        )
        store.con.executemany(
            'INSERT INTO objects ("diaObjectId", ra, decl, "lastDiaSourceMjdTai") '
            "VALUES (?, ?, ?, ?)",
            rows,
        )
        store.con.commit()
        cones = Cones(ra, dec, [""] * len(ra), np.full(len(ra), np.nan))
        start = time.perf_counter()
        _, retro = add_watchlist(store, "bench", cones, radius=radius_arcsec)
        figures: dict[str, Any] = {
            "archive_objects": n_archive,
            "watchlist_add_and_retro_match_s": round(time.perf_counter() - start, 2),
            "watchlist_retro_hits": retro,
        }
        notice = None if shared is None else shared / SKYMAP_NOTICE
        if notice is not None and notice.exists():
            figures.update(_skymap_figures(store, notice, rng))
        return figures
    finally:
        store.close()


def _skymap_figures(store: Any, notice: Path, rng: np.random.Generator) -> dict[str, Any]:
    from lanner.sky_areas.mma import add_skymap
    from lanner.sky_areas.notices import parse_notice

    parsed = parse_notice(notice.read_bytes())
    assert parsed.skymap is not None
    start = time.perf_counter()
    skymap = read_skymap(parsed.skymap)
    regions = time.perf_counter() - start
    start = time.perf_counter()
    mw_id, hits = add_skymap(store, skymap, namespace="LVK", other_id="bench", event_mjd=58423.93)
    retro = time.perf_counter() - start
    b_ra, b_dec = _sky(rng, 10_000)
    start = time.perf_counter()
    values_at(skymap.region, b_ra, b_dec)
    batch = time.perf_counter() - start
    again = time.perf_counter()
    match_map(store, mw_id, 58423.93, skymap.region)
    return {
        "skymap_regions_s": round(regions, 3),
        "skymap_area90_deg2": round(skymap.areas[0.9], 2),
        "skymap_add_and_retro_match_s": round(retro, 2),
        "skymap_retro_hits": hits,
        "skymap_rematch_s": round(time.perf_counter() - again, 2),
        "skymap_values_10000_alerts_s": round(batch, 4),
    }
