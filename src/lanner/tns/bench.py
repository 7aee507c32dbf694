"""``lanner bench --tns N``: the time to import a TNS public objects file of N rows (the
TNS holds about 170,000 entries).

Input: the BTS list of a checkout's shared data (the rows' template), N, and a database
URL (default: a temporary SQLite file; with PostgreSQL, a fresh schema made and dropped).
Output: a :class:`TnsBench` of seconds: parse the zipped file, first import (every row
new: upsert, the TNS watchlist's cones, the retroactive match), the same file again
(nothing changes), and a daily file of 1,000 rows of which 100 are reclassified.
Side effects: the temporary database.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lanner.store import open_store
from lanner.tns.csv_file import read_tns_bytes
from lanner.tns.importer import import_tns
from lanner.tns.recorded import bts_rows, synthetic_rows, tns_file


@dataclass
class TnsBench:
    rows: int
    file_mb: float
    parse_s: float
    first_import_s: float
    same_file_s: float
    daily_1000_s: float
    rows_per_s_first: float
    backend: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_tns_bench(shared: Path, n: int, db_url: str | None = None) -> TnsBench:
    """Time the import of ``n`` TNS rows (see the module docstring)."""
    template = bts_rows(
        shared / "data" / "catalogs" / "transients" / "ztf_bts_explorer_2022-09-01.csv.gz"
    )
    template = [r for r in template if r["name"]]
    rows = synthetic_rows(template, n)
    data = tns_file(rows, zipped=True)
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = _database(db_url, Path(tmp))
        try:
            store = open_store(url, "lsst")
            try:
                start = time.perf_counter()
                parsed = read_tns_bytes(data)
                parse_s = time.perf_counter() - start
                start = time.perf_counter()
                import_tns(store, parsed, radius=3.0)
                first_s = time.perf_counter() - start
                start = time.perf_counter()
                import_tns(store, read_tns_bytes(data), radius=3.0)
                same_s = time.perf_counter() - start
                daily = [dict(r, lastmodified="2022-09-02 00:00:00") for r in rows[:1000]]
                for r in daily[:100]:
                    r.update(name_prefix="SN" if r["name_prefix"] == "AT" else "AT")
                start = time.perf_counter()
                import_tns(store, read_tns_bytes(tns_file(daily, zipped=True)), radius=3.0)
                daily_s = time.perf_counter() - start
            finally:
                store.close()
        finally:
            drop()
    return TnsBench(
        rows=n,
        file_mb=round(len(data) / 1e6, 2),
        parse_s=round(parse_s, 3),
        first_import_s=round(first_s, 3),
        same_file_s=round(same_s, 3),
        daily_1000_s=round(daily_s, 3),
        rows_per_s_first=round(n / first_s),
        backend="postgres" if db_url and db_url.startswith("postgres") else "sqlite",
    )


def _database(db_url: str | None, tmp: Path) -> tuple[str, Any]:
    """A fresh database and the function that removes it."""
    if db_url is None:
        return f"sqlite:///{tmp / 'tns-bench.db'}", lambda: None
    if not db_url.startswith("postgres"):
        return db_url, lambda: None
    import psycopg

    schema = f"tns_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in db_url else "?"

    def drop() -> None:
        with psycopg.connect(db_url, autocommit=True) as con:
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')

    return f"{db_url}{sep}options=-csearch_path%3D{schema},public", drop
