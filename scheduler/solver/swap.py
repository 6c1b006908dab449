"""Fair share by swaps: one clinician handing a post to another who may stand in for them.

On a big problem the fair-share goal is mostly about moving sessions between practices, and a
session moves between practices when its post changes hands: a clinician of a practice above its
share gives the post to one from a practice below it, of the same role or, where neither is a
GP, of another role the post accepts (a practice nurse for an ANP on a "Practice Nurse;ANP"
post). Such a swap keeps every goal above fair share as it was (the same posts are filled, at
the same times and places, and GP cover by the same GPs), so the only question is whether the
newcomer may take the session and the leaver may lose it, which the checker's rules about one
clinician's own sessions answer exactly.

`fair_share_swaps(problem, rota, seconds)` applies the best swap it finds for each post in turn,
over and over, until no swap lowers the goal or time runs out.

Between networks, posts move only through the clinicians who may work anywhere, and swaps that
look at practices alone move them as the practices' own shares pull, not as the whole system's
best needs: they leave much more of fair share between networks (each network's practices'
deviations summed) than the LP relaxation's optimum has there. Given `network_aim` (each
network's minutes in that optimum), the swaps first score each move by its practices' change
plus the tuning's network_weight times its networks' change in distance from their aims, and
then go on by practices alone. Each step is cheap (a handful of rule checks on two clinicians'
few sessions), where a step of the large-neighbourhood search on a large model re-solves a
model of a hundred thousand variables or more; the search goes on from the result, with moves
that need more than one swap at a time.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from scheduler.checker import Entry, RotaView, clinician_violations
from scheduler.domain import (
    Assignment,
    Clinician,
    Network,
    Problem,
    Rota,
    Session,
    Status,
    assignment_cost_pence,
    fair_share_weights,
    is_preferred_date,
    offer_for,
    requests_of,
    triangle,
)


@dataclass(frozen=True)
class SwapTuning:
    """How widely the swaps look, and how they weigh networks and even load."""

    # With a network aim, a move scores its practices' change plus this many times its networks'.
    network_weight: int = 2
    # Most chains ending at one clinician that are checked, best first (each check is costly).
    chain_checks: int = 8
    # A chain's middle clinician takes one of at most this many best posts on offer.
    chain_incoming: int = 4
    # Share of cost's swaps' time spent with a price on even load, the rest on cost alone.
    priced_share: float = 0.7


def fair_share_swaps(
    problem: Problem,
    rota: Iterable[Assignment],
    seconds: float,
    seed: int = 0,
    fixed_day: Callable[[date], bool] | None = None,
    network_aim: Mapping[Network, float] | None = None,
    *,
    tuning: SwapTuning = SwapTuning(),
) -> Rota:
    """`rota` with posts handed from clinicians of practices above their share to clinicians of
    the same role in practices below it, while that lowers the fair-share goal and for at most
    `seconds`: directly, or in a chain through a clinician of a third practice, who takes a post
    from the practice above and hands one of their own to the practice below (where no direct
    swap is left). Locked and published assignments stay, and so do those on days `fixed_day`
    names or with a weighted request of either clinician's. Every
    swap keeps the rota valid (the checker's rules about each clinician's own sessions) and
    every goal above fair share unchanged. With `network_aim` (minutes per network), the first
    passes also steer each network's minutes towards its aim (see the module's docstring);
    fair share may then end above where it started, and the caller keeps the better rota."""
    deadline = time.perf_counter() + seconds
    view = RotaView.of(problem, rota)
    weights = fair_share_weights(problem)
    if not view.entries or sum(weights.values()) == 0:
        return tuple(rota)
    swaps = _Swaps(problem, view, weights, random.Random(seed), fixed_day, tuning=tuning)
    if network_aim:
        swaps.aim_networks(network_aim)
        swaps.converge(deadline)
        swaps.aim_networks(None)
    swaps.converge(deadline)
    return tuple(sorted(x.assignment for es in swaps.mine.values() for x in es))


def _may_stand_in(taker: Clinician, giver: Clinician) -> bool:
    """Whether `taker` may take a post of `giver`'s (one the post accepts) and leave every goal
    above fair share as it was: the same role, or neither a GP. GP cover counts GPs alone, and
    nothing else above fair share asks who fills a post (the places filled, their minutes and
    hubs stay). Posts that ask for an ANP or a practice nurse can then go from one to the
    other, where the same role alone would leave most of them where they are."""
    return taker.role_key == giver.role_key or (taker.role_key != "gp" and giver.role_key != "gp")


class _Swaps:
    """The rota as each clinician's entries and each post's, the practices' deviations from their
    shares, and which posts each clinician may take (role, skill, hub and availability)."""

    def __init__(
        self,
        problem: Problem,
        view: RotaView,
        weights: dict[str, int],
        rng: random.Random,
        fixed_day: Callable[[date], bool] | None,
        *,
        tuning: SwapTuning = SwapTuning(),
    ):
        self.problem, self.rng, self.fixed_day = problem, rng, fixed_day
        self.tuning = tuning
        # a published (session, clinician) pair charges stability when dropped, and a weighted
        # request may be for or against a session: posts either touches stay where they are,
        # so that the goals above fair share keep their values (an unpublished post moving to
        # an unpublished pair drops one charge and adds one)
        self.published = {(pin.session_id, pin.clinician_id) for pin in problem.published}
        self.requested = {(cid, day) for cid, day, _ in requests_of(problem)}
        self.total_weight = sum(weights.values())
        total = sum(e.minutes for e in view.entries)
        minutes: dict[str, int] = defaultdict(int)
        for e in view.entries:
            minutes[e.clinician.practice_code] += e.minutes
        # each practice's deviation from its share, in the goal's units
        # (scheduler.solver.model.add_fair_share): the goal is the sum of their sizes
        self.deviation = {
            code: self.total_weight * minutes[code] - w * total for code, w in weights.items()
        }
        self.network_of = {p.code: p.network for p in problem.practices}
        # each network's minutes less its aim, in the goal's units (None: no aim)
        self.network_gap: dict[Network, int] | None = None
        self.mine: dict[str, list[Entry]] = {cid: list(es) for cid, es in view.by_clinician.items()}
        self.on_post: dict[tuple[str, int], list[Entry]] = {
            k: list(es) for k, es in view.by_post.items()
        }
        self.may_take: dict[str, list[tuple[Session, int]]] = defaultdict(list)
        self.takers: dict[tuple[str, int], list[Clinician]] = defaultdict(list)
        # (by hub and day: most clinicians may work one network's hubs, and where the default
        # is unavailable, only on the days they offered; far faster than every clinician
        # against every session)
        sessions: dict[tuple[str, date], list[Session]] = defaultdict(list)
        for session in problem.sessions:
            sessions[session.hub_id, session.date].append(session)
        days = problem.days()
        offered: dict[str, set[date]] = defaultdict(set)
        for cid, day in problem.availability:
            offered[cid].add(day)
        everywhere = [h.hub_id for h in problem.hubs]
        for c in problem.clinicians:
            if c.practice_code not in weights:
                continue
            on = (
                sorted(offered[c.clinician_id])
                if problem.rules.availability_default is Status.UNAVAILABLE
                else days
            )
            mine = [
                session
                for hub in (sorted(c.hubs) or everywhere)
                for day in on
                for session in sessions.get((hub, day), ())
            ]
            for session in mine:
                if offer_for(problem, c, session) is Status.UNAVAILABLE:
                    continue
                for index, post in enumerate(session.posts):
                    if post.accepts(c) and (c.clinician_id, session.date) not in self.requested:
                        self.may_take[c.clinician_id].append((session, index))
                        self.takers[session.session_id, index].append(c)

    def aim_networks(self, aim: Mapping[Network, float] | None) -> None:
        """Score moves also by the networks' distance from `aim` (minutes each), or no more."""
        if aim is None:
            self.network_gap = None
            return
        minutes: dict[Network, int] = defaultdict(int)
        for es in self.mine.values():
            for e in es:
                minutes[self.network_of[e.clinician.practice_code]] += e.minutes
        self.network_gap = {n: round(self.total_weight * (minutes[n] - aim[n])) for n in aim}

    def converge(self, deadline: float) -> None:
        """Passes of direct swaps, and of chains where none is left, until neither gains."""
        while time.perf_counter() < deadline:
            if self.sweep(deadline):
                continue
            if not self.chains(deadline):
                break

    def movable(self, e: Entry) -> bool:
        return (
            not e.assignment.locked
            and (e.session_id, e.clinician_id) not in self.published
            and (e.clinician_id, e.session.date) not in self.requested
            and (self.fixed_day is None or not self.fixed_day(e.session.date))
        )

    def change(self, moves: dict[str, int]) -> int:
        """How much the goal changes when each practice's minutes change by `moves` (with a
        network aim, plus network_weight times the change in the networks' distance from it)."""
        change = sum(
            abs(self.deviation[code] + self.total_weight * m) - abs(self.deviation[code])
            for code, m in moves.items()
            if m
        )
        gaps = self.network_gap
        if gaps is None:
            return change
        by_network: dict[Network, int] = defaultdict(int)
        for code, m in moves.items():
            by_network[self.network_of[code]] += m
        return change + self.tuning.network_weight * sum(
            abs(gaps[n] + self.total_weight * m) - abs(gaps[n])
            for n, m in by_network.items()
            if m and n in gaps
        )

    def sweep(self, deadline: float) -> bool:
        """One pass over the posts of practices above their share, each handed straight to the
        clinician of a practice below it whose taking it lowers the goal most and breaks no
        rule. True if any was."""
        entries = [e for es in self.mine.values() for e in es if self.movable(e)]
        self.rng.shuffle(entries)
        improved = False
        for e in entries:
            if time.perf_counter() >= deadline:
                break
            giver = e.clinician.practice_code
            if self.deviation.get(giver, 0) <= 0 or not self._current(e):
                continue  # not above its share (any more), or handed on already in this pass
            offers = []
            for c in self.takers.get((e.session_id, e.assignment.post_index), ()):
                taker = c.practice_code
                if not _may_stand_in(c, e.clinician) or self.deviation[taker] >= 0:
                    continue
                change = self.change({giver: -e.minutes, taker: e.minutes})
                if change < 0:
                    offers.append((change, self.rng.random(), c))
            if not offers:
                continue
            rest = self._leaves(e)
            if rest is None:
                continue
            offers.sort(key=lambda o: (o[0], o[1]))
            for _, _, c in offers:
                after = self._takes(c, e)
                if after is not None:
                    self._hand(e, rest, c, after)
                    improved = True
                    break
        return improved

    def chains(self, deadline: float) -> bool:
        """One pass over the clinicians of practices below their share: each takes a post from
        a clinician t of a practice not above it, who takes in turn a post of a practice above
        it (the chain that lowers the goal most of those that break no rule). True if any did."""
        ends = [c for c in self.problem.clinicians if self.deviation.get(c.practice_code, 0) < 0]
        self.rng.shuffle(ends)
        improved = False
        incoming: dict[str, list[Entry]] = {}  # this pass's best posts for t to take (_incoming)
        for q in ends:
            if time.perf_counter() >= deadline:
                break
            if self.deviation[q.practice_code] >= 0:
                continue
            found = []
            for session, index in self.may_take.get(q.clinician_id, ()):
                for e2 in self.on_post.get((session.session_id, index), ()):
                    t = e2.clinician
                    middle = t.practice_code
                    if (
                        not _may_stand_in(q, t)
                        or middle == q.practice_code
                        or self.deviation[middle] > 0
                        or not self.movable(e2)
                    ):
                        continue
                    if t.clinician_id not in incoming:
                        incoming[t.clinician_id] = self._incoming(t)
                    for e in incoming[t.clinician_id]:
                        if e.clinician_id == q.clinician_id or not self._current(e):
                            continue
                        moves: dict[str, int] = defaultdict(int)
                        moves[e.clinician.practice_code] -= e.minutes
                        moves[middle] += e.minutes - e2.minutes
                        moves[q.practice_code] += e2.minutes
                        change = self.change(moves)
                        if change < 0:
                            found.append((change, self.rng.random(), e, e2))
            found.sort(key=lambda o: (o[0], o[1]))
            for _, _, e, e2 in found[: self.tuning.chain_checks]:
                if self._chain(q, e, e2):
                    improved = True
                    break
        return improved

    def _incoming(self, t: Clinician) -> list[Entry]:
        """The posts of practices above their share that `t` may take, those whose practice
        gains most by losing them first (at most the tuning's chain_incoming)."""
        offers = []
        for session, index in self.may_take.get(t.clinician_id, ()):
            for e in self.on_post.get((session.session_id, index), ()):
                giver = e.clinician.practice_code
                if (
                    _may_stand_in(t, e.clinician)
                    and self.deviation[giver] > 0
                    and giver != t.practice_code
                    and self.movable(e)
                ):
                    offers.append((self.change({giver: -e.minutes}), self.rng.random(), e))
        offers.sort(key=lambda o: (o[0], o[1]))
        return [e for _, _, e in offers[: self.tuning.chain_incoming]]

    def _chain(self, q: Clinician, e: Entry, e2: Entry) -> bool:
        """e's post to e2's clinician t, e2's to q, if that breaks no rule of theirs."""
        t = e2.clinician
        if e.session_id == e2.session_id:
            return False
        rest = self._leaves(e)
        after_t = None if rest is None else self._takes(t, e, drops=e2)
        after_q = None if after_t is None else self._takes(q, e2)
        if rest is None or after_t is None or after_q is None:
            return False
        self._hand(e, rest, t, after_t)
        self._hand(e2, after_t, q, after_q)
        return True

    def _current(self, e: Entry) -> bool:
        """Whether `e` itself (not an equal entry: a post handed on and back again is a new
        one) is still its clinician's; the moves remove entries by identity."""
        return any(x is e for x in self.mine.get(e.clinician_id, ()))

    def _leaves(self, e: Entry) -> list[Entry] | None:
        """e's clinician's entries without it, if losing it breaks none of their rules."""
        theirs = self.mine[e.clinician_id]
        rest = [x for x in theirs if x is not e]
        return None if clinician_violations(self.problem, e.clinician, theirs, rest) else rest

    def _takes(self, c: Clinician, e: Entry, drops: Entry | None = None) -> list[Entry] | None:
        """`c`'s entries with `e`'s post taken (and `drops` handed on), if that breaks none of
        c's rules; else None."""
        theirs = self.mine.get(c.clinician_id, [])
        if any(x.session_id == e.session_id for x in theirs if x is not drops):
            return None
        moved = Entry(
            Assignment(e.session_id, e.assignment.post_index, c.clinician_id),
            e.session,
            e.post,
            c,
            e.start_minute,
            e.end_minute,
            e.week,
        )
        after = [*(x for x in theirs if x is not drops), moved]
        return None if clinician_violations(self.problem, c, theirs, after) else after

    def _hand(self, e: Entry, rest: list[Entry], c: Clinician, after: list[Entry]) -> None:
        """e's post from its clinician (left with `rest`) to `c` (with `after`)."""
        self.mine[e.clinician_id] = rest
        self.mine[c.clinician_id] = after
        post = self.on_post[e.session_id, e.assignment.post_index]
        post[:] = [x for x in post if x is not e] + [
            x for x in after if x.session_id == e.session_id
        ]
        self.deviation[e.clinician.practice_code] -= self.total_weight * e.minutes
        self.deviation[c.practice_code] += self.total_weight * e.minutes
        gaps = self.network_gap
        if gaps is not None:
            for code, sign in ((e.clinician.practice_code, -1), (c.practice_code, 1)):
                network = self.network_of[code]
                if network in gaps:
                    gaps[network] += sign * self.total_weight * e.minutes


def cost_swaps(
    problem: Problem,
    rota: Iterable[Assignment],
    seconds: float,
    seed: int = 0,
    fixed_day: Callable[[date], bool] | None = None,
    slack: tuple[int, int] = (0, 0),
    price: int = 0,
    *,
    tuning: SwapTuning = SwapTuning(),
) -> Rota:
    """`rota` with posts handed to cheaper clinicians who may stand in (see _may_stand_in) while
    that lowers cost and leaves fair share and each tier between it and cost no worse, for at
    most `seconds`: one post handed on within a practice or to one whose deviation it does not
    worsen, or two at once, a post from practice P to Q and one of the same length from Q to P
    (each practice's minutes stay). Every tier above fair share stays as it was (the same places
    filled), so the result is at least as good lexicographically down to cost, and cheaper.

    Cost's LP can give posts that ask for an ANP or a practice nurse to the cheaper nurses
    where the rota gives them to ANPs, and each such move alone shifts minutes between
    practices; the large-neighbourhood search frees a few practices at a time and rarely the
    pair that trades.

    The tiers between are held as sums, not clinician by clinician: `slack` is how far even
    load's tier (with even Saturdays and minimum sessions, weighted) and preferences' may still
    rise in all, and a move that lowers one of them adds to it. With a `price` (cost per unit of
    even load) a move is taken when its cost plus price times its change in even load falls,
    within the slack: a post handed to a cheaper clinician with more sessions uses slack that a
    post handed on to one with fewer, at a little more cost, has made (most of what cost could
    gain raises even load)."""
    deadline = time.perf_counter() + seconds
    view = RotaView.of(problem, rota)
    weights = fair_share_weights(problem)
    if not view.entries or problem.weights.of("cost") == 0:
        return tuple(rota)
    swaps = _CostSwaps(problem, view, weights, random.Random(seed), fixed_day, slack, tuning=tuning)
    swaps.price = price
    priced = deadline - (1 - tuning.priced_share) * seconds if price else time.perf_counter()
    while time.perf_counter() < priced and swaps.sweep(priced):
        pass
    swaps.price = 0  # what slack is left, spent on cost alone
    while time.perf_counter() < deadline and swaps.sweep(deadline):
        pass
    return tuple(sorted(x.assignment for es in swaps.mine.values() for x in es))


class _CostSwaps(_Swaps):
    """_Swaps with each clinician's share of the tiers between fair share and cost."""

    def __init__(
        self,
        problem: Problem,
        view: RotaView,
        weights: dict[str, int],
        rng: random.Random,
        fixed_day: Callable[[date], bool] | None,
        slack: tuple[int, int] = (0, 0),
        *,
        tuning: SwapTuning = SwapTuning(),
    ):
        super().__init__(problem, view, weights, rng, fixed_day, tuning=tuning)
        self.slack = slack
        self.price = 0  # cost (in the goal's units) per unit of even load, see try_moves
        w = problem.weights
        self.w_load, self.w_sats, self.w_min = (
            w.of("even_load"),
            w.of("even_saturdays"),
            w.of("min_sessions"),
        )
        self.w_pref, self.w_cost = w.of("preferences"), w.of("cost")
        self.preferred: dict[str, set[date]] = defaultdict(set)
        for cid, day in problem.availability:
            if is_preferred_date(problem, cid, day):
                self.preferred[cid].add(day)
        self.by_practice: dict[str, list[Clinician]] = defaultdict(list)
        for c in problem.clinicians:
            self.by_practice[c.practice_code].append(c)

    def tiers(self, c: Clinician, entries: list[Entry]) -> tuple[int, int]:
        """c's part of even load (with even Saturdays and minimum sessions) and of preferences."""
        n = len(entries)
        sats = sum(1 for e in entries if e.session.is_saturday)
        load = (
            self.w_load * triangle(n)
            + self.w_sats * triangle(sats)
            + self.w_min * max(0, c.min_sessions_per_period - n)
        )
        worked = {e.session.date for e in entries}
        missed = sum(1 for day in self.preferred.get(c.clinician_id, ()) if day not in worked)
        elsewhere = (
            sum(1 for e in entries if e.session.hub_id not in c.preferred_hubs)
            if c.preferred_hubs
            else 0
        )
        return load, self.w_pref * (missed + elsewhere)

    def cost(self, c: Clinician, e: Entry) -> int:
        return self.w_cost * assignment_cost_pence(c, e.session)

    def try_moves(self, moves: list[tuple[Entry, Clinician]]) -> bool:
        """Hand each entry's post to its clinician, all at once, if that breaks no rule of
        anyone involved, lowers cost and leaves fair share and the tiers between no worse."""
        involved: dict[str, Clinician] = {}
        after: dict[str, list[Entry]] = {}
        for e, c in moves:
            for who in (e.clinician, c):
                involved[who.clinician_id] = who
                after.setdefault(who.clinician_id, list(self.mine.get(who.clinician_id, [])))
        minutes: dict[str, int] = defaultdict(int)
        gain = 0
        for e, c in moves:
            if any(x.session_id == e.session_id for x in after[c.clinician_id]):
                return False
            after[e.clinician_id] = [x for x in after[e.clinician_id] if x is not e]
            after[c.clinician_id].append(
                Entry(
                    Assignment(e.session_id, e.assignment.post_index, c.clinician_id),
                    e.session,
                    e.post,
                    c,
                    e.start_minute,
                    e.end_minute,
                    e.week,
                )
            )
            minutes[e.clinician.practice_code] -= e.minutes
            minutes[c.practice_code] += e.minutes
            gain += self.cost(c, e) - self.cost(e.clinician, e)
        if (gain >= 0 and not self.price) or self.change(minutes) > 0:
            return False
        load = prefs = 0
        for cid, who in involved.items():
            old, new = self.tiers(who, self.mine.get(cid, [])), self.tiers(who, after[cid])
            load += new[0] - old[0]
            prefs += new[1] - old[1]
        if load > self.slack[0] or prefs > self.slack[1] or gain + self.price * load >= 0:
            return False
        if any(
            clinician_violations(self.problem, who, self.mine.get(cid, []), after[cid])
            for cid, who in involved.items()
        ):
            return False
        for e, c in moves:
            moved = next(x for x in after[c.clinician_id] if x.session_id == e.session_id)
            post = self.on_post[e.session_id, e.assignment.post_index]
            post[:] = [x for x in post if x is not e] + [moved]
            self.deviation[e.clinician.practice_code] -= self.total_weight * e.minutes
            self.deviation[c.practice_code] += self.total_weight * e.minutes
        for cid in involved:
            self.mine[cid] = after[cid]
        self.slack = (self.slack[0] - load, self.slack[1] - prefs)
        return True

    def sweep(self, deadline: float) -> bool:
        """One pass over the posts, dearest first: each to the cheapest clinician who may take
        it alone, else in a trade with a post of the same length coming back. True if any moved."""
        entries = [e for es in self.mine.values() for e in es if self.movable(e)]
        self.rng.shuffle(entries)
        entries.sort(key=lambda e: -e.clinician.cost_per_hour_pence)
        improved = False
        for e in entries:
            if time.perf_counter() >= deadline:
                break
            if not self._current(e):
                continue
            giver = e.clinician
            cheaper = sorted(
                (
                    (self.cost(c, e) - self.cost(giver, e), self.rng.random(), c)
                    for c in self.takers.get((e.session_id, e.assignment.post_index), ())
                    if c.clinician_id != giver.clinician_id
                    and _may_stand_in(c, giver)
                    and self.cost(c, e) - self.cost(giver, e)
                    < self.price * self._levels(giver, c, e)
                ),
                key=lambda o: (o[0], o[1]),
            )
            moved = False
            for _, _, c in cheaper:
                if self.try_moves([(e, c)]):
                    moved = True
                    break
            for _, _, c in cheaper if not moved and not self.price else ():
                if time.perf_counter() >= deadline:
                    break
                if c.practice_code == giver.practice_code:
                    continue
                if self._trade(e, c):
                    moved = True
                    break
            improved = improved or moved
        return improved

    def _levels(self, giver: Clinician, c: Clinician, e: Entry) -> int:
        """How much lower the even-load tier is with e's post handed from giver to c (0 when
        no price is set, where it is not needed)."""
        if not self.price:
            return 0
        before = (
            self.tiers(giver, self.mine.get(giver.clinician_id, []))[0]
            + self.tiers(c, self.mine.get(c.clinician_id, []))[0]
        )
        after = (
            self.tiers(giver, [x for x in self.mine.get(giver.clinician_id, []) if x is not e])[0]
            + self.tiers(c, self.mine.get(c.clinician_id, []) + [e])[0]
        )
        return before - after

    def _trade(self, e: Entry, c: Clinician) -> bool:
        """e's post to c, and a post of the same length from c's practice back to e's."""
        home, away = e.clinician.practice_code, c.practice_code
        options = []
        for q in self.by_practice.get(away, ()):
            for e2 in self.mine.get(q.clinician_id, ()):
                if e2.minutes != e.minutes or e2.session_id == e.session_id or not self.movable(e2):
                    continue
                for c2 in self.takers.get((e2.session_id, e2.assignment.post_index), ()):
                    if c2.practice_code == home and _may_stand_in(c2, q):
                        net = (
                            self.cost(c, e)
                            - self.cost(e.clinician, e)
                            + self.cost(c2, e2)
                            - self.cost(q, e2)
                        )
                        if net < 0:
                            options.append((net, self.rng.random(), e2, c2))
        options.sort(key=lambda o: (o[0], o[1]))
        return any(
            self.try_moves([(e, c), (e2, c2)])
            for _, _, e2, c2 in options[: self.tuning.chain_checks]
        )
