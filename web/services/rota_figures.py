"""What a coordinator asks of a rota, in three figures: required places filled, contract weeks
met, and how fairly the practices share the work."""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.contract import contract_weeks
from scheduler.domain import Problem, Rota
from scheduler.report import fair_shares
from web.services.charts import coverage
from web.services.current_rota import known_rota


@dataclass(frozen=True)
class RotaFigures:
    required_filled: int  # required places with someone in them (each post counted up to min)
    required: int
    weeks_met: int  # network weeks meeting the contract
    weeks: int
    fairness_minutes: int  # the most any practice is over or under its fair share

    def as_dict(self) -> dict:
        return {
            "required": f"{self.required_filled} of {self.required}",
            "contract": f"{self.weeks_met} of {self.weeks}",
            "fairness": self.fairness_text,
        }

    @property
    def fairness_text(self) -> str:
        hours, minutes = divmod(self.fairness_minutes, 60)
        amount = f"{hours} h {minutes:02d}" if minutes else f"{hours} h"
        return f"every practice within {amount} of its fair share"


def rota_figures(problem: Problem, rota: Rota) -> RotaFigures:
    rota = known_rota(problem, rota)
    cells = coverage(problem, rota).values()
    weeks = contract_weeks(problem, rota)
    shares = fair_shares(problem, rota)
    return RotaFigures(
        required_filled=sum(got for got, _ in cells),
        required=sum(need for _, need in cells),
        weeks_met=sum(1 for w in weeks if w.passed),
        weeks=len(weeks),
        fairness_minutes=max((abs(r["difference_minutes"]) for r in shares), default=0),
    )
