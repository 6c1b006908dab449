"""Large-neighbourhood search around CP-SAT: free a window of days or a group of clinicians, fix
the rest of the best rota, and let CP-SAT re-optimise that part; keep what improves."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from ortools.sat.python import cp_model

from scheduler.domain import Problem
from scheduler.solver.model import LinearExpr, Practices, RotaModel
from scheduler.solver.submodel import SubModels

# The share of a neighbourhood's x variables freed starts here and adapts: up after a
# neighbourhood solved to optimality (it was easy), down after one that ran out of time.
START_SHARE, MIN_SHARE, MAX_SHARE = 0.1, 0.03, 0.6
ITERATION_SECONDS = 0.5
# ... or longer on a big model, whose every sub-solve presolves the whole clone: freeing two
# practices of the generated ics (176,000 variables) takes 1.1 s to solve, so at half a second
# every iteration ran out of time and none improved. At 1e-5 (1.78 s on the ics) 163 of 169 of
# fair share's steps improved and 74 of them ran to the limit: every step gains, so more of
# them gain more. At 7e-6 (1.24 s): ics seed 1 ended fair share at 4.69 M and the gap at
# 9.81 %, against 8.08 M and 12.54 %; seed 0 at 11.64 M and 12.22 %, against 10.87-13.38 M and
# 11.74-13.62 % in three runs (one run each: fair share's end varies between runs).
SECONDS_PER_VARIABLE = 7e-6
# With practices given, this share of the iterations frees a few practices' clinicians (on the
# generated federation 0.9 ended fair share at 6.7 and 8.9 M, 0.5 at 16-17 M).
PRACTICE_SHARE = 0.9
# ... and, before that, this share frees the clinicians one kind of post accepts (every GP; every
# ANP and practice nurse; every HCA) over a window of days, whatever their practice: a scarce
# role's sessions move between practices only in chains through other clinicians of the role, who
# are at their weekly caps (the ics's physiotherapists and HCAs). The window starts at ROLE_START
# of the horizon and adapts for each kind on its own. Off (0): generated ics, fair share's phase
# forked from one state at its start, it helps seed 0 and hurts seed 1 more. Seed 0, four solver
# seeds: 8.44, 7.85, 8.18 M without, against 7.99, 7.66-7.64, 7.97-7.88 M at 0.3-0.5 (and
# 7.90 M at 0.5 on the fourth seed, 8.61 M with each role on its own rather than the roles of one
# kind of post). Seed 1, two solver seeds: 3.21 and 2.75 M without, 3.90 and 3.95 M at 0.5,
# 3.16 M at 0.2: there the practice neighbourhoods still gain fast, and each step taken from
# them costs more than a role step finds. Stop 30 had tried one role, whole horizon, in 20 % of
# the steps, for 50 s: 9.75 and 8.06 M against 8.11 and 7.97 M.
ROLE_SHARE = 0.0
ROLE_START = 0.3
# Sub-solves relax the at-most-ones and Boolean clauses into their LP too (linearization level
# 2, as FEW_WORKERS_SUBSOLVERS's max_lp in scheduler.solver.solve), where CP-SAT's default keeps only
# the linear constraints: the held tiers' sums then bound each neighbourhood well enough to
# prove it. (Generated federation, cost phase, four practices at a time, 30 s from the same
# rota: 22.61 M to 21.31 M with 82 of 150 sub-solves proven, against 21.56-21.72 M with 8 of
# 110 at the default; the default needs 90 s for 21.30 M.)
LINEARIZATION_LEVEL = 2
# With a tie-break (`then`), a sub-solve may minimise THEN_SCALE·expr + then (a unit of the
# phase's own goal outweighs this many of the tie-break's): with a chance that grows with the
# time since `expr` last improved, reaching THEN_SHARE after THEN_WAIT of the stall time. While
# `expr` improves often, its sub-solves stay plain (always tie-broken, fair share on the
# federation slowed from 4.47 M to 4.73 M in its phase).
THEN_SCALE = 1000
THEN_SHARE = 0.9
THEN_WAIT = 0.5
START_PRACTICES = 4.0
# Sub-solves skip presolve's probing: with most variables fixed it finds little, and each
# sub-solve presolves the whole clone (generated federation, cost phase, 30 practice
# neighbourhoods of 0.5 s from the same rota: 1.20 M gained in 10.6 s, against 1.09 M in 11.2 s).
PROBING_LEVEL = 0
# Practices drawn evenly (the cost phase) are drawn as a sweep: every practice once a round, in
# a new random order each round, shared by the threads, rather than each draw at random (which
# frees some practices again before others at all). Federation seed 1, cost, 20 s from the same
# rota at 27.11 M, three runs each: 25.67-25.72 M swept, 25.81-25.90 M drawn at random.
SWEEP = True
# ... and each swept practice is freed with partners drawn by how many sessions their clinicians
# could take from each other (Practices.overlap), not with the sweep's next ones: on the
# generated ics most practices' clinicians work only their own network's hubs, so practices
# drawn evenly could only reshuffle sessions among their own clinicians. Partners can also trade
# minutes between practices on the same side of their fair share, which keeps fair share where
# it is held. (ics seed 0, cost phase after the network parts, 50 s from the same rota at
# 113.92 M: 113.04 and 113.09 M with partners, 113.25 M swept; from 113.86 M, 113.11 M against
# 113.12 and 113.15 M: a small gain, 0.75-0.88 M against 0.67-0.74 M.) Only on models of more than this
# many variables: on the generated federation, whose practices' clinicians mostly share hubs,
# cost ended at 21.22 and 25.56 M (seeds 0 and 1, 60 s) with partners, 21.16 and 25.36 M swept.
PARTNERS_VARIABLES = 100_000
# On a model of more than this many variables, each sub-solve gets a small model of its own
# (scheduler.solver.submodel) rather than a clone of the whole with its domains fixed: on the
# generated ics, CP-SAT spent 0.2-0.35 s of each sub-solve taking in the whole model. From the
# same rota after fair share's swaps (10.25 M), 90 s of fair share's practice neighbourhoods on
# one thread ended at 7.97 M this way, against 9.38 M with clones (8.01 M on two threads).
CUT_VARIABLES = 100_000


@dataclass
class LnsOutcome:
    values: list[int]  # the best full solution (one value per model variable)
    objective: int
    iterations: int
    improvements: int


def improve(
    problem: Problem,
    rm: RotaModel,
    expr: LinearExpr,
    values: list[int],
    objective: int,
    deadline: float,
    seed: int,
    stop: Callable[[], bool] | None = None,
    on_improve: Callable[[int], None] | None = None,
    workers: int = 1,
    practices: Practices | None = None,
    stall: float | None = None,
    then: tuple[LinearExpr, int] | None = None,
    after: threading.Event | None = None,
) -> LnsOutcome:
    """Lower `expr` from the solution `values` until `deadline` (perf_counter seconds).

    Each iteration frees the x variables of a random window of consecutive days or of a random
    group of clinicians (alternating by chance), pins every other x to its value in the best
    solution by shrinking its domain in a clone of the model, hints the best solution and
    solves with one worker for at most ITERATION_SECONDS. The clone keeps every constraint,
    so whatever it returns is a whole, valid solution.

    With `practices` (a phase that evens out the practices' shares), most iterations
    (PRACTICE_SHARE) free every clinician of a few practices over the whole horizon instead:
    some above their share and some below, drawn in proportion to how far they are from it, so
    that CP-SAT can move sessions from the ones to the others. ROLE_SHARE of the iterations
    free instead, over a window of days, every clinician of the roles one kind of post accepts,
    so that sessions of a scarce role can move along chains of its clinicians.

    With `then` (an expression and its value in `values`), each sub-solve breaks ties in
    `expr` by that expression: it minimises THEN_SCALE·expr + then, `expr` capped at the best
    value, and a solution is kept when it lowers `expr`, or keeps it and lowers `then`.

    With `stall`, the search ends once no thread has improved for that many seconds (the rest
    of the phase then goes to the tiers below).

    `workers` threads search at once, each with its own random stream, sharing the best
    solution (CP-SAT releases the interpreter lock while it solves, so each uses a core). With
    `after`, all but the first wait for that event (work of the caller's that holds a core).
    """
    items = [
        (problem.sessions[si].date, ci, var.index) for (ci, si, _), var in rm.variables.x.items()
    ]
    state = _Shared(list(values), objective, time.perf_counter(), then[1] if then else 0)
    cut = None
    if items and then is None and len(rm.model.proto.variables) > CUT_VARIABLES:
        whole = rm.model.clone()
        whole.minimize(expr)
        cut = SubModels.read(whole, [index for _, _, index in items])
        del whole
    if items:
        threads = [
            threading.Thread(
                target=_search,
                daemon=True,
                args=(
                    problem,
                    rm,
                    expr,
                    items,
                    state,
                    deadline,
                    seed * 7919 + k,
                    stop,
                    on_improve,
                    practices,
                    stall,
                    then and then[0],
                    after if k else None,
                    cut,
                ),
            )
            for k in range(max(1, workers))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return LnsOutcome(state.best, state.objective, state.iterations, state.improvements)


@dataclass
class _Shared:
    """The best solution the threads share, behind one lock."""

    best: list[int]
    objective: int
    improved_at: float  # perf_counter seconds
    then: int = 0  # the tie-break's value in `best`
    queue: list[int] = field(default_factory=list)  # practices still to free in this sweep
    iterations: int = 0
    improvements: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(
        self, deadline: float, stop: Callable[[], bool] | None, stall: float | None
    ) -> tuple[list[int], int] | None:
        """A copy of the best solution and its objective for the next step, counted; None once
        the search is to end (the deadline, `stop`, or no improvement for `stall` seconds)."""
        if (
            time.perf_counter() >= deadline - 0.05
            or (stop is not None and stop())
            or (stall and time.perf_counter() - self.improved_at > stall)
        ):
            return None
        with self.lock:
            self.iterations += 1
            return list(self.best), self.objective


def _search(
    problem: Problem,
    rm: RotaModel,
    expr: LinearExpr,
    items: list[tuple[date, int, int]],
    state: _Shared,
    deadline: float,
    seed: int,
    stop: Callable[[], bool] | None,
    on_improve: Callable[[int], None] | None,
    practices: Practices | None,
    stall: float | None,
    then: LinearExpr | None,
    after: threading.Event | None,
    cut: SubModels | None = None,
) -> None:
    if after is not None:
        after.wait(max(0.0, deadline - time.perf_counter()))
    rng = random.Random(seed)
    draw = _Draw(
        items,
        practices,
        state,
        len(rm.model.proto.variables) > PARTNERS_VARIABLES,
        _role_groups(problem, items) if practices is not None and ROLE_SHARE else None,
    )
    seconds = max(ITERATION_SECONDS, SECONDS_PER_VARIABLE * len(rm.model.proto.variables))
    if cut is not None and len(state.best) == cut.variables:
        _search_cut(cut, draw, state, deadline, rng, stop, on_improve, stall, seconds)
        return
    model = rm.model.clone()
    objectives = []  # (vars, coeffs, offset) of the plain objective and the tie-broken one
    for objective in [expr] if then is None else [expr, THEN_SCALE * expr + then]:
        model.minimize(objective)
        proto = model.proto.objective
        objectives.append((list(proto.vars), list(proto.coeffs), proto.offset))
    # the x variables as arrays, in `items` order: each iteration writes only the domains that
    # change (those freed now or before, and those whose value in the best solution moved), as
    # rewriting all of them took a quarter of each thread's time on a federation (17,780 x)
    indices = draw.indices
    proto_variables = model.proto.variables
    low = np.array([proto_variables[int(index)].domain[0] for index in indices], dtype=np.int64)
    high = np.array([proto_variables[int(index)].domain[1] for index in indices], dtype=np.int64)
    written_low, written_high = low.copy(), high.copy()
    model.add(expr <= state.objective)
    cap = model.proto.constraints[len(model.proto.constraints) - 1].linear
    constant = state.objective - cap.domain[len(cap.domain) - 1]  # expr's constant, moved right
    while (taken := state.take(deadline, stop, stall)) is not None:
        best, best_objective = taken
        free = draw.free(rng, best)
        # one copy of the model per thread, its domains and cap rewritten each iteration
        # (a fresh clone each time made the generated ics grow by gigabytes over a phase)
        fixed = np.asarray(best, dtype=np.int64)[indices]
        want_low, want_high = np.where(free, low, fixed), np.where(free, high, fixed)
        for k in np.flatnonzero((want_low != written_low) | (want_high != written_high)).tolist():
            domain = proto_variables[int(indices[k])].domain
            domain[0], domain[1] = int(want_low[k]), int(want_high[k])
        written_low, written_high = want_low, want_high
        cap.domain[len(cap.domain) - 1] = best_objective - constant
        if then is not None:
            waited = (
                (time.perf_counter() - state.improved_at) / (THEN_WAIT * stall) if stall else 1.0
            )
            tie = rng.random() < min(THEN_SHARE, waited)
            proto = model.proto.objective
            variables, coefficients, offset = objectives[tie]
            proto.vars.clear()
            proto.vars.extend(variables)
            proto.coeffs.clear()
            proto.coeffs.extend(coefficients)
            proto.offset = offset
        hint = model.proto.solution_hint
        hint.vars.clear()
        hint.values.clear()
        hint.vars.extend(range(len(best)))
        hint.values.extend(best)
        solver = _sub_solver(rng, seconds, deadline)
        status = solver.solve(model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = round(solver.objective_value) if then is None else round(solver.value(expr))
            found_then = 0 if then is None else round(solver.value(then))
            with state.lock:
                if (found, found_then) < (state.objective, state.then):
                    # the clone's whole solution: a start from a tier above may lack variables
                    # added since (fair share's per-practice minutes), which this one fills in
                    state.best = list(solver.response_proto.solution)
                    state.objective, state.then = found, found_then
                    state.improvements += 1
                    if found < best_objective or then is None:
                        state.improved_at = time.perf_counter()
                    if on_improve is not None:
                        on_improve(found)
        draw.adapt(status == cp_model.OPTIMAL)


def _sub_solver(rng: random.Random, seconds: float, deadline: float) -> cp_model.CpSolver:
    """A solver for one sub-solve: one worker, for `seconds` at most (and not past `deadline`)."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.linearization_level = LINEARIZATION_LEVEL
    solver.parameters.cp_model_probing_level = PROBING_LEVEL
    solver.parameters.random_seed = rng.randrange(1 << 20)
    solver.parameters.max_time_in_seconds = max(0.05, min(seconds, deadline - time.perf_counter()))
    return solver


def _search_cut(
    cut: SubModels,
    draw: _Draw,
    state: _Shared,
    deadline: float,
    rng: random.Random,
    stop: Callable[[], bool] | None,
    on_improve: Callable[[int], None] | None,
    stall: float | None,
    seconds: float,
) -> None:
    """_search's loop with each neighbourhood solved as a small model of its own
    (scheduler.solver.submodel), from a best solution that is whole (one value per model variable)."""
    while (taken := state.take(deadline, stop, stall)) is not None:
        best, best_objective = np.asarray(taken[0], dtype=np.int64), taken[1]
        free = draw.free(rng, best)
        step = cut.solve(
            draw.indices[free], best, best_objective, _sub_solver(rng, seconds, deadline)
        )
        if step.values is not None and step.objective is not None:
            with state.lock:
                if step.objective < state.objective:
                    state.best = step.values.tolist()
                    state.objective = step.objective
                    state.improvements += 1
                    state.improved_at = time.perf_counter()
                    if on_improve is not None:
                        on_improve(step.objective)
        draw.adapt(step.status == cp_model.OPTIMAL)


class _Draw:
    """Which assignment variables a step frees: a few practices' clinicians (with `practices`,
    PRACTICE_SHARE of the steps), a window of days or a random group of clinicians; each kind's
    size adapts, up after a neighbourhood solved to optimality, down after one that ran out of
    time. Practices not aimed at are swept, each with the sweep's next ones or, with
    `partners` (models over PARTNERS_VARIABLES), with partners drawn by Practices.overlap. With
    `groups` (masks over the items, _role_groups), ROLE_SHARE of the steps free one group over
    a window of days, whose length adapts for each group on its own."""

    def __init__(
        self,
        items: list[tuple[date, int, int]],
        practices: Practices | None,
        state: _Shared,
        partners: bool = False,
        groups: list[np.ndarray] | None = None,
    ):
        self.practices, self.state, self.partners = practices, state, partners
        self.kind = "other"
        self.groups = groups or []
        self.group_share = [ROLE_START] * len(self.groups)
        self.group = 0
        self.days = sorted({d for d, _, _ in items})
        self.clinicians = sorted({ci for _, ci, _ in items})
        self.indices = np.array([index for _, _, index in items], dtype=np.int64)
        self.of_clinician = np.array([ci for _, ci, _ in items], dtype=np.int64)
        day_number = {d: k for k, d in enumerate(self.days)}
        self.of_day = np.array([day_number[d] for d, _, _ in items], dtype=np.int64)
        self.share = START_SHARE
        # the practice neighbourhood's size adapts on its own, in practices, from 2 up
        self.count = START_PRACTICES
        self.most = max(2.0, len(practices.members) / 2) if practices else 2.0
        self.by_practice = False

    def free(self, rng: random.Random, best) -> np.ndarray:
        """A mask over the items: the next neighbourhood, drawn from the solution `best`."""
        practices = self.practices
        if self.groups and rng.random() < ROLE_SHARE:
            self.kind, self.by_practice = "role", False
            self.group = rng.randrange(len(self.groups))
            length = max(1, round(self.group_share[self.group] * len(self.days)))
            first = rng.randrange(0, len(self.days) - length + 1)
            return self.groups[self.group] & (self.of_day >= first) & (self.of_day < first + length)
        self.kind = "other"
        self.by_practice = (
            practices is not None and len(practices.members) > 1 and rng.random() < PRACTICE_SHARE
        )
        if self.by_practice:
            assert practices is not None
            if practices.aim or not SWEEP:
                picked = _pick_practices(rng, practices, best, round(self.count))
            else:
                picked = (
                    _sweep_with_partners(rng, self.state, practices, round(self.count))
                    if self.partners
                    else _next_practices(rng, self.state, len(practices.members), round(self.count))
                )
            return np.isin(self.of_clinician, [ci for p in picked for ci in practices.members[p]])
        if rng.random() < 0.5 and len(self.days) > 1:
            length = max(1, round(self.share * len(self.days)))
            first = rng.randrange(0, len(self.days) - length + 1)
            return (self.of_day >= first) & (self.of_day < first + length)
        return np.isin(
            self.of_clinician,
            rng.sample(self.clinicians, max(1, round(self.share * len(self.clinicians)))),
        )

    def adapt(self, solved: bool) -> None:
        """The last neighbourhood's kind grows if it was `solved` to optimality, else shrinks."""
        grow = 1.15 if solved else 1 / 1.15
        if self.kind == "role":
            self.group_share[self.group] = min(
                1.0, max(MIN_SHARE, self.group_share[self.group] * grow)
            )
        elif self.by_practice:
            self.count = min(self.most, max(2.0, self.count * grow))
        else:
            self.share = min(MAX_SHARE, max(MIN_SHARE, self.share * grow))


def _role_groups(problem: Problem, items: list[tuple[date, int, int]]) -> list[np.ndarray]:
    """For each set of roles some post accepts, a mask over `items`: those of clinicians of
    one of its roles."""
    role_of = np.array([problem.clinicians[ci].role_key for _, ci, _ in items])
    kinds = sorted(
        {post.roles for session in problem.sessions for post in session.posts}, key=sorted
    )
    return [np.isin(role_of, sorted(kind)) for kind in kinds]


def _sweep_with_partners(
    rng: random.Random, state: _Shared, practices: Practices, count: int
) -> list[int]:
    """The next practice of the sweep (_next_practices) and `count` − 1 partners (at least one),
    each drawn with weight the chances its clinicians have to trade sessions with those drawn so
    far (Practices.overlap); drawn evenly where no practice has any."""
    members = len(practices.members)
    count = min(members, max(2, count))
    overlap = practices.overlap
    if overlap is None:
        return _next_practices(rng, state, members, count)
    chosen = _next_practices(rng, state, members, 1, least=1)
    while len(chosen) < count:
        pool = [p for p in range(members) if p not in chosen]
        weights = [sum(overlap[c][p] for c in chosen) for p in pool]
        if not any(weights):
            return chosen + rng.sample(pool, count - len(chosen))
        chosen.append(pool[rng.choices(range(len(pool)), weights=weights)[0]])
    return chosen


def _next_practices(
    rng: random.Random, state: _Shared, practices: int, count: int, least: int = 2
) -> list[int]:
    """The next `count` practices (at least two) of a sweep through them all in random order,
    shared by the threads, so that every practice is freed once a round."""
    count = min(practices, max(least, count))
    with state.lock:
        if len(state.queue) < count:
            rest = [p for p in range(practices) if p not in state.queue]
            rng.shuffle(rest)
            state.queue.extend(rest)
        picked, state.queue[:] = state.queue[:count], state.queue[count:]
    return picked


def _pick_practices(
    rng: random.Random, practices: Practices, best: list[int], count: int
) -> list[int]:
    """`count` practices (at least two), half from those above their target (Practices.gaps)
    and half from those below, taken in turns, each drawn with weight its distance from it
    times the chances its clinicians have to trade sessions with those drawn so far
    (Practices.overlap; the first by distance alone); without `practices.aim`, any `count`
    practices, drawn evenly."""
    if not practices.aim or max(practices.minutes) >= len(best):
        # (aimed, but `best` is a rota from before the practices' minutes were named: evenly,
        # until a sub-solve returns a whole solution of the model as it is now)
        return rng.sample(range(len(practices.members)), min(len(practices.members), max(2, count)))
    gaps = practices.gaps(best)
    count = min(len(gaps), max(2, count))
    sides = (
        {p: g for p, g in enumerate(gaps) if g > 0},
        {p: -g for p, g in enumerate(gaps) if g < 0},
    )
    wanted = [(count + 1) // 2, count // 2]
    chosen: list[int] = []
    turn = 0
    while any(wanted[k] and sides[k] for k in (0, 1)):
        if not (wanted[turn] and sides[turn]):
            turn = 1 - turn
        pool = list(sides[turn].items())
        weights = [float(g) for _, g in pool]
        if chosen and practices.overlap is not None:
            traded = [g * sum(practices.overlap[c][p] for c in chosen) for p, g in pool]
            if any(traded):
                weights = traded
        pick = pool[rng.choices(range(len(pool)), weights=weights)[0]][0]
        chosen.append(pick)
        del sides[turn][pick]
        wanted[turn] -= 1
        turn = 1 - turn
    rest = [p for p in range(len(gaps)) if p not in chosen]
    rng.shuffle(rest)
    return chosen + rest[: max(0, count - len(chosen))]
