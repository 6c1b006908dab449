"""A coordinator's and manager's day in a real browser (Debian's chromium driven by Playwright).

Screenshots go to test-artifacts/ (git-ignored) so a person can look at what users see.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from tests.web.browsing import ARTIFACTS, served
from tests.web.conftest import PASSWORD, make_app
from web.db import engine_of, new_session
from web.services import jobs
from web.services.accounts import create_user, ensure_federation

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample.xlsx"


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template):
    """The app on SQLite behind a real HTTP server on a free local port, in a thread."""
    folder = tmp_path_factory.mktemp("browser")
    shutil.copy(sqlite_template, folder / "hubrota.sqlite")
    app = make_app(f"sqlite:///{folder / 'hubrota.sqlite'}", folder)
    with app.app_context(), new_session(app) as db:
        federation = ensure_federation(db, "north", "North Federation", time_limit=4)
        create_user(
            db,
            federation=federation,
            email="manager@north",
            password=PASSWORD,
            role="manager",
            name="Morgan Manager",
        )
        db.commit()
    with served(app) as url:
        yield url
    jobs.wait(app, 60)
    engine_of(app).dispose()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _broken_clinicians() -> bytes:
    """The sample's clinicians with an unknown practice and a bad weekly cap in row 3."""
    from openpyxl import load_workbook

    sheet = load_workbook(SAMPLE, read_only=True)["clinicians"]
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    header = rows[0]
    rows[2][header.index("practice_code")] = "X99999"
    rows[2][header.index("max_sessions_per_week")] = "lots"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def test_a_day_with_the_rota(server, browser):
    """Log in; upload the sample workbook and save it; a broken upload shows its errors and
    saves nothing; optimise; view the grid; a refused pin is explained; export the CSV."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "status of 409" not in m.text and "status of 422" not in m.text
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{server}/f/north/data/")
    assert page.url.startswith(f"{server}/login")
    _shot(page, "01-login")
    page.fill("input[name=email]", "manager@north")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{server}/f/north/data/")

    page.set_input_files("input[name=files]", str(SAMPLE))
    page.click("button:has-text('Check upload')")
    page.wait_for_selector("text=Check before saving")
    assert page.locator("text=first upload").count() == 1
    _shot(page, "02-upload-preview")
    page.click("button:has-text('Save as version 1') >> nth=0")
    page.wait_for_selector("text=the data is now version 1")

    page.set_input_files(
        "input[name=files]",
        files=[{"name": "clinicians.csv", "mimeType": "text/csv", "buffer": _broken_clinicians()}],
    )
    page.click("button:has-text('Check upload')")
    page.wait_for_selector("text=Upload refused")
    body = page.inner_text("main")
    assert "Nothing was saved" in body
    assert "practice_code" in body and "max_sessions_per_week" in body
    _shot(page, "03-upload-refused")
    page.goto(f"{server}/f/north/data/")
    assert "Current data: version 1" in page.inner_text("main")

    page.goto(f"{server}/f/north/")
    page.click("button:has-text('Optimise')")
    page.goto(f"{server}/f/north/")
    page.wait_for_selector("text=Open the rota", timeout=60_000)
    _shot(page, "04-overview")

    page.click("nav >> text=Rota")
    page.wait_for_selector("table.rota-grid")
    assert page.locator("a.session").count() > 10
    _shot(page, "05-rota-grid")
    page.check("input[name=short]")
    page.wait_for_url("**short=1**")
    page.select_option("select[name=week]", "all")
    page.wait_for_url("**week=all**")
    _shot(page, "05b-rota-problems")

    page.locator("a.session").first.click()
    page.wait_for_selector("text=Pin a clinician")
    blocked = page.eval_on_selector(
        "optgroup[label='Would break a rule'] option", "option => option.value"
    )
    page.select_option("select[name=clinician_id] >> nth=0", blocked)
    page.click("button:has-text('Pin') >> nth=-1")
    page.wait_for_selector("text=Refused:")
    refusal = page.inner_text("#refused")
    assert "Nothing was changed" in refusal and "would break" in refusal
    _shot(page, "06-pin-refused")

    page.goto(f"{server}/f/north/rota/")
    with page.expect_download() as download:
        page.click("a:has-text('CSV')")
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "rota.csv"
    download.value.save_as(target)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("session_id,hub_id,date,start,end,roles,clinician_id")
    assert len(lines) > 50

    page.goto(f"{server}/f/north/insights/")
    page.wait_for_selector("svg.chart")
    _shot(page, "07-insights")

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=context.storage_state()
    ).new_page()
    phone.goto(f"{server}/f/north/rota/")
    _shot(phone, "08-phone-rota")
    assert errors == []
    context.close()
