"""Whether the rota on screen is the published one: the banner every rota page shows."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, g
from sqlalchemy.orm import Session as DbSession

from scheduler.diff import DiffCounts, rota_diff
from web.db import get_db
from web.models import PublishedVersion
from web.models import Rota as RotaRow
from web.services.current_rota import current_rota, rota_of
from web.services.problems import current_dataset, loaded
from web.services.published import latest_version, version_rota


@dataclass(frozen=True)
class RotaState:
    """The current rota against the latest published version."""

    row: RotaRow | None
    version: PublishedVersion | None
    counts: DiffCounts | None  # None when nothing is published or there is no rota

    @property
    def unpublished(self) -> bool:
        """The rota on screen differs from what the calendar feeds show."""
        if self.row is None:
            return False
        return self.version is None or bool(self.counts and self.counts.total)


def rota_state(db: DbSession, federation_id: int) -> RotaState:
    row = current_rota(db, federation_id)
    version = latest_version(db, federation_id)
    dataset = current_dataset(db, federation_id)
    if row is None or version is None or dataset is None:
        return RotaState(row, version, None)
    problem = loaded(row.dataset).problem
    diff = rota_diff(version_rota(version), rota_of(row), problem, loaded(version.dataset).problem)
    return RotaState(row, version, diff.counts)


def show_on(bp: Blueprint) -> None:
    """Every page of `bp` shows the banner (base.html includes it where `rota_state` is given;
    it is worked out only when a page is drawn with it)."""

    @bp.context_processor
    def _rota_state() -> dict:
        return {"rota_state": lambda: rota_state(get_db(), g.federation.id)}
