"""One upload at a time per user: reading and checking a workbook costs seconds of CPU, and a
user who sends the same upload again and again (or a script) must not take every worker.

The lock is a row of upload_lock keyed by the user, so it holds across worker processes; a
row older than STALE is a crashed request's and is taken over."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from web.models import UploadLock, utcnow

STALE = timedelta(minutes=5)


def acquire(db: DbSession, user_id: int) -> bool:
    """Take the user's upload lock; False while another of their uploads holds it."""
    db.execute(
        delete(UploadLock).where(
            UploadLock.user_id == user_id, UploadLock.started_at < utcnow() - STALE
        )
    )
    db.add(UploadLock(user_id=user_id, started_at=utcnow()))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        return False
    return True


def release(db: DbSession, user_id: int) -> None:
    db.rollback()  # whatever the request left unfinished
    db.execute(delete(UploadLock).where(UploadLock.user_id == user_id))
    db.commit()
