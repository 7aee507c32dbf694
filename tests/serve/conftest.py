"""Fixtures of the server tests: ZTF and Rubin archives of the shared real alerts (SQLite,
and a ZTF one on PostgreSQL), built once per session; users of each tier; live
``lanner serve`` processes on loopback.

PostgreSQL fixtures need the server at ``LANNER_TEST_PG``; they fail, never skip, when it
is missing.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lanner.filter.users import create_user
from lanner.serve import accounts
from lanner.store import open_store
from lanner.testing.server import LiveServer
from tests.conftest import PG_URL, create_pg_schema, drop_pg_schema

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


def ingest_command(alerts_dir: Path, survey: str, db_url: str) -> list[str]:
    """``lanner ingest`` (the whole pipeline) of the test alerts of ``survey``."""
    sources = ZTF_SOURCES if survey == "ztf" else LSST_SOURCES
    paths = [str(alerts_dir / survey / s) for s in sources]
    return [sys.executable, "-m", "lanner", "ingest", *paths, "--survey", survey, "--db", db_url]


class Archives:
    """The session's test archives, built side by side in subprocesses on first use."""

    def __init__(self, alerts_dir: Path, root: Path, pg_schema: str) -> None:
        sep = "&" if "?" in PG_URL else "?"
        self.urls = {
            "ztf": f"sqlite:///{root / 'ztf.db'}",
            "lsst": f"sqlite:///{root / 'lsst.db'}",
            "pg_ztf": f"{PG_URL}{sep}options=-csearch_path%3D{pg_schema},public"
            f"&application_name={pg_schema}",
        }
        self.surveys = {"ztf": "ztf", "lsst": "lsst", "pg_ztf": "ztf"}
        self.alerts_dir = alerts_dir
        self._runs: dict[str, subprocess.Popen[bytes]] = {}
        self._done: set[str] = set()

    def url(self, name: str) -> str:
        """The archive's URL, once it is built (all of them start building on first use)."""
        if not self._runs:
            for other, url in self.urls.items():
                self._runs[other] = subprocess.Popen(
                    ingest_command(self.alerts_dir, self.surveys[other], url),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
        if name not in self._done:
            out, _ = self._runs[name].communicate()
            assert self._runs[name].returncode == 0, (
                f"building the {name} test archive failed:\n{out.decode(errors='replace')[-3000:]}"
            )
            self._done.add(name)
        return self.urls[name]

    def wait(self) -> None:
        """Let every build end (before the PostgreSQL schema is dropped)."""
        for name, run in self._runs.items():
            if name not in self._done:
                run.communicate()


@dataclass(frozen=True)
class Person:
    """A user of a test archive: name, id, API key, tier."""

    username: str
    user_id: int
    token: str
    tier: str


def make_people(db_url: str) -> dict[str, Person]:
    """alice and bob (tier user), anon and anon2 (tier anon), power (tier power), each with a
    password and an API key."""
    store = open_store(db_url, create=False)
    people = {}
    try:
        for name, tier in (
            ("alice", "user"),
            ("bob", "user"),
            ("anon", "anon"),
            ("anon2", "anon"),
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
def archives(tmp_path_factory: pytest.TempPathFactory, alerts_dir: Path) -> Iterator[Archives]:
    """The ZTF and Rubin SQLite archives and a ZTF one in a fresh PostgreSQL schema
    (dropped at the end of the session)."""
    schema, _ = create_pg_schema("t_api")
    built = Archives(alerts_dir, tmp_path_factory.mktemp("archives"), schema)
    try:
        yield built
    finally:
        built.wait()
        drop_pg_schema(schema)


@pytest.fixture(scope="session")
def ztf_archive(archives: Archives) -> str:
    return archives.url("ztf")


@pytest.fixture(scope="session")
def lsst_archive(archives: Archives) -> str:
    return archives.url("lsst")


@pytest.fixture(scope="session")
def pg_ztf_archive(archives: Archives) -> str:
    return archives.url("pg_ztf")


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
