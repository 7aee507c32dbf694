"""Batches rebuilt from the archive, in time order, as the pipeline saw them.

Input: a store and a time window. Output: :class:`~lanner.batch.AlertBatch` objects whose
alerts are the archived alerts in observation-time order, each with the light curve as
archived up to that alert's time (detections, forced photometry and upper limits with
``mjd`` ≤ the alert's). Reads only. Used by filter backtests: enrich these batches and run a
filter on them to see what it would have sent.

The rebuilt light curve is everything Lanner archived up to the alert, which can be longer
than the packet's own history (ZTF packets carry 30 days).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from lanner.batch import OBJECT_ID_COLUMN, OBJECT_ID_TYPE, AlertBatch
from lanner.schema.tables import ALERT_COLUMNS, SURVEY_ALERT_COLUMNS
from lanner.store.database import Store
from lanner.store.ddl import quote

#: Light-curve tables: archive table -> (batch attribute, columns besides row/object/mjd/band).
LIGHT_CURVES = {
    "detections": (
        "detections",
        [
            "source_id",
            "ra",
            "dec",
            "flux",
            "flux_err",
            "mag",
            "mag_err",
            "reliability",
            "is_positive",
        ],
    ),
    "forced_photometry": ("forced", ["source_id", "flux", "flux_err"]),
    "upper_limits": ("upper_limits", ["limit_mag", "limit_flux"]),
}
#: An alert's own detection is at its time; allow for float rounding in the comparison.
EPSILON_MJD = 1e-7


def _arrow_table(
    names: list[str], rows: list[tuple[Any, ...]], types: dict[str, pa.DataType]
) -> pa.Table:
    columns: list[list[Any]] = (
        [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in names]
    )
    arrays = {}
    for name, col in zip(names, columns, strict=True):
        typ = types.get(name)
        if typ == pa.bool_():  # SQLite keeps booleans as 0/1
            col = [None if v is None else bool(v) for v in col]
        arrays[name] = pa.array(col, typ)
    return pa.table(arrays)


def rebuild_batches(
    store: Store, since_mjd: float = 0.0, until_mjd: float = 1e9, batch_size: int = 1000
) -> Iterator[AlertBatch]:
    """Yield archived alerts with ``since_mjd <= mjd < until_mjd`` as batches, oldest first."""
    survey = store.survey
    if survey is None:
        return
    oid = OBJECT_ID_COLUMN[survey]
    alert_cols = [c.name for c in (*ALERT_COLUMNS, *SURVEY_ALERT_COLUMNS[survey])]
    types = {c.name: c.arrow_type for c in (*ALERT_COLUMNS, *SURVEY_ALERT_COLUMNS[survey])}
    types["object_id"] = OBJECT_ID_TYPE[survey]
    ph = store.backend.placeholder
    select = ", ".join(quote(c) for c in ["alert_id", oid, *alert_cols[1:]])
    last: tuple[float, int] = (since_mjd - 1.0, -(2**63))
    while True:
        rows = store.con.execute(
            f"SELECT {select} FROM alerts WHERE mjd >= {ph} AND mjd < {ph} AND "
            f"(mjd > {ph} OR (mjd = {ph} AND alert_id > {ph})) "
            f"ORDER BY mjd, alert_id LIMIT {int(batch_size)}",
            (since_mjd, until_mjd, last[0], last[0], last[1]),
        ).fetchall()
        if not rows:
            return
        last = (rows[-1][2], rows[-1][0])
        names = ["alert_id", "object_id", *alert_cols[1:]]
        alerts = _arrow_table(names, [tuple(r) for r in rows], types)
        yield _with_light_curves(store, survey, alerts)


def _with_light_curves(store: Store, survey: str, alerts: pa.Table) -> AlertBatch:
    oid = quote(OBJECT_ID_COLUMN[survey])
    ph = store.backend.placeholder
    store.con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _lanner_rebuild "
        f"(row INTEGER, oid {'TEXT' if survey == 'ztf' else 'BIGINT'}, "
        "mjd DOUBLE PRECISION)"
    )
    store.con.execute("DELETE FROM _lanner_rebuild")
    keys = list(
        zip(
            range(alerts.num_rows),
            alerts["object_id"].to_pylist(),
            alerts["mjd"].to_pylist(),
            strict=True,
        )
    )
    if store.backend.dialect == "sqlite":
        store.con.executemany(f"INSERT INTO _lanner_rebuild VALUES ({ph}, {ph}, {ph})", keys)
    else:
        with store.con.cursor() as cur:
            cur.executemany(f"INSERT INTO _lanner_rebuild VALUES ({ph}, {ph}, {ph})", keys)
    tables: dict[str, pa.Table] = {}
    for table, (attr, extra) in LIGHT_CURVES.items():
        cols = ", ".join(f"t.{quote(c)}" for c in ["mjd", "band", *extra])
        cur = store.con.execute(
            f"SELECT k.row, k.oid, {cols} FROM _lanner_rebuild k JOIN {quote(table)} t "
            f"ON t.{oid} = k.oid AND t.mjd <= k.mjd + {EPSILON_MJD} ORDER BY k.row, t.mjd"
        )
        names = ["row", "object_id", "mjd", "band", *extra]
        types = {
            "row": pa.int32(),
            "object_id": OBJECT_ID_TYPE[survey],
            "mjd": pa.float64(),
            "band": pa.string(),
            "source_id": pa.int64(),
            "is_positive": pa.bool_(),
        }
        for c in extra:
            types.setdefault(c, pa.float64())
        tables[attr] = _arrow_table(names, [tuple(r) for r in cur.fetchall()], types)
    store.con.rollback()  # the temporary rows are not needed past this point
    cutouts = pa.table(
        {
            "row": pa.array([], pa.int32()),
            "object_id": pa.array([], OBJECT_ID_TYPE[survey]),
            "alert_id": pa.array([], pa.int64()),
            "kind": pa.array([], pa.string()),
            "data": pa.array([], pa.binary()),
        }
    )
    return AlertBatch(
        survey=survey,  # type: ignore[arg-type]
        alerts=alerts,
        detections=tables["detections"],
        forced=tables["forced"],
        upper_limits=tables["upper_limits"],
        cutouts=cutouts,
    )
