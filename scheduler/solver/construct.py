"""A first rota built clinician by clinician, for models CP-SAT takes long to find one for.

Most hard rules bind one clinician at a time (rest, runs of days, caps, minutes in the period);
the few that bind several (a post's places, a hub's rooms) are rows over the clinicians on one
session. So a rota can be built in steps: each step frees one group of clinicians' assignments,
keeps every assignment made so far, and solves the small model of what the step can change
(scheduler.solver.submodel): the group's own rules, the rows they share with the clinicians
placed before them (totals over the whole rota among them: they follow each step), and the goal
with the others' part fixed. The goal is the model's objective (the first tier's, as the
caller sets it), so each group fills what the groups before it left short. Clinicians not yet
placed stand at "works nothing"; a row of theirs that no step has touched yet is in no step's
model, and is met by the time their own step ends.

Each step minimises the goal for its share of the time (ConstructTuning.optimise_share): one
clinician over the whole horizon, everyone else fixed, is a neighbourhood CP-SAT searches well.
A step with no rota by the end of its share searches again until its first rota, with all the
time left. A step whose model is infeasible (the group cannot meet its rules beside
those placed before it) or that runs out of time ends the construction without a rota: the
caller's own search goes on, so a construction that fails costs only its time.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from scheduler.solver.model import LinearExpr
from scheduler.solver.submodel import Step, SubModels

log = logging.getLogger(__name__)

_NO_CAP = 2**61  # a step's cap on the goal: none (any rota of the step is a start)
_JOIN = 1.0  # seconds Background.stop waits for its thread


@dataclass(frozen=True)
class ConstructTuning:
    """How the construction shares out its time and groups its clinicians."""

    # Most steps: past this many clinicians, groups of several share a step.
    most_steps: int = 200
    # Least seconds a step is given.
    min_step_seconds: float = 0.05
    # A step minimises the goal for this share of an even split of the time left among the
    # steps to come; the rest is kept for steps slow to their first rota, which then search
    # until it with all the time left.
    optimise_share: float = 0.25
    # After the construction, a few clinicians at a time are freed over the whole horizon and
    # re-solved (`improve_by_staff`): this many at first; one more after a group solved to
    # optimality, one fewer after one that ran out of time.
    start_staff: int = 2
    # ... never more than this many at once.
    most_staff: int = 8
    # Seconds each such sub-solve may take.
    staff_seconds: float = 1.0
    # CP-SAT workers per step: one runs only the LP-guided search, which can go a whole step
    # without a first solution of one clinician's runs and totals; a second adds another search.
    step_workers: int = 2


@dataclass
class Constructed:
    """A whole solution of the model (one value per variable), its objective, and the steps."""

    values: np.ndarray
    objective: int
    steps: int


def construct(
    cut: SubModels,
    groups: list[np.ndarray],
    deadline: float,
    seed: int,
    stop: Callable[[], bool] | None = None,
    tuning: ConstructTuning = ConstructTuning(),
    on_solver: Callable[[cp_model.CpSolver], None] | None = None,
) -> Constructed | None:
    """A rota built step by step (module docstring), each step freeing the assignment
    variables (model indices) of one of `groups`, in a random order drawn from `seed`, by
    `deadline` (perf_counter seconds). None if a step fails, time runs out, `stop` says so, or
    the result breaks a row (which `SubModels.violated` checks over the whole model).
    `on_solver` is handed each step's solver before it solves (to stop it from elsewhere)."""
    rng = random.Random(seed)
    order = _grouped(groups, rng, tuning.most_steps)
    values = cut.start_values()
    for number, free in enumerate(order):
        left = deadline - time.perf_counter()
        if left <= 0 or (stop is not None and stop()):
            return None
        share = tuning.optimise_share * left / (len(order) - number)
        step = _step(cut, free, values, rng.randrange(1 << 20), share, tuning, on_solver)
        if step.values is None and step.status == cp_model.UNKNOWN:
            if stop is not None and stop():
                return None
            # no rota of the group in its share: its first one, in all the time left
            left = deadline - time.perf_counter()
            step = _step(cut, free, values, rng.randrange(1 << 20), left, tuning, on_solver, True)
        if step.values is None:
            return None
        values = step.values
    if len(cut.violated(values)):
        return None
    return Constructed(values, cut.objective_of(values), len(order))


def _step(
    cut: SubModels,
    free: np.ndarray,
    values: np.ndarray,
    seed: int,
    seconds: float,
    tuning: ConstructTuning,
    on_solver: Callable[[cp_model.CpSolver], None] | None = None,
    first: bool = False,
) -> Step:
    """One step: the group `free` placed beside `values`, the goal minimised for `seconds`
    (with `first`, the search stopped at its first rota)."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = tuning.step_workers
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = max(tuning.min_step_seconds, seconds)
    solver.parameters.stop_after_first_solution = first
    if on_solver is not None:
        on_solver(solver)
    return cut.solve(free, values, _NO_CAP, solver, spread_all=True)


def _grouped(groups: list[np.ndarray], rng: random.Random, most_steps: int) -> list[np.ndarray]:
    """`groups` in random order, the non-empty ones, joined in runs so that there are at most
    `most_steps` of them."""
    kept = [g for g in groups if len(g)]
    rng.shuffle(kept)
    per_step = max(1, -(-len(kept) // max(1, most_steps)))
    return [np.concatenate(kept[k : k + per_step]) for k in range(0, len(kept), per_step)]


class Background:
    """A construction in a thread beside another search: it starts at `start` (perf_counter
    seconds) unless stopped before, reads the model's rows (SubModels, with `objective` as its
    goal), builds until `deadline` and sets `done`; `result` is then its rota or None. `cut`
    is the rows read, for a search that goes on from the rota."""

    def __init__(
        self,
        model: cp_model.CpModel,
        objective: LinearExpr,
        groups: list[np.ndarray],
        start: float,
        deadline: float,
        seed: int,
        local_row: int,
        tuning: ConstructTuning = ConstructTuning(),
    ):
        self.result: Constructed | None = None
        self.cut: SubModels | None = None
        self.groups = groups
        self.done = threading.Event()
        self._stopped = threading.Event()
        self._solver: cp_model.CpSolver | None = None
        self._lock = threading.Lock()
        self._model, self._objective, self._local_row = model, objective, local_row
        self._start, self._deadline, self._seed, self._tuning = start, deadline, seed, tuning
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the construction (its step's search at once) and wait for its thread, at most
        `_JOIN` seconds: reading a very large model's rows cannot be stopped, and the caller's
        budget does not wait for it (`result` counts only once `done` is set)."""
        self._stopped.set()
        with self._lock:
            if self._solver is not None:
                self._solver.stop_search()
        self._thread.join(_JOIN)

    @property
    def rota(self) -> Constructed | None:
        """The constructed rota, once the construction has ended with one."""
        return self.result if self.done.is_set() else None

    def _use(self, solver: cp_model.CpSolver) -> None:
        with self._lock:
            self._solver = solver
        if self._stopped.is_set():
            solver.stop_search()

    def _run(self) -> None:
        try:
            if self._stopped.wait(max(0.0, self._start - time.perf_counter())):
                return
            groups = self.groups
            indices = np.concatenate(groups).tolist() if groups else []
            self.cut = SubModels.read(self._model, indices, self._local_row, self._objective)
            if self.cut is not None and not self._stopped.is_set():
                stopped, tuning = self._stopped.is_set, self._tuning
                self.result = construct(
                    self.cut, groups, self._deadline, self._seed, stopped, tuning, self._use
                )
        except Exception:  # a construction that fails costs only its time: the search answers
            log.exception("the construction failed; the search beside it answers alone")
            self.result = None
        finally:
            self.done.set()


def improve_by_staff(
    cut: SubModels,
    groups: list[np.ndarray],
    start: Constructed,
    deadline: float,
    seed: int,
    stop: Callable[[], bool] | None = None,
    on_improve: Callable[[int], None] | None = None,
    stall: float | None = None,
    tuning: ConstructTuning = ConstructTuning(),
) -> Constructed:
    """`start` improved until `deadline` (perf_counter seconds), `stop`, or `stall` seconds
    without improving: each step frees a few of `groups` (clinicians) over the whole horizon,
    keeps everyone else, and re-solves them (the neighbourhood a construction's step solves
    well), keeping a better rota. The group's size adapts (ConstructTuning.start_staff). It
    also ends once every group has been proven, since the last improvement, unable to improve
    the rota (a sub-solve optimal at the rota's own value): a small problem's rota is then at
    its best for these moves at once, with no stall to wait out."""
    rng = random.Random(seed)
    kept = [g for g in groups if len(g)]
    best, objective, steps = start.values, start.objective, 0
    size, improved_at = tuning.start_staff, time.perf_counter()
    settled: set[int] = set()  # groups proven unable to improve the rota as it stands
    while kept and len(settled) < len(kept):
        now = time.perf_counter()
        if now >= deadline or (stop is not None and stop()):
            break
        if stall is not None and now - improved_at > stall:
            break
        picked = rng.sample(range(len(kept)), min(len(kept), size))
        free = np.concatenate([kept[k] for k in picked])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = tuning.step_workers
        solver.parameters.random_seed = rng.randrange(1 << 20)
        solver.parameters.max_time_in_seconds = max(
            tuning.min_step_seconds, min(tuning.staff_seconds, deadline - now)
        )
        step = cut.solve(free, best, objective, solver)
        steps += 1
        grow = step.status == cp_model.OPTIMAL
        if step.values is not None and step.objective is not None and step.objective < objective:
            best, objective, improved_at = step.values, step.objective, time.perf_counter()
            settled.clear()
            if on_improve is not None:
                on_improve(objective)
        elif grow:
            settled.update(picked)
        size = min(tuning.most_staff, len(kept), max(1, size + (1 if grow else -1)))
    return Constructed(best, objective, start.steps + steps)
