"""The construction of a first rota clinician by clinician (scheduler.solver.construct), and the
portfolio's use of it when plain's opening has no rota first: every rota it gives is whole,
meets every rule by the independent checker (and, on Curtois, the format's own scoring), and
its objective is the checker's."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from scheduler.bench.curtois import read_instance, roster_rows, score_roster, to_problem
from scheduler.checker import check, objective_parts
from scheduler.domain import Assignment, SolveStatus
from scheduler.solver import solve as solve_module
from scheduler.solver.construct import construct
from scheduler.solver.model import build_model
from scheduler.solver.params import SolveParams, Tuning
from scheduler.solver.solve import solve
from scheduler.solver.submodel import SubModels
from tests import builders as b
from tests.test_lns import _two_practices_problem

DATA = Path(__file__).resolve().parent.parent / "data" / "benchmarks" / "curtois"


def _cut(problem, tier):
    rm = build_model(problem)
    whole = rm.model.clone()
    whole.minimize(problem.weights.total(rm.parts, tier))
    cut = SubModels.read(whole, [var.index for var in rm.variables.x.values()])
    assert cut is not None
    groups: dict[int, list[int]] = {}
    for (ci, _, _), var in rm.variables.x.items():
        groups.setdefault(ci, []).append(var.index)
    return rm, cut, [np.asarray(g) for g in groups.values()]


def _rota(problem, rm, values):
    return [
        Assignment(problem.sessions[si].session_id, pi, problem.clinicians[ci].clinician_id)
        for (ci, si, pi), var in rm.variables.x.items()
        if values[var.index]
    ]


@pytest.mark.parametrize("name", ["Instance1", "Instance5"])
def test_a_constructed_curtois_roster_breaks_no_rule_and_scores_its_objective(name):
    """Clinician by clinician, each step only the rows its clinician can change: the roster
    meets every hard rule of the format (its own scorer) and of the checker, and the objective
    the construction reports (the model's, whose penalty variables are floors a step that stops
    at its first rota may leave above the gap) is never below the scorer's penalty."""
    instance = read_instance(DATA / f"{name}.txt")
    problem = to_problem(instance)
    rm, cut, groups = _cut(problem, ("cover", "requests"))
    built = construct(cut, groups, time.perf_counter() + 60, seed=1)
    assert built is not None and built.steps == len(groups)
    assert len(cut.violated(built.values)) == 0
    rota = _rota(problem, rm, built.values)
    assert check(problem, rota) == []
    penalty, broken = score_roster(instance, roster_rows(problem, rota))
    assert broken == [] and penalty <= built.objective


def test_a_constructed_rota_keeps_posts_and_rooms_shared_by_clinicians():
    """Posts' places bind several clinicians: each step sees those placed before it, so the
    rota never overfills a post, and its objective is never below the checker's count."""
    problem = _two_practices_problem()
    tier = ("unfilled_min",)
    rm, cut, groups = _cut(problem, tier)
    built = construct(cut, groups, time.perf_counter() + 30, seed=2)
    assert built is not None
    rota = _rota(problem, rm, built.values)
    assert check(problem, rota) == []
    unfilled = objective_parts(problem, rota)["unfilled_min"]
    assert unfilled * problem.weights.of("unfilled_min") <= built.objective


def test_a_construction_gives_up_where_a_clinician_cannot_meet_their_rules():
    """A clinician who must work more minutes than their sessions hold: that step's model is
    infeasible and the construction ends without a rota, quickly."""
    clinician = b.clinician("G1", min_minutes_per_period=10_000)
    problem = b.problem(clinicians=[clinician], sessions=[b.evening(b.MONDAY, "H1", b.post("GP"))])
    rm, cut, groups = _cut(problem, ("unfilled_min",))
    began = time.perf_counter()
    assert construct(cut, groups, began + 30, seed=0) is None
    assert time.perf_counter() - began < 10


def test_a_construction_stops_when_told():
    instance = read_instance(DATA / "Instance5.txt")
    problem = to_problem(instance)
    _, cut, groups = _cut(problem, ("cover", "requests"))
    assert construct(cut, groups, time.perf_counter() + 60, seed=0, stop=lambda: True) is None


def test_the_portfolio_goes_on_from_a_constructed_rota_when_plain_has_none(monkeypatch):
    """Plain's opening that finds nothing (here held back until the construction beside it has
    its rota): the constructed rota, improved by LNS and then by plain hinted with it, is the
    answer; it meets every rule and its parts, as the solver read them, are the checker's."""
    instance = read_instance(DATA / "Instance5.txt")
    problem = to_problem(instance)
    plain = solve_module._plain
    opened = []

    def slow_opening(run, first=False):
        if not first:
            return plain(run)
        while not run.should_stop():  # the construction's rota stops the opening
            time.sleep(0.05)
        opened.append(True)
        return solve_module._no_rota(problem, SolveStatus.UNKNOWN, [], run.elapsed())

    monkeypatch.setattr(solve_module, "_plain", slow_opening)
    tuning = Tuning(construct_after_share=0.0)
    result = solve(problem, SolveParams(time_limit=10, workers=2, seed=1, tuning=tuning))
    assert opened == [True]
    assert result.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL)
    assert check(problem, result.rota) == []
    penalty, broken = score_roster(instance, roster_rows(problem, result.rota))
    assert broken == [] and penalty == result.objective
    # the weighted parts as the solver read them are the checker's (the weightless ones are
    # floors the search never lowers)
    checker = objective_parts(problem, result.rota)
    weighted = [p for p in checker if problem.weights.of(p) > 0]
    assert weighted and all(result.solver_parts[p] == checker[p] for p in weighted)
    assert sum(problem.weights.of(p) * checker[p] for p in weighted) == result.objective
    assert result.seconds <= 10 * 1.05


def test_re_solving_a_few_clinicians_at_a_time_keeps_every_rule_and_never_worsens():
    """After the construction, groups of clinicians re-solved over the whole horizon: the
    rota stays whole and clean, and its objective only falls (Instance5's constructed rota is
    far from its best known 1,143, so it falls)."""
    from scheduler.solver.construct import ConstructTuning, improve_by_staff

    instance = read_instance(DATA / "Instance5.txt")
    problem = to_problem(instance)
    rm, cut, groups = _cut(problem, ("cover", "requests"))
    built = construct(cut, groups, time.perf_counter() + 60, seed=3)
    assert built is not None
    seen = []
    better = improve_by_staff(
        cut,
        groups,
        built,
        time.perf_counter() + 4,
        seed=3,
        on_improve=seen.append,
        tuning=ConstructTuning(start_staff=1),
    )
    assert better.objective < built.objective and seen == sorted(seen, reverse=True)
    assert seen[-1] == better.objective and len(cut.violated(better.values)) == 0
    rota = _rota(problem, rm, better.values)
    assert check(problem, rota) == []
    penalty, broken = score_roster(instance, roster_rows(problem, rota))
    assert broken == [] and penalty <= better.objective


def test_re_solving_ends_once_no_group_of_clinicians_can_improve():
    """On a small instance every group is soon proven unable to improve the rota (its
    sub-solve optimal at the rota's value): the step ends then, long before its deadline, with
    no stall to wait out."""
    from scheduler.solver.construct import improve_by_staff

    instance = read_instance(DATA / "Instance1.txt")
    problem = to_problem(instance)
    rm, cut, groups = _cut(problem, ("cover", "requests"))
    built = construct(cut, groups, time.perf_counter() + 30, seed=0)
    assert built is not None
    began = time.perf_counter()
    better = improve_by_staff(cut, groups, built, began + 120, seed=0)
    assert time.perf_counter() - began < 60
    assert better.objective <= built.objective and len(cut.violated(better.values)) == 0
    rota = _rota(problem, rm, better.values)
    penalty, broken = score_roster(instance, roster_rows(problem, rota))
    assert broken == [] and penalty >= 607  # Instance1's optimum
