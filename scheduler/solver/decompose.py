"""A better rota for a big problem, re-solved network by network.

A federation the size of an integrated care system is many Primary Care Networks side by side:
on the generated `ics`, 28 networks, and 1,733 of its 2,000 clinicians may work only at their
own network's hubs. Each network alone is the size of a single PCN, which the engine solves to
or near its optimum in seconds, where the whole system's model (176,000 variables) needs tens
of seconds to presolve once, and its large-neighbourhood search about 1.8 s a step.

`network_parts(problem, rota)` cuts the problem, around a valid rota, into one Problem per
network:
- that network's practices, hubs and sessions;
- its practices' clinicians who work only there in `rota` (the rest, who cross between networks,
  are *kept*: they work what `rota` gives them, in every part);
- each of those clinicians limited to the network's hubs;
- each post less the places the kept clinicians fill in it, and less what the hub's rooms
  leave once the kept clinicians there are counted (so the parts need no rooms rule);
- each network-week's contract less the minutes the kept clinicians deliver there.

Every hard rule is about one clinician's sessions, one post's places or one hub's rooms, so
each part's rota plus the kept assignments is a valid rota of the whole problem. Each part is
solved with the ordinary solve, started from `rota`'s share of it, the tiers above fair share
held at the start's values (SolveParams.hold_above) and the goals below it weighing nothing
(the whole solve's later phases see to them), and `network_rota` joins the results; a part that
ends worse than its start (short of time) keeps its start.

The goals above fair share are sums over sessions and network-weeks, and with the cuts above
each part counts exactly its own share of them (up to a constant), so holding them in the parts
holds them in the whole. Fair share is where the parts gain: within a
network, practices trade sessions until each has its share of the network's minutes (list
sizes replaced by what is left of each practice's whole-problem target once its kept
clinicians' minutes are counted). With each network's total fixed, a split whose practices
all sit on the same side of their whole-problem target is optimal for the whole, and the
proportional split is one. Moving minutes between networks (clinicians who may work anywhere)
is left to the whole solve, which goes on from the joined rota.

`network_cost_rota` does the same for the last goal, cost, once every goal above it is held:
each part holds every tier above cost at its start's values and pins each of its practices'
minutes (their list sizes are the minutes `rota` gives them, so the part's fair share is least
exactly where each keeps its minutes), so the joined rota keeps every goal above cost in the
whole, and minimises cost. A part is a PCN-sized model whose large-neighbourhood search lowers
cost by a few per cent in seconds, where a step of the whole model's takes about 2 s and CP-SAT's
own search of the whole gains nothing on the generated ics.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol

from scheduler.checker import objective_parts
from scheduler.domain import (
    GOALS,
    GP_ROLE,
    Assignment,
    Network,
    Post,
    Problem,
    Session,
    SolveResult,
    SolveStatus,
    fair_share_weights,
)
from scheduler.solver.params import SolveParams, Tuning

_DEFAULT = Tuning()  # the tuning of a cut made outside a solve (tests, the bench)


class PartSolve(Protocol):
    """How a part is solved: the ordinary solve (scheduler.solver.solve.solve), which passes
    itself in, so that this module does not import it."""

    def __call__(
        self,
        problem: Problem,
        params: SolveParams | None = None,
        should_stop: Callable[[], bool] | None = None,
        *,
        start: Iterable[Assignment] | None = None,
    ) -> SolveResult: ...


# A part minimises fair share alone (the goals below it weigh 0 there), so all its time goes to
# fair share; the whole solve's phases take the goals below from the joined rota.
BELOW_FAIR_SHARE = tuple(
    part for tier in GOALS[GOALS.index(("fair_share",)) + 1 :] for part in tier
)
# Cost parts are solved as many at a time as the solve has workers, on one worker each (at
# max_lp's linearization, scheduler.solver.solve); fair-share parts one at a time on all of
# them, which proves more of the parts optimal.
ALONE = {"fair_share"}


def networks_of(problem: Problem, tuning: Tuning = _DEFAULT) -> list[Network]:
    """The networks with both practices and hubs; [] when the problem is not worth cutting
    (fewer than tuning.min_networks of them, or a published rota, which ties the parts together
    through stability and locks)."""
    networks = sorted({p.network for p in problem.practices} & {h.network for h in problem.hubs})
    return [] if problem.published or len(networks) < tuning.min_networks else networks


def network_parts(
    problem: Problem,
    rota: Iterable[Assignment],
    groups: list[tuple[Network, ...]] | None = None,
    tuning: Tuning = _DEFAULT,
) -> tuple[list[tuple[tuple[Network, ...], Problem]], list[Assignment]]:
    """The parts (see the module's docstring), one per group of networks (default: each network
    alone), and the kept assignments; no parts when the problem is not worth cutting."""
    rota = list(rota)
    if groups is None:
        groups = [(network,) for network in networks_of(problem, tuning)]
    if not groups:
        return [], rota
    group_of = {network: group for group in groups for network in group}
    network_of_hub = {h.hub_id: h.network for h in problem.hubs}
    network_of_practice = {p.code: p.network for p in problem.practices}
    hub_of_session = {s.session_id: s.hub_id for s in problem.sessions}
    worked: dict[str, set[Network]] = defaultdict(set)
    for a in rota:
        worked[a.clinician_id].add(network_of_hub[hub_of_session[a.session_id]])
    home = {}
    for c in problem.clinicians:
        group = group_of.get(network_of_practice.get(c.practice_code, ""))
        if group is not None and worked[c.clinician_id] <= set(group):
            home[c.clinician_id] = group
    kept = [a for a in rota if a.clinician_id not in home]
    posts = _posts(problem, rota, kept)
    list_sizes = _list_sizes(problem, rota, kept)
    elsewhere: Counter[tuple[Network, str]] = (
        Counter()
    )  # the kept people's minutes, for the contract
    for a in kept:
        session = problem.session(a.session_id)
        elsewhere[network_of_hub[session.hub_id], session.week] += session.minutes

    parts = []
    for group in groups:
        hubs = tuple(replace(h, rooms=None) for h in problem.hubs if h.network in group)
        hub_ids = frozenset(h.hub_id for h in hubs)
        sessions = tuple(posts[s.session_id] for s in problem.sessions if s.hub_id in hub_ids)
        clinicians = [
            replace(c, hubs=(c.hubs & hub_ids) if c.hubs else hub_ids)
            for c in problem.clinicians
            if home.get(c.clinician_id) == group
        ]
        clinicians = [c for c in clinicians if c.hubs]
        ids = {c.clinician_id for c in clinicians}
        parts.append(
            (
                group,
                replace(
                    problem,
                    practices=tuple(
                        replace(p, list_size=list_sizes[p.code])
                        for p in problem.practices
                        if p.network in group
                    ),
                    hubs=hubs,
                    clinicians=tuple(clinicians),
                    sessions=sessions,
                    availability={
                        key: offers for key, offers in problem.availability.items() if key[0] in ids
                    },
                    skipped_for_bank_holidays=tuple(
                        s for s in problem.skipped_for_bank_holidays if s.hub_id in hub_ids
                    ),
                    delivered_elsewhere={
                        key: minutes for key, minutes in elsewhere.items() if key[0] in group
                    },
                    gp_elsewhere=_gp_elsewhere(problem, kept, hub_ids),
                ),
            )
        )
    return parts, kept


def _places(
    problem: Problem, rota: list[Assignment], kept: list[Assignment]
) -> dict[tuple[str, int], int]:
    """How many people each post may take in a part: its most, less the kept people on it, and
    less what its hub's rooms leave at each instant once the kept people there are counted.
    With these, no part's rota can outnumber a hub's rooms, so the parts need no rooms rule. A
    cut never goes below the places the part's own clinicians fill in `rota` (the rota is valid,
    so there is always room for them), and `rota` stays a valid rota of every part."""
    on_post = Counter((a.session_id, a.post_index) for a in kept)
    own = Counter((a.session_id, a.post_index) for a in rota) - on_post
    kept_in = Counter(a.session_id for a in kept)
    places = {
        (s.session_id, i): post.most - on_post[s.session_id, i]
        for s in problem.sessions
        for i, post in enumerate(s.posts)
    }
    by_hub_day: dict[tuple[str, object], list[Session]] = defaultdict(list)
    for s in problem.sessions:
        by_hub_day[s.hub_id, s.date].append(s)
    for (hub_id, _), day in by_hub_day.items():
        rooms = problem.hub(hub_id).rooms
        if rooms is None:
            continue
        for s in day:  # the most people at once is reached at some session's start
            at = [o for o in day if o.start_minute <= s.start_minute < o.end_minute]
            keys = [(o.session_id, i) for o in at for i in range(len(o.posts))]
            excess = (
                sum(places[key] for key in keys) + sum(kept_in[o.session_id] for o in at) - rooms
            )
            for key in keys:
                if excess <= 0:
                    break
                cut = min(excess, places[key] - own[key])
                places[key] -= cut
                excess -= cut
    return places


def _posts(problem: Problem, rota: list[Assignment], kept: list[Assignment]) -> dict[str, Session]:
    """Each session with its posts as a part sees them (_post_with): less the kept people on
    them and what the hub's rooms leave (_places)."""
    places = _places(problem, rota, kept)
    on_post = Counter((a.session_id, a.post_index) for a in kept)
    return {
        s.session_id: replace(
            s,
            posts=tuple(
                _post_with(post, places[s.session_id, index], on_post[s.session_id, index])
                for index, post in enumerate(s.posts)
            ),
        )
        for s in problem.sessions
    }


def _gp_elsewhere(
    problem: Problem, kept: list[Assignment], hub_ids: frozenset[str]
) -> frozenset[str]:
    """The sessions at `hub_ids` a kept GP works (Problem.gp_elsewhere): their GP cover is met
    whatever the part does, so the part must not count them as wanting one."""
    return frozenset(
        a.session_id
        for a in kept
        if problem.clinician(a.clinician_id).role_key == GP_ROLE
        and problem.session(a.session_id).hub_id in hub_ids
    )


def _list_sizes(problem: Problem, rota: list[Assignment], kept: list[Assignment]) -> dict[str, int]:
    """Each practice's list size as a part sees it: what is left of its whole-problem target of
    minutes (share × the rota's total) once its kept clinicians' minutes are counted, in tenths
    of a minute, 0 where they already exceed it. A part shares its minutes out in proportion to
    these, so every practice of a network ends on the same side of its whole-problem target."""
    weights = fair_share_weights(problem)
    total_weight = sum(weights.values()) or 1
    total = sum(problem.session(a.session_id).minutes for a in rota)
    practice_of = {c.clinician_id: c.practice_code for c in problem.clinicians}
    kept_minutes: Counter[str] = Counter()
    for a in kept:
        kept_minutes[practice_of[a.clinician_id]] += problem.session(a.session_id).minutes
    return {
        p.code: max(
            0, round(10 * (weights.get(p.code, 0) * total / total_weight - kept_minutes[p.code]))
        )
        for p in problem.practices
    }


def _post_with(post: Post, places: int, kept: int = 0) -> Post:
    """The post cut to `places` people (see _places), `kept` of its people being kept outside
    the part: its minimum and target less those (a part then counts the post's shortfall and
    cover exactly as the whole does, up to a constant), and neither above `places`."""
    if places >= post.most:
        return post
    return replace(
        post,
        min=min(max(0, post.min - kept), places),
        target=min(max(0, post.target - kept), places),
        max=places,
    )


def network_rota(
    problem: Problem,
    rota: Iterable[Assignment],
    seconds: float,
    params: SolveParams,
    solve: PartSolve,
    should_stop: Callable[[], bool] | None = None,
) -> list[Assignment] | None:
    """`rota` re-solved network by network (see the module's docstring), each part by `solve`,
    in at most `seconds`; None when the problem is not cut."""
    return _by_network(problem, rota, seconds, params, solve, should_stop, "fair_share")


def network_cost_rota(
    problem: Problem,
    rota: Iterable[Assignment],
    seconds: float,
    params: SolveParams,
    solve: PartSolve,
    should_stop: Callable[[], bool] | None = None,
) -> list[Assignment] | None:
    """`rota` with its cost lowered network by network (see the module's docstring), each part
    by `solve`, in at most `seconds`, every goal above cost kept; None when the problem is not
    cut. Parts that time leaves unsolved keep their share of `rota`."""
    return _by_network(problem, rota, seconds, params, solve, should_stop, "cost")


def _by_network(
    problem: Problem,
    rota: Iterable[Assignment],
    seconds: float,
    params: SolveParams,
    solve: PartSolve,
    should_stop: Callable[[], bool] | None,
    goal: str,
) -> list[Assignment] | None:
    """`rota` with each network's part solved for `goal`; None when the problem is not cut."""
    networks = networks_of(problem, params.tuning)
    if not networks:
        return None
    groups: list[tuple[Network, ...]] = [(n,) for n in networks]
    return _solve_parts(problem, list(rota), groups, seconds, params, solve, should_stop, goal)


def _solve_parts(
    problem: Problem,
    rota: list[Assignment],
    groups: list[tuple[Network, ...]],
    seconds: float,
    params: SolveParams,
    solve: PartSolve,
    should_stop: Callable[[], bool] | None,
    goal: str = "fair_share",
) -> list[Assignment] | None:
    """Each group's part solved for `goal` from `rota` (one at a time or several, see ALONE),
    each with an even share of what is left of `seconds`; the joined
    rota. A part that time leaves unsolved, or that ends worse than its start, keeps its start.
    None when there are no parts."""
    parts, joined = network_parts(problem, rota, groups, params.tuning)
    if not parts:
        return None
    deadline = time.perf_counter() + seconds
    fairness = _Fairness(problem, rota, joined)
    found: list[list[Assignment]] = [[] for _ in parts]
    queue = iter(range(len(parts)))
    lock = threading.Lock()
    threads = 1 if goal in ALONE else max(1, min(params.workers, len(parts)))
    part_workers = params.workers if goal in ALONE else 1

    def work() -> None:
        while True:
            with lock:
                number = next(queue, None)
            if number is None:
                return
            # the time left shared among the parts not yet started, `threads` at a time
            rounds = -(-(len(parts) - number) // threads)
            found[number] = _solve_part(
                solve,
                problem,
                rota,
                parts[number][1],
                goal,
                fairness,
                (deadline - time.perf_counter()) / rounds,
                replace(params, workers=part_workers),
                should_stop,
            )

    workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    for rota_of_part in found:
        joined.extend(rota_of_part)
    return joined


def _solve_part(
    solve: PartSolve,
    problem: Problem,
    rota: list[Assignment],
    part: Problem,
    goal: str,
    fairness: _Fairness,
    share: float,
    params: SolveParams,
    should_stop: Callable[[], bool] | None,
) -> list[Assignment]:
    """One part's rota for `goal`, solved by `solve` in `share` seconds from its share of
    `rota`: the start itself if time is too short, or if what was found is no better."""
    ids = {c.clinician_id for c in part.clinicians}
    start = [a for a in rota if a.clinician_id in ids]
    if share < params.tuning.min_part_seconds or (should_stop is not None and should_stop()):
        return start
    if goal == "fair_share":
        part = replace(part, weights=replace(part.weights, **dict.fromkeys(BELOW_FAIR_SHARE, 0)))
        part_params = replace(
            params, time_limit=share, progress=None, log=False, hold_above="fair_share"
        )
    else:
        part = fairness.pinned(part, start)
        part_params = replace(
            params,
            time_limit=share,
            progress=None,
            log=False,
            hold_above=goal,
            stall_seconds=params.tuning.cost_part_stall,
        )
    result = solve(part, part_params, should_stop, start=start)
    if result.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        return start
    # a part short of time may end worse than its start: then the start stays
    better = _tiers(part, result.parts) <= _tiers(part, objective_parts(part, start))
    if goal != "fair_share":
        better = better and fairness.kept(part, start, result.rota)
    return list(result.rota) if better else start


class _Fairness:
    """The whole problem's fair share, practice by practice, around `rota`: for the cost parts,
    which must leave it where it is."""

    def __init__(self, problem: Problem, rota: list[Assignment], kept: list[Assignment]):
        self.problem = problem
        self.weights = fair_share_weights(problem)
        self.total_weight = sum(self.weights.values())
        self.total = sum(problem.session(a.session_id).minutes for a in rota)
        self.practice_of = {c.clinician_id: c.practice_code for c in problem.clinicians}
        self.kept_minutes = self._minutes(problem, kept)

    def _minutes(self, problem: Problem, rota: Iterable[Assignment]) -> Counter[str]:
        minutes: Counter[str] = Counter()
        for a in rota:
            minutes[self.practice_of[a.clinician_id]] += problem.session(a.session_id).minutes
        return minutes

    def pinned(self, part: Problem, start: list[Assignment]) -> Problem:
        """`part` with each practice's list size the minutes `start` gives it there: held at
        its start's value, the part's fair share keeps every practice's minutes (to within the
        rounding of its shares, which `kept` checks)."""
        minutes = self._minutes(part, start)
        return replace(
            part, practices=tuple(replace(p, list_size=minutes[p.code]) for p in part.practices)
        )

    def kept(self, part: Problem, start: list[Assignment], found: Iterable[Assignment]) -> bool:
        """`found` leaves the whole problem's fair share no worse than `start` does (the
        parts' practices are apart, so each part may be judged alone)."""
        return self._deviation(part, found) <= self._deviation(part, start)

    def _deviation(self, part: Problem, rota: Iterable[Assignment]) -> int:
        minutes = self._minutes(part, rota)
        return sum(
            abs(
                self.total_weight * (self.kept_minutes[p.code] + minutes[p.code])
                - self.weights.get(p.code, 0) * self.total
            )
            for p in part.practices
        )


def _tiers(problem: Problem, parts: dict[str, int]) -> tuple[int, ...]:
    """The goals' values tier by tier, highest first: compared as tuples, the lexicographic order
    the solve minimises."""
    return tuple(problem.weights.total(parts, tier) for tier in GOALS)
