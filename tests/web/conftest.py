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
from tests.serve.conftest import PASSWORD, Person, make_people

expect.set_options(timeout=30000)  # assertions wait as long as a loaded machine needs


def ingest(alerts_dir: Path, survey: str, sources: tuple[str, ...], db_url: str) -> str:
    """Build an archive of the given alert folders with ``lanner ingest`` (the whole
    pipeline) and return its URL."""
    paths = [str(alerts_dir / survey / s) for s in sources]
    cmd = [sys.executable, "-m", "lanner", "ingest", *paths, "--survey", survey]
    subprocess.run([*cmd, "--db", db_url, "--workers", "2"], check=True, capture_output=True)
    return db_url


REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "web"
CHROMIUM = os.environ.get("LANNER_CHROMIUM", "/usr/lib/chromium/chromium")
#: The ZTF object of the Pitt-Google series (34 detections with cutouts) and its folder.
ZTF_OBJECT = "ZTF21abiuvdk"
ZTF_SERIES = "mwvgroup__Pitt-Google-Broker/docs/source/working-notes/troyraen/SuperNNova"
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

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_url.removeprefix("sqlite:///"))


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


@pytest.fixture(scope="session")
def ztf_site(tmp_path_factory: pytest.TempPathFactory, alerts_dir: Path) -> Iterator[Site]:
    path = tmp_path_factory.mktemp("web-ztf") / "ztf.db"
    url = ingest(alerts_dir, "ztf", (ZTF_SERIES, "ZwickyTransientFacility__ztf-avro-alert"),
                 f"sqlite:///{path}")  # fmt: skip
    people = make_people(url)
    with LiveServer(url, workers=2, env=OFFLINE_SKY) as server:
        yield Site(server, url, "ztf", people)


@pytest.fixture(scope="session")
def lsst_site(tmp_path_factory: pytest.TempPathFactory, alerts_dir: Path) -> Iterator[Site]:
    path = tmp_path_factory.mktemp("web-lsst") / "lsst.db"
    url = ingest(alerts_dir, "lsst", LSST_SOURCES, f"sqlite:///{path}")
    people = make_people(url)
    with LiveServer(url, workers=1, env=OFFLINE_SKY) as server:
        yield Site(server, url, "lsst", people)


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
