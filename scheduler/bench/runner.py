"""Benchmarks: solve Curtois–Qu instances or generated rota folders, check each rota, tabulate.

API
- `curtois_cases(files, out)` and `generated_case(size, seed, out)` describe what to run (the
  generated one writes its rota folder into `out/<size>-<seed>/` first, so `hubrota solve` can
  take the same instance).
- `run_bench(cases, settings, out, say=print_to_stderr, on_row=None) -> list[dict]`: solves
  each case, passes every rota through `checker.check`, compares the model's own objective
  parts (`SolveResult.solver_parts`) with the checker's recomputation from the rota
  (`compare_parts`) and, for Curtois instances, the objective with the format's own
  `score_roster`; writes `out/results.json` after each case and the rota
  (`<instance>.roster.csv` for Curtois, `<size>-<seed>.rota.csv` for generated folders).
- `format_table(rows) -> str`: the terminal table; `alarms(row)`: what must never happen.
- `main(args)`: the `hubrota bench` command; `--record` appends each case to a results CSV
  and `hubrota bench table` renders the latest of them (scheduler.bench.record).

Peak memory: each case runs in a child process of its own, started with the `spawn` method (a
fresh interpreter, nothing inherited from the parent), and `peak_memory_mb` is that child's
`resource.getrusage(RUSAGE_SELF).ru_maxrss` after it has loaded, solved and checked the case:
the case's own peak, interpreter and OR-Tools included. `BenchSettings(isolate=False)` runs
in-process instead (for debugging); the figure is then the whole process's peak so far, and the
results say so.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import platform
import queue
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from scheduler.bench.record import (
    DEFAULT_DOCUMENT,
    DEFAULT_RESULTS,
    RecordError,
    Run,
    append_record,
    check_record_file,
    markdown_table,
    read_records,
    write_table,
)
from scheduler.solver.params import STRATEGIES

DEFAULT_BEST_KNOWN = (
    Path(__file__).resolve().parents[2] / "data" / "benchmarks" / "curtois" / "best_known.csv"
)
RESULTS_FILE = "results.json"
PROGRESS_FIELDS = ("phase", "phase_number", "phases", "elapsed", "objective", "bound", "done")
PROGRESS_EVERY = 1.0  # seconds between progress lines of one case (phase ends always print)
EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2
SPARE_SECONDS = 120.0  # a child that overruns its time limit by this much (and 2×) is stopped


@dataclass(frozen=True)
class BenchCase:
    name: str  # "Instance1", "pcn-0"
    kind: str  # "curtois" | "generated"
    source: str  # the instance file or the rota folder
    output: str  # the roster (curtois) or rota.csv (generated) to write
    best_known: int | None = None
    lower_bound: int | None = None
    seed: int | None = None  # CP-SAT's seed for this case (a generated case's), else the run's


@dataclass(frozen=True)
class BenchSettings:
    time_limit: float = 60.0
    workers: int = 2
    seed: int = 0
    isolate: bool = True  # each case in its own child process
    strategy: str = "portfolio"  # scheduler.solver.params.STRATEGIES
    against: str | None = None  # a second strategy run on each case after the first


Say = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# ---- what to run -----------------------------------------------------------------------


def read_best_known(path: str | Path) -> dict[str, tuple[int | None, int | None]]:
    """instance → (lower_bound, best_known) from a `instance,lower_bound,best_known,…` CSV."""
    out: dict[str, tuple[int | None, int | None]] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):

            def whole(key: str, row=row) -> int | None:
                value = (row.get(key) or "").strip()
                return int(value) if value.lstrip("-").isdigit() else None

            out[(row.get("instance") or "").strip()] = (whole("lower_bound"), whole("best_known"))
    return out


def curtois_cases(
    files: Iterable[str | Path], out: str | Path, best_known: str | Path | None = None
) -> list[BenchCase]:
    """One case per instance file; best-known values from `best_known`, else a best_known.csv
    beside the instance, else the repository's data/benchmarks/curtois/best_known.csv."""
    cases = []
    for file in files:
        path = Path(file)
        table = best_known or next(
            (p for p in (path.parent / "best_known.csv", DEFAULT_BEST_KNOWN) if p.is_file()), None
        )
        lower, best = read_best_known(table).get(path.stem, (None, None)) if table else (None, None)
        cases.append(
            BenchCase(
                path.stem,
                "curtois",
                str(path),
                str(Path(out) / f"{path.stem}.roster.csv"),
                best,
                lower,
            )
        )
    return cases


def generated_case(size: str, seed: int, out: str | Path) -> BenchCase:
    """Writes the generated rota folder into `out/<size>-<seed>/` and describes it."""
    from scheduler.bench.generate import generate

    name = f"{size}-{seed}"
    folder = generate(size, seed, Path(out) / name)
    return BenchCase(name, "generated", str(folder), str(Path(out) / f"{name}.rota.csv"), seed=seed)


# ---- one case (in the child) -----------------------------------------------------------


def _peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)  # bytes / KiB


def _load(case: BenchCase):
    """(problem, instance or None) for a case."""
    if case.kind == "curtois":
        from scheduler.bench.curtois import read_instance, to_problem

        instance = read_instance(case.source)
        return to_problem(instance), instance
    from scheduler.io.load import load_problem_with_warnings

    problem, _ = load_problem_with_warnings(case.source)
    return problem, None


def run_case(case: BenchCase, settings: BenchSettings, send: Callable[[tuple], None]) -> None:
    """Load, solve, check and write one case; `send` gets ("progress", {...}) messages and one
    final ("done", row) or ("error", text)."""
    try:
        send(("done", _run_case(case, settings, send)))
    except Exception:  # the parent reports it in the table and goes on with the next case
        send(("error", traceback.format_exc()))


def _run_case(case: BenchCase, settings: BenchSettings, send: Callable[[tuple], None]) -> dict:
    from scheduler.checker import check, objective_parts, weighted_total
    from scheduler.domain import SolveStatus
    from scheduler.solver.params import SolveParams
    from scheduler.solver.solve import solve

    started = time.perf_counter()
    problem, instance = _load(case)
    load_seconds = time.perf_counter() - started
    proven_at_phase: set[str] = set()

    def progress(p) -> None:
        if p.done and p.objective is not None and p.objective == p.bound:
            proven_at_phase.add(p.phase)
        send(("progress", {key: getattr(p, key) for key in PROGRESS_FIELDS}))

    params = SolveParams(
        time_limit=settings.time_limit,
        workers=settings.workers,
        seed=settings.seed if case.seed is None else case.seed,
        progress=progress,
        strategy=settings.strategy,
    )
    result = solve(problem, params)
    has_rota = result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    violations = check(problem, result.rota) if has_rota else []
    checker_parts = objective_parts(problem, result.rota)
    row: dict = {
        "instance": case.name,
        "kind": case.kind,
        "source": case.source,
        "strategy": settings.strategy,
        "seed": params.seed,
        "tiers": _tiers(problem, result) if has_rota else None,
        "status": result.status.value,
        "objective": result.objective if has_rota else None,
        "best_bound": result.bound if has_rota else None,
        "proven_gap": round(result.gap, 6) if has_rota else None,
        "best_known": case.best_known,
        "lower_bound": case.lower_bound,
        "gap_to_best_known": (
            round((result.objective - case.best_known) / case.best_known, 6)
            if has_rota and case.best_known
            else None
        ),
        "seconds": round(result.seconds, 3),
        "load_seconds": round(load_seconds, 3),
        "violations": len(violations),
        "violation_lines": [v.line() for v in violations[:20]],
        "checker_objective": weighted_total(problem, checker_parts) if has_rota else None,
        "solver_objective": (
            weighted_total(problem, result.solver_parts)
            if has_rota and result.solver_parts
            else None
        ),
        **(compare_parts(problem, result, checker_parts, proven_at_phase) if has_rota else {}),
        "parts": {k: v for k, v in result.parts.items() if v} if has_rota else {},
        "phases": [_phase_row(ph) for ph in result.phases],
        "sessions": len(problem.sessions),
        "clinicians": len(problem.clinicians),
        "assignments": len(result.rota),
        "message": result.message,
        "output": None,
    }
    if has_rota:
        row.update(_write_rota(case, problem, instance, result.rota, result.objective))
    row["peak_memory_mb"] = _peak_memory_mb()
    row["wall_seconds"] = round(time.perf_counter() - started, 3)
    return row


def _tiers(problem, result) -> list[int]:
    """The rota's goal tiers in order: the lexicographic value the strategies are judged by."""
    from scheduler.domain import GOALS

    return [problem.weights.total(result.parts, tier) for tier in GOALS]


def _phase_row(ph) -> dict:
    return {
        "goals": "+".join(ph.tier),
        "status": ph.status.value,
        "value": ph.value,
        "bound": ph.bound,
        "seconds": round(ph.seconds, 3),
    }


def compare_parts(problem, result, checker_parts: dict[str, int], proven_at_phase=()) -> dict:
    """The model's own value of each weighted part (`result.solver_parts`, read from the
    CP-SAT variables) against the checker's recomputation from the rota (`checker_parts`).

    Penalty variables are floors (dev ≥ gap), so the model may count more than the rota has,
    never less. The rule: a model value below the checker's is always a mismatch; a value
    above it is a mismatch only in a tier that must be exact, else slack. A tier must be exact
    when its own phase ended with its value proven optimal (a name in `proven_at_phase`, from
    the progress callback's phase-end reports) and a later phase found the final rota: that
    phase held the tier at most at that optimum, and the floors hold it at least at the rota's
    value, which cannot be lower. Parts of weight 0 are never minimised; they are listed in
    `unweighted_parts_differ` only."""
    from scheduler.domain import SolveStatus

    found = [ph.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE) for ph in result.phases]
    exact = {
        part
        for number, ph in enumerate(result.phases)
        if "+".join(ph.tier) in proven_at_phase and any(found[number + 1 :])
        for part in ph.tier
    }
    mismatch: dict[str, list[int]] = {}
    slack: dict[str, list[int]] = {}
    unweighted: dict[str, list[int]] = {}
    for part, checker in checker_parts.items():
        model = result.solver_parts.get(part)
        if model == checker or (model is None and problem.weights.of(part) == 0):
            continue
        if problem.weights.of(part) == 0:
            unweighted[part] = [model, checker]
        elif model is None or model < checker or part in exact:
            mismatch[part] = [model, checker]
        else:
            slack[part] = [model, checker]
    return {
        "parts_agree": not mismatch,
        "parts_mismatch": mismatch,  # part: [model's, checker's]
        "parts_slack": slack,
        "parts_exact": sorted(exact),  # the parts held to equality
        "unweighted_parts_differ": unweighted,
    }


def _write_rota(case: BenchCase, problem, instance, rota, objective: int) -> dict:
    Path(case.output).parent.mkdir(parents=True, exist_ok=True)
    if instance is None:
        from scheduler.io.load import write_rota_csv

        write_rota_csv(problem, rota, case.output)
        return {"output": case.output}
    from scheduler.bench.curtois import roster_rows, score_roster, write_roster

    rows = roster_rows(problem, rota)
    write_roster(case.output, rows)
    penalty, broken = score_roster(instance, rows)
    return {
        "output": case.output,
        "format_penalty": penalty,
        "format_violations": len(broken),
        "format_matches": penalty == objective and not broken,
    }


def _child(case: BenchCase, settings: BenchSettings, messages) -> None:
    """The child process's entry point (top level, so `spawn` can find it)."""
    run_case(case, settings, messages.put)


# ---- running cases ---------------------------------------------------------------------


def run_bench(
    cases: list[BenchCase],
    settings: BenchSettings,
    out: str | Path,
    say: Say = _stderr,
    kind: str | None = None,
    on_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Every case in turn; `out/results.json` is rewritten after each one, and `on_row` (if
    given) gets each case's row as it finishes. With `settings.against`, each case is solved
    again by that strategy with the same budget, workers and seed, one after the other; the
    first row then holds the second's objective, their ratio and which is better
    (`compare_strategies`), and the second row is under its "against_result"."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for number, case in enumerate(cases, start=1):
        runs = [settings]
        if settings.against is not None:
            runs.append(replace(settings, strategy=settings.against, against=None))
        solved = []
        for each in runs:
            say(
                f"[{number}/{len(cases)}] {case.name}: solving with {each.strategy} "
                f"({each.time_limit:g}s, {each.workers} workers)"
            )
            row = _run_isolated(case, each, say) if each.isolate else _run_here(case, each, say)
            _complete(case, row)
            row.setdefault("strategy", each.strategy)
            solved.append(row)
            say(f"[{number}/{len(cases)}] {case.name} ({each.strategy}): {_summary(row)}")
        row = solved[0]
        if len(solved) == 2:
            row.update(compare_strategies(row, solved[1]))
            row["against_result"] = solved[1]
            say(f"[{number}/{len(cases)}] {case.name}: {_versus(row)}")
        rows.append(row)
        for alarm in alarms(row):
            say(f"!!! {alarm}")
        write_results(out / RESULTS_FILE, rows, settings, kind or (cases[0].kind if cases else ""))
        if on_row is not None:
            for each_row in solved:
                on_row(each_row)
    return rows


def compare_strategies(row: dict, other: dict) -> dict:
    """`row`'s strategy against `other`'s on the same case: the other's objective, the ratio of
    the two (`row`'s over the other's) and `versus`: better, same or worse by the goal tiers in
    order (lexicographically, as the solve minimises them), or which alone has a rota."""
    mine, theirs = row.get("tiers"), other.get("tiers")
    if mine is not None and theirs is not None:
        versus = "better" if mine < theirs else "worse" if mine > theirs else "same"
    elif mine is not None:
        versus = "only this has a rota"
    else:
        versus = "only the other has a rota" if theirs is not None else "neither has a rota"
    objective, against = row.get("objective"), other.get("objective")
    ratio = (
        round(objective / against, 6)
        if objective is not None and against
        else (1.0 if objective == 0 and against == 0 else None)
    )
    return {
        "against": other.get("strategy"),
        "against_objective": against,
        "against_bound": other.get("best_bound"),
        "ratio": ratio,
        "versus": versus,
    }


def _versus(row: dict) -> str:
    ratio = "-" if row.get("ratio") is None else f"{row['ratio']:.4f}"
    return (
        f"{row.get('strategy')} {_or_dash(row.get('objective'))} against "
        f"{row.get('against')} {_or_dash(row.get('against_objective'))}: ratio {ratio}, "
        f"{row.get('versus')}"
    )


def summary(rows: list[dict]) -> str:
    """The median and the worst over the cases (several seeds) of the objective, the proven
    gap and, with a second strategy, the ratio to it; one line per figure."""
    import statistics

    lines = []
    for key, label, worst in (
        ("objective", "objective", max),
        ("proven_gap", "gap", max),
        ("gap_to_best_known", "vs best known", max),
        ("against_objective", "against's objective", max),
        ("ratio", "ratio to against", max),
    ):
        values = [r[key] for r in rows if r.get(key) is not None]
        if not values:
            continue
        missing = len(rows) - len(values)
        fmt = "{:.2%}" if "gap" in key else "{:.4f}" if key == "ratio" else "{:,.0f}"
        lines.append(
            f"{label}: median {fmt.format(statistics.median(values))}, worst "
            f"{fmt.format(worst(values))} over {len(values)} case(s)"
            + (f" ({missing} without a value)" if missing else "")
        )
    worse = [
        r["instance"] for r in rows if r.get("versus") in ("worse", "only the other has a rota")
    ]
    if any(r.get("against") for r in rows):
        lines.append(f"worse than against: {', '.join(worse) if worse else 'none'}")
    return "\n".join(lines)


def _complete(case: BenchCase, row: dict) -> None:
    """Fields every row has, whether or not its case ran to the end."""
    defaults = {
        "instance": case.name,
        "kind": case.kind,
        "source": case.source,
        "status": "error",
        "objective": None,
        "best_bound": None,
        "proven_gap": None,
        "best_known": case.best_known,
        "lower_bound": case.lower_bound,
        "gap_to_best_known": None,
        "seconds": None,
        "peak_memory_mb": None,
        "violations": None,
        "checker_objective": None,
        "solver_objective": None,
        "parts_agree": None,
        "output": None,
    }
    for key, value in defaults.items():
        row.setdefault(key, value)


class _Printer:
    """Turns progress messages into lines: at most one a second, and every phase end."""

    def __init__(self, name: str, say: Say):
        self.name, self.say = name, say
        self.last = -PROGRESS_EVERY

    def __call__(self, p: dict) -> None:
        now = time.perf_counter()
        if not p["done"] and now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        end = " (phase done)" if p["done"] else ""
        self.say(
            f"    {self.name}: phase {p['phase_number']}/{p['phases']} {p['phase']} "
            f"{p['elapsed']:6.1f}s best {_or_dash(p['objective'])} "
            f"bound {_or_dash(p['bound'])}{end}"
        )


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)


def _run_here(case: BenchCase, settings: BenchSettings, say: Say) -> dict:
    printer = _Printer(case.name, say)
    final: dict = {}

    def send(message: tuple) -> None:
        kind, payload = message
        if kind == "progress":
            printer(payload)
        elif kind == "done":
            final.update(payload)
        else:
            final.update({"status": "error", "error": payload})

    run_case(case, settings, send)
    final["peak_memory_scope"] = "process"
    return final


def _run_isolated(case: BenchCase, settings: BenchSettings, say: Say) -> dict:
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    child = context.Process(
        target=_child, args=(case, settings, messages), name=f"bench-{case.name}", daemon=True
    )
    child.start()
    printer = _Printer(case.name, say)
    allowed = 2 * settings.time_limit + SPARE_SECONDS
    deadline = time.monotonic() + allowed
    final: dict | None = None
    try:
        while final is None:
            try:
                kind, payload = messages.get(timeout=0.5)
            except queue.Empty:
                if not child.is_alive():
                    try:  # anything the child sent just before it ended
                        kind, payload = messages.get(timeout=2)
                    except queue.Empty:
                        final = {
                            "status": "error",
                            "error": f"child process ended with exit code {child.exitcode} "
                            "(killed for memory?)",
                        }
                        break
                elif time.monotonic() > deadline:
                    final = {
                        "status": "error",
                        "error": f"no answer within {allowed:.0f}s; child stopped",
                    }
                    break
                else:
                    continue
            if kind == "progress":
                printer(payload)
            elif kind == "done":
                final = dict(payload)
            else:
                final = {"status": "error", "error": payload}
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()
            child.join(timeout=5)
        messages.close()
    final["peak_memory_scope"] = "instance"
    return final


# ---- judging and reporting -------------------------------------------------------------


def alarms(row: dict) -> list[str]:
    """What must never happen: broken rules, objectives that disagree, a case that failed."""
    out = []
    name = row["instance"]
    if row.get("error"):
        out.append(f"{name}: ERROR {row['error'].strip().splitlines()[-1]}")
    if row.get("violations"):
        out.append(
            f"{name}: {row['violations']} hard rule(s) broken by the solver's rota: "
            + "; ".join(row.get("violation_lines", [])[:3])
        )
    if row.get("parts_agree") is False:
        differ = ", ".join(
            f"{part} model {_or_dash(a)} checker {b}"
            + (" (model undercounts)" if a is None or a < b else " (must be exact)")
            for part, (a, b) in (row.get("parts_mismatch") or {}).items()
        )
        out.append(f"{name}: PARTS MISMATCH: {differ}")
    bound, best = row.get("best_bound"), row.get("best_known")
    if bound is not None and best is not None and bound > best:
        out.append(
            f"{name}: BOUND ABOVE THE BEST KNOWN: the solver claims no roster below {bound}, "
            f"but one of {best} is known"
        )
    if bound is not None and row.get("objective") is not None and bound > row["objective"]:
        out.append(f"{name}: BOUND ABOVE THE OBJECTIVE: bound {bound}, rota {row['objective']}")
    if row.get("versus") in ("worse", "only the other has a rota"):
        out.append(
            f"{name}: {row.get('strategy')} is worse than {row.get('against')}: "
            f"{_or_dash(row.get('objective'))} against {_or_dash(row.get('against_objective'))}"
        )
    against = row.get("against_result")
    if against:
        out.extend(f"{alarm} ({against.get('strategy')})" for alarm in alarms(against))
    if row.get("format_matches") is False:
        out.append(
            f"{name}: FORMAT MISMATCH: solver {row['objective']} but the format's own "
            f"scoring gives {row.get('format_penalty')} with "
            f"{row.get('format_violations')} hard violation(s)"
        )
    return out


def _summary(row: dict) -> str:
    if row.get("error"):
        return "error"
    text = f"{row['status']}"
    if row.get("objective") is not None:
        text += f", objective {row['objective']} (bound {row['best_bound']})"
    if row.get("best_known") is not None:
        text += f", best known {row['best_known']}"
    if row.get("seconds") is not None:
        text += f", {row['seconds']:.1f}s"
    if row.get("peak_memory_mb") is not None:
        text += f", {row['peak_memory_mb']:.0f} MB"
    return text


def write_results(path: Path, rows: list[dict], settings: BenchSettings, kind: str) -> None:
    try:
        from importlib.metadata import version

        ortools_version = version("ortools")
    except Exception:  # not installed as a distribution: leave it out
        ortools_version = None
    document = {
        "benchmark": kind,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "time_limit": settings.time_limit,
        "workers": settings.workers,
        "seed": settings.seed,
        "peak_memory": (
            "each instance in its own spawned child process; peak_memory_mb is "
            "that process's ru_maxrss"
            if settings.isolate
            else "in-process; peak_memory_mb is the whole process's ru_maxrss so far"
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "ortools": ortools_version,
        },
        "ok": all(not alarms(r) for r in rows),
        "instances": rows,
    }
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


COLUMNS = (
    ("instance", "instance", "<"),
    ("strategy", "strategy", "<"),
    ("status", "status", "<"),
    ("objective", "objective", ">"),
    ("best_bound", "bound", ">"),
    ("proven_gap", "lex gap", ">"),
    ("best_known", "best known", ">"),
    ("gap_to_best_known", "vs best", ">"),
    ("seconds", "seconds", ">"),
    ("peak_memory_mb", "peak MB", ">"),
    ("violations", "broken", ">"),
    ("check", "check", "<"),
    ("ratio", "ratio", ">"),
    ("versus", "versus", "<"),
)


def format_table(rows: list[dict]) -> str:
    """One line per case and strategy (a second strategy's line under the first's); `check` is
    ok when no rule is broken, the model's parts agree with the checker's and (Curtois) the
    format's own scoring agrees; `ratio` and `versus` compare the first strategy with the
    second."""
    shown = [r for row in rows for r in (row, row.get("against_result")) if r]
    cells = [[_cell(row, key) for key, _, _ in COLUMNS] for row in shown]
    widths = [
        max(len(title), *(len(c[i]) for c in cells)) if cells else len(title)
        for i, (_, title, _) in enumerate(COLUMNS)
    ]

    def line(values: list[str]) -> str:
        return "  ".join(
            f"{v:{align}{w}}" for v, w, (_, _, align) in zip(values, widths, COLUMNS, strict=True)
        ).rstrip()

    header = line([title for _, title, _ in COLUMNS])
    return "\n".join([header, "-" * len(header), *(line(c) for c in cells)])


def _cell(row: dict, key: str) -> str:
    if key == "check":
        own = {k: v for k, v in row.items() if k not in ("versus", "against_result")}
        return (
            "ok"
            if not alarms(own)
            else "MISMATCH"
            if (row.get("parts_agree") is False or row.get("format_matches") is False)
            else ("BROKEN" if row.get("violations") else "ERROR")
        )
    value = row.get(key)
    if value is None:
        return "-"
    if key in ("proven_gap", "gap_to_best_known"):
        return f"{value:.2%}"
    if key == "seconds":
        return f"{value:.1f}"
    if key == "peak_memory_mb":
        return f"{value:.0f}"
    if key == "ratio":
        return f"{value:.4f}"
    return str(value)


# ---- the `hubrota bench` command -------------------------------------------------------


def add_arguments(sub) -> argparse.ArgumentParser:
    """`hubrota bench curtois FILE… --out DIR`, `hubrota bench generated --size S` and
    `hubrota bench table`; returns the `bench` parser."""
    from scheduler.bench.generate import PROFILES

    bench = sub.add_parser("bench", help="solve benchmark instances and tabulate the results")
    kinds = bench.add_subparsers(title="benchmarks", dest="benchmark", required=True)

    def common(p) -> None:
        p.add_argument(
            "--time-limit",
            type=_positive(float),
            default=60.0,
            help="seconds per instance (default 60)",
        )
        p.add_argument(
            "--workers",
            type=_positive(int),
            default=min(8, os.cpu_count() or 2),
            help="CP-SAT search workers (default: the cores, at most 8)",
        )
        p.add_argument(
            "--in-process",
            action="store_true",
            help="solve in this process, not a child per instance (peak memory is "
            "then the whole run's)",
        )
        p.add_argument(
            "--record",
            nargs="?",
            const=str(DEFAULT_RESULTS),
            metavar="FILE",
            help=f"append one row per instance to this CSV (default {DEFAULT_RESULTS})",
        )
        p.add_argument(
            "--strategy",
            choices=STRATEGIES,
            default="portfolio",
            help="the solve to run: portfolio (default), plain (the full model under "
            "CP-SAT's own search alone) or specialised (the tuned phases alone)",
        )
        p.add_argument(
            "--against",
            choices=STRATEGIES,
            help="solve each instance again with this strategy, the same budget, workers and "
            "seed, one after the other, and compare the two (objectives, ratio)",
        )

    p = kinds.add_parser("curtois", help="Curtois–Qu nurse-rostering instances (.txt)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--out", required=True, help="folder for results.json and the rosters")
    p.add_argument(
        "--best-known",
        help="instance,lower_bound,best_known CSV (default: "
        "best_known.csv beside the instances, else data/benchmarks/curtois/)",
    )
    p.add_argument("--seed", type=int, default=0, help="CP-SAT's random seed")
    common(p)

    p = kinds.add_parser("generated", help="a generated rota folder (scheduler.bench.generate)")
    p.add_argument("--size", required=True, choices=sorted(PROFILES))
    p.add_argument("--seed", type=int, default=0, help="the generator's seed (and CP-SAT's)")
    p.add_argument(
        "--seeds",
        type=_seeds,
        metavar="RANGE",
        help="several seeds, e.g. 0-9 or 0,3,5 (instead of --seed): one instance each, then "
        "the median and the worst",
    )
    p.add_argument(
        "--out",
        help="folder for the instance, its rota and results.json (default: a new temporary folder)",
    )
    common(p)

    p = kinds.add_parser(
        "table", help="write the latest recorded result of each instance as a markdown table"
    )
    p.add_argument(
        "--results",
        default=str(DEFAULT_RESULTS),
        metavar="FILE",
        help=f"the recorded results (default {DEFAULT_RESULTS})",
    )
    p.add_argument(
        "--out",
        default=str(DEFAULT_DOCUMENT),
        metavar="FILE",
        help=f"the markdown document whose table is replaced (default {DEFAULT_DOCUMENT}); "
        "- prints the table",
    )
    return bench


def _seeds(text: str) -> list[int]:
    """An argparse type: seeds as `A-B` (inclusive) and/or a comma-separated list."""
    seeds: list[int] = []
    try:
        for item in text.split(","):
            first, dash, last = item.strip().partition("-")
            low = int(first)
            high = int(last) if dash else low
            if high < low or high - low > 1000:
                raise ValueError
            seeds.extend(range(low, high + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not seeds: {text!r} (use e.g. 0-9 or 0,3,5)") from None
    return list(dict.fromkeys(seeds))


def _positive(kind: type) -> Callable[[str], float | int]:
    """An argparse type: a number of `kind` above 0."""

    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"must be above 0: {text!r}")
        return value

    return parse


def _error(message: str) -> int:
    _stderr(f"hubrota bench: error: {message}")
    return EXIT_INPUT


def main(args: argparse.Namespace) -> int:
    """Run `hubrota bench`: 0 when every rota is clean and every scorer agrees, 1 otherwise,
    2 when an argument or an instance file is bad."""
    if args.benchmark == "table":
        return table_main(args)
    try:
        if args.record:
            check_record_file(args.record)
    except RecordError as error:
        return _error(str(error))
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        return _error(f"--out {args.out} is a file, not a folder")
    settings = BenchSettings(
        args.time_limit,
        args.workers,
        args.seed,
        isolate=not args.in_process,
        strategy=args.strategy,
        against=args.against,
    )
    if args.benchmark == "curtois":
        from scheduler.bench.curtois import InstanceError, read_instance

        bad = False
        for file in args.files:  # malformed files are reported before anything is solved
            try:
                read_instance(file)
            except InstanceError as error:
                bad = True
                for line in error.errors:
                    print(line, file=sys.stderr)
            except OSError as error:
                bad = True
                print(f"{file}: {error.strerror or error}", file=sys.stderr)
        if bad:
            return EXIT_INPUT
        out = Path(args.out)
        cases = curtois_cases(args.files, out, args.best_known)
    else:
        import tempfile

        out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="hubrota-bench-"))
        cases = []
        for seed in args.seeds or [args.seed]:
            cases.append(generated_case(args.size, seed, out))
            _stderr(f"generated {args.size} (seed {seed}) into {cases[-1].source}")
    recorder = _Recorder(args, settings) if args.record else None
    rows = run_bench(cases, settings, out, kind=args.benchmark, on_row=recorder)
    print(format_table(rows))
    if len(rows) > 1 or settings.against is not None:
        print(summary(rows))
    failures = [alarm for row in rows for alarm in alarms(row)]
    _stderr(f"results: {out / RESULTS_FILE}")
    if recorder is not None:
        failures += recorder.failures
        _stderr(f"recorded {recorder.rows} row(s) in {args.record}")
    for alarm in failures:
        _stderr(f"!!! {alarm}")
    return EXIT_FAILED if failures else EXIT_OK


class _Recorder:
    """Appends each finished case's row to the --record file."""

    def __init__(self, args: argparse.Namespace, settings: BenchSettings):
        self.path = args.record
        self.run = Run.now(args.benchmark, settings.time_limit, settings.workers, settings.seed)
        self.rows = 0
        self.failures: list[str] = []

    def __call__(self, row: dict) -> None:
        try:
            append_record(self.path, self.run, row)
            self.rows += 1
        except (OSError, RecordError) as error:
            self.failures.append(f"{row['instance']}: not recorded in {self.path}: {error}")


def table_main(args: argparse.Namespace) -> int:
    """`hubrota bench table`: the latest row of each instance into the document's table."""
    try:
        table = markdown_table(read_records(args.results))
        if args.out == "-":
            print(table)
        else:
            write_table(args.out, table)
            _stderr(f"table of {args.results} written into {args.out}")
    except (RecordError, OSError, KeyError, ValueError) as error:
        return _error(str(error))
    return EXIT_OK
