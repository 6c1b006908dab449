"""The report of a rota: the network contract week by week, readiness, fair shares and load.

The contract's figures live in scheduler.contract; this module gathers them with the fairness
tables into the sections of report.json (`report_sections`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from scheduler.contract import (
    ContractWeek,
    Readiness,
    contract_rules,
    contract_weeks,
    readiness,
)
from scheduler.domain import (
    Problem,
    Rota,
    Session,
    assignment_cost_pence,
    is_preferred_date,
)

__all__ = [
    "ContractWeek",
    "Readiness",
    "clinician_load",
    "contract_weeks",
    "fair_shares",
    "readiness",
    "report_sections",
]


def report_sections(problem: Problem, rota: Rota, readiness_from: date) -> dict:
    """The contract, readiness and fairness sections of report.json."""
    return {
        "contract_rules": contract_rules(problem.rules),
        "contract": [week.as_dict() for week in contract_weeks(problem, rota)],
        "readiness": readiness(problem, rota, readiness_from).as_dict(),
        "fair_share": fair_shares(problem, rota),
        "clinicians": clinician_load(problem, rota),
    }


def fair_shares(problem: Problem, rota: Rota) -> list[dict]:
    """Per practice: its share of the list size against its share of the clinician-minutes
    worked (the `fair_share` goal's terms), and the minutes it is over (+) or under (−)."""
    minutes: dict[str, int] = defaultdict(int)
    sessions: dict[str, int] = defaultdict(int)
    for a in rota:
        code = problem.clinician(a.clinician_id).practice_code
        minutes[code] += problem.session(a.session_id).minutes
        sessions[code] += 1
    total_minutes = sum(minutes.values())
    total_list = sum(p.list_size for p in problem.practices) or 1
    rows = []
    for p in problem.practices:
        share = p.list_size / total_list
        worked = minutes.get(p.code, 0)
        share_of_minutes = worked / total_minutes if total_minutes else 0.0
        rows.append(
            {
                "practice_code": p.code,
                "name": p.name,
                "network": p.network,
                "list_size": p.list_size,
                "share_of_list": round(share, 4),
                "sessions": sessions.get(p.code, 0),
                "minutes": worked,
                "share_of_minutes": round(share_of_minutes, 4),
                "share_difference": round(share_of_minutes - share, 4) if total_minutes else 0.0,
                "fair_minutes": round(share * total_minutes),
                "difference_minutes": worked - round(share * total_minutes),
            }
        )
    return rows


def clinician_load(problem: Problem, rota: Rota) -> list[dict]:
    """Per clinician: sessions, minutes, Saturdays, the busiest ISO week, and preferred dates
    honoured (a preferred date counts when they work a session that day)."""
    by_clinician: dict[str, list[Session]] = defaultdict(list)
    for a in rota:
        by_clinician[a.clinician_id].append(problem.session(a.session_id))
    rows = []
    for c in problem.clinicians:
        sessions = by_clinician.get(c.clinician_id, [])
        worked_days = {s.date for s in sessions}
        per_week = Counter(s.week for s in sessions)
        preferred = [d for d in problem.days() if is_preferred_date(problem, c.clinician_id, d)]
        rows.append(
            {
                "clinician_id": c.clinician_id,
                "name": c.name,
                "practice_code": c.practice_code,
                "role": c.role,
                "sessions": len(sessions),
                "minutes": sum(s.minutes for s in sessions),
                "saturdays": sum(1 for s in sessions if s.is_saturday),
                "busiest_week_sessions": max(per_week.values(), default=0),
                "max_sessions_per_week": c.max_sessions_per_week,
                "preferred_dates": len(preferred),
                "preferred_dates_worked": sum(1 for d in preferred if d in worked_days),
                "cost_pence": sum(assignment_cost_pence(c, s) for s in sessions),
            }
        )
    return rows


# ---- text tables -----------------------------------------------------------------------

FAILURE_LABELS = {"minutes": "minutes", "nsh_uncovered": "NSH gap", "nsh_without_gp": "no GP"}


def report_text(report: dict) -> str:
    """report.json's sections as the tables `hubrota report` prints."""
    lines = _contract_lines(report)
    if "readiness" in report:
        lines += [""] + _readiness_lines(report["readiness"])
    lines += [""] + _fair_share_lines(report["fair_share"])
    lines += [""] + _clinician_lines(report.get("clinicians", []))
    lines += ["", "Goal parts: " + ", ".join(f"{k} {v}" for k, v in report["parts"].items())]
    return "\n".join(lines)


def _contract_lines(report: dict) -> list[str]:
    rules = report.get("contract_rules", {})
    lines = ["Network contract (minutes a week)"]
    if rules:
        policy = rules["bank_holiday_policy"]
        if policy == "make_up":
            policy = f"make up over the next {rules['make_up_weeks']} weeks"
        lines.append(
            f"{rules['minutes_per_1000']:g} minutes per 1,000 adjusted population; NSH "
            f"{rules['nsh_weekday']} weekdays, {rules['nsh_saturday']} Saturdays; "
            f"bank holidays: {policy}"
        )
    rows = report["contract"]
    width = max([len("network")] + [len(r["network"]) for r in rows])
    header = (
        f"{'network':<{width}} {'week':<8} {'required':>8} {'delivered':>9} {'short':>6} "
        f"{'made up':>7} {'sessions':>8} {'NSH gap':>7} {'no GP':>6} {'GP share':>8}  pass"
    )
    lines += ["", header, "-" * len(header)]
    for r in rows:
        verdict = (
            "yes"
            if r["pass"]
            else "NO: " + ", ".join(FAILURE_LABELS.get(f, f) for f in r.get("failures", []))
        )
        lines.append(
            f"{r['network']:<{width}} {r['week']:<8} {r['required_minutes']:>8} "
            f"{r['delivered_minutes']:>9} {r.get('shortfall_minutes', 0):>6} "
            f"{r.get('made_up_minutes', 0):>7} {r.get('sessions', 0):>8} "
            f"{r['nsh_uncovered_minutes']:>7} {r['nsh_without_gp_minutes']:>6} "
            f"{r.get('gp_share_of_nsh', 1.0):>8.1%}  {verdict}"
        )
    gaps = [r for r in rows if r.get("nsh_uncovered") or r.get("nsh_without_gp")]
    if gaps:
        lines += ["", "Gaps in the Network Standard Hours"]
        for r in gaps:
            nobody = {_span_text(s) for s in r.get("nsh_uncovered", [])}
            no_gp = [
                _span_text(s) for s in r.get("nsh_without_gp", []) if _span_text(s) not in nobody
            ]
            parts = ([f"no one {'; '.join(sorted(nobody))}"] if nobody else []) + (
                [f"no GP {'; '.join(no_gp)}"] if no_gp else []
            )
            lines.append(f"  {r['network']} {r['week']}: " + " | ".join(parts))
    holidays = [r for r in rows if r.get("bank_holiday_minutes") or r.get("made_up_minutes")]
    if holidays:
        lines += ["", "Bank holidays"]
        for r in holidays:
            lines.append(f"  {r['network']} {r['week']}: " + _holiday_text(r))
    return lines


def _span_text(span: dict) -> str:
    return f"{span['date']} {span['start']}-{span['end']}"


def _holiday_text(r: dict) -> str:
    said = []
    if r.get("bank_holiday_minutes"):
        said.append(
            f"{r['bank_holiday_minutes']} required minutes not run on the bank holiday, "
            f"{r.get('bank_holiday_relief_minutes', 0)} taken off the week"
        )
    made_up_in = r.get("made_up_in", {})
    if made_up_in:
        said.append("made up " + ", ".join(f"{m} in {w}" for w, m in made_up_in.items()))
    if r.get("make_up_after_period_minutes"):
        said.append(f"{r['make_up_after_period_minutes']} to make up after the period")
    made_up_from = r.get("made_up_from", {})
    if made_up_from:
        said.append("makes up " + ", ".join(f"{m} from {w}" for w, m in made_up_from.items()))
    return "; ".join(said)


def _readiness_lines(r: dict) -> list[str]:
    verdict = (
        "ready: every required place named"
        if r["ready"]
        else f"NOT ready: {r['people_missing']} required place(s) without a name in "
        f"{r['posts_missing']} post(s)"
    )
    lines = [f"Readiness {r['from']} to {r['to']} ({r['sessions']} sessions): {verdict}"]
    if not r.get("inside_period", True):
        lines.append("  (part of these days lies outside the rota's period)")
    for m in r["missing"]:
        lines.append(f"  {m['session_id']:<28} {m['roles']:<16} {m['named']} of {m['min']} named")
    return lines


def _fair_share_lines(rows: list[dict]) -> list[str]:
    header = (
        f"{'practice':<10} {'list share':>10} {'sessions':>8} {'minutes':>8} "
        f"{'minute share':>12} {'vs fair':>8}"
    )
    lines = [
        "Fair share by practice (minutes worked against list size)",
        "",
        header,
        "-" * len(header),
    ]
    for r in rows:
        lines.append(
            f"{r['practice_code']:<10} {r['share_of_list']:>10.1%} {r.get('sessions', 0):>8} "
            f"{r['minutes']:>8} {r['share_of_minutes']:>12.1%} {r['difference_minutes']:>+8}"
        )
    return lines


def _clinician_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    width = max(len("clinician"), *(len(r["clinician_id"]) for r in rows))
    roles = max(len("role"), *(len(r["role"]) for r in rows))
    header = (
        f"{'clinician':<{width}} {'role':<{roles}} {'sessions':>8} {'Saturdays':>9} "
        f"{'busiest week':>12} {'preferred dates worked':>22}"
    )
    lines = ["Clinicians", "", header, "-" * len(header)]
    for r in rows:
        preferred = f"{r['preferred_dates_worked']} of {r['preferred_dates']}"
        lines.append(
            f"{r['clinician_id']:<{width}} {r['role']:<{roles}} {r['sessions']:>8} "
            f"{r['saturdays']:>9} {r.get('busiest_week_sessions', 0):>12} "
            f"{preferred:>22}"
        )
    return lines
