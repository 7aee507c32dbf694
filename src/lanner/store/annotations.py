"""Store access for annotations: annotator records, their writers, annotations and their
history.

Input: a :class:`~lanner.store.Store` and values checked by :mod:`lanner.annotations`.
Output: rows as tuples or dicts. Side effects: writes to ``annotators``,
``annotator_writers``, ``annotations`` and ``annotation_history``; every writing call is
one transaction that it commits (or rolls back on error).

A write appends every item to ``annotation_history`` (the database numbers it,
``annotationID``) and upserts the latest item of each object into ``annotations`` with that
id, so ``annotations`` holds one row per object and topic — the latest — and the history
holds every version, the current one included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from lanner.store.database import Store
from lanner.store.ddl import quote

#: Columns of ``annotators`` in the order rows are returned.
ANNOTATOR_COLUMNS = ("topic", "owner_id", "description", "public", "active", "created")
#: Columns written per annotation, after the object id (``annotations`` and history).
VALUE_COLUMNS = (
    "topic",
    "version",
    "timestamp",
    "mjd",
    "classification",
    "explanation",
    "classdict",
    "url",
)
#: Rows per multi-row INSERT (parameters stay well under every backend's limit).
_ROWS_PER_STATEMENT = 400
#: Ids per IN (...) list.
_CHUNK = 500
_MJD_EPOCH = dt.datetime(1858, 11, 17, tzinfo=dt.UTC)


def mjd_of(moment: dt.datetime) -> float:
    """A UTC time as a Modified Julian Date."""
    return (moment - _MJD_EPOCH).total_seconds() / 86400.0


def _transaction(store: Store) -> None:
    if store.backend.dialect == "sqlite" and not store.con.in_transaction:
        store.con.execute("BEGIN IMMEDIATE")  # the write lock now: checks stay true


# -- annotators ---------------------------------------------------------------------------
def insert_annotator(
    store: Store, topic: str, owner_id: int, description: str, public: bool, active: bool
) -> bool:
    """Add an annotator; ``False`` if the topic is taken."""
    ph = store.backend.placeholder
    now = dt.datetime.now(dt.UTC)
    row = store._write(
        f"INSERT INTO annotators ({', '.join(quote(c) for c in ANNOTATOR_COLUMNS)}) "
        f"VALUES ({', '.join([ph] * len(ANNOTATOR_COLUMNS))}) ON CONFLICT DO NOTHING "
        "RETURNING topic",
        (topic, owner_id, description, public, active, store._stamp(now)),
    )
    return row is not None


def annotator_rows(
    store: Store, topic: str | None = None
) -> list[tuple[dict[str, Any], frozenset[int]]]:
    """Annotators (one, or all by topic) with the ids of their writers (one query)."""
    ph = store.backend.placeholder
    where, params = (f" WHERE a.topic = {ph}", (topic,)) if topic is not None else ("", ())
    rows = store._read(
        f"SELECT {', '.join(f'a.{quote(c)}' for c in ANNOTATOR_COLUMNS)}, w.user_id "
        f"FROM annotators a LEFT JOIN annotator_writers w ON w.topic = a.topic{where} "
        "ORDER BY a.topic",
        params,
    )
    found: dict[str, tuple[dict[str, Any], set[int]]] = {}
    n = len(ANNOTATOR_COLUMNS)
    for r in rows:
        entry = found.setdefault(r[0], (dict(zip(ANNOTATOR_COLUMNS, r[:n], strict=True)), set()))
        if r[n] is not None:
            entry[1].add(int(r[n]))
    return [(values, frozenset(writers)) for values, writers in found.values()]


def hidden_topics(store: Store, user_id: int) -> frozenset[str]:
    """Topics ``user_id`` may not read: private annotators of others that did not
    authorise them."""
    ph = store.backend.placeholder
    rows = store._read(
        f"SELECT topic FROM annotators a WHERE NOT a.public AND a.owner_id <> {ph} "
        f"AND NOT EXISTS (SELECT 1 FROM annotator_writers w WHERE w.topic = a.topic "
        f"AND w.user_id = {ph})",
        (user_id, user_id),
    )
    return frozenset(str(r[0]) for r in rows)


def add_writer(store: Store, topic: str, user_id: int) -> None:
    ph = store.backend.placeholder
    store._write(
        f"INSERT INTO annotator_writers (topic, user_id) VALUES ({ph}, {ph}) "
        "ON CONFLICT DO NOTHING",
        (topic, user_id),
    )


def remove_writer(store: Store, topic: str, user_id: int) -> None:
    ph = store.backend.placeholder
    store._write(
        f"DELETE FROM annotator_writers WHERE topic = {ph} AND user_id = {ph}", (topic, user_id)
    )


def set_annotator(store: Store, topic: str, **values: Any) -> None:
    """Set columns (description, public, active) of one annotator."""
    ph = store.backend.placeholder
    sets = ", ".join(f"{quote(k)} = {ph}" for k in values)
    store._write(f"UPDATE annotators SET {sets} WHERE topic = {ph}", (*values.values(), topic))


def delete_annotator_rows(store: Store, topic: str) -> int:
    """Delete an annotator, its writers, annotations and history in one transaction;
    returns how many annotations it had."""
    ph = store.backend.placeholder
    try:
        _transaction(store)
        n = store.con.execute(
            f"SELECT count(*) FROM annotations WHERE topic = {ph}", (topic,)
        ).fetchone()[0]
        for table in ("annotation_history", "annotations", "annotator_writers", "annotators"):
            store.con.execute(f"DELETE FROM {table} WHERE topic = {ph}", (topic,))
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    return int(n)


# -- annotations --------------------------------------------------------------------------
def annotation_count(store: Store, topic: str) -> int:
    """Number of current annotations of ``topic``."""
    ph = store.backend.placeholder
    return int(store._read(f"SELECT count(*) FROM annotations WHERE topic = {ph}", (topic,))[0][0])


def existing_objects(store: Store, ids: Sequence[Any]) -> set[Any]:
    """The ids among ``ids`` that have an ``objects`` row."""
    oid = quote(store.object_id_column)
    ph = store.backend.placeholder
    found: set[Any] = set()
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        rows = store._read(
            f"SELECT {oid} FROM objects WHERE {oid} IN ({', '.join([ph] * len(chunk))})",
            tuple(chunk),
        )
        found.update(r[0] for r in rows)
    return found


def write_annotation_rows(
    store: Store, topic: str, rows: Sequence[tuple[Any, ...]], moment: dt.datetime
) -> int:
    """Write ``rows`` — (object id, version, classification, explanation, classdict text,
    url) — for ``topic`` at ``moment``, in one transaction; the last row of an object wins.
    Returns the number of rows written to the history."""
    if not rows:
        return 0
    oid = store.object_id_column
    ph = store.backend.placeholder
    stamp, mjd = store._stamp(moment), mjd_of(moment)
    full = [(r[0], topic, r[1], stamp, mjd, r[2], r[3], r[4], r[5]) for r in rows]
    cols = [oid, *VALUE_COLUMNS]
    names = ", ".join(quote(c) for c in cols)
    one = f"({', '.join([ph] * len(cols))})"
    latest: dict[Any, int] = {}
    try:
        _transaction(store)
        for start in range(0, len(full), _ROWS_PER_STATEMENT):
            chunk = full[start : start + _ROWS_PER_STATEMENT]
            cur = store.con.execute(
                f"INSERT INTO annotation_history ({names}) VALUES "
                f"{', '.join([one] * len(chunk))} RETURNING {quote('annotationID')}, {quote(oid)}",
                tuple(v for r in chunk for v in r),
            )
            for aid, object_id in cur.fetchall():
                if int(aid) > latest.get(object_id, -1):
                    latest[object_id] = int(aid)
        newest: dict[Any, tuple[Any, ...]] = {}
        for r in full:
            newest[r[0]] = r  # the last item of an object wins
        upsert = [(latest[k], *v) for k, v in newest.items()]
        all_cols = ["annotationID", *cols]
        updates = ", ".join(
            f"{quote(c)} = excluded.{quote(c)}" for c in all_cols if c not in (oid, "topic")
        )
        row_sql = f"({', '.join([ph] * len(all_cols))})"
        for start in range(0, len(upsert), _ROWS_PER_STATEMENT):
            chunk = upsert[start : start + _ROWS_PER_STATEMENT]
            store.con.execute(
                f"INSERT INTO annotations ({', '.join(quote(c) for c in all_cols)}) VALUES "
                f"{', '.join([row_sql] * len(chunk))} "
                f"ON CONFLICT ({quote(oid)}, topic) DO UPDATE SET {updates}",
                tuple(v for r in chunk for v in r),
            )
        store.con.commit()
    except BaseException:
        store.con.rollback()
        raise
    return len(full)


def history_rows(store: Store, topic: str, object_id: Any) -> list[dict[str, Any]]:
    """Every version of one object's annotation by ``topic``, oldest first."""
    oid = store.object_id_column
    cols = ["annotationID", oid, *VALUE_COLUMNS]
    ph = store.backend.placeholder
    rows = store._read(
        f"SELECT {', '.join(quote(c) for c in cols)} FROM annotation_history "
        f"WHERE topic = {ph} AND {quote(oid)} = {ph} ORDER BY {quote('annotationID')}",
        (topic, object_id),
    )
    return [dict(zip(cols, r, strict=True)) for r in rows]


def current_rows(store: Store, topic: str, object_ids: Sequence[Any]) -> list[dict[str, Any]]:
    """The current annotations by ``topic`` of ``object_ids``."""
    oid = store.object_id_column
    cols = ["annotationID", oid, *VALUE_COLUMNS]
    ph = store.backend.placeholder
    out: list[dict[str, Any]] = []
    unique = list(dict.fromkeys(object_ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        rows = store._read(
            f"SELECT {', '.join(quote(c) for c in cols)} FROM annotations WHERE topic = {ph} "
            f"AND {quote(oid)} IN ({', '.join([ph] * len(chunk))})",
            (topic, *chunk),
        )
        out += [dict(zip(cols, r, strict=True)) for r in rows]
    return out
