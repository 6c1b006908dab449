"""Large-neighbourhood search (scheduler.solver.lns): from a poor rota it only ever returns better
whole rotas, which break no rule and whose objective is the checker's."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import numpy as np
from ortools.sat.python import cp_model

from scheduler.checker import check, objective_parts
from scheduler.domain import Assignment
from scheduler.solver.lns import LnsTuning, improve
from scheduler.solver.model import build_model
from tests import builders as b


def test_lns_lowers_cost_from_the_dearest_rota_and_keeps_every_rule():
    p = _two_practices_problem()
    rm, cost, values, start = _dearest_start(p)
    seen: list[int] = []
    outcome = improve(
        p,
        rm,
        cost,
        values,
        start,
        time.perf_counter() + 3,
        seed=1,
        on_improve=seen.append,
        workers=2,
    )
    assert outcome.improvements > 0 and outcome.iterations > outcome.improvements
    assert outcome.objective < start
    assert seen == sorted(seen, reverse=True) and seen[-1] == outcome.objective  # only ever better
    rota = [
        Assignment(p.sessions[si].session_id, pi, p.clinicians[ci].clinician_id)
        for (ci, si, pi), var in rm.variables.x.items()
        if outcome.values[var.index]
    ]
    assert check(p, rota) == []
    parts = objective_parts(p, rota)
    assert parts["cost"] == outcome.objective
    assert parts["unfilled_min"] == parts["unfilled_target"] == 0  # the held parts stay held


def test_lns_breaks_ties_by_the_goal_below_without_giving_up_its_own():
    practices = [b.practice("P1"), b.practice("P2")]
    clinicians = [
        b.clinician(
            f"G{k}",
            practice_code=f"P{1 + k % 2}",
            max_sessions_per_week=2,
            cost_per_hour_pence=8_000 + 1_000 * k,
        )
        for k in range(6)
    ]
    days = [
        b.MONDAY + timedelta(days=k)
        for k in range(12)
        if (b.MONDAY + timedelta(days=k)).weekday() < 5
    ]
    sessions = [b.evening(d, "H1", b.post("GP")) for d in days]
    p = b.problem(clinicians=clinicians, practices=practices, sessions=sessions)
    rm = build_model(p)
    cost, fair = rm.parts["cost"], rm.parts["fair_share"]
    rm.model.add(rm.parts["unfilled_min"] == 0)
    rm.model.minimize(fair)
    fairest = cp_model.CpSolver()
    assert fairest.solve(rm.model) == cp_model.OPTIMAL
    rm.model.add(fair <= round(fairest.objective_value))
    rm.model.minimize(-cost)  # the dearest of the fairest rotas: only the tie-break can gain
    dearest = cp_model.CpSolver()
    assert dearest.solve(rm.model) == cp_model.OPTIMAL
    values = list(dearest.response_proto.solution)
    start_fair, start_cost = round(dearest.value(fair)), round(dearest.value(cost))
    outcome = improve(
        p,
        rm,
        fair,
        values,
        start_fair,
        time.perf_counter() + 3,
        seed=1,
        workers=2,
        stall=0.5,
        then=(cost, start_cost),
    )
    rota = [
        Assignment(p.sessions[si].session_id, pi, p.clinicians[ci].clinician_id)
        for (ci, si, pi), var in rm.variables.x.items()
        if outcome.values[var.index]
    ]
    assert check(p, rota) == []
    parts = objective_parts(p, rota)
    assert parts["fair_share"] == outcome.objective == start_fair  # its own goal never worse
    assert parts["cost"] < start_cost  # ... and the ties broken by cost


def test_a_sweep_frees_every_practice_once_a_round():
    import random

    from scheduler.solver.lns import _next_practices, _Shared

    rng, state = random.Random(3), _Shared([], 0, 0.0)
    counts = [0] * 12
    for round_ in range(1, 6):  # 12 practices, 4 at a time: each once in every 3 picks
        for _ in range(3):
            picked = _next_practices(rng, state, 12, 4)
            assert len(set(picked)) == 4
            for p in picked:
                counts[p] += 1
        assert counts == [round_] * 12
    assert len(_next_practices(rng, state, 3, 1)) == 2  # at least two
    assert len(_next_practices(rng, state, 3, 9)) == 3  # never more than there are


def test_a_sweep_frees_each_practice_with_partners_its_clinicians_can_trade_with():
    """Cost's practice neighbourhood: every practice comes first once a round, and its partners
    are practices whose clinicians may take its sessions (two networks here, 0-3 and 4-7;
    practice 8 shares none), drawn evenly where there are none."""
    import random

    from scheduler.solver.lns import _Shared, _sweep_with_partners
    from scheduler.solver.model import Practices

    network = [0, 0, 0, 0, 1, 1, 1, 1, 2]
    overlap = [
        [float(a != b and network[a] == network[b] != 2) for b in range(9)] for a in range(9)
    ]
    practices = Practices(
        [[k] for k in range(9)], list(range(9)), [1] * 9, 9, 9, aim=False, overlap=overlap
    )
    rng, state = random.Random(5), _Shared([], 0, 0.0)
    for _ in range(4):  # rounds
        firsts = []
        for _ in range(9):
            picked = _sweep_with_partners(rng, state, practices, 3)
            assert len(picked) == len(set(picked)) == 3
            firsts.append(picked[0])
            if picked[0] != 8:  # (8 has no one to trade with: any two)
                assert {network[p] for p in picked} == {network[picked[0]]}  # trading partners
        assert sorted(firsts) == list(range(9))  # each practice first once a round


def test_lns_aimed_at_practices_starts_from_a_rota_older_than_their_minutes(monkeypatch):
    """The fair-share phase names each practice's minutes as a variable when it starts; a rota
    held from the tier above lacks them. LNS then draws its practices evenly until a sub-solve
    returns a whole solution, which it keeps whole (it once kept the old length, and the
    practice draw failed on it in a search thread, which ended that thread's search)."""
    failures: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    practices = [b.practice("P1", 3_000), b.practice("P2", 9_000)]
    clinicians = [
        b.clinician(f"G{k}", practice_code=f"P{1 + k % 2}", max_sessions_per_week=3)
        for k in range(6)
    ]
    days = [
        b.MONDAY + timedelta(days=k)
        for k in range(12)
        if (b.MONDAY + timedelta(days=k)).weekday() < 5
    ]
    sessions = [b.evening(d, "H1", b.post("GP")) for d in days]
    p = b.problem(clinicians=clinicians, practices=practices, sessions=sessions)
    rm = build_model(p)
    fair = rm.parts["fair_share"]
    rm.model.add(rm.parts["unfilled_min"] == 0)
    rm.model.minimize(-fair)  # the least fair rota, from the tier above
    unfair = cp_model.CpSolver()
    assert unfair.solve(rm.model) == cp_model.OPTIMAL
    values = list(unfair.response_proto.solution)
    start = round(unfair.value(fair))
    rm.objective.scale_fair_share()  # as the fair-share phase starts: new variables
    assert len(rm.model.proto.variables) > len(values)
    rm.model.minimize(fair)
    groups = rm.objective.practice_groups()
    assert groups is not None and groups.aim
    outcome = improve(
        p, rm, fair, values, start, time.perf_counter() + 3, seed=1, workers=2, practices=groups
    )
    assert failures == []
    assert outcome.improvements > 0 and outcome.objective < start
    assert len(outcome.values) == len(rm.model.proto.variables)
    rota = [
        Assignment(p.sessions[si].session_id, pi, p.clinicians[ci].clinician_id)
        for (ci, si, pi), var in rm.variables.x.items()
        if outcome.values[var.index]
    ]
    assert check(p, rota) == []
    assert objective_parts(p, rota)["fair_share"] == outcome.objective


def _dearest_start(p):
    """The model of `p` with fill held, and its dearest rota (values, cost)."""
    rm = build_model(p)
    cost = rm.parts["cost"]
    rm.model.add(rm.parts["unfilled_min"] == 0)
    rm.model.add(rm.parts["unfilled_target"] == 0)
    rm.model.minimize(-cost)
    dearest = cp_model.CpSolver()
    assert dearest.solve(rm.model) == cp_model.OPTIMAL
    values = list(dearest.response_proto.solution)
    rm.model.minimize(cost)
    return rm, cost, values, round(-dearest.objective_value)


def _two_practices_problem():
    practices = [b.practice("P1"), b.practice("P2")]
    clinicians = [
        b.clinician(
            f"G{k}",
            practice_code=f"P{1 + k % 2}",
            max_sessions_per_week=2,
            cost_per_hour_pence=8_000 + 1_000 * k,
        )
        for k in range(6)
    ]
    clinicians += [
        b.clinician(
            f"N{k}",
            role="Nurse",
            practice_code=f"P{1 + k % 2}",
            max_sessions_per_week=2,
            cost_per_hour_pence=3_000 + 500 * k,
        )
        for k in range(4)
    ]
    days = [
        b.MONDAY + timedelta(days=k)
        for k in range(12)
        if (b.MONDAY + timedelta(days=k)).weekday() < 5
    ]
    sessions = [b.evening(d, "H1", b.post("GP"), b.post("Nurse", min=0, target=1)) for d in days]
    return b.problem(clinicians=clinicians, practices=practices, sessions=sessions)


def test_lns_on_sub_models_returns_whole_valid_rotas(monkeypatch):
    """Past cut_variables (a large model; here every model) each step solves a small model cut
    out of the whole (scheduler.solver.submodel): what it returns is still a whole solution,
    valid, with the held parts held and the checker's objective."""
    from scheduler.solver.submodel import SubModels

    steps = []
    solve = SubModels.solve

    def counted(self, *args):
        step = solve(self, *args)
        steps.append(step)
        return step

    monkeypatch.setattr(SubModels, "solve", counted)
    p = _two_practices_problem()
    rm, cost, values, start = _dearest_start(p)
    outcome = improve(
        p,
        rm,
        cost,
        values,
        start,
        time.perf_counter() + 3,
        seed=1,
        workers=2,
        tuning=LnsTuning(cut_variables=0),
    )
    assert steps and all(0 < step.variables < len(values) for step in steps)
    assert outcome.improvements > 0 and outcome.objective < start
    assert len(outcome.values) == len(values)
    rota = [
        Assignment(p.sessions[si].session_id, pi, p.clinicians[ci].clinician_id)
        for (ci, si, pi), var in rm.variables.x.items()
        if outcome.values[var.index]
    ]
    assert check(p, rota) == []
    parts = objective_parts(p, rota)
    assert parts["cost"] == outcome.objective
    assert parts["unfilled_min"] == parts["unfilled_target"] == 0
    # the whole model agrees: its solution with these values is feasible at this objective
    whole = cp_model.CpSolver()
    rm.model.clear_hints()
    for index, value in enumerate(outcome.values):
        domain = rm.model.proto.variables[index].domain
        domain.clear()
        domain.extend([value, value])
    assert (
        whole.solve(rm.model) == cp_model.OPTIMAL
        and round(whole.objective_value) == outcome.objective
    )


def test_a_sub_model_frees_what_shares_a_short_row_with_a_freed_assignment():
    """Freedom spreads from the freed variables to the others in their rows, row after row,
    but not through rows longer than local_row; the rows of fixed variables only are left out."""
    import scheduler.solver.submodel as submodel

    m = cp_model.CpModel()
    x = [m.new_bool_var(f"x{k}") for k in range(4)]
    count = m.new_int_var(0, 2, "count")
    penalty = m.new_int_var(0, 4, "penalty")
    other = m.new_int_var(0, 2, "other")
    m.add(count == x[0] + x[1])  # short: x0 frees count
    m.add(penalty >= 2 * count - 1)  # short: count frees penalty
    m.add(other == x[2] + x[3])  # x2, x3 fixed: other stays fixed
    m.add(x[0] + x[1] + x[2] + x[3] + penalty + other <= 8)  # long: spreads nothing
    m.minimize(penalty + other)
    cut = submodel.SubModels.read(m, [v.index for v in x], local_row=3)
    assert cut is not None
    free = cut.free([x[0].index])
    assert [bool(free[v.index]) for v in (*x, count, penalty, other)] == [
        True,
        False,
        False,
        False,
        True,
        True,
        False,
    ]
    best = np.array([1, 1, 0, 1, 2, 3, 1])
    solver = cp_model.CpSolver()
    step = cut.solve(np.array([x[0].index, x[1].index]), best, 4, solver)
    assert step.status == cp_model.OPTIMAL
    assert step.objective == 1 and list(step.values) == [0, 0, 0, 1, 0, 0, 1]
    assert step.rows == 3 + 1  # the three rows with a free variable, and the cap


def test_a_model_with_enforced_linear_rows_is_not_cut():
    """Enforced linear rows are not read: such a model keeps the clones."""
    from scheduler.solver.submodel import SubModels

    m = cp_model.CpModel()
    x, y = m.new_bool_var("x"), m.new_bool_var("y")
    m.add(x + y >= 1).only_enforce_if(x)
    m.minimize(x + y)
    assert SubModels.read(m, [x.index, y.index]) is None


def test_implications_and_enforced_clauses_are_cut_as_clauses():
    """An implication (a bool_and with an enforcement literal) and an enforced clause are read
    as clauses: a step that frees their literals keeps them."""
    from scheduler.solver.submodel import SubModels

    m = cp_model.CpModel()
    x, y, z = (m.new_bool_var(n) for n in "xyz")
    m.add_implication(x, y)  # x → y
    m.add_bool_or([y.Not(), z]).only_enforce_if(x)  # x → (¬y ∨ z)
    m.add(x == 1)
    m.minimize(y + z)
    cut = SubModels.read(m, [x.index, y.index, z.index])
    assert cut is not None
    step = cut.solve(
        np.array([x.index, y.index, z.index]), np.array([1, 1, 1]), 2, cp_model.CpSolver()
    )
    assert step.status == cp_model.OPTIMAL and list(step.values) == [1, 1, 1]
    assert list(cut.violated(np.array([1, 0, 1]))) == [0]  # x without y breaks the implication
    assert list(cut.violated(np.array([1, 1, 0]))) == [1]  # ... and x, y without z the clause
    assert list(cut.violated(np.array([1, 1, 1]))) == []
