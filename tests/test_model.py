"""Each hard rule three ways in the CP-SAT model: nothing to do is feasible, a violation forced by
locked pins is infeasible, and the allowed edge case is feasible."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from scheduler.domain import Pin, SolveStatus, Status
from scheduler.solver.params import SolveParams
from scheduler.solver.solve import solve
from tests import builders as b

FAST = SolveParams(time_limit=10, workers=1)
MON, SAT = b.MONDAY, b.SATURDAY


def run(problem):
    return solve(problem, FAST)


def pins(*pairs, locked=True):
    return tuple(Pin(s.session_id, cid, locked) for s, cid in pairs)


def assert_feasible(problem):
    result = run(problem)
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE), result.message
    return result


def assert_infeasible(problem):
    result = run(problem)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.rota == ()


# --- nothing to do --------------------------------------------------------------------------


def test_no_sessions_is_feasible():
    """A problem without sessions solves to an empty rota; only the contract misses its
    60 min × 10,000 / 1,000 = 600 minutes for the one week."""
    result = assert_feasible(b.problem(sessions=[]))
    assert result.rota == ()
    assert result.parts["contract"] == 600
    assert result.objective == 600


def test_no_clinicians_leaves_every_post_unfilled():
    """With nobody to allocate, the rota is empty and unfilled_min counts all required minutes."""
    result = assert_feasible(b.problem(clinicians=[], sessions=[b.evening(MON)]))
    assert result.rota == ()
    assert result.parts["unfilled_min"] == 90


# --- one rule at a time: (violation forced by pins is infeasible, allowed case feasible) -------


def test_role_pin_of_wrong_role_is_infeasible():
    """A locked ANP on a GP-only post breaks `role`: no rota exists."""
    s = b.evening(MON)
    assert_infeasible(
        b.problem(
            clinicians=[b.clinician("N1", role="ANP")], sessions=[s], published=pins((s, "N1"))
        )
    )


def test_role_case_insensitive_match_is_feasible():
    """Roles compare case-insensitively: a 'gp' clinician fills a 'GP' post."""
    s = b.evening(MON)
    result = assert_feasible(b.problem(clinicians=[b.clinician("C1", role="gp")], sessions=[s]))
    assert len(result.rota) == 1


def test_skill_missing_is_infeasible_when_pinned():
    """A post needing cytology cannot take a clinician without it (`skill`)."""
    s = b.evening(MON, "H1", b.post("Practice Nurse", 1, skill="cytology"))
    nurse = b.clinician("N1", role="Practice Nurse")
    assert_infeasible(b.problem(clinicians=[nurse], sessions=[s], published=pins((s, "N1"))))
    skilled = b.clinician("N2", role="Practice Nurse", skills=["Cytology"])
    result = assert_feasible(b.problem(clinicians=[nurse, skilled], sessions=[s]))
    assert [a.clinician_id for a in result.rota] == ["N2"]


def test_availability_unavailable_is_infeasible_when_pinned():
    """`availability`: a pin on a date marked U cannot be kept; a window covering the session
    can."""
    s = b.evening(MON)
    off = b.offers(("C1", MON, "U"))
    assert_infeasible(b.problem(sessions=[s], availability=off, published=pins((s, "C1"))))
    window = b.offers(("C1", MON, "A", "18:00", "20:00"))
    assert len(assert_feasible(b.problem(sessions=[s], availability=window)).rota) == 1
    short = b.offers(("C1", MON, "A", "18:00", "19:30"))
    assert assert_feasible(b.problem(sessions=[s], availability=short)).rota == ()


def test_availability_default_unavailable_means_only_offered_dates():
    """With availability_default = unavailable, nobody works a date they did not offer."""
    p = b.with_rules(b.problem(sessions=[b.evening(MON)]), availability_default=Status.UNAVAILABLE)
    assert assert_feasible(p).rota == ()
    p = replace(p, availability=b.offers(("C1", MON, "A")))
    assert len(assert_feasible(p).rota) == 1


def test_allowed_hubs_pin_elsewhere_is_infeasible():
    """`allowed_hubs`: a clinician limited to H2 cannot be pinned at H1, but works at H2."""
    s1, s2 = b.evening(MON, "H1"), b.evening(MON + timedelta(days=1), "H2")
    c = b.clinician("C1", hubs=["H2"])
    assert_infeasible(b.problem(clinicians=[c], sessions=[s1, s2], published=pins((s1, "C1"))))
    result = assert_feasible(b.problem(clinicians=[c], sessions=[s1, s2]))
    assert [a.session_id for a in result.rota] == [s2.session_id]


def test_post_capacity_never_exceeds_target():
    """`post_capacity`: three GPs pinned to a post with target 2 is infeasible; target 2 takes 2."""
    s = b.evening(MON, "H1", b.post("GP", 1, 2))
    gps = [b.clinician(f"C{i}") for i in range(3)]
    assert_infeasible(
        b.problem(clinicians=gps, sessions=[s], published=pins(*((s, c.clinician_id) for c in gps)))
    )
    assert len(assert_feasible(b.problem(clinicians=gps, sessions=[s])).rota) == 2


def test_overlap_two_hubs_at_once_is_infeasible():
    """`overlap`: one clinician pinned to two hubs at the same time; back to back is allowed."""
    a, c = b.evening(MON, "H1"), b.evening(MON, "H2")
    assert_infeasible(b.problem(sessions=[a, c], published=pins((a, "C1"), (c, "C1"))))
    first = b.session(MON, "17:00", "18:30", "H1")
    result = assert_feasible(
        b.problem(sessions=[first, a], published=pins((first, "C1"), (a, "C1")))
    )
    assert len(result.rota) == 2


def test_overlap_one_clinician_takes_one_post_of_a_session():
    """A session with two posts a clinician could fill still gets that clinician once."""
    s = b.evening(MON, "H1", b.post("GP", 1), b.post("GP;ANP", 1))
    result = assert_feasible(b.problem(sessions=[s]))
    assert len(result.rota) == 1
    assert result.parts["unfilled_min"] == 90


def test_min_rest_evening_then_early_start_is_infeasible():
    """`min_rest`: Fri 18:30–20:00 then Sat 07:00 is 11 h exactly (allowed); Sat 06:30 is not."""
    fri = b.evening(MON + timedelta(days=4))
    early = b.session(SAT, "06:30", "12:00")
    assert_infeasible(b.problem(sessions=[fri, early], published=pins((fri, "C1"), (early, "C1"))))
    ok = b.session(SAT, "07:00", "12:00")
    assert (
        len(
            assert_feasible(
                b.problem(sessions=[fri, ok], published=pins((fri, "C1"), (ok, "C1")))
            ).rota
        )
        == 2
    )


def test_max_consecutive_days_is_infeasible_one_day_over():
    """`max_consecutive_days` = 3: four evenings in a row cannot all be pinned; three can."""
    days = [b.evening(MON + timedelta(days=i)) for i in range(4)]
    c = b.clinician("C1", max_sessions_per_week=7)
    p = b.with_rules(b.problem(clinicians=[c], sessions=days), max_consecutive_days=3)
    assert_infeasible(replace(p, published=pins(*((s, "C1") for s in days))))
    assert_feasible(replace(p, published=pins(*((s, "C1") for s in days[:3]))))


def test_weekly_cap_is_infeasible_above_cap():
    """`weekly_cap` 2: three pinned evenings in one ISO week break it; next week's third is fine."""
    evenings = [b.evening(MON + timedelta(days=i)) for i in (0, 2, 4)]
    assert_infeasible(b.problem(sessions=evenings, published=pins(*((s, "C1") for s in evenings))))
    spread = evenings[:2] + [b.evening(MON + timedelta(days=7))]
    result = assert_feasible(
        b.problem(sessions=spread, published=pins(*((s, "C1") for s in spread)))
    )
    assert len(result.rota) == 3


def test_period_cap_is_infeasible_above_cap():
    """`period_cap` 1: two pinned sessions break it; one is fine."""
    c = b.clinician("C1", max_sessions_per_period=1)
    two = [b.evening(MON), b.evening(MON + timedelta(days=2))]
    assert_infeasible(
        b.problem(clinicians=[c], sessions=two, published=pins(*((s, "C1") for s in two)))
    )
    assert len(assert_feasible(b.problem(clinicians=[c], sessions=two)).rota) == 1


def test_rooms_is_infeasible_when_full():
    """`rooms` 1: two clinicians pinned into overlapping sessions at one hub break it."""
    a = b.evening(MON, "H1")
    c = b.session(MON, "19:00", "20:30", "H1")
    hub = b.hub("H1", rooms=1)
    two = [b.clinician("C1"), b.clinician("C2")]
    assert_infeasible(
        b.problem(clinicians=two, sessions=[a, c], hubs=[hub], published=pins((a, "C1"), (c, "C2")))
    )
    result = assert_feasible(b.problem(clinicians=two, sessions=[a, c], hubs=[hub]))
    assert len(result.rota) == 1


def test_locked_pin_is_kept_even_when_costly():
    """`locked`: a locked pin stays although an unpinned cheaper clinician could take the post."""
    s = b.evening(MON)
    dear = b.clinician("C1", cost_per_hour_pence=20_000)
    cheap = b.clinician("C2", cost_per_hour_pence=1_000)
    result = assert_feasible(
        b.problem(clinicians=[dear, cheap], sessions=[s], published=pins((s, "C1")))
    )
    assert [(a.clinician_id, a.locked) for a in result.rota] == [("C1", True)]


def test_max_weekly_hours_counts_hours_elsewhere():
    """`max_weekly_hours` 48 with 40 h elsewhere leaves 8 h: a Saturday (8 h) fits, plus an
    evening (1.5 h) does not."""
    c = b.clinician("C1", weekly_minutes_elsewhere=40 * 60)
    sat, eve = b.saturday(SAT), b.evening(MON)
    assert_infeasible(
        b.problem(clinicians=[c], sessions=[eve, sat], published=pins((eve, "C1"), (sat, "C1")))
    )
    assert (
        len(
            assert_feasible(
                b.problem(clinicians=[c], sessions=[eve, sat], published=pins((sat, "C1")))
            ).rota
        )
        == 1
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_result_never_raises_for_infeasible(workers):
    """An infeasible problem returns a status and message instead of raising."""
    s = b.evening(MON)
    p = b.problem(
        clinicians=[b.clinician("N1", role="ANP")], sessions=[s], published=pins((s, "N1"))
    )
    result = solve(p, SolveParams(time_limit=5, workers=workers))
    assert result.status is SolveStatus.INFEASIBLE
    assert "no rota" in result.message


# --- the optional general rules ---------------------------------------------------------------


def test_sessions_per_day_limits_a_clinician_to_one_session_a_day():
    """`sessions_per_day` 1: an evening and a morning the same day cannot both be pinned; on
    different days they can; with no such rule both are fine."""
    morning, evening = b.session(MON, "09:00", "12:00"), b.evening(MON)
    c = b.clinician("C1", max_sessions_per_day=1)
    both = pins((morning, "C1"), (evening, "C1"))
    assert_infeasible(b.problem(clinicians=[c], sessions=[morning, evening], published=both))
    assert_feasible(b.problem(sessions=[morning, evening], published=both))
    other_day = b.evening(TUE)
    assert_feasible(
        b.problem(
            clinicians=[c],
            sessions=[morning, other_day],
            published=pins((morning, "C1"), (other_day, "C1")),
        )
    )


def kinded(s, kind):
    return replace(s, kind=kind)


TUE = MON + timedelta(days=1)


def test_kind_cap_limits_sessions_of_one_kind():
    """`kind_cap` L=1: two L sessions cannot both be pinned; an L and an E can."""
    c = b.clinician("C1", max_per_kind=(("L", 1),))
    l1, l2 = kinded(b.evening(MON), "L"), kinded(b.evening(TUE), "L")
    assert_infeasible(
        b.problem(clinicians=[c], sessions=[l1, l2], published=pins((l1, "C1"), (l2, "C1")))
    )
    e2 = kinded(b.evening(TUE), "E")
    assert len(assert_feasible(b.problem(clinicians=[c], sessions=[l1, e2])).rota) == 2


def test_period_minutes_bound_total_minutes_both_ways():
    """`period_minutes`: at most 90 minutes forbids two pinned evenings; at least 180 forces two
    evenings; at least 600 with only 180 possible is infeasible."""
    two = [b.evening(MON), b.evening(TUE)]
    most = b.clinician("C1", max_minutes_per_period=90)
    assert_infeasible(
        b.problem(clinicians=[most], sessions=two, published=pins(*((s, "C1") for s in two)))
    )
    least = b.clinician("C1", min_minutes_per_period=180)
    p = b.problem(
        clinicians=[least, b.clinician("C2")],
        sessions=two,
        weights=replace(b.problem().weights, even_load=0),
    )
    assert sum(a.clinician_id == "C1" for a in assert_feasible(p).rota) == 2
    assert_infeasible(
        b.problem(clinicians=[b.clinician("C1", min_minutes_per_period=600)], sessions=two)
    )


def test_min_consecutive_days_forbids_short_inner_runs():
    """`min_consecutive_days` 2 over a Mon–Sun period: a lone Wednesday is a run of 1 inside the
    period (infeasible); a lone Monday touches the start and is exempt; Wed+Thu is fine."""
    days = [b.evening(MON + timedelta(days=i)) for i in range(7)]
    c = b.clinician("C1", min_consecutive_days=2, max_sessions_per_week=7)
    base = b.problem(
        clinicians=[c],
        sessions=days,
        period=(MON, MON + timedelta(days=6)),
        availability=b.offers(*(("C1", s.date, "U") for s in days[4:])),
    )
    wed, thu = days[2], days[3]
    # C1 is unavailable Fri–Sun; the lone Wednesday must then join Tue or Thu
    only_wed = replace(
        base,
        availability={
            **base.availability,
            **b.offers(("C1", MON + timedelta(days=1), "U"), ("C1", MON + timedelta(days=3), "U")),
        },
    )
    assert_infeasible(replace(only_wed, published=pins((wed, "C1"))))
    assert_feasible(replace(base, published=pins((days[0], "C1"))))
    assert_feasible(replace(base, published=pins((wed, "C1"), (thu, "C1"))))


def test_min_consecutive_days_off_forbids_short_breaks():
    """`min_consecutive_days_off` 2: working Mon and Wed, unavailable Tue, leaves a one-day break
    (infeasible); Mon and Thu leave two days off (fine)."""
    days = [b.evening(MON + timedelta(days=i)) for i in range(7)]
    c = b.clinician("C1", min_consecutive_days_off=2, max_sessions_per_week=7)
    p = b.problem(
        clinicians=[c],
        sessions=days,
        period=(MON, MON + timedelta(days=6)),
        availability=b.offers(("C1", TUE, "U")),
    )
    assert_infeasible(replace(p, published=pins((days[0], "C1"), (days[2], "C1"))))
    assert_feasible(replace(p, published=pins((days[0], "C1"), (days[3], "C1"))))


def test_max_weekends_counts_saturday_or_sunday_once():
    """`max_weekends` 1: Saturdays of two weeks cannot both be pinned; Sat and Sun of one
    weekend count once."""
    sat1, sun1 = b.saturday(SAT), b.session(SAT + timedelta(days=1), "09:00", "17:00")
    sat2 = b.saturday(SAT + timedelta(days=7))
    c = b.clinician("C1", max_weekends=1, max_sessions_per_week=7)
    assert_infeasible(
        b.problem(clinicians=[c], sessions=[sat1, sat2], published=pins((sat1, "C1"), (sat2, "C1")))
    )
    assert_feasible(
        b.problem(clinicians=[c], sessions=[sat1, sun1], published=pins((sat1, "C1"), (sun1, "C1")))
    )


def test_forbidden_succession_reads_the_earlier_day_first():
    """("L", "E") forbidden: L on Monday then E on Tuesday is infeasible; E then L is fine."""
    l_mon, e_tue = kinded(b.evening(MON), "L"), kinded(b.evening(TUE), "E")
    p = b.with_rules(b.problem(sessions=[l_mon, e_tue]), forbidden_successions=(("L", "E"),))
    assert_infeasible(replace(p, published=pins((l_mon, "C1"), (e_tue, "C1"))))
    e_mon, l_tue = kinded(b.evening(MON), "E"), kinded(b.evening(TUE), "L")
    q = b.with_rules(b.problem(sessions=[e_mon, l_tue]), forbidden_successions=(("L", "E"),))
    assert_feasible(replace(q, published=pins((e_mon, "C1"), (l_tue, "C1"))))
