"""Fixtures of the browser tests: real archives, a live ``lanner serve`` on loopback, and
Debian's Chromium driven by Playwright (pip), headless and offline.

The browser is ``$LANNER_CHROMIUM`` or ``/usr/lib/chromium/chromium`` (Debian's package,
installed by ``.ci/run``); the tests fail, never skip, when it is missing, and never
download a browser. Every page is opened in a context that refuses any request not to
127.0.0.1 (so the site must work without the network), and collects console errors and
uncaught exceptions; :func:`shot` saves a screenshot under ``test-artifacts/web/``.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from lanner.testing.server import LiveServer
from tests.conftest import PG_URL, create_pg_schema, drop_pg_schema
from tests.serve.conftest import PASSWORD, Person, make_people
from tests.web.bbb_alert import write_transient

expect.set_options(timeout=30000)  # assertions wait as long as a loaded machine needs


def ingest_command(survey: str, paths: list[Path], db_url: str) -> list[str]:
    """``lanner ingest`` (the whole pipeline) of the given alert files or folders."""
    return [sys.executable, "-m", "lanner", "ingest", *map(str, paths), "--survey", survey,
            "--db", db_url, "--workers", "2"]  # fmt: skip


REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "web"
CHROMIUM = os.environ.get("LANNER_CHROMIUM", "/usr/lib/chromium/chromium")
#: The ZTF object of the Pitt-Google series (34 detections with cutouts) and its folder.
ZTF_OBJECT = "ZTF21abiuvdk"
ZTF_SERIES = "mwvgroup__Pitt-Google-Broker/docs/source/working-notes/troyraen/SuperNNova"
ZTF_SOURCES = (ZTF_SERIES, "ZwickyTransientFacility__ztf-avro-alert")
LSST_SOURCES = ("astrolabsoftware__fink-broker",)
#: The sky views' survey: the blank HiPS shipped with the site, so nothing is asked of
#: other hosts (``test_the_sky_view_starts_offline`` also tries the remote default).
OFFLINE_SKY = {"LANNER_SKY_SURVEY": "/static/hips/blank"}


@dataclass
class Site:
    """A live server over an archive, and its users."""

    server: LiveServer
    db_url: str
    survey: str
    people: dict[str, Person]

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def tag(self) -> str:
        """Prefix of the screenshots of this site: ``ztf``, ``pg-ztf``, ``lsst``."""
        return self.survey if self.backend == "sqlite" else f"pg-{self.survey}"

    @property
    def backend(self) -> str:
        return "sqlite" if self.db_url.startswith("sqlite:") else "postgres"

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """The rows of one query of the archive, on either backend (``?`` placeholders;
        quote mixed-case names, as PostgreSQL folds the others)."""
        if self.backend == "sqlite":
            with sqlite3.connect(self.db_url.removeprefix("sqlite:///")) as con:
                return list(con.execute(sql, params).fetchall())
        with psycopg.connect(self.db_url) as pg:
            return list(pg.execute(sql.replace("?", "%s"), params).fetchall())

    def one(self, sql: str, *params: Any) -> Any:
        """The first column of the first row of a query (``None`` if no row)."""
        found = self.rows(sql, *params)
        return found[0][0] if found else None


@dataclass
class Watched:
    """A page with the console errors, page errors and refused requests it produced."""

    page: Page
    errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def problems(self, *expected: int) -> list[str]:
        """Console errors and uncaught exceptions, less the failed loads of the HTTP
        statuses ``expected`` (a form the test sent wrong on purpose answers 400)."""
        allowed = [f"status of {code} " for code in expected]
        return [e for e in self.errors if not any(a in e for a in allowed)]


def shot(target: Page | Locator, name: str) -> Path:
    """Save a screenshot of a page (whole) or of one element, as
    ``test-artifacts/web/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if isinstance(target, Locator):
        target.screenshot(path=str(path))
    else:
        target.screenshot(path=str(path), full_page=True)
    return path


class Archives:
    """The session's archives, built side by side (``lanner ingest`` subprocesses) on first
    use: ZTF on SQLite and on PostgreSQL (a fresh schema of ``LANNER_TEST_PG``, dropped at
    the end), Rubin on SQLite (with the Bazin × blackbody transient of :mod:`.bbb_alert`)."""

    def __init__(self, alerts_dir: Path, root: Path, pg_schema: str) -> None:
        sep = "&" if "?" in PG_URL else "?"
        pg = f"{PG_URL}{sep}options=-csearch_path%3D{pg_schema},public"
        ztf = [alerts_dir / "ztf" / s for s in ZTF_SOURCES]
        self.transient = write_transient(alerts_dir, root / "transient.avro")
        lsst = [*(alerts_dir / "lsst" / s for s in LSST_SOURCES), root / "transient.avro"]
        self.builds = {
            "ztf": ("ztf", ztf, f"sqlite:///{root / 'ztf.db'}"),
            "pg_ztf": ("ztf", ztf, f"{pg}&application_name={pg_schema}"),
            "lsst": ("lsst", lsst, f"sqlite:///{root / 'lsst.db'}"),
        }
        self._runs: dict[str, subprocess.Popen[bytes]] = {}
        self._done: set[str] = set()

    def url(self, name: str) -> str:
        """The archive's URL once it is built (all start building on the first call)."""
        if not self._runs:
            for other, (survey, paths, url) in self.builds.items():
                self._runs[other] = subprocess.Popen(
                    ingest_command(survey, paths, url),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                )
        if name not in self._done:
            out, _ = self._runs[name].communicate()
            assert self._runs[name].returncode == 0, (
                f"building the {name} web archive failed:\n{out.decode(errors='replace')[-3000:]}"
            )
            self._done.add(name)
        return self.builds[name][2]

    def wait(self) -> None:
        for name, run in self._runs.items():
            if name not in self._done:
                run.communicate()


@pytest.fixture(scope="session")
def web_archives(tmp_path_factory: pytest.TempPathFactory, alerts_dir: Path) -> Iterator[Archives]:
    schema, _ = create_pg_schema("t_web")
    built = Archives(alerts_dir, tmp_path_factory.mktemp("web"), schema)
    try:
        yield built
    finally:
        built.wait()
        drop_pg_schema(schema)


def _site(archives: Archives, name: str, workers: int) -> Iterator[Site]:
    url = archives.url(name)
    people = make_people(url)
    with LiveServer(url, workers=workers, env=OFFLINE_SKY) as server:
        yield Site(server, url, archives.builds[name][0], people)


@pytest.fixture(scope="session")
def ztf_site(web_archives: Archives) -> Iterator[Site]:
    """``lanner serve`` over the ZTF archive on SQLite."""
    yield from _site(web_archives, "ztf", 2)


@pytest.fixture(scope="session")
def pg_ztf_site(web_archives: Archives) -> Iterator[Site]:
    """``lanner serve`` over the same ZTF alerts on PostgreSQL."""
    yield from _site(web_archives, "pg_ztf", 2)


@pytest.fixture(scope="session")
def lsst_site(web_archives: Archives) -> Iterator[Site]:
    yield from _site(web_archives, "lsst", 1)


@pytest.fixture(params=["sqlite", "postgres"])
def ztf_any(request: pytest.FixtureRequest) -> Site:
    """The ZTF site on SQLite, then on PostgreSQL: the tests of the pages that read or
    write the most kinds of rows run on both backends."""
    name = "ztf_site" if request.param == "sqlite" else "pg_ztf_site"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: apt-get install --no-install-recommends chromium, "
            "or set LANNER_CHROMIUM"
        )
    b = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--use-gl=swiftshader",
                                                       "--enable-unsafe-swiftshader"]
    )  # fmt: skip
    yield b
    b.close()


def _watch(page: Page) -> Watched:
    watched = Watched(page)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            text = msg.text
            # A request the test refused (not to loopback) is reported by Chromium as a
            # failed load; it is counted in ``refused``, not as a page error.
            if "net::ERR_FAILED" in text or "ERR_BLOCKED" in text:
                return
            watched.errors.append(f"console: {text} at {msg.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: watched.errors.append(f"page error: {exc}"))
    return watched


def _offline(page: Page, watched: Watched) -> None:
    def route(r: Any) -> None:
        host = urlsplit(r.request.url).hostname
        if host in ("127.0.0.1", "localhost") or r.request.url.startswith("data:"):
            r.continue_()
        else:
            watched.refused.append(r.request.url)
            r.abort("blockedbyclient")

    page.route("**/*", route)


def new_page(browser: Browser, width: int = 1280, height: int = 900) -> Watched:
    context = browser.new_context(viewport={"width": width, "height": height})
    # Generous limits: a page loads 7 MB of libraries, and CI machines are shared.
    context.set_default_timeout(60000)
    context.set_default_navigation_timeout(90000)
    page = context.new_page()
    watched = _watch(page)
    _offline(page, watched)
    return watched


@pytest.fixture()
def web(browser: Browser) -> Iterator[Watched]:
    """A fresh, offline, watched browser page (desktop width)."""
    watched = new_page(browser)
    yield watched
    watched.page.context.close()


def log_in(page: Page, site: Site, name: str = "alice") -> None:
    page.goto(f"{site.url}/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{site.url}/objects/")
    settle(page)


def settle(page: Page) -> None:
    """Wait until the page's widgets are drawn (the sky view never goes network-idle
    offline: it keeps asking for tiles it cannot have)."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        """() => (!document.getElementById('lightcurve') ||
                  document.getElementById('lightcurve').dataset.drawn) &&
                 (!document.getElementById('aladin') ||
                  document.getElementById('aladin').dataset.ready) &&
                 (!document.getElementById('life') ||
                  document.getElementById('life').dataset.live)""",
        timeout=60000,
    )
    page.wait_for_timeout(300)  # htmx's load-time requests (validation) answer
