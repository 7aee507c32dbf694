"""Every page of the web site in Debian's Chromium, offline: it loads without console
errors, and its main widget works (light curve, cutouts, sky view, kinetic display)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import (
    ZTF_OBJECT,
    Archives,
    Site,
    Watched,
    log_in,
    new_page,
    settle,
    shot,
)

PAGES = [
    "/objects/",
    f"/objects/{ZTF_OBJECT}/",
    "/objects/?ra=0.8142&dec=16.1457&radius=30",
    "/filters/",
    "/watchlists/",
    "/watchmaps/",
    "/skymaps/",
    "/status/",
    "/kinetic/",
    "/login",
    "/signup",
]
SIGNED_IN = ["/marshall/", "/account/"]


def _name(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


@pytest.mark.parametrize("path", PAGES)
def test_each_page_loads_without_console_errors(web: Watched, ztf_site: Site, path: str) -> None:
    response = web.page.goto(ztf_site.url + path)
    assert response is not None and response.status == 200
    settle(web.page)
    shot(web.page, f"ztf-{_name(path)}")
    assert web.problems() == [], ztf_site.server.log_text()[-4000:]
    assert web.page.locator("main h1").count() == 1


@pytest.mark.parametrize("path", SIGNED_IN)
def test_signed_in_pages_load_without_console_errors(
    web: Watched, ztf_site: Site, path: str
) -> None:
    web.page.goto(ztf_site.url + path)
    assert "/login" in web.page.url  # signed out: sent to log in, and back after
    log_in(web.page, ztf_site)
    web.page.goto(ztf_site.url + path)
    settle(web.page)
    shot(web.page, f"ztf-{_name(path)}")
    assert web.problems() == []
    assert web.page.url.endswith(path)


def _detections(site: Site, object_id: str) -> int:
    oid = "objectId" if site.survey == "ztf" else "diaObjectId"
    return int(site.one(f'SELECT count(*) FROM detections WHERE "{oid}" = ?', object_id))


def test_the_light_curve_has_one_point_per_detection(web: Watched, ztf_any: Site) -> None:
    ztf_site = ztf_any
    page = web.page
    page.goto(f"{ztf_site.url}/objects/{ZTF_OBJECT}/")
    page.wait_for_selector("#lightcurve[data-drawn=flux]")
    plotted = page.evaluate(
        """() => document.getElementById('lightcurve').data
             .filter(t => t.meta.kind === 'detections')
             .reduce((n, t) => n + t.y.filter(v => v !== null).length, 0)"""
    )
    stored = _detections(ztf_site, ZTF_OBJECT)
    assert stored > 10
    assert plotted == stored
    assert page.locator("#bbb-state").count() == 0  # a Rubin-only fit: nothing said of it
    # What is drawn: one marker per point of the marker traces (detections and limits).
    markers = page.evaluate(
        """() => document.getElementById('lightcurve').data
             .filter(t => t.mode === 'markers')
             .reduce((n, t) => n + t.y.filter(v => v !== null).length, 0)"""
    )
    assert page.locator("#lightcurve .scatterlayer path.point").count() == markers
    page.check("input[value=mag]")
    page.wait_for_selector("#lightcurve[data-drawn=mag]")
    low, high = page.evaluate("() => document.getElementById('lightcurve')._fullLayout.yaxis.range")
    assert low > high  # magnitudes: brighter up
    shot(page, f"{ztf_site.tag}-object-magnitudes")
    assert web.problems() == []


def test_the_cutout_viewer_shows_the_images(web: Watched, ztf_any: Site) -> None:
    ztf_site = ztf_any
    page = web.page
    page.goto(f"{ztf_site.url}/objects/{ZTF_OBJECT}/")
    for kind in ("Science", "Template", "Difference"):
        canvas = f"#cutouts canvas[data-kind={kind}]"
        page.wait_for_selector(f"{canvas}[data-loaded=true]")
        # A real image: 63x63 pixels whose grey levels vary.
        size, levels = page.evaluate(
            """(sel) => { const c = document.querySelector(sel);
                 const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 const seen = new Set(); for (let i = 0; i < d.length; i += 4) seen.add(d[i]);
                 return [[c.width, c.height], seen.size]; }""",
            canvas,
        )
        assert size == [63, 63]
        assert levels > 50
        href = page.locator(f"a[data-fits={kind}]").get_attribute("href")
        assert href is not None and href.endswith(f"_cutout{kind}")
        fits = page.request.get(ztf_site.url + href)
        assert fits.headers["content-type"] == "image/fits"
        body = fits.body()
        assert body.startswith(b"SIMPLE  =") and len(body) % 2880 == 0
    shot(page.locator("#cutouts"), f"{ztf_site.tag}-cutouts")
    # Another detection's cutouts replace these.
    options = page.locator("#cutout-pick option")
    assert options.count() > 1
    page.select_option("#cutout-pick", index=options.count() - 1)
    page.wait_for_selector("#cutouts canvas[data-kind=Science][data-loaded=true]")
    assert web.problems() == []


def test_the_sky_view_starts_offline(web: Watched, ztf_site: Site) -> None:
    page = web.page
    page.goto(f"{ztf_site.url}/objects/{ZTF_OBJECT}/")
    page.wait_for_selector("#aladin[data-ready=true]")
    assert page.locator("#aladin canvas").count() >= 1
    assert "orange marks: the object and its 1 catalogue match" in page.inner_text("#aladin-state")
    assert web.refused == []  # the shipped blank survey: nothing asked of other hosts
    shot(page.locator("#aladin"), "ztf-sky")
    assert web.problems() == []


def test_the_sky_view_starts_when_its_remote_survey_is_unreachable(
    web: Watched, ztf_site: Site
) -> None:
    """With the default survey (a CDS HiPS) and no network, the widget still starts."""
    page = web.page

    def remote_survey(route: Any) -> None:
        html = (
            route.fetch()
            .text()
            .replace('data-survey="/static/hips/blank"', 'data-survey="P/DSS2/color"')
        )
        route.fulfill(body=html, content_type="text/html")

    page.route(f"{ztf_site.url}/objects/{ZTF_OBJECT}/", remote_survey)
    page.goto(f"{ztf_site.url}/objects/{ZTF_OBJECT}/")
    page.wait_for_selector("#aladin[data-ready=true]")
    assert page.locator("#aladin canvas").count() >= 1
    assert "P/DSS2/color" in page.inner_text("#aladin-state")
    page.wait_for_timeout(1000)
    assert any("unistra.fr" in u for u in web.refused)  # it tried, and was refused
    # The light curve and cutouts do not depend on it.
    page.wait_for_selector("#cutouts canvas[data-kind=Science][data-loaded=true]")
    assert page.get_attribute("#lightcurve", "data-drawn") == "flux"


def test_a_rubin_object_page(web: Watched, lsst_site: Site) -> None:
    oid, n = lsst_site.rows(
        "SELECT diaObjectId, count(*) FROM detections GROUP BY diaObjectId "
        "ORDER BY count(*) DESC LIMIT 1"
    )[0]
    page = web.page
    page.goto(f"{lsst_site.url}/objects/{oid}/")
    page.wait_for_selector("#lightcurve[data-drawn=flux]")
    page.wait_for_selector("#cutouts canvas[data-kind=Difference][data-loaded=true]")
    kinds = page.evaluate("() => document.getElementById('lightcurve').data.map(t => t.meta.kind)")
    assert "forced_photometry" in kinds
    plotted = page.evaluate(
        """() => document.getElementById('lightcurve').data
             .filter(t => t.meta.kind === 'detections').reduce((n, t) => n + t.x.length, 0)"""
    )
    assert plotted == n
    # Every objects column is listed, grouped, with units.
    assert page.locator("text=Rubin diaObject statistics").count() >= 1
    assert page.locator("section:has(#cols-h) tbody tr").count() > 100
    shot(page, "lsst-object")
    data = page.request.get(f"{lsst_site.url}/objects/{oid}/json").json()
    assert data["object_id"] == str(oid)  # a big id stays exact, as text
    assert len(data["light_curve"]["detections"]) == n
    assert web.problems() == []


def _model_traces(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(  # type: ignore[no-any-return]
        """() => document.getElementById('lightcurve').data
             .filter(t => t.meta.kind === 'model')
             .map(t => ({band: t.meta.band, x: t.x, y: t.y, dash: t.line.dash}))"""
    )


def test_the_bazin_blackbody_fit_is_drawn_over_the_light_curve(
    web: Watched, lsst_site: Site, web_archives: Archives
) -> None:
    oid = web_archives.transient
    model, peak, band, peak_mjd = lsst_site.rows(
        'SELECT "BBBModel", "BBBPeakFlux", "BBBPeakBand", "BBBPeakMJD" FROM objects '
        'WHERE "diaObjectId" = ?',
        oid,
    )[0]
    assert model == "bazin"  # the enricher fitted it in the ingest
    bands = {r[0] for r in lsst_site.rows(
        'SELECT DISTINCT band FROM detections WHERE "diaObjectId" = ?', oid)}  # fmt: skip
    page = web.page
    page.goto(f"{lsst_site.url}/objects/{oid}/")
    page.wait_for_selector("#lightcurve[data-drawn=flux]")
    traces = _model_traces(page)
    assert {t["band"] for t in traces} == bands  # one dashed curve per band observed
    assert all(t["dash"] == "dash" for t in traces)
    drawn = next(t for t in traces if t["band"] == band)
    i = max(range(len(drawn["y"])), key=lambda k: drawn["y"][k])
    assert abs(drawn["y"][i] / peak - 1) < 0.01  # the stored peak, in its band
    assert abs(drawn["x"][i] - peak_mjd) < 1.0
    # Drawn: each model trace is a line in the plot.
    lines = page.locator("#lightcurve .scatterlayer .trace path.js-line")
    assert lines.count() >= len(traces)
    state = page.locator("#bbb-state")
    expect(state).to_have_attribute("data-drawn", "true")
    expect(state).to_contain_text("Bazin × blackbody fit")
    expect(state).to_contain_text(f"in {band} at MJD {peak_mjd:.2f}")
    shot(page, "lsst-object-bbb")
    page.check("input[value=mag]")
    page.wait_for_selector("#lightcurve[data-drawn=mag]")
    assert len(_model_traces(page)) == len(traces)  # in magnitudes too
    assert web.problems() == []


def test_an_object_without_a_drawn_fit_says_why(web: Watched, lsst_site: Site) -> None:
    page = web.page
    no_fit = lsst_site.rows(
        'SELECT "diaObjectId", "BBBNoFitReason" FROM objects WHERE "BBBModel" IS NULL '
        'ORDER BY "BBBNoFitReason" DESC LIMIT 1'
    )
    exp = lsst_site.rows('SELECT "diaObjectId" FROM objects WHERE "BBBModel" = \'exp\'')
    assert no_fit and no_fit[0][1]
    assert exp  # the one exponential rise of the shared alerts
    for oid, text in [
        (no_fit[0][0], f"No Bazin × blackbody fit: {no_fit[0][1]}."),
        (exp[0][0], "not drawn, as the exponential model stores no amplitude"),
    ]:
        page.goto(f"{lsst_site.url}/objects/{oid}/")
        page.wait_for_selector("#lightcurve[data-drawn=flux]")
        assert _model_traces(page) == []
        expect(page.locator("#bbb-state")).to_contain_text(text)
        expect(page.locator("#bbb-state")).to_have_attribute("data-drawn", "false")
    shot(page, "lsst-object-exp-fit")
    assert web.problems() == []


def test_unknown_object_is_404(web: Watched, ztf_site: Site) -> None:
    response = web.page.goto(f"{ztf_site.url}/objects/ZTF00nothere/")
    assert response is not None and response.status == 404


def test_the_object_page_fits_a_phone(browser: Browser, ztf_site: Site) -> None:
    watched = new_page(browser, width=390, height=844)
    page = watched.page
    page.goto(f"{ztf_site.url}/objects/{ZTF_OBJECT}/")
    page.wait_for_selector("#lightcurve[data-drawn=flux]")
    page.wait_for_selector("#cutouts canvas[data-kind=Science][data-loaded=true]")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 391
    shot(page, "ztf-object-phone")
    assert watched.problems() == []
    page.context.close()


def test_the_kinetic_display_is_seeded_by_the_latest_batch(web: Watched, ztf_site: Site) -> None:
    page = web.page
    page.goto(f"{ztf_site.url}/kinetic/")
    page.wait_for_selector("#life[data-seeded]")
    data = page.request.get(f"{ztf_site.url}/kinetic.json").json()
    assert int(page.get_attribute("#life", "data-seeded") or 0) == len(data["positions"]) > 0
    page.click("#life-pause")
    assert page.get_attribute("#life-pause", "aria-pressed") == "true"
    shot(page, "ztf-kinetic")
    assert web.problems() == []


def test_keyboard_users_can_skip_to_the_content(web: Watched, ztf_site: Site) -> None:
    page = web.page
    page.goto(f"{ztf_site.url}/objects/{ZTF_OBJECT}/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    # Every form control of the page has a label.
    unlabelled = page.evaluate(
        """() => Array.from(document.querySelectorAll('main input, main select, main textarea'))
             .filter(e => !e.closest('#aladin'))
             .filter(e => e.type !== 'hidden' && !e.labels?.length && !e.getAttribute('aria-label'))
             .map(e => e.outerHTML)"""
    )
    assert unlabelled == []
