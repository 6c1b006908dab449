"""Small hand-checkable problems for tests: build domain objects with sensible defaults."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

from scheduler.domain import (
    Clinician,
    Hub,
    Offer,
    Pin,
    Post,
    Practice,
    Problem,
    Rules,
    Session,
    Status,
    Weights,
)

MONDAY = date(2027, 3, 1)  # a Monday; 2027-W09
SATURDAY = date(2027, 3, 6)


def practice(code: str = "P1", list_size: int = 10_000, **kw) -> Practice:
    return Practice(
        code=code,
        name=kw.pop("name", f"Practice {code}"),
        list_size=list_size,
        adjusted_population=kw.pop("adjusted_population", list_size),
        **kw,
    )


def hub(hub_id: str = "H1", **kw) -> Hub:
    return Hub(hub_id=hub_id, name=kw.pop("name", f"Hub {hub_id}"), **kw)


def clinician(cid: str = "C1", role: str = "GP", practice_code: str = "P1", **kw) -> Clinician:
    skills = kw.pop("skills", ())
    hubs = kw.pop("hubs", ())
    preferred_hubs = kw.pop("preferred_hubs", ())
    return Clinician(
        clinician_id=cid,
        name=kw.pop("name", f"Dr {cid}"),
        practice_code=practice_code,
        role=role,
        skills=frozenset(s.casefold() for s in skills),
        hubs=frozenset(hubs),
        preferred_hubs=frozenset(preferred_hubs),
        **kw,
    )


def post(
    roles: str = "GP", min: int = 1, target: int | None = None, skill: str | None = None
) -> Post:
    return Post(
        roles_text=roles,
        roles=frozenset(r.strip().casefold() for r in roles.split(";")),
        min=min,
        target=min if target is None else target,
        skill=skill.casefold() if skill else None,
    )


def session(
    day: date = MONDAY,
    start: str = "18:30",
    end: str = "20:00",
    hub_id: str = "H1",
    posts: tuple[Post, ...] | None = None,
) -> Session:
    return Session(
        hub_id=hub_id,
        date=day,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        posts=posts if posts is not None else (post(),),
    )


def evening(day: date, hub_id: str = "H1", *posts: Post) -> Session:
    return session(day, "18:30", "20:00", hub_id, posts or (post(),))


def saturday(day: date = SATURDAY, hub_id: str = "H1", *posts: Post) -> Session:
    return session(day, "09:00", "17:00", hub_id, posts or (post(),))


def problem(
    clinicians=None,
    sessions=None,
    practices=None,
    hubs=None,
    availability=None,
    rules: Rules | None = None,
    weights: Weights | None = None,
    published: tuple[Pin, ...] = (),
    period: tuple[date, date] | None = None,
    **kw,
) -> Problem:
    """A problem where, unless told otherwise, everyone is available for every session."""
    clinicians = tuple(clinicians if clinicians is not None else (clinician(),))
    sessions = tuple(
        sorted(
            sessions if sessions is not None else (session(),),
            key=lambda s: (s.start_minute, s.hub_id),
        )
    )
    hub_ids = sorted({s.hub_id for s in sessions} | {"H1"})
    hubs = tuple(hubs if hubs is not None else (hub(h) for h in hub_ids))
    codes = sorted({c.practice_code for c in clinicians} | {"P1"})
    practices = tuple(practices if practices is not None else (practice(c) for c in codes))
    rules = rules or Rules(availability_default=Status.AVAILABLE)
    if period is None:
        days = [s.date for s in sessions] or [MONDAY]
        start = min(days) - timedelta(days=min(days).weekday())
        end = max(days) + timedelta(days=6 - max(days).weekday())
        period = (start, end)
    return Problem(
        practices=practices,
        hubs=hubs,
        clinicians=clinicians,
        sessions=sessions,
        availability=dict(availability or {}),
        period_start=period[0],
        period_end=period[1],
        rules=rules,
        weights=weights or Weights(),
        published=published,
        **kw,
    )


def offers(*entries: tuple[str, date, str] | tuple[str, date, str, str, str]) -> dict:
    """availability from (clinician, date, 'A'|'P'|'U'[, start, end]) tuples."""
    codes = {"A": Status.AVAILABLE, "P": Status.PREFERRED, "U": Status.UNAVAILABLE}
    out: dict = {}
    for cid, day, code, *window in entries:
        start, end = (time.fromisoformat(w) for w in window) if window else (None, None)
        out.setdefault((cid, day), ())
        out[(cid, day)] += (Offer(codes[code], start, end),)
    return out


def with_rules(p: Problem, **kw) -> Problem:
    return replace(p, rules=replace(p.rules, **kw))
