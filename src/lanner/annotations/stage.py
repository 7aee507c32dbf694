"""The pipeline's annotations step: the stored annotations of a batch's objects, for the
streaming filters.

Input: an enriched batch already written to the store. Output: the number of annotation
rows loaded. Side effects: ``batch.kit["annotations"]`` (and ``batch.kit
["annotation_history"]`` when an active filter reads the history) hold the stored rows of
the batch's objects, so a filter joining ``annotator:TOPIC`` on the batch sees what the
archive knows of each object, as Lasair's filter nodes see their cached annotations.
Nothing is read when no active filter names an annotations table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from lanner.batch import AlertBatch
from lanner.filter.saved import active_filters
from lanner.filter.validate import ANNOTATION_TABLES
from lanner.store import Store
from lanner.store.ddl import quote

#: Ids per IN (...) list on SQLite.
_CHUNK = 500


def tables_read(sqls: Sequence[str]) -> list[str]:
    """The annotation tables some of ``sqls`` name."""
    lowered = [s.lower() for s in sqls]
    return [t for t in ANNOTATION_TABLES if any(t in s for s in lowered)]


class AnnotationStage:
    """Loads the annotations of each batch's objects into the batch for the filters."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def run(self, batch: AlertBatch) -> int:
        """Put the stored annotations of ``batch``'s objects in ``batch.kit``; return how
        many rows were loaded."""
        if len(batch) == 0:
            return 0
        wanted = tables_read([f.sql for f in active_filters(self.store)])
        if not wanted:
            return 0
        ids = list(dict.fromkeys(batch.alerts["object_id"].to_pylist()))
        loaded = 0
        for name in wanted:
            table = load_rows(self.store, name, ids)
            batch.kit[name] = table
            loaded += table.num_rows
        return loaded


def load_rows(store: Store, name: str, ids: Sequence[Any]) -> pa.Table:
    """Rows of the annotation table ``name`` whose object is in ``ids``, as Arrow with the
    declared schema."""
    decl = store.tables[name]
    oid = quote(store.object_id_column)
    cols = ", ".join(quote(c) for c in decl.column_names)
    rows: list[tuple[Any, ...]] = []
    if store.backend.dialect == "postgres":
        rows = store._read(f"SELECT {cols} FROM {quote(name)} WHERE {oid} = ANY(%s)", (list(ids),))
    else:
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            rows += store._read(
                f"SELECT {cols} FROM {quote(name)} WHERE {oid} IN ({', '.join('?' * len(chunk))})",
                tuple(chunk),
            )
    schema = decl.arrow_schema()
    arrays = []
    for i, field in enumerate(schema):
        values = [r[i] for r in rows]
        if pa.types.is_timestamp(field.type) and store.backend.dialect == "sqlite":
            arrays.append(pa.array(values, pa.string()).cast(field.type))
        elif pa.types.is_boolean(field.type):
            arrays.append(pa.array([None if v is None else bool(v) for v in values], field.type))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
