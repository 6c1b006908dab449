"""Private-link tokens kept sealed, so mail can carry a clinician's link.

The feed-link table keeps a token's SHA-256 (to find the link) and, beside it, the token
encrypted with Fernet (AES-128-CBC with HMAC-SHA256, from the `cryptography` library) under a
key derived from the app's SECRET_KEY. The key never goes into the database: a copy of the
database alone reveals no working link. A changed SECRET_KEY makes old seals unreadable; mail
then says to ask the coordinator for the link instead of carrying it.
"""

from __future__ import annotations

import base64
from hashlib import sha256

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

PURPOSE = b"hubrota private-link seal v1\x00"


def _fernet() -> Fernet:
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return Fernet(base64.urlsafe_b64encode(sha256(PURPOSE + secret).digest()))


def seal(token: str) -> str:
    return _fernet().encrypt(token.encode("ascii")).decode("ascii")


def unseal(sealed: str | None) -> str | None:
    """The token, or None when there is none or it was sealed under another key."""
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        return None
