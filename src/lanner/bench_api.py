"""API benchmark: requests/s and p50/p99 latency of cone, object and a typical query
against ``lanner serve`` with 4 workers, for archives from 10,000 to 1,000,000 objects.

Input: a base archive of real alerts (default: the shared Rubin alerts, ingested with
``lanner ingest``), the archive sizes, the load (client processes × threads) and the time
per route. Output: one figure set per (size, route), printed as a table or JSON. Side
effects: archives in a temporary folder (or ``--db``), a live server per size, HTTP load
on loopback.

An archive of N objects is the base archive's objects, their Sherlock rows, detections and
forced photometry copied with fresh object ids (``FRESH_ID_BASE + copy * base + rank``)
and moved on the sky — copy ``k`` adds ``k·137.508°`` to RA and ``k·61.803°`` to
Dec + 90° (both modulo the range) — so cones of the same size find about as many objects at
every size. Each request picks a random object of the archive (cone: its position, 5″,
``all``; object: its id, ``lite``; query: the objects with ``nDiaSources`` above 2 in a
1° band of Dec around it, 100 rows). Run: ``python -m lanner.bench_api --sizes 10000 100000``.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lanner.bench_alerts import FRESH_ID_BASE
from lanner.schema.registry import tables_for
from lanner.store import open_store
from lanner.store.ddl import quote

#: Tables copied per object (what cone, object and query read).
COPIED = ("objects", "sherlock_classifications", "detections", "forced_photometry")
ROUTES = ("cone", "object", "query")
#: Folders of the shared Rubin alerts the base archive is made of.
BASE_SOURCES = (
    "alercebroker__pipeline",
    "boom-astro__boom",
    "lsst-uk__lasair-lsst",
    "lsst-dm__alert-stream-simulator",
    "mwvgroup__pittgoogle-client",
    "pypi__lsst-alert-packet-30.2026.2700",
    "astrolabsoftware__fink-client",
)


@dataclass
class Figure:
    """Load figures of one route at one archive size."""

    objects: int
    route: str
    requests: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float


def build_base(db_url: str, alerts_dir: Path) -> None:
    """The base archive: the shared Rubin alerts through ``lanner ingest``."""
    paths = [
        str(alerts_dir / "lsst" / s) for s in BASE_SOURCES if (alerts_dir / "lsst" / s).is_dir()
    ]
    cmd = [sys.executable, "-m", "lanner", "ingest", *paths, "--survey", "lsst", "--db", db_url]
    subprocess.run(cmd, check=True, capture_output=True)


def grow(db_url: str, target: int) -> int:
    """Copy the base objects until the archive holds ``target`` objects (about: whole
    copies); returns the number of objects."""
    store = open_store(db_url, create=False)
    try:
        con, pg = store.con, store.backend.dialect == "postgres"
        oid = quote("diaObjectId")
        base_ids = [int(r[0]) for r in con.execute(
            f"SELECT {oid} FROM objects WHERE {oid} < {FRESH_ID_BASE} ORDER BY {oid}"
        ).fetchall()]  # fmt: skip
        n0 = len(base_ids)
        have = con.execute("SELECT COUNT(*) FROM objects").fetchone()[0]
        copies = max(0, -(-(target - have) // n0))
        if copies == 0:
            return int(have)
        first = (have - n0) // n0 + 1
        con.execute("CREATE TEMPORARY TABLE bench_base (old BIGINT, idx BIGINT)")
        con.execute("CREATE TEMPORARY TABLE bench_copy (k BIGINT)")
        ph = store.backend.placeholder
        cur = con.cursor()
        cur.executemany(
            f"INSERT INTO bench_base VALUES ({ph}, {ph})",
            list(zip(base_ids, range(n0), strict=True)),
        )
        cur.executemany(
            f"INSERT INTO bench_copy VALUES ({ph})", [(k,) for k in range(first, first + copies)]
        )

        def wrap(x: str, span: float) -> str:
            whole = f"FLOOR(({x}) / {span})" if pg else f"CAST(({x}) / {span} AS INTEGER)"
            return f"(({x}) - {span} * {whole})"

        survey_tables = tables_for("lsst")
        new_id = f"({FRESH_ID_BASE} + c.k * {n0} + b.idx)"
        for table in COPIED:
            cols = survey_tables[table].column_names
            exprs = []
            for col in cols:
                if col == "diaObjectId":
                    exprs.append(new_id)
                elif table == "objects" and col == "ra":
                    exprs.append(wrap("t.ra + c.k * 137.50776", 360.0))
                elif table == "objects" and col == "decl":
                    exprs.append(f"({wrap('t.decl + 90.0 + c.k * 61.803', 180.0)} - 90.0)")
                else:
                    exprs.append(f"t.{quote(col)}")
            con.execute(
                f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in cols)}) "
                f"SELECT {', '.join(exprs)} FROM {quote(table)} t "
                f"JOIN bench_base b ON t.{oid} = b.old CROSS JOIN bench_copy c"
            )
        con.commit()
        return int(con.execute("SELECT COUNT(*) FROM objects").fetchone()[0])
    finally:
        store.close()


def sample_objects(db_url: str, n: int, seed: int = 1) -> list[tuple[int, float, float]]:
    """``n`` random objects (id, ra, dec), among those whose light curves all have a time
    in MJD 40000–80000 (a few shared test alerts carry placeholder times that the
    ``object/`` route cannot render as dates)."""
    oid = quote("diaObjectId")
    sane = "NOT mjd BETWEEN 40000 AND 80000"
    sql = (
        f"SELECT {oid}, ra, decl FROM objects WHERE {oid} NOT IN (SELECT {oid} FROM detections "
        f"WHERE {sane}) AND {oid} NOT IN (SELECT {oid} FROM forced_photometry WHERE {sane})"
    )
    store = open_store(db_url, create=False)
    try:
        rows = store.con.execute(sql).fetchall()
    finally:
        store.close()
    rng = random.Random(seed)
    return [(int(a), float(b), float(c)) for a, b, c in rng.sample(rows, min(n, len(rows)))]


def _request(route: str, obj: tuple[int, float, float]) -> tuple[str, dict[str, Any]]:
    oid, ra, dec = obj
    if route == "cone":
        return "/api/cone/", {"ra": ra, "dec": dec, "radius": 5, "requestType": "all"}
    if route == "object":
        return "/api/object/", {"objectId": oid, "lite": "true"}
    return "/api/query/", {
        "selected": "diaObjectId, ra, decl, nDiaSources",
        "tables": "objects",
        "conditions": f"nDiaSources > 2 AND decl BETWEEN {dec - 0.5} AND {dec + 0.5}",
        "limit": 100,
    }


def _load(
    args: tuple[str, str, str, list[tuple[int, float, float]], int, float, int],
) -> tuple[list[float], int]:
    """One client process: ``threads`` threads sending requests for ``seconds``."""
    import httpx

    url, token, route, objects, threads, seconds, seed = args
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Token {token}"}, timeout=60
        ) as http:
            while time.monotonic() < stop:
                path, data = _request(route, rng.choice(objects))
                start = time.perf_counter()
                reply = http.post(path, data=data)
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took)
                    if reply.status_code != 200:
                        errors[0] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies, errors[0]


def measure(
    url: str,
    token: str,
    route: str,
    objects: list[tuple[int, float, float]],
    n_objects: int,
    processes: int = 4,
    threads: int = 4,
    seconds: float = 10.0,
) -> Figure:
    """Load one route for ``seconds`` with ``processes`` × ``threads`` clients."""
    _load((url, token, route, objects[:50], 1, 1.0, 0))  # warm up every worker's caches
    with ProcessPoolExecutor(processes) as pool:
        start = time.perf_counter()
        parts = list(
            pool.map(
                _load, [(url, token, route, objects, threads, seconds, p) for p in range(processes)]
            )
        )
        elapsed = time.perf_counter() - start
    latencies = np.array([x for lat, _ in parts for x in lat]) * 1000.0
    errors = sum(e for _, e in parts)
    return Figure(
        n_objects, route, len(latencies), errors, round(elapsed, 2),
        round(len(latencies) / elapsed, 1), round(float(np.percentile(latencies, 50)), 2),
        round(float(np.percentile(latencies, 99)), 2),
    )  # fmt: skip


def run(sizes: Sequence[int], workdir: Path, alerts_dir: Path, seconds: float = 10.0,
        workers: int = 4, db_url: str | None = None) -> list[Figure]:  # fmt: skip
    """Build the archive, grow it size after size, and measure each route at each size."""
    from lanner.filter.users import create_user
    from lanner.serve import accounts
    from lanner.testing.server import LiveServer

    url = db_url or f"sqlite:///{workdir / 'bench_api.db'}"
    build_base(url, alerts_dir)
    store = open_store(url, create=False)
    try:
        user, token = create_user(store, f"bench{int(time.time())}")
        accounts.set_tier(store, user.user_id, "power")
    finally:
        store.close()
    figures: list[Figure] = []
    env = {"LANNER_API_RATES": "10,100,1000000000"}
    for size in sorted(sizes):
        n = grow(url, size)
        objects = sample_objects(url, 2000)
        with LiveServer(url, workers=workers, env=env, startup_timeout=300) as server:
            for route in ROUTES:
                figure = measure(server.url, token, route, objects, n, seconds=seconds)
                figures.append(figure)
                print(json.dumps(asdict(figure)), file=sys.stderr, flush=True)
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seconds", type=float, default=10.0, help="Load time per route")
    parser.add_argument("--workers", type=int, default=4, help="Server worker processes")
    parser.add_argument("--db", default=None, help="Database URL (default: SQLite in a temp dir)")
    parser.add_argument("--alerts", type=Path, default=None, help="The shared alerts folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from lanner.bench import shared_dir

    alerts = args.alerts or shared_dir() / "data" / "alerts"
    with tempfile.TemporaryDirectory(prefix="lanner-bench-api-") as tmp:
        figures = run(args.sizes, Path(tmp), alerts, args.seconds, args.workers, args.db)
    if args.json:
        print(json.dumps([asdict(f) for f in figures], indent=1))
        return
    print(f"{'objects':>9} {'route':<7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for f in figures:
        print(
            f"{f.objects:>9} {f.route:<7} {f.per_second:>8.1f} {f.p50_ms:>8.2f} "
            f"{f.p99_ms:>8.2f} {f.errors:>6}"
        )


if __name__ == "__main__":
    main()
