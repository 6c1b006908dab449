"""Login sessions kept on the server (web.models.LoginSession).

The signed cookie holds only a random key; the row behind it says whose session it is and
when it was opened and last used. A session ends when the user logs out (its row goes), when
their password changes or they are switched off (all their rows go), after SESSION_IDLE_MINUTES
without a request, and SESSION_MAX_HOURS after logging in however busy it is. A copy of an old
cookie therefore opens nothing once its row is gone.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from hashlib import sha256

from flask import current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as DbSession

from web.models import LoginSession, User, utcnow

KEY_BYTES = 32
# How often last_seen_at is written: reading a page stays a read, and the idle limit is still
# kept to the minute.
SEEN_EVERY = timedelta(minutes=1)


def _hash(key: str) -> str:
    return sha256(key.encode("utf-8")).hexdigest()


def _limits() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(minutes=float(config["SESSION_IDLE_MINUTES"])),
        timedelta(hours=float(config["SESSION_MAX_HOURS"])),
    )


def open_session(db: DbSession, user: User) -> str:
    """A new session of `user`; returns the key for the cookie (only its hash is kept)."""
    idle, most = _limits()
    now = utcnow()
    db.execute(  # sessions that ended by time, everybody's: the table stays small
        delete(LoginSession).where(
            or_(LoginSession.last_seen_at < now - idle, LoginSession.created_at < now - most)
        )
    )
    key = secrets.token_urlsafe(KEY_BYTES)
    db.add(LoginSession(user_id=user.id, key_hash=_hash(key), created_at=now, last_seen_at=now))
    return key


def user_of(db: DbSession, key: str | None) -> User | None:
    """The active user whose live session `key` is, else None (an ended session's row goes)."""
    if not key or not isinstance(key, str):
        return None
    row = db.scalar(select(LoginSession).where(LoginSession.key_hash == _hash(key)))
    if row is None:
        return None
    idle, most = _limits()
    now = utcnow()
    user = db.get(User, row.user_id)
    ended = now - row.last_seen_at > idle or now - row.created_at > most
    if user is None or not user.active or ended:
        db.delete(row)
        db.commit()
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
        try:
            db.commit()
        except OperationalError:  # a busy database: the next request notes it
            db.rollback()
    return user


def close_session(db: DbSession, key: str | None) -> None:
    if key and isinstance(key, str):
        db.execute(delete(LoginSession).where(LoginSession.key_hash == _hash(key)))
        db.commit()


def end_all(db: DbSession, user_id: int, keep: str | None = None) -> None:
    """End every session of a user (password changed, user switched off), except `keep`: the
    session of the user who changed their own password. The caller commits."""
    query = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep:
        query = query.where(LoginSession.key_hash != _hash(keep))
    db.execute(query)
