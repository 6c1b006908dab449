"""Large-neighbourhood search around CP-SAT: free a window of days or a group of clinicians, fix
the rest of the best rota, and let CP-SAT re-optimise that part; keep what improves.

In a phase about the practices' shares, most steps free a few practices' clinicians instead:
drawn from both sides of their share when the phase aims them, otherwise swept (every practice
once a round, in a new random order each round, so that none waits while others are freed
again), on a large model each with partners whose clinicians can take its sessions, since
practices drawn evenly could mostly only reshuffle sessions among their own clinicians. On a
large model each sub-solve solves a small model cut out of the whole (scheduler.solver.submodel),
as taking in the whole model costs a sub-solve much of its time.
"""

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
from scheduler.solver.submodel import LOCAL_ROW, SubModels


@dataclass(frozen=True)
class LnsTuning:
    """The search's neighbourhood sizes, time per sub-solve and sub-solver settings."""

    # Share of the x variables a window of days or group of clinicians frees at first.
    start_share: float = 0.1
    # Least share such a neighbourhood shrinks to after sub-solves that run out of time.
    min_share: float = 0.03
    # Most share such a neighbourhood grows to after sub-solves proven optimal.
    max_share: float = 0.6
    # Least seconds a sub-solve may take.
    iteration_seconds: float = 0.5
    # Seconds a sub-solve may take per model variable, as each presolves the whole model.
    seconds_per_variable: float = 7e-6
    # With practices given, share of the steps that free a few practices' clinicians.
    practice_share: float = 0.9
    # Practices a practice neighbourhood frees at first (it adapts, from two up).
    start_practices: float = 4.0
    # CP-SAT's linearization in sub-solves: 2 puts the clauses in the LP, so proofs come sooner.
    linearization_level: int = 2
    # CP-SAT's probing in sub-solves: 0, as with most variables fixed probing finds little.
    probing_level: int = 0
    # In a tie-broken sub-solve a unit of the phase's goal outweighs this many of the tie-break's.
    then_scale: int = 1000
    # Highest chance that a sub-solve breaks ties, reached as the goal stalls.
    then_share: float = 0.9
    # Share of the stall time without improvement at which that chance reaches then_share.
    then_wait: float = 0.5
    # Past this many model variables swept practices are freed with partners they can trade with.
    partners_variables: int = 100_000
    # Past this many model variables each sub-solve solves a small model of its own.
    cut_variables: int = 100_000
    # In such a small model, rows longer than this spread no freedom from a freed variable.
    local_row: int = LOCAL_ROW


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
    *,
    tuning: LnsTuning = LnsTuning(),
    cut: SubModels | None = None,
) -> LnsOutcome:
    """Lower `expr` from the solution `values` until `deadline` (perf_counter seconds).

    Each iteration frees the x variables of a random window of consecutive days or of a random
    group of clinicians (alternating by chance), pins every other x to its value in the best
    solution by shrinking its domain in a clone of the model, hints the best solution and
    solves with one worker for a short time (the tuning's iteration_seconds, more on a big
    model). The clone keeps every constraint, so whatever it returns is a whole, valid solution.

    With `practices` (a phase that evens out the practices' shares), most iterations
    (practice_share) free every clinician of a few practices over the whole horizon instead:
    some above their share and some below, drawn in proportion to how far they are from it, so
    that CP-SAT can move sessions from the ones to the others.

    With `then` (an expression and its value in `values`), each sub-solve breaks ties in
    `expr` by that expression: it minimises then_scale·expr + then, `expr` capped at the best
    value, and a solution is kept when it lowers `expr`, or keeps it and lowers `then`.

    With `stall`, the search ends once no thread has improved for that many seconds (the rest
    of the phase then goes to the tiers below).

    `cut`: the model's rows already read (SubModels, `expr` their objective), used whatever the
    model's size.

    `workers` threads search at once, each with its own random stream, sharing the best
    solution (CP-SAT releases the interpreter lock while it solves, so each uses a core). With
    `after`, all but the first wait for that event (work of the caller's that holds a core).
    """
    items = [
        (problem.sessions[si].date, ci, var.index) for (ci, si, _), var in rm.variables.x.items()
    ]
    state = _Shared(list(values), objective, time.perf_counter(), then[1] if then else 0)
    if (
        cut is None
        and items
        and then is None
        and len(rm.model.proto.variables) > tuning.cut_variables
    ):
        cut = SubModels.read(rm.model, [index for _, _, index in items], tuning.local_row, expr)
    if items:
        search = _Search(
            rm,
            expr,
            items,
            state,
            deadline,
            stop,
            on_improve,
            practices,
            stall,
            then and then[0],
            cut,
            tuning,
        )
        threads = [
            threading.Thread(
                target=_search, daemon=True, args=(search, seed * 7919 + k, after if k else None)
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


@dataclass(frozen=True)
class _Search:
    """What every thread of one search works with."""

    rm: RotaModel
    expr: LinearExpr
    items: list[tuple[date, int, int]]  # each x variable's (date, clinician, model index)
    state: _Shared
    deadline: float  # perf_counter seconds
    stop: Callable[[], bool] | None
    on_improve: Callable[[int], None] | None
    practices: Practices | None
    stall: float | None
    then: LinearExpr | None  # the tie-break
    cut: SubModels | None  # the small models past cut_variables
    tuning: LnsTuning


def _search(search: _Search, seed: int, after: threading.Event | None) -> None:
    """One thread's search: steps until the shared state says to end."""
    state, tuning, then = search.state, search.tuning, search.then
    if after is not None:
        after.wait(max(0.0, search.deadline - time.perf_counter()))
    rng = random.Random(seed)
    size = len(search.rm.model.proto.variables)
    draw = _Draw(search.items, search.practices, state, size > tuning.partners_variables, tuning)
    seconds = max(tuning.iteration_seconds, tuning.seconds_per_variable * size)
    if search.cut is not None and len(state.best) == search.cut.variables:
        _search_cut(search, draw, rng, seconds)
        return
    clone = _Clone(search, draw.indices)
    while (taken := state.take(search.deadline, search.stop, search.stall)) is not None:
        best, best_objective = taken
        free = draw.free(rng, best)
        clone.fix(best, free, best_objective)
        if then is not None:
            stall = search.stall
            waited = (
                (time.perf_counter() - state.improved_at) / (tuning.then_wait * stall)
                if stall
                else 1.0
            )
            clone.use_objective(rng.random() < min(tuning.then_share, waited))
        clone.hint(best)
        solver = _sub_solver(rng, seconds, search.deadline, tuning)
        status = solver.solve(clone.model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = (
                round(solver.objective_value) if then is None else round(solver.value(search.expr))
            )
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
                    if search.on_improve is not None:
                        search.on_improve(found)
        draw.adapt(status == cp_model.OPTIMAL)


class _Clone:
    """One thread's copy of the model, its x variables' domains and its cap on the goal
    rewritten each step (a fresh clone each step grows a large model's memory by gigabytes
    over a phase). Only the domains that change are written (those freed now or before, and
    those whose value in the best solution moved): rewriting all of them takes a good share
    of each thread's time on a large model."""

    def __init__(self, search: _Search, indices: np.ndarray):
        expr, then = search.expr, search.then
        self.model = model = search.rm.model.clone()
        # (vars, coeffs, offset) of the plain objective and the tie-broken one
        self.objectives: list[tuple[list[int], list[int], float]] = []
        for objective in [expr] if then is None else [expr, search.tuning.then_scale * expr + then]:
            model.minimize(objective)
            proto = model.proto.objective
            self.objectives.append((list(proto.vars), list(proto.coeffs), proto.offset))
        self.indices = indices  # the x variables' model indices, in the items' order
        self.variables = model.proto.variables
        self.low = np.array([self.variables[int(k)].domain[0] for k in indices], dtype=np.int64)
        self.high = np.array([self.variables[int(k)].domain[1] for k in indices], dtype=np.int64)
        self.written_low, self.written_high = self.low.copy(), self.high.copy()
        start = search.state.objective  # (read once: another thread may lower it)
        model.add(expr <= start)
        self.cap = model.proto.constraints[len(model.proto.constraints) - 1].linear
        # expr's constant, moved to the cap's right-hand side
        self.constant = start - self.cap.domain[len(self.cap.domain) - 1]

    def fix(self, best: list[int], free: np.ndarray, best_objective: int) -> None:
        """Every x variable but the `free` ones fixed at its value in `best`, and the goal
        capped at `best_objective`."""
        fixed = np.asarray(best, dtype=np.int64)[self.indices]
        want_low = np.where(free, self.low, fixed)
        want_high = np.where(free, self.high, fixed)
        changed = (want_low != self.written_low) | (want_high != self.written_high)
        for k in np.flatnonzero(changed).tolist():
            domain = self.variables[int(self.indices[k])].domain
            domain[0], domain[1] = int(want_low[k]), int(want_high[k])
        self.written_low, self.written_high = want_low, want_high
        self.cap.domain[len(self.cap.domain) - 1] = best_objective - self.constant

    def use_objective(self, tie_broken: bool) -> None:
        """The plain objective, or the tie-broken one."""
        proto = self.model.proto.objective
        variables, coefficients, offset = self.objectives[tie_broken]
        proto.vars.clear()
        proto.vars.extend(variables)
        proto.coeffs.clear()
        proto.coeffs.extend(coefficients)
        proto.offset = offset

    def hint(self, best: list[int]) -> None:
        hint = self.model.proto.solution_hint
        hint.vars.clear()
        hint.values.clear()
        hint.vars.extend(range(len(best)))
        hint.values.extend(best)


def _sub_solver(
    rng: random.Random, seconds: float, deadline: float, tuning: LnsTuning
) -> cp_model.CpSolver:
    """A solver for one sub-solve: one worker, for `seconds` at most (and not past `deadline`)."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.linearization_level = tuning.linearization_level
    solver.parameters.cp_model_probing_level = tuning.probing_level
    solver.parameters.random_seed = rng.randrange(1 << 20)
    solver.parameters.max_time_in_seconds = max(0.05, min(seconds, deadline - time.perf_counter()))
    return solver


def _search_cut(search: _Search, draw: _Draw, rng: random.Random, seconds: float) -> None:
    """_search's loop with each neighbourhood solved as a small model of its own
    (scheduler.solver.submodel), from a best solution that is whole (one value per model
    variable)."""
    state, cut = search.state, search.cut
    assert cut is not None
    while (taken := state.take(search.deadline, search.stop, search.stall)) is not None:
        best, best_objective = np.asarray(taken[0], dtype=np.int64), taken[1]
        free = draw.free(rng, best)
        step = cut.solve(
            draw.indices[free],
            best,
            best_objective,
            _sub_solver(rng, seconds, search.deadline, search.tuning),
        )
        if step.values is not None and step.objective is not None:
            with state.lock:
                if step.objective < state.objective:
                    state.best = step.values.tolist()
                    state.objective = step.objective
                    state.improvements += 1
                    state.improved_at = time.perf_counter()
                    if search.on_improve is not None:
                        search.on_improve(step.objective)
        draw.adapt(step.status == cp_model.OPTIMAL)


class _Draw:
    """Which assignment variables a step frees: a few practices' clinicians (with `practices`,
    the tuning's practice_share of the steps), a window of days or a random group of
    clinicians; each kind's size adapts, up after a neighbourhood solved to optimality, down
    after one that ran out of time. Practices not aimed at are swept, each with the sweep's
    next ones or, with `partners` (models over partners_variables), with partners drawn by
    Practices.overlap."""

    def __init__(
        self,
        items: list[tuple[date, int, int]],
        practices: Practices | None,
        state: _Shared,
        partners: bool = False,
        tuning: LnsTuning = LnsTuning(),
    ):
        self.practices, self.state, self.partners, self.tuning = practices, state, partners, tuning
        self.days = sorted({d for d, _, _ in items})
        self.clinicians = sorted({ci for _, ci, _ in items})
        self.indices = np.array([index for _, _, index in items], dtype=np.int64)
        self.of_clinician = np.array([ci for _, ci, _ in items], dtype=np.int64)
        day_number = {d: k for k, d in enumerate(self.days)}
        self.of_day = np.array([day_number[d] for d, _, _ in items], dtype=np.int64)
        self.share = tuning.start_share
        # the practice neighbourhood's size adapts on its own, in practices, from 2 up
        self.count = tuning.start_practices
        self.most = max(2.0, len(practices.members) / 2) if practices else 2.0
        self.by_practice = False

    def free(self, rng: random.Random, best) -> np.ndarray:
        """A mask over the items: the next neighbourhood, drawn from the solution `best`."""
        practices = self.practices
        self.by_practice = (
            practices is not None
            and len(practices.members) > 1
            and rng.random() < self.tuning.practice_share
        )
        if self.by_practice:
            assert practices is not None
            if practices.aim:
                picked = _pick_practices(rng, practices, best, round(self.count))
            elif self.partners:
                picked = _sweep_with_partners(rng, self.state, practices, round(self.count))
            else:
                picked = _next_practices(rng, self.state, len(practices.members), round(self.count))
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
        if self.by_practice:
            self.count = min(self.most, max(2.0, self.count * grow))
        else:
            self.share = min(self.tuning.max_share, max(self.tuning.min_share, self.share * grow))


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
