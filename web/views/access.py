"""Which role opens which page: read from the views' own `role_required`, so the navigation,
the links on pages and the check that answers 403 never disagree."""

from __future__ import annotations

from flask import Flask, current_app, g

from web.models import ROLES


def role_for(endpoint: str) -> str | None:
    """The least role that may open `endpoint` (None: anyone logged in)."""
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "required_role", None)


def can_open(endpoint: str, role: str | None = None) -> bool:
    """Whether `role` (default: the logged-in user's) may open `endpoint`."""
    if role is None:
        user = g.get("user")
        if user is None:
            return False
        role = user.role
    needed = role_for(endpoint)
    return needed is None or ROLES.index(role) >= ROLES.index(needed)


def init_app(app: Flask) -> None:
    """`can_open('admin.settings')` in templates: links show only where they may be followed."""
    app.jinja_env.globals["can_open"] = can_open
