"""What an astronomer does on the site, in Debian's Chromium: write and run a filter,
save, share, copy and backtest it; upload watchlists, watchmaps and sky maps; scan a
filter's results in the marshall; sign up and make an API token; watch the status page
follow an ingest. Each action is checked in the archive afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect
from prometheus_client.parser import text_string_to_metric_families

from lanner.testing.server import LiveServer, free_port
from tests.web.conftest import (
    OFFLINE_SKY,
    ZTF_OBJECT,
    Archives,
    Site,
    Watched,
    log_in,
    settle,
    shot,
)


def _type_sql(page: Page, sql: str) -> None:
    page.fill("#sql", sql)
    page.dispatch_event("#sql", "input")


def test_the_filter_builder_flags_a_bad_column_and_runs_a_good_filter(
    web: Watched, ztf_any: Site
) -> None:
    ztf_site = ztf_any
    page = web.page
    page.goto(f"{ztf_site.url}/filters/")
    _type_sql(page, "SELECT objects.objectId FROM objects WHERE objects.gmagg < 19")
    bad = page.locator("#validation [data-valid=false]")
    expect(bad).to_contain_text("gmagg")
    expect(bad).to_contain_text("gmag")  # did you mean
    shot(page, f"{ztf_site.tag}-filter-bad-column")
    sql = "SELECT objects.objectId, objects.ncand FROM objects WHERE objects.ncand >= 1"
    _type_sql(page, sql)
    expect(page.locator("#validation [data-valid=true]")).to_contain_text("objectId")
    page.click("#run")
    page.wait_for_selector("#result-table")
    n = ztf_site.one("SELECT count(*) FROM objects WHERE ncand >= 1")
    assert n > 0
    rows = page.locator("#result-table tbody tr")
    assert rows.count() == min(n, 25)
    first = rows.first.locator("a")
    assert first.get_attribute("href") == f"/objects/{first.inner_text()}/"
    shot(page, f"{ztf_site.tag}-filter-run")
    assert web.problems() == []


def test_autocompletion_suggests_columns(web: Watched, ztf_site: Site) -> None:
    page = web.page
    page.goto(f"{ztf_site.url}/filters/")
    page.wait_for_load_state("load")
    page.fill("#sql", "")
    page.focus("#sql")
    page.keyboard.type("SELECT objects.gma")
    expect(page.locator("#suggest")).to_be_visible()
    expect(page.locator("#suggest li").first).to_have_text("objects.gmag")
    page.keyboard.press("Tab")
    assert page.input_value("#sql") == "SELECT objects.gmag"
    assert web.problems() == []


def test_save_share_copy_and_backtest_a_filter(web: Watched, ztf_site: Site) -> None:
    page = web.page
    log_in(page, ztf_site, "alice")
    page.goto(f"{ztf_site.url}/filters/")
    _type_sql(page, "SELECT objects.objectId, objects.gmag FROM objects WHERE objects.ncand >= 2")
    page.fill("#name", "bright-enough")
    page.check("input[name=public]")
    page.click("#save")
    page.wait_for_url("**/filters/*/")
    filter_id = int(page.url.rstrip("/").split("/")[-1])
    owner, public = ztf_site.rows(
        "SELECT owner_id, public FROM filters WHERE filter_id = ?", filter_id
    )[0]
    assert owner == ztf_site.people["alice"].user_id and public
    # Backtest over the archive's nights.
    lo, hi = ztf_site.rows("SELECT min(mjd), max(mjd) FROM alerts")[0]
    import datetime as dt

    day = lambda mjd: (dt.date(1858, 11, 17) + dt.timedelta(days=int(mjd))).isoformat()  # noqa: E731
    page.fill("#since", day(lo - 1))
    page.fill("#until", day(hi + 1))
    page.click("#backtest-form button")
    page.wait_for_selector("#backtest-table")
    nights = page.locator("#backtest-table tbody tr")
    assert nights.count() >= 2
    total = int(page.locator("#backtest-table tfoot td").first.inner_text())
    assert total == ztf_site.one("SELECT count(*) FROM alerts")
    assert int(page.locator("#backtest-table tfoot td").nth(1).inner_text()) > 0
    shot(page, "ztf-filter-backtest")
    # bob copies alice's public filter.
    page.context.clear_cookies()
    log_in(page, ztf_site, "bob")
    page.goto(f"{ztf_site.url}/filters/{filter_id}/")
    page.fill("#copy-name", "bobs-copy")
    page.click("#copy")
    page.wait_for_url("**/filters/*/?message=Copied.")
    sql = ztf_site.one(
        "SELECT sql FROM filters WHERE owner_id = ? AND name = 'bobs-copy'",
        ztf_site.people["bob"].user_id,
    )
    assert sql is not None and "ncand >= 2" in sql
    assert web.problems() == []


def test_a_watchlist_upload_lists_bad_lines_then_stores_a_good_file(
    web: Watched, ztf_any: Site, tmp_path: Path
) -> None:
    ztf_site = ztf_any
    page = web.page
    log_in(page, ztf_site, "alice")
    page.goto(f"{ztf_site.url}/watchlists/")
    bad = tmp_path / "bad.csv"
    bad.write_text("0.8142893, 16.1456929, here\n400, 10, too-far-east\n12, north, nodec\n")
    page.set_input_files("#file", str(bad))
    page.fill("#name", "mine")
    page.click("#upload")
    problems = page.locator("#problems li")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("line 2")
    expect(problems.nth(1)).to_contain_text("line 3")
    shot(page, f"{ztf_site.tag}-watchlist-errors")
    assert ztf_site.one("SELECT count(*) FROM watchlists WHERE name = 'mine'") == 0
    good = tmp_path / "good.csv"
    good.write_text("0.8142893, 16.1456929, at-the-transient\n10.0, -5.0, elsewhere\n")
    page.set_input_files("#file", str(good))
    page.fill("#name", "mine")
    page.click("#upload")
    page.wait_for_url("**/watchlists/*/?message=*")
    expect(page.locator("#hits")).to_contain_text(ZTF_OBJECT)
    expect(page.locator("#hits")).to_contain_text("at-the-transient")
    shot(page, f"{ztf_site.tag}-watchlist")
    assert ztf_site.one("SELECT count(*) FROM watchlists WHERE name = 'mine'") == 1
    # The object page lists the membership.
    page.goto(f"{ztf_site.url}/objects/{ZTF_OBJECT}/")
    expect(page.locator("section:has(#mem-h)")).to_contain_text("mine")
    assert web.problems(400) == []


def test_a_watchmap_upload(web: Watched, ztf_site: Site, shared_dir: Path) -> None:
    page = web.page
    log_in(page, ztf_site, "alice")
    page.goto(f"{ztf_site.url}/watchmaps/")
    page.set_input_files(
        "#file", str(shared_dir / "data/catalogs/mocs/lasair_sample_area.moc.fits")
    )
    page.fill("#name", "sample-area")
    page.click("#upload")
    page.wait_for_url("**/watchmaps/*/?message=*")
    area = ztf_site.one("SELECT area FROM watchmaps WHERE name = 'sample-area'")
    assert area > 0
    expect(page.locator("main")).to_contain_text(f"{area:.3f} deg²")
    # A file that is not a MOC says so.
    page.goto(f"{ztf_site.url}/watchmaps/")
    page.set_input_files("#file", files=[{"name": "x.txt", "mimeType": "text/plain",
                                          "buffer": b"hello"}])  # fmt: skip
    page.fill("#name", "nonsense")
    page.click("#upload")
    expect(page.locator("#upload-error")).to_be_visible()
    assert web.problems(400) == []


def test_a_sky_map_upload_draws_its_regions(web: Watched, ztf_site: Site, shared_dir: Path) -> None:
    page = web.page
    log_in(page, ztf_site, "alice")
    page.goto(f"{ztf_site.url}/skymaps/")
    page.set_input_files(
        "#file", str(shared_dir / "data/catalogs/gw_skymaps/G495305_bayestar.multiorder.fits")
    )
    page.fill("#event_id", "G495305")
    page.click("#upload")
    page.wait_for_url("**/skymaps/*/")
    page.wait_for_selector("#aladin[data-ready=true]")
    expect(page.locator("h1")).to_contain_text("G495305")
    settle(page)
    shot(page, "ztf-skymap")
    assert web.problems() == []


def test_marshall_actions_persist(web: Watched, ztf_any: Site) -> None:
    ztf_site = ztf_any
    page = web.page
    log_in(page, ztf_site, "alice")
    page.goto(f"{ztf_site.url}/filters/")
    _type_sql(page, "SELECT objects.objectId FROM objects ORDER BY objects.ncand DESC")
    page.fill("#name", "to-scan")
    page.check("input[name=public]")
    page.click("#save")
    page.wait_for_url("**/filters/*/")
    filter_id = int(page.url.rstrip("/").split("/")[-1])
    page.goto(f"{ztf_site.url}/marshall/{filter_id}/")
    page.wait_for_selector("#lightcurve[data-drawn=flux]")
    object_id = page.locator("main h2 a").first.inner_text()
    page.keyboard.press("f")  # favourite
    expect(page.locator("#marks")).to_have_attribute("data-favourite", "true")
    page.keyboard.press("c")
    page.keyboard.type("worth a spectrum")
    page.keyboard.press("Enter")
    expect(page.locator("#comments")).to_contain_text("worth a spectrum")
    shot(page, f"{ztf_site.tag}-marshall")
    page.keyboard.press("Escape")
    page.reload()
    expect(page.locator("#marks")).to_have_attribute("data-favourite", "true")
    expect(page.locator("#comments")).to_contain_text("worth a spectrum")
    fav, comment = ztf_site.rows(
        'SELECT favourite, comment FROM marshall_marks WHERE user_id = ? AND "objectId" = ?',
        ztf_site.people["alice"].user_id,
        object_id,
    )[0]
    assert fav and comment == "worth a spectrum"
    # Next object with the keyboard; the mark is per user: bob sees none.
    page.locator("body").click()
    if page.locator("#next").count():
        page.keyboard.press("j")
        page.wait_for_url("**?i=1")
    page.context.clear_cookies()
    log_in(page, ztf_site, "bob")
    page.goto(f"{ztf_site.url}/marshall/{filter_id}/")
    page.wait_for_selector("#marks")
    expect(page.locator("#marks")).to_have_attribute("data-favourite", "false")
    assert web.problems() == []


def test_sign_up_log_in_and_make_an_api_token(web: Watched, ztf_site: Site) -> None:
    page = web.page
    page.goto(f"{ztf_site.url}/signup")
    page.fill("#username", "carol")
    page.fill("#password", "a long enough secret")
    page.fill("#password2", "a long enough secret")
    page.click("#signup")
    page.wait_for_url("**/account/")
    page.click("#make-token")
    token = page.inner_text("#token")
    assert len(token) == 40
    shot(page, "ztf-account")
    answer = page.request.get(
        f"{ztf_site.url}/api/objects/?objectIds={ZTF_OBJECT}",
        headers={"Authorization": f"Token {token}"},
    )
    assert answer.status == 200, answer.text()
    stored = ztf_site.one(
        "SELECT a.password_hash FROM users u JOIN api_accounts a USING (user_id) "
        "WHERE u.username = 'carol'"
    )
    assert stored.startswith("$argon2id$") and "a long enough secret" not in stored
    # A wrong password is refused.
    page.context.clear_cookies()
    page.goto(f"{ztf_site.url}/login")
    page.fill("#username", "carol")
    page.fill("#password", "not it at all")
    page.click("#login")
    expect(page.locator(".msg.bad")).to_contain_text("Wrong user name or password")
    assert web.problems(401) == []


def test_posts_without_the_csrf_token_are_refused(web: Watched, ztf_site: Site) -> None:
    page = web.page
    log_in(page, ztf_site, "alice")
    no_token = page.request.post(f"{ztf_site.url}/account/token", form={"x": "1"})
    assert no_token.status == 403
    cross_site = page.request.post(
        f"{ztf_site.url}/account/token", headers={"Origin": "http://evil.example"},
        form={"csrf_token": "whatever"},
    )  # fmt: skip
    assert cross_site.status == 403


def test_the_status_page_follows_an_ingest(web: Watched, ztf_any: Site, alerts_dir: Path) -> None:
    ztf_site = ztf_any
    page = web.page
    page.goto(f"{ztf_site.url}/status/")
    before = int(page.inner_text("#total-alerts"))
    batches_before = page.locator("#batches tbody tr").count()
    shot(page, f"{ztf_site.tag}-status")
    more = alerts_dir / "ztf" / "skyportal__kowalski"
    subprocess.run(
        [sys.executable, "-m", "lanner", "ingest", str(more), "--db", ztf_site.db_url],
        check=True, capture_output=True,
    )  # fmt: skip
    after = ztf_site.one("SELECT count(*) FROM alerts")
    assert after > before
    # The page refreshes itself (htmx, every 10 s).
    expect(page.locator("#total-alerts")).to_have_text(str(after), timeout=40000)
    assert page.locator("#batches tbody tr").count() >= min(batches_before + 1, 10)
    assert web.problems() == []


def test_a_failed_read_of_the_pipeline_metrics_is_shown_and_exported(
    web: Watched, web_archives: Archives
) -> None:
    """The status page of a server whose pipeline endpoint is down says so, and the
    server's own ``/metrics`` counts each failed read."""
    dead = f"http://127.0.0.1:{free_port()}/metrics"
    env = {**OFFLINE_SKY, "LANNER_STATUS_METRICS_URL": dead}
    with LiveServer(web_archives.url("ztf"), workers=1, env=env) as server:

        def exported() -> float:
            text = web.page.request.get(f"{server.url}/metrics").text()
            return sum(
                s.value
                for f in text_string_to_metric_families(text)
                for s in f.samples
                if s.name == "lanner_status_metrics_read_failures_total"
            )

        assert exported() == 0
        page = web.page
        page.goto(f"{server.url}/status/")
        expect(page.locator("#pipeline-error")).to_contain_text(
            f"cannot read the pipeline's metrics at {dead}"
        )
        shot(page, "ztf-status-metrics-down")
        assert exported() == 1
        page.request.get(f"{server.url}/status.json")  # a second read, by the JSON twin
        assert exported() == 2
        assert "cannot read the pipeline's metrics" in server.log_text()
    assert web.problems() == []
