"""The report of a rota: fair shares, clinicians' load, the printed tables, and `hubrota report`
with --json, --from and --commissioner on a small hand-checked folder."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from scheduler.cli import build_report, main
from scheduler.contract import COMMISSIONER_COLUMNS
from scheduler.io.load import load_problem, load_rota
from scheduler.report import clinician_load, fair_shares, report_text

# Mon 1 – Sun 7 Mar 2027 (W09): evenings Mon–Fri and the Saturday, one GP each. C1 (practice
# P1, list 6,000) works Mon, Tue and Sat; C2 (P2, 4,000) Wed and Thu; Friday has nobody.
FOLDER = {
    "practices.csv": "practice_code,name,list_size\nP1,Riverside,6000\nP2,Hill,4000\n",
    "hubs.csv": "hub_id,name\nRIV,Riverside hub\n",
    "clinicians.csv": (
        "clinician_id,name,practice_code,role\nC1,Dr Ann Shah,P1,GP\nC2,Dr Bo Li,P2,GP\n"
    ),
    "patterns.csv": (
        "hub_id,weekday,start,end,roles,min\n"
        + "".join(f"RIV,{d},18:30,20:00,GP,1\n" for d in ("Mon", "Tue", "Wed", "Thu", "Fri"))
        + "RIV,Sat,09:00,17:00,GP,1\n"
    ),
    "availability.csv": "clinician_id,date,status\nC1,2027-03-06,P\nC2,2027-03-05,P\n",
    "rota.toml": (
        "[period]\nstart = 2027-03-01\nend = 2027-03-07\n\n"
        '[rules]\navailability_default = "available"\n'
    ),
}
ROTA = (
    "session_id,clinician_id\n"
    "RIV-20270301-1830-2000,C1\nRIV-20270302-1830-2000,C1\nRIV-20270306-0900-1700,C1\n"
    "RIV-20270303-1830-2000,C2\nRIV-20270304-1830-2000,C2\n"
)


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    """The folder above and its rota.csv."""
    src = tmp_path / "src"
    src.mkdir()
    for name, text in FOLDER.items():
        (src / name).write_text(text, encoding="utf-8")
    rota = tmp_path / "rota.csv"
    rota.write_text(ROTA, encoding="utf-8")
    return src, rota


def loaded(small):
    src, rota = small
    problem = load_problem(src)
    return problem, load_rota(problem, rota)


def test_fair_share_compares_minutes_worked_with_list_size(small):
    """C1 works 90 + 90 + 480 = 660 minutes for P1, C2 180 for P2: 840 in all. P1 holds 60 %
    of the list, so its fair share is 504 (+156) and 660/840 = 78.6 % of the minutes; P2
    40 %: 336 fair, −156."""
    rows = {r["practice_code"]: r for r in fair_shares(*loaded(small))}
    assert (rows["P1"]["minutes"], rows["P1"]["sessions"], rows["P1"]["fair_minutes"]) == (
        660,
        3,
        504,
    )
    assert (rows["P1"]["share_of_list"], rows["P1"]["share_of_minutes"]) == (0.6, 0.7857)
    assert rows["P1"]["share_difference"] == pytest.approx(0.1857)
    assert (rows["P2"]["minutes"], rows["P2"]["difference_minutes"]) == (180, -156)


def test_fair_share_of_an_empty_rota_is_zero_everywhere(small):
    """No assignments: every practice has 0 minutes, 0 % of them, and no difference."""
    problem, _ = loaded(small)
    rows = fair_shares(problem, ())
    assert {(r["minutes"], r["share_of_minutes"], r["difference_minutes"]) for r in rows} == {
        (0, 0.0, 0)
    }


def test_clinician_load_counts_sessions_saturdays_and_preferred_dates(small):
    """C1: 3 sessions, 1 Saturday, all in W09, and the one preferred date (Sat 6 Mar) worked;
    C2: 2 sessions, no Saturday, preferred Fri 5 Mar not worked (0 of 1)."""
    rows = {r["clinician_id"]: r for r in clinician_load(*loaded(small))}
    c1, c2 = rows["C1"], rows["C2"]
    assert (c1["sessions"], c1["minutes"], c1["saturdays"], c1["busiest_week_sessions"]) == (
        3,
        660,
        1,
        3,
    )
    assert (c1["preferred_dates"], c1["preferred_dates_worked"]) == (1, 1)
    assert (
        c2["sessions"],
        c2["saturdays"],
        c2["preferred_dates"],
        c2["preferred_dates_worked"],
    ) == (2, 0, 1, 0)


def test_report_json_has_the_contract_fields_and_readiness(small):
    """report.json's contract row keeps DESIGN.md's names: 600 required (list 10,000), 840
    delivered, Friday's 90 minutes uncovered (and without a GP), so it fails; readiness from
    1 Mar to 14 Mar misses Friday's GP."""
    report = build_report(*loaded(small), readiness_from=date(2027, 3, 1))
    (week,) = report["contract"]
    assert {
        k: week[k]
        for k in (
            "network",
            "week",
            "required_minutes",
            "delivered_minutes",
            "nsh_uncovered_minutes",
            "nsh_without_gp_minutes",
            "pass",
        )
    } == {
        "network": "default",
        "week": "2027-W09",
        "required_minutes": 600,
        "delivered_minutes": 840,
        "nsh_uncovered_minutes": 90,
        "nsh_without_gp_minutes": 90,
        "pass": False,
    }
    assert week["nsh_uncovered"] == [
        {"date": "2027-03-05", "start": "18:30", "end": "20:00", "minutes": 90}
    ]
    r = report["readiness"]
    assert (r["from"], r["to"], r["ready"]) == ("2027-03-01", "2027-03-14", False)
    assert [m["session_id"] for m in r["missing"]] == ["RIV-20270305-1830-2000"]
    assert report["contract_rules"]["bank_holiday_policy"] == "skip"
    json.dumps(report)  # all of it serialisable


def test_report_text_prints_every_table(small):
    """The printed report has the contract row with its failure, the gap, readiness with the
    missing session, and the fair-share and clinician tables."""
    text = report_text(build_report(*loaded(small), readiness_from=date(2027, 3, 1)))
    row = next(line for line in text.splitlines() if line.startswith("default"))
    assert row.split()[:4] == ["default", "2027-W09", "600", "840"]
    assert row.endswith("NO: NSH gap, no GP")
    assert "default 2027-W09: no one 2027-03-05 18:30-20:00" in text
    assert "Readiness 2027-03-01 to 2027-03-14 (6 sessions): NOT ready" in text
    assert "RIV-20270305-1830-2000" in text
    assert "Fair share by practice" in text and "Clinicians" in text


def test_report_text_shows_where_bank_holiday_minutes_are_made_up():
    """A row with make-up says how many minutes the bank holiday lost and where they went."""
    row = {
        "network": "N",
        "week": "2027-W18",
        "required_minutes": 556,
        "delivered_minutes": 600,
        "nsh_uncovered_minutes": 0,
        "nsh_without_gp_minutes": 0,
        "pass": True,
        "bank_holiday_minutes": 185,
        "bank_holiday_relief_minutes": 185,
        "made_up_in": {"2027-W19": 93, "2027-W20": 92},
    }
    text = report_text({"contract": [row], "fair_share": [], "parts": {}})
    assert (
        "N 2027-W18: 185 required minutes not run on the bank holiday, 185 taken off the "
        "week; made up 93 in 2027-W19, 92 in 2027-W20"
    ) in text


def test_report_command_writes_the_commissioners_return(small, tmp_path, capsys):
    """`hubrota report SRC ROTA --from 2027-03-01 --commissioner out.csv` prints the table and
    writes network, week, required, delivered, sessions and GP share: (930 − 90) / 930."""
    src, rota = small
    out = tmp_path / "return.csv"
    assert (
        main(["report", str(src), str(rota), "--from", "2027-03-01", "--commissioner", str(out)])
        == 0
    )
    assert "2027-W09" in capsys.readouterr().out
    with out.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    assert rows == [
        list(COMMISSIONER_COLUMNS),
        ["default", "2027-W09", "600", "840", "5", "0.9032"],
    ]


def test_report_command_json_takes_readiness_from_the_given_date(small, capsys):
    """--json with --from 2027-03-06: the window is 6–19 Mar and the Saturday is named: ready."""
    src, rota = small
    assert main(["report", str(src), str(rota), "--json", "--from", "2027-03-06"]) == 0
    readiness = json.loads(capsys.readouterr().out)["readiness"]
    assert (readiness["from"], readiness["to"], readiness["ready"]) == (
        "2027-03-06",
        "2027-03-19",
        True,
    )


def test_report_command_rejects_a_bad_from_date(small, capsys):
    """--from 2027-02-30 is no date: argparse exits 2 and says why."""
    src, rota = small
    with pytest.raises(SystemExit) as caught:
        main(["report", str(src), str(rota), "--from", "2027-02-30"])
    assert caught.value.code == 2
    assert "impossible date" in capsys.readouterr().err
