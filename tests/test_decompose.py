"""Network decomposition (scheduler.solver.decompose): the parts around a rota, and the joined rota
they give, which breaks no rule, keeps the goals above fair share and shares minutes out better."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from scheduler.checker import check, objective_parts
from scheduler.domain import Assignment, Pin, SolveStatus, contract_requirements
from scheduler.solver import solve as solve_module
from scheduler.solver.decompose import (
    _Fairness,
    _places,
    _post_with,
    network_cost_rota,
    network_parts,
    network_rota,
)
from scheduler.solver.params import SolveParams, Tuning
from tests import builders as b

NETWORKS = ("N1", "N2", "N3", "N4")
DAYS = [
    b.MONDAY + timedelta(days=k) for k in range(12) if (b.MONDAY + timedelta(days=k)).weekday() < 5
]


def four_networks():
    """Four networks of two practices (A and B) and one hub each, an evening session a weekday
    for two weeks needing one GP; each practice has two GPs limited to their network's hub,
    and practice N1B has a GP who may work anywhere (F)."""
    practices, hubs, clinicians, sessions = [], [], [], []
    for n in NETWORKS:
        hubs.append(b.hub(f"H{n}", network=n, rooms=1))
        for side in "AB":
            practices.append(b.practice(f"{n}{side}", network=n))
            clinicians += [
                b.clinician(
                    f"{n}{side}{k}",
                    practice_code=f"{n}{side}",
                    hubs=(f"H{n}",),
                    max_sessions_per_week=5,
                )
                for k in (1, 2)
            ]
        sessions += [b.evening(day, f"H{n}", b.post("GP")) for day in DAYS]
    clinicians.append(b.clinician("F", practice_code="N1B", max_sessions_per_week=5))
    return b.problem(clinicians=clinicians, sessions=sessions, practices=practices, hubs=hubs)


def unfair_rota(p):
    """Practice A's two GPs work every session of their network, in turns; F works the first
    session at N2's hub (in place of N2A1)."""
    rota = []
    for s in p.sessions:
        n = s.hub_id[1:]
        k = 1 + DAYS.index(s.date) % 2
        who = "F" if (n == "N2" and s.date == DAYS[0]) else f"{n}A{k}"
        rota.append(Assignment(s.session_id, 0, who))
    assert check(p, rota) == []
    return rota


def test_parts_keep_crossing_clinicians_and_take_their_places_out_of_the_posts():
    p = four_networks()
    rota = unfair_rota(p)
    parts, kept = network_parts(p, rota)
    assert [g for g, _ in parts] == [(n,) for n in NETWORKS]
    assert [a.clinician_id for a in kept] == ["F"]
    n2 = dict(parts)[("N2",)]
    assert {c.clinician_id for c in n2.clinicians} == {"N2A1", "N2A2", "N2B1", "N2B2"}
    first = next(s for s in n2.sessions if s.date == DAYS[0])
    assert (first.posts[0].min, first.posts[0].target) == (0, 0)  # F fills it
    assert n2.delivered_elsewhere == {("N2", first.week): 90}  # F's minutes count for N2's contract
    assert (
        contract_requirements(n2)["N2", first.week]
        == contract_requirements(p)["N2", first.week] - 90
    )
    # one room: the posts, less F's place, and F never outnumber it, so the part needs no limit
    assert n2.hub("HN2").rooms is None
    # F is a GP: that session's GP cover is met outside the part, so the part wants none there
    assert n2.gp_elsewhere == {first.session_id}
    own = [a for a in rota if a.clinician_id in {c.clinician_id for c in n2.clinicians}]
    assert objective_parts(n2, own)["gp_cover"] == 0
    n1 = dict(parts)[("N1",)]
    assert "F" not in {c.clinician_id for c in n1.clinicians}  # F crosses: kept, in no part
    assert all(c.hubs == frozenset({"HN1"}) for c in n1.clinicians)
    assert {s.hub_id for s in n1.sessions} == {"HN1"}


def test_no_parts_for_few_networks_or_a_published_rota():
    p = four_networks()
    rota = unfair_rota(p)
    two = b.problem(
        clinicians=[c for c in p.clinicians if c.practice_code[:2] in ("N1", "N2")],
        sessions=[s for s in p.sessions if s.hub_id in ("HN1", "HN2")],
        practices=[x for x in p.practices if x.network in ("N1", "N2")],
        hubs=[h for h in p.hubs if h.network in ("N1", "N2")],
    )
    assert network_parts(two, [])[0] == []
    published = b.problem(
        clinicians=p.clinicians,
        sessions=p.sessions,
        practices=p.practices,
        hubs=p.hubs,
        published=(Pin(rota[0].session_id, rota[0].clinician_id),),
    )
    assert network_parts(published, rota)[0] == []


def test_joined_rota_breaks_no_rule_keeps_the_upper_goals_and_shares_out_better():
    p = four_networks()
    rota = unfair_rota(p)
    joined = network_rota(p, rota, 20, SolveParams(workers=1, seed=0), solve_module.solve)
    assert joined is not None
    assert check(p, joined) == []
    before, after = objective_parts(p, rota), objective_parts(p, joined)
    for part in ("unfilled_min", "gp_cover", "contract", "unfilled_target"):
        assert after[part] <= before[part]
    assert after["fair_share"] < before["fair_share"]


@pytest.mark.parametrize("seed", [0])
def test_solve_with_decomposition_gives_a_checked_rota(seed):
    """With the threshold at 0 every fair-share phase starts network by network; the result is
    still checked rule by rule and its parts are the checker's."""
    p = four_networks()
    params = SolveParams(time_limit=30, workers=2, seed=seed, tuning=Tuning(decompose_variables=0))
    result = solve_module.solve(p, params)
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert check(p, result.rota) == []
    assert result.parts == objective_parts(p, result.rota)
    assert result.parts["unfilled_min"] == 0


def test_places_leave_room_for_the_kept_people_and_never_cut_the_rotas_own():
    """Two rooms and three posts: F (kept) takes the GP post and a nurse of the part the
    nurse post, so the HCA post has no room left in the part; the nurse's place stays."""
    p = b.problem(
        clinicians=[b.clinician("F"), b.clinician("N", role="Nurse"), b.clinician("H", role="HCA")],
        hubs=[b.hub("H1", rooms=2)],
        sessions=[
            b.evening(b.MONDAY, "H1", b.post("GP"), b.post("Nurse", 0, 1), b.post("HCA", 0, 1))
        ],
    )
    sid = p.sessions[0].session_id
    rota = [Assignment(sid, 0, "F"), Assignment(sid, 1, "N")]
    places = _places(p, rota, rota[:1])
    assert places == {(sid, 0): 0, (sid, 1): 1, (sid, 2): 0}
    assert _post_with(p.sessions[0].posts[2], 0).target == 0
    assert _post_with(p.sessions[0].posts[1], 1) == p.sessions[0].posts[1]


def test_hold_above_keeps_the_start_on_the_upper_tiers_and_minimises_the_rest():
    """With hold_above, the tiers above fair share are not searched but held at the start's
    values (phases of 0 s), and fair share still falls from the start's."""
    p = four_networks()
    rota = unfair_rota(p)
    before = objective_parts(p, rota)
    result = solve_module.solve(
        p, SolveParams(time_limit=20, workers=1, hold_above="fair_share"), start=rota
    )
    assert check(p, result.rota) == []
    held = [ph for ph in result.phases if ph.seconds == 0.0]
    assert [ph.tier for ph in held] == [
        ("unfilled_min",),
        ("gp_cover",),
        ("contract",),
    ]  # the active tiers above
    assert all(ph.value == sum(before[part] for part in ph.tier) for ph in held)
    for part in ("unfilled_min", "gp_cover", "contract", "unfilled_target"):
        assert result.parts[part] <= before[part]
    assert result.parts["fair_share"] < before["fair_share"]


def test_a_cut_post_counts_its_shortfall_as_the_whole_does():
    """A post of min 2 and target 3 with one kept person on it: the part must find one more for
    the minimum and two for the target, as the whole must, in at most the places left."""
    post = b.post("GP", 2, 3)
    cut = _post_with(post, 2, kept=1)
    assert (cut.min, cut.target, cut.most) == (1, 2, 2)
    rooms = _post_with(post, 1, kept=1)  # the hub's rooms leave one place: no more than that
    assert (rooms.min, rooms.target, rooms.most) == (1, 1, 1)


def test_a_part_solve_counts_what_the_checker_counts():
    """Each part's rota, solved with its kept people outside it, has the checker's parts."""
    p = four_networks()
    parts, _ = network_parts(p, unfair_rota(p))
    for _, part in parts:
        result = solve_module.solve(part, SolveParams(time_limit=5, workers=1))
        assert check(part, result.rota) == []
        assert result.parts == objective_parts(part, result.rota)


def costly_rota():
    """four_networks with each A1 GP costing twice what A2 does, and a rota in which every A1
    works six sessions of its network and A2 four: its cost can fall only by A2 taking A1's
    sessions, within its practice (so fair share stays) and without loading anyone more."""
    base = four_networks()
    p = b.problem(
        clinicians=[
            replace(c, cost_per_hour_pence=8000 if c.clinician_id.endswith("A1") else 4000)
            for c in base.clinicians
        ],
        sessions=base.sessions,
        practices=base.practices,
        hubs=base.hubs,
    )
    rota = [
        Assignment(
            s.session_id,
            0,
            "F"
            if (s.hub_id == "HN2" and s.date == DAYS[0])
            else f"{s.hub_id[1:]}A{1 if DAYS.index(s.date) < 6 else 2}",
        )
        for s in p.sessions
    ]
    assert check(p, rota) == []
    return p, rota


def test_cost_parts_lower_cost_and_keep_every_goal_above_it():
    p, rota = costly_rota()
    joined = network_cost_rota(p, rota, 20, SolveParams(workers=1, seed=0), solve_module.solve)
    assert joined is not None
    assert check(p, joined) == []
    before, after = objective_parts(p, rota), objective_parts(p, joined)
    assert after["fair_share"] == before["fair_share"]  # every practice keeps its minutes
    for part in ("unfilled_min", "gp_cover", "contract", "unfilled_target", "preferences"):
        assert after[part] <= before[part]
    assert _even(after) <= _even(before)
    assert after["cost"] < before["cost"]
    assert [a for a in joined if a.clinician_id == "F"] == [
        a for a in rota if a.clinician_id == "F"
    ]


def _even(parts):
    return parts["even_load"] + 4 * parts["even_saturdays"] + 10 * parts["min_sessions"]


def test_solve_lowers_cost_network_by_network_on_a_big_model(monkeypatch):
    """With the threshold at 0 the last phase, cost, starts from the network parts' rota; the
    result is still checked rule by rule, its parts are the checker's, and its cost is no
    higher than the parts'."""
    found = []

    def spy(*args, **kwargs):
        joined = network_cost_rota(*args, **kwargs)
        found.append(joined)
        return joined

    monkeypatch.setattr(solve_module, "network_cost_rota", spy)
    p, _ = costly_rota()
    params = SolveParams(time_limit=30, workers=2, seed=0, tuning=Tuning(decompose_variables=0))
    result = solve_module.solve(p, params)
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert check(p, result.rota) == []
    assert result.parts == objective_parts(p, result.rota)
    assert found and found[0] is not None  # the parts ran
    assert check(p, found[0]) == []
    assert result.parts["cost"] <= objective_parts(p, found[0])["cost"]


def test_a_cost_part_pins_its_practices_minutes_and_is_judged_on_the_whole_fair_share():
    """A cost part's list sizes are the minutes its start gives each practice; a rota that
    moves a session from one practice to another is judged on the whole problem's fair share,
    one that swaps sessions within a practice keeps it."""
    p, rota = costly_rota()
    parts, kept = network_parts(p, rota)
    fairness = _Fairness(p, rota, kept)
    n1 = dict(parts)[("N1",)]
    start = [a for a in rota if a.clinician_id.startswith("N1")]
    pinned = fairness.pinned(n1, start)
    assert {x.code: x.list_size for x in pinned.practices} == {"N1A": 900, "N1B": 0}  # ten evenings
    swapped = [
        replace(a, clinician_id="N1A2")
        if a.clinician_id == "N1A1"
        else replace(a, clinician_id="N1A1")
        for a in start
    ]
    assert fairness.kept(n1, start, swapped)
    # N1A holds every session, over its share: one given to N1B brings both nearer theirs
    moved = [replace(start[0], clinician_id="N1B1")] + start[1:]
    assert fairness.kept(n1, start, moved)
    # and one more minute for N1A, were it possible, would take it further from its share
    assert not fairness.kept(n1, moved, start)
