"""Fixtures shared by all tests: the shared real data, and databases on both backends.

PostgreSQL tests need the server at ``LANNER_TEST_PG`` (default
``postgresql://postgres@localhost:5432/test``); they fail, never skip, when it is missing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# The session's Kafka broker (tansu) and helpers: tests/kafka_fixtures.py.
pytest_plugins = ["tests.kafka_fixtures"]

# Tests' webhook servers listen on loopback: the operator setting that allows it.
os.environ["LANNER_WEBHOOK_ALLOW_PRIVATE"] = "1"

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("LANNER_TEST_PG", "postgresql://postgres@localhost:5432/test")


def find_shared() -> Path:
    """The ``shared/`` folder beside the repository (or ``$LANNER_SHARED``)."""
    env = os.environ.get("LANNER_SHARED")
    path = Path(env) if env else REPO.parent / "shared"
    if not (path / "data" / "alerts").is_dir():
        raise RuntimeError(
            f"shared data not found at {path}: clone the repository next to shared/ or set "
            "LANNER_SHARED"
        )
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return find_shared()


@pytest.fixture(scope="session")
def alerts_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "alerts"


def create_pg_schema(prefix: str = "t") -> tuple[str, str]:
    """A fresh PostgreSQL schema (q3c in the database) and a URL whose search_path is it.

    Connections made with the URL carry the schema's name as application_name, so
    :func:`drop_pg_schema` can end any a failing test left open (they would otherwise block
    the DROP for ever).
    """
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute("CREATE EXTENSION IF NOT EXISTS q3c")
        con.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    return schema, f"{PG_URL}{sep}options=-csearch_path%3D{schema},public&application_name={schema}"


def drop_pg_schema(schema: str) -> None:
    """End the schema's leftover connections, then drop it and everything in it."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (schema,),
        )
        con.execute("SET lock_timeout = '30s'")
        con.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def pg_schema(prefix: str = "t") -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped on leaving."""
    schema, url = create_pg_schema(prefix)
    try:
        yield url
    finally:
        drop_pg_schema(schema)


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test (:func:`pg_schema`)."""
    with pg_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lanner.db'}"
    return str(request.getfixturevalue("pg_url"))
