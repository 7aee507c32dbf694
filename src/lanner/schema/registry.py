"""Every table of a Lanner database for one survey, assembled from the declarations.

``objects`` and the other enriched tables get their columns from the enrichers that fill
them (in pipeline order); the rest come from :mod:`lanner.schema.tables`. This is the one
source the DDL, the filter validator and the schema docs read. Reading it imports no science
package: enrichers declare their columns without loading their catalogues or models.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from lanner.schema.columns import Column, Table
from lanner.schema.kit import kit_tables
from lanner.schema.tables import filter_tables, light_curve_tables, object_id_column
from lanner.serve.tables import api_tables
from lanner.surveys import OBJECT_ID_COLUMN, Survey

if TYPE_CHECKING:
    from lanner.enrich.base import Enricher

#: Human description of each enriched table.
ENRICHED_TABLE_DOCS = {
    "objects": "One row per object, refreshed by its newest alert: position, times, counts "
    "and light-curve features.",
    "sherlock_classifications": "Sky context of each object from catalogue cross-match.",
}

#: Column whose larger value marks the newer alert, per survey (out-of-order arrivals).
RECENCY_COLUMN = {"ztf": "jdmax", "lsst": "lastDiaSourceMjdTai"}
POSITION_COLUMNS = {"ztf": ("ramean", "decmean"), "lsst": ("ra", "decl")}


def enriched_tables(survey: Survey) -> list[Table]:
    from lanner.enrich.registry import default_enrichers

    columns: dict[str, list[Column]] = {}
    for enricher in default_enrichers():
        if survey in enricher.surveys:
            columns.setdefault(enricher.table, []).extend(enricher.columns)
    oid_name = OBJECT_ID_COLUMN[survey]
    tables = []
    for name, cols in columns.items():
        if not any(c.name == oid_name for c in cols):
            cols = [object_id_column(survey), *cols]
        is_objects = name == "objects"
        tables.append(
            Table(
                name,
                ENRICHED_TABLE_DOCS.get(name, f"Enriched table {name}."),
                tuple(cols),
                primary_key=(oid_name,),
                filterable=True,
                position=POSITION_COLUMNS[survey] if is_objects else None,
                indexes=((RECENCY_COLUMN[survey],),) if is_objects else (),
                extra={"recency": RECENCY_COLUMN[survey]} if is_objects else {},
            )
        )
    return tables


@lru_cache(maxsize=2)
def tables_for(survey: Survey) -> dict[str, Table]:
    """All tables of a ``survey`` database, by name."""
    tables = enriched_tables(survey) + light_curve_tables(survey) + filter_tables(survey)
    tables += list(kit_tables(survey).values())
    tables += api_tables()
    return {t.name: t for t in tables}


def undeclared_columns(enrichers: Iterable[Enricher]) -> list[str]:
    """The columns ``enrichers`` add that the schema does not store, as ``"enricher:
    survey table.column"``: a pipeline with such an enricher must not start (its values
    would be computed and lost)."""
    missing = []
    for enricher in enrichers:
        for survey in sorted(enricher.surveys):
            table = tables_for(survey).get(enricher.table)
            stored = set(table.column_names) if table is not None else set()
            missing += [
                f"{enricher.name}: {survey} {enricher.table}.{c.name}"
                for c in enricher.columns
                if c.name not in stored
            ]
    return missing


def filterable_tables(survey: Survey) -> dict[str, Table]:
    """The tables users may name in SQL filters."""
    return {n: t for n, t in tables_for(survey).items() if t.filterable}
