"""Leave requests: a clinician asks from their private link for days away; a coordinator or
manager approves or declines. Approval records the days as an Absence (the same table the
Absences page writes, which every later run reads), after which the fewest-changes re-run of
the Absences page can be started. Each step is audited and mails the clinician.

A decision is one conditional UPDATE from `pending`, so two people deciding the same request at
once give one decision, and the other is told it was already made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from scheduler.checker import format_day
from web.models import Absence, AuditEvent, Federation, LeaveRequest, utcnow
from web.services import mail
from web.services.problems import current_dataset, loaded

CATEGORIES = {
    "annual": "Annual leave",
    "study": "Study leave",
    "sickness": "Sickness",
    "family": "Parental or caring leave",
    "other": "Other",
}
MAX_DAYS = 366
NOTE_CHARS = 500


class LeaveRefused(ValueError):
    """What is wrong with a request or a decision, for the page (nothing was saved)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class LeaveForm:
    first: date
    last: date
    category: str
    note: str


def parse_form(form, today: date) -> LeaveForm:
    """The request's fields, checked; raises LeaveRefused naming the field."""

    def day(name: str, label: str) -> date:
        text = (form.get(name) or "").strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise LeaveRefused(
                f"{label}: give a date (YYYY-MM-DD)" + (f", not “{text[:20]}”." if text else "."),
                name,
            ) from None

    first, last = day("first", "First day away"), day("last", "Last day away")
    if last < first:
        raise LeaveRefused(
            f"Last day away ({format_day(last)}) is before the first ({format_day(first)}).",
            "last",
        )
    if first < today:
        raise LeaveRefused(f"First day away ({format_day(first)}) has passed.", "first")
    if (last - first).days + 1 > MAX_DAYS:
        raise LeaveRefused(f"Ask for at most {MAX_DAYS} days at a time.", "last")
    category = form.get("category") or ""
    if category not in CATEGORIES:
        raise LeaveRefused("Reason: choose one from the list.", "category")
    note = (form.get("note") or "").strip()
    if len(note) > NOTE_CHARS:
        raise LeaveRefused(f"Note: at most {NOTE_CHARS} characters.", "note")
    return LeaveForm(first, last, category, note)


def days_text(first: date, last: date) -> str:
    return format_day(first) if first == last else f"{format_day(first)} to {format_day(last)}"


def of_clinician(db: DbSession, federation_id: int, clinician_id: str) -> list[LeaveRequest]:
    return list(
        db.scalars(
            select(LeaveRequest)
            .where(
                LeaveRequest.federation_id == federation_id,
                LeaveRequest.clinician_id == clinician_id,
            )
            .order_by(LeaveRequest.first_day.desc(), LeaveRequest.id.desc())
            .limit(50)
        )
    )


def ask(
    db: DbSession, federation_id: int, clinician_id: str, form: LeaveForm, hint: str
) -> LeaveRequest:
    """A new pending request; refused when it overlaps one pending or approved."""
    clash = db.scalar(
        select(LeaveRequest).where(
            LeaveRequest.federation_id == federation_id,
            LeaveRequest.clinician_id == clinician_id,
            LeaveRequest.status.in_(("pending", "approved")),
            LeaveRequest.first_day <= form.last,
            LeaveRequest.last_day >= form.first,
        )
    )
    if clash is not None:
        raise LeaveRefused(
            f"You already asked for {days_text(clash.first_day, clash.last_day)} "
            f"({clash.status}): withdraw that request or choose other days.",
            "first",
        )
    row = LeaveRequest(
        federation_id=federation_id,
        clinician_id=clinician_id,
        first_day=form.first,
        last_day=form.last,
        category=form.category,
        note=form.note,
        status="pending",
    )
    db.add(row)
    db.add(
        AuditEvent(
            federation_id=federation_id,
            action="leave asked",
            detail=f"{clinician_id} asked for {CATEGORIES[form.category].lower()} "
            f"{form.first} to {form.last} (link …{hint})",
        )
    )
    db.flush()
    return row


def withdraw(db: DbSession, row: LeaveRequest, hint: str) -> None:
    """The clinician takes back a pending request."""
    changed = db.execute(
        update(LeaveRequest)
        .where(LeaveRequest.id == row.id, LeaveRequest.status == "pending")
        .values(status="withdrawn", decided_at=utcnow())
    ).rowcount
    if not changed:
        db.refresh(row)
        raise LeaveRefused(f"This request was already {row.status}: it cannot be withdrawn.")
    db.add(
        AuditEvent(
            federation_id=row.federation_id,
            action="leave withdrawn",
            detail=f"{row.clinician_id} withdrew leave {row.first_day} to {row.last_day} "
            f"(link …{hint})",
        )
    )


def decide(
    db: DbSession,
    federation: Federation,
    row: LeaveRequest,
    user_id: int,
    approve: bool,
    note: str,
) -> int | None:
    """Approve (recording the Absence) or decline; the id of the clinician's e-mail, if any.
    Raises LeaveRefused when the request was decided or withdrawn meanwhile."""
    status = "approved" if approve else "declined"
    note = note.strip()[:NOTE_CHARS]
    changed = db.execute(
        update(LeaveRequest)
        .where(LeaveRequest.id == row.id, LeaveRequest.status == "pending")
        .values(status=status, decided_at=utcnow(), decided_by_id=user_id, decision_note=note)
    ).rowcount
    if not changed:
        db.rollback()
        db.refresh(row)
        raise LeaveRefused(
            f"This request was already {row.status}"
            + (f" by {row.decided_by.email}" if row.decided_by else "")
            + ": nothing was changed."
        )
    db.refresh(row)
    if approve:
        absence = Absence(
            federation_id=federation.id,
            clinician_id=row.clinician_id,
            first_day=row.first_day,
            last_day=row.last_day,
            reason=f"{CATEGORIES.get(row.category, row.category)} (asked by the clinician)",
            created_by_id=user_id,
        )
        db.add(absence)
        db.flush()
        row.absence_id = absence.id
    db.add(
        AuditEvent(
            federation_id=federation.id,
            user_id=user_id,
            action="leave " + status,
            detail=f"{status} {row.clinician_id}'s leave {row.first_day} to {row.last_day}"
            + (f": {note}" if note else ""),
        )
    )
    person = _clinician(db, federation.id, row.clinician_id)
    message = mail.queue(
        db,
        federation,
        row.clinician_id,
        person.email if person else "",
        "leave",
        "leave",
        name=person.name if person else row.clinician_id,
        approved=approve,
        days=days_text(row.first_day, row.last_day),
        category=CATEGORIES.get(row.category, row.category),
        note=note,
    )
    db.flush()
    return message.id if message else None


def _clinician(db: DbSession, federation_id: int, clinician_id: str):
    dataset = current_dataset(db, federation_id)
    if dataset is None:
        return None
    return loaded(dataset).problem.clinicians_by_id.get(clinician_id)


def pending(db: DbSession, federation_id: int) -> list[LeaveRequest]:
    return list(
        db.scalars(
            select(LeaveRequest)
            .where(LeaveRequest.federation_id == federation_id, LeaveRequest.status == "pending")
            .order_by(LeaveRequest.first_day, LeaveRequest.id)
        )
    )


def decided(db: DbSession, federation_id: int, since_days: int = 60) -> list[LeaveRequest]:
    return list(
        db.scalars(
            select(LeaveRequest)
            .where(
                LeaveRequest.federation_id == federation_id,
                LeaveRequest.status != "pending",
                LeaveRequest.created_at >= utcnow() - timedelta(days=since_days),
            )
            .order_by(LeaveRequest.id.desc())
            .limit(100)
        )
    )
