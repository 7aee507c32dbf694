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
1° band of Dec around it, 100 rows). Run: ``python -m lanner.bench_api --objects 10000 1000000``
(``--db sqlite:///bench.db`` keeps the archive for the next run).
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


def grow(db_url: str, target: int, chunk: int = 500) -> int:
    """Copy the base objects until the archive holds ``target`` objects (about: whole
    copies); returns the number of objects.

    Each table is copied by ``INSERT … SELECT`` over a join of the base rows with a table of
    copy numbers, ``chunk`` copies per statement and commit, in the order of the primary
    keys (copy, then base object, then source), so the indexes are appended to rather than
    split. The base rows are read from temporary copies (SQLite would otherwise buffer
    every ``INSERT INTO t SELECT … FROM t`` in a temporary table first), and SQLite runs
    without journal or fsync meanwhile (a crash loses only the bench archive)."""
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
        if not pg:
            con.commit()
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            con.execute("PRAGMA cache_size=-262144")  # 256 MiB
        con.execute("CREATE TEMPORARY TABLE bench_base (old BIGINT PRIMARY KEY, idx BIGINT)")
        con.execute("CREATE TEMPORARY TABLE bench_copy (k BIGINT PRIMARY KEY)")
        ph = store.backend.placeholder
        con.cursor().executemany(
            f"INSERT INTO bench_base VALUES ({ph}, {ph})",
            list(zip(base_ids, range(n0), strict=True)),
        )
        for table in COPIED:
            con.execute(
                f"CREATE TEMPORARY TABLE bench_{table} AS SELECT * FROM {quote(table)} "
                f"WHERE {oid} < {FRESH_ID_BASE} ORDER BY {oid}"
            )
            con.execute(f"CREATE INDEX ix_bench_{table} ON bench_{table} ({oid})")
        statements = [_copy_sql(table, n0, pg) for table in COPIED]
        for lo in range(first, first + copies, chunk):
            ks = range(lo, min(lo + chunk, first + copies))
            con.execute("DELETE FROM bench_copy")
            con.cursor().executemany(f"INSERT INTO bench_copy VALUES ({ph})", [(k,) for k in ks])
            for sql in statements:
                con.execute(sql)
            con.commit()
            _say(f"grow: {lo + len(ks) - 1} copies of {n0} objects")
        if not pg:
            con.execute("PRAGMA journal_mode=WAL")
        return int(con.execute("SELECT COUNT(*) FROM objects").fetchone()[0])
    finally:
        store.close()


def _copy_sql(table: str, n0: int, pg: bool) -> str:
    """``INSERT … SELECT`` of ``table``'s base rows (``bench_<table>``) under the ids of the
    copies in ``bench_copy`` (SQLite's ``CROSS JOIN`` fixes the loop order: copy, base
    object, row)."""

    def wrap(x: str, span: float) -> str:
        whole = f"FLOOR(({x}) / {span})" if pg else f"CAST(({x}) / {span} AS INTEGER)"
        return f"(({x}) - {span} * {whole})"

    oid = quote("diaObjectId")
    cols = tables_for("lsst")[table].column_names
    exprs = []
    for col in cols:
        if col == "diaObjectId":
            exprs.append(f"({FRESH_ID_BASE} + c.k * {n0} + b.idx)")
        elif table == "objects" and col == "ra":
            exprs.append(wrap("t.ra + c.k * 137.50776", 360.0))
        elif table == "objects" and col == "decl":
            exprs.append(f"({wrap('t.decl + 90.0 + c.k * 61.803', 180.0)} - 90.0)")
        else:
            exprs.append(f"t.{quote(col)}")
    return (
        f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in cols)}) "
        f"SELECT {', '.join(exprs)} FROM bench_copy c CROSS JOIN bench_base b "
        f"CROSS JOIN bench_{table} t WHERE t.{oid} = b.old"
    )


def sample_objects(db_url: str, n: int, seed: int = 1) -> list[tuple[int, float, float]]:
    """``n`` random objects (id, ra, dec) of the archive, among those whose light curves
    all have a time in MJD 40000–80000 (a few shared test alerts carry placeholder times
    that ``object/`` answers with null dates). Which base objects are sane is read from the
    base rows only: a copy has its original's light curve."""
    oid = quote("diaObjectId")
    odd_time = f"{oid} < {FRESH_ID_BASE} AND NOT mjd BETWEEN 40000 AND 80000"
    store = open_store(db_url, create=False)
    try:
        con, ph = store.con, store.backend.placeholder
        base = [int(r[0]) for r in con.execute(
            f"SELECT {oid} FROM objects WHERE {oid} < {FRESH_ID_BASE} ORDER BY {oid}"
        ).fetchall()]  # fmt: skip
        bad: set[int] = set()
        for table in ("detections", "forced_photometry"):
            sql = f"SELECT DISTINCT {oid} FROM {table} WHERE {odd_time}"
            bad.update(int(r[0]) for r in con.execute(sql).fetchall())
        total = int(con.execute("SELECT COUNT(*) FROM objects").fetchone()[0])
        copies = (total - len(base)) // len(base)
        good = [i for i, o in enumerate(base) if o not in bad]
        rng = random.Random(seed)
        picks = {(k, i) for k, i in ((rng.randint(0, copies), rng.choice(good)) for _ in range(n))}
        ids = [base[i] if k == 0 else FRESH_ID_BASE + k * len(base) + i for k, i in picks]
        rows: list[tuple[Any, ...]] = []
        for lo in range(0, len(ids), 500):
            part = ids[lo : lo + 500]
            marks = ", ".join([ph] * len(part))
            rows += con.execute(
                f"SELECT {oid}, ra, decl FROM objects WHERE {oid} IN ({marks})", tuple(part)
            ).fetchall()
    finally:
        store.close()
    return sorted((int(a), float(b), float(c)) for a, b, c in rows)


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


def run(
    sizes: Sequence[int],
    workdir: Path,
    alerts_dir: Path,
    seconds: float = 10.0,
    workers: int = 4,
    db_url: str | None = None,
    routes: Sequence[str] = ROUTES,
) -> list[Figure]:
    """Build the archive (unless ``db_url`` names one that has objects already), grow it
    size after size, and measure each route at each size."""
    from lanner.filter.users import create_user
    from lanner.serve import accounts
    from lanner.testing.server import LiveServer

    url = db_url or f"sqlite:///{workdir / 'bench_api.db'}"
    if not _has_objects(url):
        started = time.perf_counter()
        build_base(url, alerts_dir)
        _say(f"base archive: {time.perf_counter() - started:.0f} s")
    store = open_store(url, create=False)
    try:
        user, token = create_user(store, f"bench{time.time_ns()}")
        accounts.set_tier(store, user.user_id, "power")
    finally:
        store.close()
    figures: list[Figure] = []
    env = {"LANNER_API_RATES": "10,100,1000000000"}
    for size in sorted(sizes):
        started = time.perf_counter()
        n = grow(url, size)
        _say(f"{n} objects: {time.perf_counter() - started:.0f} s to grow")
        objects = sample_objects(url, 2000)
        with LiveServer(url, workers=workers, env=env, startup_timeout=300) as server:
            for route in routes:
                figure = measure(server.url, token, route, objects, n, seconds=seconds)
                figures.append(figure)
                _say(json.dumps(asdict(figure)))
    return figures


def _has_objects(db_url: str) -> bool:
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).is_file():
        return False
    store = open_store(db_url, create=False)
    try:
        if not store.backend.table_columns(store.con, "objects"):
            return False
        return bool(store.con.execute("SELECT COUNT(*) FROM objects").fetchone()[0])
    finally:
        store.close()


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--objects", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
        help="Archive sizes to measure, smallest first (the archive only grows)",
    )  # fmt: skip
    parser.add_argument("--routes", nargs="+", choices=ROUTES, default=list(ROUTES))
    parser.add_argument("--seconds", type=float, default=10.0, help="Load time per route")
    parser.add_argument("--workers", type=int, default=4, help="Server worker processes")
    parser.add_argument(
        "--db", default=None,
        help="Database URL (default: SQLite in a temporary folder, removed after). An "
        "archive grown by an earlier run is reused: only the missing copies are added",
    )  # fmt: skip
    parser.add_argument("--alerts", type=Path, default=None, help="The shared alerts folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from lanner.bench import shared_dir

    alerts = args.alerts or shared_dir() / "data" / "alerts"
    with tempfile.TemporaryDirectory(prefix="lanner-bench-api-") as tmp:
        figures = run(
            args.objects, Path(tmp), alerts, args.seconds, args.workers, args.db, args.routes
        )
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
