"""Why posts stay unfilled, in plain English found from the data and the checker's rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, time

from scheduler.checker import (
    RotaView,
    Violation,
    describe_session,
    format_day,
    format_hours,
    format_time,
    hub_name,
    violations_if_added,
)
from scheduler.domain import (
    HARD_RULES,
    Assignment,
    Clinician,
    ClinicianId,
    HubId,
    Post,
    Problem,
    Rota,
    Session,
    SessionId,
    SolveStatus,
    Status,
    offer_for,
)

MAX_NAMES = 4  # clinicians named per group before "and N more"


@dataclass(frozen=True)
class Unfilled:
    """A post with fewer people than its `min`, and why."""

    session_id: SessionId
    hub_id: HubId
    date: date
    start: time
    end: time
    roles: str  # as written in the post's row
    post_index: int
    missing: int  # min − filled
    reason: str
    # the offered candidates grouped by the first rule that stops each, in HARD_RULES order
    blocked_by: tuple[tuple[str, tuple[ClinicianId, ...]], ...] = ()


def explain_unfilled(
    problem: Problem,
    rota: Rota | RotaView | Iterable[Assignment],
    status: SolveStatus | None = None,
    label: Callable[[ClinicianId], str] | None = None,
    older_data: bool = False,
) -> list[Unfilled]:
    """Every post below its `min`, in session order, with the most specific reason.

    `status` is the solve's: FEASIBLE or UNKNOWN mean its time ran out, which is said when
    someone could still fill a post. `older_data` says the rota was made from other data than
    `problem` (saved since), which is then the reason a free candidate was not taken. `label`
    names a clinician (default: the ID, as exports show).
    """
    label = label or _same
    view = rota if isinstance(rota, RotaView) else RotaView.of(problem, rota)
    out: list[Unfilled] = []
    for session in problem.sessions:
        for index, post in enumerate(session.posts):
            missing = post.min - view.filled(session.session_id, index)
            if missing <= 0:
                continue
            reason, blocked_by = _reason(problem, view, session, index, status, label, older_data)
            out.append(
                Unfilled(
                    session.session_id,
                    session.hub_id,
                    session.date,
                    session.start,
                    session.end,
                    post.roles_text,
                    index,
                    missing,
                    reason,
                    blocked_by,
                )
            )
    return out


def _same(clinician_id: ClinicianId) -> str:
    return clinician_id


def _reason(
    problem: Problem,
    view: RotaView,
    session: Session,
    index: int,
    status: SolveStatus | None,
    label: Callable[[ClinicianId], str],
    older_data: bool,
) -> tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    post = session.posts[index]
    who = wanted(post)
    qualified = [c for c in problem.clinicians if post.accepts(c)]
    if not qualified:
        return f"no clinician in the network is {with_article(who)}", ()
    offered = [c for c in qualified if offer_for(problem, c, session) is not Status.UNAVAILABLE]
    if not offered:
        return f"no {who} offered {format_day(session.date)}", ()
    rooms = problem.hub(session.hub_id).rooms
    if rooms is not None and _most_at_once(view, session) >= rooms:
        in_use = f"all {rooms} rooms in use" if rooms > 1 else "its one room is in use"
        return f"hub full: {in_use} (rooms)", ()

    free: list[ClinicianId] = []
    groups: dict[str, list[tuple[Clinician, Violation]]] = {}
    for c in offered:
        found = violations_if_added(problem, view, session.session_id, index, c.clinician_id)
        if not found:
            free.append(c.clinician_id)
            continue
        first = min(found, key=lambda v: _rule_order(v.rule))
        groups.setdefault(first.rule, []).append((c, first))
    ordered = sorted(groups.items(), key=lambda item: _rule_order(item[0]))
    blocked_by = tuple(
        (rule, tuple(c.clinician_id for c, _ in members)) for rule, members in ordered
    )
    if free:
        return _could_fill(problem, [label(c) for c in free], status, older_data), blocked_by
    count = f"{len(offered)} {plural(who) if len(offered) > 1 else who} offered"
    if len(ordered) == 1 and len(offered) > 1:
        rule, members = ordered[0]
        if rule == "allowed_hubs":
            return (
                f"{count} but may not work at {hub_name(problem, session.hub_id)} (allowed_hubs)"
            ), blocked_by
        phrase = _phrase(problem, session, rule, members[0][1])
        details = [
            f"{label(c.clinician_id)} {d}"
            for c, v in members
            if (d := _detail(problem, session, v))
        ]
        if details:
            return f"{count}; all {phrase} ({rule}): {', '.join(details)}", blocked_by
        return f"{count}; all {phrase} ({rule})", blocked_by
    return f"{count}: " + "; ".join(
        _group_text(problem, session, rule, members, label) for rule, members in ordered
    ), blocked_by


def _could_fill(
    problem: Problem, free: list[str], status: SolveStatus | None, older_data: bool
) -> str:
    names = _names(free, "or")
    if older_data:
        return f"{names} could fill it (the rota was made from older data: optimise again)"
    if status in (SolveStatus.FEASIBLE, SolveStatus.UNKNOWN):
        return f"{names} could fill it (the solver's time ran out first)"
    if problem.weights.unfilled_min == 0:
        return f"{names} could fill it (filling min posts is switched off: its weight is 0)"
    return f"{names} could fill it: adding them breaks no hard rule"


def _most_at_once(view: RotaView, session: Session) -> int:
    """The most people at the session's hub at any instant while the session runs."""
    at_hub = view.by_hub.get(session.hub_id, [])
    instants = {session.start_minute} | {
        e.session.start_minute
        for e in at_hub
        if session.start_minute < e.session.start_minute < session.end_minute
    }
    return max(
        sum(1 for e in at_hub if e.session.start_minute <= t < e.session.end_minute)
        for t in instants
    )


def _rule_order(rule: str) -> int:
    return HARD_RULES.index(rule) if rule in HARD_RULES else -1  # unknown references first


def _group_text(
    problem: Problem,
    session: Session,
    rule: str,
    members: list[tuple[Clinician, Violation]],
    label: Callable[[ClinicianId], str],
) -> str:
    """'C1042 would have under 11 h rest after Fri 5 Mar … (min_rest)';
    'C1090 and C1091 already at their weekly cap (weekly_cap)'."""
    phrase = _phrase(problem, session, rule, members[0][1])
    details = [_detail(problem, session, v) for _, v in members]
    if len(members) == 1:
        c, _ = members[0]
        return " ".join(filter(None, (label(c.clinician_id), phrase, details[0], f"({rule})")))
    names = _names(
        [
            f"{label(c.clinician_id)} ({d})" if d else label(c.clinician_id)
            for (c, _), d in zip(members, details, strict=True)
        ]
    )
    return f"{names} {phrase} ({rule})"


def _phrase(problem: Problem, session: Session, rule: str, example: Violation) -> str:
    """What stops a candidate, worded to fit after one name or several."""
    rules = problem.rules
    phrases = {
        "allowed_hubs": f"may not work at {hub_name(problem, session.hub_id)}",
        "overlap": "already booked then",
        "min_rest": f"would have under {format_hours(rules.min_rest_minutes)} rest",
        "max_consecutive_days": f"would work over {rules.max_consecutive_days} days in a row",
        "weekly_cap": "already at their weekly cap",
        "period_cap": "already at their cap for the period",
        "max_weekly_hours": (
            f"would go over {format_hours(rules.max_weekly_minutes)} that week "
            f"(counting work elsewhere)"
        ),
        "rooms": "would overfill the hub's rooms",
        "post_capacity": "cannot join: the post is full",
    }
    return phrases.get(rule, f"cannot: {example.message}")


def _detail(problem: Problem, session: Session, v: Violation) -> str:
    """The other session involved, for rules between two sessions ('' when there is none)."""
    if v.rule not in ("overlap", "min_rest"):
        return ""
    ids = [
        sid for sid in (v.session_id, *v.related) if sid is not None and sid != session.session_id
    ]
    if not ids:
        return "on this session" if v.rule == "overlap" else ""
    other = problem.session(ids[0])
    if v.rule == "overlap":
        return (
            f"at {hub_name(problem, other.hub_id)} "
            f"{format_time(other.start)}–{format_time(other.end)}"
        )
    side = "after" if other.start_minute < session.start_minute else "before"
    return f"{side} {describe_session(problem, other)}"


# ---- words ------------------------------------------------------------------------------------


def roles_named(post: Post) -> list[str]:
    return [r.strip() for r in post.roles_text.split(";") if r.strip()] or [post.roles_text]


def wanted(post: Post) -> str:
    """'GP or ANP', 'Practice Nurse with skill cytology'."""
    skill = f" with skill {post.skill}" if post.skill else ""
    return " or ".join(roles_named(post)) + skill


def plural(who: str) -> str:
    """'GP or ANP with skill x' → 'GPs or ANPs with skill x'."""
    roles, sep, skill = who.partition(" with skill ")
    return " or ".join(_plural_word(r) for r in roles.split(" or ")) + sep + skill


def _plural_word(role: str) -> str:
    if role.endswith(("s", "x", "ch", "sh")):
        return role + "es"
    if role.endswith("y") and role[-2:-1].lower() not in "aeiou":
        return role[:-1] + "ies"
    return role + "s"


def with_article(phrase: str) -> str:
    """'a GP', 'an ANP', 'an HCA', 'a Practice Nurse'."""
    word = phrase.split(" ", 1)[0]
    if word.isupper() and len(word) > 1:  # an acronym: said letter by letter
        vowel_sound = word[0] in "AEFHILMNORSX"
    else:
        vowel_sound = word[:1].lower() in "aeiou"
    return f"{'an' if vowel_sound else 'a'} {phrase}"


def _names(ids: list[str], conjunction: str = "and") -> str:
    shown = list(ids[:MAX_NAMES])
    if len(ids) > MAX_NAMES:
        shown.append(f"{len(ids) - MAX_NAMES} more")
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} {conjunction} {shown[-1]}"
