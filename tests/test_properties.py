"""Hypothesis: random small problems solve, and every rota passes the independent checker with
the solver's parts equal to the checker's recomputation."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.checker import check, objective_parts, weighted_total
from scheduler.domain import Offer, Pin, Rules, SolveStatus, Status
from scheduler.solver.params import SolveParams
from scheduler.solver.solve import solve
from tests import builders as b

ROLES = ["GP", "ANP", "Practice Nurse"]
POST_ROLES = ["GP", "ANP", "GP;ANP", "Practice Nurse", "ANP;Practice Nurse"]
TIMES = [
    ("18:30", "20:00"),
    ("09:00", "17:00"),
    ("17:00", "18:30"),
    ("06:30", "09:00"),
    ("19:00", "20:30"),
]


@st.composite
def general_rules(draw):
    """The optional per-clinician rules (kinds, minutes, runs, weekends), mostly absent."""
    if not draw(st.booleans()):
        return {}
    return {
        "max_sessions_per_day": draw(st.one_of(st.none(), st.just(1))),
        "max_per_kind": tuple(
            draw(st.dictionaries(st.sampled_from(KINDS), st.integers(0, 2), max_size=2)).items()
        ),
        "max_minutes_per_period": draw(st.one_of(st.none(), st.integers(0, 1200))),
        "min_minutes_per_period": draw(st.one_of(st.none(), st.integers(0, 200))),
        "max_consecutive_days": draw(st.one_of(st.none(), st.integers(1, 4))),
        "min_consecutive_days": draw(st.one_of(st.none(), st.integers(1, 3))),
        "min_consecutive_days_off": draw(st.one_of(st.none(), st.integers(1, 3))),
        "max_weekends": draw(st.one_of(st.none(), st.integers(0, 2))),
    }


KINDS = ["E", "L"]


@st.composite
def problems(draw):
    n_clinicians = draw(st.integers(0, 5))
    clinicians = [
        b.clinician(
            f"C{i}",
            role=draw(st.sampled_from(ROLES)),
            practice_code=draw(st.sampled_from(["P1", "P2"])),
            skills=draw(st.sets(st.sampled_from(["cytology", "imms"]), max_size=2)),
            max_sessions_per_week=draw(st.integers(0, 3)),
            max_sessions_per_period=draw(st.one_of(st.none(), st.integers(0, 4))),
            min_sessions_per_period=draw(st.integers(0, 2)),
            hubs=draw(st.sets(st.sampled_from(["H1", "H2"]), max_size=1)),
            preferred_hubs=draw(st.sets(st.sampled_from(["H1", "H2"]), max_size=1)),
            cost_per_hour_pence=draw(st.integers(0, 12_000)),
            weekly_minutes_elsewhere=draw(st.sampled_from([0, 0, 40 * 60, 47 * 60])),
            **draw(general_rules()),
        )
        for i in range(n_clinicians)
    ]
    sessions = {}
    for _ in range(draw(st.integers(0, 7))):
        day = b.MONDAY + timedelta(days=draw(st.integers(0, 13)))
        start, end = draw(st.sampled_from(TIMES))
        hub_id = draw(st.sampled_from(["H1", "H2"]))
        posts = []
        for _ in range(draw(st.integers(1, 2))):
            lo = draw(st.integers(0, 2))
            post = b.post(
                draw(st.sampled_from(POST_ROLES)),
                lo,
                lo + draw(st.integers(0, 1)),
                skill=draw(st.sampled_from([None, None, "cytology"])),
            )
            if draw(st.booleans()):  # weighted cover, possibly above target
                post = replace(
                    post,
                    under_weight=draw(st.integers(0, 100)),
                    over_weight=draw(st.integers(0, 3)),
                    max=post.target + draw(st.integers(0, 2)),
                )
            posts.append(post)
        s = replace(
            b.session(day, start, end, hub_id, tuple(posts)), kind=draw(st.sampled_from(KINDS))
        )
        sessions[s.session_id] = s
    sessions = list(sessions.values())
    entries = []
    for c in clinicians:
        for s in sessions:
            code = draw(st.sampled_from(["A", "P", "U", None]))
            if code:
                entries.append((c.clinician_id, s.date, code))
    requests = {}
    for c in clinicians:
        for s in sessions:
            if draw(st.integers(0, 4)) == 0:
                status = draw(st.sampled_from([Status.PREFERRED, Status.UNAVAILABLE]))
                kind = draw(st.sampled_from([None, *KINDS]))
                requests.setdefault((c.clinician_id, s.date), ())
                requests[c.clinician_id, s.date] += (
                    Offer(status, kind=kind, weight=draw(st.integers(1, 3))),
                )
    published = []
    if clinicians and sessions:
        for _ in range(draw(st.integers(0, 3))):
            published.append(
                Pin(
                    draw(st.sampled_from(sessions)).session_id,
                    draw(st.sampled_from(clinicians)).clinician_id,
                    locked=draw(st.booleans()),
                )
            )
    rules = Rules(
        availability_default=draw(st.sampled_from([Status.AVAILABLE, Status.UNAVAILABLE])),
        max_consecutive_days=draw(st.integers(1, 6)),
        gp_cover=draw(st.booleans()),
        forbidden_successions=tuple(draw(st.sets(st.sampled_from([("L", "E"), ("E", "E")])))),
    )
    availability = b.offers(*entries)
    for key, extra in requests.items():
        availability[key] = availability.get(key, ()) + extra
    hubs = [b.hub("H1", rooms=draw(st.one_of(st.none(), st.integers(1, 3)))), b.hub("H2")]
    return b.problem(
        clinicians=clinicians,
        sessions=sessions,
        hubs=hubs,
        practices=[b.practice("P1", 8_000), b.practice("P2", 3_000)],
        availability=availability,
        rules=rules,
        published=tuple(dict.fromkeys(published)),
        period=(b.MONDAY, b.MONDAY + timedelta(days=13)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_solve_passes_the_checker(problem):
    """Any solved rota breaks no hard rule and its parts equal the checker's; only locked pins
    and the hard general rules (minimum minutes and runs) can make a problem infeasible."""
    result = solve(problem, SolveParams(time_limit=10, workers=1))
    if result.status is SolveStatus.INFEASIBLE:
        assert any(pin.locked for pin in problem.published) or any(
            c.min_minutes_per_period
            or (c.min_consecutive_days or 0) > 1
            or (c.min_consecutive_days_off or 0) > 1
            for c in problem.clinicians
        )
        return
    assert result.status is SolveStatus.OPTIMAL
    assert check(problem, result.rota) == []
    assert result.parts == objective_parts(problem, result.rota)
    # at a proven optimum the model's own penalty variables carry no slack either
    assert result.solver_parts == result.parts
    assert result.objective == weighted_total(problem, result.parts)
    assert result.bound == result.objective
