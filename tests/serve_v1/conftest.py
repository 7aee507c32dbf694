"""Fixtures of the ``/api/v1`` tests: a Rubin archive of the bundled real alerts, ingested
after alice saved an active filter (so it has matches), users of each tier, annotators,
and a live ``lanner serve`` over it — on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lanner.annotations.api import add_annotator
from lanner.store import open_store
from lanner.testing.server import LiveServer
from tests.conftest import pg_schema
from tests.serve.conftest import Person, make_people

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "lsst"
BRIGHT = "SELECT diaObjectId, latest_psfFlux FROM objects WHERE latest_psfFlux > 10000"
#: Generous limits for alice and bob (tier user), so the tests never meet them; anon
#: keeps 10 per hour (the throttling tests use it).
RATES = "10,100000,100000"


@dataclass(frozen=True)
class V1:
    """A live server, its archive and its people."""

    server: LiveServer
    db_url: str
    people: dict[str, Person]
    bright_id: int
    """Id of alice's active filter, which matched alerts at ingest."""

    @property
    def url(self) -> str:
        return self.server.url

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Token {self.people[who].token}"}


def lanner(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lanner", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def build(db_url: str) -> tuple[dict[str, Person], int]:
    lanner("db", "init", "--survey", "lsst", "--db", db_url)
    people = make_people(db_url)
    out = lanner("filter", "add", "bright", BRIGHT, "--active", "--user", "alice", "--db", db_url)
    bright = int(out.split()[1])
    lanner("ingest", str(SAMPLE), "--db", db_url, "--workers", "1")
    store = open_store(db_url, create=False)
    try:
        add_annotator(store, "alice_private", people["alice"].user_id, public=False)
        add_annotator(store, "alice_public", people["alice"].user_id, public=True)
    finally:
        store.close()
    return people, bright


def _serve(db_url: str) -> Iterator[V1]:
    people, bright = build(db_url)
    env = {"LANNER_API_RATES": RATES}
    with LiveServer(db_url, workers=2, env=env) as server:
        yield V1(server, db_url, people, bright)


@pytest.fixture(scope="session")
def v1_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[V1]:
    path = tmp_path_factory.mktemp("v1") / "lsst.db"
    yield from _serve(f"sqlite:///{path}")


@pytest.fixture(scope="session")
def v1_pg() -> Iterator[V1]:
    with pg_schema("t_v1") as url:
        yield from _serve(url)


@pytest.fixture(params=["sqlite", "postgres"])
def v1(request: pytest.FixtureRequest) -> V1:
    """The server on SQLite, then on PostgreSQL."""
    return request.getfixturevalue(f"v1_{'sqlite' if request.param == 'sqlite' else 'pg'}")  # type: ignore[no-any-return]


def archive_rows(db_url: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of one read of the archive (to know what the answers must hold)."""
    store = open_store(db_url, create=False)
    try:
        return [tuple(r) for r in store.con.execute(sql).fetchall()]
    finally:
        store.close()
