"""Re-running from a published rota: absences, fewest changes, and the locked pins that clash.

`rerun(problem, params, should_stop)` solves a problem whose `published` pins hold the rota to
stay close to (the `stability` goal, tier 5). It runs the same lexicographic tiers as
scheduler.solver.solve, but starts every phase from the published rota as a solution hint, so
the first rota is found at once even on a federation-sized model. When locked pins admit no rota,
`conflicting_pins` finds a minimal set of them that cannot all be kept, with CP-SAT assumptions,
and words each the way the checker words the rule it breaks.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from ortools.sat.python import cp_model

from scheduler.checker import (
    check,
    format_day,
    format_time,
    violations_if_added,
)
from scheduler.diff import RotaDiff, rota_diff
from scheduler.domain import (
    Assignment,
    ClinicianId,
    Offer,
    Pin,
    Problem,
    Rota,
    SolveResult,
    SolveStatus,
    Status,
    iso_week,
)
from scheduler.solver.model import Constraints, Variables, locked_pairs
from scheduler.solver.params import SolveParams
from scheduler.solver.solve import STATUS, Monitor, solve

CONFLICT_TIME_LIMIT = 30.0  # seconds for the whole search of a conflicting set
FINISH_RESERVE = 0.5  # of the time limit, kept for reading the rota back and the diff


# ---- absences ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Absence:
    """A clinician away from `first` to `last` inclusive (availability U on those dates)."""

    clinician_id: ClinicianId
    first: date
    last: date

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def text(self, problem: Problem | None = None) -> str:
        name = ""
        if problem is not None and self.clinician_id in problem.clinicians_by_id:
            name = f" ({problem.clinician(self.clinician_id).name})"
        return (
            f"{self.clinician_id}{name} away {format_day(self.first, year=False)} to "
            f"{format_day(self.last)}"
        )


def with_absences(problem: Problem, absences: Iterable[Absence]) -> Problem:
    """The problem with each absent clinician unavailable all day on their absent dates inside
    the period (whatever they had offered, requests included)."""
    availability = dict(problem.availability)
    changed = False
    for absence in absences:
        for day in absence.days():
            if problem.period_start <= day <= problem.period_end:
                availability[(absence.clinician_id, day)] = (Offer(Status.UNAVAILABLE),)
                changed = True
    return replace(problem, availability=availability) if changed else problem


# ---- the published rota -----------------------------------------------------------------


def with_published(problem: Problem, rota: Iterable[Assignment]) -> Problem:
    """The problem re-running from `rota`: each assignment a published pin (locked where the
    assignment is); assignments naming sessions or clinicians the data no longer has are left
    out, as the loader leaves out such rows of assignments.csv."""
    pins: dict[tuple[str, str], Pin] = {}
    for a in rota:
        if a.session_id in problem.sessions_by_id and a.clinician_id in problem.clinicians_by_id:
            key = (a.session_id, a.clinician_id)
            locked = a.locked or (key in pins and pins[key].locked)
            pins[key] = Pin(a.session_id, a.clinician_id, locked)
    return replace(problem, published=tuple(pins.values()))


def published_rota(problem: Problem) -> Rota:
    """The published pins as a rota: each pair on a post of its session that accepts the
    clinician and has room (as the loader places rota.csv rows without `roles`)."""
    taken: dict[tuple[str, int], int] = defaultdict(int)
    out = []
    for pin in problem.published:
        session = problem.sessions_by_id.get(pin.session_id)
        clinician = problem.clinicians_by_id.get(pin.clinician_id)
        if session is None or clinician is None:
            continue
        accepting = [i for i, p in enumerate(session.posts) if p.accepts(clinician)] or [0]
        index = next(
            (i for i in accepting if taken[(pin.session_id, i)] < session.posts[i].most),
            accepting[0],
        )
        taken[(pin.session_id, index)] += 1
        out.append(Assignment(pin.session_id, index, pin.clinician_id, pin.locked))
    return tuple(sorted(out))


# ---- locked pins that cannot all be kept --------------------------------------------------


@dataclass(frozen=True)
class PinConflict:
    """A minimal set of locked pins the hard rules cannot all keep (drop any one and a rota
    exists), and why, in plain English. `pins` is empty when the hard rules admit no rota even
    without pins."""

    pins: tuple[Pin, ...]
    reasons: tuple[str, ...]
    minimal: bool = True  # False when a check ran out of time and a pin was kept to be safe

    def text(self) -> str:
        return "; ".join(self.reasons)


def conflicting_pins(
    problem: Problem,
    time_limit: float = CONFLICT_TIME_LIMIT,
    should_stop: Callable[[], bool] | None = None,
) -> PinConflict | None:
    """A minimal set of locked pins that no rota can keep together, or None when every locked
    pin can be kept.

    Each pin's `works == 1` is enforced only by an assumption literal; a solve with presolve
    off, no hints and one worker (or-tools issue 5141: otherwise the core can be wrong) gives
    sufficient_assumptions_for_infeasibility, which a deletion filter then shrinks: drop each
    pin in turn and keep it out while the rest stays infeasible.
    """
    started = time.perf_counter()
    checker = _PinFeasibility(problem)
    if not checker.pairs:
        return None

    def left() -> float:
        return max(0.5, time_limit - (time.perf_counter() - started))

    status, core = checker.solve(checker.pairs, left(), should_stop)
    if status is not SolveStatus.INFEASIBLE:
        return None
    minimal = True
    candidates = list(core)
    for pair in list(candidates):
        trial = [p for p in candidates if p != pair]
        status, smaller = checker.solve(trial, left(), should_stop)
        if status is SolveStatus.INFEASIBLE:
            candidates = [p for p in trial if p in set(smaller)] if smaller else trial
        elif status is not SolveStatus.OPTIMAL and status is not SolveStatus.FEASIBLE:
            minimal = False  # not proven either way: keep the pin, the set stays infeasible
    pins = tuple(checker.pins[pair] for pair in sorted(candidates, key=checker.order))
    return PinConflict(pins, tuple(explain_pins(problem, pins)), minimal)


class _PinFeasibility:
    """The hard rules with every locked pin behind its own assumption literal."""

    def __init__(self, problem: Problem):
        self.problem = problem
        ci_of = {c.clinician_id: i for i, c in enumerate(problem.clinicians)}
        si_of = {s.session_id: i for i, s in enumerate(problem.sessions)}
        self.pairs = locked_pairs(problem)
        self.pins = {
            (ci_of[p.clinician_id], si_of[p.session_id]): p
            for p in problem.published
            if p.locked and p.clinician_id in ci_of and p.session_id in si_of
        }
        unlocked = replace(
            problem, published=tuple(replace(p, locked=False) for p in problem.published)
        )
        self.model = cp_model.CpModel()
        # the locked pairs are forced into the variables even where ineligible, as build_model
        # does, so a pin breaking availability or role makes its literal false, not vanish
        variables = Variables.build(self.model, unlocked, forced=set(self.pairs))
        Constraints(self.model, unlocked, variables).add_all()
        self.literal: dict[tuple[int, int], cp_model.IntVar] = {}
        self.pair_of: dict[int, tuple[int, int]] = {}
        for ci, si in self.pairs:
            lit = self.model.new_bool_var(
                f"pin[{problem.clinicians[ci].clinician_id},{problem.sessions[si].session_id}]"
            )
            self.model.add(variables.works[ci, si] == 1).only_enforce_if(lit)
            self.literal[ci, si] = lit
            self.pair_of[lit.index] = (ci, si)

    def order(self, pair: tuple[int, int]) -> tuple:
        s = self.problem.sessions[pair[1]]
        return (s.start_minute, s.hub_id, self.problem.clinicians[pair[0]].clinician_id)

    def solve(
        self, pairs: list[tuple[int, int]], seconds: float, should_stop: Callable[[], bool] | None
    ) -> tuple[SolveStatus, list[tuple[int, int]]]:
        self.model.clear_assumptions()
        self.model.add_assumptions([self.literal[p] for p in pairs])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.cp_model_presolve = False
        solver.parameters.max_time_in_seconds = seconds
        with Monitor(solver, should_stop, None):
            status = STATUS[solver.solve(self.model)]
        if status is not SolveStatus.INFEASIBLE:
            return status, []
        core = [self.pair_of[i] for i in solver.sufficient_assumptions_for_infeasibility()]
        return status, core


def explain_pins(problem: Problem, pins: Iterable[Pin]) -> list[str]:
    """One line per pin: 'pin C1 → H1 Sat 6 Mar 09:00: marked unavailable for … (availability)'
    where the pin breaks a rule on its own; otherwise the rules the pins break together (as the
    checker words them), or a plain statement that they cannot all be kept."""
    pins = list(pins)
    if not pins:
        return ["the hard rules admit no rota even without any locked pin"]
    lines, alone = [], False
    for pin in pins:
        own = _own_violations(problem, pin)
        alone = alone or bool(own)
        reason = "; ".join(f"{v.message} ({v.rule})" for v in own)
        lines.append(f"{pin_label(problem, pin)}: {reason}" if reason else pin_label(problem, pin))
    if alone or len(pins) == 1:
        if not alone:
            lines[0] += ": cannot be kept with the hard rules"
        return lines
    alone_problem = replace(problem, published=tuple(pins))
    together = check(alone_problem, published_rota(alone_problem))
    if together:
        rules = "; ".join(
            f"{v.clinician_id}: {v.message} ({v.rule})"
            if v.clinician_id
            else f"{v.message} ({v.rule})"
            for v in together
        )
        return [*lines, f"together: {rules}"]
    return [*lines, "together they cannot be kept with the hard rules"]


def pin_label(problem: Problem, pin: Pin) -> str:
    """'pin C1042 → RMC Sat 6 Mar 09:00'."""
    s = problem.sessions_by_id.get(pin.session_id)
    where = (
        f"{s.hub_id} {format_day(s.date, year=False)} {format_time(s.start)}"
        if s
        else pin.session_id
    )
    return f"pin {pin.clinician_id} → {where}"


def _own_violations(problem: Problem, pin: Pin):
    session = problem.session(pin.session_id)
    clinician = problem.clinician(pin.clinician_id)
    indices = sorted(
        range(len(session.posts)), key=lambda i: not session.posts[i].accepts(clinician)
    )
    first = None
    for index in indices:
        found = violations_if_added(problem, (), pin.session_id, index, pin.clinician_id)
        if not found:
            return []
        first = first if first is not None else found
    return first or []


# ---- the re-run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rerun:
    """A re-run's answer: the solve, the published rota it started from, what changed, and the
    locked pins that clash when the status is INFEASIBLE."""

    result: SolveResult
    published: Rota
    diff: RotaDiff | None
    conflict: PinConflict | None = None

    @property
    def ok(self) -> bool:
        return self.result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


def rerun(
    problem: Problem,
    params: SolveParams | None = None,
    should_stop: Callable[[], bool] | None = None,
    published: Rota | None = None,
) -> Rerun:
    """Re-run from the published rota (`published`, else `problem.published`): keep what is
    still valid, change as little as the goals above stability allow.

    Only the ISO weeks holding a published assignment that the data now forbids (an absence, a
    changed availability, a removed session) are re-planned; every other week keeps the
    published rota as it is. Inside those weeks the lexicographic tiers run as in
    scheduler.solver.solve, `stability` (tier 5) charging each change, three times within
    `stability_near_days` of the reference date. `published` with post indices (a stored rota) is
    pinned into `problem` when the problem has no pins of its own; locked assignments are hard.
    Never raises for an infeasible problem: when locked pins clash, `conflict` says which.
    """
    params = params or SolveParams()
    started = time.perf_counter()
    if published is not None and not problem.published:
        problem = with_published(problem, published)
    start_from = tuple(published if published is not None else published_rota(problem))
    free = days_to_replan(problem, start_from)
    budget = replace(
        params,
        time_limit=max(1.0, params.time_limit - FINISH_RESERVE - (time.perf_counter() - started)),
    )
    result = solve_from(problem, start_from, budget, should_stop, free)
    if result.status is SolveStatus.INFEASIBLE and free is not None:
        # the weeks kept as published may be what blocks: let every week change
        left = max(1.0, params.time_limit - FINISH_RESERVE - (time.perf_counter() - started))
        result = solve_from(problem, start_from, replace(params, time_limit=left), should_stop)
    conflict = None
    if result.status is SolveStatus.INFEASIBLE:
        conflict = conflicting_pins(problem, should_stop=should_stop)
        if conflict is not None:
            result = replace(result, message="locked pins clash: " + conflict.text())
    diff = rota_diff(start_from, result.rota, problem) if result.rota else None
    return Rerun(result, start_from, diff, conflict)


def days_to_replan(problem: Problem, rota: Iterable[Assignment]) -> set[date] | None:
    """The days of the ISO weeks in which `rota` breaks a hard rule of `problem` (the weeks a
    re-run may change); None when a broken rule names no session (the whole period may change)."""
    weeks: set[str] = set()
    for v in check(problem, rota):
        if v.rule == "locked":
            continue
        if v.session_id is None or v.session_id not in problem.sessions_by_id:
            return None
        for sid in (v.session_id, *v.related):
            if sid in problem.sessions_by_id:
                weeks.add(problem.session(sid).week)
    return {d for d in problem.days() if iso_week(d) in weeks}


def solve_from(
    problem: Problem,
    start: Iterable[Assignment],
    params: SolveParams,
    should_stop: Callable[[], bool] | None = None,
    free_days: set[date] | None = None,
) -> SolveResult:
    """scheduler.solver.solve from the published rota `start`; with `free_days`, only those days are
    re-planned and every other day keeps `start`."""
    return solve(problem, params, should_stop, start=start, free_days=free_days)


__all__ = [
    "Absence",
    "PinConflict",
    "Rerun",
    "conflicting_pins",
    "days_to_replan",
    "explain_pins",
    "pin_label",
    "published_rota",
    "rerun",
    "solve_from",
    "with_absences",
    "with_published",
]
