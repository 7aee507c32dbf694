"""Benchmark of the streaming filter stage: many active filters on one batch, in DuckDB.

:func:`bench_filters` builds a batch of ``n_rows`` objects with their kit rows (Sherlock
classes, watchlist and watchmap hits, TNS matches, annotations), compiles ``n_filters``
filters of realistic shapes (the kinds of query Lasair users save: magnitude and colour
cuts, recency with ``jdnow()``, Sherlock classes, watchlists, watchmaps, annotators with
JSON, TNS, sub-queries, ORDER BY/LIMIT), and times them on one DuckDB thread.

The batch is synthetic (random values with plausible ranges, seeded) because the filter
stage's cost depends on row counts and query shapes, not on the values; the column names
are Lasair's ZTF ones. ``lanner bench`` calls this for its filters stage.

Input: sizes and a seed. Output: a dict of figures (seconds, filters/s, rows). No side
effects beyond CPU time.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyarrow as pa

from lanner.filter.compile import CompiledFilter, compile_lasair, compile_sql
from lanner.filter.execute import STREAMING, DuckDBEngine
from lanner.filter.validate import FilterContext, Visibility
from lanner.schema.columns import Column, Table
from lanner.schema.kit import filterable_kit_tables

_TNS_WL = 1
_CLASSES = np.array(["SN", "NT", "AGN", "VS", "CV", "BS", "ORPHAN", "UNCLEAR"])

#: Objects columns used by the benchmark filters (Lasair ZTF names).
BENCH_OBJECTS = Table(
    "objects",
    "Objects of the benchmark batch (Lasair ZTF column names)",
    (
        Column("objectId", "text", "ZTF object id", nullable=False),
        Column("ramean", "double", "Mean right ascension", "deg"),
        Column("decmean", "double", "Mean declination", "deg"),
        Column("gmag", "double", "Latest g magnitude", "mag"),
        Column("rmag", "double", "Latest r magnitude", "mag"),
        Column("ncand", "int", "Number of detections"),
        Column("jdmax", "double", "Latest detection", "JD"),
        Column("dmdt_g", "double", "g-band rate of change", "mag/day"),
        Column("flux_g", "double", "Latest g difference flux", "nJy"),
    ),
    primary_key=("objectId",),
    filterable=True,
)
BENCH_SHERLOCK = Table(
    "sherlock_classifications",
    "Sherlock context of the benchmark batch",
    (
        Column("objectId", "text", "ZTF object id", nullable=False),
        Column("classification", "text", "Sherlock class"),
        Column("separationArcsec", "double", "Distance to the matched source", "arcsec"),
        Column("z", "double", "Redshift of the matched source"),
    ),
    primary_key=("objectId",),
    filterable=True,
)


def bench_catalog() -> dict[str, Table]:
    """The tables the benchmark filters name."""
    return {
        "objects": BENCH_OBJECTS,
        "sherlock_classifications": BENCH_SHERLOCK,
        **filterable_kit_tables("ztf"),
    }


def bench_batch(n_rows: int, seed: int = 0, now_jd: float = 2460500.5) -> dict[str, pa.Table]:
    """A synthetic batch of ``n_rows`` objects and their kit rows."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"ZTF24{i:07d}" for i in range(n_rows)], dtype=object)
    gmag = rng.normal(19.0, 1.2, n_rows)
    gmag[rng.random(n_rows) < 0.2] = np.nan  # not every object has a g detection
    objects = pa.table(
        {
            "objectId": ids,
            "ramean": rng.uniform(0, 360, n_rows),
            "decmean": np.degrees(np.arcsin(rng.uniform(-1, 0.6, n_rows))),
            "gmag": pa.array(gmag, from_pandas=True),
            "rmag": rng.normal(18.8, 1.2, n_rows),
            "ncand": pa.array(rng.integers(1, 200, n_rows), pa.int32()),
            "jdmax": now_jd - rng.exponential(20, n_rows),
            "dmdt_g": rng.normal(0, 0.1, n_rows),
            "flux_g": rng.normal(2000, 3000, n_rows),
        }
    )
    sherlock = pa.table(
        {
            "objectId": ids,
            "classification": _CLASSES[rng.integers(0, len(_CLASSES), n_rows)],
            "separationArcsec": rng.exponential(2.0, n_rows),
            "z": pa.array(
                np.where(rng.random(n_rows) < 0.3, rng.uniform(0, 0.3, n_rows), np.nan),
                from_pandas=True,
            ),
        }
    )

    def pick(frac: float) -> np.ndarray:
        return np.flatnonzero(rng.random(n_rows) < frac)

    wl = pick(0.03)
    wl_ids = rng.integers(2, 12, len(wl))
    tns = pick(0.01)
    hits = pa.table(
        {
            "objectId": np.concatenate([ids[wl], ids[tns]]),
            "wl_id": pa.array(np.concatenate([wl_ids, np.full(len(tns), _TNS_WL)]), pa.int32()),
            "cone_id": np.arange(len(wl) + len(tns), dtype=np.int64),
            "arcsec": rng.uniform(0, 3, len(wl) + len(tns)),
            "name": [f"2024{i:05d}" for i in range(len(wl) + len(tns))],
        }
    )
    crossmatch = pa.table(
        {
            "tns_name": [f"2024{i:05d}" for i in range(len(wl) + len(tns))],
            "tns_prefix": np.where(rng.random(len(wl) + len(tns)) < 0.3, "SN", "AT"),
            "z": rng.uniform(0.001, 0.2, len(wl) + len(tns)),
            "type": np.where(rng.random(len(wl) + len(tns)) < 0.5, "SN Ia", "SN II"),
        }
    )
    ar = pick(0.1)
    areas = pa.table(
        {"objectId": ids[ar], "ar_id": pa.array(rng.integers(20, 30, len(ar)), pa.int32())}
    )
    ann = pick(0.1)
    probs = rng.random(len(ann))
    annotations = pa.table(
        {
            "objectId": ids[ann],
            "topic": np.where(rng.random(len(ann)) < 0.5, "fastfinker", "lightcurve_fit"),
            "classification": _CLASSES[rng.integers(0, 4, len(ann))],
            "classdict": [
                f'{{"prob": {p:.3f}, "kind": "{k}"}}'
                for p, k in zip(probs, _CLASSES[rng.integers(0, 4, len(ann))], strict=True)
            ],
        }
    )
    catalog = bench_catalog()

    def complete(name: str, table: pa.Table) -> pa.Table:
        # Declared columns the generator leaves out are NULL.
        schema = catalog[name].arrow_schema()
        cols = [
            table[f.name].cast(f.type)
            if f.name in table.column_names
            else pa.nulls(table.num_rows, f.type)
            for f in schema
        ]
        return pa.Table.from_arrays(cols, schema=schema)

    return {
        name: complete(name, t)
        for name, t in (
            ("objects", objects),
            ("sherlock_classifications", sherlock),
            ("watchlist_hits", hits),
            ("crossmatch_tns", crossmatch),
            ("area_hits", areas),
            ("annotations", annotations),
        )
    }


def bench_filter_texts(n_filters: int, seed: int = 0) -> list[tuple[str, ...]]:
    """``n_filters`` filters of realistic shapes: Lasair triples or one-element SQL tuples."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, ...]] = []
    for i in range(n_filters):
        m = round(float(rng.uniform(16.5, 20.5)), 2)
        n = int(rng.integers(2, 30))
        cls = str(_CLASSES[i % 4])
        shape = i % 10
        if shape == 0:
            out.append(
                (
                    "objects.objectId, objects.gmag, objects.rmag",
                    "objects",
                    f"objects.gmag < {m} AND objects.ncand >= {n}",
                )
            )
        elif shape == 1:
            out.append(
                (
                    "objects.objectId, objects.gmag - objects.rmag AS colour",
                    "objects",
                    f"objects.gmag - objects.rmag < -0.2 AND objects.jdmax > jdnow() - {n}"
                    " ORDER BY objects.jdmax DESC",
                )
            )
        elif shape == 2:
            out.append(
                (
                    "objects.objectId, sherlock_classifications.classification",
                    "objects, sherlock_classifications",
                    f"sherlock_classifications.classification IN ('{cls}', 'NT') AND "
                    f"sherlock_classifications.separationArcsec < {n / 10} AND "
                    f"objects.rmag < {m}",
                )
            )
        elif shape == 3:
            out.append(
                (
                    "objects.objectId, watchlist_hits.name, watchlist_hits.arcsec",
                    f"objects, watchlist:{2 + i % 10}",
                    "watchlist_hits.arcsec < 2",
                )
            )
        elif shape == 4:
            out.append(
                (
                    "objects.objectId, objects.ramean, objects.decmean",
                    f"objects, area:{20 + i % 10}",
                    f"objects.gmag < {m}",
                )
            )
        elif shape == 5:
            out.append(
                (
                    "objects.objectId, fastfinker.classification, "
                    "JSON_EXTRACT(fastfinker.classdict, '$.prob') AS prob",
                    "objects, annotator:fastfinker",
                    f"JSON_EXTRACT(fastfinker.classdict, '$.prob') > {m / 25:.2f}",
                )
            )
        elif shape == 6:
            out.append(
                (
                    "objects.objectId, crossmatch_tns.tns_name, crossmatch_tns.z",
                    "objects, crossmatch_tns, sherlock_classifications",
                    f"crossmatch_tns.z < 0.1 AND objects.ncand > {n // 2}",
                )
            )
        elif shape == 7:
            out.append(
                (
                    "objects.objectId, flux2mag(objects.flux_g) AS mag",
                    "objects",
                    f"flux2mag(objects.flux_g) < {m} AND objects.dmdt_g < -0.05 "
                    "ORDER BY objects.dmdt_g LIMIT 100",
                )
            )
        elif shape == 8:
            out.append(
                (
                    "SELECT o.objectId, o.gmag, s.z FROM objects o JOIN sherlock_classifications s "
                    f"ON o.objectId = s.objectId WHERE s.z BETWEEN 0.01 AND {n / 100} AND "
                    f"(o.gmag < {m} OR o.rmag < {m}) AND o.decmean < 10",
                )
            )
        else:
            out.append(
                (
                    "SELECT objectId, ncand, jdmax FROM objects WHERE objectId IN (SELECT "
                    "objectId FROM sherlock_classifications WHERE classification = "
                    f"'{cls}') AND ncand BETWEEN {n} AND {n + 50} AND jdmax > jdnow() - 5",
                )
            )
    return out


def _compile(text: tuple[str, ...], ctx: FilterContext) -> CompiledFilter:
    if len(text) == 1:
        return compile_sql(text[0], ctx)
    return compile_lasair(text[0], text[1], text[2], ctx)


def bench_filters(
    n_filters: int = 100, n_rows: int = 10_000, seed: int = 0, repeat: int = 3
) -> dict[str, Any]:
    """Time ``n_filters`` filters on a batch of ``n_rows`` objects in one DuckDB thread.

    Returns
    -------
    dict
        ``compile_s`` (all filters, once), ``setup_s`` (registering the batch),
        ``run_s`` (best of ``repeat`` runs of every filter on the batch),
        ``per_filter_ms`` (mean and max over filters of that run), ``filters_per_s``,
        ``matches`` (rows returned over all filters), and the sizes.
    """
    catalog = bench_catalog()
    ctx = FilterContext(
        "ztf",
        catalog,
        Visibility(watchlists=frozenset(range(2, 12)), watchmaps=frozenset(range(20, 30))),
        tns_watchlist_id=_TNS_WL,
    )
    texts = bench_filter_texts(n_filters, seed)
    t0 = time.perf_counter()
    compiled = [_compile(t, ctx) for t in texts]
    for f in compiled:
        f.sql("duckdb")
    compile_s = time.perf_counter() - t0

    batch = bench_batch(n_rows, seed)
    t0 = time.perf_counter()
    engine = DuckDBEngine.for_batch(catalog, batch)
    setup_s = time.perf_counter() - t0

    now_mjd = 60500.0
    best: list[float] | None = None
    matches = 0
    for _ in range(max(1, repeat)):
        times = []
        matches = 0
        for f in compiled:
            # Wall time of the whole call: binding, timer, engine and result building.
            t0 = time.perf_counter()
            result = engine.run(f, STREAMING, now_mjd=now_mjd)
            times.append(time.perf_counter() - t0)
            matches += result.num_rows
        if best is None or sum(times) < sum(best):
            best = times
    assert best is not None
    run_s = float(sum(best))
    return {
        "n_filters": n_filters,
        "n_rows": n_rows,
        "compile_s": round(compile_s, 4),
        "setup_s": round(setup_s, 4),
        "run_s": round(run_s, 4),
        "per_filter_ms": {
            "mean": round(1000 * run_s / len(best), 3),
            "max": round(1000 * max(best), 3),
        },
        "filters_per_s": round(len(best) / run_s, 1),
        "matches": matches,
    }
