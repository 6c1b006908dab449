"""Who could take a session: the colleagues who could work someone's post instead of them, and
the swaps of a session that break no hard rule. scheduler.checker decides, with its own rule
names; nothing here judges a rule itself.

"Best first": those who offered the day as preferred, then available; then those with fewer
sessions that week, then in the whole rota (fair shares); then by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from scheduler.checker import RotaView, Violation, violations_if_added
from scheduler.domain import Assignment, Clinician, Problem, Rota, Status, offer_for
from web.services.current_rota import swap_violations

__all__ = ["Candidate", "SwapOption", "could_take", "eligible", "is_eligible", "swap_options"]


@dataclass(frozen=True)
class Candidate:
    clinician: Clinician
    preferred: bool  # offered the day as preferred
    week_sessions: int
    total_sessions: int


def _without(rota: Rota, given: Assignment) -> list[Assignment]:
    return [
        a
        for a in rota
        if not (a.session_id == given.session_id and a.clinician_id == given.clinician_id)
    ]


def could_take(
    problem: Problem, rota: Rota, given: Assignment, clinician_id: str, view: RotaView | None = None
) -> list[Violation]:
    """The hard rules the checker finds broken if `clinician_id` took over `given`'s post
    (empty: they could)."""
    view = view or RotaView.of(problem, _without(rota, given))
    return violations_if_added(problem, view, given.session_id, given.post_index, clinician_id)


def is_eligible(problem: Problem, rota: Rota, given: Assignment, clinician_id: str) -> bool:
    return not could_take(problem, rota, given, clinician_id)


def eligible(problem: Problem, rota: Rota, given: Assignment) -> list[Candidate]:
    """Everyone who could take `given`'s post without breaking a hard rule, best first."""
    if given.session_id not in problem.sessions_by_id:
        return []
    session = problem.session(given.session_id)
    view = RotaView.of(problem, _without(rota, given))
    monday = session.date - timedelta(days=session.date.weekday())
    week = {s.session_id for s in problem.sessions if monday <= s.date < monday + timedelta(days=7)}
    out = []
    for c in problem.clinicians:
        if c.clinician_id == given.clinician_id:
            continue
        if could_take(problem, rota, given, c.clinician_id, view):
            continue
        mine = [a for a in rota if a.clinician_id == c.clinician_id]
        out.append(
            Candidate(
                c,
                offer_for(problem, c, session) is Status.PREFERRED,
                sum(1 for a in mine if a.session_id in week),
                len(mine),
            )
        )
    out.sort(key=lambda k: (not k.preferred, k.week_sessions, k.total_sessions, k.clinician.name))
    return out


@dataclass(frozen=True)
class SwapOption:
    mine: Assignment  # on the session asked about
    theirs: Assignment  # on another session the same week
    preferred: bool  # both offered the other's day as preferred


def swap_options(problem: Problem, rota: Rota, session_id: str) -> list[SwapOption]:
    """Every exchange of someone on `session_id` with someone on another session of the same
    week that breaks no hard rule, best first."""
    if session_id not in problem.sessions_by_id:
        return []
    session = problem.session(session_id)
    monday = session.date - timedelta(days=session.date.weekday())
    here = [a for a in rota if a.session_id == session_id]
    out = []
    for b in rota:
        other = problem.sessions_by_id.get(b.session_id)
        if (
            other is None
            or b.session_id == session_id
            or b.clinician_id not in problem.clinicians_by_id
            or not monday <= other.date < monday + timedelta(days=7)
        ):
            continue
        for a in here:
            if a.clinician_id not in problem.clinicians_by_id or a.clinician_id == b.clinician_id:
                continue
            if swap_violations(problem, rota, a, b):
                continue
            preferred = (
                offer_for(problem, problem.clinician(a.clinician_id), other) is Status.PREFERRED
                and offer_for(problem, problem.clinician(b.clinician_id), session)
                is Status.PREFERRED
            )
            out.append(SwapOption(a, b, preferred))
    out.sort(
        key=lambda o: (
            not o.preferred,
            problem.session(o.theirs.session_id).start_minute,
            problem.clinician(o.mine.clinician_id).name,
            problem.clinician(o.theirs.clinician_id).name,
        )
    )
    return out
