"""The `hubrota` command: solve, check, feeds and report on a rota folder or workbook."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from importlib.metadata import entry_points
from pathlib import Path

from scheduler.domain import Problem, Rota, SolveResult, SolveStatus
from scheduler.solver.params import SolveParams

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2
WRITE_RESERVE_SECONDS = 2.0  # of --time-limit, kept for explanations, reports and feeds


class InputFailure(Exception):
    """Bad input already printed as file:row:column lines: exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_FAILED
    try:
        return int(args.run(args))
    except InputFailure:
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # e.g. `hubrota report … | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hubrota", description=__doc__)
    sub = parser.add_subparsers(title="commands")
    _add_solve(sub)
    _add_rota_readers(sub)
    _add_absence(sub)

    from scheduler.bench.runner import add_arguments as add_bench_arguments

    bench = add_bench_arguments(sub)  # bench curtois FILE… | bench generated --size S
    bench.set_defaults(run=cmd_bench)

    _add_plugin_commands(sub)
    return parser


def _add_solve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("solve", help="allocate clinicians to hub sessions")
    p.add_argument("src", help="rota folder of CSV files, or one .xlsx workbook")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        help="seconds for the whole command, loading and writing included (default 60)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=min(8, os.cpu_count() or 2),
        help="CP-SAT search workers (default: the cores, at most 8)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--log", action="store_true", help="CP-SAT's search log")
    p.set_defaults(run=cmd_solve)


def _add_rota_readers(sub: argparse._SubParsersAction) -> None:
    """check, feeds and report: commands that read a rota of the problem."""
    p = sub.add_parser("check", help="every broken hard rule of a rota, one line each")
    p.add_argument("src")
    p.add_argument("rota", help="rota.csv")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("feeds", help="write the iCalendar feeds of a rota")
    p.add_argument("src")
    p.add_argument("rota")
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_feeds)

    p = sub.add_parser("report", help="contract and fairness tables of a rota")
    p.add_argument("src")
    p.add_argument("rota")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument(
        "--from",
        dest="readiness_from",
        type=_day,
        metavar="YYYY-MM-DD",
        help="readiness: check the 14 days from this date (default today)",
    )
    p.add_argument(
        "--commissioner",
        metavar="CSV",
        help="also write the commissioner's return (network, week, minutes) as CSV",
    )
    p.set_defaults(run=cmd_report)


def _add_absence(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "absence",
        help="mark an absence and re-run from the published rota, changing as little as possible",
    )
    p.add_argument(
        "src", help="rota folder or workbook (its assignments.csv is the published rota)"
    )
    p.add_argument("clinician", help="clinician_id of the person away")
    p.add_argument("first", type=_day, metavar="FROM", help="first day away (YYYY-MM-DD)")
    p.add_argument("last", type=_day, metavar="TO", help="last day away, inclusive")
    p.add_argument(
        "--from-rota",
        metavar="ROTA.csv",
        help="the published rota to re-run from (default: assignments.csv in SRC)",
    )
    p.add_argument("--out", default="out", help="output folder (default: out)")
    p.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds for the whole command (default 60)"
    )
    p.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 2))
    p.add_argument(
        "--today",
        type=_day,
        metavar="YYYY-MM-DD",
        help="changes within 14 days of this date cost more (default: rota.toml's "
        "reference_date, else today)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(run=cmd_absence)


def _add_plugin_commands(sub: argparse._SubParsersAction) -> None:
    """Commands of installed front ends (e.g. `serve` from web/), registered through the
    `hubrota.commands` entry-point group, so the engine never imports them."""
    for entry in sorted(entry_points(group="hubrota.commands"), key=lambda e: e.name):
        entry.load()(sub)


# ---- loading ---------------------------------------------------------------------------


def load(src: str) -> Problem:
    from scheduler.io.load import InputErrors, load_problem_with_warnings

    try:
        problem, warnings = load_problem_with_warnings(src)
    except InputErrors as errors:
        for error in errors.errors:
            print(str(error), file=sys.stderr)
        raise InputFailure from None
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return problem


def load_rota_file(problem: Problem, path: str) -> Rota:
    from scheduler.io.load import InputErrors, load_rota

    try:
        return load_rota(problem, path)
    except InputErrors as errors:
        for error in errors.errors:
            print(str(error), file=sys.stderr)
        raise InputFailure from None


# ---- solve -----------------------------------------------------------------------------


class ProgressLine:
    """One line on the terminal, redrawn in place: phase, elapsed, best so far and bound."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.live = stream.isatty()
        self.width = 0

    def __call__(self, progress) -> None:
        text = (
            f"phase {progress.phase_number}/{progress.phases} {progress.phase:<16} "
            f"elapsed {progress.elapsed:6.1f}s  best {_or_dash(progress.objective)}  "
            f"bound {_or_dash(progress.bound)}"
        )
        if self.live:
            self.stream.write("\r" + text.ljust(self.width))
            self.width = len(text)
            self.stream.flush()
        elif progress.done:
            print(text, file=self.stream)

    def close(self) -> None:
        if self.live and self.width:
            self.stream.write("\n")


def cmd_solve(args: argparse.Namespace) -> int:
    from scheduler.solver.solve import solve

    started = time.perf_counter()
    problem = load(args.src)
    progress = None if args.quiet else ProgressLine()
    left = args.time_limit - (time.perf_counter() - started) - WRITE_RESERVE_SECONDS
    params = SolveParams(
        time_limit=max(1.0, left),
        workers=args.workers,
        seed=args.seed,
        log=args.log,
        progress=progress,
    )
    result = solve(problem, params)
    if progress:
        progress.close()
    if result.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        print(f"no rota: {result.message} (status {result.status.value})", file=sys.stderr)
        return EXIT_FAILED
    return write_outputs(problem, result, Path(args.out))


def cmd_absence(args: argparse.Namespace) -> int:
    """Mark the absence, re-run from the published rota, write the outputs and changes.csv."""
    from dataclasses import replace

    from scheduler.diff import changes_text, write_changes_csv
    from scheduler.solver.rerun import Absence, rerun, with_absences, with_published

    started = time.perf_counter()
    problem = load(args.src)
    if args.clinician not in problem.clinicians_by_id:
        print(f"{args.clinician}: no such clinician in clinicians.csv", file=sys.stderr)
        return EXIT_INPUT
    if args.last < args.first:
        print(
            f"the absence would end ({args.last}) before it starts ({args.first})", file=sys.stderr
        )
        return EXIT_INPUT
    published = None
    if args.from_rota:
        published = load_rota_file(problem, args.from_rota)
        problem = with_published(problem, published)
    elif not problem.published:
        print(
            "nothing to re-run from: give assignments.csv in SRC or --from-rota ROTA.csv",
            file=sys.stderr,
        )
        return EXIT_INPUT
    reference = args.today or problem.reference_date or today()
    reference = min(max(reference, problem.period_start), problem.period_end)
    absence = Absence(args.clinician, args.first, args.last)
    problem = replace(with_absences(problem, [absence]), reference_date=reference)
    print(f"absence: {absence.text(problem)}", file=sys.stderr)
    progress = None if args.quiet else ProgressLine()
    left = args.time_limit - (time.perf_counter() - started) - WRITE_RESERVE_SECONDS
    params = SolveParams(time_limit=max(1.0, left), workers=args.workers, progress=progress)
    outcome = rerun(problem, params, published=published)
    if progress:
        progress.close()
    if not outcome.ok:
        print(
            f"no rota: {outcome.result.message} (status {outcome.result.status.value})",
            file=sys.stderr,
        )
        if outcome.conflict is not None:
            print("these locked pins cannot all be kept:", file=sys.stderr)
            for line in outcome.conflict.reasons:
                print(f"  {line}", file=sys.stderr)
        return EXIT_FAILED
    status = write_outputs(problem, outcome.result, Path(args.out))
    if status == EXIT_OK and outcome.diff is not None:
        write_changes_csv(outcome.diff, problem, Path(args.out) / "changes.csv")
        print(changes_text(outcome.diff, problem))
    return status


def write_outputs(problem: Problem, result: SolveResult, out: Path) -> int:
    """rota.csv, unfilled.csv, report.json and feeds/, written beside and then moved into `out`
    so a failure leaves nothing half-written."""
    from scheduler.checker import check
    from scheduler.explain import explain_unfilled
    from scheduler.io.feeds import feeds_main
    from scheduler.io.load import write_rota_csv, write_unfilled_csv

    violations = check(problem, result.rota)
    if violations:  # the model and the checker disagree: a bug, never hand such a rota out
        for v in violations:
            print(f"internal error: {v.line()}", file=sys.stderr)
        return EXIT_FAILED
    unfilled = explain_unfilled(problem, result.rota, result.status)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".hubrota-", dir=out))
    try:
        write_rota_csv(problem, result.rota, staging / "rota.csv")
        write_unfilled_csv(unfilled, staging / "unfilled.csv")
        report = build_report(problem, result.rota, result)
        report["unfilled_posts"] = len(unfilled)
        (staging / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        for name in ("rota.csv", "unfilled.csv", "report.json"):
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    feeds_status = feeds_main(problem, result.rota, out / "feeds")
    print(
        f"{result.status.value}: {len(result.rota)} assignments, {len(unfilled)} posts short, "
        f"objective {result.objective} (bound {result.bound}, lexicographic gap "
        f"{result.gap:.2%}) "
        f"in {result.seconds:.1f}s → {out}",
        file=sys.stderr,
    )
    return EXIT_OK if feeds_status == 0 else EXIT_FAILED


def build_report(
    problem: Problem,
    rota: Rota,
    result: SolveResult | None = None,
    readiness_from: date | None = None,
) -> dict:
    """report.json; readiness looks at the 14 days from `readiness_from` (default today)."""
    from scheduler.checker import objective_parts, weighted_total
    from scheduler.report import report_sections

    parts = objective_parts(problem, rota)
    report: dict = {}
    if result is not None:
        report.update(
            {
                "status": result.status.value,
                "objective": result.objective,
                "best_bound": result.bound,
                "gap": round(result.gap, 6),
                "solve_seconds": round(result.seconds, 3),
                "phases": [
                    {
                        "goals": list(ph.tier),
                        "status": ph.status.value,
                        "value": ph.value,
                        "bound": ph.bound,
                        "seconds": round(ph.seconds, 3),
                    }
                    for ph in result.phases
                ],
                "proven_optimal_phases": [
                    "+".join(ph.tier) for ph in result.phases if ph.status is SolveStatus.OPTIMAL
                ],
            }
        )
    else:
        report["objective"] = weighted_total(problem, parts)
    report.update(
        {
            "parts": parts,
            "weights": {p: problem.weights.of(p) for p in parts},
            "period": {
                "start": problem.period_start.isoformat(),
                "end": problem.period_end.isoformat(),
            },
            "sessions": len(problem.sessions),
            "assignments": len(rota),
            **report_sections(problem, rota, readiness_from or today()),
        }
    )
    return report


# ---- check, feeds, report --------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from scheduler.checker import check

    problem = load(args.src)
    rota = load_rota_file(problem, args.rota)
    violations = check(problem, rota)
    for v in violations:
        print(v.line())
    if violations:
        print(f"{len(violations)} broken rule(s)", file=sys.stderr)
        return EXIT_FAILED
    print(f"ok: {len(rota)} assignments break no hard rule", file=sys.stderr)
    return EXIT_OK


def cmd_feeds(args: argparse.Namespace) -> int:
    from scheduler.io.feeds import feeds_main

    problem = load(args.src)
    rota = load_rota_file(problem, args.rota)
    return feeds_main(problem, rota, Path(args.out))


def cmd_bench(args: argparse.Namespace) -> int:
    from scheduler.bench.runner import main as bench_main

    return bench_main(args)


def cmd_report(args: argparse.Namespace) -> int:
    from scheduler.contract import contract_weeks, write_commissioner_csv

    problem = load(args.src)
    rota = load_rota_file(problem, args.rota)
    report = build_report(problem, rota, readiness_from=args.readiness_from)
    if args.commissioner:
        with open(args.commissioner, "w", encoding="utf-8", newline="") as stream:
            write_commissioner_csv(contract_weeks(problem, rota), stream)
        print(f"commissioner's return → {args.commissioner}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2))
        return EXIT_OK
    print(format_report(report))
    return EXIT_OK


def format_report(report: dict) -> str:
    """The report as text tables: contract, readiness, fair shares, clinicians, goal parts."""
    from scheduler.report import report_text

    return report_text(report)


def today() -> date:
    """Today in England, whatever the machine's zone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/London")).date()


def _day(text: str) -> date:
    from scheduler.io.load import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())


def _or_dash(value: int | None) -> str:
    """A progress figure, or a dash before there is one (column generation reports its bound
    before any rota exists)."""
    return "-" if value is None else str(value)
