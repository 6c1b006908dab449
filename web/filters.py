"""Template filters and globals: dates and times the way the rota is read in the UK.

Every time a person reads goes through `when`: Europe/London local time, GMT or BST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import Flask, g

from scheduler.checker import format_day

LONDON = ZoneInfo("Europe/London")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["day"] = _day
    app.jinja_env.filters["dayyear"] = lambda d: format_day(d) if d else ""
    app.jinja_env.filters["clock"] = _clock
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["minutes"] = _minutes
    app.jinja_env.filters["week_of"] = week_of
    app.jinja_env.filters["pct"] = lambda x: f"{100 * x:.0f}%"
    app.context_processor(_globals)


def _day(value: date | None) -> str:
    return format_day(value, year=False) if value else ""


def _clock(value: time | None) -> str:
    return f"{value:%H:%M}" if value else ""


def when(value: datetime | None) -> str:
    """A moment as a person in the UK reads it: '7 Dec 2026 22:16 GMT', '1 Jun 2027 09:05 BST'.

    The database keeps naive UTC (web.models.utcnow); an aware value is converted as it is."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    local = aware.astimezone(LONDON)
    return f"{local.day} {local:%b %Y %H:%M %Z}"


def week_of(iso_week: str) -> str:
    """'2027-W09' → 'week of Mon 1 Mar 2027' (the text unchanged if it is no ISO week)."""
    try:
        year, week = iso_week.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        return iso_week
    return f"week of {format_day(monday)}"


def _minutes(value: int) -> str:
    hours, minutes = divmod(int(value), 60)
    return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"


def _globals() -> dict:
    user = g.get("user")
    return {
        "current_user": user,
        "federation": g.get("federation"),
        "may": (lambda role: user is not None and user.may(role)),
    }
