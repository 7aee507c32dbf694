"""On-demand filters on the stored archive (SQLite and PostgreSQL): visibility from the
watchlists table, both filter forms, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.filter.archive import run_on_archive, visibility_of
from lanner.filter.errors import FilterRejectedError
from lanner.settings import Settings
from lanner.store import open_store
from tests.helpers import enriched, packets_of

LOCAL, OTHER = 1, 2


@pytest.fixture
def archive(db_url: str, alerts_dir: Path) -> tuple[str, list[str]]:
    """A ZTF archive with three watchlists: public (other's), private (other's), own."""
    batch = enriched(packets_of([alerts_dir / "ztf" / "skyportal__kowalski"]), "ztf")
    store = open_store(db_url, "ztf")
    store.write_batch(batch)
    ph = store.backend.placeholder
    # Chosen ids, to test visibility by id (the database numbers watchlists by itself).
    override = "OVERRIDING SYSTEM VALUE " if store.backend.dialect == "postgres" else ""
    ids = sorted(set(batch.enriched["objects"]["objectId"].to_pylist()))[:3]
    for wl_id, owner, public in ((1, OTHER, True), (9, OTHER, False), (5, LOCAL, False)):
        store.con.execute(
            f'INSERT INTO watchlists ("wl_id", "owner_id", "name", "public", "active") {override}'
            f"VALUES ({ph}, {ph}, {ph}, {ph}, {ph})",
            (wl_id, owner, f"list {wl_id}", public, True),
        )
    for cone, (wl_id, oid) in enumerate(((1, ids[0]), (9, ids[1]), (5, ids[2]))):
        store.con.execute(
            f'INSERT INTO watchlist_hits ("objectId", "wl_id", "cone_id", "arcsec", "name") '
            f"VALUES ({ph}, {ph}, {ph}, {ph}, {ph})",
            (oid, wl_id, cone, 0.5, f"cone {cone}"),
        )
    store.con.commit()
    store.close()
    return db_url, ids


def test_visibility_is_public_and_own(archive: tuple[str, list[str]]) -> None:
    store = open_store(archive[0])
    try:
        vis = visibility_of(store, LOCAL)
    finally:
        store.close()
    assert vis.watchlists == {1, 5}


def test_lasair_form_on_archive(archive: tuple[str, list[str]]) -> None:
    db_url, ids = archive
    settings = Settings(db_url=db_url)
    own = run_on_archive(
        settings,
        "objects.objectId, watchlist_hits.name",
        tables="objects, watchlist:5",
        conditions="",
    )
    assert {r[0] for r in own.rows} == {ids[2]}
    with pytest.raises(FilterRejectedError, match="watchlist 9 is not visible"):
        run_on_archive(settings, "objects.objectId", tables="objects, watchlist:9")
    sneaky = run_on_archive(settings, "SELECT objectId, name FROM watchlist_hits")
    assert {r[1] for r in sneaky.rows} == {"cone 0", "cone 2"}  # not the private cone 1


def test_row_cap_and_paging_on_archive(archive: tuple[str, list[str]]) -> None:
    db_url, _ = archive
    capped = run_on_archive(
        Settings(db_url=db_url, max_rows=3), "SELECT objectId FROM objects ORDER BY objectId"
    )
    assert len(capped.rows) == 3 and capped.truncated
    full = run_on_archive(Settings(db_url=db_url), "SELECT objectId FROM objects ORDER BY objectId")
    page = run_on_archive(
        Settings(db_url=db_url), "SELECT objectId FROM objects ORDER BY objectId", limit=2, offset=1
    )
    assert page.rows == full.rows[1:3] and not page.truncated
