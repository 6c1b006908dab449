"""The independent checker: each hard rule three ways, and each objective part to the unit."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from scheduler.checker import (
    CHECKS,
    PART_FUNCTIONS,
    RotaView,
    Violation,
    check,
    objective_parts,
    violations_after_edit,
    violations_if_added,
    weighted_total,
)
from scheduler.domain import HARD_RULES, PARTS, Assignment, Pin, Rules, Status, Weights
from tests.builders import (
    MONDAY,
    SATURDAY,
    clinician,
    evening,
    hub,
    offers,
    post,
    practice,
    problem,
    saturday,
    session,
    with_rules,
)

TUESDAY = MONDAY + timedelta(days=1)


def a(s, cid: str = "C1", post_index: int = 0) -> Assignment:
    """An assignment of `cid` to post `post_index` of session `s`."""
    return Assignment(s.session_id, post_index, cid)


def stems(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


# ---- shape ---------------------------------------------------------------------------------


def test_one_check_per_hard_rule():
    """CHECKS holds one function per HARD_RULES stem, named check_<stem>, in the same order."""
    assert tuple(CHECKS) == HARD_RULES
    assert all(f.__name__ == f"check_{stem}" for stem, f in CHECKS.items())


def test_checker_imports_no_solver():
    """The checker is the specification: importing it and explain loads neither ortools nor
    pandas."""
    code = (
        "import sys, scheduler.checker, scheduler.explain; "
        "print(sorted(m for m in ('ortools', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "[]"


def test_violation_line_names_rule_clinician_and_session():
    """line() reads 'rule: clinician session: message', with '-' for a missing part."""
    v = Violation("min_rest", "C1042", "KHC-20270305-1830-2000", "under 11 h rest")
    assert v.line() == "min_rest: C1042 KHC-20270305-1830-2000: under 11 h rest"
    assert Violation("rooms", None, "H1-x", "full").line() == "rooms: - H1-x: full"


def test_min_rest_message_reads_like_the_example():
    """A rest violation names the earlier session, its day, times and hub name and the gap."""
    fri = date(2027, 3, 5)
    s1 = session(fri, "18:30", "22:00", "KHC")
    s2 = session(fri + timedelta(days=1), "07:00", "12:00", "KHC")
    p = problem(sessions=[s1, s2], hubs=[hub("KHC", name="Kingsway Health Centre")])
    [v] = check(p, (a(s1, "C1"), a(s2, "C1")))
    assert v.line() == (
        "min_rest: C1 KHC-20270305-1830-2200: under 11 h rest after Fri 5 Mar 18:30–22:00 at "
        "Kingsway Health Centre (next starts 07:00 next day at Kingsway Health Centre; "
        "gap 9 h 0 m, needed 11 h)"
    )


# ---- unknown references --------------------------------------------------------------------


def test_unknown_session_post_and_clinician_are_reported():
    """Assignments naming a missing session, post index or clinician give `unknown` each."""
    s = evening(MONDAY)
    p = problem(sessions=[s])
    rota = (Assignment("H1-20270101-1830-2000", 0, "C1"), a(s, "C1", 3), a(s, "C9"))
    found = check(p, rota)
    assert [v.rule for v in found] == ["unknown"] * 3
    assert {v.clinician_id for v in found} == {"C1", "C9"}


# ---- role --------------------------------------------------------------------------------


def test_role_empty_rota_passes():
    """An empty rota breaks no rule."""
    assert check(problem(clinicians=[clinician("C1", "ANP")]), ()) == []


def test_role_broken_by_a_wrong_role():
    """An ANP on a GP-only post is a role violation, and nothing else."""
    s = evening(MONDAY)
    p = problem(clinicians=[clinician("C1", "ANP")], sessions=[s])
    assert stems(check(p, (a(s),))) == {"role"}


def test_role_matches_case_insensitively_among_several():
    """' anp ' fits a 'GP;ANP' post: roles compare casefolded and stripped."""
    s = evening(MONDAY, "H1", post("GP;ANP"))
    p = problem(clinicians=[clinician("C1", " anp ")], sessions=[s])
    assert check(p, (a(s),)) == []


# ---- skill -------------------------------------------------------------------------------


def test_skill_empty_rota_passes():
    """An empty rota breaks no rule when posts need skills nobody has."""
    s = evening(MONDAY, "H1", post("Practice Nurse", skill="cytology"))
    assert check(problem(sessions=[s]), ()) == []


def test_skill_broken_without_the_skill():
    """A nurse without cytology on a cytology post is a skill violation only."""
    s = evening(MONDAY, "H1", post("Practice Nurse", skill="cytology"))
    p = problem(clinicians=[clinician("C1", "Practice Nurse", skills=["Travel"])], sessions=[s])
    assert stems(check(p, (a(s),))) == {"skill"}


def test_skill_matches_case_insensitively():
    """A clinician with 'Cytology' meets a 'cytology' post; a post without skill needs none."""
    s = evening(MONDAY, "H1", post("Practice Nurse", skill="cytology"), post("Practice Nurse"))
    p = problem(
        clinicians=[
            clinician("C1", "Practice Nurse", skills=["Cytology"]),
            clinician("C2", "Practice Nurse"),
        ],
        sessions=[s],
    )
    assert check(p, (a(s, "C1", 0), a(s, "C2", 1))) == []


# ---- availability ------------------------------------------------------------------------


def test_availability_empty_rota_passes():
    """An empty rota passes even when everyone is unavailable."""
    p = problem(availability=offers(("C1", MONDAY, "U")))
    assert check(p, ()) == []


def test_availability_broken_by_unavailable_or_no_offer():
    """Marked unavailable, or silent under availability_default=unavailable: availability."""
    s = evening(MONDAY, "H1", post("GP", 2))
    p = problem(
        clinicians=[clinician("C1"), clinician("C2")],
        sessions=[s],
        availability=offers(("C1", MONDAY, "U")),
        rules=Rules(availability_default=Status.UNAVAILABLE),
    )
    found = check(p, (a(s, "C1"), a(s, "C2")))
    assert stems(found) == {"availability"} and len(found) == 2


def test_availability_window_exactly_covering_passes():
    """An offer 18:30–20:00 covers the 18:30–20:00 session; a preferred offer counts too."""
    s = evening(MONDAY)
    p = problem(
        clinicians=[clinician("C1"), clinician("C2")],
        sessions=[s],
        availability=offers(("C1", MONDAY, "A", "18:30", "20:00"), ("C2", MONDAY, "P")),
        rules=Rules(availability_default=Status.UNAVAILABLE),
    )
    s2 = evening(MONDAY, "H1", post("GP", 2))
    p = replace(p, sessions=(s2,))
    assert check(p, (a(s2, "C1"), a(s2, "C2"))) == []


def test_availability_window_too_short_is_broken():
    """An offer 18:30–19:30 does not cover 18:30–20:00."""
    s = evening(MONDAY)
    p = problem(sessions=[s], availability=offers(("C1", MONDAY, "A", "18:30", "19:30")))
    assert stems(check(p, (a(s),))) == {"availability"}


# ---- allowed_hubs ------------------------------------------------------------------------


def test_allowed_hubs_empty_rota_passes():
    """An empty rota passes whatever hubs people may use."""
    p = problem(clinicians=[clinician("C1", hubs=["H2"])])
    assert check(p, ()) == []


def test_allowed_hubs_broken_elsewhere():
    """Someone limited to H2 working at H1 breaks allowed_hubs."""
    s = evening(MONDAY, "H1")
    p = problem(clinicians=[clinician("C1", hubs=["H2"])], sessions=[s])
    assert stems(check(p, (a(s),))) == {"allowed_hubs"}


def test_allowed_hubs_listed_or_blank_passes():
    """A listed hub, or a blank list (every hub), is allowed."""
    s = evening(MONDAY, "H1", post("GP", 2))
    p = problem(clinicians=[clinician("C1", hubs=["H1", "H2"]), clinician("C2")], sessions=[s])
    assert check(p, (a(s, "C1"), a(s, "C2"))) == []


# ---- post_capacity -----------------------------------------------------------------------


def test_post_capacity_empty_rota_passes():
    """An empty rota fills no post past its target."""
    assert check(problem(), ()) == []


def test_post_capacity_broken_past_target():
    """Two people on a post with target 1 break post_capacity (one violation, no clinician)."""
    s = evening(MONDAY)
    p = problem(clinicians=[clinician("C1"), clinician("C2")], sessions=[s])
    [v] = check(p, (a(s, "C1"), a(s, "C2")))
    assert (v.rule, v.clinician_id, v.session_id) == ("post_capacity", None, s.session_id)


def test_post_capacity_exactly_target_passes():
    """Two people on a post with min 1, target 2 is allowed."""
    s = evening(MONDAY, "H1", post("GP", 1, 2))
    p = problem(clinicians=[clinician("C1"), clinician("C2")], sessions=[s])
    assert check(p, (a(s, "C1"), a(s, "C2"))) == []


# ---- overlap -----------------------------------------------------------------------------


def test_overlap_empty_rota_passes():
    """An empty rota has no overlaps."""
    assert check(problem(sessions=[evening(MONDAY, "H1"), evening(MONDAY, "H2")]), ()) == []


def test_overlap_broken_by_intersecting_sessions():
    """18:30–20:00 at H1 and 19:00–21:00 at H2 intersect: overlap."""
    s1, s2 = evening(MONDAY, "H1"), session(MONDAY, "19:00", "21:00", "H2")
    p = problem(sessions=[s1, s2])
    [v] = check(p, (a(s1), a(s2)))
    assert (v.rule, v.session_id, v.related) == ("overlap", s2.session_id, (s1.session_id,))


def test_overlap_broken_by_two_posts_of_one_session():
    """One person on two posts of the same session is an overlap."""
    s = evening(MONDAY, "H1", post("GP"), post("GP;ANP"))
    p = problem(sessions=[s])
    assert stems(check(p, (a(s, "C1", 0), a(s, "C1", 1)))) == {"overlap"}


def test_overlap_back_to_back_passes():
    """18:00–19:00 then 19:00–20:00 the same day, at different hubs, is allowed."""
    s1, s2 = session(MONDAY, "18:00", "19:00", "H1"), session(MONDAY, "19:00", "20:00", "H2")
    p = problem(sessions=[s1, s2])
    assert check(p, (a(s1), a(s2))) == []


# ---- min_rest ----------------------------------------------------------------------------


def test_min_rest_empty_rota_passes():
    """An empty rota breaks no rest rule."""
    assert check(problem(sessions=[evening(MONDAY), session(TUESDAY, "07:00", "09:00")]), ()) == []


def test_min_rest_broken_by_a_short_night():
    """Mon 18:30–22:00 then Tue 08:00: 10 h rest is under 11 h."""
    s1, s2 = session(MONDAY, "18:30", "22:00"), session(TUESDAY, "08:00", "12:00")
    p = problem(sessions=[s1, s2])
    [v] = check(p, (a(s1), a(s2)))
    assert (v.rule, v.session_id, v.related) == ("min_rest", s1.session_id, (s2.session_id,))


def test_min_rest_broken_after_a_session_past_midnight():
    """Mon 22:00–02:00 then Tue 12:00: the gap from 02:00 is 10 h."""
    s1, s2 = session(MONDAY, "22:00", "02:00"), session(TUESDAY, "12:00", "14:00")
    p = problem(sessions=[s1, s2])
    assert stems(check(p, (a(s1), a(s2)))) == {"min_rest"}


def test_min_rest_exactly_eleven_hours_passes():
    """Mon ending 20:00 then Tue 07:00 is exactly 11 h: allowed."""
    s1, s2 = evening(MONDAY), session(TUESDAY, "07:00", "09:00")
    p = problem(sessions=[s1, s2])
    assert check(p, (a(s1), a(s2))) == []


def test_min_rest_same_day_back_to_back_passes():
    """Sessions on the same day need no rest between them."""
    s1, s2 = session(SATURDAY, "09:00", "13:00"), session(SATURDAY, "13:00", "17:00")
    p = problem(sessions=[s1, s2])
    assert check(p, (a(s1), a(s2))) == []


# ---- max_consecutive_days ----------------------------------------------------------------


def _daily(n: int, start: date = MONDAY) -> list:
    return [evening(start + timedelta(days=i)) for i in range(n)]


def test_max_consecutive_days_empty_rota_passes():
    """An empty rota has no runs of days."""
    assert check(problem(sessions=_daily(7)), ()) == []


def test_max_consecutive_days_broken_by_seven_days():
    """Seven evenings in a row (limit 6) break the rule once, at the seventh day."""
    days = _daily(7)
    p = problem(clinicians=[clinician("C1", max_sessions_per_week=7)], sessions=days)
    [v] = check(p, tuple(a(s) for s in days))
    assert (v.rule, v.session_id) == ("max_consecutive_days", days[6].session_id)


def test_max_consecutive_days_exactly_the_limit_passes():
    """Six days in a row, a day off, then more days is allowed."""
    days = _daily(6) + _daily(3, MONDAY + timedelta(days=7))
    p = problem(clinicians=[clinician("C1", max_sessions_per_week=7)], sessions=days)
    assert check(p, tuple(a(s) for s in days)) == []


def test_max_consecutive_days_counts_days_not_sessions():
    """Two sessions on each of three days with a limit of 3 days is allowed."""
    sessions = [
        session(MONDAY + timedelta(days=i), t0, t1)
        for i in range(3)
        for t0, t1 in (("09:00", "12:00"), ("13:00", "17:00"))
    ]
    p = problem(
        clinicians=[clinician("C1", max_sessions_per_week=6)],
        sessions=sessions,
        rules=Rules(availability_default=Status.AVAILABLE, max_consecutive_days=3),
    )
    assert check(p, tuple(a(s) for s in sessions)) == []


# ---- weekly_cap --------------------------------------------------------------------------


def test_weekly_cap_empty_rota_passes():
    """An empty rota is under every weekly cap."""
    assert check(problem(sessions=_daily(3)), ()) == []


def test_weekly_cap_broken_by_a_third_session():
    """Three evenings in one ISO week, cap 2: weekly_cap at the third."""
    days = _daily(3)
    p = problem(sessions=days)
    [v] = check(p, tuple(a(s) for s in days))
    assert (v.rule, v.session_id) == ("weekly_cap", days[2].session_id)


def test_weekly_cap_counts_iso_weeks():
    """Sat and Sun of one ISO week and the next Monday: 2 + 1 under a cap of 2 is allowed."""
    days = _daily(3, SATURDAY)
    p = problem(sessions=days)
    assert check(p, tuple(a(s) for s in days)) == []


# ---- period_cap --------------------------------------------------------------------------


def test_period_cap_empty_rota_passes():
    """An empty rota is under every period cap."""
    assert check(problem(clinicians=[clinician("C1", max_sessions_per_period=0)]), ()) == []


def test_period_cap_broken_past_the_cap():
    """Two sessions in different weeks with a period cap of 1 break period_cap."""
    s1, s2 = evening(MONDAY), evening(MONDAY + timedelta(days=7))
    p = problem(clinicians=[clinician("C1", max_sessions_per_period=1)], sessions=[s1, s2])
    assert stems(check(p, (a(s1), a(s2)))) == {"period_cap"}


def test_period_cap_exactly_or_unset_passes():
    """Exactly the cap is allowed; no cap means no limit."""
    s1, s2 = evening(MONDAY), evening(MONDAY + timedelta(days=7))
    p = problem(
        clinicians=[clinician("C1", max_sessions_per_period=2), clinician("C2")], sessions=[s1, s2]
    )
    s1b, s2b = (replace(s, posts=(post("GP", 2),)) for s in (s1, s2))
    p = replace(p, sessions=(s1b, s2b))
    assert check(p, (a(s1b, "C1"), a(s2b, "C1"), a(s1b, "C2"), a(s2b, "C2"))) == []


# ---- rooms -------------------------------------------------------------------------------


def test_rooms_empty_rota_passes():
    """An empty rota uses no rooms."""
    p = problem(hubs=[hub("H1", rooms=1)], sessions=[evening(MONDAY, "H1", post("GP", 2))])
    assert check(p, ()) == []


def test_rooms_broken_by_overlapping_sessions():
    """Two people at a one-room hub at 19:00 (sessions 18:30–20:00 and 19:00–21:00): rooms."""
    s1, s2 = evening(MONDAY), session(MONDAY, "19:00", "21:00")
    p = problem(
        clinicians=[clinician("C1"), clinician("C2")], sessions=[s1, s2], hubs=[hub("H1", rooms=1)]
    )
    [v] = check(p, (a(s1, "C1"), a(s2, "C2")))
    assert (v.rule, v.clinician_id, v.session_id) == ("rooms", None, s2.session_id)


def test_rooms_back_to_back_or_exactly_full_passes():
    """Back-to-back sessions share one room; two people in two rooms fit exactly."""
    s1, s2 = session(MONDAY, "18:00", "19:00", "H1"), session(MONDAY, "19:00", "20:00", "H1")
    s3 = evening(TUESDAY, "H2", post("GP", 2))
    p = problem(
        clinicians=[clinician("C1"), clinician("C2")],
        sessions=[s1, s2, s3],
        hubs=[hub("H1", rooms=1), hub("H2", rooms=2)],
    )
    assert check(p, (a(s1, "C1"), a(s2, "C2"), a(s3, "C1"), a(s3, "C2"))) == []


# ---- locked ------------------------------------------------------------------------------


def test_locked_empty_rota_passes_without_locked_pins():
    """With only unlocked pins, an empty rota passes (dropping them is a soft change)."""
    s = evening(MONDAY)
    p = problem(sessions=[s], published=(Pin(s.session_id, "C1"),))
    assert check(p, ()) == []


def test_locked_broken_when_dropped():
    """A locked pin missing from the rota is a locked violation; so is one whose session is gone."""
    s = evening(MONDAY)
    p = problem(
        sessions=[s],
        published=(
            Pin(s.session_id, "C1", locked=True),
            Pin("H1-20990101-0900-1000", "C1", locked=True),
        ),
    )
    found = check(p, ())
    assert [v.rule for v in found] == ["locked", "locked"]


def test_locked_kept_passes():
    """A locked pin kept on any post of its session is honoured."""
    s = evening(MONDAY, "H1", post("ANP"), post("GP"))
    p = problem(sessions=[s], published=(Pin(s.session_id, "C1", locked=True),))
    assert check(p, (a(s, "C1", 1),)) == []


# ---- max_weekly_hours --------------------------------------------------------------------


def test_max_weekly_hours_empty_rota_passes():
    """Hours elsewhere alone do not count in a week without hub sessions."""
    p = problem(clinicians=[clinician("C1", weekly_minutes_elsewhere=60 * 60)])
    assert check(p, ()) == []


def test_max_weekly_hours_broken_with_work_elsewhere():
    """47 h elsewhere + 1 h 30 m at the hub = 48 h 30 m > 48 h."""
    s = evening(MONDAY)
    p = problem(clinicians=[clinician("C1", weekly_minutes_elsewhere=47 * 60)], sessions=[s])
    assert stems(check(p, (a(s),))) == {"max_weekly_hours"}


def test_max_weekly_hours_exactly_the_limit_passes():
    """46 h 30 m elsewhere + 1 h 30 m at the hub = exactly 48 h: allowed."""
    s = evening(MONDAY)
    p = problem(clinicians=[clinician("C1", weekly_minutes_elsewhere=46 * 60 + 30)], sessions=[s])
    assert check(p, (a(s),)) == []


# ---- violations_if_added and edits -------------------------------------------------------


def test_violations_if_added_reports_only_new_violations():
    """Adding C1 to a third evening gives weekly_cap; an existing violation is not repeated."""
    days = _daily(3)
    p = problem(clinicians=[clinician("C1"), clinician("C2", "ANP")], sessions=days)
    rota = (a(days[0], "C1"), a(days[1], "C1"), a(days[0], "C2"))  # C2 breaks role already
    found = violations_if_added(p, rota, days[2].session_id, 0, "C1")
    assert [v.rule for v in found] == ["weekly_cap"]
    assert violations_if_added(p, rota, days[2].session_id, 0, "C9")[0].rule == "unknown"


def test_violations_if_added_worsening_counts_as_new():
    """A fourth session over a cap of 2 changes the weekly_cap message, so it is reported."""
    days = _daily(4)
    p = problem(sessions=days)
    rota = tuple(a(s) for s in days[:3])
    assert [v.rule for v in violations_if_added(p, rota, days[3].session_id, 0, "C1")] == [
        "weekly_cap"
    ]


def _random_case(seed: int):
    rng = random.Random(seed)
    hubs = [hub("H1", rooms=2), hub("H2", rooms=1), hub("H3")]
    sessions = []
    for d in range(10):
        day = MONDAY + timedelta(days=d)
        for h in ("H1", "H2", "H3"):
            if rng.random() < 0.6:
                start = rng.choice(["07:00", "09:00", "18:00", "18:30", "19:00"])
                end = {"07:00": "13:00", "09:00": "17:00"}.get(start, "21:00")
                posts = tuple(
                    post(rng.choice(["GP", "GP;ANP", "ANP"]), 1, rng.choice([1, 2]))
                    for _ in range(rng.choice([1, 2]))
                )
                sessions.append(session(day, start, end, h, posts))
    clinicians = [
        clinician(
            f"C{i}",
            rng.choice(["GP", "ANP"]),
            hubs=rng.choice([(), ("H1",), ("H2", "H3")]),
            max_sessions_per_week=rng.choice([1, 2, 3]),
            max_sessions_per_period=rng.choice([None, 3]),
            weekly_minutes_elsewhere=rng.choice([0, 40 * 60]),
        )
        for i in range(6)
    ]
    p = problem(
        clinicians=clinicians,
        sessions=sessions,
        hubs=hubs,
        rules=Rules(availability_default=Status.AVAILABLE, max_consecutive_days=3),
    )
    rota = tuple(
        Assignment(s.session_id, i, rng.choice(clinicians).clinician_id)
        for s in sessions
        for i in range(len(s.posts))
        if rng.random() < 0.5
    )
    return p, rota


@pytest.mark.parametrize("seed", range(8))
def test_violations_if_added_agrees_with_a_full_check(seed):
    """On random rotas, the fast difference equals full check after minus before (as multisets)."""
    p, rota = _random_case(seed)
    view = RotaView.of(p, rota)
    for s in p.sessions[::3]:
        for i in range(len(s.posts)):
            for c in p.clinicians:
                fast = violations_if_added(p, view, s.session_id, i, c.clinician_id)
                slow = violations_after_edit(
                    p, rota, added=(Assignment(s.session_id, i, c.clinician_id),)
                )
                assert Counter(fast) == Counter(slow), (s.session_id, i, c.clinician_id)


def test_violations_after_edit_reports_a_dropped_locked_pin():
    """Removing a locked assignment creates a locked violation; a swap that keeps it does not."""
    s = evening(MONDAY, "H1", post("GP", 1, 2))
    p = problem(
        clinicians=[clinician("C1"), clinician("C2")],
        sessions=[s],
        published=(Pin(s.session_id, "C1", locked=True),),
    )
    rota = (a(s, "C1"),)
    assert [v.rule for v in violations_after_edit(p, rota, removed=rota)] == ["locked"]
    assert violations_after_edit(p, rota, added=(a(s, "C2"),)) == []


# ---- objective parts ---------------------------------------------------------------------


def test_objective_parts_has_exactly_the_parts():
    """objective_parts returns exactly domain.PARTS; an empty rota of an empty problem is 0."""
    assert set(PART_FUNCTIONS) == set(PARTS)
    parts = objective_parts(problem(sessions=[], practices=[practice(list_size=1)]), ())
    assert tuple(parts) == PARTS


def test_unfilled_min_counts_minutes():
    """A min-2 evening post with 1 person and an empty min-1 Saturday post.

    (2 − 1) × 90 min + (1 − 0) × 480 min = 90 + 480 = 570.
    """
    s1, s2 = evening(MONDAY, "H1", post("GP", 2)), saturday()
    p = problem(sessions=[s1, s2])
    assert objective_parts(p, (a(s1),))["unfilled_min"] == 570


def test_unfilled_target_counts_posts_between_min_and_target():
    """Post A: min 1, target 3, 1 filled → 2 empty; post B: min 2, target 3, 0 filled → only
    the 1 place above min counts (the 2 below are unfilled_min).

    (3 − max(1, 1)) × 90 + (3 − max(2, 0)) × 90 = 180 + 90 = 270.
    """
    s = evening(MONDAY, "H1", post("GP", 1, 3), post("ANP", 2, 3))
    p = problem(sessions=[s])
    parts = objective_parts(p, (a(s),))
    assert parts["unfilled_target"] == 270
    assert parts["unfilled_min"] == 2 * 90


def test_gp_cover_counts_sessions_with_a_gp_post_but_no_gp():
    """A: 'GP;ANP' post held by an ANP → 90 min; B: GP on it → 0; C: ANP-only session → 0;
    D: empty Saturday GP post → 480. 90 + 480 = 570; with gp_cover off, 0."""
    sa = evening(MONDAY, "H1", post("GP;ANP"))
    sb = evening(MONDAY, "H2")
    sc = evening(MONDAY, "H3", post("ANP"))
    sd = saturday()
    p = problem(clinicians=[clinician("C1"), clinician("C2", "ANP")], sessions=[sa, sb, sc, sd])
    rota = (a(sa, "C2"), a(sb, "C1"))
    assert objective_parts(p, rota)["gp_cover"] == 570
    assert objective_parts(with_rules(p, gp_cover=False), rota)["gp_cover"] == 0
    # a session a GP from outside the problem works (a decomposition's kept people) wants none
    elsewhere = replace(p, gp_elsewhere=frozenset({sa.session_id, sd.session_id}))
    assert objective_parts(elsewhere, rota)["gp_cover"] == 0


def test_contract_counts_weekly_shortfall():
    """Population 3000 at 60 min per 1000 asks 180 min a week. Period Mon 1 – Wed 10 Mar:
    W09 whole (180 required, 90 delivered → 90 short); W10 three days: ceil(180 × 3 / 7) =
    ceil(77.1) = 78 required, 0 delivered → 78. A hub of another network (no practices, so no
    requirement) adds nothing. 90 + 78 = 168."""
    s1 = evening(MONDAY, "H1")
    s2 = evening(MONDAY, "H2")
    p = problem(
        clinicians=[clinician("C1"), clinician("C2")],
        sessions=[s1, s2],
        practices=[practice("P1", 3000)],
        hubs=[hub("H1"), hub("H2", network="elsewhere")],
        period=(MONDAY, MONDAY + timedelta(days=9)),
    )
    assert objective_parts(p, (a(s1, "C1"), a(s2, "C2")))["contract"] == 168


def test_stability_counts_changes_three_times_when_near():
    """Pins: (S1 near, C1) kept → 0; (S2 far, C2) dropped → 1; C3 added on S1 near → 3;
    a pin on a session that no longer exists is ignored. 0 + 1 + 3 = 4."""
    s1 = evening(MONDAY, "H1", post("GP", 1, 2))
    s2 = evening(MONDAY + timedelta(days=21))
    p = problem(
        clinicians=[clinician("C1"), clinician("C2"), clinician("C3")],
        sessions=[s1, s2],
        published=(
            Pin(s1.session_id, "C1"),
            Pin(s2.session_id, "C2"),
            Pin("H1-20270102-0900-1000", "C2"),
        ),
    )
    assert objective_parts(p, (a(s1, "C1"), a(s1, "C3")))["stability"] == 4


def test_stability_is_zero_on_a_first_run():
    """Without published pins nothing is a change."""
    s = evening(MONDAY)
    assert objective_parts(problem(sessions=[s]), (a(s),))["stability"] == 0


def test_fair_share_compares_minutes_with_list_share():
    """Lists 6000 and 4000 → w = 600, 400, W = 1000. P1 works 90 min, P2 180; T = 270.
    |1000·90 − 600·270| + |1000·180 − 400·270| = 72000 + 72000 = 144000."""
    s1, s2, s3 = evening(MONDAY), evening(TUESDAY), evening(TUESDAY + timedelta(days=1))
    p = problem(
        clinicians=[clinician("C1", practice_code="P1"), clinician("C2", practice_code="P2")],
        sessions=[s1, s2, s3],
        practices=[practice("P1", 6000), practice("P2", 4000)],
    )
    assert objective_parts(p, (a(s1, "C1"), a(s2, "C2"), a(s3, "C2")))["fair_share"] == 144_000


def test_even_load_is_triangular():
    """C1 works 3 sessions → 3·2/2 = 3; C2 works 2 → 1; C3 none → 0. Total 4."""
    days = _daily(3)
    p = problem(
        clinicians=[clinician("C1"), clinician("C2"), clinician("C3")],
        sessions=[replace(s, posts=(post("GP", 1, 2),)) for s in days],
    )
    rota = tuple(a(s, "C1") for s in p.sessions) + (a(p.sessions[0], "C2"), a(p.sessions[1], "C2"))
    assert objective_parts(p, rota)["even_load"] == 4


def test_even_saturdays_counts_saturdays_only():
    """C1 on 3 Saturdays → 3; C2 on 1 Saturday and 2 evenings → 0. Total 3."""
    sats = [saturday(SATURDAY + timedelta(days=7 * i), "H1", post("GP", 1, 2)) for i in range(3)]
    evenings = [evening(MONDAY), evening(TUESDAY)]
    p = problem(clinicians=[clinician("C1"), clinician("C2")], sessions=sats + evenings)
    rota = (
        tuple(a(s, "C1") for s in sats) + (a(sats[0], "C2"),) + tuple(a(s, "C2") for s in evenings)
    )
    assert objective_parts(p, rota)["even_saturdays"] == 3


def test_min_sessions_counts_shortfall():
    """C1 wants 3, works 1 → 2; C2 wants 1, works 2 → 0; C3 wants 2, works 0 → 2. Total 4."""
    s1, s2 = evening(MONDAY, "H1", post("GP", 1, 2)), evening(TUESDAY)
    p = problem(
        clinicians=[
            clinician("C1", min_sessions_per_period=3),
            clinician("C2", min_sessions_per_period=1),
            clinician("C3", min_sessions_per_period=2),
        ],
        sessions=[s1, s2],
    )
    assert objective_parts(p, (a(s1, "C1"), a(s1, "C2"), a(s2, "C2")))["min_sessions"] == 4


def test_preferences_counts_missed_days_and_other_hubs():
    """C1 prefers Mon and Tue, works Mon → 1 missed day. C2 prefers H2 but works H1 → 1; its
    preferred date outside the period does not count. C3 prefers Wed (only a window) and H2,
    and works Wed at H2 → 0. Total 2."""
    wed = TUESDAY + timedelta(days=1)
    s_mon, s_mon2, s_wed = evening(MONDAY, "H1"), evening(MONDAY, "H2"), evening(wed, "H2")
    p = problem(
        clinicians=[
            clinician("C1"),
            clinician("C2", preferred_hubs=["H2"]),
            clinician("C3", preferred_hubs=["H2"]),
        ],
        sessions=[s_mon, s_mon2, s_wed],
        availability=offers(
            ("C1", MONDAY, "P"),
            ("C1", TUESDAY, "P"),
            ("C2", MONDAY + timedelta(days=30), "P"),
            ("C3", wed, "P", "18:00", "21:00"),
        ),
    )
    rota = (a(s_mon2, "C1"), a(s_mon, "C2"), a(s_wed, "C3"))
    assert objective_parts(p, rota)["preferences"] == 2


def test_cost_sums_pence():
    """C1 at 6000 p/h for 90 min → 9000; C2 at 5000 p/h for a 480-min Saturday → 40000;
    C3 at 3333 p/h for 45 min → round(2499.75) = 2500. Total 51500."""
    s1, s2, s3 = evening(MONDAY), saturday(), session(TUESDAY, "18:30", "19:15")
    p = problem(
        clinicians=[
            clinician("C1", cost_per_hour_pence=6000),
            clinician("C2", cost_per_hour_pence=5000),
            clinician("C3", cost_per_hour_pence=3333),
        ],
        sessions=[s1, s2, s3],
    )
    assert objective_parts(p, (a(s1, "C1"), a(s2, "C2"), a(s3, "C3")))["cost"] == 51_500


def test_weighted_total_scales_each_part():
    """Σ weight × part: weight 0 leaves the part computed but out of the total.

    unfilled_min = 90 (weight 2 → 180); cost = 9000 (weight 0 → 0); even_load 0;
    contract: population 10 000 × 60/1000 = 600 min for W09, 90 delivered → 510 (weight 1).
    unfilled_target 0. Total 180 + 510 = 690.
    """
    s1, s2 = evening(MONDAY), evening(TUESDAY)
    p = problem(
        clinicians=[clinician("C1", cost_per_hour_pence=6000)],
        sessions=[s1, s2],
        weights=Weights(unfilled_min=2, cost=0, gp_cover=0),
    )
    parts = objective_parts(p, (a(s1),))
    assert (parts["unfilled_min"], parts["cost"], parts["contract"]) == (90, 9000, 510)
    assert parts["gp_cover"] == 90  # computed though its weight is 0
    assert weighted_total(p, parts) == 2 * 90 + 510
