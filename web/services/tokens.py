"""Personal access tokens of the JSON API (web.api): made, found, listed and revoked.

- A token is `hrt_` and 256 random bits from `secrets`, shown once; the database keeps only its
  SHA-256 (looked up by hash, then compared with hmac.compare_digest) and its last 4
  characters. 256 random bits need no slow hash: nobody can guess them, and SHA-256 keeps a
  stolen table useless.
- A token's role is at most its owner's, and what a request may do is the lower of the token's
  role and the owner's role now (an owner demoted later takes their tokens down too).
- A token expires (1 to MAX_DAYS days) and can be revoked; a deactivated user's tokens stop.
- Secrets are masked in the app's and Werkzeug's logs wherever they appear (a token pasted into
  a URL by mistake is not written down).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from web.models import ROLES, ApiToken, User, utcnow

PREFIX = "hrt_"
TOKEN_BYTES = 32
HINT_CHARS = 4
DEFAULT_DAYS = 90
MAX_DAYS = 366
MAX_NAME = 100
SHAPE = re.compile(r"hrt_[A-Za-z0-9_-]{20,80}")


class TokenRefused(ValueError):
    """A token that cannot be made so; `field` names the setting at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class Issued:
    token: ApiToken
    secret: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return sha256(secret.encode("utf-8")).hexdigest()


def lower_role(a: str, b: str) -> str:
    return a if ROLES.index(a) <= ROLES.index(b) else b


def create_token(
    db: DbSession,
    user: User,
    *,
    name: str = "",
    role: str | None = None,
    days: int | None = DEFAULT_DAYS,
    created_by: User | None = None,
) -> Issued:
    """A new token of `user`; raises TokenRefused for a role above the user's, or an expiry
    outside 1..MAX_DAYS days."""
    role = role or user.role
    if role not in ROLES:
        raise TokenRefused("role", f"role must be one of {', '.join(ROLES)}")
    if not user.may(role):
        raise TokenRefused(
            "role", f"a token's role is at most its owner's ({user.role}), not {role}"
        )
    days = DEFAULT_DAYS if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise TokenRefused("expires_days", f"a token expires after 1 to {MAX_DAYS} days")
    name = name.strip()
    if len(name) > MAX_NAME:
        raise TokenRefused("name", f"a token's name is at most {MAX_NAME} characters")
    secret = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(
        user_id=user.id,
        federation_id=user.federation_id,
        name=name,
        role=role,
        token_hash=hash_secret(secret),
        token_hint=secret[-HINT_CHARS:],
        created_by_id=(created_by or user).id,
        expires_at=utcnow() + timedelta(days=days),
    )
    token.user = user
    db.add(token)
    db.flush()
    return Issued(token, secret)


def find_token(db: DbSession, secret: str, now: datetime | None = None) -> ApiToken | None:
    """The usable token of this secret (not expired, not revoked, its owner active), else
    None."""
    if not SHAPE.fullmatch(secret):
        return None
    digest = hash_secret(secret)
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    return token if token.usable(now or utcnow()) else None


def effective_role(token: ApiToken) -> str:
    return lower_role(token.role, token.user.role)


def tokens_of(db: DbSession, user: User) -> list[ApiToken]:
    return list(
        db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc()))
    )


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def mask(text: str) -> str:
    return SHAPE.sub(PREFIX + "[secret]", text)


class MaskApiTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask(a) if isinstance(a, str) else a for a in record.args)
        return True


def init_app(app: Flask) -> None:
    names = ("werkzeug", "gunicorn.access", "gunicorn.error")
    for logger in (*(logging.getLogger(n) for n in names), app.logger):
        if not any(isinstance(f, MaskApiTokens) for f in logger.filters):
            logger.addFilter(MaskApiTokens())
