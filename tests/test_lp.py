"""The LP bound (scheduler.solver.lp) never rises above a model's optimum; the lower tiers of a big
model use it with the practice neighbourhood of scheduler.solver.lns, and the rotas stay right."""

from __future__ import annotations

import math
import random
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from ortools.sat.python import cp_model

import scheduler.solver.solve as solve_module
from scheduler.checker import check, objective_parts
from scheduler.domain import SolveStatus
from scheduler.solver.lns import _pick_practices
from scheduler.solver.lp import Relaxation, read_rows
from scheduler.solver.model import Practices, build_model
from scheduler.solver.params import SolveParams, Tuning
from scheduler.solver.solve import solve
from tests import builders as b


def optimum(model: cp_model.CpModel) -> int | None:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        return None
    assert status == cp_model.OPTIMAL
    return round(solver.objective_value)


def relaxation_bound(model: cp_model.CpModel, seconds: float = 5) -> int | None:
    """The bound a new Relaxation of `model` gives (as the solver's phases take it); None when
    GLOP finds no optimum or there is no objective."""
    solution = Relaxation(model).solve(seconds)
    return None if solution is None else solution.bound


def test_bound_is_the_rounded_up_lp_optimum():
    """min x + y + z with 2x + 3y + 4z ≥ 5: the LP takes z and a third of y (4/3), so 2."""
    m = cp_model.CpModel()
    x, y, z = (m.new_bool_var(n) for n in "xyz")
    m.add(2 * x + 3 * y + 4 * z >= 5)
    m.minimize(x + y + z)
    assert relaxation_bound(m, 5) == 2 == optimum(m)


def test_negated_literals_and_offsets():
    """min 10 − x − y with ¬x ∨ ¬y: at most one of them, so 9."""
    m = cp_model.CpModel()
    x, y = m.new_bool_var("x"), m.new_bool_var("y")
    m.add_bool_or([~x, ~y])
    m.minimize(10 - x - y)
    assert relaxation_bound(m, 5) == 9 == optimum(m)


def test_a_relaxation_takes_in_what_the_model_gains():
    """Solved again after a new row, a new variable and a new objective, the relaxation gives
    what a fresh one gives."""
    m = cp_model.CpModel()
    x, y, z = (m.new_bool_var(n) for n in "xyz")
    m.add(2 * x + 3 * y + 4 * z >= 5)
    m.minimize(x + y + z)
    relaxation = Relaxation(m)
    assert relaxation.solve(5).bound == 2
    w = m.new_int_var(0, 3, "w")
    m.add(w + z <= 1)  # z off unless w is 0
    m.add(w >= 1)
    m.minimize(x + 2 * y + z + w)
    again = relaxation.solve(5)
    assert again.bound == relaxation_bound(m, 5) == optimum(m) == 4  # x, y on; z off; w 1
    assert len(again.values) == 4


def test_no_objective_gives_no_bound():
    m = cp_model.CpModel()
    m.new_bool_var("x")
    assert relaxation_bound(m, 5) is None


def literal(rng: random.Random, xs: list) -> object:
    return rng.choice(xs) if rng.random() < 0.6 else ~rng.choice(xs)


def _random_rows(rng: random.Random, most: int):
    """A model of 8 Booleans and 3 integers in 0..5 with 1 to `most` random rows of four terms,
    a fifth of them enforced by a literal."""
    m = cp_model.CpModel()
    xs = [m.new_bool_var(f"x{i}") for i in range(8)]
    ints = [m.new_int_var(0, 5, f"n{i}") for i in range(3)]
    for _ in range(rng.randint(1, most)):
        terms = rng.sample(xs + ints, 4)
        ct = m.add(sum(rng.randint(-3, 4) * t for t in terms) >= rng.randint(-2, 6))
        if rng.random() < 0.2:
            ct.only_enforce_if(rng.choice(xs))
    return m, xs, ints


@pytest.mark.parametrize("seed", range(6))
def test_bound_never_exceeds_the_optimum_of_random_models(seed):
    """Linear rows (some enforced, some with huge coefficients, which the LP sets aside),
    at-most-ones, exactly-ones and clauses over negated and plain literals."""
    rng = random.Random(seed)
    checked = 0
    for _ in range(25):
        m, xs, ints = _random_rows(rng, 5)
        if rng.random() < 0.3:
            m.add(2_000_000 * xs[0] + ints[0] <= 1_000_000 + rng.randint(0, 5))
        m.add_at_most_one(rng.sample(xs, 3))
        m.add_bool_or([literal(rng, xs) for _ in range(3)])
        if rng.random() < 0.5:
            m.add_exactly_one([literal(rng, xs) for _ in range(2)])
        m.minimize(sum(rng.randint(-4, 6) * v for v in xs + ints) + rng.randint(-5, 5))
        best = optimum(m)
        if best is None:
            continue
        bound = relaxation_bound(m, 5)
        assert bound is not None and bound <= best
        checked += 1
    assert checked >= 10


def test_the_presolved_bound_sees_whole_sessions():
    """At least 500 minutes from two evenings (90 each, 1 apiece) and a Saturday (480, 10):
    the LP takes both evenings and two thirds of the Saturday (8.67, so 9); the integer program
    needs the Saturday and an evening, 11, which HiGHS's presolve sees (the Saturday's
    coefficient cut to what the evenings leave), and so the bound from its LP."""
    m = cp_model.CpModel()
    first, second, saturday = (m.new_bool_var(n) for n in ("first", "second", "saturday"))
    m.add(90 * first + 90 * second + 480 * saturday >= 500)
    m.minimize(first + second + 10 * saturday)
    relaxation = Relaxation(m, keep_rows=True)
    assert relaxation.solve(5).bound == 9
    assert relaxation.presolved_bound(5) == 11 == optimum(m)


def test_the_presolved_bound_needs_the_rows_kept():
    m = cp_model.CpModel()
    x = m.new_bool_var("x")
    m.minimize(x)
    relaxation = Relaxation(m)
    relaxation.solve(5)
    assert relaxation.presolved_bound(5) is None


@pytest.mark.parametrize("seed", range(6))
def test_the_presolved_bound_never_exceeds_the_optimum_of_random_models(seed):
    """As the LP's bound above, and never below it by more than GLOP's tolerance; where the
    model has no solution the bound is anything or None."""
    rng = random.Random(100 + seed)
    checked = 0
    for _ in range(25):
        m, xs, ints = _random_rows(rng, 6)
        m.add_at_most_one(rng.sample(xs, 3))
        m.add_bool_or([literal(rng, xs) for _ in range(3)])
        m.add(sum(rng.choice((90, 480)) * x for x in xs[:5]) >= rng.choice((480, 570, 660, 960)))
        m.minimize(sum(rng.randint(-4, 6) * v for v in xs + ints) + rng.randint(-5, 5))
        best = optimum(m)
        if best is None:
            continue
        relaxation = Relaxation(m, keep_rows=True)
        plain = relaxation.solve(5)
        tighter = relaxation.presolved_bound(5)
        assert plain is not None and tighter is not None
        assert plain.bound - 1 <= tighter <= best
        checked += 1
    assert checked >= 10


def test_scaled_fair_share_rows_keep_the_optimum():
    """The restated deviations (minutes as one variable per practice) are the same rule: three
    equal practices on four evenings still have 119,880 as their best (see test_bounds), and
    the LP of the scaled model bounds it without rising above it."""
    practices = [b.practice(code, 10_000) for code in ("P1", "P2", "P3")]
    clinicians = [b.clinician(f"C{i}{j}", practice_code=f"P{i}") for i in (1, 2, 3) for j in (1, 2)]
    days = [b.MONDAY + timedelta(days=k) for k in range(4)]
    p = b.problem(clinicians=clinicians, practices=practices, sessions=[b.evening(d) for d in days])
    rm = build_model(p)
    rm.model.add(rm.parts["unfilled_min"] == 0)
    rm.objective.scale_fair_share()
    rm.objective.scale_fair_share()  # a second call adds nothing
    assert len(rm.objective.practices) == 3
    rm.model.minimize(rm.parts["fair_share"])
    assert optimum(rm.model) == 119_880
    assert 0 <= relaxation_bound(rm.model, 5) <= 119_880
    groups = rm.objective.practice_groups()
    assert groups is not None and sorted(map(len, groups.members)) == [2, 2, 2]


def test_practices_are_drawn_from_both_sides_of_their_share():
    practices = Practices(
        members=[[0], [1], [2], [3]],
        minutes=[0, 1, 2, 3],
        weights=[1, 1, 1, 1],
        total=4,
        total_weight=4,
    )
    values = [180, 0, 90, 90, 360]  # 4·minutes − 360: +360, −360, 0, 0
    assert practices.gaps(values) == [360, -360, 0, 0]
    rng = random.Random(1)
    for _ in range(20):
        picked = _pick_practices(rng, practices, values, 2)
        assert len(picked) == len(set(picked)) == 2
        assert set(picked) == {0, 1}  # the only practice above and the only one below


def test_practices_unaimed_are_drawn_evenly():
    """Below the fair-share phase (fair share held) any practices may trade among their own
    clinicians: the draw ignores the gaps, so practices at their share are drawn too."""
    practices = Practices(
        members=[[0], [1], [2], [3]],
        minutes=[0, 1, 2, 3],
        weights=[1, 1, 1, 1],
        total=4,
        total_weight=4,
        aim=False,
    )
    values = [180, 0, 90, 90, 360]
    rng = random.Random(1)
    drawn = [_pick_practices(rng, practices, values, 2) for _ in range(60)]
    assert all(len(picked) == len(set(picked)) == 2 for picked in drawn)
    assert {p for picked in drawn for p in picked} == {0, 1, 2, 3}


def test_practices_are_paired_with_those_they_can_trade_with():
    """A practice below its share is drawn beside one above it only if their clinicians can
    take each other's sessions (Practices.overlap): P3, as far below as P2, shares no session
    with P1 and is never drawn with it."""
    practices = Practices(
        members=[[0], [1], [2]],
        minutes=[0, 1, 2],
        weights=[1, 1, 1],
        total=3,
        total_weight=3,
        overlap=[[0.0, 4.0, 0.0], [4.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
    )
    values = [270, 0, 0, 270]  # 3·minutes − 270: +540, −270, −270
    assert practices.gaps(values) == [540, -270, -270]
    rng = random.Random(0)
    assert all(set(_pick_practices(rng, practices, values, 2)) == {0, 1} for _ in range(30))


def test_practice_overlap_counts_the_sessions_their_clinicians_share():
    """Clinicians limited to different hubs share no session: their practices' overlap is 0;
    two practices whose clinicians may both work hub H1 have a positive one."""
    practices = [b.practice(code, 10_000) for code in ("P1", "P2", "P3")]
    clinicians = [
        b.clinician("C1", practice_code="P1", hubs=("H1",)),
        b.clinician("C2", practice_code="P2", hubs=("H1",)),
        b.clinician("C3", practice_code="P3", hubs=("H2",)),
    ]
    sessions = [
        b.evening(b.MONDAY + timedelta(days=k), hub) for k in range(2) for hub in ("H1", "H2")
    ]
    p = b.problem(
        clinicians=clinicians,
        practices=practices,
        sessions=sessions,
        hubs=[b.hub("H1"), b.hub("H2")],
    )
    rm = build_model(p)
    rm.objective.scale_fair_share()
    groups = rm.objective.practice_groups()
    assert groups is not None and groups.overlap is not None
    index = {tuple(members): k for k, members in enumerate(groups.members)}
    one, two, three = (index[(ci,)] for ci in range(3))
    assert groups.overlap[one][two] == groups.overlap[two][one] == 2.0  # both Monday and Tuesday
    assert groups.overlap[one][three] == groups.overlap[two][three] == 0.0
    assert groups.overlap[one][one] == 0.0


def test_lp_targets_aim_the_practices_at_a_share_the_rules_allow():
    """Where the LP's minutes are known, a practice is above or below those, not its fair
    share: one already at its LP minutes is not drawn however far from its share it is."""
    practices = Practices(
        members=[[0], [1], [2]],
        minutes=[0, 1, 2],
        weights=[1, 1, 1],
        total=3,
        total_weight=3,
        targets=[90.0, 180.0, 0.0],
    )
    values = [180, 90, 0, 270]
    assert practices.gaps(values) == [90, -90, 0]
    rng = random.Random(0)
    assert all(set(_pick_practices(rng, practices, values, 2)) == {0, 1} for _ in range(20))


def _two_practices_fair_share_model():
    """Two evenings, two equal practices with a GP each: fair share minimised."""
    practices = [b.practice(code, 10_000) for code in ("P1", "P2")]
    clinicians = [b.clinician(f"C{i}", practice_code=f"P{i}") for i in (1, 2)]
    p = b.problem(
        clinicians=clinicians,
        practices=practices,
        sessions=[b.evening(b.MONDAY + timedelta(days=k)) for k in range(2)],
    )
    rm = build_model(p)
    rm.model.add(rm.parts["unfilled_min"] == 0)
    rm.objective.scale_fair_share()
    rm.model.minimize(rm.parts["fair_share"])
    return rm


def test_lp_relaxation_gives_the_practices_minutes():
    rm = _two_practices_fair_share_model()
    relaxed = Relaxation(rm.model).solve(5)
    assert relaxed is not None and relaxed.bound == 0 == optimum(rm.model)  # one evening each
    groups = rm.objective.practice_groups(relaxed.values)
    assert groups is not None and groups.targets == pytest.approx([90.0, 90.0])


def test_the_lp_beside_the_search_aims_the_practices_once_solved():
    rm = _two_practices_fair_share_model()
    groups = rm.objective.practice_groups()
    assert groups is not None and groups.targets is None  # aimed at the fair shares until then
    beside = solve_module._Alongside(Relaxation(rm.model), 5)
    beside.aim(groups)
    assert beside.result() == 0
    assert groups.targets == pytest.approx([90.0, 90.0])


def test_a_held_rota_is_completed_with_its_penalties_at_their_least():
    """The rota from the tier above, whose penalty variables a search left anywhere above their
    floors, becomes a whole solution of the phase's model: the same assignments, every other
    variable at its best for them (the phase's objective is then the rota's own value)."""
    rm = _two_gps_cost_model()
    even = rm.parts["even_load"]
    rm.model.maximize(rm.parts["cost"] + even)  # the dear GP every evening, penalties at their top
    held_solver = cp_model.CpSolver()
    assert held_solver.solve(rm.model) == cp_model.OPTIMAL
    held = list(held_solver.response_proto.solution)
    assert (
        held_solver.value(even) == 6 + 1
    )  # the dear GP's 4 evenings: 6; the cheap one's 0: 0, not 1
    rm.model.minimize(even)
    solver = cp_model.CpSolver()
    assert solve_module._complete(solver, rm, held, 5) is SolveStatus.FEASIBLE
    completed = list(solver.response_proto.solution)
    assert all(completed[var.index] == held[var.index] for var in rm.variables.x.values())
    assert round(solver.objective_value) == 6
    assert not solver.parameters.fix_variables_to_their_hinted_value  # left as it was


def _three_practices_problem():
    """Three practices of unequal list sizes, two GPs and a nurse each, ten evenings of a GP post
    and an optional nurse post: their fair shares cannot all be met."""
    practices = [
        b.practice(code, size) for code, size in (("P1", 4_000), ("P2", 9_000), ("P3", 6_000))
    ]
    clinicians = [
        b.clinician(f"C{i}{j}", role=role, practice_code=f"P{i}")
        for i in (1, 2, 3)
        for j, role in enumerate(("GP", "GP", "Nurse"))
    ]
    days = [b.MONDAY + timedelta(days=k) for k in range(10)]
    sessions = [b.evening(d, "H1", b.post("GP"), b.post("Nurse", min=0, target=1)) for d in days]
    return b.problem(clinicians=clinicians, practices=practices, sessions=sessions)


def _counted(monkeypatch, name: str) -> list:
    """Every instance of scheduler.solver.solve's class `name` made from now on, in a list."""
    made = []
    base = getattr(solve_module, name)

    class Counted(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(solve_module, name, Counted)
    return made


def _checked_solve(p, tuning: Tuning | None = None):
    """Solved by the specialised phases, whose mechanisms these tests follow, in 20 s on 2
    workers (with `tuning`): the rota breaks no rule, its parts are the checker's and no
    phase's bound is above its value."""
    params = SolveParams(
        time_limit=20, workers=2, tuning=tuning or Tuning(), strategy="specialised"
    )
    result = solve(p, params)
    assert check(p, result.rota) == []
    assert result.parts == objective_parts(p, result.rota)
    for phase in result.phases:
        assert phase.bound <= phase.value
    return result


def test_a_big_model_path_gives_checked_rotas(monkeypatch):
    """With the size threshold at 0, a small problem takes the path of a federation: the LP
    bounds and cuts the lower tiers and the fair-share phase hands over to the practice
    neighbourhood early. The rota breaks no rule, its parts are the checker's, and every bound
    is at most its value."""
    result = _checked_solve(_three_practices_problem(), Tuning(presolve_always=0))
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert result.bound <= result.objective
    fair = next(ph for ph in result.phases if ph.tier == ("fair_share",))
    assert fair.bound > 0  # the LP proves a positive floor: the shares cannot be met exactly


def test_fair_share_has_its_lp_beside_the_search_on_a_model_of_any_size(monkeypatch):
    """On a model past LP_MOST_VARIABLES (the ics) fair share still solves its LP beside the
    search, for its bound and to aim the practices; the phases around it do without. Here a
    small problem is made to count as one: its rota is the checker's and every bound holds."""
    made = _counted(monkeypatch, "_Alongside")
    tuning = Tuning(presolve_always=0, lp_most_variables=0)
    result = _checked_solve(_three_practices_problem(), tuning)
    assert len(made) == 1 and made[0].bound is not None  # fair share's, and GLOP solved it
    fair = next(ph for ph in result.phases if ph.tier == ("fair_share",))
    assert fair.bound >= made[0].bound > 0


def _two_gps_cost_model():
    """Four evenings, a dear GP and a cheap one who may work two: cost minimised."""
    clinicians = [
        b.clinician("DEAR", cost_per_hour_pence=11_000, max_sessions_per_week=4),
        b.clinician("CHEAP", cost_per_hour_pence=9_000, max_sessions_per_week=2),
    ]
    p = b.problem(
        clinicians=clinicians, sessions=[b.evening(b.MONDAY + timedelta(days=k)) for k in range(4)]
    )
    rm = build_model(p)
    rm.model.add(rm.parts["unfilled_min"] == 0)
    rm.model.minimize(rm.parts["cost"])
    return rm


def test_the_lp_solved_beside_the_search_gives_the_same_bound():
    rm = _two_gps_cost_model()
    alone = Relaxation(rm.model).solve(5)
    beside = solve_module._Alongside(Relaxation(rm.model), 5)
    assert alone is not None and beside.result() == alone.bound == optimum(rm.model)


def test_the_lp_beside_the_search_takes_the_presolved_bound_when_tighter():
    """GLOP's own bound first (done, for the practices' aim), then the presolved one."""
    m = cp_model.CpModel()
    first, second, saturday = (m.new_bool_var(n) for n in ("first", "second", "saturday"))
    m.add(90 * first + 90 * second + 480 * saturday >= 500)
    m.minimize(first + second + 10 * saturday)
    relaxation = Relaxation(m, keep_rows=True)
    relaxation.load()
    beside = solve_module._Alongside(relaxation, 5, presolved=True)
    assert beside.result() == 11 == optimum(m)
    assert beside.done.is_set() and beside.values is not None
    assert relaxation.rows is None  # let go once used


def test_lp_rins_moves_what_the_lp_disagrees_on_and_keeps_the_rest():
    """Cost: the dear GP works every evening in the rota from above, the LP puts the cheap one
    there. The neighbourhood frees the assignments on which they disagree and finds the cheap
    rota; the sessions both leave to the cheap GP's colleague stay as they were."""
    clinicians = [
        b.clinician("DEAR", cost_per_hour_pence=11_000, max_sessions_per_week=4),
        b.clinician("CHEAP", cost_per_hour_pence=9_000, max_sessions_per_week=4),
        b.clinician("ONLY", role="Nurse", cost_per_hour_pence=4_000, max_sessions_per_week=4),
    ]
    days = [b.MONDAY + timedelta(days=k) for k in range(4)]
    p = b.problem(
        clinicians=clinicians,
        sessions=[b.evening(d, "H1", b.post("GP"), b.post("Nurse")) for d in days],
    )
    rm = build_model(p)
    cost = rm.parts["cost"]
    rm.model.add(rm.parts["unfilled_min"] == 0)
    rm.model.minimize(-cost)  # the dearest rota, as a rota held from a tier above might be
    worst = cp_model.CpSolver()
    assert worst.solve(rm.model) == cp_model.OPTIMAL
    values = list(worst.response_proto.solution)
    rm.model.minimize(cost)
    relaxed = Relaxation(rm.model).solve(5)
    assert relaxed is not None
    found = solve_module._lp_rins(rm, cost, relaxed.values, values, 5, SolveParams(workers=1))
    assert found is not None
    assert solve_module._objective_value(rm.model, found) == relaxed.bound == optimum(rm.model)
    for (ci, _, _), var in rm.variables.x.items():
        if p.clinicians[ci].clinician_id == "ONLY":
            assert found[var.index] == values[var.index] == 1
    assert solve_module._lp_rins(rm, cost, relaxed.values, found, 5, SolveParams(workers=1)) is None


def test_time_goes_to_the_tiers_that_weigh_most():
    p = b.problem()
    tiers = [("fair_share",), ("even_load",), ("preferences",), ("cost",)]
    parts = {"fair_share": 100_000_000, "even_load": 12_000, "preferences": 900, "cost": 22_700_000}
    assert solve_module._phase_share(p, tiers, None) == 0.25  # no rota yet: an even split
    share = solve_module._phase_share(p, tiers, parts)
    assert share == Tuning().max_stake_share
    # a model too big for GLOP (the ics) has a cap of its own
    assert solve_module._phase_share(p, tiers, parts, big=True) == Tuning().max_stake_share_big
    assert solve_module._phase_share(p, tiers[1:], parts) == Tuning().min_stake_share
    assert (
        solve_module._phase_share(p, tiers[1:3], {"even_load": 3, "preferences": 1}) == 0.5
    )  # capped
    assert (
        solve_module._phase_share(p, tiers[1:], {"even_load": 2, "preferences": 1, "cost": 7})
        == 0.2
    )
    assert solve_module._phase_share(p, tiers[3:], parts) == 1.0
    assert solve_module._phase_share(p, tiers[1:3], {}) == 0.5  # nothing to gain: an even split


def test_on_the_largest_models_the_tiers_that_fill_posts_get_a_share_of_their_own():
    """Unfilled target weighs little beside fair share, but on a model too big for GLOP (the
    ics) its phase still gets FILL_SHARE_BIG of the time left, so that it can be proven; on
    smaller models, and for the other light tiers, MIN_STAKE_SHARE."""
    p = b.problem()
    tiers = [("unfilled_target",), ("fair_share",), ("cost",)]
    parts = {"unfilled_target": 27_300, "fair_share": 570_000_000, "cost": 118_000_000}
    assert solve_module._phase_share(p, tiers, parts) == Tuning().min_stake_share
    assert solve_module._phase_share(p, tiers, parts, big=True) == Tuning().fill_share_big
    contract = [("contract",), *tiers]
    assert (
        solve_module._phase_share(p, contract, {**parts, "contract": 6_000}, big=True)
        == Tuning().min_stake_share
    )


def test_a_phase_near_its_bound_stops():
    monitor = solve_module.Monitor(cp_model.CpSolver(), None, None, floor=1_000_000)
    monitor.improved(1_000_200, 0)
    assert not monitor.near
    monitor.improved(1_000_050, 0)  # within PHASE_GAP of the floor proven before
    assert monitor.near
    assert solve_module._near(100, 100) and not solve_module._near(101, 100)


def test_a_numerical_failure_is_solved_again_from_scratch():
    """GLOP warm-started from the basis of the phases before can fail (ABNORMAL) on an LP it
    solves from scratch; the relaxation then tries once more in a new GLOP."""
    from ortools.linear_solver import pywraplp

    class Failing:  # the first Solve fails as GLOP's did on a federation's cost phase
        def __init__(self, lp):
            self.__dict__["lp"] = lp

        def __getattr__(self, name):
            return getattr(self.lp, name)

        def Solve(self, *args):
            return pywraplp.Solver.ABNORMAL

    rm = _two_gps_cost_model()
    relaxation = Relaxation(rm.model)
    relaxation.lp = Failing(relaxation.lp)
    solved = relaxation.solve(5)
    assert solved is not None and solved.bound == optimum(rm.model)
    relaxation.lp = Failing(relaxation.lp)
    assert relaxation.solve(5, again=False) is None  # no optimum, no bound


def _slow_lp_model():
    """An LP that takes GLOP about 6 s on this machine."""
    model, rng = cp_model.CpModel(), random.Random(0)
    xs = [model.new_int_var(0, 10, "") for _ in range(3000)]
    for _ in range(2000):
        model.add(sum(rng.randint(1, 9) * xs[i] for i in rng.sample(range(3000), 20)) >= 10)
    model.minimize(sum(rng.randint(1, 99) * x for x in xs))
    return model


def test_an_interrupt_just_before_glop_starts_is_not_lost():
    """GLOP forgets an InterruptSolve made before its Solve begins. Here the interrupt comes in
    that window (from another thread, while the time limit is being set): it is repeated until
    GLOP has started and stopped."""
    import threading
    import time

    relaxation = Relaxation(_slow_lp_model())

    class Late:  # GLOP, with an interrupt arriving between the last check and Solve
        def __init__(self, lp):
            self._lp = lp

        def __getattr__(self, name):
            return getattr(self._lp, name)

        def SetTimeLimit(self, ms):  # noqa: N802 (pywraplp's name)
            threading.Thread(target=relaxation.interrupt, daemon=True).start()
            time.sleep(0.05)
            self._lp.SetTimeLimit(ms)

    relaxation._sync()
    relaxation.lp = Late(relaxation.lp)
    started = time.perf_counter()
    assert relaxation.solve(30) is None
    assert time.perf_counter() - started < 4


def test_an_lp_beside_a_cancelled_search_is_interrupted():
    """A cancelled run does not wait for GLOP."""
    import time

    relaxation = Relaxation(_slow_lp_model())
    started = time.perf_counter()
    beside = solve_module._Alongside(relaxation, 30)
    time.sleep(0.5)
    relaxation.interrupt()
    assert beside.result() is None  # no bound from an interrupted solve, and no retry
    assert time.perf_counter() - started < 4


def test_the_phases_leave_time_for_a_big_search_to_stop():
    """The phases plan within the time limit less a reserve that grows with the model: about
    5 s of 300 for the ics's 176,000 variables, next to nothing for a small model."""
    params = SolveParams(time_limit=300)
    assert 294 < solve_module._time_left(params, 0.0, 176_000) < 296
    assert (
        solve_module._time_left(params, 10.0, 176_000)
        == solve_module._time_left(params, 0.0, 176_000) - 10
    )
    assert solve_module._time_left(params, 0.0, 500) > 299.9


def test_a_light_tier_still_gets_time_to_prove_itself():
    """A tier that weighs little gets MIN_STAKE_SHARE of what is left, but at least
    MIN_PHASE_SECONDS where that much is left (the pcn's preferences had 0.6 s, too short to
    prove 41 against 40)."""
    least = Tuning().min_stake_share
    assert solve_module._budget(5.8, least) == Tuning().min_phase_seconds
    assert solve_module._budget(100, least) == 10
    assert solve_module._budget(1.0, least) == 1.0  # no more than is left
    assert solve_module._budget(60, 0.5) == 30


def _dual_bound(model, objective, holds, seconds=10.0):
    from scheduler.solver.lp import DualBound

    dual = DualBound(model, objective, holds, seconds)
    assert dual.done.wait(seconds + 5)
    return dual


def _with_holds(model, objective, holds):
    clone = model.clone()
    for expression, value in holds:
        clone.add(expression <= value)
    clone.minimize(objective)
    return clone


def test_a_dual_bound_at_its_own_values_is_the_lp_optimum():
    """min x + y + z with 2x + 3y + 4z ≥ 5 and y + z ≤ 1 (the held row): the LP takes z and
    half of x, 1.5, so 2; held at y + z ≤ 0 instead, its prices still give a valid bound."""
    m = cp_model.CpModel()
    x, y, z = (m.new_bool_var(n) for n in "xyz")
    m.add(2 * x + 3 * y + 4 * z >= 5)
    dual = _dual_bound(m, x + y + z, [(y + z, 1)])
    assert dual.bound([1]) == 2 == relaxation_bound(_with_holds(m, x + y + z, [(y + z, 1)]), 5)
    # with y + z ≤ 0 the model is infeasible (2x ≤ 2 < 5): any bound is valid; it must not fall
    assert dual.bound([0]) >= dual.bound([1])
    assert dual._model is None  # the clone is let go once solved


def test_a_dual_bound_held_near_the_final_value_prices_the_held_row():
    """min a with a + b ≥ 10 and the held b ≤ h: held loosely (h = 10) the LP puts b at 10, the
    held row is slack and has no price, and its prices give 0 at h = 4; held at h = 5 they give
    6 at h = 4, the optimum there (why cost's second LP, held at the swapped rota's values,
    bounds cost more tightly than the first, held where fair share started)."""
    m = cp_model.CpModel()
    a, b = m.new_int_var(0, 10, "a"), m.new_int_var(0, 10, "b")
    m.add(a + b >= 10)
    assert _dual_bound(m, a, [(b, 10)]).bound([4]) == 0
    near = _dual_bound(m, a, [(b, 5)])
    assert near.bound([4]) == 6 == optimum(_with_holds(m, a, [(b, 4)]))
    assert near.bound([10]) <= optimum(_with_holds(m, a, [(b, 10)]))  # valid at any hold


def test_a_dual_bound_counts_the_held_expressions_constant():
    """The held expression 10 − x − y ≤ v is written as −x − y ≤ v − 10: moving v moves the row."""
    m = cp_model.CpModel()
    x, y, w = m.new_bool_var("x"), m.new_bool_var("y"), m.new_int_var(0, 4, "w")
    m.add(w + x + y >= 2)
    held = 10 - x - y
    dual = _dual_bound(m, 3 * w - x, [(held, 10)])
    for value in (10, 9, 8):
        assert dual.bound([value]) <= optimum(_with_holds(m, 3 * w - x, [(held, value)]))
    assert dual.bound([10]) == relaxation_bound(_with_holds(m, 3 * w - x, [(held, 10)]), 5)


@pytest.mark.parametrize("seed", range(4))
def test_a_dual_bound_never_exceeds_the_optimum_with_tighter_holds(seed):
    """Random models, the prices of an LP with a loose hold taken at tighter holds: never above
    the optimum of the model held there, nor above the LP solved there (weak duality)."""
    rng = random.Random(seed)
    checked = 0
    for _ in range(12):
        m, xs, ints = _random_rows(rng, 4)
        m.add_at_most_one(rng.sample(xs, 3))
        held = sum(rng.randint(0, 3) * v for v in xs + ints) + rng.randint(0, 4)
        objective = sum(rng.randint(-2, 6) * v for v in xs + ints)
        loose = optimum(_with_holds(m, held, []))
        if loose is None:
            continue
        loose += rng.randint(4, 12)
        dual = _dual_bound(m, objective, [(held, loose)])
        for value in range(loose, loose - 8, -2):
            best = optimum(_with_holds(m, objective, [(held, value)]))
            if best is None or dual.bound([value]) is None:
                continue
            assert dual.bound([value]) <= best
            assert dual.bound([value]) <= _dual_bound(m, objective, [(held, value)]).bound([value])
            checked += 1
    assert checked >= 10


def test_cost_is_bounded_by_prices_solved_while_fair_share_searches(monkeypatch):
    """A model past DUAL_BOUND_VARIABLES (the ics) starts cost's LP as fair share starts and
    takes its prices at the values held when cost starts. Here a small problem is made to count
    as one: the LP is solved, its bound is cost's, and the rota is still the checker's."""
    made = _counted(monkeypatch, "DualBound")
    p = _three_practices_problem()
    result = _checked_solve(
        replace(
            p,
            clinicians=tuple(
                replace(c, cost_per_hour_pence=4_000 + 1_000 * k)
                for k, c in enumerate(p.clinicians)
            ),
        ),
        Tuning(presolve_always=0, lp_most_variables=0, dual_bound_variables=0),
    )
    assert len(made) == 1 and made[0].prices is not None
    held = {ph.tier: ph.value for ph in result.phases}
    tiers = [
        t for t in held if solve_module.GOALS.index(t) >= solve_module.GOALS.index(("fair_share",))
    ]
    assert tiers[-1] == ("cost",)
    lp = made[0].bound([held[t] for t in tiers[:-1]])
    assert lp is not None and lp > 0
    assert held[("cost",)] >= next(ph.bound for ph in result.phases if ph.tier == ("cost",)) >= lp


def test_a_dual_bound_without_time_or_with_a_failure_gives_none(monkeypatch, caplog):
    """No time to solve, or an LP that cannot be built: no bound (the phase keeps CP-SAT's),
    and no traceback but a warning in the log."""
    from scheduler.solver.lp import DualBound

    m = cp_model.CpModel()
    x, y = m.new_bool_var("x"), m.new_bool_var("y")
    m.add(x + y >= 1)
    assert _dual_bound(m, x + y, [(x, 1)], seconds=0.0).bound([1]) is None

    def broken(self):
        raise ValueError("a row it cannot read")

    monkeypatch.setattr(DualBound, "_build", broken)
    assert _dual_bound(m, x + y, [(x, 1)]).bound([1]) is None
    assert "no LP prices" in caplog.text


def _as_ics(dual_bound: bool = True, **more) -> Tuning:
    """The tuning that makes small problems take the ics's path: GLOP beside the phases, swaps
    and network parts, and (with `dual_bound`) cost's bound from prices solved early."""
    tuning = Tuning(presolve_always=0, lp_most_variables=0, decompose_variables=0, **more)
    return replace(tuning, dual_bound_variables=0) if dual_bound else tuning


def _around_swaps(monkeypatch, before=None, after=None) -> None:
    """Fair share's swaps as they are, with `before()` called as they start and
    `after(rota, swapped)` as they end."""
    swaps = solve_module.fair_share_swaps

    def recorded(problem, rota, *args, **kwargs):
        if before is not None:
            before()
        out = swaps(problem, rota, *args, **kwargs)
        if after is not None:
            after(rota, out)
        return out

    monkeypatch.setattr(solve_module, "fair_share_swaps", recorded)


def _held_by(dual, held: dict) -> list[int]:
    """The values finally held of the tiers a cost LP holds: those from fair share's down to
    cost's."""
    above = [t for t in held if t != ("cost",)]
    return [held[t] for t in above[len(above) - len(dual._hold_values) :]]


def test_cost_is_bounded_again_from_the_swapped_rota(monkeypatch):
    """On the ics's path (swaps first in fair share's phase), cost's LP is started a second time
    once the swaps have moved posts, with the tiers held at the swapped rota's values; the cost
    phase's bound is at least what either LP's prices give at the values finally held."""
    made = _counted(monkeypatch, "DualBound")
    swapped = []
    _around_swaps(monkeypatch, after=lambda rota, out: swapped.append(out != tuple(sorted(rota))))
    p = _three_practices_problem()
    result = _checked_solve(
        replace(
            p,
            clinicians=tuple(
                replace(c, cost_per_hour_pence=4_000 + 1_000 * k)
                for k, c in enumerate(p.clinicians)
            ),
        ),
        _as_ics(),
    )
    assert swapped[0] is True and len(swapped) == 2  # fair share's swaps; then cost's closing ones
    assert len(made) == 2 and all(d.prices is not None for d in made)
    held = {ph.tier: ph.value for ph in result.phases}
    cost = next(ph.bound for ph in result.phases if ph.tier == ("cost",))
    for dual in made:
        lp = dual.bound(_held_by(dual, held))
        assert lp is not None and held[("cost",)] >= cost >= lp


def test_fair_shares_lp_starts_before_its_swaps(monkeypatch):
    """On the ics's path GLOP solves fair share's LP beside the swaps (one LP for the phase,
    begun before them), and the phase's bound is at least its bound."""
    made = _counted(monkeypatch, "_Alongside")
    seen = []
    _around_swaps(monkeypatch, before=lambda: seen.append(len(made)))  # LPs under way by then
    result = _checked_solve(_three_practices_problem(), _as_ics(dual_bound=False))
    assert seen == [1]
    fair = next(ph for ph in result.phases if ph.tier == ("fair_share",))
    first = made[0]
    assert first.done.is_set() and first.bound is not None
    assert fair.value >= fair.bound >= first.bound


def test_cost_lp_not_solved_by_costs_start_is_taken_at_its_end(monkeypatch):
    """On the ics's path the cost LP begun as fair share starts has the rest of the solve: one
    not yet solved when the cost phase starts (its first answer None here) is asked again at
    the phase's end, and the phase's bound is at least what its prices give."""
    made, asked = [], []

    class Late(solve_module.DualBound):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

        def bound(self, values, wait=0.0):
            asked.append(self)
            if len(made) and self is made[0] and asked.count(self) == 1:
                return None  # as if HiGHS were still solving when the cost phase starts
            return super().bound(values, wait)

    monkeypatch.setattr(solve_module, "DualBound", Late)
    p = _three_practices_problem()
    result = _checked_solve(
        replace(
            p,
            clinicians=tuple(
                replace(c, cost_per_hour_pence=4_000 + 1_000 * k)
                for k, c in enumerate(p.clinicians)
            ),
        ),
        _as_ics(),
    )
    first = made[0]
    assert asked.count(first) == 2
    held = {ph.tier: ph.value for ph in result.phases}
    cost = next(ph.bound for ph in result.phases if ph.tier == ("cost",))
    lp = super(Late, first).bound(_held_by(first, held), 5.0)
    assert lp is not None and held[("cost",)] >= cost >= lp


def test_read_rows_takes_the_relaxation_the_module_describes():
    """Terms of one variable summed, negated literals as 1 − v, enforced rows and rows with
    huge coefficients left out, far sides infinite; the clauses only when asked for."""
    m = cp_model.CpModel()
    x, y, z = (m.new_bool_var(n) for n in "xyz")
    w = m.new_int_var(0, 10, "w")
    m.add(x + x + y <= 3)  # 0: 2x + y ≤ 3
    m.add(w >= 2).only_enforce_if(x)  # 1: enforced, left out
    m.add(3_000_000 * x + w <= 5_000_000)  # 2: huge, left out
    m.add_at_most_one(x, ~y)  # 3: x − y ≤ 0
    m.add_bool_or(~x, ~z)  # 4: −x − z ≥ −1
    m.add_exactly_one(y, z)  # 5: y + z = 1
    m.add(w - x >= 1)  # 6: no upper side
    m.minimize(w + 2 * x)
    rows = read_rows(m)
    terms = [
        sorted(zip(rows.index[a:b].tolist(), rows.value[a:b].tolist(), strict=True))
        for a, b in zip(rows.starts[:-1], rows.starts[1:], strict=True)
    ]
    assert rows.numbers.tolist() == [0, 3, 4, 5, 6] and rows.read == 7
    assert terms == [
        [(0, 2.0), (1, 1.0)],
        [(0, 1.0), (1, -1.0)],
        [(0, -1.0), (2, -1.0)],
        [(1, 1.0), (2, 1.0)],
        [(0, -1.0), (3, 1.0)],
    ]
    assert rows.low.tolist() == [-math.inf, -math.inf, -1.0, 1.0, 1.0]
    assert rows.high.tolist() == [3.0, 0.0, math.inf, 1.0, math.inf]
    assert rows.cost.tolist() == [2.0, 0.0, 0.0, 1.0] and rows.upper.tolist() == [1, 1, 1, 10]
    assert read_rows(m, literals=False).numbers.tolist() == [0, 6]
    # GLOP loads the same rows at once: min w + 2x with w ≥ 1 + x, x ≤ y, y + z = 1 is 1
    assert relaxation_bound(m, 5) == 1


def _solved_with_costs(seconds: float, tuning: Tuning) -> float:
    """Three practices whose clinicians cost more one after another, solved in `seconds` (with
    `tuning`) into a valid rota; returns when the phases had to end (the time limit less the
    closing reserve)."""
    p = _three_practices_problem()
    p = replace(
        p,
        clinicians=tuple(
            replace(c, cost_per_hour_pence=4_000 + 1_000 * k) for k, c in enumerate(p.clinicians)
        ),
    )
    started = time.perf_counter()
    result = solve(
        p, SolveParams(time_limit=seconds, workers=2, tuning=tuning, strategy="specialised")
    )
    assert check(p, result.rota) == []
    size = len(build_model(p).model.proto.variables)
    return started + seconds - tuning.closing_seconds_per_variable * size


def test_costs_steps_before_its_search_leave_it_the_rest_of_the_phase(monkeypatch):
    """On the ics's path cost's phase runs its swaps, then the network parts, then LNS: each step
    takes what it uses from the phase's time once, so LNS (with the closing swaps after it) runs
    to the end of the phase (less the closing swaps'), the time limit less the closing reserve.
    (Counted twice, the swaps' time would end cost's phase that much early.)"""
    cost_swaps = solve_module._by_cost_swaps
    seen: dict[str, float] = {}

    def slow(*args, **kwargs):
        if "cost" not in seen:  # the swaps at the phase's start (not the closing ones)
            seen["cost"] = time.perf_counter()
            time.sleep(2.5)  # as if the swaps used their share
        return cost_swaps(*args, **kwargs)

    improve = solve_module.improve

    def recorded(problem, rm, expr, values, value, deadline, *args, **kwargs):
        if "cost" in seen:  # the last is LNS on the whole model (the parts' come before)
            seen["deadline"] = deadline
        return improve(problem, rm, expr, values, value, deadline, *args, **kwargs)

    monkeypatch.setattr(solve_module, "_by_cost_swaps", slow)
    monkeypatch.setattr(solve_module, "improve", recorded)
    tuning = _as_ics(cost_tail_share=0.0)  # fair share's closing swaps only
    end = _solved_with_costs(30, tuning)
    assert "deadline" in seen, "cost's phase did not reach LNS"
    phase = end - seen["cost"]
    tail = min(tuning.final_swap_seconds, tuning.final_swap_share * phase)  # at most
    assert end - seen["cost"] > 5.0  # a phase long enough for the steps before its search
    assert seen["deadline"] + tail >= end - 1.0


def test_costs_closing_swaps_keep_their_time_when_the_parts_take_most_of_the_phase(monkeypatch):
    """Cost's closing fair-share swaps get FINAL_SWAP_SHARE of cost's whole phase (at most
    FINAL_SWAP_SECONDS), kept from the network parts, however much of the phase the parts take
    (a slot taken from what the parts leave would be too short for any swap)."""
    tuning = _as_ics(cost_parts_share=0.95, cost_parts_share_priced=0.95)
    seen: dict[str, float] = {}
    cost_swaps, swapped_after = solve_module._by_cost_swaps, solve_module._swapped_after

    def first(*args, **kwargs):
        seen.setdefault("cost", time.perf_counter())  # cost's phase starts with its swaps
        return cost_swaps(*args, **kwargs)

    def closing(problem, rm, values, below, deadline, *args, **kwargs):
        seen["closing"] = deadline - time.perf_counter()
        return swapped_after(problem, rm, values, below, deadline, *args, **kwargs)

    by_network = solve_module._by_network

    def parts(problem, rm, rota, values, seconds, *args, **kwargs):
        began = time.perf_counter()
        out = by_network(problem, rm, rota, values, seconds, *args, **kwargs)
        if kwargs.get("goal") == "cost":  # as on the ics, the parts use all their time
            time.sleep(max(0.0, began + seconds - time.perf_counter()))
        return out

    monkeypatch.setattr(solve_module, "_by_cost_swaps", first)
    monkeypatch.setattr(solve_module, "_swapped_after", closing)
    monkeypatch.setattr(solve_module, "_by_network", parts)
    end = _solved_with_costs(20, tuning)
    assert "closing" in seen, "cost's phase did not reach its closing swaps"
    slot = min(tuning.final_swap_seconds, tuning.final_swap_share * (end - seen["cost"]))
    assert seen["closing"] >= 0.8 * slot


def test_costs_second_lp_waits_for_the_first_and_its_time_unless_the_phase_ends():
    """solve._later: the second cost LP's start waits for the first LP and then for its moment
    into fair share's phase (SECOND_LP_AT), or for that phase's end if sooner."""
    import threading

    first, hurry = threading.Event(), threading.Event()
    go = solve_module._later(first, time.perf_counter() + 0.3, hurry)
    assert not go.wait(0.5)  # its time has come, but the first LP has not solved
    first.set()
    assert go.wait(2.0)  # ... now it has
    first, hurry = threading.Event(), threading.Event()
    first.set()
    go = solve_module._later(first, time.perf_counter() + 60.0, hurry)
    assert not go.wait(0.3)  # a minute to wait
    hurry.set()  # ... but fair share's phase is over
    assert go.wait(2.0)
