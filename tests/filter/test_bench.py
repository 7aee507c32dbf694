"""The filter benchmark runs, and its batch and filters are what they claim to be."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from lanner.filter.bench import bench_batch, bench_catalog, bench_filter_texts, bench_filters
from lanner.filter.compile import compile_lasair
from lanner.filter.execute import DuckDBEngine
from lanner.filter.validate import FilterContext


def test_bench_filters_small() -> None:
    figures = bench_filters(n_filters=20, n_rows=500, repeat=1)
    assert figures["n_filters"] == 20 and figures["n_rows"] == 500
    assert figures["run_s"] > 0 and figures["filters_per_s"] > 0
    assert figures["matches"] > 0


def test_bench_batch_shapes() -> None:
    batch = bench_batch(300, seed=1)
    catalog = bench_catalog()
    for name, table in batch.items():
        assert table.schema == catalog[name].arrow_schema()
    assert batch["objects"].num_rows == 300
    assert pc.all(
        pc.is_in(batch["watchlist_hits"]["objectId"], value_set=batch["objects"]["objectId"])
    ).as_py()


def test_first_bench_filter_counts_like_numpy() -> None:
    batch = bench_batch(2000, seed=2)
    selected, tables, conditions = bench_filter_texts(1, seed=2)[0]
    f = compile_lasair(selected, tables, conditions, FilterContext("ztf", bench_catalog()))
    rows = DuckDBEngine.for_batch(bench_catalog(), batch).run(f).rows()
    # Shape 0 is "gmag < M AND ncand >= N": read M and N back from the text.
    m = float(conditions.split("<")[1].split()[0])
    n = int(conditions.split(">=")[1])
    gmag = batch["objects"]["gmag"].to_numpy(zero_copy_only=False)
    ncand = batch["objects"]["ncand"].to_numpy()
    assert len(rows) == int(np.sum((gmag < m) & (ncand >= n)))
