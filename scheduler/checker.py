"""The independent checker: every hard rule and every objective part, computed without a solver."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from scheduler.domain import (
    GP_ROLE,
    HARD_RULES,
    PARTS,
    STABILITY_NEAR_FACTOR,
    Assignment,
    Clinician,
    ClinicianId,
    HubId,
    Post,
    Problem,
    Rota,
    Session,
    SessionId,
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
    triangle,
    weekend_of,
)

UNKNOWN = "unknown"  # stem for assignments naming a session, post or clinician that does not exist


@dataclass(frozen=True)
class Violation:
    """One broken hard rule: its stem, who and which session (None where the rule names none)."""

    rule: str
    clinician_id: ClinicianId | None
    session_id: SessionId | None
    message: str
    related: tuple[SessionId, ...] = field(default=())  # the other session(s) involved, if any

    def line(self) -> str:
        return f"{self.rule}: {self.clinician_id or '-'} {self.session_id or '-'}: {self.message}"


# ---- wording shared with the explanations ----------------------------------------------------

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_day(day: date, year: bool = True) -> str:
    """'Sat 6 Mar 2027' (or 'Sat 6 Mar'), independent of the locale."""
    text = f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def format_time(clock: time) -> str:
    return f"{clock:%H:%M}"


def format_hours(minutes: int) -> str:
    """'11 h' for whole hours, else '10 h 30 m'."""
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" if rest == 0 else f"{hours} h {rest} m"


def format_gap(minutes: int) -> str:
    """'13 h 0 m' (always both units, so a gap reads as measured, not as a rule)."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours} h {rest} m"


def describe_session(problem: Problem, session: Session, year: bool = False) -> str:
    """'Fri 5 Mar 18:30–20:00 at Kingsway Health Centre'."""
    return (
        f"{format_day(session.date, year)} {format_time(session.start)}–"
        f"{format_time(session.end)} at {hub_name(problem, session.hub_id)}"
    )


def hub_name(problem: Problem, hub_id: HubId) -> str:
    try:
        return problem.hub(hub_id).name
    except KeyError:
        return hub_id


def roles_or(post: Post) -> str:
    """The post's roles as written: 'GP;ANP' reads 'GP or ANP'."""
    names = [r.strip() for r in post.roles_text.split(";") if r.strip()]
    return " or ".join(names) if names else post.roles_text


# ---- an index of the rota ----------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One assignment whose session, post and clinician all exist."""

    assignment: Assignment
    session: Session
    post: Post
    clinician: Clinician
    start_minute: int  # the session's, computed once
    end_minute: int
    week: str

    @property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute

    @property
    def session_id(self) -> SessionId:
        return self.assignment.session_id

    @property
    def clinician_id(self) -> ClinicianId:
        return self.assignment.clinician_id


@dataclass
class RotaView:
    """A rota resolved against its problem and indexed by clinician, post and hub.

    Build it once with `RotaView.of` when asking many questions about one rota.
    """

    entries: list[Entry]
    unknown: list[Violation]
    pairs: set[tuple[SessionId, ClinicianId]]  # every (session, clinician) named, even unknown
    by_clinician: dict[ClinicianId, list[Entry]]
    by_post: dict[tuple[SessionId, int], list[Entry]]
    by_hub: dict[HubId, list[Entry]]
    # the clinicians whose own rules the view answers for: None, every clinician of the problem;
    # else only these (a view of a few clinicians' entries, asked about those few)
    scope: tuple[Clinician, ...] | None = None

    @classmethod
    def of(cls, problem: Problem, rota: Iterable[Assignment]) -> RotaView:
        entries: list[Entry] = []
        unknown: list[Violation] = []
        pairs: set[tuple[SessionId, ClinicianId]] = set()
        for a in rota:
            pairs.add((a.session_id, a.clinician_id))
            resolved = _resolve(problem, a)
            if isinstance(resolved, Violation):
                unknown.append(resolved)
            else:
                entries.append(resolved)
        return cls.from_entries(entries, unknown, pairs)

    @classmethod
    def from_entries(
        cls,
        entries: Iterable[Entry],
        unknown: list[Violation] | None = None,
        pairs: set[tuple[SessionId, ClinicianId]] | None = None,
        scope: tuple[Clinician, ...] | None = None,
    ) -> RotaView:
        ordered = sorted(entries, key=lambda e: (e.start_minute, e.session.hub_id, e.assignment))
        by_clinician: dict[ClinicianId, list[Entry]] = defaultdict(list)
        by_post: dict[tuple[SessionId, int], list[Entry]] = defaultdict(list)
        by_hub: dict[HubId, list[Entry]] = defaultdict(list)
        for e in ordered:
            by_clinician[e.clinician_id].append(e)
            by_post[(e.session_id, e.assignment.post_index)].append(e)
            by_hub[e.session.hub_id].append(e)
        if pairs is None:
            pairs = {(e.session_id, e.clinician_id) for e in ordered}
        return cls(
            ordered, unknown or [], pairs, dict(by_clinician), dict(by_post), dict(by_hub), scope
        )

    def clinicians(self, problem: Problem) -> tuple[Clinician, ...]:
        """The clinicians to check rules about (those with no entries too: a minimum can be
        missed by working nothing)."""
        return problem.clinicians if self.scope is None else self.scope

    def filled(self, session_id: SessionId, post_index: int) -> int:
        return len(self.by_post.get((session_id, post_index), ()))


def _resolve(problem: Problem, a: Assignment) -> Entry | Violation:
    def unknown(message: str) -> Violation:
        return Violation(UNKNOWN, a.clinician_id, a.session_id, message)

    try:
        session = problem.session(a.session_id)
    except KeyError:
        return unknown(f"no session {a.session_id} in the problem")
    if not 0 <= a.post_index < len(session.posts):
        return unknown(f"session has {len(session.posts)} post(s); no post index {a.post_index}")
    try:
        clinician = problem.clinician(a.clinician_id)
    except KeyError:
        return unknown(f"no clinician {a.clinician_id}")
    return Entry(
        a,
        session,
        session.posts[a.post_index],
        clinician,
        session.start_minute,
        session.end_minute,
        session.week,
    )


def _as_view(problem: Problem, rota: Rota | RotaView | Iterable[Assignment]) -> RotaView:
    return rota if isinstance(rota, RotaView) else RotaView.of(problem, rota)


# ---- the hard rules, one function per stem -------------------------------------------------


def check_role(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for e in view.entries:
        if e.clinician.role_key not in e.post.roles:
            yield Violation(
                "role",
                e.clinician_id,
                e.session_id,
                f"{e.clinician.role} on a post for {roles_or(e.post)}",
            )


def check_skill(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for e in view.entries:
        if e.post.skill is not None and e.post.skill not in e.clinician.skills:
            yield Violation(
                "skill",
                e.clinician_id,
                e.session_id,
                f"lacks skill {e.post.skill} that the post for {roles_or(e.post)} needs",
            )


def check_availability(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for e in view.entries:
        if offer_for(problem, e.clinician, e.session) is Status.UNAVAILABLE:
            yield Violation(
                "availability",
                e.clinician_id,
                e.session_id,
                _why_unavailable(problem, e.clinician, e.session),
            )


def _why_unavailable(problem: Problem, clinician: Clinician, session: Session) -> str:
    when = describe_session(problem, session, year=True)
    offers = problem.availability.get((clinician.clinician_id, session.date))
    if not offers:
        return f"did not offer {when} (unavailable unless offered)"
    if any(o.status is Status.UNAVAILABLE and o.touches(session) for o in offers):
        return f"marked unavailable for {when}"
    return f"offered {format_day(session.date)} but no offered window covers {when}"


def check_allowed_hubs(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for e in view.entries:
        if not e.clinician.may_work_at(e.session.hub_id):
            allowed = ", ".join(hub_name(problem, h) for h in sorted(e.clinician.hubs))
            yield Violation(
                "allowed_hubs",
                e.clinician_id,
                e.session_id,
                f"may not work at {hub_name(problem, e.session.hub_id)} (only {allowed})",
            )


def check_post_capacity(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for (session_id, index), entries in view.by_post.items():
        post = entries[0].post
        if len(entries) > post.most:
            yield Violation(
                "post_capacity",
                None,
                session_id,
                f"post {index} ({roles_or(post)}) has {len(entries)} people; at most {post.most}",
            )


def check_overlap(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for cid, entries in view.by_clinician.items():
        for i, first in enumerate(entries):  # sorted by start
            for second in entries[i + 1 :]:
                if second.start_minute >= first.end_minute:
                    break
                if second.session_id == first.session_id:
                    message = f"twice on {describe_session(problem, first.session)}"
                else:
                    message = (
                        f"overlaps {describe_session(problem, first.session)} "
                        f"with {describe_session(problem, second.session)}"
                    )
                yield Violation("overlap", cid, second.session_id, message, (first.session_id,))


def check_min_rest(problem: Problem, view: RotaView) -> Iterator[Violation]:
    needed = problem.rules.min_rest_minutes
    for cid, entries in view.by_clinician.items():
        for i, first in enumerate(entries):
            s = first.session
            for second in entries[i + 1 :]:
                t = second.session
                gap = second.start_minute - first.end_minute
                if gap >= needed:
                    break  # later sessions start later still
                if t.date <= s.date:
                    continue  # the same day: back to back is allowed
                days = (t.date - s.date).days
                when = "next day" if days == 1 else format_day(t.date, year=False)
                yield Violation(
                    "min_rest",
                    cid,
                    first.session_id,
                    f"under {format_hours(needed)} rest after {describe_session(problem, s)} "
                    f"(next starts {format_time(t.start)} {when} at "
                    f"{hub_name(problem, t.hub_id)}; gap {format_gap(gap)}, "
                    f"needed {format_hours(needed)})",
                    (second.session_id,),
                )


def check_max_consecutive_days(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for cid, entries in view.by_clinician.items():
        limit = max_consecutive_days_of(problem, entries[0].clinician)
        first_on: dict[date, Entry] = {}
        for e in entries:
            first_on.setdefault(e.session.date, e)
        for run in _runs(sorted(first_on)):
            if len(run) > limit:
                yield Violation(
                    "max_consecutive_days",
                    cid,
                    first_on[run[limit]].session_id,
                    f"works {len(run)} days in a row, {format_day(run[0])} to "
                    f"{format_day(run[-1])}; at most {limit}",
                )


def _runs(days: list[date]) -> Iterator[list[date]]:
    """Maximal runs of consecutive dates in a sorted list."""
    run: list[date] = []
    for d in days:
        if run and d - run[-1] != timedelta(days=1):
            yield run
            run = []
        run.append(d)
    if run:
        yield run


def check_weekly_cap(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for cid, entries in view.by_clinician.items():
        cap = entries[0].clinician.max_sessions_per_week
        for week, in_week in _by_week(entries).items():
            if len(in_week) > cap:
                yield Violation(
                    "weekly_cap",
                    cid,
                    in_week[cap].session_id,
                    f"{len(in_week)} sessions in {week}; at most {cap}",
                )


def _by_week(entries: list[Entry]) -> dict[str, list[Entry]]:
    weeks: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        weeks[e.week].append(e)
    return weeks


def check_period_cap(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for cid, entries in view.by_clinician.items():
        cap = entries[0].clinician.max_sessions_per_period
        if cap is not None and len(entries) > cap:
            yield Violation(
                "period_cap",
                cid,
                entries[cap].session_id,
                f"{len(entries)} sessions in the period; at most {cap}",
            )


def check_rooms(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for hub_id, entries in view.by_hub.items():
        try:
            rooms = problem.hub(hub_id).rooms
        except KeyError:
            continue
        if rooms is None:
            continue
        per_session = Counter(e.session_id for e in entries)
        spans = {e.session_id: (e.start_minute, e.end_minute) for e in entries}
        sessions = {e.session_id: e.session for e in entries}
        reported: set[int] = set()
        # the most people at once is reached at some session's start
        for sid in sorted(per_session, key=lambda s: spans[s][0]):
            instant = spans[sid][0]
            if instant in reported:
                continue
            reported.add(instant)
            at_once = sum(
                n
                for other, n in per_session.items()
                if spans[other][0] <= instant < spans[other][1]
            )
            if at_once > rooms:
                yield Violation(
                    "rooms",
                    None,
                    sid,
                    f"{at_once} clinicians at once at {hub_name(problem, hub_id)} "
                    f"at {format_time(sessions[sid].start)} "
                    f"{format_day(sessions[sid].date)}; {rooms} rooms",
                )


def check_locked(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for pin in problem.published:
        if pin.locked and (pin.session_id, pin.clinician_id) not in view.pairs:
            try:
                what = describe_session(problem, problem.session(pin.session_id), year=True)
            except KeyError:
                what = f"{pin.session_id}, a session not in this problem"
            yield Violation(
                "locked", pin.clinician_id, pin.session_id, f"locked pin dropped: {what}"
            )


def check_max_weekly_hours(problem: Problem, view: RotaView) -> Iterator[Violation]:
    limit = problem.rules.max_weekly_minutes
    for cid, entries in view.by_clinician.items():
        elsewhere = entries[0].clinician.weekly_minutes_elsewhere
        for week, in_week in _by_week(entries).items():
            total = elsewhere + sum(e.minutes for e in in_week)
            if total <= limit:
                continue
            running = elsewhere
            for e in in_week:  # name the session that first goes over
                running += e.minutes
                if running > limit:
                    break
            yield Violation(
                "max_weekly_hours",
                cid,
                e.session_id,
                f"{format_gap(total)} in {week} counting "
                f"{format_gap(elsewhere)} elsewhere; at most {format_hours(limit)}",
            )


def check_sessions_per_day(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for cid, entries in view.by_clinician.items():
        limit = max_sessions_per_day_of(problem, entries[0].clinician)
        if limit is None:
            continue
        by_day: dict[date, list[Entry]] = defaultdict(list)
        for e in entries:
            by_day[e.session.date].append(e)
        for day, on_day in by_day.items():
            if len(on_day) > limit:
                yield Violation(
                    "sessions_per_day",
                    cid,
                    on_day[limit].session_id,
                    f"{len(on_day)} sessions on {format_day(day)}; at most {limit}",
                )


def check_kind_cap(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for cid, entries in view.by_clinician.items():
        for kind, cap in entries[0].clinician.max_per_kind:
            of_kind = [e for e in entries if e.session.kind == kind]
            if len(of_kind) > cap:
                yield Violation(
                    "kind_cap",
                    cid,
                    of_kind[cap].session_id,
                    f"{len(of_kind)} sessions of kind {kind}; at most {cap}",
                )


def check_period_minutes(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for c in view.clinicians(problem):
        entries = view.by_clinician.get(c.clinician_id, [])
        total = sum(e.minutes for e in entries)
        if c.max_minutes_per_period is not None and total > c.max_minutes_per_period:
            yield Violation(
                "period_minutes",
                c.clinician_id,
                entries[-1].session_id,
                f"{format_gap(total)} in the period; at most "
                f"{format_gap(c.max_minutes_per_period)}",
            )
        if c.min_minutes_per_period is not None and total < c.min_minutes_per_period:
            yield Violation(
                "period_minutes",
                c.clinician_id,
                None,
                f"{format_gap(total)} in the period; at least "
                f"{format_gap(c.min_minutes_per_period)}",
            )


def _inner_runs(problem: Problem, days: list[date]) -> Iterator[list[date]]:
    """Maximal runs of consecutive dates that touch neither end of the period (those are exempt
    from minimum run lengths: work or rest may go on beyond the period)."""
    for run in _runs(days):
        if run[0] != problem.period_start and run[-1] != problem.period_end:
            yield run


def check_min_consecutive_days(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for cid, entries in view.by_clinician.items():
        least = entries[0].clinician.min_consecutive_days
        if not least or least <= 1:
            continue
        first_on: dict[date, Entry] = {}
        for e in entries:
            first_on.setdefault(e.session.date, e)
        for run in _inner_runs(problem, sorted(first_on)):
            if len(run) < least:
                yield Violation(
                    "min_consecutive_days",
                    cid,
                    first_on[run[0]].session_id,
                    f"works {len(run)} day(s) in a row from {format_day(run[0])}; at least {least}",
                )


def check_min_consecutive_days_off(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for c in view.clinicians(problem):
        least = c.min_consecutive_days_off
        if not least or least <= 1:
            continue
        worked = {e.session.date for e in view.by_clinician.get(c.clinician_id, ())}
        off = [d for d in problem.days() if d not in worked]
        for run in _inner_runs(problem, off):
            if len(run) < least:
                yield Violation(
                    "min_consecutive_days_off",
                    c.clinician_id,
                    None,
                    f"{len(run)} day(s) off in a row from {format_day(run[0])}; at least {least}",
                )


def check_max_weekends(problem: Problem, view: RotaView) -> Iterator[Violation]:
    for cid, entries in view.by_clinician.items():
        most = entries[0].clinician.max_weekends
        if most is None:
            continue
        weekends: dict[str, Entry] = {}
        for e in entries:
            weekend = weekend_of(e.session.date)
            if weekend is not None:
                weekends.setdefault(weekend, e)
        if len(weekends) > most:
            first_over = sorted(weekends)[most]
            yield Violation(
                "max_weekends",
                cid,
                weekends[first_over].session_id,
                f"works {len(weekends)} weekends; at most {most}",
            )


def check_forbidden_succession(problem: Problem, view: RotaView) -> Iterator[Violation]:
    forbidden = set(problem.rules.forbidden_successions)
    if not forbidden:
        return
    for cid, entries in view.by_clinician.items():
        by_day: dict[date, list[Entry]] = defaultdict(list)
        for e in entries:
            by_day[e.session.date].append(e)
        for day, on_day in by_day.items():
            for e in on_day:
                for f in by_day.get(day + timedelta(days=1), ()):
                    if (e.session.kind, f.session.kind) in forbidden:
                        yield Violation(
                            "forbidden_succession",
                            cid,
                            f.session_id,
                            f"{f.session.kind} on {format_day(f.session.date)} "
                            f"may not follow {e.session.kind} the day before",
                            (e.session_id,),
                        )


CHECKS: dict[str, Callable[[Problem, RotaView], Iterator[Violation]]] = {
    "role": check_role,
    "skill": check_skill,
    "availability": check_availability,
    "allowed_hubs": check_allowed_hubs,
    "post_capacity": check_post_capacity,
    "overlap": check_overlap,
    "min_rest": check_min_rest,
    "max_consecutive_days": check_max_consecutive_days,
    "weekly_cap": check_weekly_cap,
    "period_cap": check_period_cap,
    "rooms": check_rooms,
    "locked": check_locked,
    "max_weekly_hours": check_max_weekly_hours,
    "sessions_per_day": check_sessions_per_day,
    "kind_cap": check_kind_cap,
    "period_minutes": check_period_minutes,
    "min_consecutive_days": check_min_consecutive_days,
    "min_consecutive_days_off": check_min_consecutive_days_off,
    "max_weekends": check_max_weekends,
    "forbidden_succession": check_forbidden_succession,
}
assert tuple(CHECKS) == HARD_RULES, "one check per hard rule, in HARD_RULES order"


def check(problem: Problem, rota: Rota | RotaView | Iterable[Assignment]) -> list[Violation]:
    """Every broken hard rule: unknown references first, then by stem in HARD_RULES order."""
    view = _as_view(problem, rota)
    found = list(view.unknown)
    for stem in HARD_RULES:
        found.extend(CHECKS[stem](problem, view))
    return found


# ---- questions about edits ---------------------------------------------------------------


def violations_if_added(
    problem: Problem,
    rota: Rota | RotaView | Iterable[Assignment],
    session_id: SessionId,
    post_index: int,
    clinician_id: ClinicianId,
) -> list[Violation]:
    """The violations that adding this one assignment would create (or worsen: a broken rule
    whose message changes, e.g. a fourth session over a weekly cap of two, counts as new).

    Only the assignments the addition can interact with are re-checked: the clinician's own, and
    those on sessions at the same hub that overlap the new one (for post capacity and rooms).
    Adding never drops a locked pin, so `locked` is not re-checked. Pass a `RotaView` when asking
    about many candidates of one rota.
    """
    view = _as_view(problem, rota)
    entry = _resolve(problem, Assignment(session_id, post_index, clinician_id))
    if isinstance(entry, Violation):
        return [entry]
    mine = view.by_clinician.get(clinician_id, [])
    nearby = [
        e
        for e in view.by_hub.get(entry.session.hub_id, ())
        if e.start_minute < entry.end_minute and entry.start_minute < e.end_minute
    ]
    found = clinician_violations(problem, entry.clinician, mine, [*mine, entry]) + _new_violations(
        problem, nearby, [*nearby, entry], SHARED_RULES
    )
    return sorted(found, key=lambda v: HARD_RULES.index(v.rule))


# The rules about one clinician's own assignments, and those shared by everyone on a post or hub
# (`locked` is neither: adding never drops a pin).
CLINICIAN_RULES = (
    "role",
    "skill",
    "availability",
    "allowed_hubs",
    "overlap",
    "min_rest",
    "max_consecutive_days",
    "weekly_cap",
    "period_cap",
    "max_weekly_hours",
    "sessions_per_day",
    "kind_cap",
    "period_minutes",
    "min_consecutive_days",
    "min_consecutive_days_off",
    "max_weekends",
    "forbidden_succession",
)
SHARED_RULES = ("post_capacity", "rooms")


def violations_after_edit(
    problem: Problem,
    rota: Iterable[Assignment],
    added: Iterable[Assignment] = (),
    removed: Iterable[Assignment] = (),
) -> list[Violation]:
    """The violations a manual edit (assignments removed, then added) creates, by full checks.

    A removed assignment is matched on session, post and clinician (its `locked` flag aside).
    """
    rota = list(rota)
    gone = Counter((a.session_id, a.post_index, a.clinician_id) for a in removed)
    kept: list[Assignment] = []
    for a in rota:
        key = (a.session_id, a.post_index, a.clinician_id)
        if gone[key] > 0:
            gone[key] -= 1
        else:
            kept.append(a)
    return _not_in(check(problem, [*kept, *added]), check(problem, rota))


def _not_in(after: list[Violation], before: list[Violation]) -> list[Violation]:
    """`after` less `before`, as multisets, in `after`'s order."""
    old = Counter(before)
    new: list[Violation] = []
    for v in after:
        if old[v] > 0:
            old[v] -= 1
        else:
            new.append(v)
    return new


def clinician_violations(
    problem: Problem, clinician: Clinician, before: list[Entry], after: list[Entry]
) -> list[Violation]:
    """The violations of the rules about one clinician's own sessions (CLINICIAN_RULES) that
    changing their entries from `before` to `after` creates (or worsens, as
    violations_if_added)."""
    return _new_violations(problem, before, after, CLINICIAN_RULES, (clinician,))


def _new_violations(
    problem: Problem,
    before: list[Entry],
    after: list[Entry],
    stems: tuple[str, ...],
    scope: tuple[Clinician, ...] | None = None,
) -> list[Violation]:
    return _not_in(
        _check_entries(problem, after, stems, scope), _check_entries(problem, before, stems, scope)
    )


def _check_entries(
    problem: Problem,
    entries: list[Entry],
    stems: tuple[str, ...],
    scope: tuple[Clinician, ...] | None = None,
) -> list[Violation]:
    view = RotaView.from_entries(entries, scope=scope)
    return [v for stem in stems for v in CHECKS[stem](problem, view)]


# ---- the objective, straight from the README table -------------------------------------------


def objective_parts(
    problem: Problem, rota: Rota | RotaView | Iterable[Assignment]
) -> dict[str, int]:
    """Every soft part (exactly domain.PARTS), unweighted; assignments that name no known
    session, post or clinician are left out."""
    view = _as_view(problem, rota)
    parts = {name: PART_FUNCTIONS[name](problem, view) for name in PARTS}
    return parts


def weighted_total(problem: Problem, parts: dict[str, int]) -> int:
    return int(problem.weights.total(parts))


def part_unfilled_min(problem: Problem, view: RotaView) -> int:
    return sum(
        max(0, post.min - view.filled(s.session_id, i)) * s.minutes
        for s in problem.sessions
        for i, post in enumerate(s.posts)
    )


def part_cover(problem: Problem, view: RotaView) -> int:
    """Weighted cover: under_weight per person short of target, over_weight per person above."""
    total = 0
    for s in problem.sessions:
        for i, post in enumerate(s.posts):
            if post.under_weight or post.over_weight:
                filled = view.filled(s.session_id, i)
                total += post.under_weight * max(0, post.target - filled)
                total += post.over_weight * max(0, filled - post.target)
    return total


def part_requests(problem: Problem, view: RotaView) -> int:
    """A request for a session (of a kind) that day not met, or one against it that is not."""
    total = 0
    for cid, day, offer in requests_of(problem):
        works = any(
            e.session.date == day and offer.matches(e.session)
            for e in view.by_clinician.get(cid, ())
        )
        wanted = offer.status is not Status.UNAVAILABLE
        if works != wanted:
            total += offer.weight
    return total


def part_unfilled_target(problem: Problem, view: RotaView) -> int:
    return sum(
        max(0, post.target - max(post.min, view.filled(s.session_id, i))) * s.minutes
        for s in problem.sessions
        for i, post in enumerate(s.posts)
    )


def part_gp_cover(problem: Problem, view: RotaView) -> int:
    if not problem.rules.gp_cover:
        return 0
    with_gp = {e.session_id for e in view.entries if e.clinician.role_key == GP_ROLE}
    return sum(
        s.minutes
        for s in problem.sessions
        if s.has_gp_post
        and s.session_id not in with_gp
        and s.session_id not in problem.gp_elsewhere
    )


def part_contract(problem: Problem, view: RotaView) -> int:
    delivered: Counter[tuple[str, str]] = Counter()
    for e in view.entries:
        delivered[(_network_of_hub(problem, e.session.hub_id), e.session.week)] += e.session.minutes
    return sum(
        max(0, required - delivered[key])
        for key, required in contract_requirements(problem).items()
    )


def _network_of_hub(problem: Problem, hub_id: HubId) -> str:
    try:
        return problem.hub(hub_id).network
    except KeyError:
        return ""


def part_stability(problem: Problem, view: RotaView) -> int:
    """Published pairs dropped plus pairs added, ×STABILITY_NEAR_FACTOR near the reference date.

    Without any published pin this is a first run and nothing is counted (else every
    assignment of a first run would be a 'change'); pins whose session no longer exists are
    ignored.
    """
    if not problem.published:
        return 0
    sessions = {s.session_id: s for s in problem.sessions}
    published = {
        (p.session_id, p.clinician_id) for p in problem.published if p.session_id in sessions
    }
    current = {(e.session_id, e.clinician_id) for e in view.entries}

    def cost(pair: tuple[SessionId, ClinicianId]) -> int:
        return STABILITY_NEAR_FACTOR if is_near(problem, sessions[pair[0]]) else 1

    return sum(cost(pair) for pair in published ^ current)


def part_fair_share(problem: Problem, view: RotaView) -> int:
    shares = fair_share_weights(problem)
    total_weight = sum(shares.values())
    minutes: Counter[str] = Counter()
    for e in view.entries:
        minutes[e.clinician.practice_code] += e.session.minutes
    total = sum(minutes.values())
    return sum(abs(total_weight * minutes[code] - share * total) for code, share in shares.items())


def _sessions_per_clinician(
    problem: Problem, view: RotaView, keep: Callable[[Session], bool] = lambda s: True
) -> dict[str, int]:
    return {
        c.clinician_id: sum(1 for e in view.by_clinician.get(c.clinician_id, ()) if keep(e.session))
        for c in problem.clinicians
    }


def part_even_load(problem: Problem, view: RotaView) -> int:
    return sum(triangle(n) for n in _sessions_per_clinician(problem, view).values())


def part_even_saturdays(problem: Problem, view: RotaView) -> int:
    counts = _sessions_per_clinician(problem, view, lambda s: s.is_saturday)
    return sum(triangle(n) for n in counts.values())


def part_min_sessions(problem: Problem, view: RotaView) -> int:
    counts = _sessions_per_clinician(problem, view)
    return sum(
        max(0, c.min_sessions_per_period - counts[c.clinician_id]) for c in problem.clinicians
    )


def part_preferences(problem: Problem, view: RotaView) -> int:
    missed = 0
    for c in problem.clinicians:
        worked = {e.session.date for e in view.by_clinician.get(c.clinician_id, ())}
        missed += sum(
            1
            for d in problem.days()
            if is_preferred_date(problem, c.clinician_id, d) and d not in worked
        )
    elsewhere = sum(
        1
        for e in view.entries
        if e.clinician.preferred_hubs and e.session.hub_id not in e.clinician.preferred_hubs
    )
    return missed + elsewhere


def part_cost(problem: Problem, view: RotaView) -> int:
    return sum(assignment_cost_pence(e.clinician, e.session) for e in view.entries)


PART_FUNCTIONS: dict[str, Callable[[Problem, RotaView], int]] = {
    "unfilled_min": part_unfilled_min,
    "cover": part_cover,
    "requests": part_requests,
    "gp_cover": part_gp_cover,
    "contract": part_contract,
    "stability": part_stability,
    "unfilled_target": part_unfilled_target,
    "fair_share": part_fair_share,
    "even_load": part_even_load,
    "even_saturdays": part_even_saturdays,
    "min_sessions": part_min_sessions,
    "preferences": part_preferences,
    "cost": part_cost,
}
assert set(PART_FUNCTIONS) == set(PARTS), "one function per objective part"
