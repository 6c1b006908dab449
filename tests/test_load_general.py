"""Loader: the optional general-rule columns and keys (kinds, weighted cover, caps per kind,
runs, weekends, weighted requests, forbidden successions), each bad value named by
file:row:column."""

from __future__ import annotations

from datetime import date

from scheduler.checker import check
from scheduler.domain import Offer, Status
from scheduler.io.load import load_problem, load_problem_with_warnings
from scheduler.solver.params import SolveParams
from tests.test_load import errors_of, write_folder, write_workbook

PATTERNS = """hub_id,weekday,start,end,roles,min,target,kind,under_weight,over_weight,max
H1,Mon,18:30,20:00,GP,0,1,E,100,1,2
H1,Tue,18:30,20:00,GP,0,1,L,100,,
H2,Saturday,09:00,12:00,GP;ANP,1,2,,,,
"""

CLINICIANS = (
    "clinician_id,name,practice_code,role,max_sessions_per_day,max_per_kind,"
    "max_minutes_per_period,min_minutes_per_period,max_consecutive_days,min_consecutive_days,"
    "min_consecutive_days_off,max_weekends\n"
    "C1,Dr One,P1,GP,1,E=28;L=0,600,90,5,2,2,1\n"
    "C2,Nurse Two,P2,Practice Nurse,,,,,,,,\n"
)

RULES = """[rules]
max_sessions_per_day = 1
forbidden_successions = ["E>L", " L > E ", "E>L"]
"""


def test_pattern_kind_weights_and_max(tmp_path):
    """`kind` labels the session; `under_weight`, `over_weight` and `max` reach the post."""
    problem = load_problem(write_folder(tmp_path, patterns=PATTERNS))
    by_id = {s.session_id: s for s in problem.sessions}
    monday, tuesday = by_id["H1-20270301-1830-2000"], by_id["H1-20270302-1830-2000"]
    assert (monday.kind, tuesday.kind, by_id["H2-20270306-0900-1200"].kind) == ("E", "L", "")
    (post,) = monday.posts
    assert (post.under_weight, post.over_weight, post.max, post.most) == (100, 1, 2, 2)
    (post,) = tuesday.posts
    assert (post.under_weight, post.over_weight, post.max, post.most) == (100, 0, None, 1)


def test_one_off_session_kind(tmp_path):
    """sessions.csv takes the same optional columns as patterns.csv."""
    sessions = (
        "hub_id,date,start,end,roles,min,kind,over_weight\nH1,2027-03-03,18:30,20:00,GP,1,N,3\n"
    )
    problem = load_problem(write_folder(tmp_path, sessions=sessions))
    (one_off,) = [s for s in problem.sessions if s.date == date(2027, 3, 3)]
    assert one_off.kind == "N" and one_off.posts[0].over_weight == 3


def test_rows_of_one_session_share_its_kind(tmp_path):
    """A row with a blank kind joins the kind its session's other row gives."""
    patterns = (
        "hub_id,weekday,start,end,roles,min,kind\n"
        "H1,Mon,18:30,20:00,GP,1,\n"
        "H1,Mon,18:30,20:00,Practice Nurse,0,E\n"
    )
    (session,) = load_problem(write_folder(tmp_path, patterns=patterns)).sessions
    assert session.kind == "E" and len(session.posts) == 2


def test_rows_of_one_session_with_different_kinds(tmp_path):
    """Two rows of one session naming different kinds: an error on the later row."""
    patterns = (
        "hub_id,weekday,start,end,roles,min,kind\n"
        "H1,Mon,18:30,20:00,GP,1,E\n"
        "H1,Mon,18:30,20:00,Practice Nurse,0,L\n"
    )
    assert errors_of(write_folder(tmp_path, patterns=patterns)) == [
        "patterns.csv:3:kind: kind 'L' differs from kind 'E' on patterns.csv:2 for the same "
        "session H1-20270301-1830-2000"
    ]


def test_bad_pattern_values(tmp_path):
    """Negative or non-numeric weights and a max below target name their cells."""
    patterns = (
        "hub_id,weekday,start,end,roles,min,target,under_weight,over_weight,max\n"
        "H1,Mon,18:30,20:00,GP,1,2,-5,x,1\n"
    )
    assert errors_of(write_folder(tmp_path, patterns=patterns)) == [
        "patterns.csv:2:under_weight: must be at least 0, got -5",
        "patterns.csv:2:over_weight: not a whole number: 'x'",
        "patterns.csv:2:max: max 1 is below target 2",
    ]


def test_clinician_general_rules(tmp_path):
    """Every optional rule column reaches the Clinician; blank cells mean no such rule."""
    one, two = load_problem(
        write_folder(tmp_path, clinicians=CLINICIANS, patterns=PATTERNS)
    ).clinicians
    assert (
        one.max_sessions_per_day,
        one.max_per_kind,
        one.max_minutes_per_period,
        one.min_minutes_per_period,
        one.max_consecutive_days,
        one.min_consecutive_days,
        one.min_consecutive_days_off,
        one.max_weekends,
    ) == (1, (("E", 28), ("L", 0)), 600, 90, 5, 2, 2, 1)
    assert (
        two.max_sessions_per_day,
        two.max_per_kind,
        two.max_minutes_per_period,
        two.min_minutes_per_period,
        two.max_consecutive_days,
        two.min_consecutive_days,
        two.min_consecutive_days_off,
        two.max_weekends,
    ) == (None, (), None, None, None, None, None, None)


def test_bad_clinician_rule_values(tmp_path):
    """Malformed caps per kind, zero runs and minimums above maximums name their cells."""
    clinicians = (
        "clinician_id,name,practice_code,role,max_sessions_per_day,max_per_kind,"
        "max_minutes_per_period,min_minutes_per_period,max_consecutive_days,"
        "min_consecutive_days,min_consecutive_days_off,max_weekends\n"
        "C1,Dr One,P1,GP,0,E28,600,900,3,4,0,-1\n"
        "C2,Nurse Two,P2,Practice Nurse,,E=1;E=2;L=x;=3,,,,,,\n"
    )
    assert errors_of(write_folder(tmp_path, clinicians=clinicians)) == [
        "clinicians.csv:2:max_sessions_per_day: must be at least 1, got 0",
        "clinicians.csv:2:max_per_kind: expected kind=most (e.g. E=28;L=0), got 'E28'",
        "clinicians.csv:2:min_consecutive_days_off: must be at least 1, got 0",
        "clinicians.csv:2:max_weekends: must be at least 0, got -1",
        "clinicians.csv:2:min_minutes_per_period: 900 is above max_minutes_per_period 600",
        "clinicians.csv:2:min_consecutive_days: 4 is above max_consecutive_days 3",
        "clinicians.csv:3:max_per_kind: kind 'E' given twice",
        "clinicians.csv:3:max_per_kind: kind L: not a whole number ≥ 0: 'x'",
        "clinicians.csv:3:max_per_kind: expected kind=most (e.g. E=28;L=0), got '=3'",
    ]


def test_weighted_availability_entries_are_requests(tmp_path):
    """`kind` and `weight` make soft requests; entries without a weight stay hard."""
    availability = (
        "clinician_id,date,status,start,end,kind,weight\n"
        "C1,2027-03-01,A,,,,\n"
        "C1,2027-03-01,preferred,,,E,3\n"
        "C1,2027-03-02,U,,,L,2\n"
        "C2,2027-03-06,P,,,,1\n"
    )
    problem = load_problem(write_folder(tmp_path, patterns=PATTERNS, availability=availability))
    assert problem.availability[("C1", date(2027, 3, 1))] == (
        Offer(Status.AVAILABLE),
        Offer(Status.PREFERRED, kind="E", weight=3),
    )
    (against,) = problem.availability[("C1", date(2027, 3, 2))]
    assert (against.status, against.kind, against.weight, against.is_request) == (
        Status.UNAVAILABLE,
        "L",
        2,
        True,
    )
    (anything,) = problem.availability[("C2", date(2027, 3, 6))]
    assert anything.kind is None and anything.is_request


def test_bad_weighted_availability(tmp_path):
    """A kind without a weight, a window on a request and a bad weight name their cells."""
    availability = (
        "clinician_id,date,status,start,end,kind,weight\n"
        "C1,2027-03-01,A,,,E,\n"
        "C1,2027-03-02,P,18:00,21:00,,2\n"
        "C2,2027-03-06,P,,,,-2\n"
        "C2,2027-03-07,P,,,,two\n"
    )
    assert errors_of(write_folder(tmp_path, patterns=PATTERNS, availability=availability)) == [
        "availability.csv:2:kind: kind applies to weighted requests only: give a weight > 0",
        "availability.csv:3:start: a weighted request covers the whole day: leave start and "
        "end blank",
        "availability.csv:4:weight: must be at least 0, got -2",
        "availability.csv:5:weight: not a whole number: 'two'",
    ]


def test_rota_toml_general_rules(tmp_path):
    """[rules] max_sessions_per_day and forbidden_successions ("L>E" strings, deduplicated)."""
    problem = load_problem(write_folder(tmp_path, patterns=PATTERNS, **{"rota.toml": RULES}))
    assert problem.rules.max_sessions_per_day == 1
    assert problem.rules.forbidden_successions == (("E", "L"), ("L", "E"))


def test_workbook_rota_sheet_general_rules(tmp_path):
    """The workbook's rota sheet takes the same keys, the list as a TOML value."""
    sheet = 'key,value\nrules.max_sessions_per_day,2\nrules.forbidden_successions,"[""E>L""]"\n'
    problem = load_problem(write_workbook(tmp_path / "b.xlsx", patterns=PATTERNS, rota=sheet))
    assert problem.rules.max_sessions_per_day == 2
    assert problem.rules.forbidden_successions == (("E", "L"),)


def test_bad_rota_toml_general_rules(tmp_path):
    """Bad values name rota.toml, the line and section.key."""
    toml = """[rules]
max_sessions_per_day = 0
forbidden_successions = ["E>L", "E-L"]
"""
    assert errors_of(write_folder(tmp_path, patterns=PATTERNS, **{"rota.toml": toml})) == [
        "rota.toml:2:rules.max_sessions_per_day: expected a whole number ≥ 1, got 0",
        "rota.toml:3:rules.forbidden_successions: item 2 'E-L': expected \"KIND>KIND\" (a kind, "
        "then the kind that may not follow it the next day)",
    ]
    toml = '[rules]\nforbidden_successions = "E>L"\n'
    assert errors_of(write_folder(tmp_path, patterns=PATTERNS, **{"rota.toml": toml})) == [
        'rota.toml:2:rules.forbidden_successions: expected a list like ["L>E", "N>D"], got \'E>L\''
    ]


def test_kinds_no_session_has_are_warnings(tmp_path):
    """A kind named in a cap, a request or a succession that no session has is a warning."""
    clinicians = (
        "clinician_id,name,practice_code,role,max_per_kind\n"
        "C1,Dr One,P1,GP,E=3;X=1\nC2,Nurse Two,P2,Practice Nurse,\n"
    )
    availability = (
        "clinician_id,date,status,kind,weight\nC1,2027-03-01,P,Y,1\nC1,2027-03-02,P,L,1\n"
    )
    toml = '[rules]\nforbidden_successions = ["E>Z"]\n'
    _, warnings = load_problem_with_warnings(
        write_folder(
            tmp_path,
            patterns=PATTERNS,
            clinicians=clinicians,
            availability=availability,
            **{"rota.toml": toml},
        )
    )
    assert warnings == [
        "clinicians.csv:2:max_per_kind: no session is of kind 'X' (kinds: E, L)",
        "availability.csv:2:kind: no session is of kind 'Y' (kinds: E, L)",
        "rota.toml:2:rules.forbidden_successions: no session is of kind 'Z' (kinds: E, L)",
    ]


def test_loaded_general_rules_bind_the_solver(tmp_path):
    """A folder using the general rules solves, and the checker finds nothing broken: C1 may
    not work kind L, so Tuesday's L post stays empty though C1 is free."""
    from scheduler.solver.solve import solve

    patterns = (
        "hub_id,weekday,start,end,roles,min,target,kind,under_weight\n"
        "H1,Mon,18:30,20:00,GP,0,1,E,100\n"
        "H1,Tue,18:30,20:00,GP,0,1,L,100\n"
    )
    clinicians = (
        "clinician_id,name,practice_code,role,max_per_kind,max_sessions_per_day\n"
        "C1,Dr One,P1,GP,L=0,1\n"
    )
    toml = """[period]
start = 2027-03-01
end = 2027-03-07
[rules]
availability_default = "available"
forbidden_successions = ["E>L"]
[weights]
unfilled_target = 0
"""
    problem = load_problem(
        write_folder(
            tmp_path,
            patterns=patterns,
            clinicians=clinicians,
            availability="clinician_id,date,status\n",
            **{"rota.toml": toml},
        )
    )
    result = solve(problem, SolveParams(time_limit=10, workers=1))
    assert check(problem, result.rota) == []
    assert [a.session_id for a in result.rota] == ["H1-20270301-1830-2000"]
    assert result.parts["cover"] == 100
