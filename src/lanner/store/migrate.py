"""Schema creation and upgrades: the ``lanner db init`` and ``lanner db upgrade`` step.

Input: a database URL (and, for a new database, its survey). Side effects: creates the
``lanner_meta`` table, binds the database to its survey, creates every declared table and
index, adds the columns an older database lacks, and records the schema's digest
(:func:`lanner.store.database.schema_fingerprint`). Output: what was done, for the CLI.

Workers (``lanner consume``) never run DDL: they open the database with ``create=False``
and stop with the command to run if it is missing or older than their code. Run this step
once per deployment and after each upgrade of Lanner, with the workers stopped (``lanner
run`` and ``lanner ingest`` run it themselves).
"""

from __future__ import annotations

from dataclasses import dataclass

from lanner.store.backends import StoreError, backend_for, masked
from lanner.store.database import Store, not_initialised, schema_fingerprint
from lanner.surveys import Survey


@dataclass(frozen=True)
class SchemaReport:
    """The state of a database after :func:`init_database` or :func:`upgrade_database`."""

    url: str
    survey: Survey
    fingerprint: str
    changed: bool


def init_database(url: str, survey: Survey) -> SchemaReport:
    """Create (or complete) the Lanner database at ``url`` for ``survey``.

    Raises
    ------
    StoreError
        If the database serves the other survey, or cannot be reached.
    """
    backend = backend_for(url)
    before = _stored_fingerprint(url)
    store = Store(backend, survey, create=True)
    store.close()
    after = schema_fingerprint(survey, backend.dialect)
    return SchemaReport(masked(url), survey, after, before != after)


def upgrade_database(url: str) -> SchemaReport:
    """Bring an existing Lanner database's tables up to this version's declarations.

    Raises
    ------
    StoreError
        If there is no Lanner database at ``url`` (run :func:`init_database`).
    """
    backend = backend_for(url)
    con = backend.connect(create=False)
    try:
        if not backend.table_columns(con, "lanner_meta"):
            raise StoreError(not_initialised(url))
        ph = backend.placeholder
        row = con.execute(f"SELECT value FROM lanner_meta WHERE key = {ph}", ("survey",)).fetchone()
        con.commit()
    finally:
        con.close()
    if not row:
        raise StoreError(not_initialised(url))
    return init_database(url, row[0])


def _stored_fingerprint(url: str) -> str | None:
    backend = backend_for(url)
    if backend.dialect == "sqlite" and not backend.sqlite_path.is_file():
        return None
    con = backend.connect(create=False)
    try:
        if not backend.table_columns(con, "lanner_meta"):
            return None
        ph = backend.placeholder
        row = con.execute(f"SELECT value FROM lanner_meta WHERE key = {ph}", ("schema",)).fetchone()
        con.commit()
        return str(row[0]) if row else None
    finally:
        con.close()
