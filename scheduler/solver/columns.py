"""Column generation by clinician (Dantzig–Wolfe) for a goal tier that splits into a penalty per
post and a cost per clinician: a strong bound, and an LP solution that guides the search.

Where it applies (`applies`): a tier made only of `unfilled_min`, `cover` and `requests`, with
nothing held above it, no rooms limit (the one hard rule across clinicians besides a post's
capacity) and no published rota. Every other hard rule binds one clinician at a time.

The compact model's LP is weak on such tiers: fractions of a shift meet every minimum run and
minimum of minutes, so on Curtois Instance12 the LP of the whole model proves 92 where the
optimum is 4,040. Here each clinician's rota is chosen whole from a pool of rotas that keep all
of their rules ("columns"):

- the **master LP** (GLOP) picks a convex mix of each clinician's columns and pays each post's
  penalty on how many the mix puts there (a convex, piecewise-linear function of that number:
  under- and over-cover, the shortfall below `min`);
- **pricing** asks each clinician's own CP-SAT model (built by scheduler.solver.model from a
  problem with that clinician alone, so the rules are the engine's own methods) for the rota of
  least reduced cost under the master's prices of the posts, and adds it as a column;
- the **bound** is Lagrangian: for any prices y, Σ over clinicians of min(cost − y·x) plus Σ over
  posts of min over f of (penalty(f) + y·f) is at most every rota's objective. The prices are
  rounded to 1/SCALE before pricing and the same rounded prices are used in the posts' part,
  and each clinician's minimum is CP-SAT's proven bound of its pricing model, so the bound is
  exact integer arithmetic, valid whether or not pricing or the LP finished.
- **Stabilisation** (Wentges): prices are a mix of the master's duals and the prices that gave
  the best bound so far, which takes far fewer rounds than the raw duals; a round that finds
  nothing priced out at the raw duals prices at them alone next time.

On Curtois Instance12 the bound reaches the optimum (4,040) where CP-SAT's own stays near 150;
the LP's mix of columns (`xbar`, one value per assignment variable) is nearly whole, so fixing
the variables it puts near 0 or 1 leaves CP-SAT a small problem (scheduler.solver.solve does that).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from scheduler.domain import Problem
from scheduler.solver.model import Constraints, Objective, RotaModel, Variables, locked_pairs

log = logging.getLogger(__name__)

# Prices are whole multiples of 1/SCALE in the pricing models and in the bound.
SCALE = 10_000
# Parts a tier may hold for column generation to apply.
SEPARABLE = frozenset({"unfilled_min", "cover", "requests"})


@dataclass(frozen=True)
class ColumnTuning:
    """Column generation's limits and step sizes."""

    # Most assignment variables for which building one model per clinician is worth its time.
    most_variables: int = 100_000
    # Share of the best-bound prices in the stabilised prices.
    smoothing: float = 0.5
    # Seconds each pricing solve may take (its proven bound still counts when it stops).
    pricing_seconds: float = 2.0
    # The rounds end once the bound is this close to the master LP (it could rise by one at most).
    tail: float = 0.5
    # Share of the rounds' time so far that settling the master LP for a dive may add.
    settle_share: float = 0.2
    # Settling ends once the unrounded bound is this close to the master LP (then at its optimum).
    settled: float = 1e-3
    # Rounds of pricing after each step of a dive, so the master LP can follow what was fixed.
    dive_rounds: int = 5
    # A dive step that raises the master LP by more than this share of its start is undone.
    dive_jump_share: float = 0.02
    # Most steps a dive undoes before it keeps whatever its steps cost.
    dive_backtracks: int = 5
    # Most clinicians one dive step may fix before the dive gives up (it would be mere rounding).
    dive_most_a_step: int = 3
    # Seconds a master LP solve from its last basis may take before it is solved from scratch.
    master_seconds: float = 2.0
    # Rotas kept per clinician and round from a pricing solve (the best and those on the way).
    columns_per_round: int = 3
    # A round that takes more than this share of the rounds' time ends them: pricing cannot keep
    # up (the rounds would end far from the LP's optimum), so the search gets the time instead.
    slow_round_share: float = 0.2


Cell = tuple[int, int]  # (session index, post index)


def applies(
    problem: Problem,
    rm: RotaModel,
    tier: tuple[str, ...],
    first: bool,
    *,
    tuning: ColumnTuning = ColumnTuning(),
) -> bool:
    """Whether column generation can bound and guide this tier (see the module's docstring)."""
    weighted = [part for part in tier if problem.weights.of(part) > 0]
    return (
        first
        and bool(weighted)
        and set(weighted) <= SEPARABLE
        and "cover" in weighted
        and not isinstance(rm.parts["cover"], int)  # some post has weighted cover
        and len(rm.variables.x) <= tuning.most_variables
        and not problem.published
        and all(hub.rooms is None for hub in problem.hubs)
        and len(rm.variables.sessions_of) >= 2
    )


@dataclass
class _Pricing:
    """One clinician's own model and the map of its x variables to the whole model's cells."""

    model: cp_model.CpModel
    cost_terms: dict[int, int]  # SCALE × the clinician's part of the tier: variable → coefficient
    cost_offset: int  # ... and its constant
    index: dict[Cell, int]  # the model's x variable of each cell it may fill
    columns: set[frozenset[Cell]] = field(default_factory=set)
    last: frozenset[Cell] | None = None  # the rota its last pricing solve found best (a hint)


@dataclass
class ColumnResult:
    bound: int | None  # every rota's tier value is at least this (None: no round finished)
    lp_value: float | None  # the master LP's last optimum (the bound's target)
    xbar: dict[tuple[int, int, int], float]  # the master LP's mix, per x key (ci, si, pi)
    rota: dict[int, frozenset[Cell]] | None  # a dive's whole rota: each clinician's cells
    rounds: int
    columns: int
    seconds: float


def post_penalty(
    problem: Problem, tier: tuple[str, ...], si: int, pi: int
) -> list[tuple[int, int]]:
    """The tier's penalty of a post as (filled, penalty) at the filled counts where its slope
    changes (0, min, target, most): convex and linear between them."""
    session = problem.sessions[si]
    post = session.posts[pi]
    weights = {part: problem.weights.of(part) for part in tier}

    def penalty(filled: int) -> int:
        total = weights.get("unfilled_min", 0) * session.minutes * max(0, post.min - filled)
        if post.under_weight or post.over_weight:
            total += weights.get("cover", 0) * (
                post.under_weight * max(0, post.target - filled)
                + post.over_weight * max(0, filled - post.target)
            )
        return total

    points = sorted({0, min(post.min, post.most), min(post.target, post.most), post.most})
    return [(f, penalty(f)) for f in points]


class ColumnGeneration:
    """The master LP, the pricing models and the bound; `run` until a deadline."""

    def __init__(
        self,
        problem: Problem,
        rm: RotaModel,
        tier: tuple[str, ...],
        *,
        tuning: ColumnTuning = ColumnTuning(),
    ):
        self.problem, self.rm, self.tier = problem, rm, tier
        self.tuning = tuning
        self.request_weight = problem.weights.of("requests") if "requests" in tier else 0
        # every post, also those nobody may fill (their penalty is a constant of the bound)
        self.cells: list[Cell] = [
            (si, pi)
            for si, session in enumerate(problem.sessions)
            for pi, _ in enumerate(session.posts)
        ]
        self.clinicians = sorted(rm.variables.sessions_of)
        self.pricing = {ci: self._pricing_model(ci) for ci in self.clinicians}
        self.penalties = {cell: post_penalty(problem, tier, *cell) for cell in self.cells}
        self._build_master()
        self.best_bound: int | None = None
        self.lagrangian_value: float | None = None  # the best bound before rounding up
        self.center: dict[Cell, int] | None = None  # prices (× SCALE) of the best bound
        self._convexity_dual: dict[int, float] = {}
        self.duals: dict[Cell, float] = {}
        self.lp_value: float | None = None
        self.fixed: dict[int, frozenset[Cell]] = {}  # clinicians a dive has fixed, to their rota
        self.barred: set[tuple[int, frozenset[Cell]]] = set()  # rotas a dive has backed out of

    # ---- the models -----------------------------------------------------------------------

    def _pricing_model(self, ci: int) -> _Pricing:
        clinician = self.problem.clinicians[ci]
        alone = replace(
            self.problem,
            clinicians=(clinician,),
            availability={
                key: offers
                for key, offers in self.problem.availability.items()
                if key[0] == clinician.clinician_id
            },
        )
        model = cp_model.CpModel()
        forced = {(0, si) for c, si in locked_pairs(self.problem) if c == ci}
        variables = Variables.build(model, alone, forced)
        Constraints(model, alone, variables).add_all()
        cost = (
            self.request_weight * Objective(model, alone, variables).add_requests()
            if self.request_weight
            else 0
        )
        cells = {(si, pi): var for (_, si, pi), var in variables.x.items()}
        model.minimize(SCALE * cost)  # read back as the cost's terms, then rewritten each round
        cost_terms: dict[int, int] = {}
        for index, coeff in zip(
            model.proto.objective.vars, model.proto.objective.coeffs, strict=True
        ):
            cost_terms[index] = cost_terms.get(index, 0) + coeff
        expected = {(si, pi) for (c, si, pi) in self.rm.variables.x if c == ci}
        if set(cells) != expected:  # eligibility is the clinician's own: this cannot differ
            raise AssertionError(f"pricing model of {clinician.clinician_id} has other variables")
        return _Pricing(
            model,
            cost_terms,
            round(model.proto.objective.offset),
            {cell: var.index for cell, var in cells.items()},
        )

    def _build_master(self, keep: bool = False) -> None:
        """The master LP; with `keep`, anew with the columns it had."""
        old = (
            [
                (ci, cells, cost)
                for ci, entries in self.lambdas.items()
                for (_, cells), cost in zip(entries, self.costs[ci], strict=True)
            ]
            if keep
            else []
        )
        lp = self.lp = pywraplp.Solver.CreateSolver("GLOP")
        # without preprocessing GLOP starts each solve from the last basis (new columns keep it
        # primal feasible); with it, every round is solved from scratch
        lp.SetSolverSpecificParametersAsString("use_preprocessing: false")
        inf = lp.infinity()
        objective = lp.Objective()
        self.convexity = {ci: lp.Constraint(1, 1) for ci in self.clinicians}
        self.linking: dict[Cell, pywraplp.Constraint] = {}
        for cell in self.cells:
            points = self.penalties[cell]
            filled = lp.NumVar(0, points[-1][0], "")
            row = lp.Constraint(0, 0)  # Σ columns' x on the cell − filled = 0
            row.SetCoefficient(filled, -1)
            self.linking[cell] = row
            if len(points) == 1:
                continue
            charge = lp.NumVar(0, inf, "")
            objective.SetCoefficient(charge, 1)
            for (f0, g0), (f1, g1) in zip(points, points[1:], strict=False):
                slope = (g1 - g0) / (f1 - f0)
                piece = lp.Constraint(g0 - slope * f0, inf)  # charge − slope·filled ≥ g0 − slope·f0
                piece.SetCoefficient(charge, 1)
                piece.SetCoefficient(filled, -slope)
        objective.SetMinimization()
        self.lambdas: dict[int, list[tuple[pywraplp.Variable, frozenset[Cell]]]] = {
            ci: [] for ci in self.clinicians
        }
        self.costs: dict[int, list[int]] = {ci: [] for ci in self.clinicians}
        for ci, cells, cost in old:
            self._add_lambda(ci, cells, cost)

    def add_column(self, ci: int, cells: frozenset[Cell], cost: int) -> bool:
        pricing = self.pricing[ci]
        if cells in pricing.columns:
            return False
        pricing.columns.add(cells)
        self._add_lambda(ci, cells, cost)
        return True

    def _add_lambda(self, ci: int, cells: frozenset[Cell], cost: int) -> None:
        var = self.lp.NumVar(0, 1, "")
        self.lp.Objective().SetCoefficient(var, cost)
        self.convexity[ci].SetCoefficient(var, 1)
        for cell in cells:
            self.linking[cell].SetCoefficient(var, 1)
        self.lambdas[ci].append((var, cells))
        self.costs[ci].append(cost)
        if self.fixed.get(ci) == cells:
            var.SetBounds(1, 1)
        elif (ci, cells) in self.barred:
            var.SetBounds(0, 0)

    # ---- pricing and the bound ------------------------------------------------------------

    def price(
        self, ci: int, prices: dict[Cell, int], seconds: float
    ) -> tuple[int, list[tuple[frozenset[Cell], int]]]:
        """min over the clinician's rotas of SCALE·cost − Σ prices·x: CP-SAT's proven bound of it,
        and the best rota found as (cells, cost). The objective is written straight into the
        proto (an expression rebuilt every round costs more than the solve)."""
        pricing = self.pricing[ci]
        coeffs = dict(pricing.cost_terms)
        for cell, index in pricing.index.items():
            price = prices.get(cell, 0)
            if price:
                coeffs[index] = coeffs.get(index, 0) - price
        objective = pricing.model.proto.objective
        objective.vars.clear()
        objective.coeffs.clear()
        objective.vars.extend(list(coeffs))
        objective.coeffs.extend(list(coeffs.values()))
        hint = pricing.model.proto.solution_hint
        hint.vars.clear()
        hint.values.clear()
        if pricing.last is not None:
            hint.vars.extend(list(pricing.index.values()))
            hint.values.extend([int(cell in pricing.last) for cell in pricing.index])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = max(0.05, seconds)
        solver.parameters.solution_pool_size = self.tuning.columns_per_round
        solver.parameters.cp_model_presolve = False
        solver.parameters.fill_additional_solutions_in_response = True
        status = solver.solve(pricing.model)
        if status == cp_model.OPTIMAL:
            bound = round(solver.objective_value)
        elif status == cp_model.FEASIBLE:
            bound = math.ceil(solver.best_objective_bound - 1e-6)
        else:  # infeasible on its own: the whole problem is infeasible, nothing to bound
            raise _Infeasible
        response = solver.response_proto
        found = []
        for values in [
            response.solution,
            *(extra.values for extra in response.additional_solutions),
        ]:
            cells = frozenset(cell for cell, index in pricing.index.items() if values[index])
            cost = (
                sum(coeff * values[index] for index, coeff in pricing.cost_terms.items())
                + pricing.cost_offset
            ) // SCALE
            found.append((cells, cost))
        pricing.last = found[0][0]
        return bound, found

    def post_bound(self, prices: dict[Cell, int]) -> int:
        """Σ over posts of min over filled f of SCALE·penalty(f) + price·f (at the breakpoints,
        where a convex piecewise-linear function plus a linear one has its minimum)."""
        return sum(
            min(SCALE * g + prices.get(cell, 0) * f for f, g in self.penalties[cell])
            for cell in self.cells
        )

    def lagrangian(
        self, prices: dict[Cell, int], deadline: float, workers: int = 1
    ) -> tuple[int | None, dict[int, list[tuple[frozenset[Cell], int]]]]:
        """SCALE × the bound at these prices (None if the deadline cut pricing short; the
        integer bound is that divided by SCALE, rounded up) and the rotas pricing found on the
        way, per clinician."""
        bounds, columns = self._price_all(prices, deadline, workers)
        if bounds is None:
            return None, columns
        return sum(bounds.values()) + self.post_bound(prices), columns

    # ---- the loop ---------------------------------------------------------------------------

    def run(
        self,
        deadline: float,
        workers: int = 1,
        stop: Callable[[], bool] | None = None,
        on_bound: Callable[[int], None] | None = None,
        settle: bool = False,
    ) -> ColumnResult:
        """Rounds of pricing until `deadline` (perf_counter seconds) or until the bound can
        rise no more than its tail (the tuning's `tail`). With `settle` (a dive follows), the
        rounds go on past that until a round at the master's duals no longer lowers the LP
        (nothing prices out, or what does leaves the LP where it was) or the bound meets the LP
        (`settled`), for at most `settle_share` of the time so far: the dive needs the master LP
        at its optimum, not only the bound. The result's mix is still the LP's where the bound
        met it (the sub-solve around it, where the dive gives up, does worse from the settled
        one)."""
        started = time.perf_counter()
        rounds = _Rounds(deadline, self._first_duals())
        allowed = self.tuning.slow_round_share * max(0.0, deadline - started)
        try:
            while time.perf_counter() < rounds.deadline and not (stop is not None and stop()):
                began = time.perf_counter()
                # a round may take `allowed` at most: pricing stopped early still gives a bound
                # (each clinician's part is its pricing model's proven bound)
                deadline = rounds.deadline
                rounds.deadline = min(deadline, began + allowed)
                ended = self._round(rounds, started, workers, on_bound, settle)
                if rounds.deadline >= min(deadline, began + allowed):
                    rounds.deadline = deadline  # (settling may have brought it forward)
                took = time.perf_counter() - began
                log.debug("column round %d: %.2fs", rounds.count, took)
                if ended:
                    break
                if took >= allowed:
                    log.info("column generation ends: a round took %.1fs of %.1fs", took, allowed)
                    break
        except _Infeasible:
            pass
        self.lp_value = rounds.lp_value
        mix = rounds.mix
        if mix is None and rounds.lp_value is not None:
            mix = self.xbar()
        return ColumnResult(
            self.best_bound,
            rounds.lp_value,
            mix or {},
            None,
            rounds.count,
            sum(len(v) for v in self.lambdas.values()),
            time.perf_counter() - started,
        )

    def _first_duals(self) -> dict[Cell, float]:
        """The first round's prices: every cell at its first unit's worth, so that each
        clinician offers a full rota."""
        return {
            cell: max(0, self.penalties[cell][0][1] - self.penalties[cell][1][1])
            / max(1, self.penalties[cell][1][0])
            if len(self.penalties[cell]) > 1
            else 0.0
            for cell in self.cells
        }

    def _round(
        self,
        rounds: _Rounds,
        started: float,
        workers: int,
        on_bound: Callable[[int], None] | None,
        settle: bool,
    ) -> bool:
        """One round: price every clinician, take the bound, add the columns and solve the
        master LP. True when the rounds are to end."""
        rounds.count += 1
        prices = self._stabilised(rounds)
        scaled, columns = self.lagrangian(prices, rounds.deadline, workers)
        if scaled is not None:
            self._take_bound(rounds, scaled, prices, on_bound)
        found = [(ci, cells, cost) for ci, rotas in columns.items() for cells, cost in rotas]
        priced_out = rounds.lp_value is not None and any(
            self._reduced_cost(ci, cells, cost, rounds.duals) < -1e-6 for ci, cells, cost in found
        )
        if rounds.settling and rounds.smoothing == 0.0 and not priced_out:
            return True  # settled: nothing prices out at the master's duals, so its LP is at
            # the optimum (this round's columns, which tie at best, are left out: they could
            # move a degenerate master to other duals)
        added = sum(self.add_column(ci, cells, cost) for ci, cells, cost in found)
        before, rounds.lp_value = rounds.lp_value, self._solve_master(rounds.deadline)
        if rounds.lp_value is None:
            return True
        if self._master_ends_rounds(rounds, before, started, settle):
            return True
        if added == 0 and rounds.smoothing == 0.0 and rounds.count > 1:
            return True
        # stabilise from the second round; a round that priced nothing out at the raw duals
        # goes back to them, and so do the rounds that settle the LP (smoothing is for the bound)
        rounds.smoothing = (
            self.tuning.smoothing
            if (priced_out or rounds.count == 1) and not rounds.settling
            else 0.0
        )
        return False

    def _stabilised(self, rounds: _Rounds) -> dict[Cell, int]:
        """This round's prices (× SCALE): the duals, mixed with the centre's while smoothing."""
        raw = {cell: round(SCALE * value) for cell, value in rounds.duals.items()}
        if self.center is not None and rounds.smoothing > 0:
            smoothing = rounds.smoothing
            return {
                cell: round(smoothing * self.center[cell] + (1 - smoothing) * raw[cell])
                for cell in self.cells
            }
        return raw

    def _take_bound(
        self,
        rounds: _Rounds,
        scaled: int,
        prices: dict[Cell, int],
        on_bound: Callable[[int], None] | None,
    ) -> None:
        """Record the bound SCALE × `scaled` that `prices` gave, and move the centre of
        stabilisation to them if they are the best since the master's duals took over (the
        first round's prices only get every clinician started)."""
        best = scaled if rounds.best_scaled is None else max(rounds.best_scaled, scaled)
        rounds.best_scaled = best
        self.lagrangian_value = best / SCALE
        bound = -(-scaled // SCALE)
        if self.best_bound is None or bound > self.best_bound:
            self.best_bound = bound
            if on_bound is not None:
                on_bound(bound)
        if rounds.count > 1 and (rounds.center_bound is None or bound > rounds.center_bound):
            self.center, rounds.center_bound = prices, bound

    def _master_ends_rounds(
        self, rounds: _Rounds, before: float | None, started: float, settle: bool
    ) -> bool:
        """After a master solve: whether the rounds end, as the LP settled or the bound met
        it; the bound meeting the LP starts settling instead when `settle`."""
        lp_value = rounds.lp_value
        assert lp_value is not None
        if (
            rounds.settling
            and rounds.smoothing == 0.0
            and before is not None
            and lp_value > before - 1e-6
        ):
            return True  # the columns that price out at the master's duals no longer lower
            # it: a degenerate master whose duals only move from round to round
        rounds.duals = self.duals
        best_scaled = rounds.best_scaled
        if (
            not rounds.settling
            and best_scaled is not None
            and (
                -(-best_scaled // SCALE) >= math.ceil(lp_value - 1e-6)
                or lp_value - best_scaled / SCALE < self.tuning.tail
            )
        ):
            # the bound is the LP's rounded up, or next to the LP: rounds ahead could raise it
            # by one at most
            if not settle:
                return True
            rounds.settling = True
            rounds.mix = self.xbar()
            rounds.deadline = min(
                rounds.deadline,
                time.perf_counter() + self.tuning.settle_share * (time.perf_counter() - started),
            )
        # settled once the bound meets the LP, which is then at its optimum (a degenerate
        # master may still have duals at which some rota prices out)
        return (
            rounds.settling
            and best_scaled is not None
            and lp_value - best_scaled / SCALE < self.tuning.settled
        )

    def _reduced_cost(
        self, ci: int, cells: frozenset[Cell], cost: int, duals: dict[Cell, float]
    ) -> float:
        """A rota's reduced cost in the master LP at `duals` and the convexity duals."""
        return cost - sum(duals[c] for c in cells) - self._convexity_dual[ci]

    def xbar(self) -> dict[tuple[int, int, int], float]:
        """The master LP's mix of rotas, per x key (ci, si, pi) it puts above 0."""
        out: dict[tuple[int, int, int], float] = {}
        for ci, entries in self.lambdas.items():
            for var, cells in entries:
                value = var.solution_value()
                if value > 1e-9:
                    for si, pi in cells:
                        out[ci, si, pi] = out.get((ci, si, pi), 0.0) + value
        return out

    def _solve_master(self, deadline: float) -> float | None:
        """Solve the master LP (anew from its columns if GLOP fails from its last basis, or
        takes over the tuning's master_seconds); its value, with `duals` and the convexity duals
        set, or None. The try from scratch stops at `deadline` (perf_counter seconds), or after
        master_seconds if that is later."""
        most = self.tuning.master_seconds
        self.lp.SetTimeLimit(round(1000 * most))
        status = self.lp.Solve()
        if status != pywraplp.Solver.OPTIMAL:  # GLOP lost its way: once more from scratch
            self._build_master(keep=True)
            self.lp.SetTimeLimit(round(1000 * max(most, deadline - time.perf_counter())))
            status = self.lp.Solve()
        if status != pywraplp.Solver.OPTIMAL:
            return None
        self.duals = {cell: row.dual_value() for cell, row in self.linking.items()}
        self._convexity_dual = {ci: row.dual_value() for ci, row in self.convexity.items()}
        return self.lp.Objective().Value()

    # ---- a rota from the LP: diving ---------------------------------------------------------

    def dive(
        self, deadline: float, workers: int = 1, stop: Callable[[], bool] | None = None
    ) -> dict[int, frozenset[Cell]] | None:
        """A whole rota from the master LP (after `run`): fix the clinicians whose LP rota is
        whole, and a tenth of the rest at the rota the LP gives most weight, re-price the
        others at the new duals for a few rounds, and again until everyone is fixed. Near the
        deadline the rest take their heaviest rota at once. The cells each clinician works, or
        None (no LP, or the rota the deadline forced would overfill a post)."""
        if self.lp_value is None:
            return None
        fixed = self.fixed
        step_seconds = 0.0
        backtracks = 0
        jump = self.tuning.dive_jump_share * abs(self.lp_value)
        try:
            while True:
                step_started = time.perf_counter()
                before = self.lp.Objective().Value()
                heaviest = self._heaviest()
                if not heaviest:
                    break
                left = deadline - step_started
                late = left <= 0 or (stop is not None and stop())
                whole = [ci for ci, (value, _, _) in heaviest.items() if value >= 1 - 1e-6]
                chosen = self._dive_choice(heaviest, whole, left, step_seconds, late)
                if chosen is None:
                    return None
                for ci in chosen:
                    _, var, cells = heaviest[ci]
                    var.SetBounds(1, 1)
                    fixed[ci] = cells
                if late:
                    break
                if not self._reprice(deadline, workers):
                    return None
                if self._solve_master(deadline) is None:
                    return None
                if (
                    not whole
                    and backtracks < self.tuning.dive_backtracks
                    and self.lp.Objective().Value() - before > jump
                ):
                    backtracks += 1
                    if not self._back_out(chosen, deadline):
                        return None
                if not whole:
                    step_seconds = time.perf_counter() - step_started
        except _Infeasible:
            return None
        filled: dict[Cell, int] = {}
        for cells in fixed.values():
            for cell in cells:
                filled[cell] = filled.get(cell, 0) + 1
        if any(count > self.penalties[cell][-1][0] for cell, count in filled.items()):
            return None
        return fixed

    def _heaviest(self) -> dict[int, tuple[float, pywraplp.Variable, frozenset[Cell]]]:
        """Each clinician not yet fixed: the rota the master LP gives most weight, as
        (weight, its variable, its cells)."""
        heaviest = {}
        for ci in self.clinicians:
            if ci not in self.fixed:
                var, cells = max(self.lambdas[ci], key=lambda entry: entry[0].solution_value())
                heaviest[ci] = (var.solution_value(), var, cells)
        return heaviest

    def _dive_choice(
        self,
        heaviest: dict[int, tuple[float, pywraplp.Variable, frozenset[Cell]]],
        whole: list[int],
        left: float,
        step_seconds: float,
        late: bool,
    ) -> list[int] | None:
        """The clinicians a dive step fixes: those whose LP rota is `whole` or, with none, the
        heaviest of the rest, one a step while the `left` seconds allow steps of
        `step_seconds`, a few more when they will not; everyone when `late`. None when the
        step would fix more than the tuning's dive_most_a_step: a dive that has to fix many
        at once is no better than rounding, and leaves its time to the search."""
        ranked = sorted((ci for ci in heaviest if ci not in whole), key=lambda ci: -heaviest[ci][0])
        steps = max(1.0, left / step_seconds) if step_seconds > 0 else len(ranked)
        count = 0 if whole else max(1, math.ceil(len(ranked) / steps))
        if count > self.tuning.dive_most_a_step and not late:
            return None
        return list(heaviest) if late else whole + ranked[:count]

    def _reprice(self, deadline: float, workers: int) -> bool:
        """Rounds of pricing for the clinicians not yet fixed, at the master's new duals, while
        they find rotas that price out (at most the tuning's dive_rounds). False when the
        master LP has no solution."""
        free = [ci for ci in self.clinicians if ci not in self.fixed]
        for _ in range(self.tuning.dive_rounds):
            if self._solve_master(deadline) is None:
                return False
            if not free or time.perf_counter() >= deadline:
                break
            prices = {cell: round(SCALE * value) for cell, value in self.duals.items()}
            _, columns = self._price_all(prices, deadline, workers, free)
            added = 0
            for ci, found in columns.items():
                for cells, cost in found:
                    if self._reduced_cost(ci, cells, cost, self.duals) < -1e-6:
                        added += self.add_column(ci, cells, cost)
            if not added:
                break
        return True

    def _back_out(self, chosen: list[int], deadline: float) -> bool:
        """Undo a dive step whose rotas cost the LP a jump: free the `chosen` clinicians again
        and bar the rotas they were fixed at. False when the master LP then has no solution."""
        for ci in chosen:
            cells = self.fixed.pop(ci)
            self.barred.add((ci, cells))
            for var, column in self.lambdas[ci]:  # (the master may have been rebuilt)
                if column == cells:
                    var.SetBounds(0, 0)
        return self._solve_master(deadline) is not None

    def _price_all(
        self, prices: dict[Cell, int], deadline: float, workers: int, who: list[int] | None = None
    ) -> tuple[dict[int, int] | None, dict[int, list[tuple[frozenset[Cell], int]]]]:
        """Price every clinician (or those of `who`) on `workers` threads (CP-SAT releases the
        interpreter lock). The bounds are None if the deadline cut the round short or only some
        were priced (a partial sum bounds nothing)."""
        bounds: dict[int, int] = {}
        columns: dict[int, list[tuple[frozenset[Cell], int]]] = {}
        queue = list(reversed(self.clinicians if who is None else who))
        lock = threading.Lock()
        failed: list[BaseException] = []

        def work() -> None:
            while True:
                with lock:
                    if not queue or failed:
                        return
                    ci = queue.pop()
                left = deadline - time.perf_counter()
                if left <= 0:
                    return
                try:
                    bound, found = self.price(ci, prices, min(self.tuning.pricing_seconds, left))
                except BaseException as error:  # noqa: BLE001 — re-raised on the caller's thread
                    with lock:
                        failed.append(error)
                    return
                with lock:
                    bounds[ci], columns[ci] = bound, found

        threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, workers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failed:
            raise failed[0]
        complete = len(bounds) == len(self.clinicians)
        return (bounds if complete else None), columns


@dataclass
class _Rounds:
    """Where `run`'s rounds stand."""

    deadline: float  # perf_counter seconds; settling may bring it forward
    duals: dict[Cell, float]  # the prices the next round starts from
    count: int = 0  # rounds begun
    lp_value: float | None = None  # the master LP's last optimum
    smoothing: float = 0.0  # share of the centre's prices in the next round's
    settling: bool = False  # the bound has met the LP and the rounds settle it for a dive
    mix: dict[tuple[int, int, int], float] | None = None  # the LP's mix where the bound met it
    center_bound: int | None = None  # the bound at the centre of stabilisation
    best_scaled: int | None = None  # the best bound so far, × SCALE


class _Infeasible(Exception):
    """A clinician's own rules admit no rota at all."""


def generate(
    problem: Problem,
    rm: RotaModel,
    tier: tuple[str, ...],
    deadline: float,
    dive_deadline: float | None = None,
    workers: int = 1,
    stop: Callable[[], bool] | None = None,
    *,
    tuning: ColumnTuning = ColumnTuning(),
) -> ColumnResult:
    """Column generation for `tier` until `deadline` (perf_counter seconds), then, with
    `dive_deadline`, a dive for a whole rota until then; see the module."""
    generation = ColumnGeneration(problem, rm, tier, tuning=tuning)
    result = generation.run(deadline, workers, stop, settle=dive_deadline is not None)
    if dive_deadline is not None and result.lp_value is not None:
        result = replace(result, rota=generation.dive(dive_deadline, workers, stop))
    return result
