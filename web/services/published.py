"""Published versions: numbered, immutable copies of a rota (who, when, why). The calendar
feeds and absence re-runs start from the latest one."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session as DbSession

from scheduler.domain import Assignment, Problem, Rota
from web.db import EXTENSION as DB_EXTENSION
from web.models import AuditEvent, PublishedAssignment, PublishedVersion
from web.models import Rota as RotaRow
from web.services.current_rota import current_rota, rota_of


class ImmutableVersion(Exception):
    """A published version was about to be changed or deleted."""


def init_app(app: Flask) -> None:
    """Refuse, in every session of the app, to change or delete a published version."""
    event.listen(app.extensions[DB_EXTENSION], "before_flush", _guard_versions)


def _guard_versions(session: DbSession, _context, _instances) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, PublishedVersion | PublishedAssignment) and (
            obj in session.deleted or session.is_modified(obj, include_collections=False)
        ):
            raise ImmutableVersion(f"published versions never change ({obj!r})")


def latest_version(db: DbSession, federation_id: int) -> PublishedVersion | None:
    return db.scalar(
        select(PublishedVersion)
        .where(PublishedVersion.federation_id == federation_id)
        .order_by(PublishedVersion.number.desc())
        .limit(1)
    )


def version_rota(version: PublishedVersion | None) -> Rota:
    if version is None:
        return ()
    return tuple(
        sorted(
            Assignment(a.session_id, a.post_index, a.clinician_id, a.locked)
            for a in version.assignments
        )
    )


def rerun_base(db: DbSession, federation_id: int, problem: Problem) -> tuple[Rota, str]:
    """What an absence re-run starts from: the latest published version, with the current
    rota's pins added (pins made since publishing stay hard); before any publish, the current
    rota."""
    version = latest_version(db, federation_id)
    current = rota_of(current_rota(db, federation_id))
    if version is None:
        return current, "the current rota"
    base = {(a.session_id, a.clinician_id): a for a in version_rota(version)}
    for a in current:
        if a.locked:
            base[(a.session_id, a.clinician_id)] = a
    return tuple(sorted(base.values())), f"published version {version.number}"


def publish(
    db: DbSession, federation_id: int, user_id: int | None, row: RotaRow, note: str
) -> PublishedVersion:
    """A new version holding a copy of `row`'s assignments; raises IntegrityError when another
    publish took the number at the same moment."""
    number = (
        db.scalar(
            select(func.max(PublishedVersion.number)).where(
                PublishedVersion.federation_id == federation_id
            )
        )
        or 0
    ) + 1
    version = PublishedVersion(
        federation_id=federation_id,
        number=number,
        rota_id=row.id,
        rota_revision=row.revision,
        dataset_id=row.dataset_id,
        published_by_id=user_id,
        note=note,
    )
    version.assignments = [
        PublishedAssignment(
            session_id=a.session_id,
            post_index=a.post_index,
            clinician_id=a.clinician_id,
            locked=a.locked,
        )
        for a in sorted(row.assignments, key=lambda a: (a.session_id, a.clinician_id))
    ]
    db.add(version)
    db.add(
        AuditEvent(
            federation_id=federation_id,
            user_id=user_id,
            action="publish",
            detail=f"published version {number} from rota {row.id} "
            f"(revision {row.revision}): {note}",
        )
    )
    db.flush()
    return version
