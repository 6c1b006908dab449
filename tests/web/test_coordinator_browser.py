"""What a coordinator meets, in a real browser: people who share a name told apart on every
page, the rota's published state, and the publish preview's summary.

The federation is the sample with repeated names: two GPs of one name at different practices,
two of one name at the same practice, and one name typed twice in different case. Screenshots go
to test-artifacts/ at desktop width and at a phone's 390 px.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.web.browsing import ARTIFACTS, served
from tests.web.conftest import PASSWORD, make_app
from web.db import engine_of, new_session
from web.models import Dataset, DatasetFile, PublishedVersion, RotaAssignment, User
from web.services import jobs
from web.services.accounts import create_user, ensure_federation
from web.services.demo import files_of
from web.services.labels import name_key, people
from web.services.problems import loaded

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
# (clinician renamed, the clinician whose name they get)
SAME_NAMES = (
    ("C0033", "C0018"),  # GPs at Orchard Medical Practice and Dundale Medical Centre
    ("C0007", "C0006"),  # GPs at the same practice: told apart by ID as well
    ("C0013", "C0039"),  # the same name typed in lower case
)
WIDTHS = {"desktop": 1280, "phone": 390}
# Every text of the page's main part (options and chart labels too), one text node a line, so
# that the end of one element's text never runs into the next one's.
TEXT_NODES = """() => {
  const walk = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  const out = [];
  while (walk.nextNode()) out.push(walk.currentNode.nodeValue);
  return out.join('\\n');
}"""


def repeated_names_files() -> dict[str, str]:
    """The sample's files with the clinicians of SAME_NAMES renamed."""
    files, _ = files_of(SAMPLE)
    rows = list(csv.DictReader(io.StringIO(files["clinicians.csv"])))
    names = {r["clinician_id"]: r["name"] for r in rows}
    for renamed, like in SAME_NAMES:
        name = names[like]
        row = next(r for r in rows if r["clinician_id"] == renamed)
        row["name"] = name.lower() if renamed == "C0013" else name
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return {**files, "clinicians.csv": out.getvalue()}


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template):
    """The federation with repeated names saved and optimised, behind a real HTTP server."""
    folder = tmp_path_factory.mktemp("coordinator-browser")
    shutil.copy(sqlite_template, folder / "hubrota.sqlite")
    app = make_app(f"sqlite:///{folder / 'hubrota.sqlite'}", folder)
    with app.app_context(), new_session(app) as db:
        federation = ensure_federation(db, "north", "North Federation", time_limit=6)
        for role in ("manager", "coordinator"):
            create_user(
                db,
                federation=federation,
                email=f"{role}@north",
                password=PASSWORD,
                role=role,
                name=f"{role.title()} North",
            )
        dataset = Dataset(federation_id=federation.id, version=1, note="sample, names repeated")
        dataset.files = [DatasetFile(name=n, content=t) for n, t in repeated_names_files().items()]
        db.add(dataset)
        db.commit()
        federation_id = federation.id
        manager_id = db.scalar(select(User.id).where(User.email == "manager@north"))
    jobs.start_run(app, federation_id, manager_id, time_limit=6)
    jobs.wait(app, 120)
    with served(app) as url:
        yield url, app
    jobs.wait(app, 60)
    engine_of(app).dispose()


def _log_in(browser, url: str, email: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{url}/f/north/")
    return page


def _shot(page, name: str, full: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)


def _problem(app):
    with app.app_context(), new_session(app) as db:
        dataset = db.scalar(select(Dataset).where(Dataset.version.is_not(None)))
        return loaded(dataset).problem


def test_people_who_share_a_name_have_labels_that_tell_them_apart(server, browser):
    """On every page that names people, a repeated name never appears bare: each occurrence
    carries the disambiguator, and the labels of different people differ."""
    url, app = server
    problem = _problem(app)
    who = people(problem)
    repeated = {name_key(name): ids for name, ids in who.repeated}
    assert len(repeated) == len(SAME_NAMES)
    labels = [who(cid) for ids in repeated.values() for cid in ids]
    assert len(set(labels)) == len(labels)
    assert who("C0033").endswith("(Orchard Medical Practice)")
    assert who("C0007").endswith(", C0007)")
    bare = [_bare(name) for name in repeated]
    gp_session = next(
        s.session_id for s in problem.sessions if any(p.roles == frozenset({"gp"}) for p in s.posts)
    )
    pinned, pinned_session = _assigned_one_of(app, [c for ids in repeated.values() for c in ids])
    pages = {
        "grid": "/f/north/rota/?week=all",
        "session": f"/f/north/rota/session/{gp_session}",
        "clinicians": "/f/north/rota/clinicians",
        "clinician": "/f/north/rota/clinician/C0033",
        "practice": "/f/north/rota/practice/L84908",
        "insights": "/f/north/insights/",
        "overview": "/f/north/",
        "availability": "/f/north/availability/",
        "calendar": "/f/north/calendar/",
        "publish-preview": "/f/north/publish/preview",
    }
    for size, width in WIDTHS.items():
        page = _log_in(browser, url, "manager@north", width)
        if size == "desktop":  # a pin of a repeated name goes into the audit log
            page.goto(f"{url}/f/north/rota/session/{pinned_session}")
            page.click(f"button:has-text('Pin {who(pinned)}')")
            page.wait_for_selector("text=is pinned to this session")
        for name, path in [*pages.items(), ("audit", "/f/north/audit/")]:
            page.goto(f"{url}{path}")
            text = page.evaluate(TEXT_NODES)
            for pattern in bare:
                found = pattern.search(text)
                assert found is None, (
                    f"{name}: '{found.group(0)}' without what tells them apart: "
                    f"…{text[max(0, found.start() - 80) : found.end() + 80]}…"
                )
            if name in ("session", "clinicians", "insights", "audit"):
                _shot(page, f"42-names-{name}-{size}")
        page.context.close()
    audit = _audit_text(browser, url)
    assert f"pinned {who(pinned)} on" in audit
    assert re.search(r"\d\d:\d\d (GMT|BST)", audit) and "UTC" not in audit  # London time


def _bare(name: str) -> re.Pattern:
    """`name` (any case, any spaces) not followed by a bracketed disambiguator."""
    words = r"\s+".join(re.escape(w) for w in name.split())
    return re.compile(rf"\b{words}\b(?!\s*\()", re.IGNORECASE)


def _assigned_one_of(app, clinician_ids: list[str]) -> tuple[str, str]:
    """One of `clinician_ids` on the current rota, and a session of theirs."""
    with app.app_context(), new_session(app) as db:
        for a in db.scalars(select(RotaAssignment).order_by(RotaAssignment.id)):
            if a.clinician_id in clinician_ids and not a.locked:
                return a.clinician_id, a.session_id
    raise AssertionError("none of the people with repeated names is on the rota")


def _audit_text(browser, url: str) -> str:
    page = _log_in(browser, url, "manager@north", 1280)
    page.goto(f"{url}/f/north/audit/")
    text = page.inner_text("table.audit")
    page.context.close()
    return text


def test_upload_warns_when_names_repeat(server, browser):
    """Uploading clinicians with repeated names shows a warning that lists them as labelled."""
    url, _ = server
    page = _log_in(browser, url, "coordinator@north", 1280)
    page.goto(f"{url}/f/north/data/")
    page.set_input_files(
        "input[name=files]",
        files=[
            {
                "name": "clinicians.csv",
                "mimeType": "text/csv",
                "buffer": repeated_names_files()["clinicians.csv"].encode(),
            }
        ],
    )
    page.click("button:has-text('Check upload')")
    page.wait_for_selector("#repeated-names")
    warning = page.inner_text("#repeated-names")
    assert "3 names are shared by more than one clinician" in warning
    assert (
        "Lucy Zielinski (Dundale Medical Centre) · Lucy Zielinski (Orchard Medical Practice)"
        in (warning)
    )
    _shot(page, "42-upload-repeated-names")
    page.click("button:has-text('Discard')")
    page.context.close()


def _banner(page) -> str:
    return page.inner_text("#rota-state")


def test_every_rota_page_says_whether_it_is_the_published_rota(server, browser):
    """Before publishing, rota pages say nothing is published; after it, which version; after
    an edit, how many unpublished changes, with a link to the preview that shows them."""
    url, app = server
    rota_pages = ("/f/north/rota/", "/f/north/rota/clinicians", "/f/north/", "/f/north/insights/")
    page = _log_in(browser, url, "manager@north", 1280)
    for path in rota_pages:
        page.goto(f"{url}{path}")
        assert "Not published yet" in _banner(page), path
    page.goto(f"{url}/f/north/publish/preview")
    page.fill("textarea[name=note]", "first rota")
    warning = page.inner_text("#publish-warning")  # the sample's first days lack someone
    assert "required post" in warning and "empty in the next 14 days" in warning
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#publish-form button")  # dismissed: nothing is published
    assert asked and asked[0].endswith("Publish it all the same?")
    page.goto(f"{url}/f/north/rota/")
    assert "Not published yet" in _banner(page)
    page.goto(f"{url}/f/north/publish/preview")
    page.fill("textarea[name=note]", "first rota")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publish-form button")
    page.wait_for_selector("text=Published version 1")
    for path in rota_pages:
        page.goto(f"{url}{path}")
        assert "Published version 1" in _banner(page) and "calendar feeds show this rota" in (
            _banner(page)
        )
    _shot(page, "42-state-published-desktop", full=False)

    removed, session_id = _assigned_one_of(app, [c.clinician_id for c in _problem(app).clinicians])
    page.goto(f"{url}/f/north/rota/session/{session_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(
        f"form[action$='/remove']:has(input[value='{removed}']) button",
    )
    page.wait_for_selector("text=Removed")
    phone = _log_in(browser, url, "coordinator@north", 390)
    for p in (page, phone):
        for path in rota_pages:
            p.goto(f"{url}{path}")
            banner = _banner(p)
            assert "Unpublished changes: 1 change for 1 person since published version 1" in (
                banner
            ), banner
    _shot(page, "42-state-unpublished-desktop", full=False)
    _shot(phone, "42-state-unpublished-phone", full=False)
    phone.click("#rota-state a:has-text('Preview and publish')")
    phone.wait_for_selector("#publish-summary")
    assert "1 removed" in phone.inner_text("#diff-counts")
    phone.context.close()
    page.context.close()


def test_the_preview_of_a_rerun_fits_two_screens_above_its_folded_details(server, browser):
    """Mark the published rota's busiest clinician away for a week; the re-run's preview shows
    its summary and the Publish button within two screens (900 px each) above the first fold,
    and the lists stay folded until opened."""
    url, app = server
    with app.app_context(), new_session(app) as db:
        version = db.scalar(select(PublishedVersion).order_by(PublishedVersion.number.desc()))
        busiest = Counter(a.clinician_id for a in version.assignments).most_common(1)[0][0]
        first = min(a.session_id.split("-")[1] for a in version.assignments)
    start = date(int(first[:4]), int(first[4:6]), int(first[6:]))
    page = _log_in(browser, url, "coordinator@north", 1280)
    page.goto(f"{url}/f/north/absence/")
    page.select_option("select[name=clinician_id]", busiest)
    page.fill("input[name=first]", start.isoformat())
    page.fill("input[name=last]", (start + timedelta(days=6)).isoformat())
    page.click("button:has-text('Mark absent and re-run')")
    page.wait_for_url("**/runs/watch?job=*")
    page.wait_for_selector("#run-result:not([hidden])", timeout=90_000)
    page.context.close()
    for size, width in WIDTHS.items():
        page = _log_in(browser, url, "manager@north", width)
        page.goto(f"{url}/f/north/publish/preview")
        page.wait_for_selector("#publish-summary")
        assert "removed" in page.inner_text("#diff-counts")
        above = page.evaluate("document.querySelector('details.fold').getBoundingClientRect().top")
        button = page.locator("#publish-form button").bounding_box()
        full = page.evaluate("document.documentElement.scrollHeight")
        if size == "desktop":
            assert above <= 2 * 900, f"{above} px above the first fold"
            assert button["y"] + button["height"] <= 900, "Publish is on the first screen"
        assert not page.locator("table.diff-clinicians").is_visible()
        _shot(page, f"42-preview-rerun-{size}")
        (ARTIFACTS / f"42-preview-rerun-{size}.txt").write_text(
            f"above first fold {above:.0f} px, page {full} px, "
            f"publish button at {button['y']:.0f} px\n"
        )
        page.click("#fold-clinicians summary")
        assert page.locator("table.diff-clinicians").is_visible()
        page.context.close()


def test_bank_holidays_marked_hub_names_whole_and_every_tab_in_sight(server, browser):
    """The sample's May bank holidays are marked on a clinician's availability calendar and as
    rows of the coverage heatmap; the heatmap's hub names are whole; at 390 px every tab of the
    bar lies inside the screen."""
    url, app = server
    problem = _problem(app)
    assert {date(2027, 5, 3), date(2027, 5, 31)} <= problem.bank_holidays
    for size, width in WIDTHS.items():
        page = _log_in(browser, url, "coordinator@north", width)
        page.goto(f"{url}/f/north/availability/C0001")
        marked = page.locator(".avail-cell.bank")
        assert marked.count() == 2 and "bank holiday" in marked.first.inner_text()
        assert page.locator(".avail-cell.bank select").first.get_attribute("aria-label") == (
            "Mon 3 May 2027"
        )
        _shot(page, f"42-availability-bank-{size}")
        page.goto(f"{url}/f/north/rota/?week=2027-05-03")
        assert "bank holiday" in page.inner_text("tr.bank th.date")
        page.goto(f"{url}/f/north/insights/")
        heatmap = page.locator("svg[aria-label='Coverage of required posts by day and hub']")
        texts = heatmap.evaluate("svg => [...svg.querySelectorAll('text')].map(t => t.textContent)")
        assert "Mon 3 May · bank hol." in texts and "Mon 31 May · bank hol." in texts
        heads = " ".join(t for t in texts if t[:3] not in ("Mon", "Tue", "Wed", "Thu", "Fri"))
        for hub in problem.hubs:
            assert hub.name in heads, f"{hub.name} not whole in {heads}"
        assert not any("…" in t for t in texts)
        heatmap.screenshot(path=str(ARTIFACTS / f"42-heatmap-{size}.png"))
        tabs = page.locator("nav.tabs a")
        for i in range(tabs.count()):
            box = tabs.nth(i).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, tabs.nth(i).inner_text()
        page.evaluate("window.scrollTo(0, 0)")
        _shot(page, f"42-tabs-{size}", full=False)
        page.context.close()
