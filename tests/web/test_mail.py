"""Mail to clinicians through a real SMTP server (aiosmtpd on 127.0.0.1): who gets what after a
publish, retries of temporary failures, the outbox without a server, the e-mail opt-out."""

from __future__ import annotations

import email
import socket
import threading
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.web.conftest import Client, make_app, seed
from tests.web.test_publish import publish
from web.db import engine_of, new_session
from web.models import AuditEvent, MailMessage, PublishedVersion, Rota, RotaAssignment
from web.services import feed_links, jobs, mail

# ---- a real SMTP server ---------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler: keeps each delivered message; refuses the first `refuse` DATA
    commands with a temporary 451."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse = 0
        self.refused = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refused < self.refuse:
                self.refused += 1
                return "451 4.3.0 Mail server busy, try again later"
            parsed = email.message_from_bytes(envelope.content, policy=default_policy)
            self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def by_recipient(self) -> dict[str, email.message.EmailMessage]:
        out = {}
        for rcpts, message in self.messages:
            for r in rcpts:
                assert r not in out, f"{r} got two messages"
                out[r] = message
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{controller.port}/?starttls=off"
    yield inbox
    controller.stop()


def mail_app(database_url, tmp_path, url: str | None, **extra):
    config = {"MAIL_RETRY_SECONDS": 0.05}
    if url:
        config |= {"SMTP_URL": url, "MAIL_FROM": "Hub rota <rota@example.org>"}
    return make_app(database_url, tmp_path, **(config | extra))


@pytest.fixture
def sent_app(database_url, tmp_path, smtp):
    app = mail_app(database_url, tmp_path, smtp.url)
    yield app
    mail.wait(app, 30)
    jobs.wait(app, 60)
    engine_of(app).dispose()


def login(app, role: str) -> Client:
    c = Client(app.test_client())
    assert c.login(f"{role}@north").status_code == 302
    return c


def text_of(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def html_of(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def change_rota(app, federation_id: int, changes) -> None:
    """Hand edits: (session, clinician to remove or None, clinician to add or None)."""
    with new_session(app) as db:
        row = db.scalar(select(Rota).where(Rota.federation_id == federation_id))
        for session_id, out, into in changes:
            if out:
                gone = next(
                    a
                    for a in row.assignments
                    if a.session_id == session_id and a.clinician_id == out
                )
                row.assignments.remove(gone)
            if into:
                used = {a.post_index for a in row.assignments if a.session_id == session_id}
                row.assignments.append(
                    RotaAssignment(
                        session_id=session_id,
                        post_index=min(i for i in range(5) if i not in used),
                        clinician_id=into,
                    )
                )
        row.revision += 1
        db.commit()


def issue_link(app, federation_id: int, clinician_id: str) -> str:
    with app.test_request_context(), new_session(app) as db:
        _, token = feed_links.issue(db, federation_id, "clinician", clinician_id, None)
        db.commit()
    return token


def statuses(app) -> list[tuple[str, str, int, str]]:
    with new_session(app) as db:
        return [
            (m.to_addr, m.status, m.attempts, m.last_error)
            for m in db.scalars(select(MailMessage).order_by(MailMessage.id))
        ]


# ---- the tests ------------------------------------------------------------------------------


def test_a_publish_mails_exactly_the_clinicians_whose_sessions_changed(sent_app, tiny_loaded, smtp):
    app = sent_app
    s = seed(app, tiny_loaded)
    manager = login(app, "manager")
    assert publish(manager, "first rota").status_code == 302
    mail.wait(app)
    # the first version adds every session: each clinician on it hears of theirs
    assert set(smtp.by_recipient()) == {
        "ann@example.test",
        "ben@example.test",
        "cara@example.test",
        "dan@example.test",
    }
    smtp.messages.clear()
    ben_token = issue_link(app, s.north, "C2")
    # Ben moves from Tuesday's River Hub evening to Saturday's North Hub morning (same week);
    # Eve takes his Tuesday. Nobody else changes.
    change_rota(
        app,
        s.north,
        [("H2-20270302-1830-2000", "C2", "C5"), ("H1-20270306-0900-1300", None, "C2")],
    )
    assert publish(manager, "Ben to Saturday").status_code == 302
    mail.wait(app)
    got = smtp.by_recipient()
    assert set(got) == {"ben@example.test", "eve@example.test"}

    ben = got["ben@example.test"]
    assert ben["From"] == "Hub rota <rota@example.org>"
    assert ben["Subject"] == "Your hub sessions changed: North Federation, rota version 2"
    assert ben["Auto-Submitted"] == "auto-generated"
    body = text_of(ben)
    assert "Hello Ben Bell," in body
    assert "Moved:" in body and "Added:" not in body and "Removed" not in body
    assert "from Tue 2 Mar 2027 18:30–20:00 at River Hub, 2 Quay Road, RI2 2BB" in body
    assert "to   Sat 6 Mar 2027 09:00–13:00 at North Hub, 1 High Street, NO1 1AA" in body
    assert f"http://localhost/feeds/{ben_token}" in body
    html = html_of(ben)
    assert f'href="http://localhost/feeds/{ben_token}"' in html
    assert "<img" not in html and "Sat 6 Mar 2027 09:00–13:00" in html

    eve = text_of(got["eve@example.test"])
    assert "Added:\n  - Tue 2 Mar 2027 18:30–20:00 at River Hub, 2 Quay Road, RI2 2BB" in eve
    assert "Moved" not in eve and "Removed" not in eve
    assert "Ask your rota coordinator for your private calendar link" in eve  # Eve has none
    assert all(status == "sent" for _, status, _, _ in statuses(app))


def test_a_failing_smtp_server_is_retried_and_the_publish_stands(sent_app, tiny_loaded, smtp):
    app = sent_app
    seed(app, tiny_loaded)
    smtp.refuse = 3  # the first message is refused three times (451), then goes
    assert publish(login(app, "manager"), "first rota").status_code == 302
    with new_session(app) as db:
        assert db.scalar(select(PublishedVersion.number)) == 1
    mail.wait(app)
    rows = statuses(app)
    assert len(rows) == 4 and all(status == "sent" for _, status, _, _ in rows)
    assert [attempts for _, _, attempts, _ in rows] == [4, 1, 1, 1]
    assert rows[0][3] == "try 3: 451 4.3.0 Mail server busy, try again later"
    assert len(smtp.by_recipient()) == 4


def test_an_smtp_server_that_is_down_fails_the_mail_not_the_publish(
    database_url, tmp_path, tiny_loaded
):
    app = mail_app(
        database_url, tmp_path, f"smtp://127.0.0.1:{free_port()}/?starttls=off", MAIL_MAX_ATTEMPTS=3
    )
    try:
        seed(app, tiny_loaded)
        response = publish(login(app, "manager"), "first rota")
        assert response.status_code == 302 and "/publish/version?n=1" in response.location
        mail.wait(app)
        rows = statuses(app)
        assert len(rows) == 4
        for _, status, attempts, error in rows:
            assert status == "failed" and attempts == 3
            assert "ConnectionRefusedError" in error and "gave up after 3 tries" in error
        admin = login(app, "admin")
        page = admin.get("/f/north/outbox/?status=failed").get_data(as_text=True)
        assert page.count("ConnectionRefusedError") == 4
    finally:
        mail.wait(app)
        engine_of(app).dispose()


def test_without_smtp_mail_is_held_in_the_outbox_for_admins(app, seeded, as_role):
    assert publish(as_role("manager"), "first rota").status_code == 302
    rows = statuses(app)
    assert sorted(r[0] for r in rows) == [
        "ann@example.test",
        "ben@example.test",
        "cara@example.test",
        "dan@example.test",
    ]
    assert {r[1] for r in rows} == {"held"}
    admin = as_role("admin")
    page = admin.get("/f/north/outbox/").get_data(as_text=True)
    assert "No SMTP server is set" in page and page.count("rota version 1") == 4
    with new_session(app) as db:
        first = db.scalar(select(MailMessage).where(MailMessage.to_addr == "ann@example.test"))
    one = admin.get(f"/f/north/outbox/{first.id}").get_data(as_text=True)
    assert "Hello Ann Able," in one and "Mon 1 Mar 2027 18:30–20:00 at North Hub" in one
    assert as_role("coordinator").get("/f/north/outbox/").status_code == 403
    assert as_role("admin", "south").get(f"/f/south/outbox/{first.id}").status_code == 404


def test_a_clinician_who_chose_no_email_gets_none(app, seeded, as_role):
    token = issue_link(app, seeded.north, "C1")
    visitor = Client(app.test_client())
    page = visitor.get(f"/feeds/{token}").get_data(as_text=True)
    assert "No e-mail, please" in page
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = visitor.http.post(f"/feeds/{token}/email", data={"email": "off", "csrf_token": csrf})
    assert response.status_code == 302
    assert "You get no e-mail from hubrota" in visitor.get(f"/feeds/{token}").get_data(as_text=True)
    assert publish(as_role("manager"), "first rota").status_code == 302
    assert "ann@example.test" not in [r[0] for r in statuses(app)]
    with new_session(app) as db:
        audit = db.scalars(select(AuditEvent.detail).where(AuditEvent.action == "clinician e-mail"))
        assert [d.split(" (")[0] for d in audit] == ["C1 chose no e-mail"]
    # a revoked link changes nothing
    with new_session(app) as db:
        link = feed_links.find_link(db, token)
        feed_links.revoke(db, link)
        db.commit()
    gone = visitor.http.post(f"/feeds/{token}/email", data={"email": "on", "csrf_token": csrf})
    assert gone.status_code == 404
    with new_session(app) as db:
        assert mail.opted_out(db, seeded.north, "C1")


def test_email_links_makes_links_for_those_without_and_mails_them(app, seeded, as_role):
    issue_link(app, seeded.north, "C1")
    coordinator = as_role("coordinator")
    response = coordinator.post("/f/north/outbox/links")
    assert response.status_code == 302
    rows = statuses(app)
    assert sorted(r[0] for r in rows) == [
        "ben@example.test",
        "cara@example.test",
        "dan@example.test",
        "eve@example.test",
        "fay@example.test",
    ]
    with new_session(app) as db:
        body = db.scalar(
            select(MailMessage.body_text).where(MailMessage.to_addr == "ben@example.test")
        )
    token = body.split("http://localhost/feeds/")[1].split()[0]
    assert "My calendar" in coordinator.http.get(f"/feeds/{token}").get_data(as_text=True)
    again = coordinator.post("/f/north/outbox/links")  # everyone has one now: nothing more
    assert again.status_code == 302 and len(statuses(app)) == 5


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://u%40x:p%3Aw@mail.example.org",
            ("mail.example.org", 587, "starttls", "u@x", "p:w"),
        ),
        ("smtps://u:p@mail.example.org", ("mail.example.org", 465, "ssl", "u", "p")),
        ("smtp://127.0.0.1:2525/?starttls=off", ("127.0.0.1", 2525, "none", "", "")),
    ],
)
def test_smtp_urls(url, expected):
    s = mail.parse_smtp_url(url)
    assert (s.host, s.port, s.security, s.user, s.password) == expected


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "smtp://h:99999"])
def test_bad_smtp_urls_are_refused_with_a_clear_message(url):
    with pytest.raises(mail.MailConfigError, match="HUBROTA_SMTP_URL"):
        mail.parse_smtp_url(url)
