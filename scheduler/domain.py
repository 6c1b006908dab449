"""Domain types of a rota problem and its answer: frozen dataclasses, no solver, no I/O."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from enum import Enum
from functools import cached_property
from typing import Any

ClinicianId = str
PracticeCode = str
HubId = str
SessionId = str
Network = str
WeekKey = tuple[Network, str]  # (network, ISO week "2027-W09")

DEFAULT_NETWORK: Network = "default"
MINUTES_PER_DAY = 24 * 60


class Status(Enum):
    """What a clinician offered for a date (or part of it)."""

    AVAILABLE = "available"
    PREFERRED = "preferred"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Practice:
    code: PracticeCode
    name: str
    list_size: int
    adjusted_population: int
    network: Network = DEFAULT_NETWORK


@dataclass(frozen=True)
class Hub:
    hub_id: HubId
    name: str
    address: str = ""
    postcode: str = ""
    rooms: int | None = None  # None: unlimited
    network: Network = DEFAULT_NETWORK


@dataclass(frozen=True)
class Clinician:
    clinician_id: ClinicianId
    name: str
    practice_code: PracticeCode
    role: str  # as written; compare through role_key
    email: str = ""
    skills: frozenset[str] = frozenset()  # casefolded
    max_sessions_per_week: int = 2
    max_sessions_per_period: int | None = None
    min_sessions_per_period: int = 0
    hubs: frozenset[HubId] = frozenset()  # empty: every hub
    cost_per_hour_pence: int = 0
    weekly_minutes_elsewhere: int = 0
    preferred_hubs: frozenset[HubId] = frozenset()  # extension: empty means no preference
    # Optional general rules (extensions; None = no such rule for this clinician):
    max_sessions_per_day: int | None = None
    max_per_kind: tuple[tuple[str, int], ...] = ()  # (session kind, most sessions of it)
    max_minutes_per_period: int | None = None
    min_minutes_per_period: int | None = None  # hard, unlike min_sessions_per_period
    max_consecutive_days: int | None = None  # overrides rules.max_consecutive_days
    min_consecutive_days: int | None = None  # runs touching the period's ends are exempt
    min_consecutive_days_off: int | None = None  # likewise
    max_weekends: int | None = None  # weekends (Sat or Sun worked) in the period

    @cached_property
    def role_key(self) -> str:
        return self.role.strip().casefold()

    def may_work_at(self, hub_id: HubId) -> bool:
        return not self.hubs or hub_id in self.hubs


@dataclass(frozen=True)
class Post:
    """One pattern or session row on one date: `target` people wanted, `min` of them required."""

    roles_text: str  # as written in the row, e.g. "GP;ANP"
    roles: frozenset[str]  # casefolded
    min: int
    target: int
    skill: str | None = None  # casefolded
    source: str = ""  # "patterns.csv:4", for messages
    # Weighted cover (extension): each person under target costs under_weight, each over it
    # (up to `max`) costs over_weight, in the `cover` goal.
    under_weight: int = 0
    over_weight: int = 0
    max: int | None = None  # most people on the post; default target

    @property
    def most(self) -> int:
        return self.target if self.max is None else max(self.max, self.target)

    def accepts(self, clinician: Clinician) -> bool:
        if clinician.role_key not in self.roles:
            return False
        return self.skill is None or self.skill in clinician.skills

    @property
    def wants_gp(self) -> bool:
        return GP_ROLE in self.roles


GP_ROLE = "gp"


@dataclass(frozen=True)
class Session:
    """One hub, date, start and end; its posts are the rows that share them."""

    hub_id: HubId
    date: date
    start: time
    end: time
    posts: tuple[Post, ...]
    kind: str = ""  # extension: a label for rules per kind of session (e.g. a shift type)

    # Cached: looked up often (model, checker, scheduler.solver.decompose's cuts), and formatting
    # it each time would cost about half of a cut's time on large problems
    @cached_property
    def session_id(self) -> SessionId:
        return session_id_of(self.hub_id, self.date, self.start, self.end)

    @cached_property
    def start_minute(self) -> int:
        """Minutes on a timeline shared by all sessions (days since year 1 × 1440 + clock)."""
        return self.date.toordinal() * MINUTES_PER_DAY + self.start.hour * 60 + self.start.minute

    @cached_property
    def end_minute(self) -> int:
        end = self.date.toordinal() * MINUTES_PER_DAY + self.end.hour * 60 + self.end.minute
        return end if end > self.start_minute else end + MINUTES_PER_DAY  # runs past midnight

    @cached_property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute

    @cached_property
    def week(self) -> str:
        return iso_week(self.date)

    @property
    def is_saturday(self) -> bool:
        return self.date.weekday() == 5

    @property
    def has_gp_post(self) -> bool:
        return any(p.wants_gp for p in self.posts)


def session_id_of(hub_id: HubId, day: date, start: time, end: time) -> SessionId:
    return f"{hub_id}-{day:%Y%m%d}-{start:%H%M}-{end:%H%M}"


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Offer:
    """One availability entry: a status for a date, optionally only inside a window."""

    status: Status
    start: time | None = None
    end: time | None = None
    # A weighted entry is a soft request (extension): available/preferred + weight asks for a
    # session (of `kind`, if given) that day, unavailable + weight asks not to work one; the
    # `requests` goal charges the weight when the request is not met. It is never a hard rule.
    kind: str | None = None
    weight: int = 0

    @property
    def is_request(self) -> bool:
        return self.weight > 0

    def matches(self, session: Session) -> bool:
        return self.kind is None or self.kind == session.kind

    def covers(self, session: Session) -> bool:
        if self.start is None or self.end is None:
            return True
        return (
            self.start <= session.start and session.end <= self.end and session.end > session.start
        )

    def touches(self, session: Session) -> bool:
        if self.start is None or self.end is None:
            return True
        return self.start < session.end and session.start < self.end


@dataclass(frozen=True)
class Pin:
    """A published assignment to stay close to; `locked` ones must be kept."""

    session_id: SessionId
    clinician_id: ClinicianId
    locked: bool = False


# What a network does about a bank holiday's sessions (Rules.bank_holiday_policy).
BANK_HOLIDAY_POLICIES: tuple[str, ...] = ("skip", "make_up", "run")


@dataclass(frozen=True)
class Rules:
    """`[rules]` of rota.toml; every default as DESIGN.md states."""

    availability_default: Status = Status.UNAVAILABLE
    min_rest_hours: float = 11
    max_consecutive_days: int = 6
    max_weekly_hours: float = 48
    minutes_per_1000: float = 60
    gp_cover: bool = True
    bank_holiday_region: str = "england-and-wales"
    stability_near_days: int = 14  # extension: changes within this many days cost more
    max_sessions_per_day: int | None = None  # extension: e.g. 1, "one session a day"
    forbidden_successions: tuple[tuple[str, str], ...] = ()  # (kind on a day, kind the next day)
    # The network contract (extensions; scheduler.contract): the Network Standard Hours as
    # (start, end) on weekdays and Saturdays, and what a bank holiday does to the week.
    nsh_weekday: tuple[time, time] = (time(18, 30), time(20, 0))
    nsh_saturday: tuple[time, time] = (time(9, 0), time(17, 0))
    bank_holiday_policy: str = "skip"  # skip | make_up | run
    make_up_weeks: int = 2  # make_up: lost minutes are spread over this many following weeks

    @property
    def min_rest_minutes(self) -> int:
        return round(self.min_rest_hours * 60)

    @property
    def max_weekly_minutes(self) -> int:
        return round(self.max_weekly_hours * 60)


@dataclass(frozen=True)
class Weights:
    """`[weights]` of rota.toml. Goals are met in GOALS order whatever the weights (lexicographic
    phases); a weight scales its part in the reported total and inside its tier, and 0 turns the
    goal off."""

    unfilled_min: int = 1
    cover: int = 1
    requests: int = 1
    gp_cover: int = 1
    contract: int = 1
    stability: int = 1
    unfilled_target: int = 1
    fair_share: int = 1
    even_load: int = 1
    even_saturdays: int = 4
    min_sessions: int = 10
    preferences: int = 1
    cost: int = 1

    def of(self, part: str) -> int:
        return int(getattr(self, part))

    def total(self, values: Mapping[str, Any], names: Iterable[str] | None = None) -> Any:
        """Σ weight × value over `names` (a tier's parts; every part when None); a part missing
        from `values` counts 0. The values may be integers or solver expressions."""
        return sum(
            self.of(part) * values.get(part, 0) for part in (PARTS if names is None else names)
        )


# The soft goals, highest first. Each inner tuple is one tier (one lexicographic phase); a tier
# with several parts minimises their weighted sum. The names are the rule stems used by the
# model (`add_<stem>`), the checker (`<stem>` part) and the report.
GOALS: tuple[tuple[str, ...], ...] = (
    ("unfilled_min",),
    ("cover", "requests"),
    ("gp_cover",),
    ("contract",),
    ("stability",),
    ("unfilled_target",),
    ("fair_share",),
    ("even_load", "even_saturdays", "min_sessions"),
    ("preferences",),
    ("cost",),
)
PARTS: tuple[str, ...] = tuple(part for tier in GOALS for part in tier)

# Hard rules, by stem, in the order the model adds them.
HARD_RULES: tuple[str, ...] = (
    "role",
    "skill",
    "availability",
    "allowed_hubs",
    "post_capacity",
    "overlap",
    "min_rest",
    "max_consecutive_days",
    "weekly_cap",
    "period_cap",
    "rooms",
    "locked",
    "max_weekly_hours",
    "sessions_per_day",
    "kind_cap",
    "period_minutes",
    "min_consecutive_days",
    "min_consecutive_days_off",
    "max_weekends",
    "forbidden_succession",
)


@dataclass(frozen=True)
class SkippedSession:
    """A session that `bank_holidays = skip` rows would have run on a bank holiday."""

    hub_id: HubId
    date: date
    start: time
    end: time
    min_posts: int  # Σ min of the skipped rows

    @property
    def session_id(self) -> SessionId:
        return session_id_of(self.hub_id, self.date, self.start, self.end)

    @cached_property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    @property
    def min_minutes(self) -> int:
        """Required minutes the skip removed: session minutes × the skipped rows' min."""
        return self.minutes * self.min_posts


@dataclass(frozen=True)
class Problem:
    practices: tuple[Practice, ...]
    hubs: tuple[Hub, ...]
    clinicians: tuple[Clinician, ...]
    sessions: tuple[Session, ...]  # sorted by start, then hub
    availability: Mapping[tuple[ClinicianId, date], tuple[Offer, ...]]
    period_start: date
    period_end: date
    rules: Rules = field(default_factory=Rules)
    weights: Weights = field(default_factory=Weights)
    published: tuple[Pin, ...] = ()
    bank_holidays: frozenset[date] = frozenset()
    reference_date: date | None = None  # "today" for stability; default period start
    skipped_for_bank_holidays: tuple[SkippedSession, ...] = ()  # lost minutes, for the contract
    # Minutes a network already gets in a week from outside the problem, off its requirement:
    # set on the parts of a big problem that scheduler.solver.decompose solves one network at a time
    # (the rest of the rota stays as it is); empty for every problem read from files.
    delivered_elsewhere: Mapping[tuple[Network, str], int] = field(default_factory=dict)
    # Sessions a GP from outside the problem already works (a network part's kept people,
    # scheduler.solver.decompose): their GP cover is met whoever the problem puts on them.
    gp_elsewhere: frozenset[SessionId] = frozenset()

    # ---- look-ups -------------------------------------------------------------------------
    # The indexes are built on first use and kept in the instance's __dict__ (cached_property
    # writes there directly, which a frozen dataclass allows); they are not fields, so they take
    # no part in equality, hashing or `dataclasses.replace`.
    def clinician(self, clinician_id: ClinicianId) -> Clinician:
        return self.clinicians_by_id[clinician_id]

    def hub(self, hub_id: HubId) -> Hub:
        return self.hubs_by_id[hub_id]

    def practice(self, code: PracticeCode) -> Practice:
        return self.practices_by_code[code]

    def session(self, session_id: SessionId) -> Session:
        return self.sessions_by_id[session_id]

    @cached_property
    def clinicians_by_id(self) -> Mapping[ClinicianId, Clinician]:
        return {c.clinician_id: c for c in self.clinicians}

    @cached_property
    def hubs_by_id(self) -> Mapping[HubId, Hub]:
        return {h.hub_id: h for h in self.hubs}

    @cached_property
    def practices_by_code(self) -> Mapping[PracticeCode, Practice]:
        return {p.code: p for p in self.practices}

    @cached_property
    def sessions_by_id(self) -> Mapping[SessionId, Session]:
        return {s.session_id: s for s in self.sessions}

    @cached_property
    def week_requirements(self) -> dict[WeekKey, WeekRequirement]:
        """The contract's requirement of every network with practices × every ISO week the
        period touches, in sorted order, with how each figure is made up."""
        return _week_requirements(self)

    @property
    def networks(self) -> tuple[Network, ...]:
        return tuple(sorted({p.network for p in self.practices} | {h.network for h in self.hubs}))

    def days(self) -> list[date]:
        n = (self.period_end - self.period_start).days + 1
        return [self.period_start + timedelta(days=i) for i in range(n)]

    def weeks(self) -> list[str]:
        return sorted({iso_week(d) for d in self.days()})


# ---- shared meaning of the data (the specification both model and checker use) ----------


def offer_for(problem: Problem, clinician: Clinician, session: Session) -> Status:
    """What the clinician offered for this session: UNAVAILABLE, AVAILABLE or PREFERRED.

    An entry marked unavailable that touches the session wins; otherwise an available or
    preferred entry whose window covers the session; a date with entries but none covering the
    session is unavailable; a date without entries takes `availability_default`. Weighted
    entries are soft requests and play no part here.
    """
    offers = [
        o
        for o in problem.availability.get((clinician.clinician_id, session.date), ())
        if not o.is_request
    ]
    if not offers:
        return problem.rules.availability_default
    if any(o.status is Status.UNAVAILABLE and o.touches(session) for o in offers):
        return Status.UNAVAILABLE
    covering = [
        o.status for o in offers if o.status is not Status.UNAVAILABLE and o.covers(session)
    ]
    if not covering:
        return Status.UNAVAILABLE
    return Status.PREFERRED if Status.PREFERRED in covering else Status.AVAILABLE


def is_preferred_date(problem: Problem, clinician_id: ClinicianId, day: date) -> bool:
    offers = problem.availability.get((clinician_id, day), ())
    return any(o.status is Status.PREFERRED and not o.is_request for o in offers)


def requests_of(problem: Problem) -> list[tuple[ClinicianId, date, Offer]]:
    """Every weighted request, in a stable order."""
    return sorted(
        (
            (cid, day, o)
            for (cid, day), offers in problem.availability.items()
            for o in offers
            if o.is_request
        ),
        key=lambda r: (r[0], r[1], r[2].status.value, r[2].kind or "", r[2].weight),
    )


def max_consecutive_days_of(problem: Problem, clinician: Clinician) -> int:
    if clinician.max_consecutive_days is not None:
        return clinician.max_consecutive_days
    return problem.rules.max_consecutive_days


def max_sessions_per_day_of(problem: Problem, clinician: Clinician) -> int | None:
    limits = [
        n
        for n in (clinician.max_sessions_per_day, problem.rules.max_sessions_per_day)
        if n is not None
    ]
    return min(limits) if limits else None


def weekend_of(day: date) -> str | None:
    """The ISO week of a Saturday or Sunday (its weekend), None on weekdays."""
    return iso_week(day) if day.weekday() >= 5 else None


def contract_requirements(problem: Problem) -> dict[WeekKey, int]:
    """Required enhanced-access minutes per network and ISO week, bank-holiday policy included,
    less what the network gets from outside the problem (`delivered_elsewhere`).

    The single definition the model (`add_contract`), the checker (`part_contract`) and the
    report use; `Problem.week_requirements` says how each figure is made up.
    """
    elsewhere = problem.delivered_elsewhere
    return {
        key: max(0, week.minutes - elsewhere.get(key, 0))
        for key, week in problem.week_requirements.items()
    }


def fair_share_weights(problem: Problem) -> dict[PracticeCode, int]:
    """Each practice's share of the total list size in thousandths (integers, for exact sums)."""
    total = sum(p.list_size for p in problem.practices)
    return {p.code: round(1000 * p.list_size / total) for p in problem.practices} if total else {}


def assignment_cost_pence(clinician: Clinician, session: Session) -> int:
    return round(clinician.cost_per_hour_pence * session.minutes / 60)


def triangle(n: int) -> int:
    """0, 0, 1, 3, 6, …: the convex penalty of n sessions (n·(n−1)/2) that rewards spreading."""
    return n * (n - 1) // 2


def is_near(problem: Problem, session: Session) -> bool:
    """Inside the window where a change to the published rota costs more."""
    reference = problem.reference_date or problem.period_start
    return reference <= session.date < reference + timedelta(days=problem.rules.stability_near_days)


STABILITY_NEAR_FACTOR = 3  # a change in the next `stability_near_days` counts this many times


# ---- the contract's weekly requirement --------------------------------------------------
# The network contract (scheduler.contract) asks every network for `minutes_per_1000` minutes
# per 1,000 adjusted population each ISO week. The requirement of one network and week:
# - base: ceil(minutes_per_1000 × adjusted population / 1000 × days / 7), where `days` are the
#   week's days inside the period (7 for a whole week, so 12,345 people at 60 → 741);
# - bank holidays: the minutes lost are the skipped sessions' minutes × their rows' `min`
#   (`Problem.skipped_for_bank_holidays`), at most the week's base.
#   `skip`     — no requirement on a bank holiday: the week asks for the lost minutes less.
#   `make_up`  — the same, and the lost minutes are spread evenly over the next `make_up_weeks`
#                ISO weeks (earlier weeks take the remainder); shares landing after the period
#                are reported as `make_up_after_period_minutes`, for the next rota to carry.
#   `run`      — sessions run on bank holidays unless their row says skip; nothing is taken off.


@dataclass(frozen=True)
class WeekRequirement:
    """How one network's required minutes for one ISO week are made up."""

    network: Network
    week: str
    days: int  # days of the week inside the period
    base_minutes: int  # ceil(minutes_per_1000 × population / 1000 × days / 7)
    bank_holiday_minutes: int = 0  # min-post minutes of sessions skipped for bank holidays
    relief_minutes: int = 0  # taken off this week for them (skip, make_up): ≤ base_minutes
    made_up_from: tuple[tuple[str, int], ...] = ()  # (bank holiday's week, minutes) added here
    made_up_in: tuple[tuple[str, int], ...] = ()  # (week, minutes) where this relief is made up
    make_up_after_period_minutes: int = 0  # relief whose make-up week lies after the period

    @property
    def made_up_minutes(self) -> int:
        return sum(minutes for _, minutes in self.made_up_from)

    @property
    def minutes(self) -> int:
        return self.base_minutes - self.relief_minutes + self.made_up_minutes


def _week_requirements(problem: Problem) -> dict[WeekKey, WeekRequirement]:
    """`Problem.week_requirements`, computed."""
    rules = problem.rules
    population: Counter[Network] = Counter()
    for p in problem.practices:
        population[p.network] += p.adjusted_population
    days = Counter(iso_week(d) for d in problem.days())
    lost = bank_holiday_minutes(problem)
    out: dict[WeekKey, WeekRequirement] = {}
    for network in sorted(population):
        base = {
            week: base_minutes(rules.minutes_per_1000, population[network], n)
            for week, n in days.items()
        }
        relief = {
            week: 0
            if rules.bank_holiday_policy == "run"
            else min(base[week], lost.get((network, week), 0))
            for week in days
        }
        made_up_from: dict[str, list[tuple[str, int]]] = defaultdict(list)
        made_up_in: dict[str, list[tuple[str, int]]] = defaultdict(list)
        after: Counter[str] = Counter()
        if rules.bank_holiday_policy == "make_up":
            for week in sorted(days):
                for later, share in spread(
                    relief[week], following_weeks(week, rules.make_up_weeks)
                ):
                    if later in days:
                        made_up_from[later].append((week, share))
                        made_up_in[week].append((later, share))
                    else:
                        after[week] += share
        for week in sorted(days):
            out[network, week] = WeekRequirement(
                network,
                week,
                days[week],
                base[week],
                lost.get((network, week), 0),
                relief[week],
                tuple(made_up_from[week]),
                tuple(made_up_in[week]),
                after[week],
            )
    return out


def base_minutes(minutes_per_1000: float, population: int, days: int = 7) -> int:
    """ceil(minutes_per_1000 × population / 1000 × days / 7), in exact integer arithmetic
    (minutes_per_1000 may be fractional, so it is scaled by 1000 first)."""
    numerator = round(minutes_per_1000 * 1000) * population * days
    return math.ceil(numerator / (1000 * 1000 * 7))


def bank_holiday_minutes(problem: Problem) -> dict[WeekKey, int]:
    """Minutes of required posts lost to sessions skipped for bank holidays, per network and
    week: session minutes × the skipped rows' `min`."""
    network_of = {h.hub_id: h.network for h in problem.hubs}
    lost: Counter[WeekKey] = Counter()
    for skipped in problem.skipped_for_bank_holidays:
        if (
            skipped.hub_id in network_of
            and problem.period_start <= skipped.date <= problem.period_end
        ):
            lost[network_of[skipped.hub_id], iso_week(skipped.date)] += skipped.min_minutes
    return dict(lost)


def following_weeks(week: str, count: int) -> list[str]:
    """The `count` ISO weeks after `week` ("2027-W09" → "2027-W10", …)."""
    monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    return [iso_week(monday + timedelta(weeks=k)) for k in range(1, count + 1)]


def spread(minutes: int, weeks: list[str]) -> list[tuple[str, int]]:
    """`minutes` split as evenly as whole minutes allow, earlier weeks taking the remainder;
    weeks that would get nothing are left out."""
    if minutes <= 0 or not weeks:
        return []
    share, remainder = divmod(minutes, len(weeks))
    shares = [(week, share + (1 if i < remainder else 0)) for i, week in enumerate(weeks)]
    return [(week, n) for week, n in shares if n > 0]


# ---- the answer ------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Assignment:
    session_id: SessionId
    post_index: int
    clinician_id: ClinicianId
    locked: bool = False


Rota = tuple[Assignment, ...]


class SolveStatus(Enum):
    OPTIMAL = "optimal"  # every phase proven optimal
    FEASIBLE = "feasible"  # a rota, not proven best
    INFEASIBLE = "infeasible"  # the hard rules (with locked pins) admit no rota
    UNKNOWN = "unknown"  # no rota found within the time limit
    INVALID = "invalid"  # the model was rejected: a bug


@dataclass(frozen=True)
class PhaseResult:
    tier: tuple[str, ...]
    status: SolveStatus
    value: int
    bound: int
    seconds: float


@dataclass(frozen=True)
class SolveResult:
    status: SolveStatus
    rota: Rota
    objective: int  # Σ weight × part
    parts: dict[str, int]
    bound: int  # best bound of the weighted total the phases proved
    gap: float  # (objective − bound) / max(1, objective)
    seconds: float
    phases: tuple[PhaseResult, ...] = ()
    message: str = ""
    # The model's own penalty values at the last solution: equal to `parts` at a proven optimum,
    # never below them (the tests hold them to that).
    solver_parts: dict[str, int] = field(default_factory=dict)
