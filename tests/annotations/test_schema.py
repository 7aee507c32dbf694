"""The annotation tables come with ``lanner db init`` and, for a database made before
them, ``lanner db upgrade``; a worker on an older database is told to upgrade."""

from __future__ import annotations

import pytest

from lanner.annotations import Annotation, add_annotator, write_annotations
from lanner.filter.users import ensure_local_user
from lanner.store import StoreError, open_store
from lanner.store.migrate import init_database, upgrade_database

NEW_TABLES = ("annotation_history", "annotators", "annotator_writers")


def test_upgrade_adds_the_annotation_tables(db_url: str) -> None:
    init_database(db_url, "ztf")
    store = open_store(db_url, create=False)
    # As a database made before annotators and the history existed.
    for table in NEW_TABLES:
        store.con.execute(f"DROP TABLE {table}")
    for column in ("annotationID", "mjd"):
        store.con.execute(f'ALTER TABLE annotations DROP COLUMN "{column}"')
    store.con.execute("UPDATE lanner_meta SET value = 'older' WHERE key = 'schema'")
    store.con.commit()
    store.close()
    with pytest.raises(StoreError, match="lanner db upgrade"):
        open_store(db_url, create=False)
    report = upgrade_database(db_url)
    assert report.changed
    store = open_store(db_url, create=False)
    try:
        for table in NEW_TABLES:
            assert store.backend.table_columns(store.con, table)
        assert {"annotationID", "mjd"} <= store.backend.table_columns(store.con, "annotations")
        ph = store.backend.placeholder
        store.con.execute(
            f'INSERT INTO objects ("objectId", ramean, decmean, jdmax) VALUES ({ph}, 1, 2, 3)',
            ("ZTF20abcdefg",),
        )
        store.con.commit()
        owner = ensure_local_user(store)
        add_annotator(store, "fastfinder", owner)
        n = write_annotations(
            store, "fastfinder", [Annotation("ZTF20abcdefg", "FAST")], user_id=owner
        )
        assert n == 1
    finally:
        store.close()
