"""Broken rules said for people: weeks as 'the week of Mon 1 Mar', the session a booking clashes
with, a post by its roles. The checker's messages stay the engine's; this rewords them for pages.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Flask

from scheduler.checker import Violation, describe_session, format_day, roles_or
from scheduler.domain import Problem

ISO_WEEK = re.compile(r"\b(\d{4})-W(\d{2})\b")
POST = re.compile(r"\bpost (\d+) \(([^)]*)\)")


def init_app(app: Flask) -> None:
    """`{{ v|in_words(problem, session_id) }}` in templates."""
    app.jinja_env.filters["in_words"] = in_words


def in_words(v: Violation, problem: Problem | None, here: str | None = None) -> str:
    """The violation's message in words; `here` is the session the page is about, so that an
    overlap names the other session."""
    if problem is None:
        return v.message
    if v.rule == "overlap":
        other = _other_session(v, here)
        if other is not None and other in problem.sessions_by_id:
            clash = describe_session(problem, problem.session(other), year=True)
            return f"already booked on {clash}, which overlaps"
    if v.rule == "post_capacity" and v.session_id in problem.sessions_by_id:
        session = problem.session(v.session_id)
        found = POST.search(v.message)
        if found and int(found.group(1)) < len(session.posts):
            post = session.posts[int(found.group(1))]
            rest = v.message[found.end() :].lstrip()
            return f"the {roles_or(post)} post {rest}".rstrip()
    return ISO_WEEK.sub(_week_words, v.message)


def _other_session(v: Violation, here: str | None) -> str | None:
    sessions = [s for s in (v.session_id, *v.related) if s is not None]
    others = [s for s in sessions if s != here] if here else list(v.related)
    return others[0] if others else None


def _week_words(found: re.Match) -> str:
    monday = date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
    return f"the week of {format_day(monday)}"
