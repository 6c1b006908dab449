"""Calendar links in a real browser (Debian's chromium driven by Playwright): a coordinator makes
a clinician's link, and the clinician opens My calendar without a login.

Screenshots go to test-artifacts/ (git-ignored) so a person can look at what users see.
"""

from __future__ import annotations

import shutil

import pytest

from tests.web.browsing import ARTIFACTS, served
from tests.web.conftest import PASSWORD, make_app, seed
from web.db import engine_of
from web.services import jobs


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template, tiny_loaded):
    """The app on SQLite with the seeded federations, behind a real HTTP server in a thread."""
    folder = tmp_path_factory.mktemp("calendar-browser")
    shutil.copy(sqlite_template, folder / "hubrota.sqlite")
    app = make_app(f"sqlite:///{folder / 'hubrota.sqlite'}", folder)
    seed(app, tiny_loaded)
    with served(app) as url:
        yield url
    jobs.wait(app, 60)
    engine_of(app).dispose()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _watch(page, errors: list[str]) -> None:
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))


def test_coordinator_makes_a_link_and_the_clinician_opens_my_calendar(server, browser):
    """Log in as coordinator; Calendar links lists the clinicians; create Ann Able's link (shown
    once); open it in a browser with no login: My calendar has the subscribe links, the QR code,
    the delay note and her sessions; the feed itself answers text/calendar; the list then shows
    only the link's last 4 characters."""
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _watch(page, errors)
    page.goto(f"{server}/login")
    page.fill("input[name=email]", "coordinator@north")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{server}/f/north/")

    page.click("nav >> text=Calendar links")
    page.wait_for_selector("h1:has-text('Calendar links')")
    assert page.locator("tr[data-feed^='clinician:']").count() == 6
    page.click("button[aria-label='Create link for Ann Able']")
    page.wait_for_selector("text=Copy it now")
    _shot(page, "calendar-01-link-shown-once")
    mine = page.input_value("#page-url")
    assert mine.startswith(f"{server}/feeds/")
    token = mine.rsplit("/", 1)[1]

    page.click("text=Back to calendar links")
    page.wait_for_selector("h1:has-text('Calendar links')")
    row = page.locator("tr[data-feed='clinician:C1']")
    assert f"…{token[-4:]}" in row.inner_text() and token not in page.content()
    _shot(page, "calendar-02-links")

    clinician = browser.new_context(viewport={"width": 1280, "height": 900})
    holder = clinician.new_page()
    _watch(holder, errors)
    holder.goto(mine)
    holder.wait_for_selector("h1:has-text('My calendar')")
    assert holder.locator("svg.qr").is_visible()
    assert (
        holder.get_attribute("a:has-text('Subscribe in my calendar app')", "href")
        == "webcal://" + mine.split("://", 1)[1] + ".ics"
    )
    body = holder.inner_text("main")
    assert "Google Calendar may take up to a day" in body and "North Hub" in body
    assert "Log out" not in body
    _shot(holder, "calendar-03-my-calendar")

    feed = clinician.request.get(mine + ".ics")
    assert feed.status == 200 and feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert feed.text().startswith("BEGIN:VCALENDAR")

    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    _watch(phone, errors)
    phone.goto(mine)
    phone.wait_for_selector("svg.qr")
    _shot(phone, "calendar-04-my-calendar-phone")
    assert errors == []
    clinician.close()
    context.close()


def test_coordinator_finds_a_clinician_and_makes_links_for_everyone(server, browser):
    """Calendar links has a search box and "Create links for everyone without one": after the
    confirmation the browser downloads the new links as CSV, and the list shows them made."""
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    _watch(page, errors)
    page.goto(f"{server}/login")
    page.fill("input[name=email]", "coordinator@north")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{server}/f/north/")
    page.goto(f"{server}/f/north/calendar/")
    without = page.locator("tr[data-feed^='clinician:']:has-text('no link')").count()
    assert without > 0
    _shot(page, "calendar-05-links-bulk-and-search")

    page.fill("input[name=q]", "ben")
    page.click("form[role=search] button:has-text('Find')")
    page.wait_for_selector("a:has-text('Show all')")
    assert page.locator("tr[data-feed^='clinician:']").count() == 1
    assert "Ben Bell" in page.inner_text("tr[data-feed^='clinician:']")
    _shot(page, "calendar-06-links-search")

    page.click("a:has-text('Show all')")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_download() as download:
        page.click("button:has-text('Create links for everyone without one')")
    rows = download.value.path().read_text(encoding="utf-8").strip().splitlines()
    assert (
        rows[0].startswith("clinician_id,name,email,my_calendar_page") and len(rows) == 1 + without
    )
    page.goto(f"{server}/f/north/calendar/")
    assert page.locator("tr[data-feed^='clinician:']:has-text('no link')").count() == 0
    assert page.locator("button:has-text('Create links for everyone without one')").count() == 0
    _shot(page, "calendar-07-links-after-bulk")
    assert errors == []
    context.close()
