"""Give-aways: a clinician offers a published session; colleagues who could take it without
breaking a hard rule (web.services.eligible, judged by scheduler.checker) see it and one
accepts; a coordinator approves (or the federation approves rule-clean ones by itself), which
publishes a new version with the post handed over.

Every step is a conditional UPDATE from the status before it, so two colleagues accepting at the
same moment give one winner, and the other is told. Approval re-checks the taker against the
latest published version, so a rota that changed meanwhile is never published broken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as DbSession

from scheduler.domain import Assignment, Problem, Rota
from web.models import (
    AuditEvent,
    Federation,
    PublishedAssignment,
    PublishedVersion,
    SwapOffer,
    utcnow,
)
from web.services import mail
from web.services.current_rota import (
    current_rota,
    effective_problem,
    find,
    record,
    swap_violations,
)
from web.services.eligible import could_take, eligible
from web.services.published import latest_version, version_rota

NOTE_CHARS = 300


class SwapRefused(ValueError):
    """Why an offer, an acceptance or a decision cannot go ahead; nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Published:
    version: PublishedVersion
    problem: Problem
    rota: Rota


def published(db: DbSession, federation_id: int) -> Published | None:
    """The latest published version, its data with the recorded absences, and its rota."""
    version = latest_version(db, federation_id)
    if version is None:
        return None
    return Published(
        version, effective_problem(db, federation_id, version.dataset), version_rota(version)
    )


def _assignment(rota: Rota, session_id: str, clinician_id: str) -> Assignment | None:
    return next(
        (a for a in rota if a.session_id == session_id and a.clinician_id == clinician_id), None
    )


def _name(problem: Problem, clinician_id: str | None) -> str:
    person = problem.clinicians_by_id.get(clinician_id or "")
    return person.name if person else (clinician_id or "")


def _rules(found) -> str:
    return ", ".join(sorted({v.rule for v in found}))


def upcoming(db: DbSession, federation_id: int, clinician_id: str, today: date) -> list[dict]:
    """The clinician's published sessions from today on, each with its open offer, if any."""
    state = published(db, federation_id)
    if state is None:
        return []
    offers = {
        o.session_id: o
        for o in db.scalars(
            select(SwapOffer).where(
                SwapOffer.federation_id == federation_id,
                SwapOffer.clinician_id == clinician_id,
                SwapOffer.status.in_(("open", "accepted")),
            )
        )
    }
    out = []
    for a in state.rota:
        s = state.problem.sessions_by_id.get(a.session_id)
        if a.clinician_id != clinician_id or s is None or s.date < today:
            continue
        out.append(
            {
                "assignment": a,
                "line": mail.session_line([state.problem], a.session_id),
                "offer": offers.get(a.session_id),
                "order": s.start_minute,
            }
        )
    return sorted(out, key=lambda x: x["order"])


def offer(
    db: DbSession,
    federation: Federation,
    clinician_id: str,
    session_id: str,
    note: str,
    hint: str,
    today: date,
) -> tuple[SwapOffer, list[int]]:
    """A new open offer and the ids of the e-mails telling the colleagues who could take it."""
    state = published(db, federation.id)
    if state is None:
        raise SwapRefused("Nothing is published yet: there is no session to offer.")
    given = _assignment(state.rota, session_id, clinician_id)
    if given is None:
        raise SwapRefused("You are not on that session in the published rota.")
    session = state.problem.sessions_by_id.get(session_id)
    if session is None or session.date < today:
        raise SwapRefused("That session has passed.")
    if given.locked:
        raise SwapRefused(
            "Your coordinator pinned you to that session: ask them if you cannot work it."
        )
    note = note.strip()
    if len(note) > NOTE_CHARS:
        raise SwapRefused(f"Note: at most {NOTE_CHARS} characters.")
    if db.scalar(
        select(SwapOffer.id).where(
            SwapOffer.federation_id == federation.id,
            SwapOffer.clinician_id == clinician_id,
            SwapOffer.session_id == session_id,
            SwapOffer.status.in_(("open", "accepted")),
        )
    ):
        raise SwapRefused("You have already offered that session.")
    candidates = eligible(state.problem, state.rota, given)
    if not candidates:
        raise SwapRefused(
            "No colleague could take that session without breaking a rota rule: ask your "
            "coordinator."
        )
    row = SwapOffer(
        federation_id=federation.id,
        version_number=state.version.number,
        session_id=session_id,
        post_index=given.post_index,
        clinician_id=clinician_id,
        note=note,
        status="open",
    )
    db.add(row)
    line = mail.session_line([state.problem], session_id)
    db.add(
        AuditEvent(
            federation_id=federation.id,
            action="swap offered",
            detail=f"{clinician_id} offered {session_id} to {len(candidates)} colleague(s) "
            f"(link …{hint})",
        )
    )
    messages = [
        mail.queue(
            db,
            federation,
            c.clinician.clinician_id,
            c.clinician.email,
            "swap",
            "swap_offered",
            name=c.clinician.name,
            giver=_name(state.problem, clinician_id),
            session=line,
            note=note,
        )
        for c in candidates
    ]
    db.flush()
    return row, [m.id for m in messages if m is not None]


def offers_for(
    db: DbSession, federation_id: int, clinician_id: str, today: date | None = None
) -> list[dict]:
    """Open offers of others that this clinician could take now, soonest first, each with the
    clinician's own sessions they could give in return (a swap breaking no hard rule)."""
    rows = db.scalars(
        select(SwapOffer).where(
            SwapOffer.federation_id == federation_id,
            SwapOffer.status == "open",
            SwapOffer.clinician_id != clinician_id,
        )
    ).all()
    if not rows:
        return []
    state = published(db, federation_id)
    if state is None:
        return []
    out = []
    for o in rows:
        given = _assignment(state.rota, o.session_id, o.clinician_id)
        if given is None or could_take(state.problem, state.rota, given, clinician_id):
            continue
        out.append(
            {
                "offer": o,
                "giver": _name(state.problem, o.clinician_id),
                "line": mail.session_line([state.problem], o.session_id),
                "order": state.problem.session(o.session_id).start_minute,
                "returns": [
                    (b.session_id, mail.session_line([state.problem], b.session_id))
                    for b in _returns(state, given, clinician_id, today)
                ],
            }
        )
    return sorted(out, key=lambda x: x["order"])


def _returns(state: Published, given: Assignment, clinician_id: str, today: date | None):
    """The clinician's own published sessions the giver could take in exchange."""
    out = []
    for b in state.rota:
        s = state.problem.sessions_by_id.get(b.session_id)
        if (
            b.clinician_id != clinician_id
            or b.locked
            or s is None
            or (today is not None and s.date < today)
            or b.session_id == given.session_id
        ):
            continue
        if not swap_violations(state.problem, state.rota, given, b):
            out.append(b)
    return sorted(out, key=lambda b: state.problem.session(b.session_id).start_minute)


def accept(
    db: DbSession,
    federation: Federation,
    offer_id: int,
    clinician_id: str,
    hint: str,
    in_return: str = "",
) -> tuple[SwapOffer, PublishedVersion | None, list[int]]:
    """The colleague takes the offer, as it is or giving their session `in_return` (a swap):
    (the offer, the version published when the federation approves rule-clean hand-overs by
    itself, e-mail ids). Raises SwapRefused."""
    row = db.get(SwapOffer, offer_id)
    if row is None or row.federation_id != federation.id or row.clinician_id == clinician_id:
        raise SwapRefused("There is no such offer.")
    if row.status != "open":
        raise SwapRefused(_gone(row, clinician_id))
    state = published(db, federation.id)
    given = _assignment(state.rota, row.session_id, row.clinician_id) if state else None
    if state is None or given is None:
        raise SwapRefused("The published rota has changed: that offer no longer stands.")
    found = could_take(state.problem, state.rota, given, clinician_id)
    if found:
        raise SwapRefused(
            f"You cannot take that session: it would break the rota rules ({_rules(found)})."
        )
    back = None
    if in_return:
        back = _assignment(state.rota, in_return, clinician_id)
        if back is None or back.locked:
            raise SwapRefused("The session you offered in return is not one of yours to give.")
        found = swap_violations(state.problem, state.rota, given, back)
        if found:
            raise SwapRefused(
                f"{_name(state.problem, row.clinician_id)} cannot take that session in return: "
                f"it would break the rota rules ({_rules(found)})."
            )
    won = db.execute(
        update(SwapOffer)
        .where(SwapOffer.id == row.id, SwapOffer.status == "open")
        .values(
            status="accepted",
            taken_by=clinician_id,
            taken_at=utcnow(),
            return_session_id=back.session_id if back else None,
            return_post_index=back.post_index if back else None,
        )
    ).rowcount
    if not won:
        db.rollback()
        row = db.get(SwapOffer, offer_id)
        db.refresh(row)
        raise SwapRefused(_gone(row, clinician_id))
    db.refresh(row)
    db.add(
        AuditEvent(
            federation_id=federation.id,
            action="swap accepted",
            detail=f"{clinician_id} accepted {row.clinician_id}'s {row.session_id} (link …{hint})",
        )
    )
    if federation.swap_auto_approve:
        version = approve(db, federation, row, None, "approved automatically: breaks no rule")
        return row, version, []
    giver = state.problem.clinicians_by_id.get(row.clinician_id)
    message = mail.queue(
        db,
        federation,
        row.clinician_id,
        giver.email if giver else "",
        "swap",
        "swap_taken",
        name=giver.name if giver else row.clinician_id,
        taker=_name(state.problem, clinician_id),
        session=mail.session_line([state.problem], row.session_id),
        back=mail.session_line([state.problem], back.session_id) if back else None,
    )
    db.flush()
    return row, None, [message.id] if message else []


def _gone(row: SwapOffer, clinician_id: str) -> str:
    if row.status in ("accepted", "approved"):
        if row.taken_by == clinician_id:
            return "You have already accepted that session."
        return "A colleague accepted that session first: nothing changed for you."
    return f"That offer was {row.status}: nothing changed."


def approve(
    db: DbSession, federation: Federation, row: SwapOffer, user_id: int | None, note: str
) -> PublishedVersion:
    """Publish the hand-over as a new version (and make the same change to the current rota,
    when it still has the giver there). Raises SwapRefused when the rota changed meanwhile so
    that the taker could no longer take it."""
    done = db.execute(
        update(SwapOffer)
        .where(SwapOffer.id == row.id, SwapOffer.status == "accepted")
        .values(status="approved", decided_at=utcnow(), decided_by_id=user_id)
    ).rowcount
    if not done:
        db.refresh(row)
        raise SwapRefused(f"That offer is {row.status}: nothing was changed.")
    state = published(db, federation.id)
    given = _assignment(state.rota, row.session_id, row.clinician_id) if state else None
    if state is None or given is None:
        raise SwapRefused("The published rota has changed: the giver is no longer on it.")
    back = (
        _assignment(state.rota, row.return_session_id, row.taken_by or "")
        if row.return_session_id
        else None
    )
    if row.return_session_id and back is None:
        raise SwapRefused(
            "The published rota has changed: the session given in return is no longer "
            f"{_name(state.problem, row.taken_by)}'s. Decline the offer."
        )
    found = (
        swap_violations(state.problem, state.rota, given, back)
        if back
        else could_take(state.problem, state.rota, given, row.taken_by or "")
    )
    if found:
        raise SwapRefused(
            f"{_name(state.problem, row.taken_by)} can no longer take it: the rota rules "
            f"({_rules(found)}) would break. Decline the offer."
        )
    number = (
        db.scalar(
            select(func.max(PublishedVersion.number)).where(
                PublishedVersion.federation_id == federation.id
            )
        )
        or 0
    ) + 1
    text = (
        f"{_name(state.problem, row.clinician_id)} gave "
        f"{mail.session_line([state.problem], row.session_id).text} to "
        f"{_name(state.problem, row.taken_by)}"
    )
    if back:
        text += f" for {mail.session_line([state.problem], back.session_id).text}"
    label = "Swap" if back else "Give-away"
    version = PublishedVersion(
        federation_id=federation.id,
        number=number,
        rota_id=None,
        rota_revision=0,
        dataset_id=state.version.dataset_id,
        published_by_id=user_id,
        note=f"{label}: {text}" + (f" ({note})" if note else ""),
    )
    version.assignments = [
        PublishedAssignment(
            session_id=a.session_id,
            post_index=a.post_index,
            clinician_id=row.taken_by
            if a == given
            else (row.clinician_id if a == back else a.clinician_id),
            locked=False if a in (given, back) else a.locked,
        )
        for a in state.rota
    ]
    db.add(version)
    db.flush()
    row.result_version = number
    row.decision_note = note[:500]
    current = current_rota(db, federation.id)
    if current is not None:
        moves = [(given, row.taken_by)] + ([(back, row.clinician_id)] if back else [])
        kept = [(find(current, a.session_id, a.clinician_id), a, to) for a, to in moves]
        if all(k is not None and k.post_index == a.post_index for k, a, _ in kept):
            for k, _, to in kept:
                k.clinician_id, k.locked = to or k.clinician_id, False
            record(db, current, user_id, "swap", f"{label.lower()}: {text}")
    db.add(
        AuditEvent(
            federation_id=federation.id,
            user_id=user_id,
            action="publish",
            detail=f"published version {number}: {label.lower()}: {text}",
        )
    )
    db.flush()
    return version


def decline(
    db: DbSession, federation: Federation, row: SwapOffer, user_id: int, note: str
) -> list[int]:
    """The coordinator says no; giver and taker are told. Raises SwapRefused when decided."""
    done = db.execute(
        update(SwapOffer)
        .where(SwapOffer.id == row.id, SwapOffer.status.in_(("open", "accepted")))
        .values(status="declined", decided_at=utcnow(), decided_by_id=user_id, decision_note=note)
    ).rowcount
    if not done:
        db.refresh(row)
        raise SwapRefused(f"That offer is {row.status}: nothing was changed.")
    db.refresh(row)
    db.add(
        AuditEvent(
            federation_id=federation.id,
            user_id=user_id,
            action="swap declined",
            detail=f"declined {row.clinician_id}'s give-away of {row.session_id}"
            + (f" to {row.taken_by}" if row.taken_by else "")
            + (f": {note}" if note else ""),
        )
    )
    state = published(db, federation.id)
    problem = state.problem if state else None
    ids = []
    for cid in filter(None, (row.clinician_id, row.taken_by)):
        person = problem.clinicians_by_id.get(cid) if problem else None
        if person is None:
            continue
        message = mail.queue(
            db,
            federation,
            cid,
            person.email,
            "swap",
            "swap_declined",
            name=person.name,
            session=mail.session_line([problem], row.session_id),
            note=note,
            giving=cid == row.clinician_id,
        )
        if message:
            ids.append(message)
    db.flush()
    return [m.id for m in ids]


def withdraw(db: DbSession, row: SwapOffer, hint: str) -> None:
    done = db.execute(
        update(SwapOffer)
        .where(SwapOffer.id == row.id, SwapOffer.status == "open")
        .values(status="withdrawn", decided_at=utcnow())
    ).rowcount
    if not done:
        db.refresh(row)
        if row.status == "accepted":
            raise SwapRefused(
                "A colleague has already accepted it: ask your coordinator to decline it if you "
                "can work the session after all."
            )
        raise SwapRefused(f"That offer was {row.status}: nothing changed.")
    db.add(
        AuditEvent(
            federation_id=row.federation_id,
            action="swap withdrawn",
            detail=f"{row.clinician_id} withdrew the offer of {row.session_id} (link …{hint})",
        )
    )


def waiting(db: DbSession, federation_id: int) -> list[SwapOffer]:
    return list(
        db.scalars(
            select(SwapOffer)
            .where(SwapOffer.federation_id == federation_id)
            .order_by(SwapOffer.status != "accepted", SwapOffer.id.desc())
            .limit(100)
        )
    )
