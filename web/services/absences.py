"""Absences: recorded with the re-run they start (one transaction, or nothing when a run of the
period is going), and withdrawn. The Absence page and the API both use these."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy.orm import Session as DbSession

from scheduler.checker import format_day
from scheduler.domain import Problem
from web.models import Absence, AuditEvent, Job
from web.services.current_rota import state
from web.services.jobs import start_run
from web.services.labels import people


def absence_error(
    problem: Problem | None, clinician_id: str, first: date | None, last: date | None, rota: bool
) -> tuple[str, str] | None:
    """Why the absence cannot be recorded, as (the field at fault, the page's and the API's
    words), else None."""
    if problem is None:
        return "", "Upload data first."
    if clinician_id not in problem.clinicians_by_id:
        return "clinician_id", "Choose a clinician."
    if first is None or last is None:
        return (
            "first" if first is None else "last"
        ), "Give the first and last day away (YYYY-MM-DD)."
    if last < first:
        return "last", f"The absence would end ({last}) before it starts ({first})."
    if last < problem.period_start or first > problem.period_end:
        return "first", (
            f"The rota period is {problem.period_start} to {problem.period_end}: "
            "this absence is outside it."
        )
    if not rota:
        return "", "There is no rota to re-run from yet: optimise first."
    return None


def record_absence(
    app: Flask,
    federation_id: int,
    user_id: int | None,
    clinician_id: str,
    first: date,
    last: date,
    reason: str,
    who: str | None = None,
) -> int:
    """Record the absence and start the re-run from the published rota; the run's id. Raises
    RunRefused (and records nothing) when a run of the period is going. `who` is the
    clinician's label for the audit log (web.services.labels; default their ID)."""

    def record(job_db, job: Job) -> None:
        job_db.add(
            Absence(
                federation_id=federation_id,
                clinician_id=clinician_id,
                first_day=first,
                last_day=last,
                reason=reason,
                created_by_id=user_id,
                job_id=job.id,
            )
        )
        job_db.add(
            AuditEvent(
                federation_id=federation_id,
                user_id=user_id,
                action="absence",
                detail=away(who or clinician_id, first, last) + (f" ({reason})" if reason else ""),
            )
        )

    return start_run(
        app,
        federation_id,
        user_id,
        "absence",
        detail={"clinician_id": clinician_id, "first": first.isoformat(), "last": last.isoformat()},
        on_created=record,
    )


def withdraw_absence(db: DbSession, row: Absence, user_id: int | None) -> None:
    problem = state(db, row.federation_id).problem
    who = row.clinician_id
    if problem is not None and row.clinician_id in problem.clinicians_by_id:
        who = people(problem)(row.clinician_id)
    db.add(
        AuditEvent(
            federation_id=row.federation_id,
            user_id=user_id,
            action="absence",
            detail=f"withdrew: {away(who, row.first_day, row.last_day)}",
        )
    )
    db.delete(row)
    db.commit()


def away(who: str, first: date, last: date) -> str:
    """'Dan Dee away Thu 4 Mar 2027', 'Dan Dee away Thu 4 Mar 2027 to Sat 6 Mar 2027'."""
    if first == last:
        return f"{who} away {format_day(first)}"
    return f"{who} away {format_day(first)} to {format_day(last)}"
