"""Benchmark results as data: one CSV row per solved case, and a markdown table of the latest.

API
- `Run`: what one `hubrota bench … --record` invocation shares between its rows (commit, time,
  cores, suite, time limit, workers, seed); `Run.now(suite, …)` fills in the first three.
- `check_record_file(path)`: raises `RecordError` when `path` cannot take rows (a folder, or a
  CSV whose header is not `COLUMNS`), before anything is solved.
- `append_record(path, run, row)`: appends one case's row (the header first in a new file);
  earlier rows are never rewritten.
- `read_records(path)`, `latest(records)`: the rows, and the last one of each (suite, instance).
- `markdown_table(records)`, `write_table(document, table)`: the table, and the document with the
  table put between `BEGIN` and `END` (the text around them is kept).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_RESULTS = Path("benchmarks") / "results.csv"
DEFAULT_DOCUMENT = Path("docs") / "benchmarks.md"
BEGIN = "<!-- begin: table written by `hubrota bench table` from benchmarks/results.csv -->"
END = "<!-- end: table written by `hubrota bench table` -->"
# Paths that a recorded run writes itself; changes there do not mark the commit "+dirty".
RESULT_PATHS = ("benchmarks", "docs/benchmarks.md")
GIT_SECONDS = 10.0  # the longest a git query for the commit may take

COLUMNS = (
    "commit",
    "recorded_at",
    "cores",
    "suite",
    "instance",
    "time_limit",
    "workers",
    "seed",
    "status",
    "objective",
    "bound",
    "gap",
    "best_known",
    "gap_to_best_known",
    "seconds",
    "peak_memory_mb",
    "rota_valid",
    "parts_agree",
    "strategy",
    "against",
    "against_objective",
    "ratio",
)

# The aim of each benchmark: (suite, instance pattern, label, test of a record).
TARGETS = (
    ("curtois", r"Instance[1-4]", "optimum", lambda r: _same(r["objective"], r["best_known"])),
    ("curtois", r"Instance[5-8]", "≤ 3 % over best", lambda r: _at_most(r, 0.03)),
    ("curtois", r"Instance(9|1[0-2])", "≤ 5 % over best", lambda r: _at_most(r, 0.05)),
    ("curtois", r"Instance1[7-9]", "≤ 5 % over best", lambda r: _at_most(r, 0.05)),
    ("curtois", r"Instance2[0-4]", "a roster", lambda r: r["objective"] != ""),
    ("generated", r"pcn-\d+", "proven optimal", lambda r: r["status"] == "optimal"),
    ("generated", r"federation-\d+", "gap ≤ 1 %", lambda r: _gap_at_most(r, 0.01)),
    ("generated", r"ics-\d+", "gap ≤ 5 %", lambda r: _gap_at_most(r, 0.05)),
)


class RecordError(Exception):
    """A results file or document that cannot be used; the message says why."""


@dataclass(frozen=True)
class Run:
    """What every row of one recorded bench run shares."""

    commit: str
    recorded_at: str
    cores: int
    suite: str
    time_limit: float
    workers: int
    seed: int

    @classmethod
    def now(cls, suite: str, time_limit: float, workers: int, seed: int) -> Run:
        return cls(
            commit=git_commit(Path(__file__).resolve().parents[2]),
            recorded_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            cores=os.cpu_count() or 0,
            suite=suite,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
        )


def git_commit(folder: Path) -> str:
    """`git rev-parse --short HEAD` of the checkout holding `folder`, with "+dirty" when a
    tracked file outside `RESULT_PATHS` has changed; "unknown" outside a git checkout."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=GIT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown"
    excluded = [f":(exclude,top){path}" for path in RESULT_PATHS]
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ":/", *excluded)
    return commit + ("+dirty" if changed else "")


def record_of(run: Run, row: dict) -> dict[str, str]:
    """The CSV row of one bench result (`scheduler.bench.runner`'s row dict)."""
    has_rota = row.get("objective") is not None
    values = {
        "commit": run.commit,
        "recorded_at": run.recorded_at,
        "cores": run.cores,
        "suite": run.suite,
        "instance": row["instance"],
        "time_limit": f"{run.time_limit:g}",
        "workers": run.workers,
        "seed": row.get("seed", run.seed),
        "status": row.get("status") or "error",
        "objective": row.get("objective"),
        "bound": row.get("best_bound"),
        "gap": row.get("proven_gap"),
        "best_known": row.get("best_known"),
        "gap_to_best_known": row.get("gap_to_best_known"),
        "seconds": row.get("seconds"),
        "peak_memory_mb": row.get("peak_memory_mb"),
        "rota_valid": _yes_no(row.get("violations") == 0 if has_rota else None),
        "parts_agree": _yes_no(row.get("parts_agree") if has_rota else None),
        "strategy": row.get("strategy"),
        "against": row.get("against"),
        "against_objective": row.get("against_objective"),
        "ratio": row.get("ratio"),
    }
    return {key: "" if value is None else str(value) for key, value in values.items()}


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def check_record_file(path: str | Path) -> None:
    """Raises RecordError unless rows can be appended to `path` (absent, empty or a results
    CSV with this header)."""
    path = Path(path)
    if path.is_dir():
        raise RecordError(f"{path} is a folder, not a results CSV file")
    if path.exists() and path.stat().st_size:
        with open(path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
        if tuple(header) != COLUMNS:
            raise RecordError(
                f"{path} is not a bench results file: its header is not {','.join(COLUMNS)}"
            )
    elif any(parent.exists() and not parent.is_dir() for parent in path.parents):
        raise RecordError(f"cannot create {path}: a parent is not a folder")


def append_record(path: str | Path, run: Run, row: dict) -> None:
    """Appends one case's row to `path` (creating it and its folder, with the header)."""
    path = Path(path)
    check_record_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        if new:
            writer.writeheader()
        writer.writerow(record_of(run, row))


def read_records(path: str | Path) -> list[dict[str, str]]:
    """Every row of a results file, in the order recorded."""
    path = Path(path)
    if not path.is_file():
        raise RecordError(f"no results file {path} (record some with `hubrota bench … --record`)")
    check_record_file(path)
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def latest(records: list[dict[str, str]]) -> list[dict[str, str]]:
    """The last row of each (suite, instance, strategy): Curtois instances by number, then
    the generated sizes from small to large, each by seed."""
    last = {(r["suite"], r["instance"], r["strategy"]): r for r in records}
    return sorted(last.values(), key=_order)


def _order(record: dict[str, str]) -> tuple:
    from scheduler.bench.generate import PROFILES

    sizes = list(PROFILES)
    name = record["instance"]
    size = name.rsplit("-", 1)[0]
    rank = sizes.index(size) if record["suite"] == "generated" and size in sizes else len(sizes)
    natural = [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]
    strategy = record["strategy"]
    order = STRATEGY_ORDER.index(strategy) if strategy in STRATEGY_ORDER else len(STRATEGY_ORDER)
    return (record["suite"] != "curtois", record["suite"], rank, natural, order, strategy)


# The order of a case's rows in the table: the default strategy first, then the ones it is
# judged against.
STRATEGY_ORDER = ("portfolio", "plain", "specialised")


TABLE = (
    ("suite", "suite"),
    ("instance", "instance"),
    ("strategy", "strategy"),
    ("status", "status"),
    ("objective", "objective"),
    ("bound", "bound"),
    ("gap", "lexicographic gap"),
    ("best_known", "best known"),
    ("gap_to_best_known", "vs best"),
    ("against_objective", "against (same run)"),
    ("ratio", "ratio"),
    ("target", "target"),
    ("seconds", "seconds"),
    ("peak_memory_mb", "peak MB"),
    ("rota_valid", "valid"),
    ("parts_agree", "parts"),
    ("time_limit", "limit s"),
    ("workers", "workers"),
    ("cores", "cores"),
    ("commit", "commit"),
    ("recorded_at", "recorded (UTC)"),
)


def markdown_table(records: list[dict[str, str]]) -> str:
    """The latest row of each (suite, instance) as a markdown table."""
    lines = [
        "| " + " | ".join(title for _, title in TABLE) + " |",
        "|" + "|".join("---" for _ in TABLE) + "|",
    ]
    for record in latest(records):
        lines.append("| " + " | ".join(_markdown_cell(record, key) for key, _ in TABLE) + " |")
    if len(lines) == 2:
        lines.append("| " + " | ".join("-" for _ in TABLE) + " |")
    return "\n".join(lines)


def _markdown_cell(record: dict[str, str], key: str) -> str:
    if key == "target":
        return target(record)
    value = record.get(key, "")
    if value == "":
        return "-"
    if key in ("gap", "gap_to_best_known"):
        return f"{float(value):.2%}"
    if key == "seconds":
        return f"{float(value):.1f}"
    if key == "peak_memory_mb":
        return f"{float(value):.0f}"
    if key == "rota_valid":
        return "yes" if value == "yes" else "**BROKEN**"
    if key == "parts_agree":
        return "agree" if value == "yes" else "**MISMATCH**"
    if key == "ratio":
        return f"{float(value):.4f}"
    if key == "against_objective":
        return f"{record.get('against') or '?'}: {value}"
    if key == "recorded_at":
        return value.replace("T", " ").removesuffix("Z")
    return value


def target(record: dict[str, str]) -> str:
    """The benchmark's target for this record and whether it is met ("-" when it has none)."""
    for suite, pattern, label, met in TARGETS:
        if record["suite"] == suite and re.fullmatch(pattern, record["instance"]):
            if record.get("objective", "") == "":
                return f"{label}: missed"
            return f"{label}: {'met' if met(record) else 'missed'}"
    return "-"


def _same(a: str, b: str) -> bool:
    return a != "" and b != "" and int(a) == int(b)


def _at_most(record: dict[str, str], share: float) -> bool:
    value = record.get("gap_to_best_known", "")
    return value != "" and float(value) <= share + 1e-9


def _gap_at_most(record: dict[str, str], share: float) -> bool:
    value = record.get("gap", "")
    return value != "" and float(value) <= share + 1e-9


def write_table(document: str | Path, table: str) -> None:
    """Puts `table` between BEGIN and END in `document`, keeping the text around them; a new
    document holds only the markers and the table."""
    document = Path(document)
    if document.is_dir():
        raise RecordError(f"{document} is a folder, not a markdown file")
    block = f"{BEGIN}\n\n{table}\n\n{END}"
    if not document.exists():
        document.parent.mkdir(parents=True, exist_ok=True)
        document.write_text(block + "\n", encoding="utf-8")
        return
    text = document.read_text(encoding="utf-8")
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise RecordError(
            f"{document} needs one line {BEGIN!r} and, after it, one line {END!r} "
            "where the table goes"
        )
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    document.write_text(head + block + tail, encoding="utf-8")
