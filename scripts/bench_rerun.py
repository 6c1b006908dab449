"""Benchmark of re-running after absences on the federation-sized generated instance.

    python scripts/bench_rerun.py [--published ROTA.csv] [--time-limit 10] [--workers 2]

Generates the `federation` size (seed SEED), solves it once as the published rota (or reads
one), marks the ABSENT clinicians with most published sessions in WEEKS weeks (from the second
Monday of the period) absent for those weeks, re-runs with scheduler.solver.rerun, and prints: the
time of the re-run (model build and each phase), the minimum number of assignments that must
change (the absent clinicians' assignments in those weeks) and what the re-run changed. Exit 1 if
the re-run breaks a hard rule, takes longer than the limit allows or changes more than MAX_RATIO ×
the minimum.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.bench.generate import generate  # noqa: E402
from scheduler.checker import check  # noqa: E402
from scheduler.domain import SolveStatus  # noqa: E402
from scheduler.io.load import load_problem, load_rota, write_rota_csv  # noqa: E402
from scheduler.solver.model import build_model  # noqa: E402
from scheduler.solver.params import SolveParams  # noqa: E402
from scheduler.solver.rerun import Absence, rerun, with_absences, with_published  # noqa: E402
from scheduler.solver.solve import solve  # noqa: E402

SIZE, SEED = "federation", 1  # the generated instance re-run
ABSENT = 5  # clinicians marked absent
WEEKS = 2  # weeks they are away
MAX_RATIO = 1.2  # most places changed, as a multiple of the fewest possible


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--published",
        help="a rota.csv of the instance to re-run from "
        "(default: solve it first, --publish-time-limit seconds)",
    )
    parser.add_argument("--publish-time-limit", type=float, default=60.0)
    parser.add_argument("--time-limit", type=float, default=10.0, help="the re-run's budget")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="bench-rerun-"))
    generate(SIZE, SEED, folder)
    problem = load_problem(folder)
    published = _published(args, problem, folder)
    start, last, absent, minimum = _absent(problem, published)
    away = with_absences(
        with_published(problem, published), [Absence(cid, start, last) for cid in absent]
    )

    started = time.perf_counter()
    build_model(away)
    build_seconds = time.perf_counter() - started  # measured apart: rerun builds its own

    phase_done: dict[str, float] = {}

    def progress(p) -> None:
        if p.done:
            phase_done[p.phase] = round(p.elapsed, 2)

    started = time.perf_counter()
    outcome = rerun(
        away,
        SolveParams(time_limit=args.time_limit, workers=args.workers, progress=progress),
        published=published,
    )
    seconds = time.perf_counter() - started
    broken = check(away, outcome.result.rota)
    figures = {
        "instance": f"{SIZE} --seed {SEED}",
        "sessions": len(problem.sessions),
        "clinicians": len(problem.clinicians),
        "published_assignments": len(published),
        "absent": absent,
        "from": start.isoformat(),
        "to": last.isoformat(),
        "minimum_changes": minimum,
        **_changes(outcome, minimum),
        "rerun_seconds": round(seconds, 2),
        "model_build_seconds": round(build_seconds, 2),
        "seconds_to_stability_optimum": phase_done.get("stability"),
        "phase_ends": phase_done,
        **_phases(outcome.result),
        "broken_rules": len(broken),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    changed = figures["changed_places"]
    ok = (
        not broken
        and outcome.diff is not None
        and seconds <= args.time_limit + 0.5
        and changed <= MAX_RATIO * minimum
    )
    print(
        f"{'ok' if ok else 'FAILED'}: re-run {seconds:.1f} s (model build {build_seconds:.1f} s, "
        f"fewest changes proven at {phase_done.get('stability')} s), "
        f"changed {changed} places for a minimum of {minimum} "
        f"(ratio {figures['ratio']}, at most {MAX_RATIO})",
        file=sys.stderr,
    )
    return 0 if ok else 1


def _absent(problem, published) -> tuple:
    """(first day, last day, the clinicians away, the fewest places that must change): the
    ABSENT clinicians with most published sessions in the WEEKS weeks from the period's second
    Monday, and their sessions in those weeks."""
    start = problem.period_start + timedelta(days=7 - problem.period_start.weekday())
    last = start + timedelta(days=7 * WEEKS - 1)
    in_window = Counter(
        a.clinician_id for a in published if start <= problem.session(a.session_id).date <= last
    )
    absent = sorted(in_window, key=lambda cid: (-in_window[cid], cid))[:ABSENT]
    return start, last, absent, sum(in_window[cid] for cid in absent)


def _published(args: argparse.Namespace, problem, folder: Path):
    """The rota to re-run from: --published, else the instance solved once now."""
    if args.published:
        return load_rota(problem, args.published)
    print(f"solving the published rota ({args.publish_time_limit:.0f} s)…", file=sys.stderr)
    first = solve(problem, SolveParams(time_limit=args.publish_time_limit, workers=args.workers))
    assert first.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE), first.message
    write_rota_csv(problem, first.rota, folder / "published.csv")
    print(f"published rota: {folder / 'published.csv'}", file=sys.stderr)
    return first.rota


def _changes(outcome, minimum: int) -> dict:
    """What the re-run changed against the published rota."""
    diff = outcome.diff
    changed = diff.changed_places if diff else None
    return {
        "changed_places": changed,
        "removed": len(diff.removed) if diff else None,
        "added": len(diff.added) if diff else None,
        "ratio": round(changed / minimum, 3) if diff and minimum else None,
        "unfilled_before": len(diff.unfilled_before) if diff else None,
        "unfilled_after": len(diff.unfilled_after) if diff else None,
    }


def _phases(result) -> dict:
    """The re-run's status, phases and parts, and whether it reached the fewest changes."""
    stability = next((ph for ph in result.phases if "stability" in ph.tier), None)
    return {
        "status": result.status.value,
        "phases": [
            {
                "goals": "+".join(ph.tier),
                "status": ph.status.value,
                "seconds": round(ph.seconds, 2),
                "value": ph.value,
            }
            for ph in result.phases
        ],
        "stability_reached": stability is not None and stability.status is SolveStatus.OPTIMAL,
        "parts": result.parts,
    }


if __name__ == "__main__":
    sys.exit(main())
