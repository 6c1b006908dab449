"""Fair share by swaps (scheduler.solver.swap): posts change hands between practices of the
same role, never breaking a rule, never worsening fair share or any goal above it."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from scheduler.checker import RotaView, check, objective_parts, violations_if_added, weighted_total
from scheduler.domain import GOALS, Assignment, Offer, Pin, Rules, Status, fair_share_weights
from scheduler.solver.swap import _Swaps, cost_swaps, fair_share_swaps
from tests import builders as b

DAYS = [
    b.MONDAY + timedelta(days=k) for k in range(12) if (b.MONDAY + timedelta(days=k)).weekday() < 5
]
ABOVE = [part for tier in GOALS[: GOALS.index(("fair_share",))] for part in tier]


def two_practices(**kw):
    """Practices A and B of equal size, two GPs each, one evening GP post a weekday for two
    weeks; `kw` goes to B's GPs."""
    practices = [b.practice("A"), b.practice("B")]
    clinicians = [b.clinician(f"A{k}", practice_code="A", max_sessions_per_week=5) for k in (1, 2)]
    clinicians += [
        b.clinician(f"B{k}", practice_code="B", **{"max_sessions_per_week": 5, **kw})
        for k in (1, 2)
    ]
    sessions = [b.evening(day, "H1", b.post("GP")) for day in DAYS]
    return b.problem(clinicians=clinicians, sessions=sessions, practices=practices)


def all_a(p):
    """A's two GPs work every session, in turns."""
    rota = tuple(Assignment(s.session_id, 0, f"A{1 + k % 2}") for k, s in enumerate(p.sessions))
    assert check(p, rota) == []
    return rota


def test_swaps_share_the_sessions_out_evenly():
    """Ten sessions all worked by A: B takes five, and fair share reaches 0."""
    p = two_practices()
    rota = all_a(p)
    assert objective_parts(p, rota)["fair_share"] > 0
    swapped = fair_share_swaps(p, rota, 10)
    assert check(p, swapped) == []
    assert objective_parts(p, swapped)["fair_share"] == 0
    assert sum(a.clinician_id.startswith("B") for a in swapped) == 5
    assert {a.session_id for a in swapped} == {a.session_id for a in rota}


def test_swaps_respect_each_clinicians_rules():
    """B's GPs may work one session a week each: B takes four of the ten, no more."""
    p = two_practices(max_sessions_per_week=1)
    swapped = fair_share_swaps(p, all_a(p), 10)
    assert check(p, swapped) == []
    assert sum(a.clinician_id.startswith("B") for a in swapped) == 4


def test_swaps_keep_the_role_locked_posts_and_fixed_days():
    """B has only a nurse (another role): nothing moves; with B's GPs back, a locked
    assignment and the assignments on fixed days stay with A."""
    p = two_practices(role="Nurse")
    rota = all_a(p)
    assert fair_share_swaps(p, rota, 10) == tuple(sorted(rota))
    p = two_practices()
    first = p.sessions[0]
    p = b.problem(
        clinicians=p.clinicians,
        sessions=p.sessions,
        practices=p.practices,
        published=(Pin(first.session_id, "A1", locked=True),),
    )
    rota = tuple(
        Assignment(
            a.session_id, a.post_index, a.clinician_id, locked=a.session_id == first.session_id
        )
        for a in all_a(p)
    )
    fixed = set(DAYS[5:])
    swapped = fair_share_swaps(p, rota, 10, fixed_day=lambda day: day in fixed)
    assert check(p, swapped) == []
    kept = {
        a
        for a in rota
        if a.locked or a.session_id in {s.session_id for s in p.sessions if s.date in fixed}
    }
    assert kept <= set(swapped)
    assert 0 < sum(a.clinician_id.startswith("B") for a in swapped) <= 4


def _random_problem(seed: int):
    """Three practices of different sizes, mixed roles, hubs, caps, rests and availability."""
    rng = random.Random(seed)
    practices = [b.practice(code, list_size=rng.choice([4_000, 9_000, 15_000])) for code in "PQR"]
    hubs = [b.hub("H1", rooms=2), b.hub("H2", rooms=1)]
    clinicians = [
        b.clinician(
            f"C{k}",
            rng.choice(["GP", "GP", "Nurse"]),
            practice_code=rng.choice("PQR"),
            hubs=rng.choice([(), ("H1",), ("H2",)]),
            max_sessions_per_week=rng.choice([1, 2, 3]),
            max_sessions_per_period=rng.choice([None, 4]),
            min_minutes_per_period=rng.choice([None, None, 90]),
            weekly_minutes_elsewhere=rng.choice([0, 46 * 60]),
        )
        for k in range(9)
    ]
    sessions = []
    for day in DAYS:
        for h in ("H1", "H2"):
            if rng.random() < 0.7:
                start, end = rng.choice(
                    [("18:30", "20:00"), ("07:00", "08:00"), ("18:00", "21:00")]
                )
                sessions.append(
                    b.session(
                        day,
                        start,
                        end,
                        h,
                        (b.post(rng.choice(["GP", "GP;Nurse"]), min=0, target=1),),
                    )
                )
    # half the cases unavailable unless offered (as the generated federations), half the other way
    default = Status.UNAVAILABLE if seed % 2 else Status.AVAILABLE
    away = b.offers(
        *[
            (c.clinician_id, day, "A" if seed % 2 else "U")
            for c in clinicians
            for day in DAYS
            if rng.random() < (0.8 if seed % 2 else 0.2)
        ]
    )
    for c in clinicians:  # weighted requests for and against a day's session
        day = rng.choice(DAYS)
        status = rng.choice([Status.AVAILABLE, Status.UNAVAILABLE])
        away[c.clinician_id, day] = (*away.get((c.clinician_id, day), ()), Offer(status, weight=5))
    p = b.problem(
        clinicians=clinicians,
        sessions=sessions,
        practices=practices,
        hubs=hubs,
        rules=Rules(availability_default=default, max_consecutive_days=3),
        availability=away,
    )
    return p, rng


def _random_rota(p, rng):
    """A valid rota built one assignment at a time (each the checker allows); clinicians whose
    minimum of minutes it misses lose that minimum, and some of it is published."""
    rota: list[Assignment] = []
    for s in p.sessions:
        for c in rng.sample(p.clinicians, len(p.clinicians)):
            if violations_if_added(p, rota, s.session_id, 0, c.clinician_id) == []:
                rota.append(Assignment(s.session_id, 0, c.clinician_id))
                break
    short = {v.clinician_id for v in check(p, rota) if v.rule == "period_minutes"}
    return replace(
        p,
        clinicians=tuple(
            replace(c, min_minutes_per_period=None) if c.clinician_id in short else c
            for c in p.clinicians
        ),
        published=tuple(
            Pin(a.session_id, a.clinician_id)
            for k, a in enumerate(rota)
            if k == 0 or rng.random() < 0.3
        ),
    ), tuple(rota)


@pytest.mark.parametrize("seed", range(12))
def test_swaps_on_random_rotas_break_no_rule_and_only_gain(seed):
    """From a valid random rota (assignments added while the checker allows), the swaps leave
    a valid rota with fair share no worse and every goal above it as it was."""
    p, rng = _random_problem(seed)
    p, rota = _random_rota(p, rng)
    assert check(p, rota) == []
    assert objective_parts(p, rota)["requests"] and objective_parts(p, rota)["stability"]
    swapped = fair_share_swaps(p, rota, 10, seed)
    assert check(p, swapped) == []
    before, after = objective_parts(p, rota), objective_parts(p, swapped)
    assert after["fair_share"] <= before["fair_share"]
    assert {k: after[k] for k in ABOVE} == {k: before[k] for k in ABOVE}
    assert len(swapped) == len(rota)


def test_a_chain_carries_posts_across_hubs():
    """G's GP works four sessions at H1, where only M's GP may stand in; M's may work H1 and H2
    and works H2's two; Q's may work only H2. No direct swap helps (Q cannot work H1, M is at
    its share): two chains (M takes a post from G and hands one of its own to Q) bring every
    practice to its share."""
    practices = [b.practice(code) for code in ("G", "M", "Q")]
    clinicians = [
        b.clinician("g", practice_code="G", hubs=("H1",), max_sessions_per_week=5),
        b.clinician("t", practice_code="M", hubs=("H1", "H2"), max_sessions_per_week=5),
        b.clinician("q", practice_code="Q", hubs=("H2",), max_sessions_per_week=5),
    ]
    hubs = [b.hub(h) for h in ("H1", "H2")]
    where = ["H1"] * 4 + ["H2"] * 2
    sessions = [b.evening(day, hub, b.post("GP")) for day, hub in zip(DAYS, where, strict=False)]
    p = b.problem(clinicians=clinicians, sessions=sessions, practices=practices, hubs=hubs)
    rota = tuple(Assignment(s.session_id, 0, "g" if s.hub_id == "H1" else "t") for s in p.sessions)
    assert check(p, rota) == [] and objective_parts(p, rota)["fair_share"] > 0
    swapped = fair_share_swaps(p, rota, 10)
    assert check(p, swapped) == []
    assert objective_parts(p, swapped)["fair_share"] == 0
    assert Counter(a.clinician_id for a in swapped) == {"g": 2, "t": 2, "q": 2}
    assert {a.session_id for a in swapped if a.clinician_id == "q"} == {
        s.session_id for s in p.sessions if s.hub_id == "H2"
    }


def _two_networks():
    """A1 and A2 (network N1) and C (N2), of equal size; twelve evening GP posts at N1's hub,
    all worked by A1's GP. A2's GP may work only N1's hub, C's anywhere."""
    practices = [
        b.practice("A1", network="N1"),
        b.practice("A2", network="N1"),
        b.practice("C", network="N2"),
    ]
    hubs = [b.hub("H1", network="N1"), b.hub("H2", network="N2")]
    clinicians = [
        b.clinician("a1", practice_code="A1", max_sessions_per_week=6),
        b.clinician("a2", practice_code="A2", hubs=("H1",), max_sessions_per_week=6),
        b.clinician("c", practice_code="C", max_sessions_per_week=6),
    ]
    days = [
        b.MONDAY + timedelta(days=k)
        for k in range(16)
        if (b.MONDAY + timedelta(days=k)).weekday() < 6
    ][:12]
    sessions = [b.evening(day, "H1", b.post("GP")) for day in days]
    p = b.problem(clinicians=clinicians, sessions=sessions, practices=practices, hubs=hubs)
    rota = tuple(Assignment(s.session_id, 0, "a1") for s in p.sessions)
    assert check(p, rota) == []
    return p, rota


def test_swaps_aimed_at_networks_keep_each_network_at_its_aim():
    """Aimed at N1 keeping all twelve sessions, the aimed passes give A2 its share (four) and C
    none, though C is as far below its share; the passes by practices alone then give C its
    four, and fair_share_swaps ends where it would without an aim."""
    p, rota = _two_networks()
    swaps = _Swaps(p, RotaView.of(p, rota), fair_share_weights(p), random.Random(0), None)
    swaps.aim_networks({"N1": 12 * 90, "N2": 0})
    swaps.converge(time.perf_counter() + 10)
    assert Counter(e.clinician_id for es in swaps.mine.values() for e in es) == {"a1": 8, "a2": 4}
    assert swaps.network_gap == {"N1": 0, "N2": 0}
    swaps.aim_networks(None)
    swaps.converge(time.perf_counter() + 10)
    assert Counter(e.clinician_id for es in swaps.mine.values() for e in es) == {
        "a1": 4,
        "a2": 4,
        "c": 4,
    }
    swapped = fair_share_swaps(p, rota, 10, network_aim={"N1": 12 * 90, "N2": 0})
    assert check(p, swapped) == []
    assert objective_parts(p, swapped)["fair_share"] == 0


@pytest.mark.parametrize("seed", range(6))
def test_swaps_aimed_at_networks_break_no_rule(seed):
    """On random rotas of two networks, swaps aimed at random network minutes leave a valid rota
    with every goal above fair share as it was."""
    p, rng = _random_problem(seed)
    network = {"P": "N1", "Q": "N1", "R": "N2"}
    p = replace(
        p,
        practices=tuple(replace(x, network=network[x.code]) for x in p.practices),
        hubs=tuple(replace(h, network="N1" if h.hub_id == "H1" else "N2") for h in p.hubs),
    )
    p, rota = _random_rota(p, rng)
    aim = {"N1": rng.uniform(0, 3_000), "N2": rng.uniform(0, 3_000)}
    swapped = fair_share_swaps(p, rota, 10, seed, network_aim=aim)
    assert check(p, swapped) == []
    before, after = objective_parts(p, rota), objective_parts(p, swapped)
    assert {k: after[k] for k in ABOVE} == {k: before[k] for k in ABOVE}
    assert len(swapped) == len(rota)


def test_the_last_phase_ends_with_swaps_that_may_move_the_tiers_below_fair_share():
    """solve._swapped_after, cost's closing swaps on a big model: all ten sessions with A's
    GPs, who want five each (min_sessions). Swaps hand half to B, so fair share falls to 0 while
    the tier of even load and min_sessions rises; held at its value, that tier's row makes the
    swapped rota no solution of the model, and let go, the rota is taken: every goal above fair
    share as it was, fair share and the weighted total lower."""
    import scheduler.solver.solve as solve_module
    from scheduler.solver.model import build_model
    from scheduler.solver.params import SolveParams

    p = two_practices()
    p = replace(
        p,
        clinicians=tuple(
            replace(c, min_sessions_per_period=5) if c.practice_code == "A" else c
            for c in p.clinicians
        ),
    )
    rota = all_a(p)
    before = objective_parts(p, rota)
    params = SolveParams(workers=1)

    def model_at_cost():
        rm = build_model(p)
        values = solve_module._rota_values(p, rm, rota, 10, params)
        assert values is not None
        tier = ("even_load", "even_saturdays", "min_sessions")
        rm.model.add(
            sum(p.weights.of(part) * rm.parts[part] for part in tier)
            <= sum(p.weights.of(part) * before[part] for part in tier)
        )
        rm.model.minimize(rm.parts["cost"])
        return rm, values, len(rm.model.proto.constraints) - 1

    rm, values, row = model_at_cost()
    assert (
        solve_module._swapped_after(p, rm, values, [], time.perf_counter() + 10, params, None)
        is None
    )
    rm, values, row = model_at_cost()
    found = solve_module._swapped_after(
        p, rm, values, [row], time.perf_counter() + 10, params, None
    )
    assert found is not None
    swapped = solve_module._values_rota(p, rm, found)
    assert check(p, swapped) == []
    after = objective_parts(p, swapped)
    assert {part: after[part] for part in ABOVE} == {part: before[part] for part in ABOVE}
    assert (
        after["fair_share"] < before["fair_share"]
        and after["min_sessions"] > before["min_sessions"]
    )
    assert weighted_total(p, after) < weighted_total(p, before)


# ---- cost swaps ------------------------------------------------------------------------------

BELOW = (("fair_share",), ("even_load", "even_saturdays", "min_sessions"), ("preferences",))


def _tier_values(p, parts):
    return [sum(p.weights.of(part) * parts[part] for part in tier) for tier in BELOW]


def test_cost_swaps_hand_posts_to_a_cheaper_role_the_post_accepts():
    """Ten "Practice Nurse;ANP" evenings, all worked by A's ANP (£60 an hour): A's practice nurse
    (£35) takes them all. Even load, a tier above cost, is held as a sum at its value in the
    rota the swaps start from: the first five make the load more even and so leave room for
    the next five, which take it back to where it was (10 and 0 to 0 and 10); fair share (one
    practice) does not move. With no room at all (slack spent, below), she takes five."""
    p = b.problem(
        clinicians=[
            b.clinician(
                "anp", "ANP", practice_code="A", max_sessions_per_week=5, cost_per_hour_pence=6000
            ),
            b.clinician(
                "pn",
                "Practice Nurse",
                practice_code="A",
                max_sessions_per_week=5,
                cost_per_hour_pence=3500,
            ),
        ],
        sessions=[b.evening(day, "H1", b.post("Practice Nurse;ANP")) for day in DAYS],
        practices=[b.practice("A")],
    )
    rota = tuple(Assignment(s.session_id, 0, "anp") for s in p.sessions)
    assert check(p, rota) == []
    swapped = cost_swaps(p, rota, 10)
    assert check(p, swapped) == []
    assert Counter(a.clinician_id for a in swapped) == {"pn": 10}
    before, after = objective_parts(p, rota), objective_parts(p, swapped)
    assert after["cost"] == before["cost"] - 10 * 2500 * 90 // 60
    assert after["even_load"] == before["even_load"]
    half = tuple(
        sorted(
            Assignment(s.session_id, 0, "anp" if k % 2 else "pn") for k, s in enumerate(p.sessions)
        )
    )
    assert cost_swaps(p, half, 10) == half  # 5 and 5: any move makes the load less even


def test_cost_swaps_trade_posts_between_practices_of_the_same_length():
    """A's ANP works an evening at H1 and B's ANP one at H2, each practice at its share. B's
    nurse may work only H1, so B's nurse taking A's evening would put B above its share; handed
    on together with B's H2 evening going to A's ANP, each practice keeps its minutes, and the
    evening at H1 costs a nurse's rate instead of an ANP's."""
    hubs = [b.hub("H1"), b.hub("H2")]
    clinicians = [
        b.clinician(
            "a", "ANP", practice_code="A", max_sessions_per_week=5, cost_per_hour_pence=6000
        ),
        b.clinician(
            "bn",
            "ANP",
            practice_code="B",
            hubs=("H2",),
            max_sessions_per_week=5,
            cost_per_hour_pence=6000,
        ),
        b.clinician(
            "pb",
            "Practice Nurse",
            practice_code="B",
            hubs=("H1",),
            max_sessions_per_week=5,
            cost_per_hour_pence=3000,
        ),
    ]
    sessions = [
        b.evening(DAYS[0], "H1", b.post("Practice Nurse;ANP")),
        b.evening(DAYS[1], "H2", b.post("ANP")),
    ]
    p = b.problem(
        clinicians=clinicians,
        sessions=sessions,
        practices=[b.practice("A"), b.practice("B")],
        hubs=hubs,
    )
    rota = (Assignment(sessions[0].session_id, 0, "a"), Assignment(sessions[1].session_id, 0, "bn"))
    assert check(p, rota) == [] and objective_parts(p, rota)["fair_share"] == 0
    swapped = cost_swaps(p, rota, 10)
    assert check(p, swapped) == []
    assert set(swapped) == {
        Assignment(sessions[0].session_id, 0, "pb"),
        Assignment(sessions[1].session_id, 0, "a"),
    }
    before, after = objective_parts(p, rota), objective_parts(p, swapped)
    assert after["fair_share"] == 0 and after["cost"] == before["cost"] - 3000 * 90 // 60
    assert _tier_values(p, after) <= _tier_values(p, before)


def test_cost_swaps_keep_gps_on_posts_where_only_they_give_gp_cover():
    """A GP on a "GP;Practice Nurse" post stays there though a nurse costs less: GP cover, a
    tier above fair share, counts GPs alone."""
    p = b.problem(
        clinicians=[
            b.clinician("gp", "GP", practice_code="A", cost_per_hour_pence=10_000),
            b.clinician("pn", "Practice Nurse", practice_code="A", cost_per_hour_pence=3000),
        ],
        sessions=[b.evening(DAYS[0], "H1", b.post("GP;Practice Nurse"))],
        practices=[b.practice("A")],
    )
    rota = (Assignment(p.sessions[0].session_id, 0, "gp"),)
    assert cost_swaps(p, rota, 10) == rota


@pytest.mark.parametrize("price", [0, 150])
@pytest.mark.parametrize("seed", range(12))
def test_cost_swaps_on_random_rotas_break_no_rule_and_only_gain(seed, price):
    """From a valid random rota of GPs, nurses and ANPs at random rates, the cost swaps leave a
    valid rota with every goal above fair share as it was, fair share and the tiers between it
    and cost no worse, and cost no higher (with a price on even load too: the slack it makes
    is only ever spent)."""
    p, rng = _random_problem(seed)
    roles = {c.clinician_id: rng.choice(["GP", "Nurse", "ANP"]) for c in p.clinicians}
    p = replace(
        p,
        clinicians=tuple(
            replace(
                c,
                role=roles[c.clinician_id],
                cost_per_hour_pence=rng.randrange(2000, 11_000),
                min_sessions_per_period=rng.choice([0, 0, 2]),
            )
            for c in p.clinicians
        ),
        sessions=tuple(
            replace(
                s,
                posts=tuple(
                    b.post(rng.choice(["GP", "Nurse;ANP", "GP;Nurse;ANP"]), min=0, target=1)
                    for _ in s.posts
                ),
            )
            for s in p.sessions
        ),
    )
    p, rota = _random_rota(p, rng)
    assert check(p, rota) == []
    swapped = cost_swaps(p, rota, 10, seed, price=price)
    assert check(p, swapped) == []
    before, after = objective_parts(p, rota), objective_parts(p, swapped)
    assert {k: after[k] for k in ABOVE} == {k: before[k] for k in ABOVE}
    assert all(x <= y for x, y in zip(_tier_values(p, after), _tier_values(p, before), strict=True))
    assert after["cost"] <= before["cost"]
    assert len(swapped) == len(rota)


def test_cost_phase_starts_with_cost_swaps_as_a_solution_of_the_held_model():
    """solve._by_cost_swaps, at the start of cost's phase on a big model: with fair share and
    the tiers between held at the rota's values, the swapped rota is a solution of the model
    (the held rows allow it) and its cost, the phase's objective, is lower."""
    import scheduler.solver.solve as solve_module
    from scheduler.solver.model import build_model
    from scheduler.solver.params import SolveParams

    p = b.problem(
        clinicians=[
            b.clinician(
                "anp", "ANP", practice_code="A", max_sessions_per_week=5, cost_per_hour_pence=6000
            ),
            b.clinician(
                "pn",
                "Practice Nurse",
                practice_code="A",
                max_sessions_per_week=5,
                cost_per_hour_pence=3500,
            ),
        ],
        sessions=[b.evening(day, "H1", b.post("Practice Nurse;ANP")) for day in DAYS],
        practices=[b.practice("A"), b.practice("B")],
    )
    rota = tuple(Assignment(s.session_id, 0, "anp") for s in p.sessions)
    before = objective_parts(p, rota)
    params = SolveParams(workers=1)
    rm = build_model(p)
    values = solve_module._rota_values(p, rm, rota, 10, params)
    assert values is not None
    for tier in BELOW:
        rm.model.add(
            sum(p.weights.of(part) * rm.parts[part] for part in tier)
            <= sum(p.weights.of(part) * before[part] for part in tier)
        )
    rm.model.minimize(rm.parts["cost"])
    swapped, found = solve_module._by_cost_swaps(p, rm, rota, values, 10, params, None)
    assert set(solve_module._values_rota(p, rm, found)) == set(swapped)
    assert check(p, swapped) == []
    after = objective_parts(p, swapped)
    assert after["cost"] < before["cost"] and after["fair_share"] == before["fair_share"]
    assert solve_module._objective_value(rm.model, found) == after["cost"]


def _priced_problem():
    """Practice A: GPs ga (£100 an hour, three evenings) and gb (£100.50, one), practice nurses
    nd (£60, two) and nc (£35, two), on eight evenings of one post each."""
    clinicians = [
        b.clinician(
            "ga", "GP", practice_code="A", max_sessions_per_week=5, cost_per_hour_pence=10_000
        ),
        b.clinician(
            "gb", "GP", practice_code="A", max_sessions_per_week=5, cost_per_hour_pence=10_050
        ),
        b.clinician(
            "nd",
            "Practice Nurse",
            practice_code="A",
            max_sessions_per_week=5,
            cost_per_hour_pence=6000,
        ),
        b.clinician(
            "nc",
            "Practice Nurse",
            practice_code="A",
            max_sessions_per_week=5,
            cost_per_hour_pence=3500,
        ),
    ]
    gp = [b.evening(day, "H1", b.post("GP")) for day in DAYS[:4]]
    nurse = [b.evening(day, "H1", b.post("Practice Nurse")) for day in DAYS[4:8]]
    p = b.problem(clinicians=clinicians, sessions=gp + nurse, practices=[b.practice("A")])
    who = ["ga", "ga", "ga", "gb", "nd", "nd", "nc", "nc"]
    rota = tuple(Assignment(s.session_id, 0, c) for s, c in zip(gp + nurse, who, strict=True))
    assert check(p, rota) == []
    return p, rota


def test_cost_swaps_spend_slack_the_holds_leave_on_cheaper_clinicians():
    """Even load is held as a sum: with two units of slack, the cheaper nurse takes one of the
    dearer one's evenings (2 and 2 to 1 and 3 raises even load by one); with none, she cannot."""
    p, rota = _priced_problem()
    assert cost_swaps(p, rota, 5) == tuple(sorted(rota))
    swapped = cost_swaps(p, rota, 5, slack=(2, 0))
    assert check(p, swapped) == []
    before, after = objective_parts(p, rota), objective_parts(p, swapped)
    assert Counter(a.clinician_id for a in swapped)["nc"] == 3
    assert 0 < after["even_load"] - before["even_load"] <= 2
    assert after["cost"] == before["cost"] - 2500 * 90 // 60


def test_cost_swaps_with_a_price_make_slack_where_it_is_cheap_and_spend_it_where_it_pays():
    """At a price of 150 per unit of even load, an evening goes from ga (three) to gb (one) for
    75 pence more, which lowers even load by one, and that unit lets nc take one of nd's
    evenings for £37.50 less: even load ends where it was, cost 3,675 pence lower. Without a
    price neither move is taken."""
    p, rota = _priced_problem()
    swapped = cost_swaps(p, rota, 5, price=150)
    assert check(p, swapped) == []
    before, after = objective_parts(p, rota), objective_parts(p, swapped)
    assert Counter(a.clinician_id for a in swapped) == {"ga": 2, "gb": 2, "nd": 1, "nc": 3}
    assert _tier_values(p, after)[1:] == _tier_values(p, before)[1:]
    assert after["cost"] == before["cost"] + 75 - 3750


def test_a_post_handed_on_and_back_is_a_new_entry_the_old_one_no_longer_moves():
    """With slack and a price a post can go from nd to nc and back again within one pass; the
    entry a pass took at its start is then not its clinician's any more (an equal one is), and
    must not be handed on again: the moves remove entries by identity, so handing on the stale
    one would leave nd the post and give it to nc as well."""
    from scheduler.solver.swap import _CostSwaps

    p, rota = _priced_problem()
    sw = _CostSwaps(p, RotaView.of(p, rota), fair_share_weights(p), random.Random(0), None, (10, 0))
    e = sw.mine["nd"][0]
    assert sw.try_moves([(e, next(c for c in p.clinicians if c.clinician_id == "nc"))])
    there = next(x for x in sw.mine["nc"] if x.session_id == e.session_id)
    sw.price = 5000  # nd has one evening less than nc now: handing it back evens the load
    assert sw.try_moves([(there, e.clinician)])
    back = next(x for x in sw.mine["nd"] if x.session_id == e.session_id)
    assert back == e and back is not e
    assert sw._current(back) and not sw._current(e) and not sw._current(there)
    sw.price = 0
    sw.sweep(time.perf_counter() + 5)
    swapped = sorted(x.assignment for es in sw.mine.values() for x in es)
    assert check(p, swapped) == [] and len(swapped) == len(rota)
