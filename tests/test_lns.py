"""Large-neighbourhood search (scheduler.lns): from a poor rota it only ever returns better
whole rotas, which break no rule and whose objective is the checker's."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from ortools.sat.python import cp_model

from scheduler.checker import check, objective_parts
from scheduler.domain import Assignment
from scheduler.lns import improve
from scheduler.model import build_model
from tests import builders as b


def test_lns_lowers_cost_from_the_dearest_rota_and_keeps_every_rule():
    practices = [b.practice("P1"), b.practice("P2")]
    clinicians = [b.clinician(f"G{k}", practice_code=f"P{1 + k % 2}", max_sessions_per_week=2,
                              cost_per_hour_pence=8_000 + 1_000 * k) for k in range(6)]
    clinicians += [b.clinician(f"N{k}", role="Nurse", practice_code=f"P{1 + k % 2}",
                               max_sessions_per_week=2, cost_per_hour_pence=3_000 + 500 * k)
                   for k in range(4)]
    days = [b.MONDAY + timedelta(days=k) for k in range(12) if (b.MONDAY + timedelta(days=k)).weekday() < 5]
    sessions = [b.evening(d, "H1", b.post("GP"), b.post("Nurse", min=0, target=1)) for d in days]
    p = b.problem(clinicians=clinicians, practices=practices, sessions=sessions)
    rm = build_model(p)
    cost = rm.parts["cost"]
    rm.model.add(rm.parts["unfilled_min"] == 0)
    rm.model.add(rm.parts["unfilled_target"] == 0)
    rm.model.minimize(-cost)
    dearest = cp_model.CpSolver()
    assert dearest.solve(rm.model) == cp_model.OPTIMAL
    values = list(dearest.response_proto.solution)
    start = round(-dearest.objective_value)
    rm.model.minimize(cost)
    seen: list[int] = []
    outcome = improve(p, rm, cost, values, start, time.perf_counter() + 3, seed=1,
                      on_improve=seen.append, workers=2)
    assert outcome.improvements > 0 and outcome.iterations > outcome.improvements
    assert outcome.objective < start
    assert seen == sorted(seen, reverse=True) and seen[-1] == outcome.objective  # only ever better
    rota = [Assignment(p.sessions[si].session_id, pi, p.clinicians[ci].clinician_id)
            for (ci, si, pi), var in rm.variables.x.items() if outcome.values[var.index]]
    assert check(p, rota) == []
    parts = objective_parts(p, rota)
    assert parts["cost"] == outcome.objective
    assert parts["unfilled_min"] == parts["unfilled_target"] == 0  # the held parts stay held


def test_lns_breaks_ties_by_the_goal_below_without_giving_up_its_own():
    practices = [b.practice("P1"), b.practice("P2")]
    clinicians = [b.clinician(f"G{k}", practice_code=f"P{1 + k % 2}", max_sessions_per_week=2,
                              cost_per_hour_pence=8_000 + 1_000 * k) for k in range(6)]
    days = [b.MONDAY + timedelta(days=k) for k in range(12) if (b.MONDAY + timedelta(days=k)).weekday() < 5]
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
    outcome = improve(p, rm, fair, values, start_fair, time.perf_counter() + 3, seed=1, workers=2,
                      stall=0.5, then=(cost, start_cost))
    rota = [Assignment(p.sessions[si].session_id, pi, p.clinicians[ci].clinician_id)
            for (ci, si, pi), var in rm.variables.x.items() if outcome.values[var.index]]
    assert check(p, rota) == []
    parts = objective_parts(p, rota)
    assert parts["fair_share"] == outcome.objective == start_fair  # its own goal never worse
    assert parts["cost"] < start_cost  # ... and the ties broken by cost


def test_a_sweep_frees_every_practice_once_a_round():
    import random

    from scheduler.lns import _next_practices, _Shared

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


def test_lns_aimed_at_practices_starts_from_a_rota_older_than_their_minutes(monkeypatch):
    """The fair-share phase names each practice's minutes as a variable when it starts; a rota
    held from the tier above lacks them. LNS then draws its practices evenly until a sub-solve
    returns a whole solution, which it keeps whole (it once kept the old length, and the
    practice draw failed on it in a search thread, which ended that thread's search)."""
    failures: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    practices = [b.practice("P1", 3_000), b.practice("P2", 9_000)]
    clinicians = [b.clinician(f"G{k}", practice_code=f"P{1 + k % 2}", max_sessions_per_week=3)
                  for k in range(6)]
    days = [b.MONDAY + timedelta(days=k) for k in range(12) if (b.MONDAY + timedelta(days=k)).weekday() < 5]
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
    outcome = improve(p, rm, fair, values, start, time.perf_counter() + 3, seed=1, workers=2,
                      practices=groups)
    assert failures == []
    assert outcome.improvements > 0 and outcome.objective < start
    assert len(outcome.values) == len(rm.model.proto.variables)
    rota = [Assignment(p.sessions[si].session_id, pi, p.clinicians[ci].clinician_id)
            for (ci, si, pi), var in rm.variables.x.items() if outcome.values[var.index]]
    assert check(p, rota) == []
    assert objective_parts(p, rota)["fair_share"] == outcome.objective
