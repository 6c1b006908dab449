"""Input boundary: folders and workbooks into a Problem, every bad cell named by file:row:column."""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import re
import tempfile
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.domain import Assignment, Offer, Pin, Status
from scheduler.io.load import (
    ROTA_COLUMNS,
    UNFILLED_COLUMNS,
    InputError,
    InputErrors,
    load_problem,
    load_problem_with_warnings,
    load_rota,
    write_rota_csv,
    write_unfilled_csv,
)

BASE = {
    "practices": """practice_code,name,list_size
P1,Practice One,10000
P2,Practice Two,5000
""",
    "hubs": """hub_id,name,rooms
H1,Central,2
H2,Riverside,
""",
    "clinicians": """\
clinician_id,name,practice_code,role,skills,hubs,cost_per_hour,weekly_hours_elsewhere
C1,Dr One,P1,GP,Minor Surgery,,85.50,37.5
C2,Nurse Two,P2,Practice Nurse,,H1;H2,,
""",
    "patterns": """hub_id,weekday,start,end,roles,min,target
H1,Mon,18:30,20:00,GP,1,1
H1,Mon,18:30,20:00,Practice Nurse;HCA,0,1
H2,Saturday,09:00,12:00,GP;ANP,1,2
""",
    "availability": """clinician_id,date,status,start,end
C1,2027-03-01,A,,
C1,2027-03-06,P,,
C2,2027-03-01,available,18:00,21:00
C2,2027-03-07,U,,
""",
}

GRID = """clinician_id,2027-03-01,2027-03-06,2027-03-07
C1,A,P,
C2,A,,U
"""


def write_folder(root: Path, **changes: str | bytes | None) -> Path:
    """The BASE folder with files replaced (text or bytes), added, or removed (None)."""
    files: dict[str, str | bytes | None] = {**BASE, **changes}
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        if text is None:
            continue
        path = root / (name if "." in name else f"{name}.csv")
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return root


def typed(cell: str) -> object:
    """A cell as a spreadsheet user would have typed it: dates, times and numbers typed."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cell):
        return datetime.fromisoformat(cell)
    if re.fullmatch(r"\d{2}:\d{2}", cell):
        return time.fromisoformat(cell)
    if re.fullmatch(r"\d+", cell):
        return int(cell)
    if re.fullmatch(r"\d+\.\d+", cell):
        return float(cell)
    return cell or None


def write_workbook(path: Path, **changes: str | None) -> Path:
    """The BASE files as sheets of one workbook, cells typed as in Excel."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, text in {**BASE, **changes}.items():
        if text is None:
            continue
        sheet = book.create_sheet(name)
        for row in csv.reader(io.StringIO(text)):
            sheet.append([typed(cell) for cell in row])
    book.save(path)
    return path


def errors_of(src: Path) -> list[str]:
    with pytest.raises(InputErrors) as caught:
        load_problem(src)
    return [str(e) for e in caught.value.errors]


def without_sources(problem):
    """Posts remember their file and row for messages; compare problems without them."""
    sessions = tuple(
        dataclasses.replace(s, posts=tuple(dataclasses.replace(p, source="") for p in s.posts))
        for s in problem.sessions
    )
    return dataclasses.replace(problem, sessions=sessions)


# ---- good input ------------------------------------------------------------------------


def test_folder_loads_every_file(tmp_path):
    """The BASE folder gives its practices, hubs, clinicians, sessions and availability."""
    problem, warnings = load_problem_with_warnings(write_folder(tmp_path))
    assert warnings == []
    assert [p.code for p in problem.practices] == ["P1", "P2"]
    assert [(h.hub_id, h.rooms) for h in problem.hubs] == [("H1", 2), ("H2", None)]
    one, two = problem.clinicians
    assert one.skills == {"minor surgery"} and one.hubs == frozenset()
    assert one.cost_per_hour_pence == 8550 and one.weekly_minutes_elsewhere == 2250
    assert two.hubs == {"H1", "H2"} and two.max_sessions_per_week == 2
    assert (problem.period_start, problem.period_end) == (date(2027, 3, 1), date(2027, 3, 7))
    assert [s.session_id for s in problem.sessions] == [
        "H1-20270301-1830-2000",
        "H2-20270306-0900-1200",
    ]
    monday = problem.sessions[0]
    assert [(p.roles_text, p.roles, p.min, p.target) for p in monday.posts] == [
        ("GP", {"gp"}, 1, 1),
        ("Practice Nurse;HCA", {"practice nurse", "hca"}, 0, 1),
    ]
    assert monday.posts[1].source == "patterns.csv:3"
    assert problem.published == () and problem.bank_holidays == frozenset()


def test_availability_windows_are_kept(tmp_path):
    """A long-form row with start and end offers only that window."""
    problem = load_problem(write_folder(tmp_path))
    assert problem.availability[("C2", date(2027, 3, 1))] == (
        Offer(Status.AVAILABLE, time(18, 0), time(21, 0)),
    )
    assert problem.availability[("C1", date(2027, 3, 6))] == (Offer(Status.PREFERRED),)


def test_several_entries_for_one_date(tmp_path):
    """Two windows on one date are both kept, in file order."""
    availability = (
        BASE["availability"] + "C1,2027-03-07,P,09:00,12:00\nC1,2027-03-07,U,18:00,20:00\n"
    )
    problem = load_problem(write_folder(tmp_path, availability=availability))
    assert problem.availability[("C1", date(2027, 3, 7))] == (
        Offer(Status.PREFERRED, time(9), time(12)),
        Offer(Status.UNAVAILABLE, time(18), time(20)),
    )


def test_workbook_gives_the_same_problem_as_the_folder(tmp_path):
    """One sheet per file, typed date/time/number cells, reads exactly like the CSV folder."""
    folder = load_problem(write_folder(tmp_path / "folder"))
    book = load_problem(write_workbook(tmp_path / "rota.xlsx"))
    assert without_sources(book) == without_sources(folder)
    assert book.sessions[0].posts[0].source == "rota.xlsx[patterns]:2"


def test_grid_availability_equals_long_availability(tmp_path):
    """The grid form (one column per date) gives the same offers as the long form without
    windows."""
    long = BASE["availability"].replace("18:00,21:00", ",")
    from_long = load_problem(write_folder(tmp_path / "long", availability=long))
    from_grid = load_problem(write_folder(tmp_path / "grid", availability=GRID))
    assert from_grid.availability == from_long.availability
    assert (from_grid.period_start, from_grid.period_end) == (date(2027, 3, 1), date(2027, 3, 7))


def test_grid_availability_in_a_workbook_with_date_headers(tmp_path):
    """A grid sheet whose header cells are Excel dates reads like the CSV grid."""
    from_csv = load_problem(write_folder(tmp_path / "grid", availability=GRID))
    from_book = load_problem(write_workbook(tmp_path / "rota.xlsx", availability=GRID))
    assert from_book.availability == from_csv.availability


def test_bom_and_header_case_and_spaces(tmp_path):
    """A UTF-8 BOM, upper case and padded header names are accepted."""
    practices = "\ufeff Practice_Code ,NAME,  List_Size\nP1,Practice One,10000\nP2,Two,5000\n"
    problem, warnings = load_problem_with_warnings(write_folder(tmp_path, practices=practices))
    assert warnings == []
    assert [(p.code, p.list_size) for p in problem.practices] == [("P1", 10000), ("P2", 5000)]


def test_cells_are_stripped_and_roles_compared_case_insensitively(tmp_path):
    """Spaces around cells go; ' gp ; anp ' is the post's roles {gp, anp}."""
    patterns = "hub_id,weekday,start,end,roles,min\n H1 , mon , 18:30 , 20:00 , gp ; anp ,1\n"
    problem = load_problem(write_folder(tmp_path, patterns=patterns))
    assert problem.sessions[0].hub_id == "H1"
    assert problem.sessions[0].posts[0].roles == {"gp", "anp"}


def test_unknown_column_is_a_warning(tmp_path):
    """An unknown column is ignored and reported as file:row:column: warning."""
    hubs = "hub_id,name,colour\nH1,Central,red\nH2,Riverside,blue\n"
    problem, warnings = load_problem_with_warnings(write_folder(tmp_path, hubs=hubs))
    assert warnings == ["hubs.csv:1:colour: unknown column ignored"]
    assert [h.hub_id for h in problem.hubs] == ["H1", "H2"]


def test_load_problem_logs_warnings(tmp_path, caplog):
    """load_problem sends each warning to the scheduler.io.load logger."""
    hubs = "hub_id,name,colour\nH1,Central,red\nH2,Riverside,blue\n"
    with caplog.at_level(logging.WARNING, logger="scheduler.io.load"):
        load_problem(write_folder(tmp_path, hubs=hubs))
    assert "hubs.csv:1:colour: unknown column ignored" in caplog.messages


def test_unknown_file_and_sheet_are_warnings(tmp_path):
    """Unknown CSV files and sheets are ignored with a warning."""
    _, folder_warnings = load_problem_with_warnings(write_folder(tmp_path / "f", notes="a\n1\n"))
    _, book_warnings = load_problem_with_warnings(
        write_workbook(tmp_path / "b.xlsx", Notes="a\n1\n")
    )
    assert folder_warnings == ["notes.csv:0:: unknown file ignored"]
    assert book_warnings == ["b.xlsx[Notes]:0:: unknown sheet ignored"]


def test_blank_lines_keep_spreadsheet_row_numbers(tmp_path):
    """A blank line is skipped but later rows keep the numbers a spreadsheet shows."""
    practices = "practice_code,name,list_size\nP1,One,10000\n\nP2,Two,-1\n"
    assert errors_of(write_folder(tmp_path, practices=practices)) == [
        "practices.csv:4:list_size: must be at least 1, got -1"
    ]


def test_valid_from_and_valid_to(tmp_path):
    """A pattern row runs only from valid_from to valid_to inclusive."""
    patterns = (
        "hub_id,weekday,start,end,roles,min,valid_from,valid_to\n"
        "H1,Mon,18:30,20:00,GP,1,2027-03-08,2027-03-15\n"
    )
    toml = '[period]\nstart = 2027-03-01\nend = "2027-03-28"\n'
    problem = load_problem(write_folder(tmp_path, patterns=patterns, **{"rota.toml": toml}))
    assert [s.date for s in problem.sessions] == [date(2027, 3, 8), date(2027, 3, 15)]


def test_bank_holidays_skip_by_default_and_run_on_request(tmp_path):
    """Easter Monday: the default row is skipped (and recorded), the `run` row is kept."""
    patterns = (
        "hub_id,weekday,start,end,roles,min,bank_holidays\n"
        "H1,Mon,18:30,20:00,GP,1,\n"
        "H2,Mon,18:30,20:00,GP,1,RUN\n"
    )
    toml = "[period]\nstart = 2027-03-22\nend = 2027-04-04\n"
    problem = load_problem(write_folder(tmp_path, patterns=patterns, **{"rota.toml": toml}))
    assert problem.bank_holidays == {date(2027, 3, 26), date(2027, 3, 29)}
    assert [s.session_id for s in problem.sessions] == [
        "H1-20270322-1830-2000",
        "H2-20270322-1830-2000",
        "H2-20270329-1830-2000",
    ]
    assert [(s.session_id, s.min_minutes) for s in problem.skipped_for_bank_holidays] == [
        ("H1-20270329-1830-2000", 90)
    ]


def test_bank_holiday_region_from_rota_toml(tmp_path):
    """In Scotland Easter Monday is an ordinary day."""
    patterns = "hub_id,weekday,start,end,roles,min\nH1,Mon,18:30,20:00,GP,1\n"
    toml = (
        "[period]\nstart = 2027-03-29\nend = 2027-03-29\n"
        '[rules]\nbank_holiday_region = "scotland"\n'
    )
    problem = load_problem(write_folder(tmp_path, patterns=patterns, **{"rota.toml": toml}))
    assert [s.date for s in problem.sessions] == [date(2027, 3, 29)]


def test_one_off_sessions_join_patterns_and_warn_when_skipped(tmp_path):
    """sessions.csv rows add posts; one outside the period or on a bank holiday is reported."""
    sessions = (
        "hub_id,date,start,end,roles,min,target,skill\n"
        "H1,2027-03-01,18:30,20:00,HCA,0,1,Phlebotomy\n"
        "H2,2027-03-26,09:00,12:00,GP,1,1,\n"
        "H2,2027-05-01,09:00,12:00,GP,1,1,\n"
    )
    toml = "[period]\nstart = 2027-03-01\nend = 2027-03-31\n"
    problem, warnings = load_problem_with_warnings(
        write_folder(tmp_path, sessions=sessions, **{"rota.toml": toml})
    )
    first = problem.session("H1-20270301-1830-2000")
    assert [p.roles_text for p in first.posts] == ["GP", "Practice Nurse;HCA", "HCA"]
    assert first.posts[2].skill == "phlebotomy"
    assert warnings == [
        "sessions.csv:4:date: 2027-05-01 is outside the period 2027-03-01 to 2027-03-31; ignored",
        "sessions.csv:3:date: 2027-03-26 is a bank holiday: skipped (bank_holidays = run keeps it)",
    ]


def test_rota_toml_sets_period_rules_and_weights(tmp_path):
    """Every section of rota.toml reaches Problem; unset keys keep their defaults."""
    toml = """[period]
start = 2027-03-01
end = 2027-03-14
reference_date = 2027-03-02

[rules]
availability_default = "available"
min_rest_hours = 10.5
gp_cover = false

[weights]
cost = 0
"""
    problem = load_problem(write_folder(tmp_path, **{"rota.toml": toml}))
    assert (problem.period_start, problem.period_end) == (date(2027, 3, 1), date(2027, 3, 14))
    assert problem.reference_date == date(2027, 3, 2)
    assert problem.rules.availability_default is Status.AVAILABLE
    assert problem.rules.min_rest_minutes == 630 and problem.rules.gp_cover is False
    assert problem.rules.max_consecutive_days == 6
    assert problem.weights.cost == 0 and problem.weights.even_saturdays == 4


def test_workbook_rota_sheet_sets_rules(tmp_path):
    """A workbook's optional `rota` sheet (key, value) plays the part of rota.toml."""
    sheet = (
        "key,value\nperiod.end,2027-03-14\nrules.gp_cover,false\n"
        "rules.bank_holiday_region,scotland\n"
    )
    problem = load_problem(write_workbook(tmp_path / "b.xlsx", rota=sheet))
    assert problem.period_end == date(2027, 3, 14)
    assert problem.rules.gp_cover is False and problem.rules.bank_holiday_region == "scotland"


def test_clinician_optional_columns(tmp_path):
    """Caps, minimum, email and the preferred_hubs extension are read."""
    clinicians = (
        "clinician_id,name,practice_code,role,email,max_sessions_per_week,"
        "max_sessions_per_period,min_sessions_per_period,preferred_hubs,cost_per_hour\n"
        "C1,Dr One,P1,GP,one@example.org,3,6,1,H2,£90\n"
        "C2,Nurse Two,P2,Practice Nurse,,,,,,\n"
    )
    one, two = load_problem(write_folder(tmp_path, clinicians=clinicians)).clinicians
    assert (
        one.email,
        one.max_sessions_per_week,
        one.max_sessions_per_period,
        one.min_sessions_per_period,
        one.preferred_hubs,
        one.cost_per_hour_pence,
    ) == ("one@example.org", 3, 6, 1, {"H2"}, 9000)
    assert (two.max_sessions_per_week, two.max_sessions_per_period) == (2, None)


def test_hub_without_network_joins_the_practices_network(tmp_path):
    """When every practice is in one network, a hub with a blank network is in it too."""
    practices = (
        "practice_code,name,list_size,network\nP1,One,10000,North PCN\nP2,Two,5000,North PCN\n"
    )
    problem = load_problem(write_folder(tmp_path, practices=practices))
    assert {h.network for h in problem.hubs} == {"North PCN"}
    assert problem.networks == ("North PCN",)


def test_assignments_become_published_pins(tmp_path):
    """assignments.csv rows by session_id or by hub, date and start; locked yes/no/1/0."""
    assignments = (
        "session_id,hub_id,date,start,clinician_id,locked\n"
        "H1-20270301-1830-2000,,,,C1,yes\n"
        ",H2,2027-03-06,09:00,C1,0\n"
        ",H1,2027-03-01,18:30,C2,\n"
    )
    problem = load_problem(write_folder(tmp_path, assignments=assignments))
    assert problem.published == (
        Pin("H1-20270301-1830-2000", "C1", True),
        Pin("H2-20270306-0900-1200", "C1", False),
        Pin("H1-20270301-1830-2000", "C2", False),
    )


def test_unlocked_pin_outside_the_period_is_a_warning(tmp_path):
    """A published session outside the period is dropped with a warning unless locked."""
    assignments = "session_id,clinician_id\nH1-20270405-1830-2000,C1\n"
    problem, warnings = load_problem_with_warnings(write_folder(tmp_path, assignments=assignments))
    assert problem.published == ()
    assert warnings == [
        "assignments.csv:2:session_id: session H1-20270405-1830-2000 is not in "
        "the period 2027-03-01 to 2027-03-07; pin ignored"
    ]


# ---- bad input: one test per kind ------------------------------------------------------


def test_missing_required_file(tmp_path):
    """A missing required file is named with row 0 and no column."""
    assert errors_of(write_folder(tmp_path, hubs=None)) == ["hubs.csv:0:: required file is missing"]


def test_missing_required_sheet(tmp_path):
    """A workbook without a required sheet names the sheet."""
    assert errors_of(write_workbook(tmp_path / "b.xlsx", clinicians=None)) == [
        "b.xlsx[clinicians]:0:: required sheet is missing"
    ]


def test_missing_required_columns(tmp_path):
    """Each missing required column is reported on the header row."""
    practices = "practice_code,size\nP1,10\n"
    errors = errors_of(write_folder(tmp_path, practices=practices))
    assert errors == [
        "practices.csv:1:name: missing required column",
        "practices.csv:1:list_size: missing required column",
    ]


def test_unknown_practice_in_clinicians(tmp_path):
    """clinicians.practice_code must name a practice."""
    clinicians = "clinician_id,name,practice_code,role\nC1,Dr One,P1,GP\nC2,Dr Two,P9,GP\n"
    assert errors_of(write_folder(tmp_path, clinicians=clinicians)) == [
        "clinicians.csv:3:practice_code: unknown practice 'P9'"
    ]


def test_unknown_hub_in_clinicians_and_patterns(tmp_path):
    """clinicians.hubs, preferred_hubs and patterns.hub_id must name hubs."""
    clinicians = (
        "clinician_id,name,practice_code,role,hubs,preferred_hubs\n"
        "C1,Dr One,P1,GP,H1;H9,H8\nC2,Dr Two,P2,GP,,\n"
    )
    patterns = "hub_id,weekday,start,end,roles,min\nH7,Mon,18:30,20:00,GP,1\n"
    assert errors_of(write_folder(tmp_path, clinicians=clinicians, patterns=patterns)) == [
        "clinicians.csv:2:hubs: unknown hub 'H9'",
        "clinicians.csv:2:preferred_hubs: unknown hub 'H8'",
        "patterns.csv:2:hub_id: unknown hub 'H7'",
    ]


def test_unknown_clinician_in_availability(tmp_path):
    """availability.clinician_id must name a clinician, in long and grid form."""
    long = BASE["availability"] + "C9,2027-03-01,A,,\n"
    grid = GRID + "C8,A,,\n"
    assert errors_of(write_folder(tmp_path / "l", availability=long)) == [
        "availability.csv:6:clinician_id: unknown clinician 'C9'"
    ]
    assert errors_of(write_folder(tmp_path / "g", availability=grid)) == [
        "availability.csv:4:clinician_id: unknown clinician 'C8'"
    ]


def test_unknown_ids_in_assignments(tmp_path):
    """assignments.csv: unknown clinician, unknown hub and a malformed session id."""
    assignments = (
        "session_id,hub_id,date,start,clinician_id\n"
        "H1-20270301-1830-2000,,,,C9\n"
        ",H9,2027-03-01,18:30,C1\n"
        "tuesday,,,,C1\n"
    )
    assert errors_of(write_folder(tmp_path, assignments=assignments)) == [
        "assignments.csv:2:clinician_id: unknown clinician 'C9'",
        "assignments.csv:3:hub_id: unknown hub 'H9'",
        "assignments.csv:4:session_id: not a session id (hub-YYYYMMDD-HHMM-HHMM): 'tuesday'",
    ]


def test_duplicate_ids(tmp_path):
    """A repeated practice_code, hub_id or clinician_id names the first row."""
    practices = BASE["practices"] + "P1,Again,10\n"
    hubs = BASE["hubs"] + "H2,Again,\n"
    clinicians = BASE["clinicians"] + "C1,Again,P1,GP,,,,\n"
    assert errors_of(
        write_folder(tmp_path, practices=practices, hubs=hubs, clinicians=clinicians)
    ) == [
        "practices.csv:4:practice_code: duplicate practice_code 'P1' (first on row 2)",
        "hubs.csv:4:hub_id: duplicate hub_id 'H2' (first on row 3)",
        "clinicians.csv:4:clinician_id: duplicate clinician_id 'C1' (first on row 2)",
    ]


def test_impossible_and_malformed_dates(tmp_path):
    """30 February and 01/03/2027 are rejected; so is a bad grid header."""
    long = BASE["availability"] + "C1,2027-02-30,A,,\nC1,01/03/2027,A,,\n"
    grid = "clinician_id,2027-03-01,2027-13-01\nC1,A,A\n"
    assert errors_of(write_folder(tmp_path / "l", availability=long)) == [
        "availability.csv:6:date: impossible date '2027-02-30'",
        "availability.csv:7:date: not a date (YYYY-MM-DD): '01/03/2027'",
    ]
    assert errors_of(write_folder(tmp_path / "g", availability=grid)) == [
        "availability.csv:1:2027-13-01: impossible date '2027-13-01'"
    ]


def test_impossible_and_malformed_times(tmp_path):
    """25:00 and 6pm are not times."""
    patterns = (
        "hub_id,weekday,start,end,roles,min\nH1,Mon,25:00,20:00,GP,1\nH1,Mon,18:30,6pm,GP,1\n"
    )
    assert errors_of(write_folder(tmp_path, patterns=patterns)) == [
        "patterns.csv:2:start: impossible time '25:00'",
        "patterns.csv:3:end: not a time (HH:MM): '6pm'",
    ]


def test_end_not_after_start(tmp_path):
    """A session ending before or when it starts (or past midnight) is rejected."""
    patterns = (
        "hub_id,weekday,start,end,roles,min\n"
        "H1,Mon,18:30,18:00,GP,1\nH1,Mon,18:30,18:30,GP,1\nH1,Fri,22:00,02:00,GP,1\n"
    )
    assert errors_of(write_folder(tmp_path, patterns=patterns)) == [
        "patterns.csv:2:end: end 18:00 is not after start 18:30 (nothing may run past midnight)",
        "patterns.csv:3:end: end 18:30 is not after start 18:30 (nothing may run past midnight)",
        "patterns.csv:4:end: end 02:00 is not after start 22:00 (nothing may run past midnight)",
    ]


def test_availability_window_needs_both_ends(tmp_path):
    """A window with only a start, or ending before it starts, is rejected."""
    long = BASE["availability"] + "C1,2027-03-02,A,18:00,\nC1,2027-03-03,A,20:00,19:00\n"
    assert errors_of(write_folder(tmp_path, availability=long)) == [
        "availability.csv:6:end: give both start and end, or neither",
        "availability.csv:7:end: end 19:00 is not after start 20:00"
        " (nothing may run past midnight)",
    ]


def test_min_above_target(tmp_path):
    """min may not exceed target."""
    patterns = "hub_id,weekday,start,end,roles,min,target\nH1,Mon,18:30,20:00,GP,2,1\n"
    assert errors_of(write_folder(tmp_path, patterns=patterns)) == [
        "patterns.csv:2:min: min 2 is above target 1"
    ]


def test_unknown_weekday(tmp_path):
    """Weekdays are Mon..Sun (any case, full or three letters or more)."""
    patterns = (
        "hub_id,weekday,start,end,roles,min\n"
        "H1,Funday,18:30,20:00,GP,1\nH1,TUES,18:30,20:00,GP,1\nH1,Mo,18:30,20:00,GP,1\n"
    )
    assert errors_of(write_folder(tmp_path, patterns=patterns)) == [
        "patterns.csv:2:weekday: unknown weekday 'Funday' (use Mon..Sun)",
        "patterns.csv:4:weekday: unknown weekday 'Mo' (use Mon..Sun)",
    ]


def test_unknown_status(tmp_path):
    """Status is available/preferred/unavailable or A/P/U, in long and grid form."""
    long = BASE["availability"] + "C1,2027-03-02,maybe,,\n"
    grid = "clinician_id,2027-03-01\nC1,X\n"
    message = "unknown status {!r} (use available, preferred, unavailable or A, P, U)"
    assert errors_of(write_folder(tmp_path / "l", availability=long)) == [
        "availability.csv:6:status: " + message.format("maybe")
    ]
    assert errors_of(write_folder(tmp_path / "g", availability=grid)) == [
        "availability.csv:2:2027-03-01: " + message.format("X")
    ]


def test_bad_bank_holidays_value(tmp_path):
    """bank_holidays is skip or run."""
    patterns = (
        "hub_id,weekday,start,end,roles,min,bank_holidays\nH1,Mon,18:30,20:00,GP,1,sometimes\n"
    )
    assert errors_of(write_folder(tmp_path, patterns=patterns)) == [
        "patterns.csv:2:bank_holidays: expected skip or run, got 'sometimes'"
    ]


def test_negative_and_non_numeric_numbers(tmp_path):
    """list_size > 0, rooms ≥ 1, caps and money ≥ 0, all numeric."""
    practices = "practice_code,name,list_size\nP1,One,0\nP2,Two,lots\n"
    hubs = "hub_id,name,rooms\nH1,Central,0\nH2,Riverside,1.5\n"
    clinicians = (
        "clinician_id,name,practice_code,role,max_sessions_per_week,cost_per_hour,"
        "weekly_hours_elsewhere\nC1,Dr One,P1,GP,-1,abc,\nC2,Dr Two,P2,GP,,-3,-2\n"
    )
    patterns = "hub_id,weekday,start,end,roles,min\nH1,Mon,18:30,20:00,GP,-1\n"
    assert errors_of(
        write_folder(
            tmp_path, practices=practices, hubs=hubs, clinicians=clinicians, patterns=patterns
        )
    ) == [
        "practices.csv:2:list_size: must be at least 1, got 0",
        "practices.csv:3:list_size: not a whole number: 'lots'",
        "hubs.csv:2:rooms: must be at least 1, got 0",
        "hubs.csv:3:rooms: not a whole number: '1.5'",
        "clinicians.csv:2:max_sessions_per_week: must be at least 0, got -1",
        "clinicians.csv:2:cost_per_hour: not a number: 'abc'",
        "clinicians.csv:3:cost_per_hour: must not be negative, got -3",
        "clinicians.csv:3:weekly_hours_elsewhere: must not be negative, got -2",
        "patterns.csv:2:min: must be at least 0, got -1",
    ]


def test_required_cell_left_blank(tmp_path):
    """A required column present but blank in a row is named."""
    clinicians = "clinician_id,name,practice_code,role\nC1,Dr One,P1,\nC2,Dr Two,P2,GP\n"
    assert errors_of(write_folder(tmp_path, clinicians=clinicians)) == [
        "clinicians.csv:2:role: is required but blank"
    ]


def test_empty_files(tmp_path):
    """A zero-byte file, or a header with no rows where rows are needed, is an error."""
    errors = errors_of(write_folder(tmp_path, practices=b"", hubs="hub_id,name\n"))
    assert errors == ["practices.csv:0:: file is empty (no header row)", "hubs.csv:0:: no hubs"]


def test_unreadable_csv(tmp_path):
    """Text that is not UTF-8 and a row with too many cells are reported, not raised."""
    practices = "practice_code,name,list_size\nP1,Caf\xe9,10\n".encode("latin-1")
    hubs = "hub_id,name\nH1,Central, Leeds\n"
    assert errors_of(write_folder(tmp_path, practices=practices, hubs=hubs)) == [
        "practices.csv:0:: not UTF-8 text (save it as CSV UTF-8)",
        "hubs.csv:2:: row has 3 cells but the header has 2 (a comma inside a value needs quotes)",
    ]


def test_corrupt_workbook(tmp_path):
    """A file named .xlsx that is not a workbook is one error naming the file."""
    book = tmp_path / "rota.xlsx"
    book.write_bytes(b"not a zip file at all")
    (error,) = errors_of(book)
    assert error.startswith("rota.xlsx:0:: cannot read workbook")


def test_missing_source(tmp_path):
    """A path that does not exist is an input error, not a traceback."""
    (error,) = errors_of(tmp_path / "nowhere")
    assert error.endswith("nowhere:0:: no such folder or workbook")


def test_workbook_errors_name_the_sheet(tmp_path):
    """Inside a workbook, file is book.xlsx[sheet] and rows are sheet rows."""
    patterns = (
        "hub_id,weekday,start,end,roles,min\n"
        "H1,Mon,18:30,20:00,GP,1\nH1,Caturday,09:00,12:00,GP,1\n"
    )
    assert errors_of(write_workbook(tmp_path / "b.xlsx", patterns=patterns)) == [
        "b.xlsx[patterns]:3:weekday: unknown weekday 'Caturday' (use Mon..Sun)"
    ]


def test_locked_pin_outside_the_period(tmp_path):
    """A locked pin on a session outside the period, or on no session at all, is an error."""
    assignments = (
        "session_id,hub_id,date,start,clinician_id,locked\n"
        "H1-20270405-1830-2000,,,,C1,yes\n"
        ",H1,2027-03-02,18:30,C1,true\n"
    )
    assert errors_of(write_folder(tmp_path, assignments=assignments)) == [
        "assignments.csv:2:session_id: locked pin on a missing session: session "
        "H1-20270405-1830-2000 is not in the period 2027-03-01 to 2027-03-07",
        "assignments.csv:3:date: locked pin on a missing session: no session H1 on 2027-03-02 "
        "at 18:30 in patterns or sessions",
    ]


def test_bad_locked_value(tmp_path):
    """locked is yes/no/true/false/1/0."""
    assignments = "session_id,clinician_id,locked\nH1-20270301-1830-2000,C1,perhaps\n"
    assert errors_of(write_folder(tmp_path, assignments=assignments)) == [
        "assignments.csv:2:locked: expected yes or no, got 'perhaps'"
    ]


def test_rota_toml_unknown_keys_and_bad_values(tmp_path):
    """Unknown sections and keys and bad values name rota.toml, the line and section.key."""
    toml = """[period]
start = 2027-03-01
finish = 2027-03-07

[rules]
min_rest_hours = -1
gp_cover = "yes"
bank_holiday_region = "wales"

[weights]
cost = 1.5

[colours]
hub = "red"
"""
    assert errors_of(write_folder(tmp_path, **{"rota.toml": toml})) == [
        "rota.toml:3:period.finish: unknown key",
        "rota.toml:6:rules.min_rest_hours: expected a number ≥ 0, got -1",
        "rota.toml:7:rules.gp_cover: expected true or false, got 'yes'",
        "rota.toml:8:rules.bank_holiday_region: expected one of england-and-wales, scotland, "
        "northern-ireland, got 'wales'",
        "rota.toml:11:weights.cost: expected a whole number ≥ 0, got 1.5",
        "rota.toml:13:colours: unknown section (use [period], [rules], [weights])",
    ]


def test_rota_toml_syntax_error(tmp_path):
    """A TOML syntax error names its line."""
    (error,) = errors_of(write_folder(tmp_path, **{"rota.toml": "[rules]\nmin_rest_hours = \n"}))
    assert error.startswith("rota.toml:2:: not valid TOML")


def test_period_end_before_start(tmp_path):
    """[period] end before start is rejected."""
    toml = "[period]\nstart = 2027-03-07\nend = 2027-03-01\n"
    assert errors_of(write_folder(tmp_path, **{"rota.toml": toml})) == [
        "rota.toml:3:period.end: end 2027-03-01 is before start 2027-03-07"
    ]


def test_every_problem_is_collected(tmp_path):
    """Errors in several files come together, in file order, each once."""
    errors = errors_of(
        write_folder(
            tmp_path,
            practices="practice_code,name,list_size\nP1,One,x\nP2,Two,1\n",
            patterns="hub_id,weekday,start,end,roles,min\nH1,Mon,18:30,17:00,GP,1\n",
            availability=BASE["availability"] + "C3,2027-03-01,Q,,\n",
        )
    )
    assert errors == [
        "practices.csv:2:list_size: not a whole number: 'x'",
        "patterns.csv:2:end: end 17:00 is not after start 18:30 (nothing may run past midnight)",
        "availability.csv:6:clinician_id: unknown clinician 'C3'",
        "availability.csv:6:status: unknown status 'Q' (use available, preferred, unavailable "
        "or A, P, U)",
    ]


def test_input_errors_print_one_line_each():
    """str(InputErrors) is one file:row:column: message per line."""
    errors = InputErrors([InputError("a.csv", 2, "x", "bad"), InputError("b.csv", 0, "", "gone")])
    assert str(errors) == "a.csv:2:x: bad\nb.csv:0:: gone"


# ---- rota.csv in and out ---------------------------------------------------------------


def test_write_then_load_rota_round_trips(tmp_path):
    """write_rota_csv writes DESIGN.md's columns in order; load_rota reads them back."""
    problem = load_problem(write_folder(tmp_path / "src"))
    rota = (
        Assignment("H2-20270306-0900-1200", 0, "C1"),
        Assignment("H1-20270301-1830-2000", 1, "C2", locked=True),
        Assignment("H1-20270301-1830-2000", 0, "C1"),
    )
    path = tmp_path / "rota.csv"
    write_rota_csv(problem, rota, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [
        ",".join(ROTA_COLUMNS),
        "H1-20270301-1830-2000,H1,2027-03-01,18:30,20:00,GP,C1,Dr One,P1,no",
        "H1-20270301-1830-2000,H1,2027-03-01,18:30,20:00,Practice Nurse;HCA,C2,Nurse Two,P2,yes",
        "H2-20270306-0900-1200,H2,2027-03-06,09:00,12:00,GP;ANP,C1,Dr One,P1,no",
    ]
    assert load_rota(problem, path) == tuple(sorted(rota))


def test_load_rota_picks_the_post(tmp_path):
    """Without roles the first post accepting the clinician is used, free places first."""
    problem = load_problem(write_folder(tmp_path / "src"))
    path = tmp_path / "rota.csv"
    path.write_text(
        "clinician_id,session_id\nC2,H1-20270301-1830-2000\nC1,H1-20270301-1830-2000\n",
        encoding="utf-8",
    )
    assert load_rota(problem, path) == (
        Assignment("H1-20270301-1830-2000", 0, "C1"),
        Assignment("H1-20270301-1830-2000", 1, "C2"),
    )


def test_load_rota_unknown_ids(tmp_path):
    """Unknown session or clinician ids in a rota are InputErrors with row and column."""
    problem = load_problem(write_folder(tmp_path / "src"))
    path = tmp_path / "rota.csv"
    path.write_text(
        "session_id,clinician_id\nH1-20270302-1830-2000,C1\nH1-20270301-1830-2000,C7\n",
        encoding="utf-8",
    )
    with pytest.raises(InputErrors) as caught:
        load_rota(problem, path)
    assert [str(e) for e in caught.value.errors] == [
        "rota.csv:2:session_id: unknown session 'H1-20270302-1830-2000'",
        "rota.csv:3:clinician_id: unknown clinician 'C7'",
    ]


def test_write_unfilled_csv(tmp_path):
    """unfilled.csv has DESIGN.md's columns; dates and times are formatted."""
    path = tmp_path / "unfilled.csv"
    write_unfilled_csv(
        [
            {
                "session_id": "H1-20270301-1830-2000",
                "hub_id": "H1",
                "date": date(2027, 3, 1),
                "start": time(18, 30),
                "end": time(20),
                "roles": "GP",
                "missing": 1,
                "reason": "no GP is available",
            }
        ],
        path,
    )
    assert path.read_text(encoding="utf-8").splitlines() == [
        ",".join(UNFILLED_COLUMNS),
        "H1-20270301-1830-2000,H1,2027-03-01,18:30,20:00,GP,1,no GP is available",
    ]


# ---- robustness ------------------------------------------------------------------------

CELLS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    file=st.sampled_from(sorted(BASE)), row=st.integers(0, 2), column=st.integers(0, 7), text=CELLS
)
def test_any_cell_text_loads_or_gives_input_errors(file, row, column, text):
    """Whatever one cell holds, loading succeeds or raises InputErrors, never anything else."""
    records = list(csv.reader(io.StringIO(BASE[file])))
    record = records[min(row, len(records) - 1)]
    record[min(column, len(record) - 1)] = text
    out = io.StringIO()
    csv.writer(out).writerows(records)
    with tempfile.TemporaryDirectory() as folder:
        try:
            load_problem_with_warnings(write_folder(Path(folder), **{file: out.getvalue()}))
        except InputErrors as errors:
            assert errors.errors and all(
                re.fullmatch(r"[^:]+:\d+:[^:]*: .+", str(e), re.S) for e in errors.errors
            )


def test_rota_toml_top_level_key(tmp_path):
    """A key outside any table is unknown; a section written as a value must be a table."""
    toml = 'title = "March"\nrules = 3\n'
    assert errors_of(write_folder(tmp_path, **{"rota.toml": toml})) == [
        "rota.toml:1:title: unknown key",
        "rota.toml:2:rules: must be a table, e.g. [rules]",
    ]
