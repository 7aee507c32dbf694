"""Fixtures of the server tests: ZTF and Rubin archives of the shared real alerts (SQLite,
and a ZTF one on PostgreSQL), built once per session; users of each tier; live
``lanner serve`` processes on loopback.

PostgreSQL fixtures need the server at ``LANNER_TEST_PG``; they fail, never skip, when it
is missing.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from lanner.filter.users import create_user
from lanner.serve import accounts
from lanner.store import open_store
from lanner.testing.server import LiveServer
from tests.conftest import PG_URL

#: Folders of the shared alerts each test archive is built from (a few hundred alerts).
ZTF_SOURCES = (
    "ZwickyTransientFacility__ztf-avro-alert",
    "alercebroker__pipeline",
    "astrolabsoftware__fink-broker",
    "boom-astro__boom",
    "mwvgroup__Pitt-Google-Broker",
    "skyportal__kowalski",
)
LSST_SOURCES = (
    "alercebroker__pipeline",
    "boom-astro__boom",
    "lsst-uk__lasair-lsst",
    "lsst-dm__alert-stream-simulator",
    "mwvgroup__pittgoogle-client",
    "pypi__lsst-alert-packet-30.2026.2700",
    "astrolabsoftware__fink-client",
)
PASSWORD = "correct horse battery"


def ingest(alerts_dir: Path, survey: str, sources: tuple[str, ...], db_url: str) -> str:
    """Build an archive with ``lanner ingest`` (the whole pipeline) and return its URL."""
    paths = [str(alerts_dir / survey / s) for s in sources]
    cmd = [sys.executable, "-m", "lanner", "ingest", *paths, "--survey", survey]
    subprocess.run([*cmd, "--db", db_url, "--workers", "2"], check=True, capture_output=True)
    return db_url


@dataclass(frozen=True)
class Person:
    """A user of a test archive: name, id, API key, tier."""

    username: str
    user_id: int
    token: str
    tier: str


def make_people(db_url: str) -> dict[str, Person]:
    """alice and bob (tier user), anon (tier anon), power (tier power), each with a
    password and an API key."""
    store = open_store(db_url, create=False)
    people = {}
    try:
        for name, tier in (
            ("alice", "user"),
            ("bob", "user"),
            ("anon", "anon"),
            ("power", "power"),
        ):
            user, key = create_user(store, name)
            accounts.set_password(store, user.user_id, PASSWORD)
            accounts.set_tier(store, user.user_id, tier)
            people[name] = Person(name, user.user_id, key, tier)
    finally:
        store.close()
    return people


@dataclass
class Instance:
    """A live server over an archive, and its users."""

    server: LiveServer
    db_url: str
    survey: str
    people: dict[str, Person]

    @property
    def api(self) -> str:
        """The base URL the lasair client takes (``…/api``)."""
        return f"{self.server.url}/api"


@pytest.fixture(scope="session")
def ztf_archive(tmp_path_factory: pytest.TempPathFactory, alerts_dir: Path) -> str:
    path = tmp_path_factory.mktemp("ztf") / "ztf.db"
    return ingest(alerts_dir, "ztf", ZTF_SOURCES, f"sqlite:///{path}")


@pytest.fixture(scope="session")
def lsst_archive(tmp_path_factory: pytest.TempPathFactory, alerts_dir: Path) -> str:
    path = tmp_path_factory.mktemp("lsst") / "lsst.db"
    return ingest(alerts_dir, "lsst", LSST_SOURCES, f"sqlite:///{path}")


@pytest.fixture(scope="session")
def pg_ztf_archive(alerts_dir: Path) -> Iterator[str]:
    """The ZTF archive in a fresh PostgreSQL schema, dropped at the end of the session."""
    schema = f"t_api_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute("CREATE EXTENSION IF NOT EXISTS q3c")
        con.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema},public&application_name={schema}"
    try:
        yield ingest(alerts_dir, "ztf", ZTF_SOURCES, url)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (schema,),
            )
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _instance(db_url: str, survey: str) -> Iterator[Instance]:
    people = make_people(db_url)
    with LiveServer(db_url, workers=2) as server:
        yield Instance(server, db_url, survey, people)


@pytest.fixture(scope="session")
def ztf(ztf_archive: str) -> Iterator[Instance]:
    """``lanner serve`` (2 workers) over the ZTF SQLite archive."""
    yield from _instance(ztf_archive, "ztf")


@pytest.fixture(scope="session")
def lsst(lsst_archive: str) -> Iterator[Instance]:
    """``lanner serve`` (2 workers) over the Rubin SQLite archive."""
    yield from _instance(lsst_archive, "lsst")


@pytest.fixture(scope="session")
def pg_ztf(pg_ztf_archive: str) -> Iterator[Instance]:
    """``lanner serve`` (2 workers) over the ZTF PostgreSQL archive."""
    yield from _instance(pg_ztf_archive, "ztf")


@pytest.fixture(params=["sqlite", "postgres"])
def ztf_any(request: pytest.FixtureRequest) -> Instance:
    """The ZTF server on SQLite, then on PostgreSQL."""
    name = "ztf" if request.param == "sqlite" else "pg_ztf"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]
