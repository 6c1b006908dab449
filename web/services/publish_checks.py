"""What a manager checks before publishing a rota: the contract's weeks and the readiness of the
next 14 days, worked out by the engine's own reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from scheduler.contract import ContractWeek, Readiness, contract_weeks, readiness
from scheduler.domain import Problem, Rota
from web.services.current_rota import known_rota

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class PublishChecks:
    failing_weeks: tuple[ContractWeek, ...]  # contract weeks the rota does not meet
    weeks: int  # contract weeks checked
    readiness: Readiness  # the 14 days from today, or from the period's start if later

    @property
    def warning(self) -> str:
        """Why to think twice before publishing ('' when both checks pass)."""
        parts = []
        if self.failing_weeks:
            n = len(self.failing_weeks)
            parts.append(f"{n} contract week{'s' if n != 1 else ''} not met")
        if not self.readiness.ready:
            n = len(self.readiness.missing)
            parts.append(f"{n} required post{'s' if n != 1 else ''} empty in the next 14 days")
        return "; ".join(parts)


def publish_checks(problem: Problem, rota: Rota, today: date | None = None) -> PublishChecks:
    rota = known_rota(problem, rota)
    weeks = contract_weeks(problem, rota)
    today = today or datetime.now(LONDON).date()
    start = min(max(today, problem.period_start), problem.period_end)
    return PublishChecks(
        tuple(w for w in weeks if not w.passed), len(weeks), readiness(problem, rota, start)
    )
