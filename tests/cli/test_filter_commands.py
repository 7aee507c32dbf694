"""A scientist's filter life cycle from the CLI: write, test, save, share, activate,
backtest, read the matches and why they fired; users; expiry and error notices."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from lanner.filter.saved import expire_filters, find_filter
from lanner.filter.users import user_by_key
from lanner.store import open_store

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "lsst"
BRIGHT = "SELECT diaObjectId, latest_psfFlux FROM objects WHERE latest_psfFlux > 10000"


def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'home' / 'lanner.db'}"


def test_lasair_form_is_saved_as_sql(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli(
        "filter",
        "add",
        "lasair",
        "--selected",
        "objects.diaObjectId, objects.ra",
        "--tables",
        "objects",
        "--conditions",
        "objects.nDiaSources >= 3",
    )
    assert "saved" in out
    assert "nDiaSources >= 3" in cli("filter", "show", "lasair")


def test_active_filter_must_select_the_object_id(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("filter", "add", "noid", "SELECT ra FROM objects", "--active", ok=False)
    assert "must select `diaObjectId`" in out


def test_edit_revalidates_and_rejects_with_a_fix(cli) -> None:  # type: ignore[no-untyped-def]
    cli("filter", "add", "f", BRIGHT)
    out = cli(
        "filter",
        "edit",
        "f",
        "--sql",
        "SELECT diaObjectId FROM objects WHERE latest_psfFlx > 1",
        ok=False,
    )
    assert "latest_psfFlx" in out and "did you mean" in out
    cli("filter", "edit", "f", "--sql", BRIGHT.replace("10000", "20000"))
    assert "20000" in cli("filter", "show", "f")


def test_activate_deliver_and_why(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("filter", "add", "bright", BRIGHT)
    assert "active until" in cli("filter", "activate", "bright")
    cli("ingest", str(SAMPLE))
    rows = json.loads(cli("filter", "matches", "bright", "--limit", "1000", "--format", "json"))
    store = open_store(db(tmp_path))
    expected = {
        r[0]
        for r in store.con.execute(
            'SELECT "diaObjectId" FROM objects WHERE latest_psfFlux > 10000'
        ).fetchall()
    }
    store.close()
    assert {r["diaObjectId"] for r in rows} == expected and expected
    for r in rows:
        why = json.loads(r["why"])
        assert why["objects.latest_psfFlux"] > 10000
        assert json.loads(r["payload"])["diaObjectId"] == r["diaObjectId"]
    cli("filter", "deactivate", "bright")
    assert "inactive" in cli("filter", "show", "bright")


def test_share_copy_and_delete(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("user", "add", "alice", "--email", "alice@example.org", "--operator")
    out = cli("user", "add", "bob", "--operator")
    key = out.rsplit("API key: ", 1)[1].strip()
    store = open_store(db(tmp_path))
    user = user_by_key(store, key)
    store.close()
    assert user is not None and user.username == "bob"
    cli("filter", "add", "mine", BRIGHT, "--user", "alice")
    cli("filter", "add", "shared", BRIGHT, "--user", "alice", "--public")
    assert "no filter with id 1" in cli("filter", "copy", "1", "bobs", "--user", "bob", ok=False)
    listed = cli("filter", "list", "--user", "bob")
    assert "shared" in listed and "mine" not in listed
    assert "copied" in cli("filter", "copy", "2", "bobs", "--user", "bob")
    assert "not yours" in cli("filter", "delete", "2", "--user", "bob", ok=False)
    cli("filter", "delete", "bobs", "--user", "bob")
    assert "bobs" not in cli("filter", "list", "--all", "--operator")


def test_backtest_replays_the_archive_without_sending(cli) -> None:  # type: ignore[no-untyped-def]
    cli("filter", "add", "bright", BRIGHT)
    reports = json.loads(
        cli("filter", "backtest", "bright", "--since", "1858-11-17", "--batch-size", "25", "--json")
    )
    assert sum(r["alerts"] for r in reports) == 70
    assert [r["first_mjd"] for r in reports] == sorted(r["first_mjd"] for r in reports)
    assert sum(r["matches"] for r in reports) > 0
    assert "matches : 0" in cli("filter", "show", "bright")  # nothing recorded or sent


def test_expired_filter_stops_and_owner_is_told(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("filter", "add", "old", BRIGHT, "--active")
    store = open_store(db(tmp_path))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=181)
    assert [f.name for f in expire_filters(store, later)] == ["old"]
    assert not find_filter(store, "old").active
    store.close()
    shown = cli("filter", "show", "old")
    assert "inactive" in shown and "expired" in shown and "renew" in shown


def test_a_failing_filter_is_reported_and_does_not_stop_others(cli) -> None:  # type: ignore[no-untyped-def]
    cli(
        "filter",
        "add",
        "broken",
        "SELECT diaObjectId FROM objects WHERE CAST(latest_band AS INTEGER) > 1",
        "--active",
    )
    cli("filter", "add", "bright", BRIGHT, "--active")
    out = cli("ingest", str(SAMPLE))
    assert "bright:" in out and "filter broken failed" in out
    assert "error" in cli("filter", "show", "broken")
