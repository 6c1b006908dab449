"""Who a request of the JSON API is: a personal access token sent as `Authorization: Bearer`.

The session cookie never authenticates the API, so the API needs no CSRF token (a browser
cannot be made to send a bearer header to another site). The token's user and federation go on
`g` as the pages have them, so the same services and the same federation scoping apply.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import g, request

from web.api.problems import Problem
from web.db import get_db
from web.models import ROLES, utcnow
from web.services.tokens import effective_role, find_token

PREFIX = "/api/"
OPEN_ENDPOINTS = {"api-docs.openapi_json", "api_docs.page"}  # the API's own documentation
LAST_USED_EVERY = timedelta(minutes=1)


def authenticate() -> None:
    """A before_request of the app: every API endpoint but the documentation needs a token."""
    if not request.path.startswith(PREFIX) or request.endpoint in OPEN_ENDPOINTS:
        return
    if request.endpoint is None:  # no such URL: 404 (or 405) as a problem document
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    g.user = g.federation = g.api_token = None
    if scheme.casefold() != "bearer" or not secret.strip():
        raise Problem(
            401,
            "Send a personal access token as `Authorization: Bearer <token>`.",
            kind="unauthenticated",
            headers={"WWW-Authenticate": 'Bearer realm="hubrota"'},
        )
    db = get_db()
    token = find_token(db, secret.strip())
    if token is None:
        raise Problem(
            401,
            "The token is unknown, expired or revoked.",
            kind="invalid-token",
            headers={"WWW-Authenticate": 'Bearer realm="hubrota", error="invalid_token"'},
        )
    g.api_token, g.user, g.federation = token, token.user, token.user.federation
    g.api_role = effective_role(token)
    now = utcnow()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_EVERY:
        token.last_used_at = now
        db.commit()


def requires(role: str) -> Callable:
    """The token (and its owner, now) must have at least `role`, else 403."""
    if role not in ROLES:
        raise ValueError(role)

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if ROLES.index(g.api_role) < ROLES.index(role):
                raise Problem(
                    403,
                    f"This needs a {role}'s token; this one is a {g.api_role}'s.",
                    kind="forbidden",
                )
            return view(*args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped

    return decorator
