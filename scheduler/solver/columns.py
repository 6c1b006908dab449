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
- **pricing** asks each clinician's own CP-SAT model (built by scheduler.solver.model from a problem with
  that clinician alone, so the rules are the engine's own methods) for the rota of least
  reduced cost under the master's prices of the posts, and adds it as a column;
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

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from scheduler.domain import Problem
from scheduler.solver.model import Constraints, Objective, RotaModel, Variables, locked_pairs

# Building every clinician's own model costs about as much as building the whole one again; past
# this many assignment variables that is more than a phase should spend before it searches.
MOST_VARIABLES = 100_000
# Prices are whole multiples of 1/SCALE in the pricing models and in the bound.
SCALE = 10_000
# Parts a tier may hold for column generation to apply.
SEPARABLE = frozenset({"unfilled_min", "cover", "requests"})
# Share of the best-bound prices in the stabilised prices.
SMOOTHING = 0.5
# Each pricing solve stops after this long (its bound still counts).
PRICING_SECONDS = 2.0
# Column generation stops once its bound is within this of the master LP (its tail adds at most
# one to the integer bound: Curtois Instance7 spent 25 s on 120 rounds closing 1,054 to 1,054.08).
TAIL = 0.5
# A dive starts from the master LP at its optimum: column generation whose bound has met the
# LP's (TAIL) goes on until no column prices out at the master's duals. (Curtois Instance8: the
# dive from the LP as it stood when the bound met it ended at 1,404-1,411 in every run, near
# 1,300 in none; settled, 2.0 s later, 1,305 in six runs of seven and 1,418 in the other.)
# ... for at most this share of the time the rounds had taken by then (Instance1-3: columns at
# the optimum's duals tie with those in the pool, and rounds went on for the whole of their time;
# Instance8 settles in three rounds, about 1 s after 10 s; where the dive then gives up, as on
# Instance9 and 12, the time is lost to the search).
SETTLE_SHARE = 0.2
# ... or until the Lagrangian bound (unrounded) is within this of the master LP.
SETTLED = 1e-3
# Rounds of pricing after each step of a dive (Curtois Instance8 after one column a step: 1,304
# with 5 rounds, 1,614-1,710 with 2-3).
DIVE_ROUNDS = 5
# A step whose rotas raise the master LP by more than this share of its value at the dive's
# start is undone and those rotas barred, at most DIVE_BACKTRACKS times a dive.
DIVE_JUMP_SHARE = 0.02
DIVE_BACKTRACKS = 5
# ... and the most clinicians a step fixes before the dive gives up.
DIVE_MOST_A_STEP = 3
# A master LP solve takes a tenth of a second or less (Curtois Instance8); one from the last
# basis that takes longer than this is stopped and solved again from scratch. (In a dive on
# Instance8 GLOP once ran for minutes from its last basis, and nothing stopped it.)
MASTER_SECONDS = 2.0
# A column that a pricing solve finds on its way to the best one is kept too, up to this many
# a clinician a round.
COLUMNS_PER_ROUND = 3

Cell = tuple[int, int]  # (session index, post index)


def applies(problem: Problem, rm: RotaModel, tier: tuple[str, ...], first: bool) -> bool:
    """Whether column generation can bound and guide this tier (see the module's docstring)."""
    weighted = [part for part in tier if problem.weights.of(part) > 0]
    return (
        first
        and bool(weighted)
        and set(weighted) <= SEPARABLE
        and "cover" in weighted
        and not isinstance(rm.parts["cover"], int)  # some post has weighted cover
        and len(rm.variables.x) <= MOST_VARIABLES
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

    def __init__(self, problem: Problem, rm: RotaModel, tier: tuple[str, ...]):
        self.problem, self.rm, self.tier = problem, rm, tier
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
        # primal feasible); with it, every round solved from scratch (1 s a round on Instance12)
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
        solver.parameters.solution_pool_size = COLUMNS_PER_ROUND
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
        rise no more than its tail (TAIL). With `settle` (a dive follows), the rounds go on past
        that until a round at the master's duals no longer lowers the LP (nothing prices out,
        or what does leaves the LP where it was) or the bound meets the LP (SETTLED), for at
        most SETTLE_SHARE of the time so far: the dive needs the master LP at its optimum, not
        only the bound. The result's mix is still the LP's where the bound met it (the
        sub-solve around it, where the dive gives up, did worse from the settled one)."""
        started = time.perf_counter()
        settling = False
        mix: dict[tuple[int, int, int], float] | None = None  # the result's (see `settle`)
        rounds = 0
        lp_value: float | None = None
        # first prices: every cell at its first unit's worth, so each clinician offers a full rota
        duals = {
            cell: max(0, self.penalties[cell][0][1] - self.penalties[cell][1][1])
            / max(1, self.penalties[cell][1][0])
            if len(self.penalties[cell]) > 1
            else 0.0
            for cell in self.cells
        }
        smoothing = 0.0
        center_bound: int | None = None
        best_scaled: int | None = None
        try:
            while time.perf_counter() < deadline and not (stop is not None and stop()):
                rounds += 1
                raw = {cell: round(SCALE * value) for cell, value in duals.items()}
                if self.center is not None and smoothing > 0:
                    prices = {
                        cell: round(smoothing * self.center[cell] + (1 - smoothing) * raw[cell])
                        for cell in self.cells
                    }
                else:
                    prices = raw
                scaled, columns = self.lagrangian(prices, deadline, workers)
                if scaled is not None:
                    best_scaled = scaled if best_scaled is None else max(best_scaled, scaled)
                    self.lagrangian_value = best_scaled / SCALE
                    bound = -(-scaled // SCALE)
                    if self.best_bound is None or bound > self.best_bound:
                        self.best_bound = bound
                        if on_bound is not None:
                            on_bound(bound)
                    # the centre of stabilisation: the best prices met since the master's duals
                    # took over (the first round's prices only get every clinician started)
                    if rounds > 1 and (center_bound is None or bound > center_bound):
                        self.center, center_bound = prices, bound
                priced_out = lp_value is not None and any(
                    cost - sum(duals[c] for c in cells) - self._convexity_dual[ci] < -1e-6
                    for ci, found in columns.items()
                    for cells, cost in found
                )
                if settling and smoothing == 0.0 and not priced_out:
                    break  # settled: nothing prices out at the master's duals, so its LP is at
                    # the optimum (this round's columns, which tie at best, are left out: they
                    # could move a degenerate master to other duals)
                added = sum(
                    self.add_column(ci, cells, cost)
                    for ci, found in columns.items()
                    for cells, cost in found
                )
                before, lp_value = lp_value, self._solve_master(deadline)
                if lp_value is None:
                    break
                if (
                    settling
                    and smoothing == 0.0
                    and before is not None
                    and lp_value > before - 1e-6
                ):
                    break  # the columns that price out at the master's duals no longer lower
                    # it: a degenerate master whose duals only move from round to round
                duals = self.duals
                if (
                    not settling
                    and best_scaled is not None
                    and (
                        -(-best_scaled // SCALE) >= math.ceil(lp_value - 1e-6)
                        or lp_value - best_scaled / SCALE < TAIL
                    )
                ):
                    # the bound is the LP's rounded up, or next to the LP: rounds ahead could
                    # raise it by one at most
                    if not settle:
                        break
                    settling = True
                    mix = self.xbar()
                    deadline = min(
                        deadline,
                        time.perf_counter() + SETTLE_SHARE * (time.perf_counter() - started),
                    )
                if (
                    settling
                    and best_scaled is not None
                    and lp_value - best_scaled / SCALE < SETTLED
                ):
                    break  # settled: the bound meets the LP, which is then at its optimum (a
                    # degenerate master may still have duals at which some rota prices out)
                if added == 0 and smoothing == 0.0 and rounds > 1:
                    break
                # stabilise from the second round; a round that priced nothing out at the raw
                # duals goes back to them, and so do the rounds that settle the LP (smoothing
                # is for the bound)
                smoothing = SMOOTHING if (priced_out or rounds == 1) and not settling else 0.0
        except _Infeasible:
            pass
        self.lp_value = lp_value
        if mix is None and lp_value is not None:
            mix = self.xbar()
        return ColumnResult(
            self.best_bound,
            lp_value,
            mix or {},
            None,
            rounds,
            sum(len(v) for v in self.lambdas.values()),
            time.perf_counter() - started,
        )

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
        takes over MASTER_SECONDS); its value, with `duals` and the convexity duals set, or None.
        The try from scratch stops at `deadline` (perf_counter seconds), or after MASTER_SECONDS
        if that is later."""
        self.lp.SetTimeLimit(round(1000 * MASTER_SECONDS))
        status = self.lp.Solve()
        if status != pywraplp.Solver.OPTIMAL:  # GLOP lost its way: once more from scratch
            self._build_master(keep=True)
            self.lp.SetTimeLimit(round(1000 * max(MASTER_SECONDS, deadline - time.perf_counter())))
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
        jump = DIVE_JUMP_SHARE * abs(self.lp_value)
        try:
            while True:
                step_started = time.perf_counter()
                before = self.lp.Objective().Value()
                heaviest = {}
                for ci in self.clinicians:
                    if ci not in fixed:
                        var, cells = max(
                            self.lambdas[ci], key=lambda entry: entry[0].solution_value()
                        )
                        heaviest[ci] = (var.solution_value(), var, cells)
                if not heaviest:
                    break
                left = deadline - step_started
                late = left <= 0 or (stop is not None and stop())
                whole = [ci for ci, (value, _, _) in heaviest.items() if value >= 1 - 1e-6]
                ranked = sorted(
                    (ci for ci in heaviest if ci not in whole), key=lambda ci: -heaviest[ci][0]
                )
                # one a step while time allows, a few more when the steps so far say it will not;
                # a dive that would have to fix many at once is no better than rounding, and
                # leaves its time to the search (Curtois Instance12: 7,578-8,190 where the
                # sub-solve around the mix found 4,100-4,500)
                steps = max(1.0, left / step_seconds) if step_seconds > 0 else len(ranked)
                count = 0 if whole else max(1, math.ceil(len(ranked) / steps))
                if count > DIVE_MOST_A_STEP and not late:
                    return None
                chosen = list(heaviest) if late else whole + ranked[:count]
                for ci in chosen:
                    _, var, cells = heaviest[ci]
                    var.SetBounds(1, 1)
                    fixed[ci] = cells
                if late:
                    break
                free = [ci for ci in self.clinicians if ci not in fixed]
                for _ in range(DIVE_ROUNDS):
                    if self._solve_master(deadline) is None:
                        return None
                    if not free or time.perf_counter() >= deadline:
                        break
                    prices = {cell: round(SCALE * value) for cell, value in self.duals.items()}
                    _, columns = self._price_all(prices, deadline, workers, free)
                    added = 0
                    for ci, found in columns.items():
                        for cells, cost in found:
                            reduced = (
                                cost - sum(self.duals[c] for c in cells) - self._convexity_dual[ci]
                            )
                            if reduced < -1e-6:
                                added += self.add_column(ci, cells, cost)
                    if not added:
                        break
                if self._solve_master(deadline) is None:
                    return None
                if (
                    not whole
                    and backtracks < DIVE_BACKTRACKS
                    and self.lp.Objective().Value() - before > jump
                ):
                    # this step's rotas cost the LP a jump: back out of them, the rotas barred
                    backtracks += 1
                    for ci in chosen:
                        cells = fixed.pop(ci)
                        self.barred.add((ci, cells))
                        for var, column in self.lambdas[ci]:  # (the master may have been rebuilt)
                            if column == cells:
                                var.SetBounds(0, 0)
                    if self._solve_master(deadline) is None:
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
                    bound, found = self.price(ci, prices, min(PRICING_SECONDS, left))
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
) -> ColumnResult:
    """Column generation for `tier` until `deadline` (perf_counter seconds), then, with
    `dive_deadline`, a dive for a whole rota until then; see the module."""
    generation = ColumnGeneration(problem, rm, tier)
    result = generation.run(deadline, workers, stop, settle=dive_deadline is not None)
    if dive_deadline is not None and result.lp_value is not None:
        result = replace(result, rota=generation.dive(dive_deadline, workers, stop))
    return result
