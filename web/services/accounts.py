"""Users and federations: password hashing, new users, a federation found or made by its slug."""

from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import select
from werkzeug.security import generate_password_hash
from zxcvbn import zxcvbn

from web.models import ROLES, Federation, User

MIN_PASSWORD = 10
# zxcvbn's score 3 means about 10^8 guesses: out of reach of the common-password, word and
# pattern lists it knows (leaked passwords, names, keyboard walks, repeats, dates).
MIN_PASSWORD_SCORE = 3
MAX_CHECKED = 100  # zxcvbn's time grows with the length; longer passwords are strong anyway


def password_problem(password: str, *, email: str = "", name: str = "") -> str:
    """Why `password` may not be used, or "": at least MIN_PASSWORD characters and not easy to
    guess (common and leaked passwords, words, repeats, the user's own email or name)."""
    if len(password) < MIN_PASSWORD:
        return f"A password needs at least {MIN_PASSWORD} characters."
    hints = [part for part in (email, email.split("@")[0], name) if part]
    result = zxcvbn(password[:MAX_CHECKED], user_inputs=hints)
    if result["score"] < MIN_PASSWORD_SCORE:
        hint = result["feedback"].get("warning") or "It is too easy to guess."
        return (
            f"That password is too easy to guess: {hint.rstrip('.')}. Use a few unrelated "
            "words, or a password manager's random password."
        )
    return ""


def hash_password(password: str) -> str:
    """werkzeug's default (scrypt) unless PASSWORD_HASH_METHOD says otherwise (tests use a
    cheap one so that seeding users stays fast)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
    return generate_password_hash(password, method=method or "scrypt")


def create_user(
    db, *, federation: Federation, email: str, password: str, role: str, name: str = ""
) -> User:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    user = User(
        federation_id=federation.id,
        email=email.strip().casefold(),
        name=name,
        role=role,
        password_hash=hash_password(password),
        active=True,
    )
    db.add(user)
    return user


def ensure_federation(
    db, slug: str, name: str | None = None, time_limit: int | None = None
) -> Federation:
    federation = db.scalar(select(Federation).where(Federation.slug == slug))
    if federation is None:
        federation = Federation(slug=slug, name=name or slug, time_limit_seconds=time_limit or 20)
        db.add(federation)
        db.flush()
    return federation
