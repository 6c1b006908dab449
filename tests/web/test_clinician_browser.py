"""Clinicians taking part, in a real browser (Debian's chromium via Playwright): the coordinator
mails everyone their link, the clinician opens it on a 390 px phone and on a desktop, asks for
leave, the coordinator approves it, the clinician sees the answer and turns e-mail off; a publish
fills the admins' Outbox. Screenshots go to test-artifacts/clinician-*.png."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.web.browsing import ARTIFACTS, served
from tests.web.conftest import PASSWORD, make_app, seed
from web.db import engine_of
from web.services import jobs, mail

APPS: dict = {}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template, tiny_loaded):
    folder = tmp_path_factory.mktemp("clinician-browser")
    shutil.copy(sqlite_template, folder / "hubrota.sqlite")
    app = make_app(f"sqlite:///{folder / 'hubrota.sqlite'}", folder)
    seed(app, tiny_loaded)
    with served(app) as url:
        APPS["app"] = app
        yield url
    mail.wait(app, 30)
    jobs.wait(app, 60)
    engine_of(app).dispose()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"clinician-{name}.png"), full_page=True)


def login(browser, server: str, role: str, viewport: dict):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=email]", f"{role}@north")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r".*/f/north/.*"))
    return page


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def big_targets(page, selector: str) -> None:
    """Every visible button or field of the clinician's forms is at least 44 px tall."""
    for handle in page.query_selector_all(selector):
        box = handle.bounding_box()
        if box:
            assert box["height"] >= 44, (selector, box)


def test_links_leave_and_mail_end_to_end(server, browser):
    coordinator = login(browser, server, "coordinator", DESKTOP)
    coordinator.goto(f"{server}/f/north/calendar/")
    coordinator.click("button:has-text('E-mail a link to every clinician who has none')")
    coordinator.wait_for_selector(".flash.success")
    assert "6 new link(s) made; 6 e-mail(s) kept in the Outbox" in coordinator.inner_text(
        ".flash.success"
    )
    shot(coordinator, "01-links-mailed")

    admin = login(browser, server, "admin", DESKTOP)
    admin.goto(f"{server}/f/north/outbox/")
    assert "No SMTP server is set" in admin.inner_text("main")
    shot(admin, "02-outbox")
    admin.click("a:has-text('Your hub sessions page and calendar link')  >> nth=-1")
    text = admin.inner_text("pre.mail-text")
    link = re.search(r"http://\S+/feeds/\S+", text).group(0)
    assert "Hello" in text
    shot(admin, "03-outbox-message")

    # the clinician on a phone
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(link)
    assert phone.inner_text("h1") == "My calendar"
    no_sideways_scroll(phone)
    big_targets(phone, "#leave button, #leave input, #leave select, #email button")
    shot(phone, "04-phone-page")
    phone.fill("input[name=first]", "2027-03-08")
    phone.fill("input[name=last]", "2027-03-09")
    phone.select_option("select[name=category]", "annual")
    phone.fill("textarea[name=note]", "family wedding")
    phone.click("button:has-text('Ask for leave')")
    phone.wait_for_selector(".flash.success")
    assert "Leave asked for" in phone.inner_text(".flash.success")
    assert "pending" in phone.inner_text("#leave")
    no_sideways_scroll(phone)
    shot(phone, "05-phone-leave-asked")
    # a bad request is refused with the field named, nothing saved
    phone.fill("input[name=first]", "2027-03-20")
    phone.fill("input[name=last]", "2027-03-19")
    phone.select_option("select[name=category]", "study")
    phone.click("button:has-text('Ask for leave')")
    phone.wait_for_selector(".flash.error")
    assert "Last day away (Fri 19 Mar 2027) is before the first" in phone.inner_text(".flash.error")
    shot(phone, "06-phone-leave-refused")

    # the coordinator decides, on a phone too
    coordinator_phone = login(browser, server, "coordinator", PHONE)
    coordinator_phone.goto(f"{server}/f/north/leave/")
    no_sideways_scroll(coordinator_phone)
    shot(coordinator_phone, "07-leave-list-phone")
    coordinator.goto(f"{server}/f/north/leave/")
    assert "family wedding" in coordinator.inner_text("table.leave-table")
    shot(coordinator, "08-leave-list")
    coordinator.fill("input[name=note]", "enjoy the day")
    coordinator.click("button:has-text('Approve')")
    coordinator.wait_for_selector("button:has-text('Re-run with fewest changes')")
    assert "recorded away" in coordinator.inner_text(".flash.success")
    shot(coordinator, "09-leave-approved")

    phone.reload()
    requests = phone.inner_text("#leave ul.requests")
    assert "approved" in requests and "enjoy the day" in requests
    phone.click("button:has-text('No e-mail, please')")
    phone.wait_for_selector(".flash.success")
    assert "You get no e-mail from hubrota" in phone.inner_text("#email")
    no_sideways_scroll(phone)
    shot(phone, "10-phone-decided-no-email")

    # the same page on a desktop
    desk = browser.new_context(viewport=DESKTOP).new_page()
    desk.goto(link)
    shot(desk, "11-desktop-page")

    # a publish mails those whose sessions change; the clinician who chose no e-mail gets none
    manager = login(browser, server, "manager", DESKTOP)
    manager.goto(f"{server}/f/north/publish/preview")
    manager.fill("textarea[name=note]", "first rota")
    # the sample's first rota leaves posts of the next 14 days empty: the page asks first
    manager.once("dialog", lambda dialog: dialog.accept())
    manager.click("button:has-text('Publish as version 1')")
    manager.wait_for_url(re.compile(r".*/publish/version\?n=1"))
    admin.goto(f"{server}/f/north/outbox/")
    rows = [r.inner_text() for r in admin.query_selector_all("tbody tr")]
    published = sorted(r.split("\t")[1] for r in rows if "rota version 1" in r)
    # Ann (whose link this is) chose no e-mail: Ben, Cara and Dan hear of their sessions
    assert published == ["ben@example.test", "cara@example.test", "dan@example.test"]
    shot(admin, "12-outbox-after-publish")


def test_give_away_end_to_end(server, browser):
    """Runs after the first test (version 1 is published): Ben offers his Tuesday on a phone,
    Eve (the one colleague who could take it) takes it on hers, a coordinator approves it on a
    desktop, and version 2 is published with the hand-over."""
    from tests.web.test_mail import issue_link

    app = APPS["app"]
    federation_id = 1
    ben_link = f"{server}/feeds/{issue_link(app, federation_id, 'C2')}"
    eve_link = f"{server}/feeds/{issue_link(app, federation_id, 'C5')}"

    ben = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    ben.goto(ben_link)
    shot(ben, "20-phone-my-sessions")
    item = ben.locator("#sessions li", has_text="Tue 2 Mar 2027 18:30–20:00")
    item.locator("summary:has-text('Offer to a colleague')").click()
    item.locator("input[name=note]").fill("school play")
    shot(ben, "21-phone-offer-form")
    item.locator("button:has-text('Offer this session')").click()
    ben.wait_for_selector(".flash.success")
    assert "offered" in ben.inner_text("#sessions")
    no_sideways_scroll(ben)
    big_targets(ben, "#sessions button, #sessions summary")
    shot(ben, "22-phone-offered")

    eve = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    eve.goto(eve_link)
    assert "school play" in eve.inner_text("#offers")
    no_sideways_scroll(eve)
    shot(eve, "23-phone-offer-seen")
    eve.click("#offers button:has-text('Take this session')")
    eve.wait_for_selector(".flash.success")
    assert "You accepted the session" in eve.inner_text(".flash.success")
    shot(eve, "24-phone-accepted")

    coordinator = login(browser, server, "coordinator", DESKTOP)
    coordinator.goto(f"{server}/f/north/swaps/")
    shot(coordinator, "25-give-aways")
    coordinator.click("button:has-text('Approve and publish')")
    coordinator.wait_for_url(re.compile(r".*/publish/compare\?b=2"))
    coordinator.click("summary:has-text('Per clinician')")  # the diff's lists are folded
    assert "Eve East" in coordinator.inner_text("main")
    shot(coordinator, "26-published-diff")

    coordinator_phone = login(browser, server, "coordinator", PHONE)
    coordinator_phone.goto(f"{server}/f/north/swaps/")
    no_sideways_scroll(coordinator_phone)
    shot(coordinator_phone, "27-give-aways-phone")

    eve.reload()
    assert "Tue 2 Mar 2027 18:30–20:00" in eve.inner_text("#sessions")
    shot(eve, "28-phone-session-is-hers")


def test_availability_request_end_to_end(server, browser):
    """A coordinator opens a request; Cara marks her days on a 390 px month calendar; the
    coordinator sees her reply, reminds the rest, and previews the next data version."""
    from tests.web.test_mail import issue_link

    app = APPS["app"]
    coordinator = login(browser, server, "coordinator", DESKTOP)
    coordinator.goto(f"{server}/f/north/requests/")
    coordinator.fill("input[name=first]", "2027-03-01")
    coordinator.fill("input[name=last]", "2027-03-14")
    coordinator.fill("input[name=closes]", "2027-02-20")
    coordinator.fill("textarea[name=message]", "Spring rota: please reply by the 20th.")
    shot(coordinator, "30-request-form")
    coordinator.click("button:has-text('Open the request and e-mail everyone')")
    coordinator.wait_for_selector(".flash.success")
    request_url = coordinator.url

    cara = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    cara.goto(f"{server}/feeds/{issue_link(app, 1, 'C3')}")
    cara.click("a:has-text('Mark my availability')")
    cara.wait_for_selector("table.month")
    no_sideways_scroll(cara)
    big_targets(cara, "table.month select, .asked-form button, label.check")
    shot(cara, "31-phone-month-empty")
    cara.select_option("select[name=d2027-03-01]", "U")
    cara.select_option("select[name=d2027-03-06]", "P")
    cara.select_option("select[name=d2027-03-13]", "A")
    cara.fill("input[name=max_sessions]", "2")
    cara.check("input[name=hubs][value=H1]")
    cara.fill("textarea[name=note]", "Saturdays suit me")
    cara.click("button:has-text('Save my availability')")
    cara.wait_for_selector(".flash.success")
    assert "Change my availability" in cara.inner_text("#asked")
    shot(cara, "32-phone-replied")
    cara.click("a:has-text('Change my availability')")
    assert cara.input_value("select[name=d2027-03-06]") == "P"
    no_sideways_scroll(cara)
    shot(cara, "33-phone-month-filled")

    desk = browser.new_context(viewport=DESKTOP).new_page()
    desk.goto(cara.url)
    shot(desk, "34-desktop-month")

    coordinator.goto(request_url)
    assert "1 of 6 replied" in coordinator.inner_text("main")
    coordinator.click("button:has-text('E-mail a reminder')")
    coordinator.wait_for_selector(".flash.success")
    # five have not replied; Ann chose no e-mail in the first test
    assert "Reminder written to 4 clinician(s)" in coordinator.inner_text(".flash.success")
    shot(coordinator, "35-request-replies")
    coordinator.click("button:has-text('Turn the replies into the next data version')")
    coordinator.wait_for_url(re.compile(r".*/data/drafts/\d+"))
    assert "Cara Cole" in coordinator.inner_text("main")
    shot(coordinator, "36-draft-preview")

    coordinator_phone = login(browser, server, "coordinator", PHONE)
    coordinator_phone.goto(request_url)
    no_sideways_scroll(coordinator_phone)
    shot(coordinator_phone, "37-request-replies-phone")
