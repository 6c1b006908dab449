"""What changed between two rotas: added, removed and moved assignments, by clinician and session.

Pure Python over domain types. A change is a (session, clinician) pair in one rota and not the
other — the unit the `stability` goal counts — so a clinician moved to another post of the same
session is no change. A *move* pairs one clinician's lost session with a gained one in the same
ISO week (earliest with earliest), which reads better than a removal and an addition.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from scheduler.checker import describe_session
from scheduler.domain import (
    Assignment,
    ClinicianId,
    Problem,
    SessionId,
    iso_week,
)

Pair = tuple[SessionId, ClinicianId]


@dataclass(frozen=True)
class Move:
    clinician_id: ClinicianId
    from_session: SessionId
    to_session: SessionId


@dataclass(frozen=True)
class ShortPost:
    """A post with fewer people than its `min`."""

    session_id: SessionId
    post_index: int
    missing: int


@dataclass(frozen=True)
class ClinicianChanges:
    gained: tuple[SessionId, ...] = ()  # added, not part of a move
    lost: tuple[SessionId, ...] = ()  # removed, not part of a move
    moved: tuple[Move, ...] = ()


@dataclass(frozen=True)
class SessionChanges:
    gained: tuple[ClinicianId, ...] = ()
    lost: tuple[ClinicianId, ...] = ()


@dataclass(frozen=True)
class RotaDiff:
    """`before` → `after`. Every tuple is sorted by session start, then hub, then clinician."""

    added: tuple[Pair, ...]
    removed: tuple[Pair, ...]
    moves: tuple[Move, ...]
    unfilled_before: tuple[ShortPost, ...]
    unfilled_after: tuple[ShortPost, ...]
    by_clinician: dict[ClinicianId, ClinicianChanges] = field(default_factory=dict)
    by_session: dict[SessionId, SessionChanges] = field(default_factory=dict)

    @property
    def changes(self) -> int:
        """Pairs added plus pairs removed (the stability goal's count, before its weighting)."""
        return len(self.added) + len(self.removed)

    @property
    def changed_places(self) -> int:
        """Places whose occupant changed: per session, max(people lost, people gained). A
        replacement on the same session counts once; a clinician who moves counts at both ends."""
        return sum(max(len(c.lost), len(c.gained)) for c in self.by_session.values())

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed)

    @property
    def counts(self) -> DiffCounts:
        """The figures every page shows, counted as the per-clinician lines are: a move is one
        change, not an addition and a removal."""
        return DiffCounts(
            added=sum(len(c.gained) for c in self.by_clinician.values()),
            removed=sum(len(c.lost) for c in self.by_clinician.values()),
            moved=len(self.moves),
            people=len(self.by_clinician),
            sessions=len(self.by_session),
        )


@dataclass(frozen=True)
class DiffCounts:
    """How much a rota changed, for people: each change once."""

    added: int  # sessions gained, not as part of a move
    removed: int  # sessions lost, not as part of a move
    moved: int  # a session lost and another gained in the same week
    people: int  # clinicians with any change
    sessions: int  # sessions that lost or gained someone

    @property
    def total(self) -> int:
        return self.added + self.removed + self.moved


def rota_diff(
    before: Iterable[Assignment],
    after: Iterable[Assignment],
    problem: Problem,
    problem_before: Problem | None = None,
) -> RotaDiff:
    """The changes from `before` to `after`. `problem` names the sessions (the newer data);
    `problem_before` (default `problem`) is what `before`'s unfilled posts are counted against."""
    before, after = list(before), list(after)
    old = {(a.session_id, a.clinician_id) for a in before}
    new = {(a.session_id, a.clinician_id) for a in after}
    order = _order(problem_before or problem, problem)
    added = sorted(new - old, key=order)
    removed = sorted(old - new, key=order)
    moves = _moves(added, removed, problem_before or problem, problem)
    in_moves = {(m.to_session, m.clinician_id) for m in moves} | {
        (m.from_session, m.clinician_id) for m in moves
    }

    clinicians: dict[ClinicianId, dict[str, list]] = defaultdict(
        lambda: {"gained": [], "lost": [], "moved": []}
    )
    for sid, cid in added:
        if (sid, cid) not in in_moves:
            clinicians[cid]["gained"].append(sid)
    for sid, cid in removed:
        if (sid, cid) not in in_moves:
            clinicians[cid]["lost"].append(sid)
    for m in moves:
        clinicians[m.clinician_id]["moved"].append(m)
    sessions: dict[SessionId, dict[str, list]] = defaultdict(lambda: {"gained": [], "lost": []})
    for sid, cid in added:
        sessions[sid]["gained"].append(cid)
    for sid, cid in removed:
        sessions[sid]["lost"].append(cid)
    session_order = {sid: order((sid, "")) for sid in sessions}
    return RotaDiff(
        added=tuple(added),
        removed=tuple(removed),
        moves=tuple(moves),
        unfilled_before=short_posts(problem_before or problem, before),
        unfilled_after=short_posts(problem, after),
        by_clinician={
            cid: ClinicianChanges(tuple(c["gained"]), tuple(c["lost"]), tuple(c["moved"]))
            for cid, c in sorted(clinicians.items())
        },
        by_session={
            sid: SessionChanges(tuple(sorted(s["gained"])), tuple(sorted(s["lost"])))
            for sid, s in sorted(sessions.items(), key=lambda kv: session_order[kv[0]])
        },
    )


def short_posts(problem: Problem, rota: Iterable[Assignment]) -> tuple[ShortPost, ...]:
    """Posts below their `min`, in session order (assignments to unknown sessions ignored)."""
    filled = Counter((a.session_id, a.post_index) for a in rota)
    return tuple(
        ShortPost(s.session_id, i, post.min - filled[(s.session_id, i)])
        for s in problem.sessions
        for i, post in enumerate(s.posts)
        if filled[(s.session_id, i)] < post.min
    )


def _order(*problems: Problem):
    """Sort key of a pair: session start and hub where a problem knows the session, else last."""

    def key(pair: Pair) -> tuple:
        sid, cid = pair
        for p in problems:
            s = p.sessions_by_id.get(sid)
            if s is not None:
                return (0, s.start_minute, s.hub_id, sid, cid)
        return (1, 0, "", sid, cid)

    return key


def _moves(added: list[Pair], removed: list[Pair], *problems: Problem) -> list[Move]:
    def week(sid: SessionId) -> str | None:
        for p in problems:
            s = p.sessions_by_id.get(sid)
            if s is not None:
                return iso_week(s.date)
        return None

    gained: dict[tuple[ClinicianId, str], list[SessionId]] = defaultdict(list)
    for sid, cid in added:  # already in time order
        w = week(sid)
        if w is not None:
            gained[(cid, w)].append(sid)
    moves = []
    for sid, cid in removed:
        w = week(sid)
        queue = gained.get((cid, w)) if w is not None else None
        if queue:
            moves.append(Move(cid, sid, queue.pop(0)))
    return moves


# ---- output -----------------------------------------------------------------------------

CHANGES_COLUMNS = (
    "session_id",
    "hub_id",
    "date",
    "start",
    "end",
    "change",
    "clinician_id",
    "clinician_name",
    "practice_code",
    "moved_with",
)


def change_rows(diff: RotaDiff, problem: Problem) -> list[tuple[str, ...]]:
    """changes.csv rows: one per session and clinician that changed, `gained` or `lost`;
    `moved_with` names the other end of a move."""
    other: dict[Pair, SessionId] = {}
    for m in diff.moves:
        other[(m.from_session, m.clinician_id)] = m.to_session
        other[(m.to_session, m.clinician_id)] = m.from_session
    rows: list[tuple[str, ...]] = []
    for sid, change in diff.by_session.items():
        s = problem.sessions_by_id.get(sid)
        when = (
            (s.hub_id, s.date.isoformat(), f"{s.start:%H:%M}", f"{s.end:%H:%M}")
            if s
            else ("", "", "", "")
        )
        for kind, people in (("lost", change.lost), ("gained", change.gained)):
            for cid in people:
                c = problem.clinicians_by_id.get(cid)
                rows.append(
                    (
                        sid,
                        *when,
                        kind,
                        cid,
                        c.name if c else "",
                        c.practice_code if c else "",
                        other.get((sid, cid), ""),
                    )
                )
    return rows


def write_changes_csv(diff: RotaDiff, problem: Problem, path: str | Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CHANGES_COLUMNS)
        writer.writerows(change_rows(diff, problem))


def changes_text(diff: RotaDiff, problem: Problem) -> str:
    """The diff as lines for a terminal: sessions that lost or gained someone, then the
    clinicians affected, then unfilled posts before and after."""

    def who(cid: ClinicianId) -> str:
        c = problem.clinicians_by_id.get(cid)
        return f"{cid} {c.name}" if c else cid

    def where(sid: SessionId) -> str:
        s = problem.sessions_by_id.get(sid)
        return describe_session(problem, s) if s else sid

    if diff.empty:
        lines = ["no assignment changed"]
    else:
        lines = [
            f"{len(diff.by_session)} session(s) lost or gained someone "
            f"({len(diff.removed)} removed, {len(diff.added)} added, "
            f"{diff.changed_places} place(s) changed):"
        ]
        for sid, change in diff.by_session.items():
            parts = [f"− {who(c)}" for c in change.lost] + [f"+ {who(c)}" for c in change.gained]
            lines.append(f"  {where(sid)}: {', '.join(parts)}")
        lines.append(f"{len(diff.by_clinician)} clinician(s) affected:")
        for cid, person in diff.by_clinician.items():
            bits = [f"lost {where(s)}" for s in person.lost]
            bits += [f"gained {where(s)}" for s in person.gained]
            bits += [f"moved {where(m.from_session)} → {where(m.to_session)}" for m in person.moved]
            lines.append(f"  {who(cid)}: {'; '.join(bits)}")
    lines.append(
        f"posts short of their min: {len(diff.unfilled_before)} before, "
        f"{len(diff.unfilled_after)} after"
    )
    return "\n".join(lines)
