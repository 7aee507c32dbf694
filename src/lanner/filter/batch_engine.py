"""The per-batch filter engine: users' SQL over a database holding only the current batch.

Input: an enriched batch and the active filters. Output: each filter's matching rows. No
side effects (delivery is the distribute stage's job).

As in Lasair, filters see one row per object — its newest alert in the batch — in each
enriched table (``objects``, ``sherlock_classifications``, ...). The tables are Arrow tables
registered in an in-memory DuckDB (no copy), so a hundred filters cost a hundred small
columnar scans. Only the tables the active filters read are registered (each registration
costs milliseconds).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from lanner.batch import OBJECT_ID_COLUMN, AlertBatch, newest_rows
from lanner.filter.execute import sandboxed_duckdb
from lanner.schema.registry import filterable_tables


@dataclass
class BatchTables:
    """The batch as filters see it: a DuckDB connection with one view per enriched table."""

    con: duckdb.DuckDBPyConnection
    rows: np.ndarray  # batch row of each object (aligned with the registered tables)
    alert_ids: pa.Array

    def close(self) -> None:
        self.con.close()


def batch_tables(
    batch: AlertBatch, recency_column: str, only: Collection[str] | None = None
) -> BatchTables:
    """Register the newest row per object of each enriched table in a sandboxed DuckDB;
    ``only``: just the tables of these names (those the active filters read)."""
    oid = OBJECT_ID_COLUMN[batch.survey]
    objects = batch.enriched["objects"]
    recency = objects[recency_column].to_numpy(zero_copy_only=False).astype(np.float64)
    rows = newest_rows(batch, recency)
    take = pa.array(rows)
    tables: dict[str, pa.Table] = {}
    wanted = None if only is None else set(only)
    for name, table in batch.enriched.items():
        if wanted is not None and name not in wanted:
            continue
        if oid not in table.column_names:
            table = table.add_column(0, oid, batch.alerts["object_id"])
        tables[name] = table.take(take)
    # This batch's watchlist, watchmap and sky-map hits.
    tables.update({k: v for k, v in batch.kit.items() if wanted is None or k in wanted})
    # Kit tables the batch does not fill yet exist empty, so filters naming them still run.
    for name, decl in filterable_tables(batch.survey).items():
        if name not in tables and (wanted is None or name in wanted):
            tables[name] = decl.arrow_schema().empty_table()
    # Users' SQL runs here: no file, network or extension access, configuration locked.
    con = sandboxed_duckdb(tables)
    return BatchTables(con, rows, batch.alerts["alert_id"].take(take).combine_chunks())
