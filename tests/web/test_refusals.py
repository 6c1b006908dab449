"""Broken rules said for people: the checker's own violations, reworded for pages."""

from __future__ import annotations

from datetime import timedelta

from scheduler.checker import check
from scheduler.domain import Assignment
from tests.builders import MONDAY, clinician, evening, hub, post, problem, session
from web.services.labels import with_labels
from web.services.refusals import in_words


def _two_evenings():
    first = evening(MONDAY, "H1")
    second = evening(MONDAY + timedelta(days=2), "H1")
    clash = session(MONDAY, "19:00", "21:00", "H2", (post("GP", 1),))
    return (
        problem(
            clinicians=[clinician("C1", max_sessions_per_week=1), clinician("C2")],
            sessions=[first, second, clash],
            hubs=[hub("H1", name="North Hub"), hub("H2", name="River Hub")],
        ),
        first,
        second,
        clash,
    )


def test_weekly_cap_says_the_week_in_words():
    """'2 sessions in 2027-W09' becomes 'the week of Mon 1 Mar 2027'."""
    p, first, second, _ = _two_evenings()
    [v] = [
        v
        for v in check(
            p, (Assignment(first.session_id, 0, "C1"), Assignment(second.session_id, 0, "C1"))
        )
        if v.rule == "weekly_cap"
    ]
    assert "2027-W09" in v.message
    assert in_words(v, p) == "2 sessions in the week of Mon 1 Mar 2027; at most 1"


def test_overlap_names_the_other_session():
    """On the page of the session tried, an overlap names the session it clashes with."""
    p, first, _, clash = _two_evenings()
    rota = (Assignment(first.session_id, 0, "C2"), Assignment(clash.session_id, 0, "C2"))
    [v] = [v for v in check(p, rota) if v.rule == "overlap"]
    assert in_words(v, p, clash.session_id) == (
        "already booked on Mon 1 Mar 2027 18:30–20:00 at North Hub, which overlaps"
    )
    assert in_words(v, p, first.session_id) == (
        "already booked on Mon 1 Mar 2027 19:00–21:00 at River Hub, which overlaps"
    )


def test_post_capacity_names_the_post_by_its_roles():
    p, first, _, _ = _two_evenings()
    rota = (Assignment(first.session_id, 0, "C1"), Assignment(first.session_id, 0, "C2"))
    [v] = [v for v in check(p, rota) if v.rule == "post_capacity"]
    assert v.message.startswith("post 0")
    assert in_words(v, p) == "the GP post has 2 people; at most 1"


def test_engine_lines_get_people_and_hubs_by_name():
    """with_labels swaps whole IDs only: 'C1' in 'C12' and in words stays as it is."""
    p = problem(
        clinicians=[clinician("C1", name="Ann Able"), clinician("C12", name="Ben Bell")],
        hubs=[hub("H1", name="North Hub")],
    )
    line = "pin C1 → H1 Mon 1 Mar 18:30: with C12 (C1-x, xC1)"
    assert (
        with_labels(line, p)
        == "pin Ann Able → North Hub Mon 1 Mar 18:30: with Ben Bell (C1-x, xC1)"
    )
