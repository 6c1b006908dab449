"""The import contracts in .importlinter catch what they are there for: a copy of the code with one
bad import added fails `lint-imports`, naming the contract it breaks. (The test command runs
`lint-imports` on the code itself.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the packages under `tree`, with the project's contracts."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the two packages and the contracts."""
    copy = tmp_path_factory.mktemp("tree")
    for package in ("scheduler", "web"):
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    return copy


@contextmanager
def with_line(tree: Path, module: str, line: str) -> Iterator[None]:
    """The tree with `line` appended to `module` (a path under the tree), restored afterwards."""
    path = tree / module
    original = path.read_text()
    path.write_text(original + "\n" + line + "\n")
    try:
        yield
    finally:
        path.write_text(original)


def test_the_code_keeps_every_contract(tree):
    """The unchanged copy passes: every contract is kept."""
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("scheduler/checker.py", "import scheduler.explain", "No import circles"),
        ("scheduler/domain.py", "import scheduler.solver.solve", "Engine layers"),
        ("scheduler/report.py", "import web.db", "never uses the web app"),
        ("scheduler/explain.py", "import pandas", "Only scheduler.io reads tables"),
        ("scheduler/io/load.py", "import ortools", "Only scheduler.solver imports"),
        ("scheduler/contract.py", "import flask", "no web framework"),
        ("web/services/problems.py", "import web.views.rota", "views over services"),
    ],
)
def test_a_bad_import_breaks_its_contract(tree, module, line, contract):
    """One import that the architecture forbids makes `lint-imports` fail on its contract."""
    with with_line(tree, module, line):
        result = lint_imports(tree)
    assert result.returncode != 0
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert contract in broken, result.stdout
