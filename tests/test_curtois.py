"""Curtois–Qu instances: the reader, the mapping onto the engine and the format's own scoring.

The independent scorer (`score_roster`, written from FORMAT.md) and the engine's checker on
`to_problem(instance)` must agree on every roster: the same penalty and the same broken rules.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import date, time
from pathlib import Path

import pytest

from scheduler.bench import curtois
from scheduler.bench.curtois import (
    InstanceError,
    parse_instance,
    read_instance,
    read_roster,
    read_roster_rows,
    roster_rows,
    rota_from_rows,
    score_roster,
    to_problem,
    write_roster,
)
from scheduler.checker import check, objective_parts, weighted_total
from scheduler.domain import SolveStatus, Status
from scheduler.solver.params import SolveParams

DATA = Path(__file__).resolve().parent.parent / "data" / "benchmarks" / "curtois"
INSTANCES = [DATA / f"Instance{n}.txt" for n in range(1, 13)]

# The format's rule names and the engine's stems for the same rule.
STEM = {
    "one_shift_per_day": "sessions_per_day",
    "shift_rotation": "forbidden_succession",
    "max_shifts": "kind_cap",
    "max_total_minutes": "period_minutes",
    "min_total_minutes": "period_minutes",
    "max_consecutive_shifts": "max_consecutive_days",
    "min_consecutive_shifts": "min_consecutive_days",
    "min_consecutive_days_off": "min_consecutive_days_off",
    "max_weekends": "max_weekends",
    "days_off": "availability",
}


def tiny(
    shifts: str = "E,480,\nL,600,E",
    staff: str = "A,E=14|L=14,9999,0,14,1,1,2",
    days_off: str = "",
    on: str = "",
    off: str = "",
    cover: str | None = None,
    horizon: int = 14,
) -> str:
    """A small instance file (CRLF, comments) with cover 1 for every day and shift unless told."""
    ids = [line.split(",")[0] for line in shifts.splitlines()]
    if cover is None:
        cover = "\n".join(f"{d},{s},1,100,1" for d in range(horizon) for s in ids)
    text = (
        f"# tiny\nSECTION_HORIZON\n# days\n{horizon}\n\nSECTION_SHIFTS\n{shifts}\n\n"
        f"SECTION_STAFF\n{staff}\n\nSECTION_DAYS_OFF\n{days_off}\n\n"
        f"SECTION_SHIFT_ON_REQUESTS\n{on}\n\nSECTION_SHIFT_OFF_REQUESTS\n{off}\n\n"
        f"SECTION_COVER\n{cover}\n"
    )
    return text.replace("\n", "\r\n")


def engine_view(instance, rows):
    """(penalty, Counter of (employee, stem)) as the engine's checker sees the roster."""
    problem = to_problem(instance)
    rota = rota_from_rows(instance, rows)
    broken = Counter(
        (v.clinician_id, v.rule) for v in check(problem, rota) if v.rule != "allowed_hubs"
    )  # a shift capped at 0: kind_cap says it too
    return weighted_total(problem, objective_parts(problem, rota)), broken


def format_view(instance, rows):
    """(penalty, Counter of (employee, stem)) as the format's own scorer sees the roster."""
    penalty, violations = score_roster(instance, rows)
    return penalty, Counter((v.employee, STEM[v.rule]) for v in violations)


def random_roster(instance, rng: random.Random, share: float) -> list[tuple[str, int, str]]:
    """At most one shift a day per employee, any shift type, on about `share` of the days."""
    ids = [s.shift_id for s in instance.shifts]
    return [
        (e.employee_id, d, rng.choice(ids))
        for e in instance.staff
        for d in range(instance.horizon)
        if rng.random() < share
    ]


def greedy_roster(instance) -> list[tuple[str, int, str]]:
    """Day by day, shift by shift, up to the requirement: the first employee whom no upper
    limit stops (days off, per-type caps, rotation, total minutes, runs, weekends). Lower
    limits are not looked after, so the roster may break them."""
    rows: list[tuple[str, int, str]] = []
    worked: dict[str, dict[int, str]] = {e.employee_id: {} for e in instance.staff}
    cover = {(c.day, c.shift_id): c.requirement for c in instance.cover}
    for day in range(instance.horizon):
        for shift in instance.shifts:
            for e in instance.staff:
                if sum(1 for r in rows if r[1] == day and r[2] == shift.shift_id) >= cover.get(
                    (day, shift.shift_id), 0
                ):
                    break
                mine = worked[e.employee_id]
                before = mine.get(day - 1)
                run = 0
                while (day - 1 - run) in mine:
                    run += 1
                weekend = day % 7 >= 5
                weekends = {d // 7 for d in mine if d % 7 >= 5}
                if (
                    day in mine
                    or day in instance.days_off.get(e.employee_id, ())
                    or (e.max_of(shift.shift_id) or 0)
                    <= sum(1 for s in mine.values() if s == shift.shift_id)
                    or (before and shift.shift_id in instance.shift(before).cannot_follow)
                    or sum(instance.shift(s).minutes for s in mine.values()) + shift.minutes
                    > e.max_total_minutes
                    or run + 1 > e.max_consecutive_shifts
                    or (weekend and day // 7 not in weekends and len(weekends) >= e.max_weekends)
                ):
                    continue
                mine[day] = shift.shift_id
                rows.append((e.employee_id, day, shift.shift_id))
    return rows


# ---- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: p.stem)
def test_reads_every_shared_instance(path):
    """Instances 1–12 read: whole weeks, one cover line per day × shift, every reference known."""
    instance = read_instance(path)
    assert instance.name == path.stem
    assert instance.horizon % 7 == 0 and instance.horizon >= 14
    assert len(instance.cover) == instance.horizon * len(instance.shifts)
    shift_ids = {s.shift_id for s in instance.shifts}
    assert all(s.minutes in (480, 600, 720) for s in instance.shifts)
    assert all(set(s.cannot_follow) <= shift_ids for s in instance.shifts)
    assert all({k for k, _ in e.max_shifts} == shift_ids for e in instance.staff)
    assert {r.weight for r in instance.shift_on + instance.shift_off} <= {1, 2, 3}
    assert set(instance.days_off) <= {e.employee_id for e in instance.staff}


def test_instance_files_match_their_published_checksums():
    """data/benchmarks/curtois holds the public files byte for byte (CRLF kept): every file's
    SHA-256 is the one recorded in SHA256SUMS, and every instance is listed there."""
    listed = {}
    for line in (DATA / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        listed[name] = digest
    on_disk = {p.name for p in DATA.glob("Instance*.txt")} | {"best_known.csv"}
    assert on_disk == set(listed)
    for name, digest in listed.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
    assert b"\r\n" in INSTANCES[0].read_bytes()


def test_instance1_fields():
    """Instance1 as FORMAT.md describes it: 14 days, shift D of 480 minutes, 8 staff."""
    instance = read_instance(DATA / "Instance1.txt")
    assert instance.horizon == 14
    assert [(s.shift_id, s.minutes, s.cannot_follow) for s in instance.shifts] == [("D", 480, ())]
    a = instance.staff[0]
    assert (
        a.employee_id,
        a.max_shifts,
        a.max_total_minutes,
        a.min_total_minutes,
        a.max_consecutive_shifts,
        a.min_consecutive_shifts,
        a.min_consecutive_days_off,
        a.max_weekends,
    ) == ("A", (("D", 14),), 4320, 3360, 5, 2, 2, 1)
    assert instance.days_off["A"] == {0}
    assert (
        instance.shift_on[0].employee_id,
        instance.shift_on[0].day,
        instance.shift_on[0].weight,
    ) == ("A", 2, 2)
    assert (instance.cover[1].day, instance.cover[1].requirement) == (1, 7)


def test_lf_and_crlf_read_alike():
    """Line endings do not matter: the same text with LF gives the same instance."""
    crlf = tiny(days_off="A,3,4")
    assert parse_instance(crlf) == parse_instance(crlf.replace("\r\n", "\n"))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (dict(horizon=10), "t.txt:4: horizon 10 is not a whole number of weeks"),
        (dict(shifts="E,48x,\nL,600,E"), "t.txt:7: length in minutes: not a whole number: '48x'"),
        (dict(shifts="E,480,Q\nL,600,E"), "t.txt:7: unknown shift in CannotFollow 'Q'"),
        (dict(shifts="E,480,\nE,600,"), "t.txt:8: duplicate shift 'E' (first on line 7)"),
        (dict(staff="A,E=14|X=2,9999,0,14,1,1,2"), "t.txt:11: unknown shift in MaxShifts 'X'"),
        (
            dict(staff="A,E=14|L,9999,0,14,1,1,2"),
            "t.txt:11: MaxShifts: expected shift=number, got 'L'",
        ),
        (dict(staff="A,E=14|L=14,9999,0,14,1,1"), "t.txt:11: expected 8 fields"),
        (dict(days_off="B,3"), "t.txt:14: unknown employee 'B'"),
        (dict(days_off="A,14"), "t.txt:14: day 14 is outside the horizon (days 0 to 13)"),
        (dict(on="A,2,N,1"), "t.txt:17: unknown shift 'N'"),
        (dict(off="A,2,E,-1"), "t.txt:20: weight: must be at least 0, got -1"),
        (dict(cover="0,E,1,100,1\n0,E,2,100,1"), "t.txt:24: a second cover line for day 0 shift E"),
    ],
)
def test_malformed_input_names_file_and_line(change, expected):
    """Each malformed line is reported as file:line: message."""
    with pytest.raises(InstanceError) as raised:
        parse_instance(tiny(**change), "t", "t.txt")
    assert any(e.startswith(expected) for e in raised.value.errors), raised.value.errors


def test_missing_and_unknown_sections():
    """A missing required section, an unknown one and data before any section are errors."""
    text = "14\r\nSECTION_HORIZON\r\n14\r\nSECTION_NOPE\r\nx\r\n"
    with pytest.raises(InstanceError) as raised:
        parse_instance(text, "t", "t.txt")
    errors = raised.value.errors
    assert "t.txt:1: data line outside any section" in errors
    assert any(e.startswith("t.txt:4: unknown section 'SECTION_NOPE'") for e in errors)
    assert "t.txt:0: SECTION_SHIFTS is missing" in errors
    assert "t.txt:0: SECTION_COVER is missing" in errors


def test_every_error_is_collected():
    """Several bad lines give several messages at once."""
    with pytest.raises(InstanceError) as raised:
        parse_instance(tiny(days_off="B,3", on="A,99,E,1"), "t", "t.txt")
    assert len(raised.value.errors) == 2


def test_unreadable_file(tmp_path):
    """A missing file is an InstanceError naming it."""
    with pytest.raises(InstanceError, match="nothere.txt:0: cannot read file"):
        read_instance(tmp_path / "nothere.txt")


# ---- the mapping -----------------------------------------------------------------------


def test_mapping_onto_the_engine():
    """Hubs, sessions, posts, clinicians, offers, rules and weights as the mapping promises."""
    instance = parse_instance(
        tiny(
            shifts="E,480,\nL,600,E\nN,720,E|L",
            staff="A,E=14|L=0|N=3,4000,960,5,2,3,1\nB,E=1|L=2|N=0,9999,0,4,1,1,2",
            days_off="A,3,4",
            on="A,2,N,2",
            off="B,5,E,3",
        ),
        "t",
        "t.txt",
    )
    problem = to_problem(instance)
    assert problem.period_start == date(2024, 1, 1) and problem.period_start.weekday() == 0
    assert problem.period_end == date(2024, 1, 14)
    assert problem.bank_holidays == frozenset()
    assert [(h.hub_id, h.name, h.rooms) for h in problem.hubs] == [
        ("E", "Shift E", None),
        ("L", "Shift L", None),
        ("N", "Shift N", None),
    ]
    assert len(problem.sessions) == 14 * 3
    ends = {s.kind: (s.start, s.end, s.minutes) for s in problem.sessions}
    assert ends == {
        "E": (time(8), time(16), 480),
        "L": (time(8), time(18), 600),
        "N": (time(8), time(20), 720),
    }
    session = problem.session("N-20240103-0800-2000")
    (post,) = session.posts
    assert (
        session.hub_id,
        session.kind,
        post.roles_text,
        post.roles,
        post.min,
        post.target,
        post.max,
        post.under_weight,
        post.over_weight,
    ) == ("N", "N", "nurse", frozenset({"nurse"}), 0, 1, 2, 100, 1)
    a, b = problem.clinicians
    assert (a.role, a.practice_code, a.max_sessions_per_week, a.max_sessions_per_day) == (
        "nurse",
        "WARD",
        7,
        1,
    )
    assert a.max_per_kind == (("E", 14), ("L", 0), ("N", 3)) and a.hubs == {"E", "N"}
    assert (
        a.max_minutes_per_period,
        a.min_minutes_per_period,
        a.max_consecutive_days,
        a.min_consecutive_days,
        a.min_consecutive_days_off,
        a.max_weekends,
    ) == (4000, 960, 5, 2, 3, 1)
    assert b.hubs == {"E", "L"}
    assert [p.code for p in problem.practices] == ["WARD"]
    day = date(2024, 1, 4)
    assert [o.status for o in problem.availability[("A", day)]] == [Status.UNAVAILABLE]
    (on,) = problem.availability[("A", date(2024, 1, 3))]
    assert (on.status, on.kind, on.weight) == (Status.PREFERRED, "N", 2)
    (off,) = problem.availability[("B", date(2024, 1, 6))]
    assert (off.status, off.kind, off.weight) == (Status.UNAVAILABLE, "E", 3)
    rules = problem.rules
    assert (
        rules.availability_default,
        rules.min_rest_hours,
        rules.max_consecutive_days,
        rules.max_weekly_hours,
        rules.minutes_per_1000,
        rules.gp_cover,
        rules.max_sessions_per_day,
    ) == (Status.AVAILABLE, 0, 5, 168, 0, False, 1)
    assert set(rules.forbidden_successions) == {("L", "E"), ("N", "E"), ("N", "L")}
    weights = problem.weights
    assert {p: weights.of(p) for p in ("cover", "requests")} == {"cover": 1, "requests": 1}
    assert sum(weights.of(p) for p in objective_parts(problem, ())) == 2


def test_forbidden_successions_read_the_right_way_round():
    """`L,600,E`: E may not come the day after L; L after E is fine, in both scorers."""
    instance = parse_instance(tiny(), "t")
    assert to_problem(instance).rules.forbidden_successions == (("L", "E"),)
    late_then_early = [("A", 3, "L"), ("A", 4, "E")]
    early_then_late = [("A", 3, "E"), ("A", 4, "L")]
    _, broken = format_view(instance, late_then_early)
    assert broken == Counter({("A", "forbidden_succession"): 1})
    assert engine_view(instance, late_then_early)[1] == broken
    assert format_view(instance, early_then_late)[1] == Counter()
    assert engine_view(instance, early_then_late)[1] == Counter()


def test_weekend_days_are_saturday_and_sunday_of_each_week():
    """Weekend w is days 7w+5 and 7w+6 (Saturday, Sunday), counted once if both are worked."""
    instance = parse_instance(tiny(staff="A,E=14|L=14,9999,0,14,1,1,1"), "t")
    problem = to_problem(instance)
    for w in range(instance.weeks):
        assert problem.days()[7 * w + 5].weekday() == 5
        assert problem.days()[7 * w + 6].weekday() == 6
    weekdays_only = [("A", d, "E") for d in (0, 1, 7, 8)]
    one_weekend = [("A", 5, "E"), ("A", 6, "E")]
    two_weekends = [("A", 6, "E"), ("A", 12, "E")]
    for rows, broken in ((weekdays_only, 0), (one_weekend, 0), (two_weekends, 1)):
        expected = Counter({("A", "max_weekends"): broken}) if broken else Counter()
        assert format_view(instance, rows)[1] == expected
        assert engine_view(instance, rows)[1] == expected


def test_runs_touching_the_ends_are_exempt_from_minimums():
    """Min runs of work and of rest do not apply to runs that touch day 0 or day H-1."""
    instance = parse_instance(tiny(staff="A,E=14|L=14,9999,0,14,3,3,2"), "t")
    at_ends = [("A", 0, "E"), ("A", 13, "E")]
    inside = [("A", 4, "E"), ("A", 5, "E"), ("A", 6, "E"), ("A", 8, "E")]
    assert format_view(instance, at_ends)[1] == Counter()
    assert engine_view(instance, at_ends)[1] == Counter()
    expected = Counter({("A", "min_consecutive_days"): 1, ("A", "min_consecutive_days_off"): 1})
    assert format_view(instance, inside)[1] == expected
    assert engine_view(instance, inside)[1] == expected


def test_requests_are_charged_as_the_format_says():
    """An on-request is charged for a day off or another shift; an off-request only for that
    shift; both scorers agree on each case."""
    instance = parse_instance(tiny(on="A,2,L,2", off="A,5,E,3", cover="0,E,0,100,1"), "t")
    cases = [
        ([], 2),  # on-request not met: a day off
        ([("A", 2, "L")], 0),  # met
        ([("A", 2, "E")], 2),  # another shift does not meet it
        ([("A", 5, "E")], 2 + 3),  # the off-request's shift worked
        ([("A", 5, "L")], 2),  # another shift that day is fine
    ]
    for rows, penalty in cases:
        assert score_roster(instance, rows)[0] == penalty
        assert engine_view(instance, rows)[0] == penalty


def test_cover_is_charged_per_person_both_ways():
    """Under by two costs 2 × WeightUnder; over by one costs WeightOver."""
    instance = parse_instance(
        tiny(
            staff="A,E=14|L=14,9999,0,14,1,1,2\nB,E=14|L=14,9999,0,14,1,1,2",
            cover="0,E,2,100,1\n1,E,0,100,7",
        ),
        "t",
    )
    rows = [("A", 1, "E")]
    assert score_roster(instance, rows)[0] == 200 + 7
    assert engine_view(instance, rows)[0] == 207


# ---- the two scorers agree -------------------------------------------------------------


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: p.stem)
def test_scorers_agree_on_random_rosters(path):
    """On random rosters (any shift, any day) both give the same penalty and break the same
    rules for the same employees the same number of times."""
    instance = read_instance(path)
    rng = random.Random(path.stem)
    for share in (0.1, 0.5, 0.8):
        rows = random_roster(instance, rng, share)
        assert engine_view(instance, rows) == format_view(instance, rows)


def test_scorers_agree_on_two_shifts_a_day():
    """Two shifts on one day break one_shift_per_day in the format and sessions_per_day in the
    engine (which also names the overlap); the penalties agree."""
    instance = parse_instance(tiny(), "t")
    rows = [("A", 2, "E"), ("A", 2, "L")]
    penalty, violations = score_roster(instance, rows)
    assert [v.rule for v in violations] == ["one_shift_per_day"]
    problem = to_problem(instance)
    rota = rota_from_rows(instance, rows)
    assert {v.rule for v in check(problem, rota)} == {"overlap", "sessions_per_day"}
    assert weighted_total(problem, objective_parts(problem, rota)) == penalty


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: p.stem)
def test_scorers_agree_on_greedy_rosters(path):
    """A greedy roster (upper limits respected, lower ones not looked after): same penalty,
    same broken rules, and none of the limits it respects broken."""
    instance = read_instance(path)
    rows = greedy_roster(instance)
    assert rows
    penalty, broken = format_view(instance, rows)
    assert engine_view(instance, rows) == (penalty, broken)
    kept = {
        "forbidden_succession",
        "kind_cap",
        "max_consecutive_days",
        "max_weekends",
        "availability",
        "sessions_per_day",
    }
    assert not kept & {rule for _, rule in broken}


@pytest.fixture(scope="module")
def instance1_solution():
    """Instance1 solved (its optimum, 607, is found in well under a second)."""
    from scheduler.solver.solve import solve

    instance = read_instance(DATA / "Instance1.txt")
    problem = to_problem(instance)
    result = solve(problem, SolveParams(time_limit=20, workers=2))
    return instance, problem, result


def test_solver_roster_scores_the_same_everywhere(instance1_solution):
    """The solver's roster of Instance1: the solver's objective, the checker's weighted total and
    the format's penalty are one number, at least the published optimum 607; no rule broken."""
    instance, problem, result = instance1_solution
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    rows = roster_rows(problem, result.rota)
    penalty, violations = score_roster(instance, rows)
    assert violations == []
    assert check(problem, result.rota) == []
    assert weighted_total(problem, objective_parts(problem, result.rota)) == penalty
    assert result.objective == penalty >= 607


def test_scorers_agree_on_feasible_neighbours_of_the_solution(instance1_solution):
    """Single-day changes of the solver's roster that the format still accepts: both scorers
    find no broken rule and the same penalty (rosters that differ from the optimum)."""
    instance, problem, result = instance1_solution
    base = roster_rows(problem, result.rota)
    rng = random.Random(1)
    feasible = 0
    for _ in range(300):
        rows = list(base)
        employee = rng.choice(instance.staff).employee_id
        day = rng.randrange(instance.horizon)
        rows = [r for r in rows if (r[0], r[1]) != (employee, day)]
        if len(rows) == len(base):
            rows.append((employee, day, instance.shifts[0].shift_id))
        penalty, violations = score_roster(instance, rows)
        if violations:
            continue
        feasible += 1
        assert engine_view(instance, rows) == (penalty, Counter())
    assert feasible >= 3


# ---- roster files ----------------------------------------------------------------------


def test_roster_file_round_trips(tmp_path, instance1_solution):
    """roster_rows → write_roster → read_roster gives back the solver's rota."""
    instance, problem, result = instance1_solution
    rows = roster_rows(problem, result.rota)
    path = tmp_path / "Instance1.roster.csv"
    write_roster(path, rows)
    lines = path.read_text().splitlines()
    assert lines[0] == "employee,day,shift" and len(lines) == len(rows) + 1
    assert read_roster(instance, path) == tuple(sorted(result.rota))
    assert read_roster_rows(instance, path) == rows


def test_bad_roster_file_names_file_and_line(tmp_path):
    """Unknown employees, shifts and days outside the horizon are file:line errors."""
    instance = read_instance(DATA / "Instance1.txt")
    path = tmp_path / "r.csv"
    path.write_text("employee,day,shift\nA,0,D\nZ,1,D\nA,14,D\nA,2,Q\nA,3\n")
    with pytest.raises(InstanceError) as raised:
        read_roster(instance, path)
    assert raised.value.errors == [
        "r.csv:3: unknown employee 'Z'",
        "r.csv:4: day '14' is not a day of the horizon (0 to 13)",
        "r.csv:5: unknown shift 'Q'",
        "r.csv:6: expected 3 fields (employee,day,shift), got 2",
    ]
    path.write_text("who,when\n")
    with pytest.raises(InstanceError, match="r.csv:1: expected the header"):
        read_roster(instance, path)


def test_module_is_engine_free_where_it_scores():
    """The format's scorer uses nothing of the engine: its functions name no engine module."""
    source = Path(curtois.__file__).read_text()
    scorer = source[source.index("# ---- the format's own scoring") :]
    for name in ("check", "objective_parts", "Problem", "Session", "Offer", "ortools"):
        assert f"{name}(" not in scorer and f"import {name}" not in scorer
