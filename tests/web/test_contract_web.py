"""The network contract in the web app: the per-week chart on Insights and the commissioner's
return as a CSV download."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import delete

from scheduler.contract import COMMISSIONER_COLUMNS, ContractWeek
from web.db import new_session
from web.models import Rota, RotaAssignment
from web.views.contract import contract_chart


def week(
    network: str, name: str, required: int, delivered: int, failures: tuple[str, ...] = ()
) -> ContractWeek:
    return ContractWeek(
        network=network,
        week=name,
        required_minutes=required,
        delivered_minutes=delivered,
        nsh_uncovered_minutes=0,
        nsh_without_gp_minutes=0,
        sessions=1,
        gp_share_of_nsh=1.0,
        passed=not failures,
        failures=failures,
    )


def test_chart_draws_each_network_and_marks_failing_weeks():
    """Two networks, three weeks: one panel each, a grey and a blue or red bar per week, the
    failing week shaded, marked ✕ and explained in its tooltip."""
    svg = str(
        contract_chart(
            [
                week("North PCN", "2027-W09", 741, 800),
                week("North PCN", "2027-W10", 741, 600, ("minutes",)),
                week("South PCN", "2027-W09", 500, 520),
            ]
        )
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "North PCN" in svg and "South PCN" in svg
    assert svg.count("✓") == 2 and svg.count("✕") == 2  # the legend's ✕ and the failing week's
    assert "W10" in svg and "W09" in svg
    assert "North PCN, 2027-W10: required 741 min, delivered 600 min; fails: minutes short" in svg
    assert "North PCN, 2027-W09: required 741 min, delivered 800 min; meets the contract" in svg
    assert len(re.findall(r'fill="#d5281b"><title>', svg)) == 1  # one red delivered bar
    assert str(contract_chart([])) == ""


def test_insights_shows_the_contract_chart_and_the_csv_link(app, as_role):
    """Insights draws the chart of the current rota (both tiny weeks fail) and links the CSV."""
    page = as_role("coordinator").get("/f/north/insights/").get_data(as_text=True)
    assert 'id="contract"' in page
    assert "North PCN, 2027-W09: required 1200 min, delivered 600 min; fails:" in page
    assert "North PCN, 2027-W10: required 1200 min, delivered 0 min; fails:" in page
    assert 'href="/f/north/contract/commissioner.csv"' in page


def test_commissioner_csv_has_one_row_per_network_and_week(app, as_role):
    """The download is the engine's commissioner's return of the current rota."""
    response = as_role("coordinator").get("/f/north/contract/commissioner.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert (
        "attachment; filename=commissioner-return-north.csv"
        in response.headers["Content-Disposition"]
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert tuple(rows[0]) == COMMISSIONER_COLUMNS
    assert rows[1:] == [
        ["North PCN", "2027-W09", "1200", "600", "5", "0.2903"],
        ["North PCN", "2027-W10", "1200", "0", "0", "0.0000"],
    ]


def test_commissioner_csv_needs_a_rota(app, as_role, seeded):
    """Without a rota there is no return to download: 404, and Insights offers no link."""
    with new_session(app) as db:
        db.execute(delete(RotaAssignment))
        db.execute(delete(Rota))
        db.commit()
    coordinator = as_role("coordinator")
    assert coordinator.get("/f/north/contract/commissioner.csv").status_code == 404
    assert "commissioner.csv" not in coordinator.get("/f/north/insights/").get_data(as_text=True)
