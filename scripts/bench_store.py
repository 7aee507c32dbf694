"""Store-stage throughput on deep-history Rubin alerts, on SQLite and PostgreSQL.

Input: a file of real Rubin alerts (default: the shared fink-client deep-history file), decoded
and enriched once. Each of ``--repeats`` rounds gives every alert a fresh alert id and a
triggering detection one day later, so every round's alerts repeat the whole history already
stored plus one new detection, as a night's alerts of known objects do. Output: store-stage
alerts/s per backend (``write_batch`` only; decode and enrich are not timed). Side effects: a
temporary SQLite file and a fresh PostgreSQL schema, both removed afterwards.

    python scripts/bench_store.py [--repeats 20] [--pg postgresql://postgres@localhost:5432/test]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lanner.batch import AlertBatch
from lanner.enrich.registry import default_enrichers
from lanner.ingest import assemble, iter_packets
from lanner.schema.registry import RECENCY_COLUMN
from lanner.store import open_store

DEEP = "data/alerts/lsst/astrolabsoftware__fink-client/datatest/lsst/part-2-918301.avro"


def enriched(path: Path) -> AlertBatch:
    batch = assemble(list(iter_packets([path])), "lsst").batch
    for enricher in default_enrichers():
        if "lsst" in enricher.surveys:
            batch.add_columns(enricher.table, enricher(batch))
    return batch


def _set(table: pa.Table, name: str, values: pa.Array | np.ndarray) -> pa.Table:
    i = table.column_names.index(name)
    return table.set_column(
        i, table.schema.field(name), pa.array(values, table.schema.field(name).type)
    )


def copies(batch: AlertBatch, n: int) -> AlertBatch:
    """``n`` copies of ``batch`` as distinct objects (fresh object and source ids)."""
    parts = []
    for c in range(n):
        shift = np.int64(c) * np.int64(10**12)
        tables = {}
        for attr in ("alerts", "detections", "forced", "upper_limits", "cutouts"):
            t = getattr(batch, attr)
            t = _set(t, "object_id", t["object_id"].to_numpy() + shift)
            if "row" in t.column_names:
                t = _set(t, "row", t["row"].to_numpy() + c * len(batch))
            for ident in ("alert_id", "source_id"):
                if ident in t.column_names and t[ident].null_count == 0:
                    t = _set(t, ident, t[ident].to_numpy() + shift)
            tables[attr] = t
        enriched = {}
        for name, t in batch.enriched.items():
            oid = "diaObjectId"
            if oid in t.column_names:
                t = _set(t, oid, t[oid].to_numpy() + shift)
            enriched[name] = t
        parts.append((tables, enriched))
    return AlertBatch(
        survey="lsst",
        **{a: pa.concat_tables([p[0][a] for p in parts]) for a in parts[0][0]},
        packets=[],
        enriched={e: pa.concat_tables([p[1][e] for p in parts]) for e in parts[0][1]},
    )


def round_of(batch: AlertBatch, k: int) -> AlertBatch:
    """``batch`` as the alerts of ``k`` days later: each alert's triggering source moves to a
    new id one day later per round, and its history carries the sources of rounds 1..k-1."""
    alerts = batch.alerts
    old_ids = alerts["alert_id"].to_numpy()
    alerts = _set(alerts, "alert_id", old_ids + np.int64(k) * np.int64(10**6))
    alerts = _set(alerts, "mjd", alerts["mjd"].to_numpy() + k)
    det = batch.detections
    trigger = det.filter(pc.is_in(det["source_id"], pa.array(old_ids)))
    parts = [det]
    for j in range(1, k + 1):
        t = _set(trigger, "source_id", trigger["source_id"].to_numpy() + np.int64(j) * 10**6)
        parts.append(_set(t, "mjd", t["mjd"].to_numpy() + j))
    det = pa.concat_tables(parts)
    det = det.take(pc.sort_indices(det, [("row", "ascending"), ("mjd", "ascending")]))
    cut = batch.cutouts
    cut = _set(cut, "alert_id", cut["alert_id"].to_numpy() + np.int64(k) * np.int64(10**6))
    objects = batch.enriched["objects"]
    rec = RECENCY_COLUMN["lsst"]
    objects = _set(objects, rec, objects[rec].to_numpy(zero_copy_only=False) + k)
    return AlertBatch(
        survey="lsst",
        alerts=alerts,
        detections=det,
        forced=batch.forced,
        upper_limits=batch.upper_limits,
        cutouts=cut,
        packets=batch.packets,
        enriched={**batch.enriched, "objects": objects},
    )


def measure(url: str, rounds: list[AlertBatch]) -> tuple[float, float]:
    """Store alerts/s of the first round (all new) and of the later rounds (history known)."""
    store = open_store(url, "lsst")
    try:
        t0 = time.perf_counter()
        store.write_batch(rounds[0])
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        for batch in rounds[1:]:
            store.write_batch(batch)
        later = time.perf_counter() - t0
    finally:
        store.close()
    n = len(rounds[0])
    return n / first, n * (len(rounds) - 1) / later


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--copies", type=int, default=30, help="distinct objects per alert")
    parser.add_argument("--pg", default="postgresql://postgres@localhost:5432/test")
    parser.add_argument(
        "--no-cutouts", action="store_true", help="leave out the (always new) image stamps"
    )
    args = parser.parse_args()
    batch = copies(enriched(args.shared / DEEP), args.copies)
    rows = batch.detections.num_rows + batch.forced.num_rows + batch.upper_limits.num_rows
    if args.no_cutouts:
        batch.cutouts = batch.cutouts.slice(0, 0)
    rounds = [round_of(batch, k) for k in range(args.repeats)]
    print(f"{len(batch)} alerts/round, {rows} light-curve rows/round, {args.repeats} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        first, later = measure(f"sqlite:///{tmp}/bench.db", rounds)
        print(
            f"sqlite   : first round {first:7.1f} alerts/s, repeated history {later:7.1f} alerts/s"
        )
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in args.pg else "?"
        url = f"{args.pg}{sep}options=-csearch_path%3D{schema},public"
        first, later = measure(url, rounds)
        print(
            f"postgres : first round {first:7.1f} alerts/s, repeated history {later:7.1f} alerts/s"
        )
    finally:
        with psycopg.connect(args.pg, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
