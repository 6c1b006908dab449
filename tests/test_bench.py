"""`hubrota bench`: a smoke run on a generated `pcn` folder and on Curtois Instance1, the fields
of results.json, the roster file, how broken rules and disagreeing objective parts are shown,
the recorded results CSV and its markdown table."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import subprocess
from pathlib import Path

import pytest

from scheduler.bench import record
from scheduler.bench.curtois import (
    read_instance,
    read_roster,
    read_roster_rows,
    score_roster,
    to_problem,
)
from scheduler.bench.runner import alarms, compare_parts, format_table, read_best_known
from scheduler.checker import objective_parts
from scheduler.cli import main
from scheduler.domain import PhaseResult, SolveStatus
from scheduler.solver.params import SolveParams
from scheduler.solver.solve import solve

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "benchmarks" / "curtois"
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
    "solver_objective",
    "parts_agree",
    "parts_mismatch",
    "parts_slack",
    "output",
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """Both benchmarks once (short limits), each recorded: exit code, stdout, stderr, results,
    output folder."""
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
            code = main([*argv, "--out", str(out_dir), "--record", str(out_dir / "runs.csv")])
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
    assert row["violations"] == 0 and row["parts_agree"] is True and row["parts_mismatch"] == {}
    assert row["format_matches"] is True and row["format_violations"] == 0
    assert row["objective"] == row["format_penalty"] >= 607
    assert row["solver_objective"] >= row["objective"]
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
    """pcn seed 0: written to DIR/pcn-0 for `hubrota solve`, solved, checked clean, and the
    model's own parts agree with the checker's (the tiers proven before the last are held to
    equality), so the alarm stays quiet and the exit code is 0."""
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
    assert row["parts_agree"] is True and row["parts_mismatch"] == {}, row["parts_mismatch"]
    assert "unfilled_min" in row["parts_exact"]  # proven in its own phase, then held
    assert code == 0 and results["ok"] is True, err
    assert "MISMATCH" not in err and "MISMATCH" not in out
    assert "pcn-0: phase 1/" in err and "generated pcn (seed 0)" in err


def test_record_appends_one_row_per_case(smoke):
    """--record FILE: a header, then one row per case with the run's settings and the case's
    figures; the commit is git's short HEAD (or "unknown" outside a checkout)."""
    for name, suite, instance in (
        ("curtois", "curtois", "Instance1"),
        ("generated", "generated", "pcn-0"),
    ):
        *_, results, out_dir = smoke[name]
        text = (out_dir / "runs.csv").read_text()
        assert text.splitlines()[0] == ",".join(record.COLUMNS)
        (line,) = list(csv.DictReader(text.splitlines()))
        (row,) = results["instances"]
        assert line["suite"] == suite and line["instance"] == instance
        assert line["workers"] == "2" and line["seed"] == "0"
        assert line["time_limit"] == ("5" if name == "curtois" else "6")
        assert line["objective"] == str(row["objective"])
        assert line["bound"] == str(row["best_bound"])
        assert line["status"] == row["status"]
        assert line["rota_valid"] == "yes" and line["parts_agree"] == "yes"
        assert int(line["cores"]) >= 1 and float(line["peak_memory_mb"]) > 10
        assert line["recorded_at"].endswith("Z") and line["commit"]
        if name == "curtois":
            assert line["best_known"] == "607"
            assert float(line["gap_to_best_known"]) == pytest.approx(row["gap_to_best_known"])
        else:
            assert line["best_known"] == "" and line["gap_to_best_known"] == ""


def test_against_plain_runs_both_and_records_both(tmp_path, capsys):
    """--against plain: each instance solved by the portfolio, then by plain with the same
    budget; both objectives and their ratio printed and recorded, one row per strategy."""
    results = tmp_path / "runs.csv"
    code, out, err = run(
        capsys,
        "bench",
        "curtois",
        str(DATA / "Instance1.txt"),
        "--time-limit",
        "5",
        "--workers",
        "2",
        "--against",
        "plain",
        "--out",
        str(tmp_path),
        "--record",
        str(results),
    )
    assert code == 0, err
    (row,) = json.loads((tmp_path / "results.json").read_text())["instances"]
    assert row["strategy"] == "portfolio" and row["against"] == "plain"
    assert row["against_result"]["strategy"] == "plain"
    assert row["against_objective"] == row["against_result"]["objective"] == 607
    assert row["ratio"] == pytest.approx(row["objective"] / 607) and row["versus"] == "same"
    assert "with portfolio" in err and "with plain" in err and "ratio 1.0000, same" in err
    assert "ratio to against: median 1.0000, worst 1.0000 over 1 case(s)" in out
    lines = list(csv.DictReader(results.read_text().splitlines()))
    assert [line["strategy"] for line in lines] == ["portfolio", "plain"]
    assert lines[0]["against"] == "plain" and lines[0]["against_objective"] == "607"
    assert float(lines[0]["ratio"]) == pytest.approx(row["ratio"])
    assert lines[1]["objective"] == "607" and lines[1]["against"] == ""
    table = record.markdown_table(record.read_records(results))
    assert "| portfolio |" in table and "| plain |" in table and "plain: 607" in table


def test_generated_over_seeds_prints_the_median_and_the_worst(tmp_path, capsys):
    """--seeds 0-1 --strategy plain: one generated instance per seed, each solved with its own
    seed, then the median and the worst."""
    code, out, err = run(
        capsys,
        "bench",
        "generated",
        "--size",
        "pcn",
        "--seeds",
        "0-1",
        "--strategy",
        "plain",
        "--time-limit",
        "4",
        "--workers",
        "2",
        "--out",
        str(tmp_path),
    )
    rows = json.loads((tmp_path / "results.json").read_text())["instances"]
    assert [(r["instance"], r["seed"], r["strategy"]) for r in rows] == [
        ("pcn-0", 0, "plain"),
        ("pcn-1", 1, "plain"),
    ]
    assert all(r["violations"] == 0 for r in rows), err
    assert "objective: median" in out and "over 2 case(s)" in out
    assert code in (0, 1)


@pytest.mark.parametrize("text", ["9-0", "a", "1-", "0-5000"])
def test_bad_seeds_exit_2(capsys, text):
    with pytest.raises(SystemExit) as stop:
        main(["bench", "generated", "--size", "pcn", "--seeds", text])
    assert stop.value.code == 2 and "not seeds" in capsys.readouterr().err


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
    """Broken rules, disagreeing parts and failed cases are each flagged in the table."""
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
        "parts_agree": True,
    }
    rows = [
        base,
        {**base, "instance": "broken", "violations": 2, "violation_lines": ["a", "b"]},
        {
            **base,
            "instance": "mismatch",
            "parts_agree": False,
            "parts_mismatch": {"cover": [9, 10], "cost": [7, 6]},
        },
        {**base, "instance": "failed", "status": "error", "error": "Traceback\nBoom: no"},
    ]
    assert alarms(rows[0]) == []
    assert "2 hard rule(s) broken" in alarms(rows[1])[0]
    assert alarms(rows[2]) == [
        "mismatch: PARTS MISMATCH: cover model 9 checker 10 (model undercounts), "
        "cost model 7 checker 6 (must be exact)"
    ]
    assert alarms(rows[3]) == ["failed: ERROR Boom: no"]
    table = format_table(rows).splitlines()
    assert table[0].split()[:4] == ["instance", "strategy", "status", "objective"]
    assert table[0].split()[-3:] == ["check", "ratio", "versus"]
    assert [line.split()[-3] for line in table[2:]] == ["ok", "BROKEN", "MISMATCH", "ERROR"]
    assert "50.00%" in table[2] and "25.00%" in table[2]


def test_a_bound_above_the_best_known_or_the_rota_is_an_alarm():
    """A bound above a known roster's value, or above the rota's own, is wrong: an alarm; and a
    first strategy worse than the one it is run against is one too."""
    row = {"instance": "x", "objective": 10, "best_bound": 9, "best_known": 8}
    assert alarms(row) == [
        "x: BOUND ABOVE THE BEST KNOWN: the solver claims no roster below 9, but one of 8 is known"
    ]
    assert alarms({**row, "best_bound": 11, "best_known": None}) == [
        "x: BOUND ABOVE THE OBJECTIVE: bound 11, rota 10"
    ]
    assert alarms({**row, "best_bound": 8}) == []
    worse = {
        **row,
        "best_bound": 8,
        "strategy": "portfolio",
        "against": "plain",
        "against_objective": 9,
        "versus": "worse",
    }
    assert alarms(worse) == ["x: portfolio is worse than plain: 10 against 9"]


@pytest.fixture(scope="module")
def instance1():
    """Instance1 as a problem, solved in this process, and the checker's parts of its rota."""
    problem = to_problem(read_instance(DATA / "Instance1.txt"))
    result = solve(problem, SolveParams(time_limit=5, workers=2))
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    return problem, result, objective_parts(problem, result.rota)


def test_a_real_solve_raises_no_parts_alarm(instance1):
    """The model's own parts of a real solve are never below the checker's."""
    problem, result, checker = instance1
    verdict = compare_parts(problem, result, checker, {"cover+requests"})
    assert verdict["parts_agree"] is True and verdict["parts_mismatch"] == {}
    assert set(result.solver_parts) == set(checker)
    weighted = [p for p in checker if problem.weights.of(p) > 0]
    assert weighted and all(result.solver_parts[p] >= checker[p] for p in weighted)


def test_a_model_that_undercounts_is_flagged(instance1):
    """A solver part below the checker's is a mismatch whatever the tier's status: the model
    would be claiming a better rota than the one it returned."""
    problem, result, checker = instance1
    low = dataclasses.replace(result, solver_parts={**result.solver_parts, "cover": -1})
    verdict = compare_parts(problem, low, checker, set())
    assert verdict["parts_agree"] is False
    assert verdict["parts_mismatch"] == {"cover": [-1, checker["cover"]]}
    missing = dataclasses.replace(result, solver_parts={})
    assert compare_parts(problem, missing, checker)["parts_agree"] is False


def test_slack_is_allowed_only_where_the_tier_is_not_held_exact(instance1):
    """A part above the checker's is slack in a tier not proven in its own phase (or proven
    in the phase that found the final rota); it is a mismatch in a tier proven in its own
    phase and held while a later phase found the rota."""
    problem, result, checker = instance1
    high = {**result.solver_parts, "requests": checker["requests"] + 5}
    first = PhaseResult(("cover", "requests"), SolveStatus.OPTIMAL, 1, 1, 1.0)
    later = PhaseResult(("preferences",), SolveStatus.FEASIBLE, 0, 0, 1.0)
    alone = dataclasses.replace(result, solver_parts=high, phases=(first,))
    verdict = compare_parts(problem, alone, checker, {"cover+requests"})
    assert verdict["parts_agree"] is True
    assert verdict["parts_slack"] == {"requests": [checker["requests"] + 5, checker["requests"]]}
    held = dataclasses.replace(result, solver_parts=high, phases=(first, later))
    assert compare_parts(problem, held, checker, set())["parts_agree"] is True
    verdict = compare_parts(problem, held, checker, {"cover+requests"})
    assert verdict["parts_agree"] is False and set(verdict["parts_mismatch"]) == {"requests"}
    assert set(verdict["parts_exact"]) == {"cover", "requests"}


def test_the_bench_exits_1_and_records_a_parts_mismatch(tmp_path, capsys, monkeypatch):
    """A solve whose model undercounts a part: the alarm, the table, the exit code and the
    recorded row all say so."""
    import scheduler.solver.solve as solve_module

    def undercounting(problem, params=None, **kwargs):
        result = solve(problem, params, **kwargs)
        return dataclasses.replace(
            result, solver_parts={**result.solver_parts, "cover": result.parts["cover"] - 1}
        )

    monkeypatch.setattr(solve_module, "solve", undercounting)
    monkeypatch.chdir(tmp_path)  # a bare --record writes benchmarks/results.csv here
    results = tmp_path / "benchmarks" / "results.csv"
    code, out, err = run(
        capsys,
        "bench",
        "curtois",
        str(DATA / "Instance1.txt"),
        "--time-limit",
        "2",
        "--workers",
        "1",
        "--in-process",
        "--out",
        str(tmp_path / "out"),
        "--record",
    )
    assert code == 1
    assert "PARTS MISMATCH: cover model" in err and "(model undercounts)" in err
    assert out.splitlines()[-1].split()[-3] == "MISMATCH"
    (line,) = csv.DictReader(results.read_text().splitlines())
    assert line["parts_agree"] == "no" and line["rota_valid"] == "yes"
    record.write_table(tmp_path / "doc.md", record.markdown_table([line]))
    assert "**MISMATCH**" in (tmp_path / "doc.md").read_text()


def _record(instance: str, objective: int, **extra) -> dict:
    """A bench result row as `scheduler.bench.runner` makes it, with what a record needs."""
    best = extra.get("best_known")
    return {
        "instance": instance,
        "status": "optimal",
        "objective": objective,
        "best_bound": objective,
        "proven_gap": 0.0,
        "gap_to_best_known": None if best is None else round((objective - best) / best, 6),
        "seconds": 1.5,
        "peak_memory_mb": 120.0,
        "violations": 0,
        "parts_agree": True,
        **extra,
    }


def test_append_never_rewrites_and_the_table_shows_the_latest(tmp_path, capsys):
    """Rows are appended under one header; the table keeps the last row of each (suite,
    instance), Curtois instances by number then generated sizes from small to large, and
    the text around the markers is kept."""
    results = tmp_path / "benchmarks" / "results.csv"
    first = record.Run("abc1234", "2030-01-01T00:00:00Z", 4, "curtois", 20.0, 2, 0)
    second = dataclasses.replace(first, commit="def5678", recorded_at="2030-01-02T00:00:00Z")
    generated = dataclasses.replace(second, suite="generated", time_limit=10.0)
    record.append_record(results, first, _record("Instance10", 1510, best_known=1458))
    record.append_record(results, first, _record("Instance2", 830, best_known=828))
    record.append_record(results, first, _record("Instance7", 1510, best_known=1458))
    before = results.read_text()
    record.append_record(results, second, _record("Instance2", 828, best_known=828))
    record.append_record(results, generated, _record("federation-1", 900))
    record.append_record(results, generated, _record("pcn-0", 100, violations=3))
    text = results.read_text()
    assert text.startswith(before) and text.count("commit,recorded_at") == 1
    assert len(text.splitlines()) == 7
    records = record.read_records(results)
    table = record.markdown_table(records).splitlines()
    names = [line.split(" | ")[1] for line in table[2:]]
    assert names == ["Instance2", "Instance7", "Instance10", "pcn-0", "federation-1"]
    assert "| 828 |" in table[2] and "def5678" in table[2] and "optimum: met" in table[2]
    assert "3.57%" in table[3] and "≤ 3 % over best: missed" in table[3]
    assert "3.57%" in table[4] and "≤ 5 % over best: met" in table[4]
    assert "**BROKEN**" in table[5] and "proven optimal: met" in table[5]
    assert "gap ≤ 1 %: met" in table[6] and "| 2030-01-02 00:00:00 |" in table[6]
    failed = record.record_of(generated, {"instance": "ics-0", "status": "error"})
    assert failed["status"] == "error" and failed["instance"] == "ics-0"
    assert failed["objective"] == failed["rota_valid"] == failed["parts_agree"] == ""
    assert "gap ≤ 5 %: missed" in record.markdown_table([*records, failed])
    document = tmp_path / "docs" / "benchmarks.md"
    document.parent.mkdir()
    document.write_text(f"# Benchmarks\n\nbefore\n\n{record.BEGIN}\nold\n{record.END}\n\nafter\n")
    code, _, err = run(capsys, "bench", "table", "--results", str(results), "--out", str(document))
    assert code == 0, err
    written = document.read_text()
    assert written.startswith("# Benchmarks\n\nbefore\n\n" + record.BEGIN)
    assert written.endswith(record.END + "\n\nafter\n") and "old" not in written
    assert "\n".join(table) in written


@pytest.mark.parametrize(
    "argv, message",
    [
        (["bench", "table", "--results", "{tmp}/none.csv", "--out", "-"], "no results file"),
        (["bench", "table", "--results", "{tmp}/bad.csv", "--out", "-"], "header is not"),
        (["bench", "table", "--results", "{tmp}/good.csv", "--out", "{tmp}/plain.md"], "needs one"),
        (["bench", "table", "--results", "{tmp}/good.csv", "--out", "{tmp}"], "is a folder"),
        (["bench", "curtois", "{data}", "--out", "{tmp}/o", "--record", "{tmp}"], "is a folder"),
        (["bench", "curtois", "{data}", "--out", "{tmp}/o", "--record", "{tmp}/bad.csv"], "header"),
        (["bench", "curtois", "{tmp}/missing.txt", "--out", "{tmp}/o"], "missing.txt"),
        (["bench", "curtois", "{data}", "--out", "{tmp}/bad.csv"], "is a file, not a folder"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(tmp_path, capsys, argv, message):
    """Each bad argument is named on stderr with exit 2, before anything is solved."""
    (tmp_path / "bad.csv").write_text("instance,objective\nx,1\n")
    run_ = record.Run("abc1234", "2030-01-01T00:00:00Z", 2, "curtois", 5.0, 1, 0)
    record.append_record(tmp_path / "good.csv", run_, _record("Instance1", 607))
    (tmp_path / "plain.md").write_text("# no markers here\n")
    values = {"tmp": str(tmp_path), "data": str(DATA / "Instance1.txt")}
    code, out, err = run(capsys, *(a.format(**values) for a in argv))
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value", ["0", "-3", "inf", "nan", "soon"])
def test_bad_time_limits_and_workers_exit_2(capsys, value):
    """--time-limit and --workers must be numbers above 0: argparse's usage error, exit 2."""
    for option in ("--time-limit", "--workers"):
        with pytest.raises(SystemExit) as stop:
            main(["bench", "generated", "--size", "pcn", option, value])
        assert stop.value.code == 2
        assert f"argument {option}" in capsys.readouterr().err


def test_commit_is_git_short_head_or_unknown(tmp_path):
    """The commit of the checkout the code runs from (dirty when a tracked file outside the
    results has changed); outside a git checkout, "unknown"."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    if head.returncode == 0:
        commit = record.git_commit(ROOT)
        assert commit.removesuffix("+dirty") == head.stdout.strip()
    assert record.git_commit(tmp_path) == "unknown"


def test_the_committed_table_is_the_latest_of_the_committed_results():
    """docs/benchmarks.md shows what `hubrota bench table` renders from benchmarks/results.csv
    (re-run it after recording)."""
    records = record.read_records(ROOT / "benchmarks" / "results.csv")
    assert records
    document = (ROOT / "docs" / "benchmarks.md").read_text()
    assert f"{record.BEGIN}\n\n{record.markdown_table(records)}\n\n{record.END}" in document


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
        assert row["objective"] == row["format_penalty"] and row["parts_agree"] is True
        assert row["objective"] >= row["lower_bound"]
