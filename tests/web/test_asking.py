"""Availability requests: a coordinator asks, clinicians reply on a month calendar from their
private links, the coordinator sees who replied, reminds the others, and turns the replies into
the next data version through the upload preview; late or revoked replies change nothing."""

from __future__ import annotations

import html
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from tests.web.test_leave import Clinician
from tests.web.test_mail import issue_link
from web.db import new_session
from web.models import AvailabilityRequest, AvailabilityResponse, Dataset, MailMessage
from web.services import feed_links

ASK = {
    "first": "2027-03-01",
    "last": "2027-03-14",
    "closes": "2027-02-20",
    "message": "Spring rota: please reply by the 20th.",
}
REPLY = {
    "d2027-03-01": "U",
    "d2027-03-06": "P",
    "d2027-03-09": "A",
    "max_sessions": "3",
    "hubs": ["H1"],
    "note": "mornings better",
}


def answers(app) -> list[AvailabilityResponse]:
    with new_session(app) as db:
        return db.scalars(select(AvailabilityResponse)).all()


def mails(app, kind: str) -> list[MailMessage]:
    with new_session(app) as db:
        return db.scalars(
            select(MailMessage).where(MailMessage.kind == kind).order_by(MailMessage.id)
        ).all()


def opened(as_role) -> tuple[object, int]:
    coordinator = as_role("coordinator")
    response = coordinator.post("/f/north/requests/", ASK)
    assert response.status_code == 302, response.get_data(as_text=True)
    return coordinator, int(response.location.rsplit("/", 1)[1])


def test_ask_reply_remind_and_make_the_next_data_version(app, seeded, as_role):
    coordinator, request_id = opened(as_role)
    asked = mails(app, "availability")
    assert len(asked) == 6 and {m.status for m in asked} == {"held"}
    assert asked[0].subject.startswith("Your availability for Mon 1 Mar 2027 to Sun 14 Mar 2027")
    assert "Spring rota: please reply by the 20th." in asked[0].body_text

    ben = Clinician(app, issue_link(app, seeded.north, "C2"))
    assert "Mark my availability" in ben.page()
    form_page = ben.http.get(f"/feeds/{ben.token}/availability/{request_id}")
    assert form_page.headers["Cache-Control"] == "no-store"
    text = form_page.get_data(as_text=True)
    assert 'name="d2027-03-01"' in text and 'name="d2027-03-06"' in text
    assert 'name="d2027-03-05"' not in text  # no sessions on Fridays
    saved = ben.post(f"/availability/{request_id}", {**REPLY, "d2027-03-05": "A"})
    assert saved.status_code == 302
    assert "Saved. You can change it until Sat 20 Feb 2027." in ben.page()
    [answer] = answers(app)
    assert json.loads(answer.days) == {"2027-03-01": "U", "2027-03-06": "P", "2027-03-09": "A"}
    assert (answer.max_sessions, answer.preferred_hubs, answer.note) == (
        3,
        "H1",
        "mornings better",
    )
    # changed before the closing date: replaced whole
    ben.post(f"/availability/{request_id}", {"d2027-03-01": "U", "d2027-03-02": "P"})
    [answer] = answers(app)
    assert json.loads(answer.days) == {"2027-03-01": "U", "2027-03-02": "P"}
    assert answer.max_sessions is None and answer.preferred_hubs == ""

    page = coordinator.get(f"/f/north/requests/{request_id}").get_data(as_text=True)
    assert "1 of 6 replied" in page and page.count("not yet") == 5

    coordinator.post(f"/f/north/requests/{request_id}/remind")
    reminders = [m for m in mails(app, "availability") if m.subject.startswith("Reminder")]
    assert sorted(m.to_addr for m in reminders) == [
        "ann@example.test",
        "cara@example.test",
        "dan@example.test",
        "eve@example.test",
        "fay@example.test",
    ]

    drafted = coordinator.post(f"/f/north/requests/{request_id}/draft")
    assert "/f/north/data/drafts/" in drafted.location
    preview = coordinator.get(drafted.location).get_data(as_text=True)
    assert "Ben Bell" in preview
    draft_id = int(drafted.location.rstrip("/").rsplit("/", 1)[1])
    saved = coordinator.post(f"/f/north/data/drafts/{draft_id}/save")
    assert saved.status_code == 302
    with new_session(app) as db:
        version2 = db.scalar(
            select(Dataset).where(Dataset.federation_id == seeded.north, Dataset.version == 2)
        )
        csv_text = next(f.content for f in version2.files if f.name == "availability.csv")
    assert "C2,2027-03-01,U,," in csv_text and "C2,2027-03-02,P,," in csv_text
    assert "C1,2027-03-01,A,," in csv_text  # what others had is kept


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {**REPLY, "d2027-03-01": "X"},
            "Mon 1 Mar 2027: choose available, preferred or unavailable.",
        ),
        ({**REPLY, "hubs": ["H9"]}, "Preferred hubs: choose from the list."),
        ({**REPLY, "max_sessions": "lots"}, "Most sessions: a whole number"),
        ({**REPLY, "note": "x" * 501}, "Note: at most 500 characters."),
    ],
)
def test_bad_replies_are_refused_whole(app, seeded, as_role, form, message):
    _, request_id = opened(as_role)
    ben = Clinician(app, issue_link(app, seeded.north, "C2"))
    assert ben.post(f"/availability/{request_id}", form).status_code == 302
    page = ben.http.get(f"/feeds/{ben.token}/availability/{request_id}").get_data(as_text=True)
    assert message in page
    assert answers(app) == []


def test_late_and_revoked_replies_change_nothing(app, seeded, as_role):
    _, request_id = opened(as_role)
    token = issue_link(app, seeded.north, "C2")
    ben = Clinician(app, token)
    ben.post(f"/availability/{request_id}", REPLY)
    before = answers(app)[0].days
    yesterday = date.today() - timedelta(days=1)
    with new_session(app) as db:
        db.execute(
            update(AvailabilityRequest)
            .where(AvailabilityRequest.id == request_id)
            .values(closes_on=yesterday)
        )
        db.commit()
    page = ben.http.get(f"/feeds/{ben.token}/availability/{request_id}").get_data(as_text=True)
    assert "Replies to this request closed on" in page and "Save my availability" not in page
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    late = ben.http.post(
        f"/feeds/{token}/availability/{request_id}",
        data={"d2027-03-01": "A", "csrf_token": csrf},
    )
    assert late.status_code == 302
    follow = ben.http.get(late.location).get_data(as_text=True)
    assert "nothing was saved" in follow
    assert [a.days for a in answers(app)] == [before]
    # the closed request is gone from the clinician's page
    assert "Mark my availability" not in ben.page() and "Change my availability" not in ben.page()

    with new_session(app) as db:
        db.execute(
            update(AvailabilityRequest)
            .where(AvailabilityRequest.id == request_id)
            .values(closes_on=date(2027, 2, 20))
        )
        feed_links.revoke(db, feed_links.find_link(db, token))
        db.commit()
    revoked = ben.http.post(
        f"/feeds/{token}/availability/{request_id}",
        data={"d2027-03-01": "A", "csrf_token": csrf},
    )
    assert revoked.status_code == 404
    assert [a.days for a in answers(app)] == [before]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({**ASK, "last": "2027-02-01"}, "Last day is before the first day."),
        ({**ASK, "closes": "2020-01-01"}, "Closing date (Wed 1 Jan 2020) has passed."),
        ({**ASK, "closes": "2027-04-01"}, "Closing date is after the period's last day."),
        ({**ASK, "first": "soon"}, "First day: give a date (YYYY-MM-DD)."),
    ],
)
def test_bad_requests_are_refused(app, seeded, as_role, form, message):
    coordinator = as_role("coordinator")
    response = coordinator.post("/f/north/requests/", form)
    assert response.status_code == 302
    assert "csrf_token" not in response.location
    assert message in html.unescape(coordinator.get(response.location).get_data(as_text=True))
    with new_session(app) as db:
        assert db.scalar(select(AvailabilityRequest)) is None
    assert mails(app, "availability") == []


def test_most_sessions_becomes_the_period_cap(app, seeded, as_role):
    """A request over the data's own period: a reply's "most sessions" becomes the
    clinician's max_sessions_per_period in the draft; the preview shows it as a change."""
    coordinator, request_id = opened(as_role)
    cara = Clinician(app, issue_link(app, seeded.north, "C3"))
    cara.post(f"/availability/{request_id}", {"d2027-03-06": "P", "max_sessions": "1"})
    drafted = coordinator.post(f"/f/north/requests/{request_id}/draft")
    draft_id = int(drafted.location.rstrip("/").rsplit("/", 1)[1])
    with new_session(app) as db:
        draft = db.get(Dataset, draft_id)
        clinicians = next(f.content for f in draft.files if f.name == "clinicians.csv")
    lines = clinicians.splitlines()
    assert lines[0].endswith(",max_sessions_per_period")
    assert lines[3] == "C3,Cara Cole,P1,ANP,cara@example.test,,2,,1"
    assert lines[1] == "C1,Ann Able,P1,GP,ann@example.test,,2,,"
    preview = coordinator.get(drafted.location).get_data(as_text=True)
    assert "Cara Cole" in preview


def test_period_caps_keep_every_other_cell():
    from web.services.asking import with_period_caps

    text = "\ufeffClinician_ID , name, Max_Sessions_Per_Period\nA1,Ann,3\nB2,Bob,\n\n"
    assert with_period_caps(text, {"B2": 4}) == (
        "Clinician_ID , name, Max_Sessions_Per_Period\nA1,Ann,3\nB2,Bob,4\n\n"
    )


def test_hubrota_remind_writes_to_those_who_have_not_replied_near_closing(
    app, seeded, as_role, database_url, tmp_path
):
    """`hubrota remind` (run daily) reminds the non-repliers of a request closing within two
    days, once a day; a request closing later is left alone."""
    import os
    import subprocess
    import sys

    from web.services.asking import due_reminders

    _, request_id = opened(as_role)
    Clinician(app, issue_link(app, seeded.north, "C2")).post(
        f"/availability/{request_id}", {"d2027-03-01": "A"}
    )
    with new_session(app) as db:
        assert due_reminders(db, date.today()) == []  # closes 20 Feb 2027: not yet
        db.execute(
            update(AvailabilityRequest)
            .where(AvailabilityRequest.id == request_id)
            .values(closes_on=date.today() + timedelta(days=1))
        )
        db.commit()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HUBROTA_SECRET_KEY": "test-secret-of-at-least-32-characters",
    }
    env.pop("REDIS_URL", None)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "remind"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert f"request {request_id}: 5 reminder(s)" in run.stderr
    reminders = [m.to_addr for m in mails(app, "availability") if m.subject.startswith("Reminder")]
    assert len(reminders) == 5 and "ben@example.test" not in reminders
    again = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "remind"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and "reminder" not in again.stderr  # once a day
