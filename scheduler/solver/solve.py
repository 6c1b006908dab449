"""solve(problem, params) -> SolveResult: the goal tiers as lexicographic CP-SAT phases.

The model is built once (scheduler.solver.model). Each goal tier, highest first, is a phase
(`_Phase`): its objective is minimised in the time its stake earns it, and its value is then
held as a constraint while the tiers below are minimised. A phase runs, in order, the steps
that apply to it (`_Step`, chosen by the model's size: `is_large`, `is_beyond_lp`, `is_huge`):

- start heuristics from the rota held so far: swaps for fair share, cost swaps and network
  parts for cost (scheduler.solver.swap, scheduler.solver.decompose), on the largest models;
- column generation on a first tier that splits by clinician (scheduler.solver.columns);
- an LP bound (scheduler.solver.lp): GLOP before or beside the search, or the prices of an LP
  solved early (DualBound) for cost;
- CP-SAT's search, stopped when it stalls or is near its bound (`Monitor`);
- large-neighbourhood search (scheduler.solver.lns) from the search's rota.

The shares, thresholds and tier sets these use are `SolveParams.tuning`
(scheduler.solver.params.Tuning).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any

import numpy as np
from ortools.sat.python import cp_model, cp_model_helper

from scheduler.checker import objective_parts, weighted_total
from scheduler.domain import (
    GOALS,
    PARTS,
    Assignment,
    Network,
    PhaseResult,
    Problem,
    Rota,
    SolveResult,
    SolveStatus,
)
from scheduler.solver import columns
from scheduler.solver.construct import Background, Constructed, improve_by_staff
from scheduler.solver.decompose import network_cost_rota, network_rota, networks_of
from scheduler.solver.lns import LnsOutcome, improve
from scheduler.solver.lp import DualBound, LpTuning, Relaxation
from scheduler.solver.model import Practices, RotaModel, build_model
from scheduler.solver.params import SolveParams, Tuning
from scheduler.solver.submodel import SubModels
from scheduler.solver.swap import cost_swaps, fair_share_swaps

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    """What a progress callback receives: after each improving solution and each phase."""

    phase: str  # e.g. "unfilled_min"
    phase_number: int  # 1-based
    phases: int
    elapsed: float
    objective: int | None  # the phase's objective, best so far
    bound: int | None  # the phase's best bound
    done: bool = False  # the phase has ended


class _Watcher(cp_model.CpSolverSolutionCallback):
    """Reports each improving solution to the progress callback and the monitor."""

    def __init__(self, report: Callable[[int, int], None], monitor: Monitor):
        super().__init__()
        self._report, self._monitor = report, monitor

    def on_solution_callback(self) -> None:
        objective, bound = round(self.objective_value), math.ceil(self.best_objective_bound - 1e-6)
        self._monitor.improved(objective, bound)
        self._report(objective, bound)


class Monitor:
    """Stops a search when the caller cancels, or when it has a solution but has not improved
    it for `stall` seconds (then the time is better spent on the next tiers), or when its
    solution is within phase_gap of the bound (CP-SAT's, or `floor` proven before), or when it
    has found no solution at all in `give_up` seconds. Used as a context manager around the
    search; with only `should_stop`, it just polls that."""

    def __init__(
        self,
        solver: cp_model.CpSolver,
        should_stop: Callable[[], bool] | None,
        stall: float | None,
        floor: int | None = None,
        rest: int | None = None,
        give_up: float | None = None,
        tuning: Tuning | None = None,
    ):
        self.solver, self.should_stop, self.stall, self.rest = solver, should_stop, stall, rest
        self.tuning = tuning or Tuning()
        self.give_up = None if give_up is None else time.perf_counter() + give_up
        self.floor = floor
        self.cancelled = self.stalled = self.near = self.gave_up = False
        self._last: float | None = None
        self._done = threading.Event()

    def improved(self, objective: int, bound: int) -> None:
        self._last = time.perf_counter()
        self.near = self.near or _near(
            objective,
            bound if self.floor is None else max(bound, self.floor),
            self.rest,
            self.tuning,
        )

    def __enter__(self) -> Monitor:
        threading.Thread(target=self._poll, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()

    def _poll(self) -> None:
        while not self._done.wait(0.1):
            if self.should_stop is not None and self.should_stop():
                self.cancelled = True
            elif self.near:
                pass
            elif (
                self._last is None
                and self.give_up is not None
                and time.perf_counter() > self.give_up
            ):
                self.gave_up = True
            elif (
                self._last is not None
                and self.stall
                and time.perf_counter() - self._last > self.stall
            ):
                self.stalled = True
            else:
                continue
            self.solver.stop_search()
            return


# CP-SAT's status as the solve reports it
STATUS = {
    cp_model.OPTIMAL: SolveStatus.OPTIMAL,
    cp_model.FEASIBLE: SolveStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
    cp_model.UNKNOWN: SolveStatus.UNKNOWN,
    cp_model.MODEL_INVALID: SolveStatus.INVALID,
}


def is_large(rm: RotaModel, tuning: Tuning) -> bool:
    """Too big to presolve every phase (a federation): from fair share down its phases search
    unpresolved from a complete hint, and a tier already at its best is held without a search."""
    return _size(rm) > tuning.presolve_always


def is_beyond_lp(rm: RotaModel, tuning: Tuning) -> bool:
    """Too big for GLOP to solve a phase's LP before its search (an integrated care system)."""
    return _size(rm) > tuning.lp_most_variables


def is_huge(rm: RotaModel, tuning: Tuning) -> bool:
    """Big enough for fair share's phase to start with swaps and cost's with network parts."""
    return _size(rm) > tuning.decompose_variables


def needs_early_dual(rm: RotaModel, tuning: Tuning) -> bool:
    """Big enough for cost's bound to come from an LP solved while fair share searches."""
    return _size(rm) > tuning.dual_bound_variables


def _size(rm: RotaModel) -> int:
    return len(rm.model.proto.variables)


def solve(
    problem: Problem,
    params: SolveParams | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    start: Iterable[Assignment] | None = None,
    free_days: set[date] | None = None,
) -> SolveResult:
    """Allocate clinicians to posts. Never raises for an infeasible or unfillable problem: the
    status says so. `should_stop` is polled during the search (for cancelling a run).

    `start` (e.g. the published rota) hints the first phase; with `free_days`, assignments on
    every other day are fixed to `start`, so only those days are re-planned (a re-run).

    `params.strategy` chooses the solve: "portfolio" (the default, `_portfolio`), "plain"
    (`_plain`) or "specialised" (`_specialised`); see scheduler.solver.params.STRATEGIES.
    """
    params = params or SolveParams()
    if params.strategy == "plain":
        return _plain(_Solve(problem, params, should_stop, start, free_days))
    if params.strategy == "specialised":
        return _specialised(problem, params, should_stop, start, free_days)
    return _portfolio(problem, params, should_stop, start, free_days)


def _specialised(
    problem: Problem,
    params: SolveParams,
    should_stop: Callable[[], bool] | None,
    start: Iterable[Assignment] | None,
    free_days: set[date] | None,
) -> SolveResult:
    """The goal tiers as phases, each with the steps that apply to it (module docstring)."""
    return _phases(_Solve(problem, params, should_stop, start, free_days))


def _phases(run: _Solve) -> SolveResult:
    """The specialised strategy's phases on `run`'s model."""
    problem = run.problem
    for number, tier in enumerate(run.tiers, start=1):
        if tier in run.held:  # held at the start rota's value (SolveParams.hold_above)
            run.hold(tier, problem.weights.total(run.rm.parts, tier), run.held[tier])
            run.phases.append(PhaseResult(tier, SolveStatus.FEASIBLE, run.held[tier], 0, 0.0))
            continue
        left = run.time_left()
        if run.best_values is not None and (left <= 0.05 or run.stopped):
            break
        phase = _Phase(run, number, tier, left)
        if phase.hold_if_met():
            continue
        phase.prepare()
        phase.search()
        for step in _AFTER_SEARCH:
            if step.applies(phase):
                step.run(phase)
        phase.collect_bounds()
        if not phase.record():
            if run.best_values is None:
                return _no_rota(problem, phase.status, run.phases, run.elapsed())
            break
        phase.end()
    return run.result()


def _portfolio(
    problem: Problem,
    params: SolveParams,
    should_stop: Callable[[], bool] | None,
    start: Iterable[Assignment] | None,
    free_days: set[date] | None,
) -> SolveResult:
    """Plain opens until its first rota (`_plain` with `first`), so the portfolio has a rota
    whenever plain alone would, as early; then the specialised phases while they improve on it
    (`_specialist`); then plain again with every second they leave, at least plain_share of
    the budget, hinted with the better rota so far. The best rota, lexicographically by goal
    tier (`_better`), is returned. A specialised run that fails or finds nothing costs only
    its time: plain still answers."""
    tuning = params.tuning
    began = time.perf_counter()
    start = None if start is None else list(start)
    rm = build_model(problem)  # once: on the largest instances the build takes a minute
    built = len(rm.model.proto.constraints)
    candidates: list[tuple[SolveResult, list[int] | None]] = []
    ends = params.time_limit * (1 - tuning.closing_share)  # seconds from `began`

    def let_go() -> None:
        """What a run added (tiers held, bounds cut in under those holds) is let go: the next
        run searches the model as built."""
        for row in range(built, len(rm.model.proto.constraints)):
            if rm.model.proto.constraints[row].has_linear():
                _let_go(rm.model, row)

    if not params.specialists:  # nothing runs between an opening and plain's own search
        run = _Solve(problem, replace(params, strategy="plain"), should_stop, start, free_days, rm)
        return replace(_plain(run), seconds=time.perf_counter() - began)
    opening_params = replace(params, time_limit=ends, strategy="plain")
    tiers = _active_tiers(problem, rm)
    beside = _construction(problem, params, rm, tiers, began, began + ends) if tiers else None

    def opening_stops() -> bool:
        """The caller cancels, or the construction beside the opening has its rota."""
        user = should_stop is not None and should_stop()
        return user or (beside is not None and beside.rota is not None)

    opening = _Solve(problem, opening_params, opening_stops, start, free_days, rm, began)
    first = _plain(opening, first=True)
    if beside is not None:
        beside.stop()
    cancelled = should_stop is not None and should_stop()
    let_go()
    # the opening leaves its rota as the model's hint: the phases start as they would alone
    rm.model.clear_hints()
    if first.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        if first.status is SolveStatus.OPTIMAL or cancelled:
            return replace(first, seconds=time.perf_counter() - began)
        candidates.append((first, opening.best_values))
    constructed = beside is not None and beside.rota is not None
    if not candidates and not constructed and time.perf_counter() - began >= ends:
        # no rota and no time: a search of a model this slow would only overrun the budget
        return replace(first, seconds=time.perf_counter() - began)
    incumbent = candidates[0][0] if candidates else None
    if not candidates and beside is not None and beside.rota is not None and not cancelled:
        # plain found no rota before the construction: LNS goes on from the constructed one
        found: SolveResult | None
        values: list[int] | None
        rota, cut = beside.rota, beside.cut
        assert rota is not None and cut is not None
        found, values = _by_staff(
            problem, params, should_stop, rm, began, tiers[0], cut, beside.groups, rota
        )
    else:
        found, values = _specialist(
            problem, params, should_stop, start, free_days, rm, began, incumbent
        )
    let_go()
    if found is not None and found.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        candidates.append((found, values))
        if found.status is SolveStatus.OPTIMAL:
            return replace(found, seconds=time.perf_counter() - began)
    if candidates and should_stop is not None and should_stop():
        best = min(candidates, key=lambda c: _tier_values(problem, c[0]))[0]
        return replace(best, seconds=time.perf_counter() - began, message="cancelled")
    leader = min(candidates, key=lambda c: _tier_values(problem, c[0])) if candidates else None
    if leader is not None and not constructed and tiers:
        staffed = _staff_pass(problem, params, should_stop, rm, began, tiers[0], beside, leader)
        if staffed is not None:
            candidates.append(staffed)
            leader = min(candidates, key=lambda c: _tier_values(problem, c[0]))
    if leader is not None and time.perf_counter() - began >= ends:
        # the budget is spent: plain's run would load the model only to stop (on the largest
        # models that alone overruns the budget by seconds)
        return replace(leader[0], seconds=time.perf_counter() - began)
    hint = leader[0].rota if leader is not None else start
    plain_params = replace(
        params, time_limit=max(ends, time.perf_counter() - began + 0.1), strategy="plain"
    )
    run = _Solve(problem, plain_params, should_stop, hint, free_days, rm, began)
    if leader is not None and leader[1] is not None:
        # the whole solution, not only its assignments: a complete hint is CP-SAT's first
        # solution, where a hint of the assignments alone is often lost to the search
        _hint(rm.model, leader[1])
    plain = _plain(run)
    results = [c[0] for c in candidates]
    if plain.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        results.append(plain)
    if not results:
        return replace(plain, seconds=time.perf_counter() - began)
    best = min(results, key=lambda r: _tier_values(problem, r))
    others = [r for r in results if r is not best]
    best = _merged_bounds(problem, best, others)
    return replace(best, seconds=time.perf_counter() - began)


def _construction(
    problem: Problem,
    params: SolveParams,
    rm: RotaModel,
    tiers: list[tuple[str, ...]],
    began: float,
    deadline: float,
) -> Background:
    """A construction (scheduler.solver.construct) of a rota for the first goal tier, in a
    thread from construct_after_share of the budget until `deadline` (perf_counter seconds),
    each step one clinician's assignments."""
    tuning = params.tuning
    return Background(
        rm.model,
        problem.weights.total(rm.parts, tiers[0]),
        _clinician_groups(rm),
        began + tuning.construct_after_share * params.time_limit,
        deadline,
        params.seed,
        tuning.lns.local_row,
        tuning.construct,
    )


def _staff_pass(
    problem: Problem,
    params: SolveParams,
    should_stop: Callable[[], bool] | None,
    rm: RotaModel,
    began: float,
    tier: tuple[str, ...],
    beside: Background | None,
    leader: tuple[SolveResult, list[int] | None],
) -> tuple[SolveResult, list[int]] | None:
    """The leading rota so far improved by `_by_staff` in the time the specialised phases
    leave before plain's share, where its first tier is above 0 and the model can be cut
    (scheduler.solver.submodel); None where it does not apply."""
    tuning = params.tuning
    deadline = began + params.time_limit * (1 - tuning.plain_share)
    values = None if leader[1] is None else np.asarray(leader[1], dtype=np.int64)
    if (
        values is None
        or deadline - time.perf_counter() < tuning.min_specialist_stall
        or problem.weights.total(leader[0].parts, tier) == 0
    ):
        return None
    cut = beside.cut if beside is not None and beside.done.is_set() else None
    if cut is None:
        indices = [var.index for var in rm.variables.x.values()]
        expr = problem.weights.total(rm.parts, tier)
        cut = SubModels.read(rm.model, indices, tuning.lns.local_row, expr)
    if cut is None or len(values) != cut.variables or len(cut.violated(values)):
        return None  # a model it cannot cut, or a rota of the model before rows were added
    groups = beside.groups if beside is not None else _clinician_groups(rm)
    start = Constructed(values, cut.objective_of(values), 0)
    return _by_staff(problem, params, should_stop, rm, began, tier, cut, groups, start)


def _by_staff(
    problem: Problem,
    params: SolveParams,
    should_stop: Callable[[], bool] | None,
    rm: RotaModel,
    began: float,
    tier: tuple[str, ...],
    cut: SubModels,
    groups: list[np.ndarray],
    start: Constructed,
) -> tuple[SolveResult, list[int]]:
    """`start` improved a few clinicians at a time over the whole horizon
    (construct.improve_by_staff) on the first goal tier, until the budget less plain_share or
    until it stalls as the specialised phases would; the result and the model's values at
    its rota."""
    tuning = params.tuning
    run = _Solve(
        problem, replace(params, strategy="specialised"), should_stop, None, None, rm, began
    )
    name = "+".join(tier)
    _emit(params, Progress(name, 1, len(run.tiers), run.elapsed(), start.objective, None))

    def improved(objective: int) -> None:
        _emit(params, Progress(name, 1, len(run.tiers), run.elapsed(), objective, None))

    phase_began = time.perf_counter()
    outcome = improve_by_staff(
        cut,
        groups,
        start,
        began + params.time_limit * (1 - tuning.plain_share),
        params.seed,
        should_stop,
        improved,
        max(tuning.min_specialist_stall, tuning.specialist_stall_share * params.time_limit),
        tuning.construct,
    )
    values = outcome.values.tolist()
    run.best_values = values
    run.rota = _rota_at(problem, rm, values)
    run.parts = objective_parts(problem, run.rota)
    run.solver_parts = {p: _value_at(rm.parts[p], values) for p in PARTS}
    value = problem.weights.total(run.parts, tier)
    seconds = time.perf_counter() - phase_began
    run.phases.append(PhaseResult(tier, SolveStatus.FEASIBLE, value, 0, seconds))
    _emit(params, Progress(name, 1, len(run.tiers), run.elapsed(), value, 0, done=True))
    run.stopped = run.cancelled()
    return run.result(), values


def _clinician_groups(rm: RotaModel) -> list[np.ndarray]:
    """Each clinician's assignment variables (model indices), clinician by clinician."""
    by_clinician: dict[int, list[int]] = defaultdict(list)
    for (ci, _, _), var in rm.variables.x.items():
        by_clinician[ci].append(var.index)
    return [np.asarray(indices, dtype=np.int64) for _, indices in sorted(by_clinician.items())]


def _specialist(
    problem: Problem,
    params: SolveParams,
    should_stop: Callable[[], bool] | None,
    start: list[Assignment] | None,
    free_days: set[date] | None,
    rm: RotaModel,
    began: float,
    incumbent: SolveResult | None = None,
) -> tuple[SolveResult | None, list[int] | None]:
    """The specialised phases in at most 1 − plain_share of the budget (from `began`, the
    model's build and plain's opening included), on `rm`, stopped once no phase has found a
    better rota or bound for specialist_stall_share of the budget (specialist_start_stall_share
    before their first rota: column generation's dive is silent until its rota), or at once if
    their first rota is worse than `incumbent` (plain's opening rota) on its phase's tier while
    their bound there is no better than the incumbent's. A rota counts as better only if it
    beats the incumbent on its phase's tier too. None if they fail (the failure is logged:
    plain answers instead), with the model's values at their rota."""
    tuning = params.tuning
    stall = max(tuning.min_specialist_stall, tuning.specialist_stall_share * params.time_limit)
    start_stall = max(stall, tuning.specialist_start_stall_share * params.time_limit)
    last = [time.perf_counter()]
    rota = [False]  # whether a phase has reported a rota yet
    # the value to beat in each phase, by its name: the incumbent's value of that tier
    beat = (
        {}
        if incumbent is None
        else {"+".join(t): problem.weights.total(incumbent.parts, t) for t in GOALS}
    )
    # ... and the bound to beat: the incumbent's bound of that tier, where it ran it
    beat_bound = (
        {} if incumbent is None else {"+".join(ph.tier): ph.bound for ph in incumbent.phases}
    )
    seen: dict[tuple[int, str], tuple[int | None, int | None]] = {}
    theirs, behind = [False], [False]  # a phase has reported a rota; its first lost to plain's

    def progress(p: Progress) -> None:
        key = (p.phase_number, p.phase)
        objective, bound = seen.get(key, (None, None))
        to_beat = beat.get(p.phase)
        better_rota = (
            p.objective is not None
            and (objective is None or p.objective < objective)
            and (to_beat is None or p.objective < to_beat)
        )
        # a bound counts only where it proves more than is known already: more than its own
        # last, than plain's opening bound on the tier, and than 0 (every part is at least 0)
        better_bound = (
            p.bound is not None
            and (bound is None or p.bound > bound)
            and p.bound > beat_bound.get(p.phase, 0)
        )
        if p.objective is not None and not theirs[0]:
            theirs[0] = True
            # their first rota worse than CP-SAT's first feasible one, and no better bound than
            # CP-SAT's either: the mechanisms that pay where they apply (column generation's
            # LP and dive) have not paid on this instance
            best_bound = max(b for b in (p.bound, bound, 0) if b is not None)
            behind[0] = (
                to_beat is not None
                and p.objective > to_beat
                and best_bound <= beat_bound.get(p.phase, 0)
            )
        if key not in seen or better_rota or better_bound:
            last[0] = time.perf_counter()
            rota[0] = rota[0] or p.objective is not None
        seen[key] = (
            p.objective
            if objective is None or p.objective is None
            else min(p.objective, objective),
            p.bound if bound is None or p.bound is None else max(p.bound, bound),
        )
        _emit(params, p)

    user_stopped = [False]

    def stop() -> bool:
        if should_stop is not None and should_stop():
            user_stopped[0] = True
            return True
        # until the first rota, the phases may be building their start (column generation's
        # dive reports nothing for a while), so they are given longer
        return behind[0] or time.perf_counter() - last[0] > (stall if rota[0] else start_stall)

    own = replace(
        params,
        time_limit=params.time_limit * (1 - tuning.plain_share),
        strategy="specialised",
        progress=progress,
    )
    run = _Solve(problem, own, stop, start, free_days, rm, began)
    try:
        result = _phases(run)
    except Exception:  # any failure of a specialised mechanism leaves the plain strategy
        log.exception("the specialised phases failed; the plain strategy answers alone")
        return None, None
    if result.message == "cancelled" and not user_stopped[0]:
        result = replace(result, message="")  # stalled: the time goes to plain, not a cancel
    return result, run.best_values


def _tier_values(problem: Problem, result: SolveResult) -> tuple[int, ...]:
    """A result's goal tiers in order, then its weighted total: the lower the better."""
    values = tuple(problem.weights.total(result.parts, tier) for tier in GOALS)
    return (*values, result.objective)


def _merged_bounds(problem: Problem, best: SolveResult, others: list[SolveResult]) -> SolveResult:
    """`best` with each phase's bound raised to another result's bound of the same tier where
    the two hold every tier above it at the same values (both bound the same problem then)."""
    if not best.phases:
        return best
    phases = list(best.phases)
    for other in others:
        theirs = {ph.tier: (number, ph) for number, ph in enumerate(other.phases)}
        for number, ph in enumerate(phases):
            if ph.tier not in theirs:
                continue
            at, their = theirs[ph.tier]
            above_mine = [p.value for p in phases[:number]]
            above_theirs = [p.value for p in other.phases[:at]]
            if above_mine != above_theirs or their.bound <= ph.bound:
                continue
            bound = min(their.bound, ph.value)
            status = SolveStatus.OPTIMAL if bound >= ph.value else ph.status
            phases[number] = replace(ph, bound=bound, status=status)
    raised = sum(ph.bound for ph in phases) - sum(ph.bound for ph in best.phases)
    if not raised:
        return best
    bound = best.bound + raised
    all_proven = (
        len(phases) == len(best.phases)
        and all(ph.status is SolveStatus.OPTIMAL for ph in phases)
        and best.objective <= bound
    )
    return replace(
        best,
        phases=tuple(phases),
        bound=bound,
        gap=(best.objective - bound) / max(1, best.objective),
        status=SolveStatus.OPTIMAL if all_proven else best.status,
    )


def _plain(run: _Solve, first: bool = False) -> SolveResult:
    """The plain strategy: each goal tier in turn minimised over the full model by CP-SAT with
    its own search (default parameters but the workers and seed), an even share of the time
    left each, the tier then held at its rota's value; no column generation, LP of its own,
    LNS, swaps or network parts. `run`'s start rota, if any, is the first tier's hint.
    `first`: only the first tier, its search stopped at its first rota (the portfolio's
    opening), with all the time left if it needs it."""
    problem, params, rm = run.problem, run.params, run.rm
    solver = run.solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, params.workers)
    solver.parameters.random_seed = params.seed
    solver.parameters.log_search_progress = params.log
    solver.parameters.stop_after_first_solution = first
    solver.parameters.max_time_in_seconds = max(0.1, params.time_limit - run.elapsed())
    phases = len(run.tiers)
    for number, tier in enumerate(run.tiers, start=1):
        expr = problem.weights.total(rm.parts, tier)
        if tier in run.held:
            run.hold(tier, expr, run.held[tier])
            run.phases.append(PhaseResult(tier, SolveStatus.FEASIBLE, run.held[tier], 0, 0.0))
            continue
        left = params.time_limit - run.elapsed()
        if run.best_values is not None and (left <= 0.05 or run.stopped):
            break
        remaining = 1 if first else sum(1 for t in run.tiers[number - 1 :] if t not in run.held)
        began = time.perf_counter()
        name = "+".join(tier)
        rm.model.minimize(expr)
        solver.parameters.max_time_in_seconds = max(0.1, left / remaining)

        def report(objective: int, bound: int, name: str = name, number: int = number) -> None:
            _emit(params, Progress(name, number, phases, run.elapsed(), objective, bound))

        monitor = Monitor(solver, run.should_stop, None)
        with monitor:
            status = STATUS[solver.solve(rm.model, _Watcher(report, monitor))]
        run.stopped = monitor.cancelled or run.cancelled()
        seconds = time.perf_counter() - began
        found = math.ceil(solver.best_objective_bound - 1e-6)
        if status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            run.best_values = list(solver.response_proto.solution)
            run.solver_parts = {p: int(solver.value(rm.parts[p])) for p in PARTS}
            run.rota = _rota(problem, rm, solver)
            run.parts = objective_parts(problem, run.rota)
            value = problem.weights.total(run.parts, tier)
            run.hold(tier, expr, value)
            _hint(rm.model, run.best_values)
        elif run.best_values is None:
            run.phases.append(PhaseResult(tier, status, 0, 0, seconds))
            return _no_rota(problem, status, run.phases, run.elapsed())
        elif run.stopped:
            break
        else:  # no better rota in its time: the last one stays, its tier held there
            value = problem.weights.total(run.parts, tier)
            run.hold(tier, expr, value)
            status = SolveStatus.FEASIBLE
            found = found if found <= value else 0
        bound = max(0, min(found, value))
        run.phases.append(PhaseResult(tier, status, value, bound, seconds))
        _emit(params, Progress(name, number, phases, run.elapsed(), value, bound, done=True))
        if first:
            break
    return run.result()


class _Solve:
    """One solve's state across its phases: the model and its solver, the phases so far, the
    row holding each tier done, the best solution and its rota, and the LPs started early."""

    def __init__(
        self,
        problem: Problem,
        params: SolveParams,
        should_stop: Callable[[], bool] | None,
        start: Iterable[Assignment] | None,
        free_days: set[date] | None,
        rm: RotaModel | None = None,
        started: float | None = None,
    ):
        """`rm`: the model, if already built (else it is built here); `started`: when the
        solve's time began (else now)."""
        self.problem, self.params, self.tuning = problem, params, params.tuning
        self.should_stop, self.free_days = should_stop, free_days
        self.started = time.perf_counter() if started is None else started
        self.start = None if start is None else list(start)
        self.rm = build_model(problem) if rm is None else rm
        self.tiers = _active_tiers(problem, self.rm)
        if self.start is not None:
            on = _hint_rota(problem, self.rm, self.start)
            if free_days is not None:
                _fix_outside(problem, self.rm, on, free_days)
        self.solver = _solver(params)
        self.phases: list[PhaseResult] = []
        self.hold_rows: dict[tuple[str, ...], int] = {}  # each held tier's row "tier ≤ its value"
        self.best_values: list[int] | None = None
        self.parts: dict[str, int] = {}
        self.solver_parts: dict[str, int] = {}
        self.rota: Rota = ()
        self.stopped = False
        self.relaxation: Relaxation | None = None
        self.floor = 0  # the fair-share phase's bound before its search (see tighten_fair_share)
        self.phase_over = threading.Event()  # set as the phase under way ends
        self.dual: tuple[list[tuple[str, ...]], DualBound] | None = None  # cost's, solved early
        # cost's LPs whose prices are taken at the cost phase's end: the one solved early, if it
        # had not solved by the phase's start, and the one solved again after fair share's swaps
        self.at_end: list[tuple[list[tuple[str, ...]], DualBound]] = []
        self.held = _held_tiers(problem, self.tiers, self.start, params.hold_above)
        if self.held and self.start is not None:
            self.parts = objective_parts(problem, self.start)  # time follows its stakes

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def time_left(self) -> float:
        return _time_left(self.params, self.elapsed(), _size(self.rm))

    def cancelled(self) -> bool:
        return self.should_stop is not None and self.should_stop()

    def hold(self, tier: tuple[str, ...], expr: Any, value: int) -> None:
        """Hold `tier` at most at `value` while the tiers below are minimised."""
        self.rm.model.add(expr <= value)
        self.hold_rows[tier] = len(self.rm.model.proto.constraints) - 1

    def prepare_fair_share(self, tier: tuple[str, ...]) -> None:
        """Fair share's rows in the form the LP keeps, and its floor where the total of minutes
        every allowed rota works is fixed."""
        if tier != ("fair_share",):
            return
        objective = self.rm.objective
        objective.scale_fair_share()
        if self.best_values is not None and _total_minutes_fixed(
            self.problem, self.rm, self.phases
        ):
            self.floor = self.problem.weights.of("fair_share") * objective.tighten_fair_share(
                self.best_values[objective.total_minutes.index], self.parts["fair_share"]
            )

    def starts_dual_bound(self, tier: tuple[str, ...]) -> bool:
        """Whether cost's LP (DualBound) starts with this phase: fair share's, on a model big
        enough, whose last tier is cost."""
        return (
            tier == ("fair_share",)
            and self.best_values is not None
            and self.params.lns
            and self.tiers[-1] == ("cost",)
            and needs_early_dual(self.rm, self.tuning)
        )

    def start_dual_bound(self, number: int, budget: float) -> None:
        """Cost's LP with fair share and the tiers down to cost held as they stand by cost's
        start (the phases between are quick on such models), solving in a thread from now (on
        the largest models for the rest of the solve, its prices taken at cost's end if not
        before). It starts here, not earlier: only scale_fair_share puts fair share's rows in a
        form the LP keeps."""
        below = self.tiers[number - 1 : -1]
        seconds = budget
        if is_huge(self.rm, self.tuning):
            seconds = _time_left(self.params, self.elapsed(), _size(self.rm))
        bound = _dual_bound(
            self.problem, self.rm, below, self.tiers[-1], self.parts, seconds, tuning=self.tuning.lp
        )
        self.dual = (below, bound)

    def result(self) -> SolveResult:
        """The answer once the phases are over: the last rota, its parts, and the bounds."""
        problem, tiers = self.problem, self.tiers
        if self.best_values is None:  # nothing to minimise: one plain feasibility solve
            status = STATUS[self.solver.solve(self.rm.model)]
            if status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
                return _no_rota(problem, status, self.phases, self.elapsed())
            self.solver_parts = {p: int(self.solver.value(self.rm.parts[p])) for p in PARTS}
            self.rota = _rota(problem, self.rm, self.solver)
            self.parts = objective_parts(problem, self.rota)
        parts = self.parts
        phases = _met_bounds(problem, self.phases, parts)
        objective = problem.weights.total(parts)
        all_proven = len(phases) == len(tiers) and all(
            ph.status is SolveStatus.OPTIMAL for ph in phases
        )
        # The bound of the weighted total: proven tiers at their value, the rest at their bound
        # (each given the tiers above held at the values found), tiers never run at 0.
        bound = sum(ph.bound for ph in phases) + sum(
            problem.weights.total(parts, tier) for tier in GOALS if tier not in tiers
        )
        return SolveResult(
            status=SolveStatus.OPTIMAL if all_proven else SolveStatus.FEASIBLE,
            rota=self.rota,
            objective=objective,
            parts=parts,
            bound=bound,
            gap=(objective - bound) / max(1, objective),
            seconds=self.elapsed(),
            phases=tuple(phases),
            message="cancelled" if self.stopped else "",
            solver_parts=self.solver_parts,
        )


def _solver(params: SolveParams) -> cp_model.CpSolver:
    """The solver the phases share: max_lp among few workers, max_lp's level on one."""
    tuning = params.tuning
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, params.workers)
    if 2 <= params.workers <= len(tuning.few_workers_subsolvers) + 1:
        solver.parameters.subsolvers.extend(tuning.few_workers_subsolvers[: params.workers - 1])
    if params.workers <= 1:
        solver.parameters.linearization_level = tuning.one_worker_linearization
    solver.parameters.random_seed = params.seed
    solver.parameters.log_search_progress = params.log
    return solver


class _Phase:
    """One goal tier's phase: its time, its objective and bounds, and the steps that find its
    rota (start heuristics, the search, LNS), in the order they run."""

    def __init__(self, run: _Solve, number: int, tier: tuple[str, ...], left: float):
        self.run, self.number, self.tier = run, number, tier
        self.tuning = tuning = run.tuning
        self.last = number == len(run.tiers)
        problem, rm = run.problem, run.rm
        stakes = run.parts if run.best_values is not None or run.held else None
        share = _phase_share(
            problem, run.tiers[number - 1 :], stakes, is_beyond_lp(rm, tuning), tuning
        )
        self.budget = _budget(left, share, tuning)
        run.prepare_fair_share(tier)
        if run.starts_dual_bound(tier):
            run.start_dual_bound(number, self.budget)
        self.started = time.perf_counter()
        self.end_at = self.started + self.budget  # each step before the search leaves the rest
        self.name = "+".join(tier)
        self.expr = problem.weights.total(rm.parts, tier)
        rm.model.minimize(self.expr)
        self.rest = self._rest()
        self.priced: int | None = None  # cost's bound from the prices of DualBound's LP
        self.closing: float | None = None  # the last phase's closing swaps' time, set at its start
        self.early: _Alongside | None = None  # the phase's LP, started before its swaps
        self.lp: int | None = None  # the bound proven before the search (columns, LP, prices)
        self.lp_values: list[float] | None = None
        self.alongside: _Alongside | None = None
        self.cut: int | None = None  # `lp` as the search starts: what progress reports bound by
        self.status = SolveStatus.UNKNOWN
        self.bound = 0
        self.seconds = 0.0
        self.deadline = 0.0
        self.stall = 0.0
        self.monitor: Monitor | None = None
        self.begin: tuple[list[int], int] | None = None  # where LNS starts, and its value

    def _rest(self) -> int | None:
        """The weighted parts of the other tiers, where a phase above the last may stop within
        negligible of the whole objective (the tiers below as they stand, and its own value)."""
        run = self.run
        if (
            self.last
            or not run.parts
            or self.tier[0] not in self.tuning.negligible_tiers
            or not is_large(run.rm, self.tuning)
        ):
            return None
        return run.problem.weights.total(run.parts, [p for p in PARTS if p not in self.tier])

    def seconds_left(self) -> float:
        """What the steps so far leave of the phase's time (at least 0.1 s)."""
        return max(0.1, self.end_at - time.perf_counter())

    def emit(self, objective: int | None, bound: int | None, done: bool = False) -> None:
        run = self.run
        progress = Progress(
            self.name, self.number, len(run.tiers), run.elapsed(), objective, bound, done=done
        )
        _emit(run.params, progress)

    def report(self, objective: int, bound: int) -> None:
        """Progress after an improving rota; CP-SAT's own bound may lag behind the cut."""
        lp = self.cut
        if lp is None and self.alongside is not None:
            lp = self.alongside.bound  # None until GLOP has solved
        self.emit(objective, bound if lp is None else max(bound, lp))

    def hold_if_met(self) -> bool:
        """On a big model, a tier already at 0 in the rota so far is proven (every part is at
        least 0), and one already within negligible of 0 has nothing to gain: either is held
        without a search. A small model searches them all the same: its searches are quick,
        and they leave the model's own penalty variables without slack at a proven optimum."""
        run = self.run
        value = run.problem.weights.total(run.parts, self.tier)
        if not (
            run.best_values is not None
            and is_large(run.rm, self.tuning)
            and (value == 0 or self.rest is not None and _near(value, 0, self.rest, self.tuning))
        ):
            return False
        run.hold(self.tier, self.expr, value)
        status = SolveStatus.OPTIMAL if value == 0 else SolveStatus.FEASIBLE
        seconds = time.perf_counter() - self.started
        run.phases.append(PhaseResult(self.tier, status, value, 0, seconds))
        self.emit(value, 0, done=True)
        return True

    def take_priced_bound(self) -> None:
        """The last phase's bound from the prices of cost's LP solved early, at the values the
        phases hold; an LP not solved by now is priced at the phase's end instead."""
        run = self.run
        if run.dual is None or not self.last:
            return
        below, dual = run.dual
        value_of = {ph.tier: ph.value for ph in run.phases}  # each phase holds its tier there
        if all(t in value_of for t in below):
            self.priced = dual.bound([value_of[t] for t in below])
        if self.priced is None and is_huge(run.rm, self.tuning):
            run.at_end.append(run.dual)
        run.dual = None

    def presolves(self) -> bool:
        """The fill and cover tiers gain much from presolve; the tiers from fair share down
        start from a complete hint, and re-presolving a big model for them can cost more than
        the phase has, so there they search the model as it is."""
        return (
            self.run.best_values is None
            or self.tier[0] not in self.tuning.unpresolved
            or not is_large(self.run.rm, self.tuning)
        )

    def uses_glop(self) -> bool:
        """Whether GLOP's LP bounds this phase: a tier searched unpresolved on a big model that
        GLOP solves in time (or, with LNS, a tier whose LP runs beside the search)."""
        run, tuning = self.run, self.tuning
        return (
            run.best_values is not None
            and self.tier[0] in tuning.unpresolved
            and is_large(run.rm, tuning)
            and (
                not is_beyond_lp(run.rm, tuning)
                or run.params.lns
                and self.tier[0] in tuning.lp_alongside_any_size
            )
        )

    def prepare(self) -> None:
        """Everything before the search: the start heuristics from the rota held, the hint,
        presolve or not, then the bounds (column generation, the LP, DualBound's prices)."""
        run = self.run
        self.take_priced_bound()
        for step in _START:
            if step.applies(self):
                step.run(self)
        if run.best_values is not None:
            _hint(run.rm.model, run.best_values)
        run.solver.parameters.cp_model_presolve = self.presolves()
        if _COLUMNS.applies(self):
            _COLUMNS.run(self)
        glop = _LP_BOUND.applies(self)
        if self.early is not None and not glop:  # (fair share on a big model always uses GLOP)
            self.early.relaxation.interrupt()
            self.early = None
        if glop:
            _LP_BOUND.run(self)
        if self.priced is not None and self.lp is None:
            self.lp = self.priced
            run.rm.model.add(self.expr >= self.lp)

    def stall_seconds(self) -> float:
        """A stalled phase hands its time to LNS, else to the tiers below; the last one without
        LNS has nobody to hand to, nor has the last one of a model too big for GLOP (its bound
        then grows only while CP-SAT searches)."""
        run, tuning = self.run, self.tuning
        last_alone = self.last and (
            not run.params.lns or (self.lp is None and is_beyond_lp(run.rm, tuning))
        )
        if last_alone:
            return 0
        if run.params.stall_seconds is not None:
            return run.params.stall_seconds
        return max(tuning.min_stall_seconds, tuning.stall_share * self.budget)

    def hands_over(self) -> bool:
        """Whether the phase goes to LNS straight away from the rota held from the tier above
        (the search only completes it): a hand_over tier on a big model, bounded before."""
        run, tuning = self.run, self.tuning
        return (
            run.best_values is not None
            and run.params.lns
            and self.tier[0] in tuning.hand_over
            and is_large(run.rm, tuning)
            and (self.lp is not None or self.alongside is not None or self.tier[0] == "fair_share")
        )

    def search(self) -> None:
        """CP-SAT's search of the phase, or the held rota completed into a solution where the
        phase hands over to LNS; its status and bound."""
        run, tuning, solver = self.run, self.tuning, self.run.solver
        self.deadline = time.perf_counter() + self.budget
        solver.parameters.max_time_in_seconds = self.budget
        self.cut = self.lp
        self.stall = self.stall_seconds()
        direct = self.hands_over()
        give_up = (
            tuning.no_rota_share * self.budget
            if run.params.lns and run.best_values is not None and self.tier[0] in tuning.unpresolved
            else None
        )
        monitor = Monitor(solver, run.should_stop, self.stall, self.lp, self.rest, give_up, tuning)
        self.monitor = monitor
        if direct:
            assert run.best_values is not None
            self.status = _complete(solver, run.rm, run.best_values, self.budget)
            # the completed rota's bound is its own value: the phase's is only what was proven
            # before its search (the LP, the fair-share floor), and every part is at least 0
            floor = run.floor if self.tier == ("fair_share",) else 0
            self.bound = max(0, self.lp or 0, floor)
        if not direct or self.status is not SolveStatus.FEASIBLE:
            with monitor:
                self.status = STATUS[solver.solve(run.rm.model, _Watcher(self.report, monitor))]
            self.bound = math.ceil(solver.best_objective_bound - 1e-6)  # LNS proves none
        run.stopped = monitor.cancelled or run.cancelled()
        self.seconds = time.perf_counter() - self.started  # the whole phase: LP, columns, search
        if self.lp is not None:
            self.raise_bound(self.lp)
        self.begin = self._lns_start()

    def _lns_start(self) -> tuple[list[int], int] | None:
        """Where LNS starts, and its value: CP-SAT's rota or, where CP-SAT found none in time,
        the held one (the phase's bound then trusted only as far as it holds)."""
        run = self.run
        if self.status is SolveStatus.FEASIBLE:
            return list(run.solver.response_proto.solution), round(run.solver.objective_value)
        assert self.monitor is not None
        if (
            self.status is SolveStatus.UNKNOWN
            and self.monitor.gave_up
            and run.best_values is not None
        ):
            value = round(_objective_value(run.rm.model, run.best_values))
            self.bound = max(0, self.bound) if self.bound <= value else max(0, self.lp or 0)
            return run.best_values, value
        return None

    def raise_bound(self, bound: int) -> None:
        """The phase's bound raised to `bound`; a rota that meets it is optimal."""
        self.bound = max(self.bound, bound)
        solver = self.run.solver
        if self.status is SolveStatus.FEASIBLE and round(solver.objective_value) <= self.bound:
            self.status = SolveStatus.OPTIMAL

    def collect_bounds(self) -> None:
        """The bounds that come in last: the LP beside the search, and in the last phase the
        prices of cost's LPs solved early, at the values the phases hold."""
        run = self.run
        if self.alongside is not None:
            if run.stopped:
                self.alongside.relaxation.interrupt()
            self.lp = self.alongside.result()
            if self.lp is not None:
                self.raise_bound(self.lp)
            self.seconds = time.perf_counter() - self.started
        for below, late in run.at_end if self.last else ():
            value_of = {ph.tier: ph.value for ph in run.phases}
            later = (
                late.bound([value_of[t] for t in below])
                if all(t in value_of for t in below)
                else None
            )
            if later is not None and later > self.bound:
                self.raise_bound(later)

    def record(self) -> bool:
        """The phase's result, its tier held at its value for the tiers below; False when the
        phase ends the solve (no rota at all, or cancelled)."""
        run, problem, rm, tier = self.run, self.run.problem, self.run.rm, self.tier
        if self.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            run.best_values = list(run.solver.response_proto.solution)
            run.solver_parts = {p: int(run.solver.value(rm.parts[p])) for p in PARTS}
            run.rota = _rota(problem, rm, run.solver)
            # Penalty variables are floors (dev ≥ gap): a search stopped early may leave slack
            # above the rota's true value, so the rota's own parts (the checker's) are what is
            # reported and held; the solver's never fall below them.
            run.parts = objective_parts(problem, run.rota)
            value = problem.weights.total(run.parts, tier)
            run.hold(tier, self.expr, value)
            bound = min(self.bound, value)
            run.phases.append(PhaseResult(tier, self.status, value, bound, self.seconds))
            self.report(value, bound)
            return True
        if run.best_values is None:
            run.phases.append(PhaseResult(tier, self.status, 0, 0, self.seconds))
            return False
        if run.stopped:
            return False
        # no better rota in this phase's time (a big model may not finish presolve): keep the
        # last one, hold the tier at its value there and go on to the next tier. CP-SAT's bound
        # still holds (the last rota meets this phase's model, so a valid bound never exceeds
        # its value; one that does is not trusted), and every part is at least 0.
        value = problem.weights.total(run.parts, tier)
        run.hold(tier, self.expr, value)
        proven = max(0, self.lp or 0, self.bound if self.bound <= value else 0)
        run.phases.append(PhaseResult(tier, self.status, value, min(proven, value), self.seconds))
        return True

    def end(self) -> None:
        """Progress at the phase's end; a phase that ends early lets cost's second LP start."""
        run = self.run
        self.emit(run.phases[-1].value, run.phases[-1].bound, done=True)
        run.phase_over.set()
        run.phase_over = threading.Event()


class _Step:
    """A strategy a phase may use: `applies` says whether it does, `run` runs it."""

    def applies(self, phase: _Phase) -> bool:
        raise NotImplementedError

    def run(self, phase: _Phase) -> None:
        raise NotImplementedError


class _FairShareSwaps(_Step):
    """On the largest models fair share's phase starts with posts changing hands between
    practices (scheduler.solver.swap), aimed at the networks' minutes in fair share's LP, which
    GLOP solves beside them; where they move nothing (a re-run), the network parts instead."""

    def applies(self, phase: _Phase) -> bool:
        run = phase.run
        return (
            run.best_values is not None
            and phase.tier == ("fair_share",)
            and run.params.lns
            and is_huge(run.rm, phase.tuning)
        )

    def run(self, phase: _Phase) -> None:
        run, tuning = phase.run, phase.tuning
        problem, rm, params = run.problem, run.rm, run.params
        assert run.best_values is not None
        if phase.tier[0] in tuning.lp_alongside and phase.tier[0] in tuning.lp_alongside_any_size:
            # GLOP's LP from now, beside the swaps: they are Python and leave the second core
            # idle, and GLOP's solve lets go of the interpreter. The rows are read here, before
            # anything writes to the model again.
            run.relaxation = Relaxation(rm.model, keep_rows=True, tuning=tuning.lp)
            run.relaxation.load()
            seconds = tuning.lp_alongside_share * phase.budget
            phase.early = _Alongside(run.relaxation, seconds, presolved=True)
        aim = None
        if phase.early is not None and run.free_days is None and networks_of(problem, tuning):
            phase.early.done.wait(tuning.network_aim_wait * phase.budget)
            if phase.early.values is not None:
                aim = _network_minutes(problem, rm, phase.early.values)
            phase.budget = phase.seconds_left()
        swapped, run.best_values = _by_swaps(
            problem,
            rm,
            run.rota,
            run.best_values,
            tuning.swap_share * phase.budget,
            params,
            run.free_days,
            aim,
        )
        if swapped is run.rota:  # nothing moved (e.g. a re-run, where every post is published)
            seconds = tuning.decompose_share * phase.budget
            run.best_values = _by_network(
                problem, rm, run.rota, run.best_values, seconds, params, run.should_stop
            )
        elif run.dual is not None:
            _second_dual_bound(phase, swapped)
        run.rota = swapped
        phase.budget = phase.seconds_left()


def _second_dual_bound(phase: _Phase, swapped: Rota) -> None:
    """Cost's LP again, held nearer where the phases will end (from the swaps' rota), started
    second_lp_at into fair share's phase and after the first, its prices taken at cost's end."""
    run = phase.run
    assert run.dual is not None
    below, first = run.dual
    when = phase.started + phase.tuning.second_lp_at * (phase.end_at - phase.started)
    go = _later(first.done, when, run.phase_over)
    parts = objective_parts(run.problem, swapped)
    bound = _dual_bound(
        run.problem, run.rm, below, run.tiers[-1], parts, run.time_left(), go, tuning=run.tuning.lp
    )
    run.at_end.append((below, bound))


class _CostSwapsAndParts(_Step):
    """On the largest models cost's phase, the last, starts with posts going to cheaper
    clinicians (scheduler.solver.swap.cost_swaps), then lowers cost network by network
    (scheduler.solver.decompose), keeping time for the closing fair-share swaps."""

    def applies(self, phase: _Phase) -> bool:
        run = phase.run
        return (
            run.best_values is not None
            and phase.tier == ("cost",)
            and phase.last
            and run.params.lns
            and is_huge(run.rm, phase.tuning)
        )

    def run(self, phase: _Phase) -> None:
        run, tuning = phase.run, phase.tuning
        problem, rm, params = run.problem, run.rm, run.params
        assert run.best_values is not None
        if ("fair_share",) in run.tiers:  # the closing swaps' time, kept from the parts
            phase.closing = min(tuning.final_swap_seconds, tuning.final_swap_share * phase.budget)
        run.rota, run.best_values = _by_cost_swaps(
            problem,
            rm,
            run.rota,
            run.best_values,
            tuning.cost_swap_share * phase.budget,
            params,
            run.free_days,
            _slack(problem, run.phases, run.rota),
        )
        phase.budget = phase.seconds_left()
        share = tuning.cost_parts_share if phase.priced is None else tuning.cost_parts_share_priced
        seconds = share * max(0.1, phase.budget - (phase.closing or 0.0))
        run.best_values = _by_network(
            problem, rm, run.rota, run.best_values, seconds, params, run.should_stop, goal="cost"
        )
        phase.budget = phase.seconds_left()


class _ColumnStart(_Step):
    """Column generation on a first tier that splits by clinician (scheduler.solver.columns):
    its bound cut into the model, a rota from its LP as the search's hint."""

    def applies(self, phase: _Phase) -> bool:
        run = phase.run
        first = run.best_values is None and run.start is None
        return run.params.columns and columns.applies(
            run.problem, run.rm, phase.tier, first, tuning=run.params.tuning.columns
        )

    def run(self, phase: _Phase) -> None:
        run = phase.run
        on_bound = partial(
            _emit_bound, run.params, phase.name, phase.number, len(run.tiers), run.started
        )
        phase.lp = _column_start(
            run.problem,
            run.rm,
            phase.tier,
            phase.expr,
            phase.budget,
            run.params,
            run.should_stop,
            on_bound,
        )
        phase.budget = phase.seconds_left()


class _LpBound(_Step):
    """GLOP's LP relaxation (scheduler.solver.lp) as the phase's bound: started before the
    swaps, or beside the search (lp_alongside, with LNS), or solved before it, its optimum then
    a neighbourhood to search first (lp_rins)."""

    def applies(self, phase: _Phase) -> bool:
        return phase.uses_glop()

    def run(self, phase: _Phase) -> None:
        run, tuning, tier = phase.run, phase.tuning, phase.tier
        if phase.early is not None:
            phase.alongside, phase.early = phase.early, None
        elif run.params.lns and tier[0] in tuning.lp_alongside:
            # from scratch: cost's LP started from the basis fair share's left can return
            # ABNORMAL, and the from-scratch retry then runs out of time
            run.relaxation = Relaxation(run.rm.model, tuning=tuning.lp)
            seconds = tuning.lp_alongside_share * phase.budget
            phase.alongside = _Alongside(run.relaxation, seconds)
        else:
            self._before(phase)

    def _before(self, phase: _Phase) -> None:
        run, tuning, rm = phase.run, phase.tuning, phase.run.rm
        relaxation = run.relaxation = run.relaxation or Relaxation(rm.model, tuning=tuning.lp)
        lp_started = time.perf_counter()
        relaxed = relaxation.solve(tuning.lp_share * phase.budget)
        phase.lp, phase.lp_values = (
            (None, None) if relaxed is None else (relaxed.bound, relaxed.values)
        )
        if phase.lp is not None:
            rm.model.add(phase.expr >= phase.lp)
        phase.budget = max(0.1, phase.budget - (time.perf_counter() - lp_started))
        if phase.lp_values is not None and phase.tier[0] in tuning.lp_rins:
            assert run.best_values is not None
            rins_started = time.perf_counter()
            seconds = tuning.lp_rins_share * phase.budget
            found = _lp_rins(rm, phase.expr, phase.lp_values, run.best_values, seconds, run.params)
            if found is not None:
                _hint(rm.model, found)
            phase.budget = max(0.1, phase.budget - (time.perf_counter() - rins_started))


class _Lns(_Step):
    """Large-neighbourhood search (scheduler.solver.lns) from the search's rota or, where the
    search found none in time, from the one held; on the largest models cost's phase then ends
    with cost swaps and fair share's closing swaps."""

    def applies(self, phase: _Phase) -> bool:
        run = phase.run
        return (
            phase.begin is not None
            and run.params.lns
            and not run.stopped
            and not _near(phase.begin[1], phase.bound, phase.rest, phase.tuning)
        )

    def run(self, phase: _Phase) -> None:
        run, tuning, tier = phase.run, phase.tuning, phase.tier
        problem, rm = run.problem, run.rm
        assert phase.begin is not None
        begin, begin_value = phase.begin
        near = threading.Event()
        bound, alongside, rest = phase.bound, phase.alongside, phase.rest

        def improved(objective: int) -> None:
            best = bound
            if alongside is not None and alongside.bound is not None:
                best = max(best, alongside.bound)
            if _near(objective, best, rest, tuning):
                near.set()
            phase.report(objective, best)

        def stop() -> bool:
            return near.is_set() or run.cancelled()

        groups = (
            rm.objective.practice_groups(phase.lp_values)
            if "fair_share" in tier
            else rm.objective.practice_groups(aim=False)
            if tier[0] in tuning.hand_over
            else None
        )
        if alongside is not None and groups is not None and groups.aim:
            alongside.aim(groups)
        swaps_after = (
            tier == ("cost",)
            and phase.last
            and ("fair_share",) in run.tiers
            and is_huge(rm, tuning)
        )
        closing = phase.closing or min(
            tuning.final_swap_seconds, tuning.final_swap_share * phase.budget
        )
        tail = closing if swaps_after else 0.0
        cost_tail = tuning.cost_tail_share * phase.budget if swaps_after else 0.0
        outcome = improve(
            problem,
            rm,
            phase.expr,
            begin,
            begin_value,
            phase.deadline - tail - cost_tail,
            run.params.seed + phase.number,
            stop,
            improved,
            run.params.workers,
            groups,
            phase.stall if not phase.last else None,
            _tie_break(problem, rm, run.solver, tier, run.tiers, tuning)
            if phase.status is SolveStatus.FEASIBLE
            else None,
            None if alongside is None else alongside.done,
            tuning=tuning.lns,
        )
        if cost_tail and not run.cancelled():
            outcome = _cost_tail(phase, outcome, begin, phase.deadline - tail, bound)
        if tail and not run.cancelled():
            outcome = _closing_swaps(phase, outcome, begin, bound)
        if outcome.improvements:
            _replay(run.solver, rm, outcome.values)
            phase.status = SolveStatus.FEASIBLE
            if outcome.objective <= bound:
                phase.status = SolveStatus.OPTIMAL
        phase.seconds = time.perf_counter() - phase.started
        run.stopped = run.stopped or run.cancelled()


def _cost_tail(
    phase: _Phase, outcome: LnsOutcome, begin: list[int], deadline: float, bound: int
) -> LnsOutcome:
    """LNS's rota made cheaper by cost swaps until `deadline`: they trade cost against even
    load where LNS leaves such moves. The rota read here stands as the solve's rota until a
    phase result replaces it."""
    run = phase.run
    problem, rm = run.problem, run.rm
    values = outcome.values if outcome.improvements else begin
    run.rota = _values_rota(problem, rm, values)
    _, found = _by_cost_swaps(
        problem,
        rm,
        run.rota,
        values,
        deadline - time.perf_counter(),
        run.params,
        run.free_days,
        _slack(problem, run.phases, run.rota),
    )
    if found is values:
        return outcome
    return _taken(phase, outcome, found, bound)


def _closing_swaps(phase: _Phase, outcome: LnsOutcome, begin: list[int], bound: int) -> LnsOutcome:
    """The last phase's rota with posts changing hands for fair share again until the phase's
    deadline, the holds of the tiers between fair share and cost let go (_swapped_after)."""
    run = phase.run
    tiers = run.tiers
    between = tiers[tiers.index(("fair_share",)) + 1 : phase.number - 1]
    rows = [run.hold_rows[t] for t in between if t in run.hold_rows]
    found = _swapped_after(
        run.problem,
        run.rm,
        outcome.values if outcome.improvements else begin,
        rows,
        phase.deadline,
        run.params,
        run.free_days,
    )
    if found is None:
        return outcome
    return _taken(phase, outcome, found, bound)


def _taken(phase: _Phase, outcome: LnsOutcome, found: list[int], bound: int) -> LnsOutcome:
    """LNS's outcome with the solution `found` after it, reported as an improvement."""
    objective = round(_objective_value(phase.run.rm.model, found))
    outcome = replace(
        outcome, values=found, objective=objective, improvements=outcome.improvements + 1
    )
    phase.report(outcome.objective, bound)
    return outcome


_START: tuple[_Step, ...] = (_FairShareSwaps(), _CostSwapsAndParts())
_COLUMNS = _ColumnStart()
_LP_BOUND = _LpBound()
_AFTER_SEARCH: tuple[_Step, ...] = (_Lns(),)


class _Alongside:
    """GLOP's bound on a phase (scheduler.solver.lp), solved in a thread beside its search."""

    def __init__(self, relaxation: Relaxation, seconds: float, presolved: bool = False):
        """`presolved`: once GLOP has solved, a tighter bound from the same rows through HiGHS's
        MIP presolve (Relaxation.presolved_bound, the relaxation made with keep_rows), within
        the same `seconds`; `done` is set when GLOP's own solve ends, result() waits for both."""
        self.bound: int | None = None
        self.presolved = presolved
        self.values: list[float] | None = None
        self.relaxation = relaxation
        self.done = threading.Event()
        self._practices: Practices | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, args=(relaxation, seconds), daemon=True)
        self._thread.start()

    def _run(self, relaxation: Relaxation, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        try:
            solved = relaxation.solve(seconds)
            with self._lock:
                if solved is not None:
                    self.bound, self.values = solved.bound, solved.values
                    self._aim()
        finally:
            self.done.set()
        if not self.presolved:
            return
        try:
            tighter = relaxation.presolved_bound(deadline - time.perf_counter())
        except Exception:  # the bound is optional: GLOP's own stands
            log.warning("no presolved bound for this phase", exc_info=True)
            tighter = None
        finally:
            relaxation.rows = None  # (hundreds of MB on an ics)
        if tighter is not None:
            with self._lock:
                if self.bound is None or tighter > self.bound:
                    self.bound = tighter

    def aim(self, practices: Practices | None) -> None:
        """Aim the practice neighbourhood at the LP's minutes (Practices.targets) once GLOP has
        solved; until then it aims at the fair shares themselves."""
        with self._lock:
            self._practices = practices
            self._aim()

    def _aim(self) -> None:
        if self._practices is not None and self.values is not None:
            self._practices.aim_at(self.values)

    def result(self) -> int | None:
        """The bound, once GLOP has finished (None: no optimum in its time)."""
        self._thread.join()
        return self.bound


def _tie_break(
    problem: Problem,
    rm: RotaModel,
    solver: cp_model.CpSolver,
    tier: tuple[str, ...],
    tiers: list[tuple[str, ...]],
    tuning: Tuning,
) -> tuple[Any, int] | None:
    """The last tier's expression and its value in the solver's rota, for LNS to break ties
    in `tier` by (tie_break), or None. Not on models too big for GLOP, where a sub-solve takes
    about 2 s and fair share stays far from its bound."""
    last = tiers[-1]
    if tier[0] not in tuning.tie_break or last == tier or is_beyond_lp(rm, tuning):
        return None
    expr = problem.weights.total(rm.parts, last)
    return expr, round(solver.value(expr))


def _near(
    objective: int, bound: int, rest: int | None = None, tuning: Tuning | None = None
) -> bool:
    """Whether a phase's rota is close enough to its bound to stop searching: within phase_gap
    of it, or (given `rest`, the weighted parts of the other tiers) within negligible of the
    whole objective."""
    tuning = tuning or Tuning()
    slack = 0.0 if rest is None else tuning.negligible * (rest + objective)
    return objective - bound <= max(tuning.phase_gap * abs(objective), slack)


def _budget(left: float, share: float, tuning: Tuning | None = None) -> float:
    """A phase's time: its share of what is left, but at least min_phase_seconds of it."""
    tuning = tuning or Tuning()
    return max(max(left, 0.1) * share, min(tuning.min_phase_seconds, left))


def _time_left(params: SolveParams, elapsed: float, variables: int) -> float:
    """What the phases may still plan to use: the time limit less what has gone and the
    closing reserve (closing_seconds_per_variable)."""
    reserve = params.tuning.closing_seconds_per_variable * variables
    return params.time_limit - elapsed - reserve


def _phase_share(
    problem: Problem,
    tiers: list[tuple[str, ...]],
    parts: dict[str, int] | None,
    big: bool = False,
    tuning: Tuning | None = None,
) -> float:
    """The share of the time left that the first of `tiers` gets. Before any rota, each tier
    an even share (at least min_phase_share); after, in proportion to what each tier weighs in
    the rota so far (its weighted parts; a tier's value is what its phase can lower), each at
    least min_stake_share, so that no tier is starved, and at most max_stake_share."""
    tuning = tuning or Tuning()
    if len(tiers) == 1:
        return 1.0
    if parts is None:
        return max(1 / len(tiers), tuning.min_phase_share)
    stakes = [max(1, problem.weights.total(parts, tier)) for tier in tiers]
    most = tuning.max_stake_share_big if big else tuning.max_stake_share
    fill = big and tiers[0] in tuning.fill_tiers
    least = tuning.fill_share_big if fill else tuning.min_stake_share
    return max(least, min(stakes[0] / sum(stakes), most))


def _emit_bound(
    params: SolveParams, name: str, number: int, phases: int, started: float, bound: int
) -> None:
    """Progress while column generation raises its bound, before the phase has a rota."""
    _emit(params, Progress(name, number, phases, time.perf_counter() - started, None, bound))


def _column_start(
    problem: Problem,
    rm: RotaModel,
    tier: tuple[str, ...],
    expr,
    budget: float,
    params: SolveParams,
    should_stop: Callable[[], bool] | None,
    on_bound: Callable[[int], None] | None = None,
) -> int | None:
    """Column generation for a tier that splits by clinician (scheduler.solver.columns), then a rota
    from its LP: a dive or, where the dive gives up, a sub-solve around the LP's mix. Cuts the
    bound into the model and hints the rota; returns the bound (None if no round of pricing
    finished)."""
    tuning = params.tuning
    started = time.perf_counter()
    generation = columns.ColumnGeneration(problem, rm, tier, tuning=tuning.columns)
    outcome = generation.run(
        started + tuning.column_share * budget, params.workers, should_stop, on_bound, settle=True
    )
    if outcome.bound is not None:
        rm.model.add(expr >= outcome.bound)
    if outcome.lp_value is None or (should_stop is not None and should_stop()):
        return outcome.bound
    # the dive first, while it has the time to fix one clinician a step (begun after the
    # sub-solve it has to fix several at once and ends worse); the sub-solve where it gives up
    dived = generation.dive(started + tuning.dive_end * budget, params.workers, should_stop)
    if dived is not None:
        mix = {(ci, si, pi): 1.0 for ci, cells in dived.items() for si, pi in cells}
    else:
        mix = outcome.xbar
    found = _rins(rm, expr, mix, tuning.rins_share * budget, params)
    if found is not None:
        _hint(rm.model, found)
    return outcome.bound


def _objective_value(model: cp_model.CpModel, values: list[int]) -> float:
    objective = model.proto.objective
    return objective.offset + sum(
        coeff * values[index] for index, coeff in zip(objective.vars, objective.coeffs, strict=True)
    )


def _rins(
    rm: RotaModel,
    expr,
    xbar: dict[tuple[int, int, int], float],
    seconds: float,
    params: SolveParams,
) -> list[int] | None:
    """A rota near the LP's mix: in a clone of the model, every assignment the mix puts at or
    below rins_low is fixed to 0 and at or above rins_high to 1 (domains shrunk, so every
    constraint still holds), the rest hinted by rounding and searched. None if nothing found."""
    model = rm.model.clone()
    model.minimize(expr)
    proto = model.proto
    hint_vars, hint_values = [], []
    for key, var in rm.variables.x.items():
        value = xbar.get(key, 0.0)
        hint_vars.append(var.index)
        hint_values.append(int(value > 0.5))
        if value <= params.tuning.rins_low or value >= params.tuning.rins_high:
            domain = proto.variables[var.index].domain
            domain[0] = domain[1] = int(value >= params.tuning.rins_high)
    proto.solution_hint.vars.extend(hint_vars)
    proto.solution_hint.values.extend(hint_values)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, params.workers)
    solver.parameters.random_seed = params.seed
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return list(solver.response_proto.solution)[: len(rm.model.proto.variables)]


def _lp_rins(
    rm: RotaModel,
    expr,
    lp_values: list[float],
    values: list[int],
    seconds: float,
    params: SolveParams,
) -> list[int] | None:
    """Relaxation-induced neighbourhood search: in a clone of the model, every assignment on
    which the LP's optimum and the rota `values` agree (the LP within lp_agree of the rota's 0 or
    1) is fixed, the rest searched from the rota. Returns a better rota, or None."""
    model = rm.model.clone()
    model.minimize(expr)
    proto = model.proto
    for var in rm.variables.x.values():
        value = values[var.index]
        if abs(lp_values[var.index] - value) <= params.tuning.lp_agree:
            domain = proto.variables[var.index].domain
            domain[0] = domain[1] = value
    _hint(model, values)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, params.workers)
    solver.parameters.random_seed = params.seed
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    if solver.solve(model) not in (
        cp_model.OPTIMAL,
        cp_model.FEASIBLE,
    ) or solver.objective_value >= _objective_value(model, values):
        return None
    return list(solver.response_proto.solution)[: len(rm.model.proto.variables)]


def _dual_bound(
    problem: Problem,
    rm: RotaModel,
    below: list[tuple[str, ...]],
    last: tuple[str, ...],
    parts: dict[str, int],
    seconds: float,
    after: threading.Event | None = None,
    *,
    tuning: LpTuning,
) -> DualBound:
    """The last tier's LP (DualBound) with each tier of `below` held at its value in `parts`,
    solving in a thread for at most `seconds` (once `after` is set)."""
    total = problem.weights.total
    return DualBound(
        rm.model,
        total(rm.parts, last),
        [(total(rm.parts, t), total(parts, t)) for t in below],
        seconds,
        after,
        tuning=tuning,
    )


def _later(event: threading.Event, when: float, hurry: threading.Event) -> threading.Event:
    """An event set once `event` is and perf_counter() has reached `when` (or `hurry` is set)."""
    go = threading.Event()

    def wait() -> None:
        event.wait()
        hurry.wait(max(0.0, when - time.perf_counter()))
        go.set()

    threading.Thread(target=wait, daemon=True).start()
    return go


def _by_swaps(
    problem: Problem,
    rm: RotaModel,
    rota: Rota,
    values: list[int],
    seconds: float,
    params: SolveParams,
    free_days: set[date] | None,
    aim: dict[Network, float] | None = None,
) -> tuple[Rota, list[int]]:
    """`rota` improved for fair share by posts changing hands (scheduler.solver.swap, steered
    towards the networks' minutes `aim` first) in at most swap_parts_share of `seconds`, with its
    solution of the model, if that lowers the phase's objective; else `rota` and `values`
    themselves. A re-run's fixed days are left as they are."""
    started = time.perf_counter()
    fixed = None if free_days is None else (lambda day: day not in free_days)
    swaps = params.tuning.swap_parts_share * seconds
    swapped = fair_share_swaps(
        problem, rota, swaps, params.seed, fixed, aim, tuning=params.tuning.swap
    )
    found = _rota_values(problem, rm, swapped, seconds - (time.perf_counter() - started), params)
    if found is None or _objective_value(rm.model, found) >= _objective_value(rm.model, values):
        return rota, values
    return swapped, found


def _by_cost_swaps(
    problem: Problem,
    rm: RotaModel,
    rota: Rota,
    values: list[int],
    seconds: float,
    params: SolveParams,
    free_days: set[date] | None,
    slack: tuple[int, int] = (0, 0),
) -> tuple[Rota, list[int]]:
    """`rota` made cheaper by posts handed to clinicians who cost less (swap.cost_swaps, fair
    share no worse, the tiers between within `slack` of their holds, at cost_swap_price) in
    at most swap_parts_share of `seconds`, with its solution of the model, if that lowers cost;
    else `rota` and `values` themselves."""
    started = time.perf_counter()
    swaps = _swap_seconds(rm, seconds, params.tuning)
    if swaps <= 0:
        return rota, values
    fixed = None if free_days is None else (lambda day: day not in free_days)
    price = params.tuning.cost_swap_price
    swapped = cost_swaps(
        problem, rota, swaps, params.seed, fixed, slack, price, tuning=params.tuning.swap
    )
    found = _rota_values(problem, rm, swapped, seconds - (time.perf_counter() - started), params)
    if found is None or _objective_value(rm.model, found) >= _objective_value(rm.model, values):
        return rota, values
    return swapped, found


def _slack(problem: Problem, phases: list[PhaseResult], rota: Rota) -> tuple[int, int]:
    """How far the even-load tier (weighted, with even Saturdays and minimum sessions) and
    preferences' may rise in `rota` before they reach the values their phases hold them at (0
    for a tier not held)."""
    held = {ph.tier: ph.value for ph in phases}
    parts = objective_parts(problem, rota)
    even_load = next(t for t in GOALS if "even_load" in t)
    return (
        max(0, held[even_load] - problem.weights.total(parts, even_load))
        if even_load in held
        else 0,
        max(0, held[("preferences",)] - problem.weights.total(parts, ("preferences",)))
        if ("preferences",) in held
        else 0,
    )


def _swapped_after(
    problem: Problem,
    rm: RotaModel,
    values: list[int],
    below: list[int],
    deadline: float,
    params: SolveParams,
    free_days: set[date] | None,
) -> list[int] | None:
    """The last phase's solution `values` with posts changing hands for fair share
    (scheduler.solver.swap) until `deadline`, as a full solution of the model, if that lowers
    fair share and the weighted total of the goals; else None. The swaps keep every tier above
    fair share; cost (the phase's own) and the tiers between may move a little, so the rows
    `below` (row indices of the model) that hold those tiers are let go, in the model too once
    a rota is taken: a lexicographic gain, whose parts the checker reports as they are."""
    swaps = _swap_seconds(rm, deadline - time.perf_counter(), params.tuning)
    if swaps <= 0:
        return None
    rota = _values_rota(problem, rm, values)
    fixed = None if free_days is None else (lambda day: day not in free_days)
    swapped = fair_share_swaps(problem, rota, swaps, params.seed, fixed, tuning=params.tuning.swap)
    before, after = objective_parts(problem, rota), objective_parts(problem, swapped)
    if after["fair_share"] >= before["fair_share"] or weighted_total(
        problem, after
    ) >= weighted_total(problem, before):
        return None
    kept = {row: list(rm.model.proto.constraints[row].linear.domain) for row in below}
    for row in below:
        _let_go(rm.model, row)
    found = _rota_values(problem, rm, swapped, deadline - time.perf_counter(), params)
    if found is None:
        for row, domain in kept.items():
            linear = rm.model.proto.constraints[row].linear
            linear.domain.clear()
            linear.domain.extend(domain)
    return found


def _swap_seconds(rm: RotaModel, seconds: float, tuning: Tuning) -> float:
    """Of `seconds` for swaps and the completion of their rota into a solution of the model, the
    swaps' share: swap_parts_share, and no more than leaves completion_reserve times the last
    completion's time (0: not worth starting), since on a big model a completion takes seconds."""
    swaps = min(
        tuning.swap_parts_share * seconds,
        seconds - tuning.completion_reserve * rm.completion_seconds,
    )
    return swaps if swaps >= tuning.min_swap_seconds else 0.0


def _let_go(model: cp_model.CpModel, row: int) -> None:
    """The linear row `row` of `model` bounded on neither side."""
    linear = model.proto.constraints[row].linear
    linear.domain.clear()
    linear.domain.extend([-(2**63 - 1), 2**63 - 1])


def _values_rota(problem: Problem, rm: RotaModel, values: list[int]) -> Rota:
    """The assignments of a full solution of the model."""
    return tuple(
        Assignment(problem.sessions[si].session_id, pi, problem.clinicians[ci].clinician_id)
        for (ci, si, pi), var in rm.variables.x.items()
        if values[var.index]
    )


def _network_minutes(problem: Problem, rm: RotaModel, values: list[float]) -> dict[Network, float]:
    """Each network's minutes worked by its practices' clinicians in a (fractional) solution."""
    network_of = {p.code: p.network for p in problem.practices}
    minutes: dict[Network, float] = defaultdict(float)
    for (ci, si, _), var in rm.variables.x.items():
        network = network_of.get(problem.clinicians[ci].practice_code)
        if network is not None:
            minutes[network] += values[var.index] * problem.sessions[si].minutes
    return dict(minutes)


def _by_network(
    problem: Problem,
    rm: RotaModel,
    rota: Rota,
    values: list[int],
    seconds: float,
    params: SolveParams,
    should_stop: Callable[[], bool] | None,
    goal: str = "fair_share",
) -> list[int]:
    """The solution `values` (whose assignments are `rota`) re-solved network by network
    (scheduler.solver.decompose) for `goal`, fair share or cost, in at most `seconds`, if that
    lowers the phase's objective; else `values` itself."""
    started = time.perf_counter()
    by_network = network_rota if goal == "fair_share" else network_cost_rota
    parts_seconds = params.tuning.decompose_parts_share * seconds
    joined = by_network(problem, rota, parts_seconds, params, solve, should_stop)
    if joined is None:
        return values
    found = _rota_values(problem, rm, joined, seconds - (time.perf_counter() - started), params)
    if found is None or _objective_value(rm.model, found) >= _objective_value(rm.model, values):
        return values
    return found


def _held_tiers(
    problem: Problem,
    tiers: list[tuple[str, ...]],
    start: Iterable[Assignment] | None,
    hold_above: str | None,
) -> dict[tuple[str, ...], int]:
    """SolveParams.hold_above: each tier above the one holding that part, at the start rota's
    value."""
    if start is None or hold_above is None:
        return {}
    order = list(GOALS)
    first = next(number for number, tier in enumerate(order) if hold_above in tier)
    values = objective_parts(problem, start)
    return {
        tier: problem.weights.total(values, tier) for tier in tiers if order.index(tier) < first
    }


def _met_bounds(
    problem: Problem, phases: list[PhaseResult], parts: dict[str, int]
) -> list[PhaseResult]:
    """A lower tier's search may also lower an upper tier below the value held for it. Where the
    final rota meets a phase's bound, that phase is proven after all: its bound holds for every
    rota that keeps the tiers above within what was held for them, the final rota among them."""
    out = []
    for ph in phases:
        value = problem.weights.total(parts, ph.tier)
        if ph.status is SolveStatus.FEASIBLE and value <= ph.bound:
            ph = replace(ph, status=SolveStatus.OPTIMAL, value=value, bound=value)
        out.append(ph)
    return out


def _total_minutes_fixed(problem: Problem, rm: RotaModel, phases: list[PhaseResult]) -> bool:
    """Whether every rota still allowed works the same total of minutes: true when no post may
    go above its target and both unfilled parts are constant or held at a proven optimum
    (their sum is then Σ minutes × target − the minutes worked)."""
    if any(post.most > post.target for s in problem.sessions for post in s.posts):
        return False
    proven = {ph.tier for ph in phases if ph.status is SolveStatus.OPTIMAL}
    return all(
        isinstance(rm.parts[part], int) or (part,) in proven
        for part in ("unfilled_min", "unfilled_target")
    )


def _active_tiers(problem: Problem, rm: RotaModel) -> list[tuple[str, ...]]:
    """Tiers with something to minimise: a positive weight on a part that is not a constant."""
    return [
        tier
        for tier in GOALS
        if any(problem.weights.of(p) > 0 and not isinstance(rm.parts[p], int) for p in tier)
    ]


def _hint_rota(
    problem: Problem, rm: RotaModel, rota: Iterable[Assignment]
) -> set[tuple[int, int, int]]:
    """Hint every assignment variable: 1 where `rota` has it (on its post, else on another post
    of the session that the clinician may fill), 0 elsewhere. Returns the keys hinted 1."""
    on = _rota_keys(problem, rm, rota)
    rm.model.clear_hints()
    hint = rm.model.proto.solution_hint
    hint.vars.extend(var.index for var in rm.variables.x.values())
    hint.values.extend(1 if key in on else 0 for key in rm.variables.x)
    return on


def _rota_keys(
    problem: Problem, rm: RotaModel, rota: Iterable[Assignment]
) -> set[tuple[int, int, int]]:
    """The assignment variables that `rota` sets to 1 (its post, else another post of the
    session that the clinician may fill)."""
    ci_of = {c.clinician_id: i for i, c in enumerate(problem.clinicians)}
    si_of = {s.session_id: i for i, s in enumerate(problem.sessions)}
    posts: dict[tuple[int, int], list[int]] = defaultdict(list)
    for ci, si, pi in rm.variables.x:
        posts[ci, si].append(pi)
    on: set[tuple[int, int, int]] = set()
    for a in rota:
        found_ci, found_si = ci_of.get(a.clinician_id), si_of.get(a.session_id)
        if found_ci is None or found_si is None:
            continue
        choices = posts.get((found_ci, found_si), [])
        if choices:
            on.add((found_ci, found_si, a.post_index if a.post_index in choices else choices[0]))
    return on


def _rota_values(
    problem: Problem, rm: RotaModel, rota: Iterable[Assignment], seconds: float, params: SolveParams
) -> list[int] | None:
    """A full solution of the model (every variable, the phase's objective at its least) whose
    assignments are `rota`'s; None if `rota` breaks a rule or a held tier, or time runs out."""
    began = time.perf_counter()
    on = _rota_keys(problem, rm, rota)
    model = rm.model.clone()
    model.clear_hints()
    for key, var in rm.variables.x.items():
        domain = model.proto.variables[var.index].domain
        domain[0] = domain[1] = int(key in on)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, params.workers)
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    status = solver.solve(model)
    rm.completion_seconds = time.perf_counter() - began
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return list(solver.response_proto.solution)[: len(rm.model.proto.variables)]


def _fix_outside(
    problem: Problem, rm: RotaModel, on: set[tuple[int, int, int]], free_days: set[date]
) -> None:
    """Fix every assignment variable of a session outside `free_days` to its hinted value."""
    proto = rm.model.proto
    for key, var in rm.variables.x.items():
        if problem.sessions[key[1]].date not in free_days:
            value = 1 if key in on else 0
            domain = proto.variables[var.index].domain
            domain.clear()
            domain.extend([value, value])


def _replay(solver: cp_model.CpSolver, rm: RotaModel, values: list[int]) -> None:
    """Make `solver`'s last response the given full solution (found by LNS), so that values
    and the rota are read from it as from any solve."""
    _hint(rm.model, values)
    solver.parameters.fix_variables_to_their_hinted_value = True
    keep = solver.parameters.max_time_in_seconds
    solver.parameters.max_time_in_seconds = 60.0
    try:
        solver.solve(rm.model)
    finally:
        solver.parameters.fix_variables_to_their_hinted_value = False
        solver.parameters.max_time_in_seconds = keep


def _complete(
    solver: cp_model.CpSolver, rm: RotaModel, values: list[int], seconds: float
) -> SolveStatus:
    """Make `solver`'s last response the held rota `values` as a whole solution of the model now:
    its assignments fixed, every other variable (penalties, and variables added since) at its
    best for them. FEASIBLE, or UNKNOWN if that takes longer than `seconds`."""
    hint = rm.model.proto.solution_hint
    hint.vars.clear()
    hint.values.clear()
    indices = [var.index for var in rm.variables.x.values()]
    hint.vars.extend(indices)
    hint.values.extend(values[index] for index in indices)
    solver.parameters.fix_variables_to_their_hinted_value = True
    keep = solver.parameters.max_time_in_seconds
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    try:
        status = solver.solve(rm.model)
    finally:
        solver.parameters.fix_variables_to_their_hinted_value = False
        solver.parameters.max_time_in_seconds = keep
        _hint(rm.model, values)
    return (
        SolveStatus.FEASIBLE
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        else SolveStatus.UNKNOWN
    )


def _hint(model: cp_model.CpModel, values: list[int]) -> None:
    """A complete hint, written into the proto in one go (a call per variable costs seconds on
    a federation)."""
    hint = model.proto.solution_hint
    hint.vars.clear()
    hint.values.clear()
    hint.vars.extend(range(len(values)))
    hint.values.extend(values)


def _rota(problem: Problem, rm: RotaModel, solver: cp_model.CpSolver) -> Rota:
    return _rota_where(problem, rm, solver.boolean_value)


def _rota_at(problem: Problem, rm: RotaModel, values: list[int]) -> Rota:
    """The rota of a whole solution of the model, as `_rota` reads it from a solver."""
    return _rota_where(problem, rm, lambda var: bool(values[var.index]))


def _value_at(expr: Any, values: list[int]) -> int:
    """An expression's value at a whole solution of the model."""
    if isinstance(expr, int):
        return expr
    flat = cp_model_helper.FlatIntExpr(expr)
    return int(flat.offset) + sum(
        int(c) * values[v.index] for v, c in zip(flat.vars, flat.coeffs, strict=True)
    )


def _rota_where(problem: Problem, rm: RotaModel, on: Callable[[Any], bool]) -> Rota:
    locked = {(pin.session_id, pin.clinician_id) for pin in problem.published if pin.locked}
    out = []
    for (ci, si, pi), var in rm.variables.x.items():
        if on(var):
            sid, cid = problem.sessions[si].session_id, problem.clinicians[ci].clinician_id
            out.append(Assignment(sid, pi, cid, (sid, cid) in locked))
    return tuple(sorted(out, key=lambda a: (_order(problem, a), a)))


def _order(problem: Problem, a: Assignment) -> tuple[int, str]:
    s = problem.session(a.session_id)
    return (s.start_minute, s.hub_id)


def _no_rota(
    problem: Problem, status: SolveStatus, phases: list[PhaseResult], seconds: float
) -> SolveResult:
    message = {
        SolveStatus.INFEASIBLE: "the hard rules and locked pins admit no rota",
        SolveStatus.UNKNOWN: "no rota found within the time limit",
        SolveStatus.INVALID: "the model was rejected (a bug: please report it)",
    }.get(status, "")
    return SolveResult(
        status=status,
        rota=(),
        objective=0,
        parts=dict.fromkeys(PARTS, 0),
        bound=0,
        gap=0.0,
        seconds=seconds,
        phases=tuple(phases),
        message=message,
    )


def _emit(params: SolveParams, progress: Progress) -> None:
    if callable(params.progress):
        params.progress(progress)
