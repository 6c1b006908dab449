"""The strategies of `solve` (SolveParams.strategy): plain alone, and the portfolio, which
cannot lose to plain: it returns plain's rota when the specialised phases are off or fail, and
on random small problems its goal tiers are never worse than plain's with the same seed and
budget. Every rota passes the independent checker and, on Curtois, the format's own scoring."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from scheduler.bench.curtois import read_instance, roster_rows, score_roster, to_problem
from scheduler.checker import check, objective_parts
from scheduler.domain import GOALS, SolveStatus
from scheduler.solver import solve as solve_module
from scheduler.solver.params import SolveParams, Tuning
from scheduler.solver.solve import solve
from tests.test_properties import problems

DATA = Path(__file__).resolve().parent.parent / "data" / "benchmarks" / "curtois"


def tiers(problem, result) -> tuple[int, ...]:
    return tuple(problem.weights.total(result.parts, tier) for tier in GOALS)


@pytest.fixture(scope="module")
def instance1():
    instance = read_instance(DATA / "Instance1.txt")
    return instance, to_problem(instance)


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown strategy 'clever'"):
        SolveParams(strategy="clever")


def test_plain_solves_curtois_with_cp_sat_alone(instance1):
    """Plain: one CP-SAT search of the full model; Instance1's optimum 607, its roster clean by
    the checker and by the format's own scoring."""
    instance, problem = instance1
    result = solve(problem, SolveParams(time_limit=20, workers=1, strategy="plain"))
    assert result.status is SolveStatus.OPTIMAL and result.objective == 607
    assert check(problem, result.rota) == []
    penalty, broken = score_roster(instance, roster_rows(problem, result.rota))
    assert penalty == 607 and broken == []
    assert [ph.tier for ph in result.phases] == [("cover", "requests")]


def test_the_portfolio_alone_is_plain(instance1):
    """With the specialised phases off, the portfolio's rota is plain's, rule for rule."""
    _, problem = instance1
    plain = solve(problem, SolveParams(time_limit=20, workers=1, seed=3, strategy="plain"))
    alone = solve(problem, SolveParams(time_limit=20, workers=1, seed=3, specialists=False))
    assert alone.rota == plain.rota and alone.objective == plain.objective == 607
    assert alone.status is SolveStatus.OPTIMAL


def test_the_portfolio_answers_with_plain_when_the_specialised_phases_fail(instance1, monkeypatch):
    """A specialised mechanism that raises costs only its time: plain's answer is returned (its
    opening and its search after, so an optimum of the same value, not always the same rota)."""
    _, problem = instance1
    plain = solve(problem, SolveParams(time_limit=20, workers=1, seed=3, strategy="plain"))

    def broken(*args, **kwargs):
        raise RuntimeError("a mechanism failed")

    monkeypatch.setattr(solve_module, "_phases", broken)
    result = solve(problem, SolveParams(time_limit=20, workers=1, seed=3))
    assert result.objective == plain.objective == 607 and result.status is SolveStatus.OPTIMAL
    assert check(problem, result.rota) == []


def test_the_portfolio_answers_with_plain_when_the_specialised_phases_find_nothing(
    instance1, monkeypatch
):
    """Specialised phases that end without a rota leave plain the rest of the budget."""
    _, problem = instance1
    plain = solve(problem, SolveParams(time_limit=20, workers=1, seed=3, strategy="plain"))

    def nothing(run):
        return solve_module._no_rota(run.problem, SolveStatus.UNKNOWN, [], run.elapsed())

    monkeypatch.setattr(solve_module, "_phases", nothing)
    result = solve(problem, SolveParams(time_limit=20, workers=1, seed=3))
    assert result.objective == plain.objective == 607 and result.status is SolveStatus.OPTIMAL
    assert check(problem, result.rota) == []


def test_plain_opens_before_the_specialised_phases(instance1, monkeypatch):
    """Plain searches first, until its first rota; the specialised phases come after it and
    plain's own search after them, so the portfolio has a rota whenever plain alone has one."""
    _, problem = instance1
    order: list[str] = []
    plain, phases = solve_module._plain, solve_module._phases

    def spy_plain(run, first=False):
        order.append("plain opening" if first else "plain")
        return plain(run, first)

    def spy_phases(run):
        order.append("specialised")
        return phases(run)

    monkeypatch.setattr(solve_module, "_plain", spy_plain)
    monkeypatch.setattr(solve_module, "_phases", spy_phases)
    result = solve(problem, SolveParams(time_limit=20, workers=1, seed=3))
    assert order[:2] == ["plain opening", "specialised"]
    assert result.objective == 607 and check(problem, result.rota) == []


def test_specialised_phases_whose_first_rota_loses_to_plain_give_its_time_back(
    instance1, monkeypatch
):
    """Phases whose first rota is worse than plain's opening rota, with a bound no better than
    plain's, stop there, however long the stall windows and however fast they improve after:
    plain gets the rest of the budget (without the rule they would keep three quarters of it)."""
    _, problem = instance1
    ran: list[float] = []

    def worse(run):
        began, objective = time.perf_counter(), 10**6
        while not run.should_stop() and run.elapsed() < run.params.time_limit:
            objective -= 1  # better than their last, still far worse than plain's
            emit = run.params.progress
            emit(solve_module.Progress("cover+requests", 1, 1, run.elapsed(), objective, 0))
            time.sleep(0.05)
        ran.append(time.perf_counter() - began)
        return solve_module._no_rota(run.problem, SolveStatus.UNKNOWN, [], run.elapsed())

    monkeypatch.setattr(solve_module, "_phases", worse)
    tuning = Tuning(
        specialist_stall_share=0.5, min_specialist_stall=5.0, specialist_start_stall_share=0.9
    )
    result = solve(problem, SolveParams(time_limit=10, workers=1, seed=3, tuning=tuning))
    assert len(ran) == 1 and ran[0] < 1.0
    assert result.objective == 607 and check(problem, result.rota) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_the_portfolio_is_never_worse_than_plain(problem):
    """Random small problems, the same seed and budget: the portfolio's goal tiers are never
    lexicographically worse than plain's, and its rota passes the checker."""
    params = SolveParams(time_limit=5, workers=1, seed=7)
    plain = solve(problem, SolveParams(time_limit=5, workers=1, seed=7, strategy="plain"))
    both = solve(problem, params)
    assert (both.status is SolveStatus.INFEASIBLE) == (plain.status is SolveStatus.INFEASIBLE)
    if plain.status is SolveStatus.INFEASIBLE:
        return
    assert tiers(problem, both) <= tiers(problem, plain)
    assert check(problem, both.rota) == [] and check(problem, plain.rota) == []
    assert both.parts == objective_parts(problem, both.rota)
    assert both.bound <= both.objective


def test_the_portfolio_keeps_to_its_budget(instance1):
    """Specialised phases that stall hand their time to plain; the whole stays in budget."""
    _, problem = instance1
    result = solve(problem, SolveParams(time_limit=4, workers=2))
    assert result.seconds <= 4 * 1.05 and check(problem, result.rota) == []
