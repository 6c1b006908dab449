"""A manager's re-run day in a real browser (Debian's chromium driven by Playwright): optimise
and watch the live progress, publish, mark an absence, preview the diff and publish again.

Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest
from sqlalchemy import select

from scheduler.checker import format_day
from tests.web.browsing import served
from tests.web.conftest import PASSWORD, make_app
from tests.web.test_browser import _shot
from tests.web.test_runs import SAMPLE
from web.db import engine_of, new_session
from web.models import Dataset, DatasetFile, PublishedVersion
from web.services import jobs
from web.services.accounts import create_user, ensure_federation
from web.services.demo import files_of
from web.services.labels import people
from web.services.problems import loaded


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template):
    """The app on SQLite with the sample federation's data saved, behind a real HTTP server."""
    folder = tmp_path_factory.mktemp("runs-browser")
    shutil.copy(sqlite_template, folder / "hubrota.sqlite")
    app = make_app(f"sqlite:///{folder / 'hubrota.sqlite'}", folder)
    files, _ = files_of(SAMPLE)
    with app.app_context(), new_session(app) as db:
        federation = ensure_federation(db, "north", "North Federation", time_limit=6)
        create_user(
            db,
            federation=federation,
            email="manager@north",
            password=PASSWORD,
            role="manager",
            name="Morgan Manager",
        )
        dataset = Dataset(federation_id=federation.id, version=1, note="sample")
        dataset.files = [DatasetFile(name=n, content=t) for n, t in files.items()]
        db.add(dataset)
        db.commit()
    with served(app) as url:
        yield url, app
    jobs.wait(app, 60)
    engine_of(app).dispose()


def _someone_published(app) -> tuple[str, str, str]:
    """A clinician of the published version, the date of their first session, and the label
    pages give them."""
    with app.app_context(), new_session(app) as db:
        version = db.scalar(select(PublishedVersion).order_by(PublishedVersion.number.desc()))
        first = min(version.assignments, key=lambda a: a.session_id.split("-")[1])
        label = people(loaded(version.dataset).problem)(first.clinician_id)
    day = first.session_id.split("-")[1]
    return first.clinician_id, f"{day[:4]}-{day[4:6]}-{day[6:]}", label


def _publish(page, note: str) -> None:
    page.wait_for_selector("#diff-summary")
    page.fill("textarea[name=note]", note)
    if page.locator("#publish-warning").count():  # the rota fails a check: confirm to go on
        page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publish-form button")
    page.wait_for_selector("text=Published version")


def test_optimise_watch_absence_diff_and_publish(server, browser):
    """Optimise and watch the figures and chart update until the run ends; publish version 1;
    mark an absence of someone on the rota; watch the re-run; preview the diff (the absent
    clinician loses their session) and publish version 2."""
    url, app = server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{url}/login")
    page.fill("input[name=email]", "manager@north")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{url}/f/north/")

    page.goto(f"{url}/f/north/runs/")
    page.click("button:has-text('Optimise')")
    page.wait_for_url("**/runs/watch?job=*")
    page.click("#solver-figures summary")  # the solver's own figures are folded
    for _ in range(300):  # the page's script fills the figures in (a CSP forbids eval here)
        if page.inner_text("#run-best") != "—":
            break
        page.wait_for_timeout(100)
    assert page.locator("#run-best-line").get_attribute("points")
    _shot(page, "11-run-progress")
    page.wait_for_selector("#run-result:not([hidden])", timeout=60_000)
    assert page.inner_text("#run-status") == "done"
    assert page.locator("#cancel-run").count() == 0  # nothing left to cancel
    assert "is running" not in page.inner_text("main")
    required = page.inner_text("#run-required")
    assert re.fullmatch(r"\d+ of \d+", required) and " of " in page.inner_text("#run-contract")
    assert page.inner_text("#run-fairness").startswith("every practice within")
    objective = page.inner_text("#run-objective")
    _shot(page, "12-run-done")
    page.goto(f"{url}/f/north/runs/")  # the same objective, one definition
    assert page.inner_text("table.rotas tr:nth-child(1) td.objective") == objective
    page.go_back()

    page.goto(f"{url}/f/north/publish/preview")
    _publish(page, "first rota of the period")
    assert "first rota of the period" in page.inner_text("main")

    clinician, day, label = _someone_published(app)
    page.goto(f"{url}/f/north/absence/")
    page.select_option("select[name=clinician_id]", clinician)
    page.fill("input[name=first]", day)
    page.fill("input[name=last]", day)
    page.fill("input[name=reason]", "sick")
    _shot(page, "13-absence-form")
    page.click("button:has-text('Mark absent and re-run')")
    page.wait_for_url("**/runs/watch?job=*")
    page.wait_for_selector("#run-result:not([hidden])", timeout=60_000)
    assert "re-ran from published version 1" in page.inner_text("#run-message")
    page.click("#run-result-link")
    page.wait_for_selector("#diff-summary")
    page.click("#fold-sessions summary")  # the lists are folded under the summary
    lost = page.inner_text("table.diff-sessions")
    assert label in lost
    _shot(page, "14-diff-preview")
    _publish(page, f"{clinician} sick on {day}")
    _shot(page, "15-published-version-2")

    page.goto(f"{url}/f/north/publish/compare?a=1&b=2")
    page.click("#fold-clinicians summary")
    assert label in page.inner_text("table.diff-clinicians")
    page.goto(f"{url}/f/north/audit/")
    audit = page.inner_text("table.audit")
    away = f"{label} away {format_day(date.fromisoformat(day))}"
    assert "published version 2" in audit and away in audit
    _shot(page, "16-audit-log")
    with new_session(app) as db:
        numbers = [v.number for v in db.scalars(select(PublishedVersion))]
    assert sorted(numbers) == [1, 2]
    assert errors == []
    context.close()
