"""E-mail to clinicians: what is written, the outbox, and sending in the background.

Settings: `HUBROTA_SMTP_URL` (config SMTP_URL) and `HUBROTA_MAIL_FROM` (MAIL_FROM).

- `smtp://user:password@host:587` sends over STARTTLS (required: a server that does not offer
  it is an error, never a fallback to plain text); `smtps://user:password@host:465` opens TLS
  at once. `?starttls=off` on an smtp:// URL allows plain SMTP, for a relay on the same machine.
  User and password are percent-encoded in the URL.
- Without both settings nothing is sent: every message is kept with status `held` and shown on
  the admins' Outbox page (what `hubrota serve --demo` does).

A message is a row of `mail_message` written in the request that causes it, after that
request's own change is committed: a publish stands whatever happens to its mail. `dispatch`
then sends it in the background: as an RQ job when REDIS_URL is set (`hubrota worker` runs it),
else in a thread of the web process. A temporary failure (the server unreachable, a 4xx reply)
is retried after MAIL_RETRY_SECONDS, doubling each time, up to MAIL_MAX_ATTEMPTS tries; a
permanent one (5xx) fails at once. Status, attempts and the last error are on the Outbox page.

Messages are plain text plus a simple HTML part: no images, no tracking, no patient data (only
the clinician's own sessions, hubs and link). A clinician who chose "no e-mail" on their page
gets none.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask, current_app, has_request_context, render_template, url_for
from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from scheduler.checker import format_day, format_time
from scheduler.diff import rota_diff
from scheduler.domain import Problem
from web.db import new_session
from web.models import ClinicianSetting, Federation, FeedLink, MailMessage, PublishedVersion, utcnow
from web.services import sealed
from web.services.problems import loaded
from web.services.published import version_rota

EXTENSION = "hubrota.mail"
MAX_ATTEMPTS = 5
RETRY_SECONDS = 30.0  # first wait after a temporary failure; doubles each time
SEND = "web.worker.send_mail"  # the RQ entry point of a queued message
log = logging.getLogger(__name__)


class MailConfigError(ValueError):
    """HUBROTA_SMTP_URL or HUBROTA_MAIL_FROM cannot be used; the message says why."""


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls | ssl | none
    user: str = ""
    password: str = ""


def parse_smtp_url(url: str) -> SmtpSettings:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailConfigError(
            "HUBROTA_SMTP_URL must look like smtp://user:password@host:587 (STARTTLS) or "
            "smtps://user:password@host:465"
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme == "smtps":
        security = "ssl"
    elif query.get("starttls", "on").casefold() in ("off", "no", "false", "0"):
        security = "none"
    else:
        security = "starttls"
    try:
        port = parts.port or (465 if security == "ssl" else 587)
    except ValueError as exc:
        raise MailConfigError(f"HUBROTA_SMTP_URL has a bad port: {exc}") from None
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        security=security,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def init_app(app: Flask) -> None:
    """Check the settings once at start-up: a bad URL stops the app with a clear message."""
    app.config.setdefault("SMTP_URL", None)
    app.config.setdefault("MAIL_FROM", None)
    app.config.setdefault("MAIL_MAX_ATTEMPTS", MAX_ATTEMPTS)
    app.config.setdefault("MAIL_RETRY_SECONDS", RETRY_SECONDS)
    if app.config["SMTP_URL"]:
        parse_smtp_url(app.config["SMTP_URL"])
        if "@" not in parseaddr(app.config["MAIL_FROM"] or "")[1]:
            raise MailConfigError(
                "HUBROTA_SMTP_URL is set but HUBROTA_MAIL_FROM is not an address "
                "(e.g. 'Hub rota <rota@example.org>')"
            )
    app.extensions[EXTENSION] = _Threads()


def sending(app: Flask | None = None) -> bool:
    """Whether mail goes to an SMTP server (else it is held in the outbox)."""
    config = (app or current_app).config
    return bool(config.get("SMTP_URL") and config.get("MAIL_FROM"))


# ---- writing messages ----------------------------------------------------------------------


def opted_out(db: DbSession, federation_id: int, clinician_id: str) -> bool:
    return bool(
        db.scalar(
            select(ClinicianSetting.email_opt_out).where(
                ClinicianSetting.federation_id == federation_id,
                ClinicianSetting.clinician_id == clinician_id,
            )
        )
    )


def set_opt_out(db: DbSession, federation_id: int, clinician_id: str, opt_out: bool) -> None:
    row = db.scalar(
        select(ClinicianSetting).where(
            ClinicianSetting.federation_id == federation_id,
            ClinicianSetting.clinician_id == clinician_id,
        )
    )
    if row is None:
        row = ClinicianSetting(federation_id=federation_id, clinician_id=clinician_id)
        db.add(row)
    row.email_opt_out = opt_out
    row.updated_at = utcnow()


def page_url(token: str) -> str:
    """A clinician's own page; outside a request, from BASE_URL (HUBROTA_BASE_URL)."""
    if has_request_context():
        return url_for("feeds.mine", token=token, _external=True)
    base = (current_app.config.get("BASE_URL") or "http://localhost:5000").rstrip("/")
    return f"{base}/feeds/{token}"


def clinician_link(db: DbSession, federation_id: int, clinician_id: str) -> str | None:
    """The clinician's private page, when they have a link whose token can be unsealed."""
    link = db.scalar(
        select(FeedLink).where(
            FeedLink.federation_id == federation_id,
            FeedLink.kind == "clinician",
            FeedLink.key == clinician_id,
        )
    )
    if link is None or not link.active:
        return None
    token = sealed.unseal(link.token_sealed)
    return page_url(token) if token else None


def queue(
    db: DbSession,
    federation: Federation,
    clinician_id: str,
    to_addr: str,
    kind: str,
    template: str,
    **context,
) -> MailMessage | None:
    """A message from `mail/<template>.txt` and `.html` (their first line is the subject),
    held or queued; None when the clinician has no address or chose no e-mail."""
    address = parseaddr(to_addr or "")[1]
    if "@" not in address or opted_out(db, federation.id, clinician_id):
        return None
    context.setdefault("federation", federation)
    context.setdefault("link", clinician_link(db, federation.id, clinician_id))
    subject, _, text = render_template(f"mail/{template}.txt", **context).partition("\n")
    html = render_template(f"mail/{template}.html", subject=subject, **context)
    message = MailMessage(
        federation_id=federation.id,
        clinician_id=clinician_id,
        kind=kind,
        to_addr=address,
        subject=subject.strip()[:300],
        body_text=text.strip() + "\n",
        body_html=html,
        status="queued" if sending() else "held",
    )
    db.add(message)
    return message


@dataclass(frozen=True)
class SessionLine:
    when: str  # "Sat 6 Mar 2027 09:00–13:00" (Europe/London, as the data gives it)
    hub: str
    address: str

    @property
    def text(self) -> str:
        return f"{self.when} at {self.hub}" + (f", {self.address}" if self.address else "")


def session_line(problems: Iterable[Problem], session_id: str) -> SessionLine:
    for problem in problems:
        if session_id in problem.sessions_by_id:
            s = problem.session(session_id)
            hub = next((h for h in problem.hubs if h.hub_id == s.hub_id), None)
            return SessionLine(
                f"{format_day(s.date)} {format_time(s.start)}–{format_time(s.end)}",
                hub.name if hub else s.hub_id,
                ", ".join(x for x in ((hub.address, hub.postcode) if hub else ()) if x),
            )
    return SessionLine(session_id, "", "")


def notify_publish(db: DbSession, federation: Federation, version: PublishedVersion) -> list[int]:
    """One message to each clinician whose own sessions the version changes against the one
    before it (added, removed, moved), and to nobody else; the new messages' ids."""
    before = db.scalar(
        select(PublishedVersion).where(
            PublishedVersion.federation_id == federation.id,
            PublishedVersion.number == version.number - 1,
        )
    )
    problem = loaded(version.dataset).problem
    problem_before = loaded(before.dataset).problem if before else None
    diff = rota_diff(version_rota(before), version_rota(version), problem, problem_before)
    problems = [p for p in (problem, problem_before) if p is not None]
    messages = []
    for cid, change in diff.by_clinician.items():
        person = problem.clinicians_by_id.get(cid) or (
            problem_before.clinicians_by_id.get(cid) if problem_before else None
        )
        if person is None:
            continue
        message = queue(
            db,
            federation,
            cid,
            person.email,
            "publish",
            "changes",
            name=person.name,
            number=version.number,
            added=[session_line(problems, s) for s in change.gained],
            removed=[session_line(problems, s) for s in change.lost],
            moved=[
                (session_line(problems, m.from_session), session_line(problems, m.to_session))
                for m in change.moved
            ],
        )
        if message is not None:
            messages.append(message)
    db.flush()
    return [m.id for m in messages]


def after_publish(federation: Federation, version: PublishedVersion) -> None:
    """Called once a publish is committed: write and send its messages in a session of their
    own. Any failure here is logged and leaves the publish as it is."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with new_session(app) as db:
            fed = db.get(Federation, federation.id)
            v = db.get(PublishedVersion, version.id)
            ids = notify_publish(db, fed, v)
            db.commit()
        dispatch(app, ids)
    except Exception:
        log.exception("mail for published version %s could not be written", version.number)


def email_links(
    db: DbSession, federation: Federation, user_id: int | None
) -> tuple[int, list[int], int]:
    """Make a private link for each clinician of the current data who has none, and write each
    of them an e-mail with it: (links made, ids of the messages, clinicians left without one
    because they have no address or chose no e-mail)."""
    from web.services import feed_links
    from web.services.problems import current_dataset

    dataset = current_dataset(db, federation.id)
    if dataset is None:
        return 0, [], 0
    have = {
        link.key
        for link in db.scalars(
            select(FeedLink).where(
                FeedLink.federation_id == federation.id, FeedLink.kind == "clinician"
            )
        )
        if link.active
    }
    made, messages, without = 0, [], 0
    for person in sorted(loaded(dataset).problem.clinicians, key=lambda c: c.clinician_id):
        if person.clinician_id in have:
            continue
        _, token = feed_links.issue(db, federation.id, "clinician", person.clinician_id, user_id)
        made += 1
        message = queue(
            db,
            federation,
            person.clinician_id,
            person.email,
            "links",
            "link",
            name=person.name,
            link=page_url(token),
        )
        if message is None:
            without += 1
        else:
            messages.append(message)
    db.flush()
    return made, [m.id for m in messages], without


# ---- sending -------------------------------------------------------------------------------


class _Threads:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: set[threading.Thread] = set()


def dispatch(app: Flask, message_ids: Iterable[int]) -> None:
    """Send the queued messages in the background (nothing to do while mail is held)."""
    ids = list(message_ids)
    if not ids or not sending(app):
        return
    if app.config.get("REDIS_URL"):
        try:
            from redis import Redis
            from rq import Queue

            rq = Queue(app.config["RQ_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]))
            for message_id in ids:
                rq.enqueue(SEND, message_id, job_timeout=3600)
            return
        except Exception:  # Redis away: the web process sends them itself
            log.exception("mail could not be queued in Redis; sending from this process")
    threads: _Threads = app.extensions[EXTENSION]
    thread = threading.Thread(target=_send_all, args=(app, ids), daemon=True, name="hubrota-mail")
    with threads.lock:
        threads.running.add(thread)
    thread.start()


def _send_all(app: Flask, ids: list[int]) -> None:
    try:
        for message_id in ids:
            deliver(app, message_id)
    finally:
        threads: _Threads = app.extensions[EXTENSION]
        with threads.lock:
            threads.running.discard(threading.current_thread())


def wait(app: Flask, timeout: float = 30.0) -> None:
    """Until the web process's mail threads are done (tests, shutdown)."""
    deadline = time.monotonic() + timeout
    threads: _Threads = app.extensions[EXTENSION]
    while True:
        with threads.lock:
            running = list(threads.running)
        if not running or time.monotonic() > deadline:
            return
        running[0].join(max(0.0, deadline - time.monotonic()))


def deliver(app: Flask, message_id: int) -> str:
    """Send one queued message, retrying temporary failures; its final status."""
    with app.app_context(), new_session(app) as db:
        claimed = db.execute(
            update(MailMessage)
            .where(MailMessage.id == message_id, MailMessage.status == "queued")
            .values(status="sending")
        ).rowcount
        db.commit()
        message = db.get(MailMessage, message_id)
        if message is None:
            return "gone"
        if not claimed:  # another process has it, or it is done
            return message.status
        settings = parse_smtp_url(app.config["SMTP_URL"])
        email = as_email(message, app.config["MAIL_FROM"])
        most = int(app.config["MAIL_MAX_ATTEMPTS"])
        pause = float(app.config["MAIL_RETRY_SECONDS"])
        while True:
            message.attempts += 1
            try:
                send(settings, email)
            except TemporaryFailure as exc:
                message.last_error = f"try {message.attempts}: {exc}"
                if message.attempts >= most:
                    message.status = "failed"
                    message.last_error += f" (gave up after {message.attempts} tries)"
                    db.commit()
                    return message.status
                db.commit()
                time.sleep(pause)
                pause *= 2
                continue
            except PermanentFailure as exc:
                message.status, message.last_error = "failed", f"try {message.attempts}: {exc}"
                db.commit()
                return message.status
            message.status, message.sent_at = "sent", utcnow()
            db.commit()
            return message.status


def retry(db: DbSession, message: MailMessage) -> bool:
    """A failed (or held, once SMTP is set) message back in the queue; False if not possible."""
    if message.status not in ("failed", "held") or not sending():
        return False
    message.status, message.attempts = "queued", 0
    return True


def as_email(message: MailMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_addr
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    email["Message-ID"] = make_msgid("hubrota", domain=domain)
    email["Auto-Submitted"] = "auto-generated"  # no out-of-office replies
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


def send(settings: SmtpSettings, email: EmailMessage, timeout: float = 30.0) -> None:
    """One SMTP conversation; raises TemporaryFailure or PermanentFailure."""
    context = ssl.create_default_context()
    try:
        if settings.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=context
            )
        else:
            server = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with server:
            server.ehlo()
            if settings.security == "starttls":
                if not server.has_extn("starttls"):
                    raise PermanentFailure(
                        f"{settings.host} does not offer STARTTLS: mail is never sent in plain "
                        "text (add ?starttls=off to the URL only for a relay on this machine)"
                    )
                server.starttls(context=context)
                server.ehlo()
            if settings.user:
                server.login(settings.user, settings.password)
            refused = server.send_message(email)
            if refused:
                code, reply = next(iter(refused.values()))
                raise (TemporaryFailure if 400 <= code < 500 else PermanentFailure)(
                    f"{code} {reply.decode(errors='replace')}"
                )
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise (TemporaryFailure if 400 <= code < 500 else PermanentFailure)(
            f"recipient refused: {code} {reply.decode(errors='replace')}"
        ) from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if exc.smtp_error else ""
        failure = TemporaryFailure if 400 <= exc.smtp_code < 500 else PermanentFailure
        raise failure(f"{exc.smtp_code} {text}".strip()) from None
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from None
