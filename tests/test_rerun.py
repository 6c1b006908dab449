"""Re-runs from a published rota: nothing changes without a reason, an absence changes only what
it must, clashing locked pins come back as a minimal infeasible set, and the diff agrees with the
checker's own comparison of two rotas."""

from __future__ import annotations

import csv
import random
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from scheduler.checker import RotaView, check, part_unfilled_min
from scheduler.cli import main
from scheduler.diff import rota_diff, short_posts
from scheduler.domain import Assignment, Clinician, Pin, SolveStatus, Status
from scheduler.explain import explain_unfilled
from scheduler.io.load import load_problem
from scheduler.solver.params import SolveParams
from scheduler.solver.rerun import (
    Absence,
    conflicting_pins,
    days_to_replan,
    published_rota,
    rerun,
    solve_from,
    with_absences,
    with_published,
)
from scheduler.solver.solve import solve
from tests import builders as b

FAST = SolveParams(time_limit=10, workers=1)
MON = b.MONDAY
TINY = Path(__file__).parent / "web" / "data" / "tiny"


def two_weeks(gps: int = 4, cap: int = 2):
    """Evenings Mon–Fri and a Saturday for two weeks at one hub, one GP post each; `gps` GPs
    with a weekly cap of `cap`, everyone available."""
    sessions = [b.evening(MON + timedelta(days=d)) for d in (*range(5), *range(7, 12))]
    sessions += [b.saturday(MON + timedelta(days=5)), b.saturday(MON + timedelta(days=12))]
    clinicians = [b.clinician(f"C{i}", max_sessions_per_week=cap) for i in range(1, gps + 1)]
    return b.problem(clinicians=clinicians, sessions=sessions)


def solved(problem) -> tuple[Assignment, ...]:
    result = solve(problem, FAST)
    assert result.status is SolveStatus.OPTIMAL, result.message
    return result.rota


def pairs(rota) -> set[tuple[str, str]]:
    return {(a.session_id, a.clinician_id) for a in rota}


def locked(problem, *pins: Pin):
    return replace(problem, published=tuple(pins))


def feasible(problem) -> bool:
    return solve(problem, FAST).status is not SolveStatus.INFEASIBLE


def assert_minimal(problem, conflict) -> None:
    """The set alone (every other pin unlocked) admits no rota; without any one member it does."""
    alone = locked(problem, *conflict.pins)
    assert not feasible(alone)
    assert not any("(locked)" in reason for reason in conflict.reasons)
    for pin in conflict.pins:
        rest = tuple(p for p in conflict.pins if p != pin)
        assert feasible(locked(problem, *rest)), f"still infeasible without {pin}"


# ---- nothing changes without a reason -------------------------------------------------------


def test_rerun_of_an_unchanged_problem_changes_nothing():
    """Re-running from the rota the optimiser just made, with nothing changed, keeps every
    assignment — in the neighbourhood re-run and when every week may change."""
    problem = two_weeks()
    rota = solved(problem)
    again = with_published(problem, rota)
    outcome = rerun(again, FAST, published=rota)
    assert outcome.ok and outcome.diff.empty
    assert pairs(outcome.result.rota) == pairs(rota)
    anywhere = solve_from(again, rota, FAST)  # every week free
    assert pairs(anywhere.rota) == pairs(rota)
    assert anywhere.parts["stability"] == 0


def test_rerun_of_an_unchanged_folder_from_its_own_solution_changes_nothing():
    """The tiny federation solved, then re-run from its own rota: the same pairs come back."""
    problem = load_problem(TINY)
    rota = solved(problem)
    outcome = rerun(with_published(problem, rota), FAST, published=rota)
    assert outcome.ok and outcome.diff.empty and outcome.diff.changed_places == 0


# ---- absences -----------------------------------------------------------------------------


def test_with_absences_marks_only_those_days_inside_the_period():
    """An absence makes the clinician unavailable on its days inside the period; others and
    other days keep what they offered."""
    problem = two_weeks()
    away = with_absences(problem, [Absence("C1", MON - timedelta(days=3), MON + timedelta(days=1))])
    assert away.availability[("C1", MON)][0].status is Status.UNAVAILABLE
    assert away.availability[("C1", MON + timedelta(days=1))][0].status is Status.UNAVAILABLE
    assert ("C1", MON - timedelta(days=1)) not in away.availability
    assert ("C1", MON + timedelta(days=2)) not in away.availability
    assert not any(cid == "C2" for cid, _ in away.availability)
    assert with_absences(problem, []) is problem


def test_a_single_absence_changes_only_the_sessions_it_empties():
    """C1 away on the first Tuesday and Wednesday: only C1's sessions on those days change,
    each gains a replacement (three GPs are free), and the rota breaks no rule."""
    problem = two_weeks()
    rota = solved(problem)
    first, last = MON + timedelta(days=1), MON + timedelta(days=2)
    if not any(
        a.clinician_id == "C1" and first <= problem.session(a.session_id).date <= last for a in rota
    ):  # make sure C1 works one of those days in the published rota
        rota = _give(problem, rota, "C1", b.evening(first).session_id)
    away = with_absences(with_published(problem, rota), [Absence("C1", first, last)])
    outcome = rerun(away, FAST, published=rota)
    lost = {
        a.session_id
        for a in rota
        if a.clinician_id == "C1" and first <= problem.session(a.session_id).date <= last
    }
    assert outcome.ok and check(away, outcome.result.rota) == []
    assert set(outcome.diff.by_session) == lost
    for sid in lost:
        change = outcome.diff.by_session[sid]
        assert change.lost == ("C1",) and len(change.gained) == 1
    assert outcome.diff.changed_places == len(lost)
    assert len(outcome.diff.unfilled_after) == len(outcome.diff.unfilled_before)


def _give(problem, rota, cid: str, session_id: str):
    """The rota with `cid` swapped onto `session_id` (a valid rota by construction here)."""
    week = problem.session(session_id).week
    others = [a for a in rota if a.session_id != session_id]
    mine = [
        a for a in others if a.clinician_id == cid and problem.session(a.session_id).week == week
    ]
    if len(mine) >= 2:  # keep the weekly cap: hand one of C1's sessions to the evening's GP
        taken = next(a for a in rota if a.session_id == session_id)
        others = [
            replace(a, clinician_id=taken.clinician_id) if a == mine[0] else a for a in others
        ]
    new = (*others, Assignment(session_id, 0, cid))
    assert check(problem, new) == []
    return tuple(sorted(new))


def test_an_absence_without_cover_leaves_the_post_empty_and_changes_nothing_else():
    """With C1 the only GP free that Monday, C1's absence empties the post and nothing else
    moves (stability keeps the rest of the rota as published)."""
    problem = two_weeks(gps=3)
    away_day = MON
    only_c1 = b.offers(*((c, away_day, "U") for c in ("C2", "C3")))
    problem = replace(problem, availability=only_c1)
    rota = solved(problem)
    assert (b.evening(MON).session_id, "C1") in pairs(rota)
    outcome = rerun(
        with_absences(with_published(problem, rota), [Absence("C1", MON, MON)]),
        FAST,
        published=rota,
    )
    assert outcome.ok
    assert outcome.diff.removed == ((b.evening(MON).session_id, "C1"),)
    assert outcome.diff.added == ()
    assert len(outcome.diff.unfilled_after) == len(outcome.diff.unfilled_before) + 1


def test_days_to_replan_are_the_weeks_of_broken_assignments():
    """Only the ISO week holding an assignment the data now forbids may change; none when the
    rota breaks nothing."""
    problem = two_weeks()
    rota = solved(problem)
    assert days_to_replan(problem, rota) == set()
    away = with_absences(problem, [Absence("C1", MON, MON + timedelta(days=13))])
    worked_weeks = {problem.session(a.session_id).week for a in rota if a.clinician_id == "C1"}
    free = days_to_replan(away, rota)
    assert {d.isocalendar()[1] for d in free} == {int(w[-2:]) for w in worked_weeks}


# ---- clashing locked pins ------------------------------------------------------------------


def test_a_pin_on_leave_is_its_own_conflicting_set():
    """A locked pin on a date the clinician is away: the run stops, the set is that pin, worded
    with the checker's availability rule, and it is minimal."""
    problem = two_weeks()
    sat = b.saturday(MON + timedelta(days=5))
    pin = Pin(sat.session_id, "C1", locked=True)
    away = with_absences(
        locked(problem, pin, Pin(b.evening(MON).session_id, "C2", True)),
        [Absence("C1", sat.date, sat.date)],
    )
    outcome = rerun(away, FAST)
    assert outcome.result.status is SolveStatus.INFEASIBLE and not outcome.ok
    assert outcome.conflict.pins == (pin,)
    assert outcome.conflict.reasons[0].startswith("pin C1 → H1 Sat 6 Mar 09:00: ")
    assert "marked unavailable" in outcome.conflict.reasons[0]
    assert outcome.conflict.reasons[0].endswith("(availability)")
    assert "locked pins clash" in outcome.result.message
    assert_minimal(away, outcome.conflict)


def test_pins_over_a_weekly_cap_are_returned_together_and_minimal():
    """Three locked pins for C1 in one week with a cap of two, beside harmless pins: exactly
    those three come back, the checker names the weekly cap, and the set is minimal."""
    problem = two_weeks()
    days = [MON, MON + timedelta(days=2), MON + timedelta(days=4)]
    over = [Pin(b.evening(d).session_id, "C1", True) for d in days]
    harmless = [
        Pin(b.evening(MON + timedelta(days=8)).session_id, "C2", True),
        Pin(b.evening(MON + timedelta(days=1)).session_id, "C3", True),
    ]
    clash = locked(problem, *harmless, *over)
    conflict = conflicting_pins(clash)
    assert conflict is not None and set(conflict.pins) == set(over)
    assert any("weekly_cap" in line for line in conflict.reasons)
    assert_minimal(clash, conflict)


def test_overlapping_pins_clash_in_pairs():
    """C1 locked at two hubs at the same time: the pair is the conflicting set."""
    problem = b.problem(sessions=[b.evening(MON, "H1"), b.evening(MON, "H2")])
    pins = (
        Pin(b.evening(MON, "H1").session_id, "C1", True),
        Pin(b.evening(MON, "H2").session_id, "C1", True),
    )
    conflict = conflicting_pins(locked(problem, *pins))
    assert conflict is not None and set(conflict.pins) == set(pins)
    assert "overlap" in conflict.reasons[-1]
    assert_minimal(locked(problem, *pins), conflict)


def test_keepable_pins_have_no_conflict():
    """Locked pins the rules allow together give no conflicting set."""
    problem = two_weeks()
    ok = locked(
        problem,
        Pin(b.evening(MON).session_id, "C1", True),
        Pin(b.evening(MON + timedelta(days=1)).session_id, "C2", True),
    )
    assert conflicting_pins(ok) is None


@pytest.mark.parametrize("seed", range(6))
def test_random_clashes_are_infeasible_alone_and_minimal(seed):
    """Random locked pins on a small problem with rest and weekly-cap rules: whenever they
    clash, the returned set alone is infeasible and removing any one member makes it feasible."""
    rng = random.Random(seed)
    problem = two_weeks(gps=3)
    problem = replace(
        problem,
        clinicians=tuple(
            replace(c, max_sessions_per_week=rng.choice((1, 2))) for c in problem.clinicians
        ),
        availability=b.offers(
            *(
                (f"C{rng.randint(1, 3)}", MON + timedelta(days=rng.randint(0, 12)), "U")
                for _ in range(4)
            )
        ),
    )
    pins = {
        Pin(rng.choice(problem.sessions).session_id, f"C{rng.randint(1, 3)}", True)
        for _ in range(rng.randint(3, 7))
    }
    clash = locked(problem, *sorted(pins, key=lambda p: (p.session_id, p.clinician_id)))
    conflict = conflicting_pins(clash)
    assert conflict is not None and not feasible(clash)  # these seeds all clash
    assert conflict.minimal and conflict.pins
    assert_minimal(clash, conflict)


# ---- the diff is the checker's comparison -----------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_diff_equals_the_checkers_comparison_of_two_rotas(seed):
    """A solved rota against a randomly edited copy: the diff's pairs are the symmetric
    difference computed here, its unfilled posts are the checker's and the explanations', and
    moves pair one clinician's loss and gain in one week."""
    rng = random.Random(seed)
    problem = replace(two_weeks(gps=5), reference_date=MON + timedelta(days=3))
    before = list(solved(problem))
    after = [a for a in before if rng.random() > 0.3]
    for s in rng.sample(problem.sessions, 5):
        after.append(Assignment(s.session_id, 0, f"C{rng.randint(1, 5)}"))
    after = list({(a.session_id, a.clinician_id): a for a in after}.values())

    diff = rota_diff(before, after, problem)

    old = {(a.session_id, a.clinician_id) for a in before}
    new = {(a.session_id, a.clinician_id) for a in after}
    assert set(diff.added) == new - old and set(diff.removed) == old - new
    minutes = {s.session_id: s.minutes for s in problem.sessions}
    for rota, short in ((before, diff.unfilled_before), (after, diff.unfilled_after)):
        assert sum(p.missing * minutes[p.session_id] for p in short) == part_unfilled_min(
            problem, RotaView.of(problem, rota)
        )
        assert {(p.session_id, p.post_index, p.missing) for p in short} == {
            (u.session_id, u.post_index, u.missing) for u in explain_unfilled(problem, rota)
        }
    lost_by_session = {s: {c for t, c in old - new if t == s} for s, _ in old - new}
    gained_by_session = {s: {c for t, c in new - old if t == s} for s, _ in new - old}
    assert {s: set(c.lost) for s, c in diff.by_session.items() if c.lost} == lost_by_session
    assert {s: set(c.gained) for s, c in diff.by_session.items() if c.gained} == gained_by_session
    assert diff.changed_places == sum(
        max(len(lost_by_session.get(s, ())), len(gained_by_session.get(s, ())))
        for s in set(lost_by_session) | set(gained_by_session)
    )
    ends = [(m.from_session, m.clinician_id) for m in diff.moves] + [
        (m.to_session, m.clinician_id) for m in diff.moves
    ]
    assert len(ends) == len(set(ends))
    for m in diff.moves:
        assert (m.from_session, m.clinician_id) in old - new
        assert (m.to_session, m.clinician_id) in new - old
        assert problem.session(m.from_session).week == problem.session(m.to_session).week
    moved_or_single = sum(
        len(c.gained) + len(c.lost) + 2 * len(c.moved) for c in diff.by_clinician.values()
    )
    assert moved_or_single == diff.changes
    counts = diff.counts  # what every page shows: the per-clinician lines, a move counted once
    assert counts.added == sum(len(c.gained) for c in diff.by_clinician.values())
    assert counts.removed == sum(len(c.lost) for c in diff.by_clinician.values())
    assert counts.moved == len(diff.moves) == sum(len(c.moved) for c in diff.by_clinician.values())
    assert counts.added + counts.removed + 2 * counts.moved == diff.changes
    assert counts.people == len(diff.by_clinician) and counts.sessions == len(diff.by_session)


def test_short_posts_ignore_unknown_sessions():
    """A rota naming a session the problem lacks still has its known posts counted."""
    problem = b.problem(sessions=[b.evening(MON)])
    assert short_posts(problem, [Assignment("H9-20270301-1830-2000", 0, "C1")]) == (
        short_posts(problem, ())
    )


def test_published_rota_places_pins_on_posts_that_accept_them():
    """Pins carry no post: each goes to a post of its session that accepts the clinician."""
    posts = (b.post("Practice Nurse"), b.post("GP"))
    s = b.session(posts=posts)
    problem = b.problem(
        clinicians=[Clinician("C1", "Dr C1", "P1", "GP")],
        sessions=[s],
        published=(Pin(s.session_id, "C1", True),),
    )
    assert published_rota(problem) == (Assignment(s.session_id, 1, "C1", True),)


# ---- the command ------------------------------------------------------------------------------


def test_absence_command_rewrites_the_outputs_and_lists_the_changes(tmp_path, capsys):
    """`hubrota absence` from a solved tiny rota: C2 away on Wed 3 Mar; the new rota breaks no
    rule, changes.csv lists who lost and gained which session, and the summary is printed."""
    published = tmp_path / "published"
    assert main(["solve", str(TINY), "--out", str(published), "--time-limit", "10", "--quiet"]) == 0
    out = tmp_path / "after"
    code = main(
        [
            "absence",
            str(TINY),
            "C2",
            "2027-03-03",
            "2027-03-03",
            "--from-rota",
            str(published / "rota.csv"),
            "--out",
            str(out),
            "--time-limit",
            "10",
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    problem = load_problem(TINY)
    away = with_absences(problem, [Absence("C2", date(2027, 3, 3), date(2027, 3, 3))])
    from scheduler.io.load import load_rota

    new = load_rota(away, out / "rota.csv")
    assert check(away, new) == []
    rows = list(csv.DictReader((out / "changes.csv").open(encoding="utf-8")))
    old = load_rota(problem, published / "rota.csv")
    assert {(r["session_id"], r["clinician_id"]) for r in rows if r["change"] == "lost"} == (
        pairs(old) - pairs(new)
    )
    assert {(r["session_id"], r["clinician_id"]) for r in rows if r["change"] == "gained"} == (
        pairs(new) - pairs(old)
    )
    if ("H1-20270303-1830-2000", "C2") in pairs(old):
        assert "Wed 3 Mar 18:30–20:00 at North Hub" in printed and "− C2 Ben Bell" in printed
    assert "posts short of their min" in printed
    assert {"report.json", "unfilled.csv", "feeds"} <= {p.name for p in out.iterdir()}


def test_absence_command_stops_on_a_clashing_pin(tmp_path, capsys):
    """C1 away on the day of their locked pin: exit 1 and the pin named in plain English."""
    code = main(
        [
            "absence",
            str(TINY),
            "C1",
            "2027-03-01",
            "2027-03-01",
            "--out",
            str(tmp_path / "out"),
            "--time-limit",
            "10",
            "--quiet",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "pin C1 → H1 Mon 1 Mar 18:30: marked unavailable" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOBODY", "2027-03-01", "2027-03-02"], "NOBODY: no such clinician"),
        (["C1", "2027-03-05", "2027-03-02"], "before it starts"),
    ],
)
def test_absence_command_refuses_bad_arguments(tmp_path, capsys, args, message):
    """An unknown clinician or a backwards absence is an input error (exit 2)."""
    assert main(["absence", str(TINY), *args, "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err


def test_absence_command_needs_a_published_rota(tmp_path, capsys):
    """Without assignments.csv or --from-rota there is nothing to re-run from: exit 2."""
    folder = tmp_path / "data"
    folder.mkdir()
    for p in TINY.iterdir():
        if p.name != "assignments.csv":
            (folder / p.name).write_bytes(p.read_bytes())
    assert (
        main(
            ["absence", str(folder), "C1", "2027-03-01", "2027-03-02", "--out", str(tmp_path / "o")]
        )
        == 2
    )
    assert "nothing to re-run from" in capsys.readouterr().err
