"""`hubrota bench`: a smoke run on a generated `pcn` folder and on Curtois Instance1, the fields
of results.json, the roster file, and how broken rules and disagreeing objectives are shown."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from scheduler.bench.curtois import read_instance, read_roster, read_roster_rows, score_roster
from scheduler.bench.runner import alarms, format_table, read_best_known
from scheduler.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "benchmarks" / "curtois"
ROW_FIELDS = {
    "instance",
    "kind",
    "status",
    "objective",
    "best_bound",
    "proven_gap",
    "best_known",
    "gap_to_best_known",
    "seconds",
    "peak_memory_mb",
    "violations",
    "checker_objective",
    "objective_matches",
    "output",
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """Both benchmarks once (short limits): each answer's exit code, stdout, stderr, results."""
    runs = {}  # capsys is function-scoped, so a module fixture captures by hand
    for name, argv in {
        "curtois": [
            "bench",
            "curtois",
            str(DATA / "Instance1.txt"),
            "--time-limit",
            "5",
            "--workers",
            "2",
        ],
        "generated": [
            "bench",
            "generated",
            "--size",
            "pcn",
            "--seed",
            "0",
            "--time-limit",
            "6",
            "--workers",
            "2",
        ],
    }.items():
        out_dir = tmp_path_factory.mktemp(name)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*argv, "--out", str(out_dir)])
        results = json.loads((out_dir / "results.json").read_text())
        runs[name] = (code, out.getvalue(), err.getvalue(), results, out_dir)
    return runs


def test_curtois_smoke(smoke):
    """Instance1: solved to its known optimum 607, checked clean, every scorer agreeing, the
    roster written and read back to the same penalty; progress lines and the table printed."""
    code, out, err, results, out_dir = smoke["curtois"]
    assert code == 0, err
    assert results["benchmark"] == "curtois" and results["ok"] is True
    assert results["time_limit"] == 5 and results["workers"] == 2
    assert "spawned child" in results["peak_memory"] and results["machine"]["cpus"] >= 1
    (row,) = results["instances"]
    assert set(row) >= ROW_FIELDS
    assert row["instance"] == "Instance1" and row["status"] in ("optimal", "feasible")
    assert row["violations"] == 0 and row["objective_matches"] is True
    assert row["format_matches"] is True and row["format_violations"] == 0
    assert row["objective"] == row["checker_objective"] == row["format_penalty"] >= 607
    assert row["best_known"] == 607 and row["lower_bound"] == 607
    assert row["gap_to_best_known"] == pytest.approx((row["objective"] - 607) / 607)
    assert 0 <= row["best_bound"] <= row["objective"]
    assert row["peak_memory_mb"] > 10 and row["peak_memory_scope"] == "instance"
    assert 0 < row["seconds"] <= 5 + 2
    roster = out_dir / "Instance1.roster.csv"
    assert row["output"] == str(roster)
    assert roster.read_text().splitlines()[0] == "employee,day,shift"
    instance = read_instance(DATA / "Instance1.txt")
    assert score_roster(instance, read_roster_rows(instance, roster)) == (row["objective"], [])
    assert len(read_roster(instance, roster)) == row["assignments"]
    assert "instance" in out and "Instance1" in out and "best known" in out
    assert "[1/1] Instance1: solving" in err and "phase 1/1 cover+requests" in err


def test_generated_smoke(smoke):
    """pcn seed 0: written to DIR/pcn-0 for `hubrota solve`, solved, checked clean; the exit
    code and the table say whether the objectives agree, loudly when they do not."""
    code, out, err, results, out_dir = smoke["generated"]
    assert (out_dir / "pcn-0" / "clinicians.csv").is_file()
    assert (out_dir / "pcn-0" / "patterns.csv").is_file()
    assert results["benchmark"] == "generated"
    (row,) = results["instances"]
    assert set(row) >= ROW_FIELDS
    assert row["instance"] == "pcn-0" and row["status"] in ("optimal", "feasible")
    assert row["violations"] == 0
    assert row["best_known"] is None and row["gap_to_best_known"] is None
    assert (out_dir / "pcn-0.rota.csv").read_text().startswith("session_id,")
    assert isinstance(row["objective_matches"], bool)
    assert code == (0 if row["objective_matches"] else 1)
    assert results["ok"] is row["objective_matches"]
    if not row["objective_matches"]:
        assert "OBJECTIVE MISMATCH" in err and "MISMATCH" in out
        assert row["parts_mismatch"]
    assert "pcn-0: phase 1/" in err and "generated pcn (seed 0)" in err


def test_generated_objective_equals_the_checkers(smoke):
    """The solver's objective of the generated pcn rota is the checker's weighted_total, even
    when the search stops before proving a tier (its penalty variables may then keep slack)."""
    *_, results, _ = smoke["generated"]
    (row,) = results["instances"]
    assert row["objective"] == row["checker_objective"], row["parts_mismatch"]


def test_in_process_run(tmp_path, capsys):
    """--in-process solves in this process and says that its memory figure is the process's."""
    code, _, err = run(
        capsys,
        "bench",
        "curtois",
        str(DATA / "Instance1.txt"),
        "--time-limit",
        "5",
        "--workers",
        "1",
        "--in-process",
        "--out",
        str(tmp_path),
    )
    assert code == 0, err
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["peak_memory"].startswith("in-process")
    assert results["instances"][0]["peak_memory_scope"] == "process"


def test_malformed_instance_exits_2_before_solving(tmp_path, capsys):
    """A malformed instance file is named by file:line and nothing is solved."""
    bad = tmp_path / "Bad.txt"
    bad.write_text("SECTION_HORIZON\r\n15\r\n")
    code, _, err = run(capsys, "bench", "curtois", str(bad), "--out", str(tmp_path / "o"))
    assert code == 2
    assert "Bad.txt:2: horizon 15 is not a whole number of weeks" in err
    assert not (tmp_path / "o").exists()


def test_best_known_table():
    """best_known.csv gives (lower bound, best known) per instance."""
    table = read_best_known(DATA / "best_known.csv")
    assert table["Instance1"] == (607, 607) and len(table) == 20
    assert table["Instance24"] == (40438, 40439)


def test_alarms_and_table_flag_what_must_never_happen():
    """Broken rules, disagreeing objectives and failed cases are each flagged in the table."""
    base = {
        "instance": "x",
        "status": "feasible",
        "objective": 10,
        "best_bound": 5,
        "proven_gap": 0.5,
        "best_known": 8,
        "gap_to_best_known": 0.25,
        "seconds": 1.0,
        "peak_memory_mb": 100.0,
        "violations": 0,
        "checker_objective": 10,
        "objective_matches": True,
    }
    rows = [
        base,
        {**base, "instance": "broken", "violations": 2, "violation_lines": ["a", "b"]},
        {
            **base,
            "instance": "mismatch",
            "checker_objective": 9,
            "objective_matches": False,
            "parts_mismatch": {"cover": [10, 9]},
        },
        {**base, "instance": "failed", "status": "error", "error": "Traceback\nBoom: no"},
    ]
    assert alarms(rows[0]) == []
    assert "2 hard rule(s) broken" in alarms(rows[1])[0]
    assert alarms(rows[2]) == [
        "mismatch: OBJECTIVE MISMATCH: solver 10 but "
        "checker.weighted_total 9 (cover solver 10 checker 9)"
    ]
    assert alarms(rows[3]) == ["failed: ERROR Boom: no"]
    table = format_table(rows).splitlines()
    assert table[0].split()[:3] == ["instance", "status", "objective"]
    assert [line.split()[-1] for line in table[2:]] == ["ok", "BROKEN", "MISMATCH", "ERROR"]
    assert "50.00%" in table[2] and "25.00%" in table[2]


@pytest.mark.slow
def test_every_curtois_instance_is_solved_clean(tmp_path, capsys):
    """Instances 1–12 at 10 s each: a rota for each, no rule broken, every scorer agreeing, and
    never below the published lower bound (about two and a half minutes)."""
    files = [str(DATA / f"Instance{n}.txt") for n in range(1, 13)]
    code, out, err = run(
        capsys,
        "bench",
        "curtois",
        *files,
        "--time-limit",
        "10",
        "--workers",
        "2",
        "--out",
        str(tmp_path),
    )
    assert code == 0, err
    rows = json.loads((tmp_path / "results.json").read_text())["instances"]
    assert [r["instance"] for r in rows] == [f"Instance{n}" for n in range(1, 13)]
    for row in rows:
        assert row["violations"] == 0 and row["format_violations"] == 0
        assert row["objective"] == row["checker_objective"] == row["format_penalty"]
        assert row["objective"] >= row["lower_bound"]
