"""Upgrade steps for databases made by earlier versions of Lanner.

Input: a database URL. Output: an :class:`UpgradeReport` of what moved. Side effects: alters
the database's tables, in one transaction (all or nothing). ``lanner db upgrade`` calls the
steps; each is idempotent, so running it on an up-to-date database changes nothing.

Light-curve layout 1 → 2 (:func:`upgrade_light_curves`): layout 1 keyed light curves by
(object, ``mjd``, ``band``), which merged distinct sources of one object at one time;
layout 2 keys them by the survey's identity of each measurement and records the packet each
row's values came from (see :mod:`lanner.schema.tables`).

* ``detections`` are copied into the new layout, keyed by their stored ``source_id``; their
  provenance and digest are unknown (NULL: any packet carrying them is newer, and rewrites
  them once). A detection that layout 1
  merged into another one comes back when an alert carrying it is ingested again.
* ``forced_photometry`` rows of layout 1 have no id, so they cannot be keyed: the old table is
  kept, unchanged, as ``forced_photometry_layout1``, and the new table starts empty; ingesting
  the alerts again fills it (then drop the old table).
* ``upper_limits`` keep their key and gain the provenance and digest columns (NULL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lanner.schema.registry import tables_for
from lanner.schema.tables import LIGHT_CURVE_LAYOUT
from lanner.store.backends import Backend, StoreError, backend_for
from lanner.store.database import LAYOUT_KEY, META_DDL
from lanner.store.ddl import add_column_statements, create_statements, quote
from lanner.store.light_curves import DIGEST, PROVENANCE
from lanner.surveys import Survey

#: Where layout-1 forced photometry is kept (it has no ids to key it by).
LEGACY_FORCED = "forced_photometry_layout1"


@dataclass
class UpgradeReport:
    """What an upgrade did; empty ``steps`` when the database was up to date."""

    steps: list[str] = field(default_factory=list)
    #: Rows copied into the new layout, per table.
    rows_copied: dict[str, int] = field(default_factory=dict)
    #: Rows that could not be keyed (no source id), per table, and where they are now.
    rows_set_aside: dict[str, int] = field(default_factory=dict)


def light_curve_layout(backend: Backend, con: Any) -> int | None:
    """The light-curve layout of a database: 1, 2, or ``None`` if it has no light curves."""
    con.execute(META_DDL)
    ph = backend.placeholder
    row = con.execute(f"SELECT value FROM lanner_meta WHERE key = {ph}", (LAYOUT_KEY,)).fetchone()
    if row is not None:
        return int(row[0])
    return 1 if backend.table_columns(con, "detections") else None


def upgrade_light_curves(url: str) -> UpgradeReport:
    """Bring the light-curve tables of the database at ``url`` to the current layout."""
    backend = backend_for(url)
    con = backend.connect()
    report = UpgradeReport()
    try:
        layout = light_curve_layout(backend, con)
        if layout is None or layout >= LIGHT_CURVE_LAYOUT:
            con.commit()
            return report
        ph = backend.placeholder
        row = con.execute(f"SELECT value FROM lanner_meta WHERE key = {ph}", ("survey",))
        found = row.fetchone()
        if found is None:
            raise StoreError(f"the database {url} has light curves but no survey in lanner_meta")
        survey: Survey = found[0]
        tables = tables_for(survey)
        oid = quote("objectId" if survey == "ztf" else "diaObjectId")
        old = "detections_layout1"
        _rename(backend, con, "detections", old)
        _rename(backend, con, "forced_photometry", LEGACY_FORCED)
        for name in ("detections", "forced_photometry"):
            for stmt in create_statements(tables[name], backend.dialect):
                con.execute(stmt)
        cols = [c for c in tables["detections"].column_names if c not in (*PROVENANCE, DIGEST)]
        names = ", ".join(quote(c) for c in cols)
        cur = con.execute(
            f"INSERT INTO detections ({names}) SELECT {names} FROM {quote(old)} "
            f"WHERE source_id IS NOT NULL ORDER BY {oid}, mjd ON CONFLICT DO NOTHING"
        )
        report.rows_copied["detections"] = int(cur.rowcount)
        left = con.execute(f"SELECT COUNT(*) FROM {quote(old)} WHERE source_id IS NULL").fetchone()[
            0
        ]
        if left:
            report.rows_set_aside["detections"] = int(left)
        con.execute(f"DROP TABLE {quote(old)}")
        forced = con.execute(f"SELECT COUNT(*) FROM {quote(LEGACY_FORCED)}").fetchone()[0]
        report.rows_set_aside["forced_photometry"] = int(forced)
        existing = backend.table_columns(con, "upper_limits")
        for stmt in add_column_statements(tables["upper_limits"], existing, backend.dialect):
            con.execute(stmt)
        con.execute(
            f"INSERT INTO lanner_meta (key, value) VALUES ({ph}, {ph}) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (LAYOUT_KEY, str(LIGHT_CURVE_LAYOUT)),
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.close()
    report.steps.append(
        f"light curves: layout {layout} -> {LIGHT_CURVE_LAYOUT} (keyed by source id; "
        f"layout-{layout} forced photometry kept in {LEGACY_FORCED})"
    )
    return report


def _rename(backend: Backend, con: Any, table: str, new: str) -> None:
    con.execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(new)}")
    if backend.dialect == "postgres":
        # The primary key's index keeps the old name, which the new table needs.
        con.execute(
            f"ALTER TABLE {quote(new)} RENAME CONSTRAINT {quote(table + '_pkey')} "
            f"TO {quote(new + '_pkey')}"
        )
