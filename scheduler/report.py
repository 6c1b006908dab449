"""The report of a rota: the network contract week by week, fair shares and clinicians' load."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, time

from scheduler.domain import (
    GP_ROLE,
    Network,
    Problem,
    Rota,
    Session,
    assignment_cost_pence,
    contract_requirements,
    is_preferred_date,
    iso_week,
)

# Network Standard Hours: weekday → (start, end). 18:30–20:00 Monday to Friday, 09:00–17:00 Saturday.
NSH_WINDOW: dict[int, tuple[time, time]] = {
    **{weekday: (time(18, 30), time(20, 0)) for weekday in range(5)},
    5: (time(9, 0), time(17, 0)),
}


@dataclass(frozen=True)
class ContractWeek:
    network: Network
    week: str
    required_minutes: int
    delivered_minutes: int
    nsh_uncovered_minutes: int
    nsh_without_gp_minutes: int
    sessions: int
    gp_share_of_nsh: float  # share of the window's minutes with a GP on duty
    passed: bool

    def as_dict(self) -> dict:
        return {
            "network": self.network,
            "week": self.week,
            "required_minutes": self.required_minutes,
            "delivered_minutes": self.delivered_minutes,
            "nsh_uncovered_minutes": self.nsh_uncovered_minutes,
            "nsh_without_gp_minutes": self.nsh_without_gp_minutes,
            "sessions": self.sessions,
            "gp_share_of_nsh": round(self.gp_share_of_nsh, 4),
            "pass": self.passed,
        }


def _clock(t: time) -> int:
    return t.hour * 60 + t.minute


def _uncovered(window: tuple[int, int], spans: list[tuple[int, int]]) -> int:
    """Minutes of `window` that no span covers."""
    start, end = window
    covered, cursor = 0, start
    for a, b in sorted(spans):
        a, b = max(a, cursor), min(b, end)
        if b > a:
            covered += b - a
            cursor = b
    return (end - start) - covered


def contract_weeks(problem: Problem, rota: Rota) -> list[ContractWeek]:
    """Per network and ISO week: required and delivered minutes, and the Network Standard Hours
    left without anyone, or without a GP, at the network's hubs. Bank holidays have no window."""
    network_of = {h.hub_id: h.network for h in problem.hubs}
    people: dict[str, list[str]] = defaultdict(list)
    for a in rota:
        people[a.session_id].append(a.clinician_id)
    delivered: dict[tuple[Network, str], int] = defaultdict(int)
    sessions_run: dict[tuple[Network, str], int] = defaultdict(int)
    staffed: dict[tuple[Network, date], list[tuple[Session, bool]]] = defaultdict(list)
    for s in problem.sessions:
        names = people.get(s.session_id, [])
        if not names:
            continue
        key = (network_of[s.hub_id], s.week)
        delivered[key] += s.minutes * len(names)
        sessions_run[key] += 1
        has_gp = any(problem.clinician(c).role_key == GP_ROLE for c in names)
        staffed[network_of[s.hub_id], s.date].append((s, has_gp))

    window_minutes: dict[tuple[Network, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for network in problem.networks:
        for day in problem.days():
            if day in problem.bank_holidays or day.weekday() not in NSH_WINDOW:
                continue
            start, end = (_clock(t) for t in NSH_WINDOW[day.weekday()])
            spans = [(_clock(s.start), _clock(s.start) + s.minutes, gp) for s, gp in staffed[network, day]]
            tally = window_minutes[network, iso_week(day)]
            tally[0] += end - start
            tally[1] += _uncovered((start, end), [(a, b) for a, b, _ in spans])
            tally[2] += _uncovered((start, end), [(a, b) for a, b, gp in spans if gp])

    out = []
    for (network, week), required in sorted(contract_requirements(problem).items()):
        total, uncovered, without_gp = window_minutes.get((network, week), [0, 0, 0])
        got = delivered.get((network, week), 0)
        passed = got >= required and uncovered == 0 and (not problem.rules.gp_cover or without_gp == 0)
        out.append(ContractWeek(network, week, required, got, uncovered, without_gp,
                                sessions_run.get((network, week), 0),
                                (total - without_gp) / total if total else 1.0, passed))
    return out


def fair_shares(problem: Problem, rota: Rota) -> list[dict]:
    minutes: dict[str, int] = defaultdict(int)
    for a in rota:
        minutes[problem.clinician(a.clinician_id).practice_code] += problem.session(a.session_id).minutes
    total_minutes = sum(minutes.values())
    total_list = sum(p.list_size for p in problem.practices) or 1
    rows = []
    for p in problem.practices:
        share = p.list_size / total_list
        rows.append({
            "practice_code": p.code,
            "name": p.name,
            "network": p.network,
            "list_size": p.list_size,
            "share_of_list": round(share, 4),
            "minutes": minutes.get(p.code, 0),
            "share_of_minutes": round(minutes.get(p.code, 0) / total_minutes, 4) if total_minutes else 0.0,
            "fair_minutes": round(share * total_minutes),
            "difference_minutes": minutes.get(p.code, 0) - round(share * total_minutes),
        })
    return rows


def clinician_load(problem: Problem, rota: Rota) -> list[dict]:
    by_clinician: dict[str, list[Session]] = defaultdict(list)
    for a in rota:
        by_clinician[a.clinician_id].append(problem.session(a.session_id))
    rows = []
    for c in problem.clinicians:
        sessions = by_clinician.get(c.clinician_id, [])
        worked_days = {s.date for s in sessions}
        preferred = [d for d in problem.days() if is_preferred_date(problem, c.clinician_id, d)]
        rows.append({
            "clinician_id": c.clinician_id,
            "name": c.name,
            "practice_code": c.practice_code,
            "role": c.role,
            "sessions": len(sessions),
            "minutes": sum(s.minutes for s in sessions),
            "saturdays": sum(1 for s in sessions if s.is_saturday),
            "preferred_dates": len(preferred),
            "preferred_dates_worked": sum(1 for d in preferred if d in worked_days),
            "cost_pence": sum(assignment_cost_pence(c, s) for s in sessions),
        })
    return rows
