"""A federation's current data as a scheduler Problem: stored files parsed by scheduler.io.load.

scheduler.io.load is the single source of truth for validation: the stored CSV text is written to a
temporary rota folder and loaded exactly as `hubrota solve` would load it. A dataset never
changes once saved, so its Problem is cached by dataset id.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.domain import Problem
from scheduler.io.load import InputError, InputErrors, load_problem_with_warnings
from web.models import Dataset

EXTENSION = "hubrota.problems"
FILE_NAMES = (
    "practices.csv",
    "hubs.csv",
    "clinicians.csv",
    "patterns.csv",
    "sessions.csv",
    "availability.csv",
    "assignments.csv",
    "rota.toml",
)
REQUIRED = ("practices.csv", "hubs.csv", "clinicians.csv", "patterns.csv", "availability.csv")


@dataclass(frozen=True)
class Loaded:
    problem: Problem
    warnings: tuple[str, ...]


class _Cache:
    """A small LRU of parsed datasets, shared by the app's threads."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[int, Loaded] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: int) -> Loaded | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: int, value: Loaded) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = _Cache(app.config["PROBLEM_CACHE_SIZE"])


def parse_files(files: dict[str, str]) -> Loaded:
    """Load a set of input files (name → text) with scheduler.io.load; raises InputErrors."""
    with tempfile.TemporaryDirectory(prefix="hubrota-") as folder:
        root = Path(folder) / "data"
        root.mkdir()
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        problem, warnings = load_problem_with_warnings(root)
    return Loaded(problem, tuple(warnings))


def loaded(dataset: Dataset) -> Loaded:
    cache: _Cache = current_app.extensions[EXTENSION]
    found = cache.get(dataset.id)
    if found is None:
        found = parse_files(dataset.texts())
        cache.put(dataset.id, found)
    return found


def remember(dataset_id: int, data: Loaded) -> None:
    """Cache what was just parsed for a new dataset, so its first page needs no second parse."""
    current_app.extensions[EXTENSION].put(dataset_id, data)


def current_dataset(db: Session, federation_id: int) -> Dataset | None:
    return db.scalar(
        select(Dataset)
        .where(Dataset.federation_id == federation_id, Dataset.version.is_not(None))
        .order_by(Dataset.version.desc())
        .limit(1)
    )


def labels_of(dataset: Dataset) -> dict[str, str]:
    try:
        return dict(json.loads(dataset.labels or "{}"))
    except ValueError:
        return {}


def relabel(error: InputError | str, labels: dict[str, str]) -> str:
    """An error or warning with the file named as the user uploaded it (a workbook's sheet)."""
    text = str(error)
    for stored, shown in labels.items():
        if text.startswith(stored + ":"):
            return shown + text[len(stored) :]
    return text


def located(error: InputError, labels: dict[str, str]) -> dict[str, object]:
    return {
        "file": labels.get(error.file, error.file),
        "row": error.row,
        "column": error.column,
        "message": error.message,
        "line": relabel(error, labels),
    }


__all__ = [
    "FILE_NAMES",
    "REQUIRED",
    "InputErrors",
    "Loaded",
    "current_dataset",
    "labels_of",
    "loaded",
    "located",
    "parse_files",
    "relabel",
    "remember",
]
