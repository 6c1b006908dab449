"""What the API and pages compute from a published version — its assignments, unfilled posts
with the engine's reasons, and contract figures — kept per version: a published version and its
data never change, so they are computed once per process (an LRU of VERSION_CACHE_SIZE)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from scheduler.contract import contract_weeks
from scheduler.domain import Rota
from scheduler.explain import Unfilled, explain_unfilled
from web.models import PublishedVersion
from web.services.current_rota import known_rota
from web.services.problems import loaded
from web.services.published import version_rota

EXTENSION = "hubrota.version_figures"
SIZE = 8


class Lru:
    """A small thread-safe LRU: `get(key, make)` computes a missing value once per key."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


@dataclass(frozen=True)
class Figures:
    rota: Rota
    unfilled: tuple[Unfilled, ...]
    contract: tuple[dict, ...]  # ContractWeek.as_dict(), as in report.json's `contract`


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Lru(app.config.get("VERSION_CACHE_SIZE", SIZE))


def figures(version: PublishedVersion) -> Figures:
    def make() -> Figures:
        rota = version_rota(version)
        problem = loaded(version.dataset).problem
        return Figures(
            rota,
            tuple(explain_unfilled(problem, rota)),
            tuple(w.as_dict() for w in contract_weeks(problem, known_rota(problem, rota))),
        )

    cache: Lru = current_app.extensions[EXTENSION]
    return cache.get(version.id, make)
