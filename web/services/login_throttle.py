"""Slowing down password guessing without locking owners out.

Failed logins are kept per (email, client address) in the database, so every worker process
sees the same counts. The first LOGIN_FREE_FAILURES failures of a pair cost nothing; after that
the pair must wait LOGIN_DELAY_SECONDS after its last failure, doubling with each further
failure up to LOGIN_MAX_DELAY_SECONDS. Within the wait every attempt answers 429 with
Retry-After and is not checked; after it the right password logs in as ever. Failures older
than LOGIN_WINDOW_SECONDS, or before the pair's last success, are forgotten.

Keying on the pair means a stranger's guesses slow neither the owner at another address nor
other people sharing the stranger's address (an office behind one router); behind a reverse
proxy the address is the client's only when HUBROTA_PROXIES says how many proxies to trust
(web.security).
"""

from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DbSession

from web.models import LoginAttempt, utcnow


def wait_seconds(db: DbSession, email: str, ip: str) -> int:
    """Whole seconds the pair must still wait before its next attempt is checked (0: none)."""
    config = current_app.config
    now = utcnow()
    since = now - timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    pair = (LoginAttempt.email == email[:254], LoginAttempt.ip == ip[:64])
    last_success = db.scalar(
        select(func.max(LoginAttempt.at)).where(*pair, LoginAttempt.succeeded.is_(True))
    )
    if last_success is not None and last_success > since:
        since = last_success
    count, last = db.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.at)).where(
            *pair, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since
        )
    ).one()
    beyond = (count or 0) - config["LOGIN_FREE_FAILURES"]
    if beyond < 0 or last is None:
        return 0
    delay = min(
        config["LOGIN_DELAY_SECONDS"] * 2 ** min(beyond, 30), config["LOGIN_MAX_DELAY_SECONDS"]
    )
    remaining = (last + timedelta(seconds=delay) - now).total_seconds()
    return max(0, math.ceil(remaining))


def record(db: DbSession, email: str, ip: str, succeeded: bool) -> None:
    """Note an attempt that was checked; attempts older than the window go."""
    since = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < since))
    db.add(LoginAttempt(email=email[:254], ip=ip[:64], succeeded=succeeded))
    db.commit()
