"""The network contract: each week's required minutes, the Network Standard Hours, readiness.

Enhanced Access (Network Contract DES, October 2022) asks every network for at least
`minutes_per_1000` minutes of appointments per 1,000 adjusted population each ISO week, across
the Network Standard Hours (NSH; 18:30–20:00 weekdays, 09:00–17:00 Saturdays by default) with a
GP on duty throughout, and a named clinician on every session about two weeks ahead.

Each week's required minutes, bank holidays included, are defined in scheduler.domain
(`Problem.week_requirements`, behind `contract_requirements`, which the model, the checker and
the report all use); this module measures a rota against them. A bank holiday has no NSH
window unless the bank-holiday policy is `run`.

Pure Python: no solver, no I/O but writing CSV text to a stream the caller opens.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import TextIO

from scheduler.domain import (
    GP_ROLE,
    Network,
    Problem,
    Rota,
    Rules,
    Session,
    WeekKey,
    WeekRequirement,
    iso_week,
)

READINESS_DAYS = 14  # appointments open about two weeks ahead, once each session has a name
COMMISSIONER_COLUMNS: tuple[str, ...] = (
    "network",
    "week",
    "required_minutes",
    "delivered_minutes",
    "sessions",
    "gp_share_of_nsh",
)


# ---- the Network Standard Hours ----------------------------------------------------------


def clock(t: time) -> int:
    return t.hour * 60 + t.minute


def format_window(window: tuple[time, time]) -> str:
    return f"{window[0]:%H:%M}-{window[1]:%H:%M}"


def nsh_hours(rules: Rules, day: date) -> tuple[time, time] | None:
    """The NSH window of a weekday (Monday–Friday, Saturday); None on Sundays."""
    weekday = day.weekday()
    if weekday < 5:
        return rules.nsh_weekday
    return rules.nsh_saturday if weekday == 5 else None


def nsh_window(problem: Problem, day: date) -> tuple[int, int] | None:
    """The NSH on `day` as clock minutes; None on Sundays, outside the period, and on bank
    holidays unless the policy is `run`."""
    if not problem.period_start <= day <= problem.period_end:
        return None
    if day in problem.bank_holidays and problem.rules.bank_holiday_policy != "run":
        return None
    hours = nsh_hours(problem.rules, day)
    return (clock(hours[0]), clock(hours[1])) if hours else None


def gaps(window: tuple[int, int], spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of `window` that no span covers, in order."""
    start, end = window
    out, cursor = [], start
    for a, b in sorted(spans):
        if a > cursor:
            out.append((cursor, min(a, end)))
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if cursor < end:
        out.append((cursor, end))
    return [(a, b) for a, b in out if b > a]


@dataclass(frozen=True)
class Span:
    """Some minutes of one day's NSH, e.g. a gap with nobody on duty."""

    date: date
    start: int  # clock minutes
    end: int

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def as_dict(self) -> dict:
        return {
            "date": self.date.isoformat(),
            "start": _hhmm(self.start),
            "end": _hhmm(self.end),
            "minutes": self.minutes,
        }

    def __str__(self) -> str:
        return f"{self.date:%a %d %b} {_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# ---- the week's figures ------------------------------------------------------------------


@dataclass(frozen=True)
class ContractWeek:
    """One network's week: what was required, what the rota delivers, and whether it passes."""

    network: Network
    week: str
    required_minutes: int
    delivered_minutes: int
    nsh_uncovered_minutes: int  # NSH minutes with no session staffed at the network's hubs
    nsh_without_gp_minutes: int  # NSH minutes with no GP on duty (uncovered ones included)
    sessions: int  # sessions with at least one person at the network's hubs
    gp_share_of_nsh: float  # share of the window's minutes with a GP on duty
    passed: bool
    requirement: WeekRequirement | None = None
    nsh_minutes: int = 0  # the week's NSH minutes inside the period
    delivered_in_nsh_minutes: int = 0  # clinician-minutes inside the window
    nsh_uncovered: tuple[Span, ...] = ()
    nsh_without_gp: tuple[Span, ...] = ()
    failures: tuple[str, ...] = ()  # "minutes", "nsh_uncovered", "nsh_without_gp"

    @property
    def shortfall_minutes(self) -> int:
        return max(0, self.required_minutes - self.delivered_minutes)

    def as_dict(self) -> dict:
        r = self.requirement
        return {
            "network": self.network,
            "week": self.week,
            "required_minutes": self.required_minutes,
            "delivered_minutes": self.delivered_minutes,
            "nsh_uncovered_minutes": self.nsh_uncovered_minutes,
            "nsh_without_gp_minutes": self.nsh_without_gp_minutes,
            "pass": self.passed,
            "failures": list(self.failures),
            "shortfall_minutes": self.shortfall_minutes,
            "sessions": self.sessions,
            "gp_share_of_nsh": round(self.gp_share_of_nsh, 4),
            "nsh_minutes": self.nsh_minutes,
            "delivered_in_nsh_minutes": self.delivered_in_nsh_minutes,
            "days_in_period": r.days if r else 7,
            "base_minutes": r.base_minutes if r else self.required_minutes,
            "bank_holiday_minutes": r.bank_holiday_minutes if r else 0,
            "bank_holiday_relief_minutes": r.relief_minutes if r else 0,
            "made_up_minutes": r.made_up_minutes if r else 0,
            "made_up_from": dict(r.made_up_from) if r else {},
            "made_up_in": dict(r.made_up_in) if r else {},
            "make_up_after_period_minutes": r.make_up_after_period_minutes if r else 0,
            "nsh_uncovered": [span.as_dict() for span in self.nsh_uncovered],
            "nsh_without_gp": [span.as_dict() for span in self.nsh_without_gp],
        }


def contract_weeks(problem: Problem, rota: Rota) -> list[ContractWeek]:
    """Per network (with practices) and ISO week: the requirement, the clinician-minutes the
    rota fills at the network's hubs, the NSH minute by minute (spans with no session staffed,
    spans with no GP on duty at any of the network's hubs), and pass or fail. A week passes
    when it delivers its required minutes, leaves no NSH minute uncovered and, with the
    `gp_cover` rule, none without a GP."""
    requirements = problem.week_requirements
    run = _rota_minutes(problem, rota)
    nsh = _nsh_gaps(problem, {network for network, _ in requirements}, run.on_duty)
    out = []
    for key, requirement in requirements.items():
        total = nsh.window_minutes[key]
        no_cover = sum(span.minutes for span in nsh.uncovered[key])
        no_gp = sum(span.minutes for span in nsh.without_gp[key])
        failures = tuple(
            name
            for name, failed in (
                ("minutes", run.delivered[key] < requirement.minutes),
                ("nsh_uncovered", no_cover > 0),
                ("nsh_without_gp", problem.rules.gp_cover and no_gp > 0),
            )
            if failed
        )
        out.append(
            ContractWeek(
                network=key[0],
                week=key[1],
                required_minutes=requirement.minutes,
                delivered_minutes=run.delivered[key],
                nsh_uncovered_minutes=no_cover,
                nsh_without_gp_minutes=no_gp,
                sessions=run.sessions[key],
                gp_share_of_nsh=(total - no_gp) / total if total else 1.0,
                passed=not failures,
                requirement=requirement,
                nsh_minutes=total,
                delivered_in_nsh_minutes=run.in_window[key],
                nsh_uncovered=tuple(nsh.uncovered[key]),
                nsh_without_gp=tuple(nsh.without_gp[key]),
                failures=failures,
            )
        )
    return out


@dataclass
class _RotaMinutes:
    """What a rota runs per network and week, and who is on duty per network and day."""

    delivered: Counter[WeekKey] = field(default_factory=Counter)  # clinician-minutes
    in_window: Counter[WeekKey] = field(default_factory=Counter)  # of them inside the NSH
    sessions: Counter[WeekKey] = field(default_factory=Counter)  # sessions with anyone on
    # (start, end, a GP among them) of every staffed session, by network and day
    on_duty: dict[tuple[Network, date], list[tuple[int, int, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def _rota_minutes(problem: Problem, rota: Rota) -> _RotaMinutes:
    network_of = {h.hub_id: h.network for h in problem.hubs}
    people: dict[str, list[str]] = defaultdict(list)
    for a in rota:
        people[a.session_id].append(a.clinician_id)
    run = _RotaMinutes()
    for s in problem.sessions:
        names = people.get(s.session_id)
        if not names or s.hub_id not in network_of:
            continue
        key = (network_of[s.hub_id], s.week)
        run.delivered[key] += s.minutes * len(names)
        run.sessions[key] += 1
        span = (clock(s.start), clock(s.start) + s.minutes)
        window = nsh_window(problem, s.date)
        if window:
            overlap = max(0, min(span[1], window[1]) - max(span[0], window[0]))
            run.in_window[key] += overlap * len(names)
        has_gp = any(problem.clinician(c).role_key == GP_ROLE for c in names)
        run.on_duty[key[0], s.date].append((*span, has_gp))
    return run


@dataclass
class _NshGaps:
    """Per network and week: the NSH minutes, the spans with no session staffed, and the spans
    with no GP on duty at any of the network's hubs."""

    window_minutes: Counter[WeekKey] = field(default_factory=Counter)
    uncovered: dict[WeekKey, list[Span]] = field(default_factory=lambda: defaultdict(list))
    without_gp: dict[WeekKey, list[Span]] = field(default_factory=lambda: defaultdict(list))


def _nsh_gaps(
    problem: Problem,
    networks: Iterable[Network],
    on_duty: dict[tuple[Network, date], list[tuple[int, int, bool]]],
) -> _NshGaps:
    nsh = _NshGaps()
    for network in sorted(networks):
        for day in problem.days():
            window = nsh_window(problem, day)
            if window is None:
                continue
            key = (network, iso_week(day))
            duty = on_duty.get((network, day), [])
            nsh.window_minutes[key] += window[1] - window[0]
            nsh.uncovered[key] += [
                Span(day, a, b) for a, b in gaps(window, [(a, b) for a, b, _ in duty])
            ]
            nsh.without_gp[key] += [
                Span(day, a, b) for a, b in gaps(window, [(a, b) for a, b, gp in duty if gp])
            ]
    return nsh


def contract_rules(rules: Rules) -> dict:
    """The settings behind the figures, for the report's header."""
    return {
        "minutes_per_1000": rules.minutes_per_1000,
        "nsh_weekday": format_window(rules.nsh_weekday),
        "nsh_saturday": format_window(rules.nsh_saturday),
        "bank_holiday_policy": rules.bank_holiday_policy,
        "make_up_weeks": rules.make_up_weeks,
        "gp_cover": rules.gp_cover,
    }


# ---- the commissioner's return -----------------------------------------------------------


def commissioner_rows(weeks: Iterable[ContractWeek]) -> list[dict]:
    """One row per network and week: COMMISSIONER_COLUMNS."""
    return [
        {
            "network": w.network,
            "week": w.week,
            "required_minutes": w.required_minutes,
            "delivered_minutes": w.delivered_minutes,
            "sessions": w.sessions,
            "gp_share_of_nsh": f"{w.gp_share_of_nsh:.4f}",
        }
        for w in weeks
    ]


def write_commissioner_csv(weeks: Iterable[ContractWeek], stream: TextIO) -> None:
    """The commissioner's return as CSV on `stream` (opened by the caller with newline='')."""
    writer = csv.DictWriter(stream, fieldnames=COMMISSIONER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(commissioner_rows(weeks))


# ---- readiness ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingPost:
    """A required post of a session in the readiness window with fewer people than its `min`."""

    session: Session
    post_index: int
    named: int

    @property
    def missing(self) -> int:
        return self.session.posts[self.post_index].min - self.named

    def as_dict(self) -> dict:
        s, post = self.session, self.session.posts[self.post_index]
        return {
            "session_id": s.session_id,
            "hub_id": s.hub_id,
            "date": s.date.isoformat(),
            "start": f"{s.start:%H:%M}",
            "end": f"{s.end:%H:%M}",
            "post": self.post_index,
            "roles": post.roles_text,
            "min": post.min,
            "named": self.named,
            "missing": self.missing,
        }


@dataclass(frozen=True)
class Readiness:
    """Whether every session from `start` to `end` (inclusive) names someone in each required
    place, so its appointments can open."""

    start: date
    end: date
    sessions: int  # sessions in the window
    missing: tuple[MissingPost, ...]
    period_start: date
    period_end: date

    @property
    def ready(self) -> bool:
        return not self.missing

    @property
    def inside_period(self) -> bool:
        """False when part of the window lies outside the rota's period (not planned here)."""
        return self.period_start <= self.start and self.end <= self.period_end

    def as_dict(self) -> dict:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "ready": self.ready,
            "sessions": self.sessions,
            "posts_missing": len(self.missing),
            "people_missing": sum(m.missing for m in self.missing),
            "inside_period": self.inside_period,
            "missing": [m.as_dict() for m in self.missing],
        }


def readiness(problem: Problem, rota: Rota, start: date, days: int = READINESS_DAYS) -> Readiness:
    """Every session from `start` for `days` days whose required posts lack named people."""
    end = start + timedelta(days=days - 1)
    named: Counter[tuple[str, int]] = Counter((a.session_id, a.post_index) for a in rota)
    window = [s for s in problem.sessions if start <= s.date <= end]
    missing = tuple(
        MissingPost(s, i, named[s.session_id, i])
        for s in window
        for i, post in enumerate(s.posts)
        if named[s.session_id, i] < post.min
    )
    return Readiness(start, end, len(window), missing, problem.period_start, problem.period_end)
