"""Other users' things from the command line, secrets in output, and filters that must not
crash an ingest: two users, a private and a public filter with a webhook token."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from lanner.filter.access import mask_options, mask_url
from lanner.store import open_store
from tests.cli.test_filter_commands import BRIGHT, SAMPLE, db
from tests.conftest import PG_URL

TOKEN = "T0KEN-s3cr3t"
HOOK = f"https://hooks.example.org/services/T1/B2/{TOKEN}"


def _two_users(cli) -> None:  # type: ignore[no-untyped-def]
    cli("user", "add", "alice", "--operator")
    cli("user", "add", "bob", "--operator")
    for name, public in (("mine", ()), ("shared", ("--public",))):
        cli(
            "filter",
            "add",
            name,
            BRIGHT,
            "--user",
            "alice",
            "--output",
            "webhook",
            "--option",
            f"webhook_url={HOOK}",
            *public,
        )


def test_private_filter_is_not_shown_to_others(cli) -> None:  # type: ignore[no-untyped-def]
    _two_users(cli)
    for command in (
        ("show", "1"),
        ("matches", "1"),
        ("backtest", "1", "--since", "1858-11-17"),
        ("edit", "1", "--description", "x"),
        ("activate", "1"),
        ("delete", "1"),
        ("copy", "1", "stolen"),
    ):
        out = cli("filter", *command, "--user", "bob", ok=False)
        assert "no filter with id 1" in out
        assert "latest_psfFlux" not in out and "mine" not in out and TOKEN not in out
    assert "no filter with id 99" in cli("filter", "show", "99", "--user", "bob", ok=False)


def test_public_filter_shows_its_definition_only(cli) -> None:  # type: ignore[no-untyped-def]
    _two_users(cli)
    shown = cli("filter", "show", "2", "--user", "bob")
    assert "latest_psfFlux" in shown and "hooks.example.org" not in shown
    for command in (("matches", "2"), ("backtest", "2", "--since", "1858-11-17")):
        out = cli("filter", *command, "--user", "bob", ok=False)
        assert "only the owner of filter 'shared'" in out
    own = cli("filter", "show", "2", "--user", "alice")
    assert "https://hooks.example.org/***" in own and TOKEN not in own


def test_listing_every_users_filters_is_an_operator_command(cli) -> None:  # type: ignore[no-untyped-def]
    assert "making a user is an operator's command" in cli("user", "add", "eve", ok=False)
    assert "operator's command" in cli("digest", "send", ok=False)
    _two_users(cli)
    assert "--operator" in cli("filter", "list", "--all", ok=False)
    listed = cli("filter", "list", "--all", "--operator")
    assert "mine" in listed and "shared" in listed
    assert "mine" not in cli("filter", "list", "--user", "bob")


def test_saving_runs_the_filter_as_each_batch_will(cli) -> None:  # type: ignore[no-untyped-def]
    # Valid for the validator, refused by DuckDB's binder: caught at save time, not per batch.
    sql = "SELECT diaObjectId FROM objects WHERE latest_band + 1 > 0"
    out = cli("filter", "add", "typed", sql, "--active", ok=False)
    assert "No function matches" in out and "Traceback" not in out
    assert "typed" not in cli("filter", "list")


def test_output_options_hide_secret_keys() -> None:
    shown = json.loads(mask_options(json.dumps({"webhook_url": HOOK, "api_token": "t", "n": 3})))
    assert shown == {"webhook_url": "https://hooks.example.org/***", "api_token": "***", "n": 3}


def test_secrets_are_masked_in_urls() -> None:
    assert (
        mask_url("postgresql://lanner:pw@db:5432/lanner")
        == "postgresql://lanner:***@db:5432/lanner"
    )
    assert mask_url("postgresql://lanner@db/lanner") == "postgresql://lanner@db/lanner"
    assert mask_url("sqlite:///var/lanner.db") == "sqlite:///var/lanner.db"
    assert mask_url(f"{HOOK}?token=abc") == "https://hooks.example.org/***?***"


def test_ingest_does_not_print_the_database_password(cli, pg_url: str) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(PG_URL) as con:
        user = con.execute("SELECT current_user").fetchone()
    assert user is not None
    # The server trusts local connections, so the password is accepted and ignored.
    url = pg_url.replace(f"://{user[0]}@", f"://{user[0]}:hunter2@")
    assert "hunter2" in url
    out = cli("ingest", str(SAMPLE), "--db", url)
    assert "hunter2" not in out and f"{user[0]}:***@" in out


def test_saved_filters_of_every_result_type_never_crash_an_ingest(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path
) -> None:
    deep = "SELECT diaObjectId, " + "-" * 360 + "1 AS x FROM objects"
    assert "nests more than 32 levels" in cli("filter", "add", "deep", deep, "--active", ok=False)
    cli(
        "filter",
        "add",
        "decimal",
        "SELECT diaObjectId, nDiaSources * 1.5 AS x FROM objects WHERE nDiaSources > 0",
        "--active",
    )
    cli(
        "filter",
        "add",
        "far_future",
        "SELECT diaObjectId, CAST('99999-12-31' AS DATE) AS d FROM objects",
        "--active",
    )
    cli("filter", "add", "bright", BRIGHT, "--active")
    out = cli("ingest", str(SAMPLE))
    assert "filter far_future failed" in out and "date outside years 1-9999" in out
    assert "bright:" in out and "decimal:" in out
    store = open_store(db(tmp_path))
    try:
        rows = store.con.execute(
            'SELECT m.payload, o."nDiaSources" FROM filter_matches m JOIN filters f '
            'ON f.filter_id = m.filter_id JOIN objects o ON o."diaObjectId" = m."diaObjectId" '
            "WHERE f.name = 'decimal'"
        ).fetchall()
    finally:
        store.close()
    assert rows
    assert all(json.loads(payload)["x"] == n * 1.5 for payload, n in rows)
    assert "date outside years 1-9999" in cli("filter", "show", "far_future")
