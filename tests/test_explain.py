"""Explanations of unfilled posts: each kind of reason on a tiny instance."""

from __future__ import annotations

from datetime import date, time, timedelta

from scheduler.domain import Assignment, SolveStatus
from scheduler.explain import Unfilled, explain_unfilled, plural, wanted, with_article
from tests.builders import (
    MONDAY,
    SATURDAY,
    clinician,
    evening,
    hub,
    offers,
    post,
    problem,
    saturday,
    session,
)

FRIDAY = date(2027, 3, 5)


def a(s, cid: str, post_index: int = 0) -> Assignment:
    """An assignment of `cid` to post `post_index` of session `s`."""
    return Assignment(s.session_id, post_index, cid)


def only_reason(p, rota=(), status=None) -> str:
    [unfilled] = explain_unfilled(p, rota, status)
    return unfilled.reason


def test_unfilled_lists_min_posts_with_their_fields():
    """A min-2 post with 1 person is listed with missing 1; a post at min but under target
    is not listed."""
    s = saturday(SATURDAY, "KHC", post("GP;ANP", 2), post("GP", 1, 3))
    p = problem(
        clinicians=[clinician("C1"), clinician("C2")],
        sessions=[s],
        hubs=[hub("KHC", name="Kingsway Health Centre")],
        availability=offers(("C9", SATURDAY, "A")),
    )
    [u] = explain_unfilled(p, (a(s, "C1", 0), a(s, "C2", 1)))
    assert u == Unfilled(
        s.session_id, "KHC", SATURDAY, time(9), time(17), "GP;ANP", 0, 1, u.reason, u.blocked_by
    )


def test_no_clinician_has_the_role_and_skill():
    """Nobody is a Practice Nurse with cytology: the reason says so, roles as written."""
    s = saturday(SATURDAY, "H1", post("Practice Nurse", skill="cytology"))
    p = problem(clinicians=[clinician("C1"), clinician("C2", "Practice Nurse")], sessions=[s])
    assert only_reason(p) == "no clinician in the network is a Practice Nurse with skill cytology"


def test_nobody_qualified_offered_the_date():
    """The only cytology nurse is unavailable that Saturday."""
    s = saturday(SATURDAY, "H1", post("Practice Nurse", skill="cytology"))
    p = problem(
        clinicians=[clinician("C1", "Practice Nurse", skills=["cytology"])],
        sessions=[s],
        availability=offers(("C1", SATURDAY, "U")),
    )
    assert only_reason(p) == "no Practice Nurse with skill cytology offered Sat 6 Mar 2027"


def test_several_roles_read_with_or():
    """A 'GP;ANP' post reads 'GP or ANP', plural 'GPs or ANPs'; articles follow the sound."""
    s = evening(MONDAY, "H1", post("GP;ANP"))
    p = problem(clinicians=[clinician("C1", "HCA")], sessions=[s])
    assert only_reason(p) == "no clinician in the network is a GP or ANP"
    assert plural(wanted(post("GP;ANP", skill="minor ops"))) == "GPs or ANPs with skill minor ops"
    assert [with_article(w) for w in ("ANP", "HCA", "GP", "Paramedic", "Osteopath")] == [
        "an ANP",
        "an HCA",
        "a GP",
        "a Paramedic",
        "an Osteopath",
    ]


def test_offered_but_not_allowed_at_the_hub():
    """Both GPs who offered may work only at Riverside: the hub is named by name."""
    s = evening(MONDAY, "KHC")
    p = problem(
        clinicians=[clinician("C1", hubs=["RIV"]), clinician("C2", hubs=["RIV"])],
        sessions=[s],
        hubs=[hub("KHC", name="Kingsway Health Centre"), hub("RIV", name="Riverside")],
    )
    [u] = explain_unfilled(p, ())
    assert u.reason == "2 GPs offered but may not work at Kingsway Health Centre (allowed_hubs)"
    assert u.blocked_by == (("allowed_hubs", ("C1", "C2")),)


def test_offered_but_all_at_their_weekly_cap():
    """Four GPs, each capped at one session a week, already work Tuesday."""
    mon, tue = evening(MONDAY), evening(MONDAY + timedelta(days=1), "H1", post("GP", 4))
    doctors = [clinician(f"C{i}", max_sessions_per_week=1) for i in range(1, 5)]
    p = problem(clinicians=doctors, sessions=[mon, tue])
    rota = tuple(a(tue, c.clinician_id) for c in doctors)
    assert only_reason(p, rota) == "4 GPs offered; all already at their weekly cap (weekly_cap)"


def test_mixed_blocks_are_grouped_by_rule():
    """Three GPs offered Saturday 09:00 at Kingsway: C1042 worked Friday until 22:30 (rest),
    C1077 is at Riverside then (overlap), C1090 is at their weekly cap."""
    fri = session(FRIDAY, "18:30", "22:30", "KHC")
    sat = saturday(SATURDAY, "KHC")
    riv = saturday(SATURDAY, "RIV")
    mon = evening(MONDAY, "RIV")
    p = problem(
        clinicians=[
            clinician("C1042"),
            clinician("C1077"),
            clinician("C1090", max_sessions_per_week=1),
        ],
        sessions=[fri, sat, riv, mon],
        hubs=[hub("KHC", name="Kingsway"), hub("RIV", name="Riverside")],
    )
    rota = (a(fri, "C1042"), a(riv, "C1077"), a(mon, "C1090"))
    [u] = explain_unfilled(p, rota)
    assert u.reason == (
        "3 GPs offered: C1077 already booked then at Riverside 09:00–17:00 "
        "(overlap); C1042 would have under 11 h rest after Fri 5 Mar 18:30–22:30 at Kingsway "
        "(min_rest); C1090 already at their weekly cap (weekly_cap)"
    )
    assert u.blocked_by == (
        ("overlap", ("C1077",)),
        ("min_rest", ("C1042",)),
        ("weekly_cap", ("C1090",)),
    )


def test_several_candidates_with_details_in_one_group():
    """Two GPs both too soon after Friday evenings: one group, each with its own session."""
    fri1 = session(FRIDAY, "18:30", "22:30", "H1")
    fri2 = session(FRIDAY, "19:00", "23:00", "H2")
    sat = saturday(SATURDAY, "H1")
    p = problem(
        clinicians=[clinician("C1"), clinician("C2"), clinician("C3", "ANP")],
        sessions=[fri1, fri2, sat, saturday(SATURDAY, "H3", post("ANP"))],
    )
    rota = (a(fri1, "C1"), a(fri2, "C2"), a(p.sessions[-1], "C3"))
    assert only_reason(p, rota) == (
        "2 GPs offered; all would have under 11 h rest (min_rest): "
        "C1 after Fri 5 Mar 18:30–22:30 at Hub H1, C2 after Fri 5 Mar 19:00–23:00 at Hub H2"
    )


def test_hub_full():
    """A one-room hub already has someone at 19:00 during the unfilled 18:30–20:00 session."""
    s1, s2 = evening(MONDAY), session(MONDAY, "19:00", "21:00")
    p = problem(
        clinicians=[clinician("C1"), clinician("C2")], sessions=[s1, s2], hubs=[hub("H1", rooms=1)]
    )
    assert only_reason(p, (a(s2, "C1"),)) == "hub full: its one room is in use (rooms)"
    p3 = problem(
        clinicians=[clinician(f"C{i}") for i in range(1, 5)],
        sessions=[s1, session(MONDAY, "18:00", "21:00", "H1", (post("GP", 3),))],
        hubs=[hub("H1", rooms=3)],
    )
    rota = tuple(a(p3.sessions[0], f"C{i}") for i in range(1, 4))
    assert only_reason(p3, rota) == "hub full: all 3 rooms in use (rooms)"


def test_free_candidate_when_the_solver_ran_out_of_time():
    """C1042 could be added without breaking anything; the solve stopped at its time limit."""
    s = evening(MONDAY)
    p = problem(clinicians=[clinician("C1042")], sessions=[s])
    assert only_reason(p, (), SolveStatus.FEASIBLE) == (
        "C1042 could fill it (the solver's time ran out first)"
    )


def test_free_candidate_on_a_rota_made_from_older_data():
    """New data was saved after the rota was made: the older data is the reason, not the
    solver's time, even when that solve ran out of time."""
    s = evening(MONDAY)
    p = problem(clinicians=[clinician("C1042")], sessions=[s])
    [u] = explain_unfilled(p, (), SolveStatus.FEASIBLE, older_data=True)
    assert u.reason == "C1042 could fill it (the rota was made from older data: optimise again)"


def test_reasons_name_people_through_the_label_given():
    """A label function replaces the IDs in every kind of reason; blocked_by keeps IDs."""
    s = evening(MONDAY)
    p = problem(clinicians=[clinician("C1"), clinician("C2", hubs=["H9"])], sessions=[s])
    labels = {"C1": "Ann Able (North Surgery)", "C2": "Ann Able (South Surgery)"}
    [u] = explain_unfilled(p, (), label=labels.__getitem__)
    assert u.reason == "Ann Able (North Surgery) could fill it: adding them breaks no hard rule"
    assert u.blocked_by == (("allowed_hubs", ("C2",)),)
    busy = session(MONDAY, "18:00", "19:00", "H2", (post("GP", 1),))
    p2 = problem(clinicians=[clinician("C1")], sessions=[s, busy], hubs=[hub("H1"), hub("H2")])
    [u2] = explain_unfilled(p2, (a(busy, "C1"),), label=labels.__getitem__)
    assert u2.reason == (
        "1 GP offered: Ann Able (North Surgery) already booked then at Hub H2 18:00–19:00 (overlap)"
    )


def test_free_candidate_said_honestly_otherwise():
    """Without a timed-out solve (a hand-made rota), the reason says nothing stops them."""
    s = evening(MONDAY)
    p = problem(
        clinicians=[clinician("C1"), clinician("C2", hubs=["H9"]), clinician("C3")], sessions=[s]
    )
    [u] = explain_unfilled(p, ())
    assert u.reason == "C1 or C3 could fill it: adding them breaks no hard rule"
    assert u.blocked_by == (("allowed_hubs", ("C2",)),)
