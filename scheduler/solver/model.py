"""The CP-SAT model: variables, one method per hard rule, one penalty expression per goal."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeAlias

import numpy as np
from ortools.sat.python import cp_model

from scheduler.domain import (
    GOALS,
    STABILITY_NEAR_FACTOR,
    Clinician,
    Problem,
    Session,
    Status,
    assignment_cost_pence,
    contract_requirements,
    fair_share_weights,
    is_near,
    is_preferred_date,
    max_consecutive_days_of,
    max_sessions_per_day_of,
    offer_for,
    requests_of,
    weekend_of,
)
from scheduler.solver.bounds import fair_share_floor

# ortools' own LinearExprT union takes in numpy scalar types, which makes mypy reject ordinary
# arithmetic on expressions; the model treats an expression as CP-SAT's linear expression or int.
LinearExpr: TypeAlias = Any
_sum = cp_model.LinearExpr.sum  # one flat sum: the builtin `sum` nests an expression per term
MAX_SESSION_MINUTES = 24 * 60  # a session runs at most a day (the loader rejects past midnight)


def eligible_posts(problem: Problem, clinician: Clinician, session: Session) -> list[int]:
    """The posts of `session` the clinician may fill by role, skill, availability and
    allowed_hubs: the rules the model meets by leaving a variable out rather than by a
    constraint."""
    return _EligiblePosts(problem, session).of(clinician)


@dataclass
class Variables:
    """x[ci, si, pi]: clinician ci fills post pi of session si. `works[ci, si]` is the sum over
    posts (at most 1), `worked_day[ci, day]` whether ci works any session that day."""

    x: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    works: dict[tuple[int, int], LinearExpr] = field(default_factory=dict)
    sessions_of: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    on_post: dict[tuple[int, int], list[tuple[int, cp_model.IntVar]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    worked_day: dict[tuple[int, date], cp_model.IntVar] = field(default_factory=dict)
    posts_of: dict[tuple[int, int], list[cp_model.IntVar]] = field(default_factory=dict)
    _post_lists: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls, model: cp_model.CpModel, problem: Problem, forced: set[tuple[int, int]]
    ) -> Variables:
        """`forced` (clinician, session) pairs get variables even where ineligible, so that a
        locked pin that breaks a rule makes the model infeasible instead of vanishing. The
        variables are unnamed: nothing reads the names, and on the largest models naming a
        million variables takes seconds and tens of megabytes."""
        v = cls()
        candidates = _Candidates(problem, forced)
        for si, session in enumerate(problem.sessions):
            eligible = _EligiblePosts(problem, session)
            for ci in candidates.of(si, session):
                clinician = problem.clinicians[ci]
                vars_: list[cp_model.IntVar] = []
                for pi in eligible.of(clinician):
                    var = model.new_bool_var("")
                    v.x[ci, si, pi] = var
                    vars_.append(var)
                    v.on_post[si, pi].append((ci, var))
                if not vars_ and (ci, si) in forced:
                    # no eligible post: a variable fixed to 0 that the locked rule forces to 1
                    var = model.new_bool_var(
                        f"forced[{clinician.clinician_id},{session.session_id}]"
                    )
                    model.add(var == 0)
                    vars_.append(var)
                if vars_:
                    v.posts_of[ci, si] = vars_
        for key, vars_ in v.posts_of.items():  # one key tuple for both: a million on the largest
            v.works[key] = _sum(vars_) if len(vars_) > 1 else vars_[0]
            v.sessions_of[key[0]].append(key[1])
        for ci, sis in v.sessions_of.items():
            sis.sort()
            v._add_worked_days(model, problem, ci)
        return v

    def _add_worked_days(self, model: cp_model.CpModel, problem: Problem, ci: int) -> None:
        by_day: dict[date, list[int]] = defaultdict(list)
        for si in self.sessions_of[ci]:
            by_day[problem.sessions[si].date].append(si)
        one_a_day = max_sessions_per_day_of(problem, problem.clinicians[ci]) == 1
        for day, day_sessions in by_day.items():
            w = model.new_bool_var("")
            if one_a_day or _all_overlap([problem.sessions[si] for si in day_sessions]):
                # at most one of them: the tight form, w − Σ posts = 0
                posts = [x.index for si in day_sessions for x in self.posts_of[ci, si]]
                _add_row(model, [w.index, *posts], [1] + [-1] * len(posts), 0, 0)
            else:
                terms = [self.works[ci, si] for si in day_sessions]
                for t in terms:
                    model.add(w >= t)
                model.add(w <= _sum(terms))
            self.worked_day[ci, day] = w

    def post_terms(self, ci: int) -> tuple[list[int], list[int]]:
        """The proto index of every post variable of clinician ci and, alongside, its session
        (in sessions_of order): works[ci, si] is the sum of those on si, so a sum over works is
        one over these."""
        found = self._post_lists.get(ci)
        if found is None:
            indices: list[int] = []
            on: list[int] = []
            for si in self.sessions_of[ci]:
                posts = self.posts_of[ci, si]
                indices += [var.index for var in posts]
                on += [si] * len(posts)
            found = (indices, on)
            self._post_lists[ci] = found
        return found


class _Candidates:
    """The clinicians who may fill a session by role and hub (anywhere, or there), in index
    order, with the forced ones added. On a large system most clinicians may work only at
    their own network's hubs, and testing every clinician for each session takes most of the
    build; sessions with the same roles and hub share one list."""

    def __init__(self, problem: Problem, forced: set[tuple[int, int]]):
        self.by_role: dict[str, list[int]] = defaultdict(list)
        self.by_role_hub: dict[tuple[str, str], list[int]] = defaultdict(list)
        for ci, clinician in enumerate(problem.clinicians):
            if clinician.hubs:
                for hub_id in clinician.hubs:
                    self.by_role_hub[clinician.role_key, hub_id].append(ci)
            else:
                self.by_role[clinician.role_key].append(ci)
        self.forced_at: dict[int, set[int]] = defaultdict(set)
        for ci, si in forced:
            self.forced_at[si].add(ci)
        self.known: dict[tuple[frozenset[str], str], list[int]] = {}

    def of(self, si: int, session: Session) -> list[int]:
        roles = frozenset(r for post in session.posts for r in post.roles)
        key = (roles, session.hub_id)
        found = self.known.get(key)
        if found is None:
            found = sorted(
                {
                    ci
                    for r in roles
                    for ci in (
                        *self.by_role.get(r, ()),
                        *self.by_role_hub.get((r, session.hub_id), ()),
                    )
                }
            )
            self.known[key] = found
        extra = self.forced_at.get(si)
        return sorted(set(found) | extra) if extra else found


class _EligiblePosts:
    """eligible_posts for one session, with the posts a role and skills accept worked out once
    per kind of clinician (a session has thousands of candidates and a few kinds), and the hub
    and availability asked once for all the posts (asked post by post they take a large share
    of a large model's build)."""

    def __init__(self, problem: Problem, session: Session):
        self.problem, self.session = problem, session
        self.availability = problem.availability
        self.default_unavailable = problem.rules.availability_default is Status.UNAVAILABLE
        self.accepting: dict[tuple[str, frozenset[str]], list[int]] = {}

    def of(self, clinician: Clinician) -> list[int]:
        session = self.session
        key = (clinician.role_key, clinician.skills)
        accepting = self.accepting.get(key)
        if accepting is None:
            accepting = [pi for pi, post in enumerate(session.posts) if post.accepts(clinician)]
            self.accepting[key] = accepting
        if not accepting or not clinician.may_work_at(session.hub_id):
            return []
        if (clinician.clinician_id, session.date) not in self.availability:
            # no entries that day: offer_for gives the default
            return [] if self.default_unavailable else accepting
        if offer_for(self.problem, clinician, session) is Status.UNAVAILABLE:
            return []
        return accepting


def _all_overlap(sessions: list[Session]) -> bool:
    """Whether every two of these sessions overlap in time (so a clinician works one at most)."""
    return all(
        a.start_minute < b.end_minute and b.start_minute < a.end_minute
        for i, a in enumerate(sessions)
        for b in sessions[i + 1 :]
    )


def _add_row(
    model: cp_model.CpModel,
    indices: list[int],
    coefficients: list[int],
    low: int = cp_model.INT_MIN,
    high: int = cp_model.INT_MAX,
) -> None:
    """low ≤ Σ coefficient × variable ≤ high over the variables of these proto `indices` (each
    once), written straight into the model's proto. Building CP-SAT's expression costs about a
    microsecond a term, and the long rows (a practice's minutes, a clinician's load or minutes)
    hold millions of terms between them on the largest models."""
    row = model.proto.constraints.add().linear
    row.vars.extend(indices)
    row.coeffs.extend(coefficients)
    row.domain.extend((low, high))


def _total(terms: list[LinearExpr]) -> LinearExpr:
    """The sum of `terms` as one flat expression; a plain int where every term is one, as the
    builtin `sum` gives (scheduler.solver.solve tells a part that is constant by its type)."""
    if all(isinstance(t, int) for t in terms):
        return sum(terms)
    return _sum(terms)


def _weighted(variables: list[LinearExpr], coefficients: list[int]) -> LinearExpr:
    """Σ coefficient × variable as one flat expression; 0 (an int) for no terms."""
    return cp_model.LinearExpr.weighted_sum(variables, coefficients) if variables else 0


class Constraints:
    """The hard rules, one method each, named by the rule's stem."""

    def __init__(self, model: cp_model.CpModel, problem: Problem, v: Variables):
        self.m, self.p, self.v = model, problem, v
        self._days: dict[int, dict[date, list[int]]] = {}
        self._weeks: dict[int, dict[str, list[date]]] = {}
        self._mine: dict[int, dict[int, list[cp_model.IntVar]]] = {}
        # looked up a million times on the largest models: plain lists index faster
        self._kinds = [s.kind for s in problem.sessions]
        self._starts = [s.start_minute for s in problem.sessions]
        self._ends = [s.end_minute for s in problem.sessions]
        self._minutes = [s.minutes for s in problem.sessions]

    def add_all(self) -> None:
        # role, skill, availability and allowed_hubs are met by `eligible` (no variable at all)
        self.add_post_capacity()
        self.add_overlap()
        self.add_min_rest()
        self.add_max_consecutive_days()
        self.add_weekly_cap()
        self.add_period_cap()
        self.add_rooms()
        self.add_locked()
        self.add_max_weekly_hours()
        self.add_sessions_per_day()
        self.add_kind_cap()
        self.add_period_minutes()
        self.add_min_consecutive_days()
        self.add_min_consecutive_days_off()
        self.add_max_weekends()
        self.add_forbidden_succession()

    def add_post_capacity(self) -> None:
        for (si, pi), entries in self.v.on_post.items():
            most = self.p.sessions[si].posts[pi].most
            if len(entries) > most:
                self.m.add(_sum([var for _, var in entries]) <= most)

    def add_overlap(self) -> None:
        """At every session start, a clinician is on at most one of the sessions running then
        (this also allows only one post of a session). Sessions starting together share the
        set, so each start gives one constraint."""
        starts, ends = self._starts, self._ends
        for ci, sis in self.v.sessions_of.items():  # sis is sorted by start
            running: list[int] = []  # started, not yet ended: in index order
            k = 0
            while k < len(sis):
                at = starts[sis[k]]
                first = k
                while k < len(sis) and starts[sis[k]] == at:
                    k += 1
                running = [
                    t for t in running if ends[t] > at and starts[t] >= at - MAX_SESSION_MINUTES
                ]
                running += sis[first:k]
                if len(running) > 1 or len(self.v.posts_of[ci, sis[first]]) > 1:
                    self.m.add_at_most_one(self._posts(ci, running))

    def _posts(self, ci: int, sis: Iterable[int]) -> list[cp_model.IntVar]:
        """Every post variable of clinician ci on these sessions."""
        mine = self._own_posts(ci)
        return [x for t in sis for x in mine[t]]

    def _own_posts(self, ci: int) -> dict[int, list[cp_model.IntVar]]:
        """posts_of for clinician ci alone, by session: a look-up in the whole posts_of (a
        million entries on the largest models) mostly misses the processor's caches."""
        out = self._mine.get(ci)
        if out is None:
            posts_of = self.v.posts_of
            out = {si: posts_of[ci, si] for si in self.v.sessions_of[ci]}
            self._mine[ci] = out
        return out

    def add_min_rest(self) -> None:
        """Two sessions on different days closer than the minimum rest: at most one of them.
        Sorted by start, so the scan for each session begins at the next day's first session and
        ends at the first far enough away."""
        starts, ends, rest = self._starts, self._ends, self.p.rules.min_rest_minutes
        works = self.v.works
        for ci, sis in self.v.sessions_of.items():
            later = 0  # the index in sis of the next day's first session
            for today in self._by_day(ci).values():  # in date order: together they are sis
                later += len(today)
                for a in today:
                    until = ends[a] + rest
                    for j in range(later, len(sis)):
                        b = sis[j]
                        if starts[b] >= until:
                            break  # sorted by start: every later session is far enough
                        self.m.add(works[ci, a] + works[ci, b] <= 1)

    def add_max_consecutive_days(self) -> None:
        for ci in self.v.sessions_of:
            limit = max_consecutive_days_of(self.p, self.p.clinicians[ci])
            days = sorted(self._by_day(ci))  # each once: a window is whole where its ends are
            for i in range(len(days) - limit):
                if (days[i + limit] - days[i]).days == limit:
                    window = [self.v.worked_day[ci, d] for d in days[i : i + limit + 1]]
                    self.m.add(_sum(window) <= limit)

    def add_weekly_cap(self) -> None:
        for ci in self.v.sessions_of:
            cap = self.p.clinicians[ci].max_sessions_per_week
            for days in self._by_week(ci).values():
                if len(self._on_days(ci, days)) > cap:
                    posts = self._day_posts(ci, days)
                    _add_row(self.m, posts, [1] * len(posts), high=cap)

    def add_period_cap(self) -> None:
        for ci, sis in self.v.sessions_of.items():
            cap = self.p.clinicians[ci].max_sessions_per_period
            if cap is not None and len(sis) > cap:
                posts, _ = self.v.post_terms(ci)
                _add_row(self.m, posts, [1] * len(posts), high=cap)

    def add_rooms(self) -> None:
        """At each session's start, at most `rooms` people on the hub's sessions running then
        (swept in start order: the running ones are kept from one start to the next)."""
        by_hub: dict[str, list[int]] = defaultdict(list)
        for si, s in enumerate(self.p.sessions):
            by_hub[s.hub_id].append(si)
        sessions = self.p.sessions
        for hub_id, sis in by_hub.items():
            rooms = self.p.hub(hub_id).rooms
            if rooms is None:
                continue
            running: list[int] = []  # started at or before `at`, in index order
            started = 0
            for si in sis:
                at = sessions[si].start_minute
                while started < len(sis) and sessions[sis[started]].start_minute <= at:
                    running.append(sis[started])
                    started += 1
                running = [t for t in running if at < sessions[t].end_minute]
                terms = [
                    var
                    for t in running
                    for pi in range(len(sessions[t].posts))
                    for _, var in self.v.on_post.get((t, pi), ())
                ]
                if len(terms) > rooms:
                    self.m.add(_sum(terms) <= rooms)

    def add_locked(self) -> None:
        for ci, si in locked_pairs(self.p):
            self.m.add(self.v.works[ci, si] == 1)

    def add_max_weekly_hours(self) -> None:
        limit = self.p.rules.max_weekly_minutes
        for ci in self.v.sessions_of:
            allowance = max(0, limit - self.p.clinicians[ci].weekly_minutes_elsewhere)
            mine = self._own_posts(ci)
            for days in self._by_week(ci).values():
                sis = self._on_days(ci, days)
                if sum(self._minutes[si] for si in sis) > allowance:
                    posts = [x.index for si in sis for x in mine[si]]
                    lengths = [self._minutes[si] for si in sis for _ in mine[si]]
                    _add_row(self.m, posts, lengths, high=allowance)

    def add_sessions_per_day(self) -> None:
        for ci in self.v.sessions_of:
            limit = max_sessions_per_day_of(self.p, self.p.clinicians[ci])
            if limit is None:
                continue
            for day, day_sessions in self._by_day(ci).items():
                if len(day_sessions) > limit:
                    posts = self._day_posts(ci, [day])
                    _add_row(self.m, posts, [1] * len(posts), high=limit)

    def add_kind_cap(self) -> None:
        for ci, sis in self.v.sessions_of.items():
            caps = self.p.clinicians[ci].max_per_kind
            if not caps:
                continue
            kind_of = self._kinds
            count: Counter[str] = Counter(kind_of[si] for si in sis)
            posts_of_kind: dict[str, list[int]] = defaultdict(list)
            for index, si in zip(*self.v.post_terms(ci), strict=True):
                posts_of_kind[kind_of[si]].append(index)
            for kind, cap in caps:
                if count[kind] > cap:
                    posts = posts_of_kind[kind]
                    _add_row(self.m, posts, [1] * len(posts), high=cap)

    def add_period_minutes(self) -> None:
        for ci, c in enumerate(self.p.clinicians):
            if c.max_minutes_per_period is None and not c.min_minutes_per_period:
                continue
            sis = self.v.sessions_of.get(ci, [])
            most = sum(self._minutes[si] for si in sis)
            posts, on = self.v.post_terms(ci) if sis else ([], [])
            lengths = [self._minutes[si] for si in on]
            if c.max_minutes_per_period is not None and most > c.max_minutes_per_period:
                _add_row(self.m, posts, lengths, high=c.max_minutes_per_period)
            if c.min_minutes_per_period:
                if most < c.min_minutes_per_period:
                    self.m.add_bool_or([])  # cannot be met: the problem is infeasible
                else:
                    _add_row(self.m, posts, lengths, low=c.min_minutes_per_period)

    def _worked(self, ci: int, day: date) -> cp_model.IntVar | None:
        """The worked-day literal, or None where no session is possible that day (always off)."""
        return self.v.worked_day.get((ci, day))

    def add_min_consecutive_days(self) -> None:
        """No run of worked days shorter than the minimum, except runs touching the period's
        ends: for each short length L, forbid off, L days on, off (as one clause)."""
        days = self.p.days()
        for ci, c in enumerate(self.p.clinicians):
            least = c.min_consecutive_days or 0
            if least <= 1 or ci not in self.v.sessions_of:
                continue
            for length in range(1, least):
                for k in range(1, len(days) - length):
                    maybe_on = [self._worked(ci, days[k + j]) for j in range(length)]
                    on = [w for w in maybe_on if w is not None]
                    if len(on) < length:
                        continue  # those days can't all be worked
                    before, after = (
                        self._worked(ci, days[k - 1]),
                        self._worked(ci, days[k + length]),
                    )
                    clause = [w.Not() for w in on] + [w for w in (before, after) if w is not None]
                    self.m.add_bool_or(clause)

    def add_min_consecutive_days_off(self) -> None:
        """No run of days off shorter than the minimum between two worked days, except runs
        touching the period's ends: forbid on, L days off, on."""
        days = self.p.days()
        for ci, c in enumerate(self.p.clinicians):
            least = c.min_consecutive_days_off or 0
            if least <= 1 or ci not in self.v.sessions_of:
                continue
            for length in range(1, least):
                for k in range(1, len(days) - length):
                    before, after = (
                        self._worked(ci, days[k - 1]),
                        self._worked(ci, days[k + length]),
                    )
                    if before is None or after is None:
                        continue
                    off = [self._worked(ci, days[k + j]) for j in range(length)]
                    self.m.add_bool_or(
                        [before.Not(), after.Not(), *(w for w in off if w is not None)]
                    )

    def add_max_weekends(self) -> None:
        for ci, c in enumerate(self.p.clinicians):
            if c.max_weekends is None or ci not in self.v.sessions_of:
                continue
            by_weekend: dict[str, list[cp_model.IntVar]] = defaultdict(list)
            for day in self._by_day(ci):
                weekend = weekend_of(day)
                if weekend is not None:
                    by_weekend[weekend].append(self.v.worked_day[ci, day])
            if len(by_weekend) <= c.max_weekends:
                continue
            flags = []
            for weekend, ws in sorted(by_weekend.items()):
                flag = self.m.new_bool_var(f"weekend[{c.clinician_id},{weekend}]")
                for w in ws:
                    self.m.add_implication(w, flag)
                flags.append(flag)
            self.m.add(_sum(flags) <= c.max_weekends)

    def add_forbidden_succession(self) -> None:
        """A session and a session the next day of a kind that may not follow it: not both.
        A clinician's days mostly offer the same kinds, so where the forbidden ones sit among a
        day's sessions is worked out once per kind and day's kinds."""
        forbidden = set(self.p.rules.forbidden_successions)
        if not forbidden:
            return
        then: dict[str, set[str]] = defaultdict(set)  # kind → the kinds forbidden the day after
        for first, second in forbidden:
            then[first].add(second)
        sessions, kind_of = self.p.sessions, self._kinds
        # a day's kinds → (a kind → the positions of the kinds forbidden after it)
        banned_at: dict[tuple[str, ...], dict[str, list[int]]] = {}
        for ci in self.v.sessions_of:
            by_day, mine = self._by_day(ci), self._own_posts(ci)
            one_a_day = max_sessions_per_day_of(self.p, self.p.clinicians[ci]) == 1
            for day, today in by_day.items():
                tomorrow = by_day.get(day + timedelta(days=1))
                if not tomorrow:
                    continue
                exclusive = one_a_day or _all_overlap([sessions[b] for b in tomorrow])
                kinds = tuple([kind_of[b] for b in tomorrow])
                positions = banned_at.setdefault(kinds, {})
                posts = [mine[b] for b in tomorrow]
                for a in today:
                    kind = kind_of[a]
                    at = positions.get(kind)
                    if at is None:
                        banned = then.get(kind, set())
                        at = positions[kind] = [j for j, k in enumerate(kinds) if k in banned]
                    if not at:
                        continue
                    if exclusive:  # at most one of tomorrow's: one clique
                        clique = mine[a] + [x for j in at for x in posts[j]]
                        self.m.add_at_most_one(clique)
                    else:
                        for j in at:
                            self.m.add(self.v.works[ci, a] + self.v.works[ci, tomorrow[j]] <= 1)

    def _by_day(self, ci: int) -> dict[date, list[int]]:
        """Clinician ci's sessions by date, in date order (sessions are sorted by start)."""
        out = self._days.get(ci)
        if out is None:
            out = defaultdict(list)
            for si in self.v.sessions_of[ci]:
                out[self.p.sessions[si].date].append(si)
            self._days[ci] = out
        return out

    def _by_week(self, ci: int) -> dict[str, list[date]]:
        """The dates of clinician ci's sessions by ISO week."""
        out = self._weeks.get(ci)
        if out is None:
            out = defaultdict(list)
            for day, day_sessions in self._by_day(ci).items():
                out[self.p.sessions[day_sessions[0]].week].append(day)
            self._weeks[ci] = out
        return out

    def _on_days(self, ci: int, days: list[date]) -> list[int]:
        by_day = self._by_day(ci)
        return [si for day in days for si in by_day[day]]

    def _day_posts(self, ci: int, days: list[date]) -> list[int]:
        """The proto indices of clinician ci's post variables on these days."""
        mine = self._own_posts(ci)
        return [x.index for si in self._on_days(ci, days) for x in mine[si]]


def locked_pairs(problem: Problem) -> list[tuple[int, int]]:
    """(clinician index, session index) of every locked pin whose ids are known."""
    ci_of = {c.clinician_id: i for i, c in enumerate(problem.clinicians)}
    si_of = {s.session_id: i for i, s in enumerate(problem.sessions)}
    return sorted(
        {
            (ci_of[pin.clinician_id], si_of[pin.session_id])
            for pin in problem.published
            if pin.locked and pin.clinician_id in ci_of and pin.session_id in si_of
        }
    )


@dataclass
class Practices:
    """What the practice neighbourhood needs to aim at the fair-share goal: each practice's
    clinicians, the model variable of its minutes and its share weight; the variable of the
    total minutes and the sum of the weights."""

    members: list[list[int]]
    minutes: list[int]
    weights: list[int]
    total: int
    total_weight: int
    # each practice's minutes in an optimal solution of the LP relaxation, if one is known: a
    # share the rules allow, where the fair share itself may not be reachable
    targets: list[float] | None = None
    # draw the practices by their distance from their share (the fair-share phase), or evenly
    # (a tier below it, where fair share is held: clinicians of the same few practices can trade
    # sessions among themselves without moving the practices' minutes)
    aim: bool = True
    # how many (session, clinician pair) chances each two practices' clinicians have to take
    # each other's sessions: Σ over sessions of the two practices' clinicians who may work it,
    # multiplied; 0 where none of their clinicians share a session (where most clinicians work
    # only their own network's hubs, most pairs of practices can trade nothing)
    overlap: list[list[float]] | None = None

    def aim_at(self, lp_values: list[float]) -> None:
        """Take the targets from an LP solution (one value per model variable), if it has them.
        (Safe while scheduler.solver.lns draws from another thread: `targets` is replaced whole.)"""
        if all(index < len(lp_values) for index in self.minutes):
            self.targets = [lp_values[index] for index in self.minutes]

    def gaps(self, values: list[int]) -> list[int]:
        """Each practice's minutes above (+) or below (−) its target in the solution `values`:
        the LP's where known, else its fair share (scaled by the total weight)."""
        if self.targets is not None:
            return [round(values[m] - t) for m, t in zip(self.minutes, self.targets, strict=True)]
        total = values[self.total]
        return [
            self.total_weight * values[m] - w * total
            for m, w in zip(self.minutes, self.weights, strict=True)
        ]


class Objective:
    """One penalty expression per goal part (see domain.GOALS); each is exactly the checker's
    recomputation of that part."""

    def __init__(self, model: cp_model.CpModel, problem: Problem, v: Variables):
        self.m, self.p, self.v = model, problem, v
        self._load: dict[int, LinearExpr] = {}
        self._fair: list[tuple[int, int, cp_model.IntVar, int, int]] = []
        self._fair_lengths: list[Counter[int]] = []
        self.total_minutes: LinearExpr = 0
        # per practice with sessions it may work: (its clinicians, its minutes, its share weight),
        # and the sum of the weights; for neighbourhoods that move minutes between practices
        self.practices: list[tuple[list[int], cp_model.IntVar, int]] = []
        self.total_weight = 0
        self._fair_pending: list[
            tuple[str, list[int], list[int], list[int], int, int, cp_model.IntVar]
        ] = []

    def parts(self) -> dict[str, LinearExpr]:
        return {part: getattr(self, f"add_{part}")() for tier in GOALS for part in tier}

    def _filled(self, si: int, pi: int) -> LinearExpr:
        entries = self.v.on_post.get((si, pi), ())
        return _sum([var for _, var in entries]) if entries else 0

    def _shortfall(self, name: str, need: int, have: LinearExpr) -> LinearExpr:
        """max(0, need − have) as a variable (minimisation pushes it down onto the bound)."""
        if need <= 0:
            return 0
        short = self.m.new_int_var(0, need, name)
        self.m.add(short >= need - have)
        return short

    def add_unfilled_min(self) -> LinearExpr:
        self._short_min: dict[tuple[int, int], LinearExpr] = {}
        terms = []
        for si, s in enumerate(self.p.sessions):
            for pi, post in enumerate(s.posts):
                short = self._shortfall(
                    f"unfilled_min[{s.session_id},{pi}]", post.min, self._filled(si, pi)
                )
                self._short_min[si, pi] = short
                terms.append(s.minutes * short)
        return _total(terms)

    def add_cover(self) -> LinearExpr:
        """filled − target = over − under, with both slacks charged: the equality keeps the LP
        tight (two one-sided inequalities would leave it slack)."""
        terms = []
        for si, s in enumerate(self.p.sessions):
            for pi, post in enumerate(s.posts):
                if not (post.under_weight or post.over_weight):
                    continue
                under = self.m.new_int_var(0, post.target, f"cover_under[{s.session_id},{pi}]")
                over = self.m.new_int_var(
                    0, max(0, post.most - post.target), f"cover_over[{s.session_id},{pi}]"
                )
                self.m.add(self._filled(si, pi) - post.target == over - under)
                terms.append(post.under_weight * under + post.over_weight * over)
        return _total(terms)

    def add_requests(self) -> LinearExpr:
        ci_of = {c.clinician_id: i for i, c in enumerate(self.p.clinicians)}
        by_day: dict[tuple[int, date], list[int]] = defaultdict(list)
        for ci, sis in self.v.sessions_of.items():
            for si in sis:
                by_day[ci, self.p.sessions[si].date].append(si)
        terms: list[LinearExpr] = []
        for cid, day, offer in requests_of(self.p):
            found = ci_of.get(cid)
            matching = (
                [
                    self.v.works[found, si]
                    for si in by_day.get((found, day), ())
                    if offer.matches(self.p.sessions[si])
                ]
                if found is not None
                else []
            )
            name = f"request[{cid},{day},{offer.kind}]"
            if offer.status is not Status.UNAVAILABLE:  # asked for: charged when not worked
                if not matching:
                    terms.append(offer.weight)
                    continue
                met = matching[0] if len(matching) == 1 else self.m.new_bool_var(name)
                if len(matching) > 1:
                    self.m.add(met <= _sum(matching))
                terms.append(offer.weight * (1 - met))
            elif matching:  # asked against: charged when worked
                hit = matching[0] if len(matching) == 1 else self.m.new_bool_var(name)
                if len(matching) > 1:
                    for m in matching:
                        self.m.add(hit >= m)
                terms.append(offer.weight * hit)
        return _total(terms)

    def add_gp_cover(self) -> LinearExpr:
        if not self.p.rules.gp_cover:
            return 0
        terms = []
        for si, s in enumerate(self.p.sessions):
            if not s.has_gp_post or s.session_id in self.p.gp_elsewhere:
                continue
            gps = [
                var
                for pi, _ in enumerate(s.posts)
                for ci, var in self.v.on_post.get((si, pi), ())
                if self.p.clinicians[ci].role_key == "gp"
            ]
            no_gp = self.m.new_bool_var(f"gp_cover[{s.session_id}]")
            self.m.add(_sum(gps) + no_gp >= 1)
            terms.append(s.minutes * no_gp)
        return _total(terms)

    def add_contract(self) -> LinearExpr:
        network_of = {h.hub_id: h.network for h in self.p.hubs}
        delivered: dict[tuple[str, str], list[LinearExpr]] = defaultdict(list)
        lengths: dict[tuple[str, str], list[int]] = defaultdict(list)
        for (_ci, si), works in self.v.works.items():
            s = self.p.sessions[si]
            key = (network_of[s.hub_id], s.week)
            delivered[key].append(works)
            lengths[key].append(s.minutes)
        terms = []
        for (network, week), required in contract_requirements(self.p).items():
            key = (network, week)
            have = _weighted(delivered.get(key, []), lengths.get(key, []))
            terms.append(self._shortfall(f"contract[{network},{week}]", required, have))
        return _total(terms)

    def add_stability(self) -> LinearExpr:
        if not self.p.published:
            return 0
        ci_of = {c.clinician_id: i for i, c in enumerate(self.p.clinicians)}
        si_of = {s.session_id: i for i, s in enumerate(self.p.sessions)}
        published = {
            (ci_of.get(pin.clinician_id), si_of[pin.session_id])
            for pin in self.p.published
            if pin.session_id in si_of
        }
        terms: list[LinearExpr] = []
        for ci, si in published:
            weight = STABILITY_NEAR_FACTOR if is_near(self.p, self.p.sessions[si]) else 1
            kept = self.v.works.get((ci, si), 0) if ci is not None else 0
            terms.append(weight * (1 - kept))
        for (ci, si), works in self.v.works.items():
            if (ci, si) not in published:
                weight = STABILITY_NEAR_FACTOR if is_near(self.p, self.p.sessions[si]) else 1
                terms.append(weight * works)
        return _total(terms)

    def add_unfilled_target(self) -> LinearExpr:
        # max(0, target − filled) − max(0, min − filled); linear where filled ≤ target always
        terms = []
        for si, s in enumerate(self.p.sessions):
            for pi, post in enumerate(s.posts):
                if post.target <= post.min:
                    continue
                filled = self._filled(si, pi)
                if post.most > post.target:
                    under = self._shortfall(
                        f"unfilled_target[{s.session_id},{pi}]", post.target, filled
                    )
                else:
                    under = post.target - filled
                terms.append(s.minutes * (under - self._short_min[si, pi]))
        return _total(terms)

    def add_fair_share(self) -> LinearExpr:
        share = fair_share_weights(self.p)
        total_weight = sum(share.values())
        posts: dict[str, list[int]] = defaultdict(list)  # x variables' proto indices
        coefficients: dict[str, list[int]] = defaultdict(list)  # ... their sessions' minutes
        lengths: dict[str, list[int]] = defaultdict(list)  # each session a clinician may work
        clinicians: dict[str, set[int]] = defaultdict(set)
        for ci, sis in self.v.sessions_of.items():
            code = self.p.clinicians[ci].practice_code
            variables, on = self.v.post_terms(ci)
            posts[code] += variables
            coefficients[code] += [self.p.sessions[si].minutes for si in on]
            lengths[code] += [self.p.sessions[si].minutes for si in sis]
            clinicians[code].add(ci)
        self.total_weight = total_weight
        upper = sum(s.minutes * sum(p.most for p in s.posts) for s in self.p.sessions)
        total = self.m.new_int_var(0, max(upper, 1), "minutes_total")
        everyone = [index for code in share for index in posts.get(code, [])]
        minutes = [-c for code in share for c in coefficients.get(code, [])]
        _add_row(self.m, [total.index, *everyone], [1, *minutes], 0, 0)  # total − Σ minutes = 0
        self.total_minutes = total
        terms = []
        upper *= total_weight
        for code, w in share.items():
            dev = self.m.new_int_var(0, max(upper, 1), f"fair_share[{code}]")
            mine, coeffs = posts.get(code, []), coefficients.get(code, [])
            # dev ≥ ±gap, gap = total_weight × the practice's minutes − w × total
            for sign in (1, -1):
                scaled = [-sign * total_weight * c for c in coeffs]
                _add_row(
                    self.m,
                    [dev.index, *mine, *([total.index] if w else [])],
                    [1, *scaled, *([sign * w] if w else [])],
                    low=0,
                )
            terms.append(dev)
            step = math.gcd(*lengths[code]) if lengths.get(code) else 0
            most = sum(lengths.get(code, ()))
            self._fair.append((w, total_weight, dev, step, most))
            self._fair_lengths.append(Counter(lengths.get(code, ())))
            if most:
                self._fair_pending.append(
                    (code, sorted(clinicians[code]), mine, coeffs, most, w, dev)
                )
        return _total(terms)

    def scale_fair_share(self) -> None:
        """Name each practice's minutes as a variable and restate its deviation over it: three
        terms with small coefficients, where the rows above hold every session of the practice
        times the total list weight (tens of millions). GLOP (scheduler.solver.lp) cannot solve the
        LP with those rows and sets them aside; with these it bounds the phases from fair share
        down. Added only when the fair-share phase starts: in the model from the start, the
        same rows slow the phases before it several times over."""
        for code, members, posts, lengths, most, w, dev in self._fair_pending:
            mine = self.m.new_int_var(0, most, f"minutes[{code}]")
            _add_row(self.m, [mine.index, *posts], [1, *(-c for c in lengths)], 0, 0)
            self.m.add(dev >= self.total_weight * mine - w * self.total_minutes)
            self.m.add(dev >= w * self.total_minutes - self.total_weight * mine)
            self.practices.append((members, mine, w))
        self._fair_pending = []

    def practice_groups(
        self, lp_values: list[float] | None = None, aim: bool = True
    ) -> Practices | None:
        """The practices for scheduler.solver.lns's practice neighbourhood (None: fewer than two),
        aimed at the LP relaxation's minutes where `lp_values` gives them (with `aim`; without,
        drawn evenly)."""
        if len(self.practices) < 2 or not isinstance(self.total_minutes, cp_model.IntVar):
            return None
        minutes = [var.index for _, var, _ in self.practices]
        members = [members for members, _, _ in self.practices]
        practices = Practices(
            members,
            minutes,
            [w for _, _, w in self.practices],
            self.total_minutes.index,
            self.total_weight,
            None,
            aim,
            self._overlap(members),
        )
        if lp_values is not None:
            practices.aim_at(lp_values)
        return practices

    def _overlap(self, members: list[list[int]]) -> list[list[float]]:
        """Practices.overlap: N·Nᵀ, N[p, s] the clinicians of practice p who may work session s."""
        counts = np.zeros((len(members), len(self.p.sessions)))
        for p, group in enumerate(members):
            for ci in group:
                for si in self.v.sessions_of.get(ci, ()):
                    counts[p, si] += 1
        overlap = counts @ counts.T
        np.fill_diagonal(overlap, 0.0)
        return overlap.tolist()

    def tighten_fair_share(self, total: int, known: int) -> int:
        """Cuts valid once the total of minutes worked is known to be `total` (the tiers above
        fix it): each practice's minutes are a multiple of the gcd of its sessions' lengths, so
        its deviation is at least the distance from its fair share to the nearest such multiple;
        and all practices together are at least scheduler.solver.bounds.fair_share_floor, which also
        makes the minutes add up to `total` (`known`: a rota's fair-share value, which caps it).
        The LP alone sees none of this and leaves the phase's bound near 0. Returns the floor."""
        self.m.add(self.total_minutes == total)
        floor = fair_share_floor([w for w, *_ in self._fair], total, self._fair_lengths, known)
        self.m.add(sum(dev for _, _, dev, _, _ in self._fair) >= floor)
        for w, total_weight, dev, step, most in self._fair:
            if step == 0:
                self.m.add(dev >= w * total)
                continue
            ideal = w * total / (total_weight * step)
            candidates = {
                min(max(k, 0), most // step) for k in (math.floor(ideal), math.ceil(ideal))
            }
            self.m.add(dev >= min(abs(total_weight * step * k - w * total) for k in candidates))
        return floor

    def _convex(self, name: str, posts: list[int], most: int) -> LinearExpr:
        """n(n−1)/2 of the count of `posts` filled (x variables by proto index) through its
        tangents k·n − k(k+1)/2, exact at integers."""
        if most <= 1:
            return 0
        count: LinearExpr
        if most > 2:  # name the count once: each tangent is then two terms, not one per session
            count = self.m.new_int_var(0, most, f"{name}.count")
            _add_row(self.m, [count.index, *posts], [1] + [-1] * len(posts), 0, 0)  # n − Σ = 0
        else:
            count = _sum([self.m.get_bool_var_from_proto_index(i) for i in posts])
        tri = self.m.new_int_var(0, most * (most - 1) // 2, name)
        for k in range(1, most):
            self.m.add(tri >= k * count - k * (k + 1) // 2)
        return tri

    def load(self, ci: int) -> LinearExpr:
        return _sum([self.v.works[ci, si] for si in self.v.sessions_of[ci]])

    def _most_sessions(self, ci: int, sis: Iterable[int]) -> int:
        sis = list(sis)
        clinician = self.p.clinicians[ci]
        weeks = {self.p.sessions[si].week for si in sis}
        most = min(len(sis), clinician.max_sessions_per_week * len(weeks))
        if clinician.max_sessions_per_period is not None:
            most = min(most, clinician.max_sessions_per_period)
        return most

    def add_even_load(self) -> LinearExpr:
        return _total(
            [
                self._convex(
                    f"even_load[{self.p.clinicians[ci].clinician_id}]",
                    self.v.post_terms(ci)[0],
                    self._most_sessions(ci, sis),
                )
                for ci, sis in self.v.sessions_of.items()
            ]
        )

    def add_even_saturdays(self) -> LinearExpr:
        terms = []
        saturday = [s.is_saturday for s in self.p.sessions]
        for ci, sis in self.v.sessions_of.items():
            sats = [si for si in sis if saturday[si]]
            posts = [x.index for si in sats for x in self.v.posts_of[ci, si]]
            terms.append(
                self._convex(
                    f"even_saturdays[{self.p.clinicians[ci].clinician_id}]",
                    posts,
                    self._most_sessions(ci, sats),
                )
            )
        return _total(terms)

    def add_min_sessions(self) -> LinearExpr:
        terms = []
        for ci, c in enumerate(self.p.clinicians):
            if c.min_sessions_per_period > 0:
                have = self.load(ci) if ci in self.v.sessions_of else 0
                terms.append(
                    self._shortfall(
                        f"min_sessions[{c.clinician_id}]", c.min_sessions_per_period, have
                    )
                )
        return _total(terms)

    def add_preferences(self) -> LinearExpr:
        terms: list[LinearExpr] = []
        for ci, c in enumerate(self.p.clinicians):
            for day in self.p.days():
                if is_preferred_date(self.p, c.clinician_id, day):
                    terms.append(1 - self.v.worked_day.get((ci, day), 0))
        for (ci, si), works in self.v.works.items():
            preferred_hubs = self.p.clinicians[ci].preferred_hubs
            if preferred_hubs and self.p.sessions[si].hub_id not in preferred_hubs:
                terms.append(works)
        return _total(terms)

    def add_cost(self) -> LinearExpr:
        costs = [
            assignment_cost_pence(self.p.clinicians[ci], self.p.sessions[si])
            for ci, si in self.v.works
        ]
        return _weighted(list(self.v.works.values()), costs)


@dataclass
class RotaModel:
    model: cp_model.CpModel
    variables: Variables
    parts: dict[str, LinearExpr]
    objective: Objective
    # how long the solve last took to complete a rota into a whole solution of this model
    # (scheduler.solver.solve, which keeps that much back for the closing steps)
    completion_seconds: float = 0.0


def build_model(problem: Problem) -> RotaModel:
    """Lists the rules; see Constraints and Objective for each."""
    model = cp_model.CpModel()
    variables = Variables.build(model, problem, forced=set(locked_pairs(problem)))
    Constraints(model, problem, variables).add_all()
    objective = Objective(model, problem, variables)
    parts = objective.parts()
    return RotaModel(model, variables, parts, objective)
