"""Leave: a clinician asks from their private link, a coordinator approves or declines, approval
records the absence and offers the re-run, the clinician sees the answer and gets an e-mail."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.web.conftest import Client
from tests.web.test_mail import issue_link
from web.db import new_session
from web.models import Absence, AuditEvent, LeaveRequest, MailMessage
from web.services import feed_links, leave

ASK = {"first": "2027-03-08", "last": "2027-03-10", "category": "study", "note": "course"}


class Clinician:
    """A browser-less visitor of a private link: reads the CSRF token from their page."""

    def __init__(self, app, token: str):
        self.http = Client(app.test_client()).http
        self.token = token

    def page(self) -> str:
        return self.http.get(f"/feeds/{self.token}").get_data(as_text=True)

    def post(self, path: str, data: dict):
        page = self.page()
        csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
        return self.http.post(f"/feeds/{self.token}{path}", data={**data, "csrf_token": csrf})


def rows(app) -> list[LeaveRequest]:
    with new_session(app) as db:
        return db.scalars(select(LeaveRequest).order_by(LeaveRequest.id)).all()


def count(app, model) -> int:
    with new_session(app) as db:
        return db.scalar(select(func.count()).select_from(model))


def test_ask_approve_and_see_the_answer(app, seeded, as_role):
    ben = Clinician(app, issue_link(app, seeded.north, "C2"))
    assert "Ask for leave" in ben.page()
    response = ben.post("/leave", ASK)
    assert response.status_code == 302 and response.location.endswith("#leave")
    page = ben.page()
    assert "Leave asked for Mon 8 Mar 2027 to Wed 10 Mar 2027" in page
    assert "pending" in page
    [row] = rows(app)
    assert (row.clinician_id, row.first_day, row.last_day, row.category, row.note) == (
        "C2",
        date(2027, 3, 8),
        date(2027, 3, 10),
        "study",
        "course",
    )

    coordinator = as_role("coordinator")
    listing = coordinator.get("/f/north/leave/").get_data(as_text=True)
    assert "Ben Bell (C2)" in listing and "Study leave" in listing and "course" in listing
    decided = coordinator.post(
        f"/f/north/leave/{row.id}", {"action": "approve", "note": "enjoy it"}
    )
    assert decided.status_code == 302 and decided.location.endswith("/f/north/leave/?rerun=1")
    after = coordinator.get(decided.location).get_data(as_text=True)
    assert "Re-run with fewest changes" in after and "/f/north/absence/rerun" in after

    with new_session(app) as db:
        absence = db.scalar(select(Absence))
        assert (absence.clinician_id, absence.first_day, absence.last_day) == (
            "C2",
            date(2027, 3, 8),
            date(2027, 3, 10),
        )
        assert db.get(LeaveRequest, row.id).absence_id == absence.id
        actions = db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("leave%"))
            .order_by(AuditEvent.id)
        ).all()
        assert actions == ["leave asked", "leave approved"]
        message = db.scalar(select(MailMessage).where(MailMessage.kind == "leave"))
    assert message.to_addr == "ben@example.test" and message.status == "held"
    assert message.subject == "Your leave request: approved (Mon 8 Mar 2027 to Wed 10 Mar 2027)"
    assert "Note from the coordinator: enjoy it" in message.body_text
    assert f"http://localhost/feeds/{ben.token}" in message.body_text

    page = ben.page()
    assert "approved" in page and "enjoy it" in page and "Withdraw" not in page
    # the approved leave is on the Absences page, and the next run treats the days as away
    assert "Study leave (asked by the clinician)" in coordinator.get("/f/north/absence/").get_data(
        as_text=True
    )


def test_decline_and_withdraw(app, seeded, as_role):
    cara = Clinician(app, issue_link(app, seeded.north, "C3"))
    cara.post("/leave", ASK)
    cara.post("/leave", {**ASK, "first": "2027-03-12", "last": "2027-03-12"})
    first, second = rows(app)
    manager = as_role("manager")
    manager.post(f"/f/north/leave/{first.id}", {"action": "decline", "note": "short-staffed"})
    withdrawn = cara.post(f"/leave/{second.id}/withdraw", {})
    assert withdrawn.status_code == 302
    assert [r.status for r in rows(app)] == ["declined", "withdrawn"]
    assert count(app, Absence) == 0
    # a decided request cannot be withdrawn, nor decided again
    again = cara.post(f"/leave/{first.id}/withdraw", {})
    assert again.status_code == 302
    assert "already declined" in cara.page()
    late = manager.post(f"/f/north/leave/{second.id}", {"action": "approve"})
    assert late.status_code == 302
    assert "already withdrawn" in manager.get("/f/north/leave/").get_data(as_text=True)
    assert count(app, Absence) == 0
    # someone else's request is not theirs to withdraw
    other = Clinician(app, issue_link(app, seeded.north, "C1"))
    assert other.post(f"/leave/{first.id}/withdraw", {}).status_code == 404


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({**ASK, "first": "8/3/2027"}, "First day away: give a date (YYYY-MM-DD), not “8/3/2027”."),
        ({**ASK, "last": "2027-03-01"}, "Last day away (Mon 1 Mar 2027) is before the first"),
        ({**ASK, "first": "2020-01-01", "last": "2020-01-02"}, "has passed"),
        ({**ASK, "last": "2029-03-01"}, "at most 366 days"),
        ({**ASK, "category": "holiday"}, "Reason: choose one from the list."),
        ({**ASK, "note": "x" * 501}, "Note: at most 500 characters."),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_saved(app, seeded, form, message):
    ben = Clinician(app, issue_link(app, seeded.north, "C2"))
    assert ben.post("/leave", form).status_code == 302
    assert message in ben.page().replace("&#34;", '"')
    assert rows(app) == []
    with new_session(app) as db:
        assert db.scalar(select(AuditEvent).where(AuditEvent.action.like("leave%"))) is None


def test_overlapping_requests_and_revoked_links_are_refused(app, seeded):
    token = issue_link(app, seeded.north, "C2")
    ben = Clinician(app, token)
    ben.post("/leave", ASK)
    ben.post("/leave", {**ASK, "first": "2027-03-10", "last": "2027-03-11"})
    assert "You already asked for Mon 8 Mar 2027 to Wed 10 Mar 2027 (pending)" in ben.page()
    csrf = ben.page().split('name="csrf_token" value="')[1].split('"')[0]
    with new_session(app) as db:
        feed_links.revoke(db, feed_links.find_link(db, token))
        db.commit()
    refused = ben.http.post(
        f"/feeds/{token}/leave", data={**ASK, "first": "2027-04-01", "csrf_token": csrf}
    )
    assert refused.status_code == 404
    assert len(rows(app)) == 1
    # a hub's link has no leave
    with app.test_request_context(), new_session(app) as db:
        _, hub = feed_links.issue(db, seeded.north, "hub", "H1", None)
        db.commit()
    assert "Ask for leave" not in Clinician(app, hub).page()


def test_two_decisions_at_once_give_one(app, seeded, tiny_loaded):
    """Two coordinators approving one request at the same moment: one absence, one decision."""
    Clinician(app, issue_link(app, seeded.north, "C2")).post("/leave", ASK)
    [row] = rows(app)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user_email: str) -> None:
        with app.test_request_context(), new_session(app) as db:
            from web.models import Federation, User

            user = db.scalar(select(User).where(User.email == user_email))
            federation = db.get(Federation, seeded.north)
            request_row = db.get(LeaveRequest, row.id)
            barrier.wait()
            try:
                leave.decide(db, federation, request_row, user.id, True, "")
                db.commit()
                outcomes.append("won")
            except leave.LeaveRefused as refused:
                outcomes.append(refused.message)

    threads = [
        threading.Thread(target=approve, args=(email,))
        for email in ("coordinator@north", "manager@north")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes)[-1] == "won" and outcomes.count("won") == 1
    assert "already approved" in next(o for o in outcomes if o != "won")
    assert count(app, Absence) == 1
