"""The `hubrota` command end to end: solve writes the contract's outputs, check and report read
them back, bad input exits 2 with file:row:column lines and writes nothing."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.io.load import ROTA_COLUMNS, UNFILLED_COLUMNS

TINY = {
    "practices.csv": (
        "practice_code,name,list_size\nP1,Riverside Surgery,6000\nP2,Hill Practice,4000\n"
    ),
    "hubs.csv": "hub_id,name,address,postcode,rooms\nRIV,Riverside hub,1 River Rd,RV1 1AA,2\n",
    "clinicians.csv": (
        "clinician_id,name,practice_code,role,skills,max_sessions_per_week\n"
        "C1,Dr Ann Shah,P1,GP,,2\n"
        "C2,Dr Bo Li,P2,GP,,2\n"
        "N1,Cy Ode,P1,Practice Nurse,cytology,2\n"
    ),
    "patterns.csv": (
        "hub_id,weekday,start,end,roles,min,target,skill\n"
        "RIV,Mon,18:30,20:00,GP,1,1,\n"
        "RIV,Mon,18:30,20:00,Practice Nurse,1,1,cytology\n"
        "RIV,Sat,09:00,17:00,GP,1,2,\n"
    ),
    "availability.csv": (
        "clinician_id,2027-03-01,2027-03-06,2027-03-08,2027-03-13\n"
        "C1,A,P,A,U\n"
        "C2,A,A,U,A\n"
        "N1,U,,A,\n"
    ),
}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    folder.mkdir()
    for name, text in TINY.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def solve_to(src: Path, out: Path) -> int:
    return main(
        ["solve", str(src), "--out", str(out), "--time-limit", "20", "--workers", "1", "--quiet"]
    )


def test_solve_writes_rota_unfilled_report_and_feeds(tiny, tmp_path):
    """`hubrota solve` writes the DESIGN.md files with their exact columns and exits 0 even with
    an unfilled post (the nurse is away on 1 Mar)."""
    out = tmp_path / "out"
    assert solve_to(tiny, out) == 0
    with open(out / "rota.csv", newline="", encoding="utf-8") as f:
        rota = list(csv.DictReader(f))
    assert list(rota[0]) == list(ROTA_COLUMNS)
    with open(out / "unfilled.csv", newline="", encoding="utf-8") as f:
        unfilled = list(csv.DictReader(f))
    header = (out / "unfilled.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == list(UNFILLED_COLUMNS)
    assert [(u["session_id"], u["missing"]) for u in unfilled] == [("RIV-20270301-1830-2000", "1")]
    assert "Practice Nurse" in unfilled[0]["reason"]
    report = json.loads((out / "report.json").read_text())
    for key in (
        "status",
        "objective",
        "parts",
        "best_bound",
        "gap",
        "solve_seconds",
        "fair_share",
        "clinicians",
        "contract",
    ):
        assert key in report
    assert report["status"] == "optimal"
    week = report["contract"][0]
    assert set(week) >= {
        "network",
        "week",
        "required_minutes",
        "delivered_minutes",
        "nsh_uncovered_minutes",
        "nsh_without_gp_minutes",
        "pass",
    }
    assert (out / "feeds" / "clinician-C1.ics").exists()
    assert (out / "feeds" / "all.ics").exists()


def test_check_passes_the_solved_rota_and_names_a_broken_rule(tiny, tmp_path, capsys):
    """`hubrota check` accepts the solver's rota; a hand edit putting the GP on a date marked
    unavailable gets one line naming rule, clinician and session, and exit 1."""
    out = tmp_path / "out"
    assert solve_to(tiny, out) == 0
    assert main(["check", str(tiny), str(out / "rota.csv")]) == 0
    edited = tmp_path / "edited.csv"
    edited.write_text("session_id,clinician_id\nRIV-20270313-0900-1700,C1\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(tiny), str(edited)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [lines[0]]
    assert lines[0].startswith("availability: C1 RIV-20270313-0900-1700: ")


def test_report_prints_the_contract_table(tiny, tmp_path, capsys):
    """`hubrota report` prints the week-by-week contract table."""
    out = tmp_path / "out"
    assert solve_to(tiny, out) == 0
    capsys.readouterr()
    assert main(["report", str(tiny), str(out / "rota.csv")]) == 0
    text = capsys.readouterr().out
    assert "2027-W09" in text and "required" in text


def test_bad_input_exits_2_and_writes_nothing(tiny, tmp_path, capsys):
    """An unknown practice code is reported as file:row:column, exit 2, no output folder."""
    (tiny / "clinicians.csv").write_text(
        TINY["clinicians.csv"] + "C9,Dr X,NOPE,GP,,2\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    assert solve_to(tiny, out) == 2
    err = capsys.readouterr().err
    assert "clinicians.csv:5:practice_code:" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_input_leaves_an_existing_output_untouched(tiny, tmp_path):
    """Re-running into a folder that holds a rota with broken input leaves the old files."""
    out = tmp_path / "out"
    assert solve_to(tiny, out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (tiny / "patterns.csv").write_text(
        TINY["patterns.csv"] + "RIV,Funday,18:30,20:00,GP,1,1,\n", encoding="utf-8"
    )
    assert solve_to(tiny, out) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_console_script_runs_without_traceback(tiny, tmp_path):
    """The installed entry point (python -m scheduler.cli) reports a missing folder cleanly."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scheduler.cli",
            "solve",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


def test_sample_solves_and_checks(tmp_path):
    """The shipped sample solves (short limit) and its rota passes `hubrota check`."""
    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    if not (sample / "practices.csv").exists():
        pytest.fail("data/sample is missing")
    src = tmp_path / "sample"
    shutil.copytree(sample, src)
    out = tmp_path / "out"
    assert (
        main(
            [
                "solve",
                str(src),
                "--out",
                str(out),
                "--time-limit",
                "15",
                "--workers",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    assert main(["check", str(src), str(out / "rota.csv")]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["phases"][0]["goals"] == ["unfilled_min"]
    assert report["phases"][0]["status"] == "optimal"


BAD_INPUTS = {
    "unknown practice": (
        "clinicians.csv",
        TINY["clinicians.csv"] + "C9,Dr X,NOPE,GP,,2\n",
        "clinicians.csv:5:practice_code:",
    ),
    "unknown hub": (
        "patterns.csv",
        TINY["patterns.csv"] + "XXX,Mon,18:30,20:00,GP,1,1,\n",
        "patterns.csv:5:hub_id:",
    ),
    "unknown clinician": (
        "availability.csv",
        TINY["availability.csv"] + "Z9,A,A,A,A\n",
        "availability.csv:5:clinician_id:",
    ),
    "duplicate id": (
        "clinicians.csv",
        TINY["clinicians.csv"] + "C1,Dr Again,P1,GP,,2\n",
        "clinicians.csv:5:clinician_id:",
    ),
    "impossible date": (
        "availability.csv",
        TINY["availability.csv"].replace("2027-03-13", "2027-02-30"),
        "availability.csv:1:2027-02-30:",
    ),
    "impossible time": (
        "patterns.csv",
        TINY["patterns.csv"] + "RIV,Tue,25:00,26:00,GP,1,1,\n",
        "patterns.csv:5:start:",
    ),
    "end before start": (
        "patterns.csv",
        TINY["patterns.csv"] + "RIV,Tue,20:00,18:30,GP,1,1,\n",
        "patterns.csv:5:end:",
    ),
    "min above target": (
        "patterns.csv",
        TINY["patterns.csv"] + "RIV,Tue,18:30,20:00,GP,2,1,\n",
        "patterns.csv:5:",
    ),
    "unknown weekday": (
        "patterns.csv",
        TINY["patterns.csv"] + "RIV,Funday,18:30,20:00,GP,1,1,\n",
        "patterns.csv:5:weekday:",
    ),
    "unknown status": (
        "availability.csv",
        TINY["availability.csv"].replace("C1,A,P", "C1,X,P"),
        "availability.csv:2:2027-03-01:",
    ),
    "negative number": (
        "practices.csv",
        TINY["practices.csv"].replace("6000", "-6000"),
        "practices.csv:2:list_size:",
    ),
    "non-numeric number": (
        "hubs.csv",
        TINY["hubs.csv"].replace(",2\n", ",two\n"),
        "hubs.csv:2:rooms:",
    ),
    "missing column": (
        "practices.csv",
        "practice_code,name\nP1,Riverside\nP2,Hill\n",
        "practices.csv:1:list_size:",
    ),
    "empty file": ("hubs.csv", "", "hubs.csv:"),
    "unreadable file": ("practices.csv", b"\xff\xfe\x00bad\x00\x81", "practices.csv:"),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_each_kind_of_bad_input_is_named_and_nothing_is_written(kind, tiny, tmp_path, capsys):
    """Every kind of bad input gives exit 2, a file:row:column line, no traceback, no output."""
    name, content, expected = BAD_INPUTS[kind]
    path = tiny / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    assert solve_to(tiny, out) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_corrupt_workbook_is_named_and_nothing_is_written(tmp_path, capsys):
    """A file named .xlsx that is not a workbook: exit 2, one clear line, nothing written."""
    book = tmp_path / "rota.xlsx"
    book.write_bytes(b"PK\x03\x04 this is no zip")
    out = tmp_path / "out"
    assert solve_to(book, out) == 2
    err = capsys.readouterr().err
    assert "rota.xlsx" in err and "Traceback" not in err
    assert not out.exists()
