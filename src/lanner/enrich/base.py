"""The enricher contract: a batch in, new columns out.

An enricher is a small object with a name, the surveys it serves, the table it fills and the
columns it adds (declared once, with type, unit and description), and a call that maps a
whole :class:`~lanner.batch.AlertBatch` to those columns, one row per alert. It must not loop
in Python over alerts where numpy can do the work, must load its catalogues or models once
(in its constructor), and must not write anywhere: storing is the store stage's job.

A value it cannot compute is NULL (NaN / None), never a crash and never a warning per alert.

Enrichers of the ``objects`` table subclass :class:`ObjectFeatureEnricher`, which holds the
shape they share: they only declare their columns and compute the values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import pyarrow as pa

from lanner.batch import AlertBatch, Survey
from lanner.schema.columns import Column


@runtime_checkable
class Enricher(Protocol):
    """A pipeline step that adds value to every alert of a batch.

    Attributes
    ----------
    name
        Short unique name; it is the ``producer`` of each of its columns.
    table
        Stored table the columns belong to (``objects``, ``sherlock_classifications``, ...).
    surveys
        The surveys it serves; the pipeline skips it for others.
    columns
        The columns it adds, in order.
    """

    name: str
    table: str
    surveys: frozenset[Survey]

    @property
    def columns(self) -> Sequence[Column]: ...

    def __call__(self, batch: AlertBatch) -> pa.Table:
        """Return a table with exactly ``columns`` (names and Arrow types), one row per alert
        of ``batch.alerts`` in the same order. May read tables earlier enrichers added to
        ``batch.enriched``."""
        ...


def to_table(columns: Sequence[Column], values: dict[str, object]) -> pa.Table:
    """Build an enricher's output from numpy arrays / lists, cast to the declared types.

    Float NaN becomes NULL, so SQL ``IS NULL`` finds values that could not be computed.
    """
    arrays = []
    for col in columns:
        if col.name not in values:
            raise KeyError(f"enricher did not compute declared column {col.name!r}")
        value = values[col.name]
        if isinstance(value, pa.ChunkedArray):
            arr = value.combine_chunks()
        elif isinstance(value, pa.Array):
            arr = value
        else:
            arr = pa.array(value, from_pandas=True)
        arrays.append(arr.cast(col.arrow_type))
    extra = set(values) - {c.name for c in columns}
    if extra:
        raise KeyError(f"enricher computed undeclared columns {sorted(extra)}")
    return pa.Table.from_arrays(arrays, schema=pa.schema([(c.name, c.arrow_type) for c in columns]))


class ObjectFeatureEnricher:
    """The common shape of an enricher whose columns are fixed for its instance and whose
    values come from one computation over the batch: subclasses give ``name``,
    ``surveys`` and ``declared_columns`` and implement :meth:`values`; this class turns
    the values into the declared table.
    """

    name: str
    table = "objects"
    surveys: frozenset[Survey]
    declared_columns: Sequence[Column]

    @property
    def columns(self) -> Sequence[Column]:
        return self.declared_columns

    def values(self, batch: AlertBatch) -> Mapping[str, object]:
        """Every declared column of ``batch``, one value per alert, by column name."""
        raise NotImplementedError

    def __call__(self, batch: AlertBatch) -> pa.Table:
        return to_table(self.declared_columns, dict(self.values(batch)))
