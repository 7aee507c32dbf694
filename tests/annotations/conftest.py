"""Fixtures of the annotation tests: one archive per backend holding the real Rubin sample
alerts (ingested once per session), and users to own and write annotators.

Each test makes its own annotators (unique topics), so tests share the archive safely.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner.cli import build_cli
from lanner.filter.users import create_user
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.pipeline import Pipeline
from lanner.store import Store, open_store
from tests.conftest import pg_schema
from tests.helpers import packets_of

Cli = Callable[..., str]
SAMPLE = Path(__file__).resolve().parents[2] / "src" / "lanner" / "data" / "alerts" / "lsst"


@dataclass
class Archive:
    url: str
    store: Store
    object_ids: list[int]
    alice: int
    bob: int
    carol: int


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def archive(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Archive]:
    """The Rubin sample alerts ingested into SQLite and into PostgreSQL."""
    tmp = tmp_path_factory.mktemp(f"annot-{request.param}")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'lanner.db'}"
        else:
            url = stack.enter_context(pg_schema("t_annot"))
        store = open_store(url, "lsst")
        stack.callback(store.close)
        Pipeline(store, FolderDeadLetters(tmp / "dl")).process(packets_of([SAMPLE]))
        ids = [
            int(r[0])
            for r in store.con.execute(
                'SELECT "diaObjectId" FROM objects ORDER BY "diaObjectId"'
            ).fetchall()
        ]
        store.con.commit()
        users = [create_user(store, f"{name}{uuid.uuid4().hex[:6]}")[0].user_id for name in "abc"]
        yield Archive(url, store, ids, *users)


@pytest.fixture()
def topic() -> str:
    """A fresh annotator topic name."""
    return f"t_{uuid.uuid4().hex[:10]}"


@pytest.fixture()
def cli(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``lanner`` on the session archive; ``ok=False`` expects a failure, ``ok=None``
    either."""
    monkeypatch.setenv("LANNER_DB", archive.url)
    monkeypatch.delenv("LANNER_KAFKA", raising=False)
    runner = CliRunner()

    def invoke(*args: str, ok: bool | None = True) -> str:
        result = runner.invoke(build_cli(), list(args), catch_exceptions=False)
        if ok is not None:
            assert (result.exit_code == 0) == ok, result.output
        return result.output

    return invoke
