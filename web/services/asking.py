"""Availability requests: a coordinator asks every clinician for their availability over a
period; each replies from their private link on a month calendar of the period's session days
(available / preferred / unavailable, a note, preferred hubs, the most sessions they want) and
may change it until the closing date; the coordinator sees who replied and when, sends
reminders, and turns the replies into a draft of the next data version, which the upload
preview shows and saves whole or not at all.

A reply after the closing date (UK date), to a request no longer open, or from a revoked link
is refused and changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
from calendar import Calendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduler.checker import format_day
from scheduler.domain import Problem, Status
from web.models import (
    AuditEvent,
    AvailabilityRequest,
    AvailabilityResponse,
    Dataset,
    DatasetFile,
    Federation,
    utcnow,
)
from web.services import mail
from web.services.problems import current_dataset, loaded, parse_files, remember

LETTERS = {"A": "available", "P": "preferred", "U": "unavailable"}
STATUS_LETTER = {Status.AVAILABLE: "A", Status.PREFERRED: "P", Status.UNAVAILABLE: "U"}
MAX_DAYS = 120
NOTE_CHARS = 500


class Refused(ValueError):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


# ---- opening ------------------------------------------------------------------------------


def parse_request(form, today: date) -> tuple[date, date, date, str]:
    def day(name: str, label: str) -> date:
        text = (form.get(name) or "").strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise Refused(f"{label}: give a date (YYYY-MM-DD).", name) from None

    first, last = day("first", "First day"), day("last", "Last day")
    closes = day("closes", "Closing date")
    if last < first:
        raise Refused("Last day is before the first day.", "last")
    if (last - first).days + 1 > MAX_DAYS:
        raise Refused(f"Ask about at most {MAX_DAYS} days at a time.", "last")
    if closes < today:
        raise Refused(f"Closing date ({format_day(closes)}) has passed.", "closes")
    if closes > last:
        raise Refused("Closing date is after the period's last day.", "closes")
    message = (form.get("message") or "").strip()
    if len(message) > 2000:
        raise Refused("Message: at most 2000 characters.", "message")
    return first, last, closes, message


def open_request(
    db: DbSession,
    federation: Federation,
    user_id: int | None,
    first: date,
    last: date,
    closes: date,
    message: str,
) -> tuple[AvailabilityRequest, list[int]]:
    """A new open request, and the e-mails telling every clinician with an address."""
    problem = _problem(db, federation.id)
    if problem is None:
        raise Refused("Upload data first: the request goes to the clinicians in it.")
    row = AvailabilityRequest(
        federation_id=federation.id,
        first_day=first,
        last_day=last,
        closes_on=closes,
        message=message,
        status="open",
        created_by_id=user_id,
    )
    db.add(row)
    db.flush()
    db.add(
        AuditEvent(
            federation_id=federation.id,
            user_id=user_id,
            action="availability asked",
            detail=f"asked for availability {first} to {last}, replies until {closes}",
        )
    )
    ids = _mail_everyone(db, federation, row, problem, "availability_request", reminder=False)
    return row, ids


def _mail_everyone(db, federation, row, problem, template, reminder, only=None) -> list[int]:
    out = []
    for c in sorted(problem.clinicians, key=lambda c: c.clinician_id):
        if only is not None and c.clinician_id not in only:
            continue
        message = mail.queue(
            db,
            federation,
            c.clinician_id,
            c.email,
            "availability",
            template,
            name=c.name,
            period=f"{format_day(row.first_day)} to {format_day(row.last_day)}",
            closes=format_day(row.closes_on),
            message=row.message,
            reminder=reminder,
        )
        if message is not None:
            out.append(message)
    db.flush()
    return [m.id for m in out]


def remind(db: DbSession, federation: Federation, row: AvailabilityRequest, today: date):
    """E-mail the clinicians who have not replied yet; the ids of the messages."""
    if row.status != "open" or today > row.closes_on:
        raise Refused("The request is closed: there is nobody to remind.")
    problem = _problem(db, federation.id)
    replied = {r.clinician_id for r in responses(db, row)}
    waiting = {c.clinician_id for c in problem.clinicians} - replied
    row.reminded_at = utcnow()
    db.add(
        AuditEvent(
            federation_id=federation.id,
            action="availability reminder",
            detail=f"reminded {len(waiting)} clinician(s) about request {row.id}",
        )
    )
    return _mail_everyone(
        db, federation, row, problem, "availability_request", reminder=True, only=waiting
    )


REMIND_DAYS = 2  # `hubrota remind` writes to those who have not replied this close to closing


def due_reminders(db: DbSession, today: date) -> list[AvailabilityRequest]:
    """Open requests closing within REMIND_DAYS whose non-repliers were not reminded today."""
    rows = db.scalars(
        select(AvailabilityRequest).where(
            AvailabilityRequest.status == "open",
            AvailabilityRequest.closes_on >= today,
            AvailabilityRequest.closes_on <= today + timedelta(days=REMIND_DAYS),
        )
    ).all()
    return [r for r in rows if r.reminded_at is None or r.reminded_at.date() < today]


def send_due_reminders(app, today: date) -> list[tuple[int, int]]:
    """Remind the non-repliers of every request closing soon (once a day at most), in every
    federation; (request id, messages written) per request. What `hubrota remind` runs."""
    from web.db import new_session

    done, ids = [], []
    with app.app_context(), new_session(app) as db:
        for row in due_reminders(db, today):
            federation = db.get(Federation, row.federation_id)
            written = remind(db, federation, row, today)
            done.append((row.id, len(written)))
            ids.extend(written)
        db.commit()
    mail.dispatch(app, ids)
    mail.wait(app, 600)
    return done


# ---- what the clinician sees and sends --------------------------------------------------------


def _problem(db: DbSession, federation_id: int) -> Problem | None:
    dataset = current_dataset(db, federation_id)
    return loaded(dataset).problem if dataset else None


def session_days(problem: Problem, row: AvailabilityRequest) -> list[date]:
    """The period's days on which sessions run: the data's own session dates inside it, and
    beyond the data's period the weekdays that have sessions."""
    dates = {s.date for s in problem.sessions}
    weekdays = {d.weekday() for d in dates}
    out = []
    day = row.first_day
    while day <= row.last_day:
        inside = problem.period_start <= day <= problem.period_end
        if (day in dates) if inside else (day.weekday() in weekdays):
            out.append(day)
        day += timedelta(days=1)
    return out


@dataclass(frozen=True)
class Month:
    title: str
    weeks: list[list[date | None]]  # Monday first; None outside the month


def months(days: list[date]) -> list[Month]:
    if not days:
        return []
    out = []
    year, month = days[0].year, days[0].month
    while (year, month) <= (days[-1].year, days[-1].month):
        weeks = [
            [d if d.month == month else None for d in week]
            for week in Calendar(0).monthdatescalendar(year, month)
        ]
        out.append(Month(date(year, month, 1).strftime("%B %Y"), weeks))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def open_for(db: DbSession, federation_id: int, today: date) -> list[AvailabilityRequest]:
    return list(
        db.scalars(
            select(AvailabilityRequest)
            .where(
                AvailabilityRequest.federation_id == federation_id,
                AvailabilityRequest.status == "open",
                AvailabilityRequest.closes_on >= today,
            )
            .order_by(AvailabilityRequest.first_day)
        )
    )


def response_of(
    db: DbSession, row: AvailabilityRequest, clinician_id: str
) -> AvailabilityResponse | None:
    return db.scalar(
        select(AvailabilityResponse).where(
            AvailabilityResponse.request_id == row.id,
            AvailabilityResponse.clinician_id == clinician_id,
        )
    )


def responses(db: DbSession, row: AvailabilityRequest) -> list[AvailabilityResponse]:
    return list(
        db.scalars(select(AvailabilityResponse).where(AvailabilityResponse.request_id == row.id))
    )


def reply(
    db: DbSession,
    row: AvailabilityRequest,
    clinician_id: str,
    form,
    today: date,
    hint: str,
) -> AvailabilityResponse:
    """Check the whole reply, then store it whole (replacing an earlier one); raises Refused
    naming the field, with nothing stored."""
    if row.status != "open":
        raise Refused(f"This request is {row.status}: replies are no longer taken.")
    if today > row.closes_on:
        raise Refused(
            f"Replies to this request closed on {format_day(row.closes_on)}: nothing was "
            "saved. Tell your coordinator directly."
        )
    problem = _problem(db, row.federation_id)
    if problem is None or clinician_id not in problem.clinicians_by_id:
        raise Refused("You are not in this federation's current data: ask your coordinator.")
    days = {}
    for day in session_days(problem, row):
        value = (form.get(f"d{day.isoformat()}") or "").strip().upper()
        if value and value not in LETTERS:
            raise Refused(f"{format_day(day)}: choose available, preferred or unavailable.")
        if value:
            days[day.isoformat()] = value
    hubs = [h for h in form.getlist("hubs") if h]
    known = {h.hub_id for h in problem.hubs}
    if any(h not in known for h in hubs):
        raise Refused("Preferred hubs: choose from the list.", "hubs")
    most_text = (form.get("max_sessions") or "").strip()
    most = None
    if most_text:
        if not most_text.isdigit() or not 0 <= int(most_text) <= len(days or [0]) * 4:
            raise Refused("Most sessions: a whole number (0 or more), or leave it blank.")
        most = int(most_text)
    note = (form.get("note") or "").strip()
    if len(note) > NOTE_CHARS:
        raise Refused(f"Note: at most {NOTE_CHARS} characters.", "note")
    answer = response_of(db, row, clinician_id)
    if answer is None:
        answer = AvailabilityResponse(request_id=row.id, clinician_id=clinician_id)
        db.add(answer)
    answer.days = json.dumps(days, sort_keys=True)
    answer.note, answer.preferred_hubs, answer.max_sessions = note, ";".join(hubs), most
    answer.updated_at = utcnow()
    db.add(
        AuditEvent(
            federation_id=row.federation_id,
            action="availability reply",
            detail=f"{clinician_id} replied to request {row.id}: {len(days)} day(s) marked "
            f"(link …{hint})",
        )
    )
    db.flush()
    return answer


def days_of(answer: AvailabilityResponse | None) -> dict[str, str]:
    return json.loads(answer.days) if answer else {}


# ---- into the next data version ---------------------------------------------------------------


CAP_COLUMN = "max_sessions_per_period"


def with_period_caps(text: str, caps: dict[str, int]) -> str:
    """clinicians.csv with `max_sessions_per_period` set for the clinicians in `caps` (the
    column added when missing); every other cell as it was."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        return text
    names = [h.strip().casefold() for h in rows[0]]
    if "clinician_id" not in names:
        return text
    key = names.index("clinician_id")
    if CAP_COLUMN in names:
        column = names.index(CAP_COLUMN)
    else:
        column = len(rows[0])
        rows[0].append(CAP_COLUMN)
    for r in rows[1:]:
        if not any(cell.strip() for cell in r):
            continue
        r.extend([""] * (column + 1 - len(r)))
        cid = r[key].strip()
        if cid in caps:
            r[column] = str(caps[cid])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def draft_from(
    db: DbSession, federation_id: int, row: AvailabilityRequest, user_id: int | None
) -> Dataset:
    """A draft of the next data version: the current files with availability.csv rewritten in
    long form, each reply's marked days replacing what the file said for those days, and, when
    the request covers the data's own period, each reply's "most sessions" as the clinician's
    `max_sessions_per_period`. The upload preview shows it and saves it whole, or the
    coordinator discards it."""
    dataset = current_dataset(db, federation_id)
    if dataset is None:
        raise Refused("There is no data to add the replies to.")
    problem = loaded(dataset).problem
    answers = {a.clinician_id: days_of(a) for a in responses(db, row)}
    answers = {c: d for c, d in answers.items() if d and c in problem.clinicians_by_id}
    if not answers:
        raise Refused("Nobody has marked any day yet: there is nothing to add.")
    replaced = {(c, date.fromisoformat(d)) for c, days in answers.items() for d in days}
    rows = []
    for (cid, day), offers in problem.availability.items():
        if (cid, day) in replaced:
            continue
        for o in offers:
            rows.append(
                (
                    cid,
                    day.isoformat(),
                    STATUS_LETTER[o.status],
                    f"{o.start:%H:%M}" if o.start else "",
                    f"{o.end:%H:%M}" if o.end else "",
                    o.kind or "",
                    str(o.weight) if o.weight else "",
                )
            )
    for cid, days in answers.items():
        for d, letter in days.items():
            rows.append((cid, d, letter, "", "", "", ""))
    rows.sort()
    weighted = any(r[5] or r[6] for r in rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["clinician_id", "date", "status", "start", "end"]
    writer.writerow(header + (["kind", "weight"] if weighted else []))
    for r in rows:
        writer.writerow(r if weighted else r[:5])
    files = dataset.texts()
    files["availability.csv"] = out.getvalue()
    most = {
        a.clinician_id: a.max_sessions
        for a in responses(db, row)
        if a.max_sessions is not None and a.clinician_id in problem.clinicians_by_id
    }
    same_period = (row.first_day, row.last_day) == (problem.period_start, problem.period_end)
    if most and same_period and "clinicians.csv" in files:
        files["clinicians.csv"] = with_period_caps(files["clinicians.csv"], most)
    result = parse_files(files)  # raises InputErrors: nothing is stored then
    labels = json.loads(dataset.labels or "{}")
    labels.pop("availability.csv", None)
    draft = Dataset(
        federation_id=federation_id,
        version=None,
        created_by_id=user_id,
        note=f"availability replies {row.first_day} to {row.last_day}"[:300],
        labels=json.dumps(labels),
    )
    draft.files = [DatasetFile(name=n, content=t) for n, t in sorted(files.items())]
    db.add(draft)
    db.flush()
    row.applied_draft_id = draft.id
    db.add(
        AuditEvent(
            federation_id=federation_id,
            user_id=user_id,
            action="availability draft",
            detail=f"replies of {len(answers)} clinician(s) to request {row.id} made into "
            f"draft {draft.id}",
        )
    )
    remember(draft.id, result)
    return draft
