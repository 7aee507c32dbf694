"""Every bad input a user can type ends in one clear message, never a traceback, and
creates or loses nothing: unreachable and uninitialised databases, mistyped paths, a
broker that is not there, a survey mismatch, Ctrl-C, copying a public filter by name."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lanner.cli import build_cli
from lanner.store import open_store
from lanner.store.migrate import init_database
from tests.conftest import PG_URL

BRIGHT = "SELECT diaObjectId, latest_psfFlux FROM objects WHERE latest_psfFlux > 10000"


def lanner(*args: str) -> Result:
    result = CliRunner().invoke(build_cli(), list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def test_a_database_that_does_not_exist_on_the_server() -> None:
    url = PG_URL.rsplit("/", 1)[0] + "/nope"
    result = lanner("query", "--db", url, "SELECT 1")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1  # one line, not 39
    assert "cannot connect to the database" in result.output
    assert 'database "nope" does not exist' in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("filter", "list"),
        ("filter", "add", "bright", BRIGHT),
        ("filter", "show", "bright"),
        ("filter", "backtest", "bright", "--since", "2020-01-01"),
        ("filter", "matches", "bright"),
        ("user", "add", "alice", "--operator"),
        ("context", "--object", "ZTF18aaaaaaa"),
        ("query", "SELECT 1"),
    ],
)
def test_any_command_on_a_fresh_folder(lanner_home: Path, args: tuple[str, ...]) -> None:
    result = lanner(*args)
    assert result.exit_code == 1
    assert f"no Lanner database at {lanner_home / 'lanner.db'}" in result.output
    assert "lanner db init --survey" in result.output
    assert not lanner_home.exists()  # no folder, no empty database


def test_a_mistyped_sqlite_path_creates_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "lanner-dta" / "sub" / "lanner.db"
    for args in (("query", "SELECT 1"), ("filter", "list"), ("db", "upgrade")):
        result = lanner(*args, "--db", f"sqlite:///{typo}")
        assert result.exit_code == 1 and f"no Lanner database at {typo}" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_database_set_up_but_empty(lanner_home: Path) -> None:
    assert "lsst database created" in lanner("db", "init", "--survey", "lsst").output
    assert lanner("filter", "list").exit_code == 0
    assert "already current" in lanner("db", "upgrade").output
    result = lanner("filter", "show", "bright")
    assert result.exit_code == 1 and "no filter named 'bright'" in result.output


def test_an_older_schema_is_upgraded_by_the_db_step(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    init_database(url, "ztf")
    store = open_store(url)
    store.con.execute("DROP TABLE dead_letters")
    store.con.execute("UPDATE lanner_meta SET value = 'older' WHERE key = 'schema'")
    store.con.commit()
    store.close()
    result = lanner("filter", "list", "--db", url)
    assert result.exit_code == 1 and f"lanner db upgrade --db {url}" in result.output
    assert "ztf database upgraded" in lanner("db", "upgrade", "--db", url).output
    assert lanner("filter", "list", "--db", url).exit_code == 0
    store = open_store(url, create=False)
    assert store.known_dead_letters(["x"]) == set()  # the table is back
    store.close()


def test_an_explicit_survey_mismatch_fails_with_its_reasons(
    lanner_home: Path, alerts_dir: Path
) -> None:
    ztf = alerts_dir / "ztf" / "boom-astro__boom" / "data"
    result = lanner("ingest", "--survey", "lsst", str(ztf))
    assert result.exit_code == 1
    assert "alerts ingested : 0" in result.output
    n = len(list((lanner_home / "deadletter").glob("*.json")))
    assert n > 0
    assert f"{n} × survey mismatch: a ztf alert in a lsst database" in result.output
    assert f"{n} alerts are not lsst alerts" in result.output


def test_copy_another_users_public_filter_by_name(lanner_home: Path) -> None:
    assert lanner("run", "--survey", "lsst").exit_code == 0
    for user in ("alice", "bob"):
        assert lanner("user", "add", user, "--operator").exit_code == 0
    assert lanner("filter", "add", "shared", BRIGHT, "--user", "alice", "--public").exit_code == 0
    assert lanner("filter", "add", "secret", BRIGHT, "--user", "alice").exit_code == 0
    out = lanner("filter", "copy", "shared", "mine", "--user", "bob").output
    assert "copied from 'shared'" in out
    assert "mine" in lanner("filter", "list", "--user", "bob").output
    result = lanner("filter", "copy", "secret", "x", "--user", "bob")
    assert result.exit_code == 1 and "no filter named 'secret'" in result.output
    names = [
        line.split()[1]
        for line in lanner("filter", "list", "--all", "--operator").output.splitlines()[1:]
    ]
    assert names == ["shared", "secret", "mine"]


@pytest.mark.kafka
def test_consume_without_a_broker_says_so_once(lanner_home: Path) -> None:
    init_database(f"sqlite:///{lanner_home / 'lanner.db'}", "ztf")
    started = time.monotonic()
    result = lanner("consume", "--kafka", "127.0.0.1:9", "--topic", "alerts", "--idle-timeout", "2")
    took = time.monotonic() - started
    assert result.exit_code == 1
    assert "cannot reach the Kafka broker at 127.0.0.1:9" in result.output
    assert result.output.count("\n") <= 3, result.output
    assert took < 30  # the idle timeout is honoured, not the 60 s group-join grace
    assert not (lanner_home / "deadletter").exists()


def _interrupt(
    args: list[str], env: dict[str, str], after_s: float
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lanner", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(after_s)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("after_s", [0.3, 1.0])
def test_ctrl_c_in_the_first_second(tmp_path: Path, alerts_dir: Path, after_s: float) -> None:
    env = {**os.environ, "LANNER_HOME": str(tmp_path / "home")}
    env.pop("LANNER_DB", None)
    done = _interrupt(["ingest", str(alerts_dir / "ztf")], env, after_s)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr
    assert "interrupted" in done.stderr


def test_settings_errors_are_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANNER_BATCH_SIZE", "lots")
    result = lanner("filter", "list")
    assert result.exit_code == 1 and "LANNER_BATCH_SIZE='lots' is not valid" in result.output
