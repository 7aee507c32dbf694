"""The archive: a Lanner database of one survey, on SQLite or PostgreSQL.

Input: enriched batches. Side effects: writes to the database (idempotently). Output:
counts of what changed, and read access for the CLI and the API (cone search, light
curves, cutouts).

Out-of-order arrivals: an object's enriched rows (``objects``, ``sherlock_classifications``,
...) are replaced only by a newer alert (larger recency column, see
:data:`lanner.schema.registry.RECENCY_COLUMN`); a light-curve row takes the values of the
newest packet that carries it, and rows a packet repeats unchanged are not rewritten (see
:mod:`lanner.store.light_curves`). So the database ends the same whatever order alerts
arrive in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lanner.schema.columns import Table
from lanner.schema.registry import RECENCY_COLUMN, tables_for
from lanner.schema.tables import LIGHT_CURVE_LAYOUT
from lanner.store.account_upgrade import upgrade_accounts
from lanner.store.backends import Backend, StoreError, backend_for, masked
from lanner.store.checkpoint import WalCheckpointer
from lanner.store.ddl import Dialect, add_column_statements, create_statements, quote
from lanner.store.outbox import MatchRow, OutboxStore
from lanner.surveys import OBJECT_ID_COLUMN, Survey

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from lanner.batch import AlertBatch

META_DDL = "CREATE TABLE IF NOT EXISTS lanner_meta (key TEXT PRIMARY KEY, value TEXT)"
#: ``lanner_meta`` key holding the light-curve layout version of the database.
LAYOUT_KEY = "light_curve_layout"
#: Largest number of ids in one IN (...) list.
CHUNK = 500


@dataclass
class WriteReport:
    """What one batch changed in the archive."""

    alerts_new: int = 0
    objects_updated: int = 0
    rows_added: dict[str, int] = field(default_factory=dict)
    #: Light-curve rows whose values or provenance the rule changed, per table.
    rows_updated: dict[str, int] = field(default_factory=dict)
    #: Stored light-curve rows read back to compare with the batch's, per table (none when
    #: each object's summary shows the packets repeat what is stored).
    rows_read: dict[str, int] = field(default_factory=dict)
    #: Background WAL checkpoints (SQLite) that failed since the batch before.
    checkpoint_failures: int = 0


class Store(OutboxStore):
    """A Lanner database. Create with :func:`open_store`.

    Users, filters and notices: :class:`lanner.store.accounts.AccountsStore`; the outbox of
    matches: :class:`lanner.store.outbox.OutboxStore`.

    With ``create`` (ingest, ``lanner db init``) a missing database, survey binding or
    table is created; without it (every other command, and the workers) the database must
    exist with its schema current, or :class:`StoreError` says which ``lanner db`` command
    to run — so a read-only command never creates a file, and a worker never runs DDL
    beside another worker's batch.
    """

    def __init__(self, backend: Backend, survey: Survey | None, create: bool = True) -> None:
        self.backend = backend
        self.con = backend.connect(create)
        #: SQLite: the thread that checkpoints the WAL, started by the first batch written.
        self._checkpointer: WalCheckpointer | None = None
        #: Stops the checkpointer's thread: called by close(), or when the store is collected.
        self._stop_checkpoints: weakref.finalize[[], Store] | None = None
        self._checkpoint_failures = 0
        try:
            self._open(survey, create)
        except BaseException:
            self.con.close()  # a store that failed to open leaves no connection behind
            raise

    def _open(self, survey: Survey | None, create: bool) -> None:
        backend = self.backend
        if create:
            self.con.execute(META_DDL)
            self.con.commit()
        elif not backend.table_columns(self.con, "lanner_meta"):
            raise StoreError(not_initialised(backend.url))
        stored = self._meta("survey")
        if stored and survey and stored != survey:
            raise StoreError(
                f"the database {backend.url} serves survey {stored!r}, not {survey!r} (one "
                f"database per survey): give another with --db, e.g. "
                f"--db sqlite:///lanner-data/{survey}.db"
            )
        self.survey: Survey | None = survey or stored  # type: ignore[assignment]
        if self.survey and self._meta("schema") != schema_fingerprint(self.survey, backend.dialect):
            if not create:
                raise StoreError(
                    f"the schema of {backend.url} is older than this Lanner's: run "
                    f"`lanner db upgrade --db {backend.url}` (once, with the workers stopped)"
                )
            self.ensure_schema(self.survey)
        elif not self.survey and not create:
            raise StoreError(not_initialised(backend.url))
        self.con.commit()  # end the start-up read transaction (PostgreSQL)

    def reconnect(self) -> None:
        """Drop the connection (after a database outage) and open a new one."""
        self.con.close()
        self.con = self.backend.connect(False)
        if self._checkpointer is not None:
            self.con.execute("PRAGMA wal_autocheckpoint=0")

    # -- schema ---------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        ph = self.backend.placeholder
        row = self.con.execute(f"SELECT value FROM lanner_meta WHERE key = {ph}", (key,)).fetchone()
        return row[0] if row else None

    def ensure_schema(self, survey: Survey) -> None:
        """Bind this database to ``survey`` and create or extend its tables."""
        stored = self._meta("survey")
        if stored and stored != survey:
            raise StoreError(
                f"the database {self.backend.url} serves survey {stored!r}, "
                f"not {survey!r} (one database per survey)"
            )
        ph = self.backend.placeholder
        layout = self._meta(LAYOUT_KEY)
        if layout is None and self.backend.table_columns(self.con, "detections"):
            raise StoreError(
                f"the database {self.backend.url} keeps light curves in an older layout "
                f"(keyed by time and band): run `lanner db upgrade --db {self.backend.url}`"
            )
        if self.backend.dialect == "postgres":
            self.con.execute("CREATE EXTENSION IF NOT EXISTS q3c")
        for table in tables_for(survey).values():
            create_table, *indexes = create_statements(table, self.backend.dialect)
            self.con.execute(create_table)
            existing = self.backend.table_columns(self.con, table.name)
            # Columns an older database lacks come before the indexes that name them.
            for stmt in add_column_statements(table, existing, self.backend.dialect):
                self.con.execute(stmt)
            for stmt in indexes:
                self.con.execute(stmt)
        upgrade_accounts(self.con, self.backend.dialect, tables_for(survey))
        fingerprint = schema_fingerprint(survey, self.backend.dialect)
        for key, value in (("survey", survey), ("schema", fingerprint)):
            self.con.execute(f"DELETE FROM lanner_meta WHERE key = {ph}", (key,))
            self.con.execute(
                f"INSERT INTO lanner_meta (key, value) VALUES ({ph}, {ph})", (key, value)
            )
        if layout is None:
            self.con.execute(
                f"INSERT INTO lanner_meta (key, value) VALUES ({ph}, {ph})",
                (LAYOUT_KEY, str(LIGHT_CURVE_LAYOUT)),
            )
        self.con.commit()
        self.survey = survey

    def refresh_survey(self) -> Survey | None:
        """The survey, re-read if another connection bound the database since this one
        opened (a delivery worker started beside a pipeline on a new database)."""
        if self.survey is None:
            self.survey = self._meta("survey")  # type: ignore[assignment]
            self.con.commit()  # end the read transaction (PostgreSQL)
        return self.survey

    @property
    def object_id_column(self) -> str:
        """Name of the object id column (``objectId`` / ``diaObjectId``)."""
        if not self.survey:
            raise StoreError("the database has no survey yet: ingest alerts or pass --survey")
        return OBJECT_ID_COLUMN[self.survey]

    @property
    def tables(self) -> dict[str, Table]:
        if not self.survey:
            raise StoreError("the database has no survey yet: ingest alerts or pass --survey")
        return tables_for(self.survey)

    # -- writing --------------------------------------------------------------------------
    def write_batch(self, batch: AlertBatch) -> WriteReport:
        """Store an enriched batch in one transaction."""
        # The science stack is imported by the commands that write alerts, not by those that
        # only read records (start-up time).
        import pyarrow as pa

        from lanner.store.light_curves import lock_objects, write_light_curves

        if self.survey is None:
            self.ensure_schema(batch.survey)
        if batch.survey != self.survey:
            raise StoreError(f"a {batch.survey} batch cannot go into a {self.survey} database")
        report = WriteReport()
        if len(batch) == 0:
            return report
        survey = batch.survey
        oid = OBJECT_ID_COLUMN[survey]
        if self.backend.dialect == "sqlite" and not self.con.in_transaction:
            # The write lock from the start: what is read to decide the writes stays true.
            self.con.execute("BEGIN IMMEDIATE")
        try:
            lock_objects(self, batch.alerts["object_id"])
            report.alerts_new = self._insert_new(
                "alerts", self._alerts_rows(batch), conflict=("alert_id",)
            )
            writes = write_light_curves(self, batch)
            report.rows_added = writes.inserted
            report.rows_updated, report.rows_read = writes.updated, writes.read
            report.rows_added["cutouts"] = self._insert_new(
                "cutouts", _rename_oid(batch.cutouts, oid), ("alert_id", "kind")
            )
            rows = self._newer_rows(batch)
            report.objects_updated = len(rows)
            if len(rows):
                for name, table in batch.enriched.items():
                    full = _with_oid(table, batch, oid).take(pa.array(rows))
                    self._upsert(name, full, oid)
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        report.checkpoint_failures = self._checkpoint()
        return report

    def _checkpoint(self) -> int:
        """SQLite: have the WAL checkpointed in the background after a batch (see
        :mod:`lanner.store.checkpoint`); returns the checkpoints that failed since the last
        call. After a failure SQLite checkpoints on commit again."""
        if self.backend.dialect != "sqlite":
            return 0
        cp = self._checkpointer
        if cp is None:
            cp = self._checkpointer = WalCheckpointer(self.backend.sqlite_path)
            # Run by close(), or when a store dropped unclosed is collected (the thread holds
            # no reference to the store).
            self._stop_checkpoints = weakref.finalize(self, cp.close)
            self.con.execute("PRAGMA wal_autocheckpoint=0")
        failed = cp.failures - self._checkpoint_failures
        self._checkpoint_failures = cp.failures
        if cp.failures:
            self.con.execute("PRAGMA wal_autocheckpoint=1000")  # SQLite's default
        else:
            cp.poke()
        return failed

    def record_matches(self, matches: Sequence[MatchRow]) -> int:
        """Record filter matches as pending deliveries, in one transaction; returns how many
        were new (a match is keyed by filter and alert: recorded once)."""
        if not matches:
            return 0
        tail = "ON CONFLICT (filter_id, alert_id) DO NOTHING"
        try:
            n = self._insert(
                "filter_matches",
                self.match_columns(self.object_id_column),
                self._match_tuples(matches),
                tail,
            )
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        return n

    def _alerts_rows(self, batch: AlertBatch) -> pa.Table:
        import pyarrow as pa

        now = dt.datetime.now(dt.UTC).isoformat()
        rows = _rename_oid(batch.alerts, OBJECT_ID_COLUMN[batch.survey])
        return rows.append_column("ingested_at", pa.array([now] * len(batch), pa.string()))

    def _newer_rows(self, batch: AlertBatch) -> np.ndarray:
        """Batch rows that carry their object's newest alert, newer than what is stored."""
        import numpy as np
        import pyarrow as pa

        from lanner.batch import newest_rows

        survey = batch.survey
        recency_col = RECENCY_COLUMN[survey]
        objects = batch.enriched.get("objects")
        if objects is None or recency_col not in objects.column_names:
            raise StoreError("batch has no objects table: run the objects enricher first")
        recency = objects[recency_col].to_numpy(zero_copy_only=False).astype(np.float64)
        ids = batch.alerts["object_id"]
        # The newest alert of each object within the batch ...
        candidates = newest_rows(batch, recency)
        # ... if it is newer than the one stored.
        cand_ids = ids.take(pa.array(candidates)).to_pylist()
        stored = self._stored_recency(cand_ids)
        old = np.array([stored.get(i, -np.inf) for i in cand_ids], dtype=np.float64)
        return np.sort(candidates[recency[candidates] > old])

    def current_rows(self, batch: AlertBatch) -> np.ndarray:
        """Batch rows whose alert is its object's newest, in the batch and in the archive
        (as new as the stored ``objects`` row, or newer): a re-delivered alert that a newer
        one has superseded is not among them."""
        import numpy as np
        import pyarrow as pa

        from lanner.batch import newest_rows

        recency = batch.enriched["objects"][RECENCY_COLUMN[batch.survey]]
        values = recency.to_numpy(zero_copy_only=False).astype(np.float64)
        candidates = newest_rows(batch, values)
        cand_ids = batch.alerts["object_id"].take(pa.array(candidates)).to_pylist()
        stored = self._stored_recency(cand_ids)
        self.con.commit()  # end the read transaction (PostgreSQL)
        old = np.array([stored.get(i, -np.inf) for i in cand_ids], dtype=np.float64)
        return np.sort(candidates[values[candidates] >= old])

    def _stored_recency(self, ids: list[Any]) -> dict[Any, float]:
        if not ids:
            return {}
        oid = quote(OBJECT_ID_COLUMN[self.survey or "ztf"])
        rec = quote(RECENCY_COLUMN[self.survey or "ztf"])
        ph = self.backend.placeholder
        out: dict[Any, float] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            sql = (
                f"SELECT {oid}, {rec} FROM objects WHERE {oid} IN ({', '.join([ph] * len(chunk))})"
            )
            for key, value in self.con.execute(sql, chunk).fetchall():
                out[key] = float(value) if value is not None else float("-inf")
        return out

    def _insert_new(self, name: str, data: pa.Table, conflict: tuple[str, ...]) -> int:
        """Insert rows whose key is not stored yet; return how many were new."""
        if data.num_rows == 0:
            return 0
        present = set(data.column_names)
        cols = [c for c in self.tables[name].column_names if c in present]
        tail = f"ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO NOTHING"
        return self._insert(name, cols, _rows(data, cols), tail)

    def write_rows(self, name: str, cols: list[str], data: pa.Table, tail: str) -> int:
        """``INSERT`` the ``cols`` of ``data`` into ``name`` followed by ``tail`` (an
        ``ON CONFLICT`` clause); returns the rows written. Inside the open transaction."""
        return self._insert(name, cols, _rows(data, cols), tail)

    def _upsert(self, name: str, data: pa.Table, oid: str) -> None:
        present = set(data.column_names)
        cols = [c for c in self.tables[name].column_names if c in present]
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in cols if c != oid)
        tail = f"ON CONFLICT ({quote(oid)}) DO UPDATE SET {updates}"
        if name == "objects":
            rec = quote(RECENCY_COLUMN[self.survey or "ztf"])
            # Guards against a concurrent worker having stored a newer alert meanwhile.
            tail += f" WHERE excluded.{rec} > {quote(name)}.{rec}"
        self._insert(name, cols, _rows(data, cols), tail)

    def _insert(self, name: str, cols: list[str], rows: list[tuple[Any, ...]], tail: str) -> int:
        """``INSERT … <tail>`` of many rows; returns the number of rows written.

        SQLite: one prepared statement, executed for every row. PostgreSQL: the rows are
        streamed with COPY into a temporary table, then inserted in one statement — an order
        of magnitude faster than row-by-row statements over the network.
        """
        names = ", ".join(quote(c) for c in cols)
        if self.backend.dialect == "sqlite":
            cur = self.con.executemany(
                f"INSERT INTO {quote(name)} ({names}) VALUES ({', '.join(['?'] * len(cols))}) "
                f"{tail}",
                rows,
            )
            return int(cur.rowcount)
        tmp = quote(f"_lanner_load_{name}")
        declared = self.tables[name]
        types = [PG_BINARY_TYPES[declared.column(c).type] for c in cols]
        stamps = [i for i, c in enumerate(cols) if declared.column(c).type == "timestamp"]
        with self.con.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {tmp} (LIKE {quote(name)}) ON COMMIT DELETE ROWS"
            )
            cur.execute(f"TRUNCATE {tmp}")
            # Binary COPY: no text escaping (cutouts would double in size as hex).
            with cur.copy(f"COPY {tmp} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(_timestamps(row, stamps) if stamps else row)
            cur.execute(f"INSERT INTO {quote(name)} ({names}) SELECT {names} FROM {tmp} {tail}")
            return int(cur.rowcount)

    def add_rows(
        self, name: str, cols: list[str], rows: list[tuple[Any, ...]], conflict: tuple[str, ...]
    ) -> int:
        """Insert rows into table ``name`` (ignoring keys already stored) and commit."""
        if not rows:
            return 0
        tail = f"ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO NOTHING"
        try:
            n = self._insert(name, cols, rows, tail)
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        return n

    def known_dead_letters(self, origins: list[str]) -> set[str]:
        """Which of ``origins`` are in ``dead_letters`` (set aside before)."""
        found: set[str] = set()
        ph = self.backend.placeholder
        for start in range(0, len(origins), CHUNK):
            chunk = origins[start : start + CHUNK]
            rows = self.con.execute(
                f"SELECT origin FROM dead_letters WHERE origin IN ({', '.join([ph] * len(chunk))})",
                chunk,
            ).fetchall()
            found.update(str(r[0]) for r in rows)
        self.con.commit()  # end the read transaction (PostgreSQL)
        return found

    def delivery_counts(self) -> dict[str, int]:
        """Matches by delivery state (``pending``, ``sent``, ``failed``, ``none`` for a
        filter with no output)."""
        counts = {"sent": 0, "pending": 0, "failed": 0}
        rows = self.con.execute("SELECT state, count(*) FROM filter_matches GROUP BY state")
        counts.update({str(state): int(n) for state, n in rows.fetchall()})
        self.con.commit()  # end the read transaction (PostgreSQL)
        return counts

    def _count(self, name: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0])

    # -- reading --------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {name: self._count(name) for name in self.tables}

    def close(self) -> None:
        if self._stop_checkpoints is not None:
            self._stop_checkpoints()  # once: later calls do nothing
        self.con.close()  # the last connection to close checkpoints what is left


#: PostgreSQL type of each declared column type, for binary COPY.
PG_BINARY_TYPES = {
    "bigint": "int8",
    "int": "int4",
    "double": "float8",
    "float": "float4",
    "text": "text",
    "bool": "bool",
    "blob": "bytea",
    "timestamp": "timestamptz",
}


def _timestamps(row: tuple[Any, ...], at: list[int]) -> tuple[Any, ...]:
    """ISO-8601 text to datetimes at positions ``at`` (binary COPY needs real values)."""
    values = list(row)
    for i in at:
        if isinstance(values[i], str):
            values[i] = dt.datetime.fromisoformat(values[i])
    return tuple(values)


def _rows(data: pa.Table, cols: list[str]) -> list[tuple[Any, ...]]:
    import numpy as np
    import pyarrow as pa

    columns = []
    for c in cols:
        arr = data[c]
        if pa.types.is_floating(arr.type):
            # NaN means "not computed": store NULL so that SQL IS NULL finds it.
            values = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
            listed = values.tolist()
            for i in np.flatnonzero(np.isnan(values)).tolist():
                listed[i] = None
            columns.append(listed)
        elif pa.types.is_binary(arr.type):
            columns.append(_blobs(arr))
        else:
            columns.append(arr.to_pylist())
    return list(zip(*columns, strict=True))


def _blobs(column: pa.ChunkedArray) -> list[memoryview | None]:
    """A binary column's values as views into its Arrow buffers, not copies (the drivers bind
    any buffer as a BLOB / bytea): the image stamps are most of a batch's bytes."""
    import numpy as np

    out: list[memoryview | None] = []
    for chunk in column.chunks:
        _, offsets, data = chunk.buffers()
        if data is None:  # every value empty or null
            out.extend(None if v is None else memoryview(b"") for v in chunk.to_pylist())
            continue
        ends = np.frombuffer(offsets, np.int32, len(chunk) + 1, chunk.offset * 4).tolist()
        view = memoryview(data)
        valid = chunk.is_valid().to_numpy(zero_copy_only=False).tolist()
        out.extend(
            view[a:b] if ok else None for a, b, ok in zip(ends[:-1], ends[1:], valid, strict=True)
        )
    return out


def _rename_oid(table: pa.Table, oid: str) -> pa.Table:
    return table.rename_columns([oid if n == "object_id" else n for n in table.column_names])


def _with_oid(table: pa.Table, batch: AlertBatch, oid: str) -> pa.Table:
    if oid in table.column_names:
        return table
    return table.add_column(0, oid, batch.alerts["object_id"])


def open_store(url: str, survey: Survey | None = None, create: bool = True) -> Store:
    """Open the Lanner database at ``url``: creating what is missing with ``create``,
    else requiring an initialised, current database (see :class:`Store`)."""
    return Store(backend_for(url), survey, create)


def not_initialised(url: str) -> str:
    """What to do about a database that Lanner has not set up."""
    return (
        f"the database {masked(url)} is not set up for Lanner yet: run "
        f"`lanner db init --survey ztf|lsst --db {masked(url)}` (or `lanner ingest` alerts into it)"
    )


def schema_fingerprint(survey: Survey, dialect: Dialect) -> str:
    """A digest of every statement that creates ``survey``'s tables: a database whose
    stored digest differs needs ``lanner db upgrade``."""
    statements = [s for t in tables_for(survey).values() for s in create_statements(t, dialect)]
    return hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]
