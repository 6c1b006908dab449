"""The engine stays pure: only its boundary modules import pandas or icalendar, none imports
Flask, and the checker never imports ortools."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "scheduler"
BOUNDARY = {"pandas": {"load"}, "icalendar": {"ical", "feeds"}, "openpyxl": {"load"}}
# ortools' cp_model itself imports pandas, so model and solve are held to their import lines only
CORE = ["domain", "checker", "explain", "report", "io.expand", "bench.generate"]


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted(ENGINE.rglob("*.py")), ids=lambda p: p.stem)
def test_only_boundary_modules_import_pandas_or_icalendar(path):
    """Each engine module imports pandas, openpyxl or icalendar only if it is a boundary module,
    and none imports flask or web."""
    roots = imported_roots(path)
    assert not roots & {"flask", "web"}, f"{path.name} imports the web layer"
    for library, allowed in BOUNDARY.items():
        if library in roots:
            assert path.stem in allowed, f"{path.name} imports {library}"


def test_checker_never_imports_ortools():
    """The checker is the specification: no solver behind it."""
    assert "ortools" not in imported_roots(ENGINE / "checker.py")


def test_core_modules_load_without_boundary_libraries():
    """Importing the solver-free core loads neither flask, pandas nor icalendar."""
    code = (
        "import sys\n"
        + "".join(f"import scheduler.{m}\n" for m in CORE)
        + "bad = [m for m in ('flask', 'pandas', 'icalendar') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ENGINE.parent)
