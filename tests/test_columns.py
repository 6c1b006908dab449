"""Column generation by clinician (scheduler.solver.columns): its bound never exceeds an
optimum, its dive gives rotas the checker accepts, and it applies only where a tier splits by
clinician."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from pathlib import Path

import pytest
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from scheduler.bench.curtois import parse_instance, read_instance, to_problem
from scheduler.checker import check, objective_parts
from scheduler.domain import Assignment, Pin, SolveStatus
from scheduler.solver.columns import SCALE, ColumnGeneration, ColumnTuning, applies, post_penalty
from scheduler.solver.model import build_model
from scheduler.solver.params import SolveParams
from scheduler.solver.solve import solve
from tests import builders as b

DATA = Path(__file__).resolve().parent.parent / "data" / "benchmarks" / "curtois"
TIER = ("cover", "requests")
TUNING = ColumnTuning()


def random_instance(seed: int) -> str:
    """A small Curtois-format instance with every kind of rule and request, drawn from `seed`."""
    rng = random.Random(seed)
    horizon = 14
    shifts = ["E,480,", "D,480,E", "L,600,E|D"][: rng.randint(2, 3)]
    ids = [line.split(",")[0] for line in shifts]
    staff, days_off, on, off = [], [], [], []
    for k in range(rng.randint(3, 5)):
        caps = "|".join(f"{s}={rng.choice([0, 5, 14])}" for s in ids)
        if all(part.endswith("=0") for part in caps.split("|")):
            caps = f"{ids[0]}=14|" + "|".join(f"{s}=0" for s in ids[1:])
        least = rng.choice([0, 2400, 3840])
        staff.append(
            f"N{k},{caps},{rng.choice([4800, 6000, 9999])},{least},"
            f"{rng.randint(3, 6)},{rng.randint(1, 2)},{rng.randint(1, 2)},{rng.randint(1, 2)}"
        )
        days = sorted(rng.sample(range(horizon), rng.randint(0, 2)))
        if days:
            days_off.append(",".join([f"N{k}", *map(str, days)]))
        for _ in range(rng.randint(0, 3)):
            day, shift = rng.randrange(horizon), rng.choice(ids)
            (on if rng.random() < 0.5 else off).append(f"N{k},{day},{shift},{rng.randint(1, 3)}")
    cover = "\n".join(f"{d},{s},{rng.randint(0, 2)},100,1" for d in range(horizon) for s in ids)
    text = (
        f"SECTION_HORIZON\n{horizon}\n\nSECTION_SHIFTS\n"
        + "\n".join(shifts)
        + "\n\nSECTION_STAFF\n"
        + "\n".join(staff)
        + "\n\nSECTION_DAYS_OFF\n"
        + "\n".join(days_off)
        + "\n\nSECTION_SHIFT_ON_REQUESTS\n"
        + "\n".join(on)
        + "\n\nSECTION_SHIFT_OFF_REQUESTS\n"
        + "\n".join(off)
        + f"\n\nSECTION_COVER\n{cover}\n"
    )
    return text


def optimum(problem) -> int | None:
    """The tier's optimum over the whole model, proven by CP-SAT (None: infeasible)."""
    rm = build_model(problem)
    rm.model.minimize(sum(problem.weights.of(p) * rm.parts[p] for p in TIER))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = 60
    status = solver.solve(rm.model)
    if status == cp_model.INFEASIBLE:
        return None
    assert status == cp_model.OPTIMAL
    return round(solver.objective_value)


def drawn(seed: int):
    """A random instance, its proven optimum and column generation set up for it."""
    problem = to_problem(parse_instance(random_instance(seed), f"random{seed}"))
    best = optimum(problem)
    if best is None:
        pytest.skip("drawn infeasible")
    return problem, best, ColumnGeneration(problem, build_model(problem), TIER)


def rota_of(problem, cells_by_clinician) -> tuple[Assignment, ...]:
    return tuple(
        Assignment(problem.sessions[si].session_id, pi, problem.clinicians[ci].clinician_id, False)
        for ci, cells in cells_by_clinician.items()
        for si, pi in cells
    )


def tier_value(problem, rota) -> int:
    parts = objective_parts(problem, rota)
    return sum(problem.weights.of(p) * parts[p] for p in TIER)


def test_post_penalty_is_convex_and_exact_at_its_breakpoints():
    posts = (replace(b.post("nurse", min=1, target=3), under_weight=100, over_weight=1, max=5),)
    problem = b.problem(sessions=[b.session(posts=posts)], clinicians=[b.clinician(role="nurse")])
    problem = replace(problem, weights=replace(problem.weights, unfilled_min=2, cover=3))
    points = post_penalty(problem, ("unfilled_min", "cover"), 0, 0)
    minutes = problem.sessions[0].minutes
    assert points == [(0, 2 * minutes + 3 * 300), (1, 3 * 200), (3, 0), (5, 3 * 2)]
    slopes = [(g1 - g0) / (f1 - f0) for (f0, g0), (f1, g1) in zip(points, points[1:], strict=False)]
    assert slopes == sorted(slopes)


@pytest.mark.parametrize("seed", range(5))
def test_bound_at_any_prices_never_exceeds_the_optimum(seed):
    """The Lagrangian bound holds for every price vector, not just the master's duals."""
    problem, best, generation = drawn(seed)
    rng = random.Random(seed)
    for _ in range(4):
        prices = {cell: rng.randint(-2 * SCALE, 150 * SCALE) for cell in generation.cells}
        scaled, _ = generation.lagrangian(prices, time.perf_counter() + 30)
        assert scaled is not None and scaled <= best * SCALE


@pytest.mark.parametrize("seed", range(5))
def test_generation_bounds_and_dives_to_a_checked_rota(seed):
    problem, best, generation = drawn(seed)
    result = generation.run(time.perf_counter() + 30)
    assert result.bound is not None and result.lp_value is not None
    assert result.bound <= best
    # converged: the bound is next to the LP, which no rota beats either
    assert result.bound >= result.lp_value - TUNING.tail
    assert result.lp_value <= best + 1e-6
    # the mix is a mix of rotas that each work one session a day at most
    per_day: dict[tuple[int, object], float] = {}
    for (ci, si, _), value in result.xbar.items():
        assert 0 < value <= 1 + 1e-9
        key = (ci, problem.sessions[si].date)
        per_day[key] = per_day.get(key, 0.0) + value
    assert all(total <= 1 + 1e-6 for total in per_day.values())
    dived = generation.dive(time.perf_counter() + 30)
    assert dived is not None and set(dived) == set(generation.clinicians)
    rota = rota_of(problem, dived)
    assert check(problem, rota) == []
    assert tier_value(problem, rota) >= best


def lowered_by_one_more_round(generation: ColumnGeneration) -> bool:
    """Whether a round of pricing at the master's duals (rounded to 1/SCALE, as the rounds
    price) adds rotas that lower the master LP."""
    before = generation.lp_value
    prices = {cell: round(SCALE * value) for cell, value in generation.duals.items()}
    for ci in generation.clinicians:
        _, found = generation.price(ci, prices, 10)
        for cells, cost in found:
            generation.add_column(ci, cells, cost)
    after = generation._solve_master(time.perf_counter() + 30)
    return after is not None and after < before - 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_settled_generation_ends_with_the_master_lp_at_its_optimum(seed):
    """With `settle` the rounds go on after the bound has met the LP (within `tail`) until a round
    at the master's duals no longer lowers it, or the bound meets it; they end well before
    their deadline, and no LP of the same rules is lower."""
    uncapped = ColumnTuning(settle_share=1000.0)  # no cap on the settling rounds' time
    problem = to_problem(parse_instance(random_instance(seed), f"random{seed}"))
    plain = ColumnGeneration(problem, build_model(problem), TIER)
    if plain.run(time.perf_counter() + 30).lp_value is None:
        pytest.skip("drawn infeasible")
    settled = ColumnGeneration(problem, build_model(problem), TIER, tuning=uncapped)
    started = time.perf_counter()
    result = settled.run(started + 60, settle=True)
    assert time.perf_counter() - started < 30
    assert result.lp_value is not None and result.lp_value <= plain.lp_value + 1e-6
    assert (
        settled.lagrangian_value >= result.lp_value - uncapped.settled
        or not lowered_by_one_more_round(settled)
    )


def test_instance8_settled_lp_is_lower_than_where_the_bound_met_it():
    """Curtois Instance8: the bound meets the LP's ceiling while rounds would still lower the
    LP. A dive needs the settled LP: from the LP where the bound met it, the dive ends far
    above the optimum."""
    problem = to_problem(read_instance(DATA / "Instance8.txt"))
    plain = ColumnGeneration(problem, build_model(problem), TIER)
    plain.run(time.perf_counter() + 60, workers=2)
    settled = ColumnGeneration(problem, build_model(problem), TIER)
    settled.run(time.perf_counter() + 60, workers=2, settle=True)
    assert plain.best_bound == settled.best_bound == 1297
    assert settled.lp_value < plain.lp_value - 1e-4


@pytest.mark.parametrize(("name", "best"), [("Instance1", 607), ("Instance3", 1001)])
def test_a_dive_backs_out_of_steps_that_raise_the_lp(name, best):
    """With no jump allowed, each step that raises the master LP is undone (up to
    dive_backtracks) and its rotas barred: the dive still gives a whole, checked rota, and
    no barred rota is in it. (These two dives raise the LP at some steps; one pricing thread
    keeps the columns, and so the steps, the same from run to run.)"""
    no_jump = ColumnTuning(dive_jump_share=0.0)
    problem = to_problem(read_instance(DATA / f"{name}.txt"))
    generation = ColumnGeneration(problem, build_model(problem), TIER, tuning=no_jump)
    generation.run(time.perf_counter() + 30, workers=1, settle=True)
    dived = generation.dive(time.perf_counter() + 30, workers=1)
    assert dived is not None and set(dived) == set(generation.clinicians)
    assert 1 <= len(generation.barred) <= no_jump.dive_backtracks
    assert not any((ci, cells) in generation.barred for ci, cells in dived.items())
    rota = rota_of(problem, dived)
    assert check(problem, rota) == []
    assert tier_value(problem, rota) >= best


def test_a_rebuilt_master_keeps_the_dives_fixed_and_barred_rotas():
    """GLOP may be rebuilt from its columns mid-dive (master_seconds): the rotas fixed and
    barred keep their bounds in the new master (a bar set on the old one's variable crashed
    the process)."""
    problem = to_problem(read_instance(DATA / "Instance1.txt"))
    generation = ColumnGeneration(problem, build_model(problem), TIER)
    generation.run(time.perf_counter() + 30, workers=2)
    first, second = generation.clinicians[:2]
    fixed_cells = generation.lambdas[first][0][1]
    barred_cells = generation.lambdas[second][0][1]
    generation.fixed[first] = fixed_cells
    generation.barred.add((second, barred_cells))
    generation._build_master(keep=True)
    bounds = {
        (ci, cells): (var.lb(), var.ub())
        for ci in (first, second)
        for var, cells in generation.lambdas[ci]
    }
    assert bounds[first, fixed_cells] == (1, 1)
    assert bounds[second, barred_cells] == (0, 0)
    assert generation._solve_master(time.perf_counter() + 30) is not None
    assert (
        sum(
            var.solution_value()
            for var, cells in generation.lambdas[second]
            if cells == barred_cells
        )
        == 0
    )


def test_instance1_generation_converges_below_its_optimum():
    problem = to_problem(read_instance(DATA / "Instance1.txt"))
    rm = build_model(problem)
    result = ColumnGeneration(problem, rm, TIER).run(time.perf_counter() + 30, workers=2)
    assert result.lp_value is not None and result.bound is not None
    # 558 here: the Dantzig-Wolfe LP's own optimum, a tenth under the proven 607 (the compact
    # model's LP, scheduler.solver.lp, proves far less on the bigger instances)
    assert result.bound >= result.lp_value - TUNING.tail
    assert 500 <= result.bound <= 607


def test_solve_with_columns_is_checked_and_proven():
    problem = to_problem(read_instance(DATA / "Instance1.txt"))
    result = solve(problem, SolveParams(time_limit=20, workers=2))
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == 607 and result.bound == 607
    assert check(problem, result.rota) == []
    # the parts the objective weighs (the others are never minimised, so their floors have slack)
    assert all(result.solver_parts[p] == result.parts[p] for p in TIER)


def test_applies_only_to_a_first_tier_that_splits_by_clinician():
    problem = to_problem(read_instance(DATA / "Instance1.txt"))
    rm = build_model(problem)
    assert applies(problem, rm, TIER, first=True)
    assert not applies(problem, rm, TIER, first=False)  # tiers held above would bind it
    assert not applies(problem, rm, ("fair_share",), first=True)
    roomy = replace(problem, hubs=tuple(replace(h, rooms=1) for h in problem.hubs))
    assert not applies(
        roomy, build_model(roomy), TIER, first=True
    )  # rooms bind clinicians together
    pin = Pin(problem.sessions[0].session_id, problem.clinicians[0].clinician_id, locked=True)
    pinned = replace(problem, published=(pin,))
    assert not applies(pinned, build_model(pinned), TIER, first=True)
    off = replace(problem, weights=replace(problem.weights, cover=0))
    assert not applies(off, build_model(off), TIER, first=True)
    unweighted = replace(
        problem,
        sessions=tuple(
            replace(s, posts=tuple(replace(p, under_weight=0, over_weight=0) for p in s.posts))
            for s in problem.sessions
        ),
    )
    assert not applies(unweighted, build_model(unweighted), TIER, first=True)  # requests alone
    smaller = ColumnTuning(most_variables=len(rm.variables.x) - 1)
    assert not applies(
        problem, rm, TIER, first=True, tuning=smaller
    )  # too big to build a model per clinician


def test_switched_off_columns_give_the_same_optimum():
    problem = to_problem(parse_instance(random_instance(1), "random1"))
    best = optimum(problem)
    for columns in (True, False):
        result = solve(problem, SolveParams(time_limit=20, workers=2, columns=columns))
        assert result.objective == best
        assert check(problem, result.rota) == []


def test_a_master_solve_is_time_limited_and_solved_anew_when_glop_stops():
    """GLOP once ran for minutes from its last basis in a dive on Instance8: each solve from the
    last basis now has master_seconds, and one that stops is solved again from scratch."""
    problem = to_problem(read_instance(DATA / "Instance2.txt"))
    generation = ColumnGeneration(problem, build_model(problem), TIER)
    result = generation.run(time.perf_counter() + 30, workers=2)
    assert result.lp_value is not None

    class Stopped:  # the warm master, as if GLOP had run out of its time
        def __init__(self, lp):
            self.lp, self.limits = lp, []

        def SetTimeLimit(self, ms):  # noqa: N802 (pywraplp's name)
            self.limits.append(ms)

        def Solve(self):  # noqa: N802
            return pywraplp.Solver.NOT_SOLVED

    stopped = Stopped(generation.lp)
    generation.lp = stopped
    value = generation._solve_master(time.perf_counter() + 30)
    assert stopped.limits == [round(1000 * TUNING.master_seconds)]
    assert generation.lp is not stopped  # built anew from its columns
    assert value == pytest.approx(result.lp_value)
