"""What an upload would change: people, practices and hubs added, changed or removed, sessions,
and availability cells, found by comparing the parsed Problems before and after."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date

from scheduler.domain import Offer, Problem, Status

LETTER = {Status.AVAILABLE: "A", Status.PREFERRED: "P", Status.UNAVAILABLE: "U"}


@dataclass(frozen=True)
class Change:
    key: str
    name: str
    details: tuple[str, ...] = ()


@dataclass
class Section:
    title: str
    added: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass(frozen=True)
class CellChange:
    clinician_id: str
    name: str
    day: date
    before: str
    after: str


@dataclass
class Preview:
    sections: list[Section]
    sessions_before: int
    sessions_after: int
    sessions_added: int
    sessions_removed: int
    period_before: tuple[date, date] | None
    period_after: tuple[date, date]
    cells: list[CellChange]
    settings: list[str]

    def cells_by_clinician(self) -> list[tuple[str, str, list[CellChange]]]:
        """(clinician_id, name, their changed cells), in the order of the changes."""
        groups: dict[str, list[CellChange]] = {}
        for cell in self.cells:
            groups.setdefault(cell.clinician_id, []).append(cell)
        return [(cid, cells[0].name, cells) for cid, cells in groups.items()]

    @property
    def nothing(self) -> bool:
        return (
            all(s.empty for s in self.sections)
            and not self.cells
            and not self.settings
            and not self.sessions_added
            and not self.sessions_removed
            and self.period_before == self.period_after
        )


def offer_text(offers: tuple[Offer, ...] | None) -> str:
    """'A', 'P', 'U', '' (nothing entered), or 'A 18:00–20:00' for an offer with a window."""
    if not offers:
        return ""
    parts = []
    for o in offers:
        window = f" {o.start:%H:%M}–{o.end:%H:%M}" if o.start and o.end else ""
        parts.append(LETTER[o.status] + window)
    return "; ".join(parts)


def _fields(item: object, skip: tuple[str, ...] = ()) -> dict[str, object]:
    out = {}
    for f in dataclasses.fields(item):  # type: ignore[arg-type]
        if f.name in skip:
            continue
        value = getattr(item, f.name)
        if isinstance(value, frozenset):
            value = ", ".join(sorted(value))
        out[f.name] = value
    return out


def _compare(
    title: str,
    before: dict[str, object],
    after: dict[str, object],
    name_of,
    skip: tuple[str, ...] = (),
) -> Section:
    section = Section(title)
    for key, item in after.items():
        if key not in before:
            section.added.append(Change(key, name_of(item)))
            continue
        old, new = _fields(before[key], skip), _fields(item, skip)
        details = tuple(
            f"{k}: {_shown(old[k])} → {_shown(new[k])}" for k in new if old.get(k) != new[k]
        )
        if details:
            section.changed.append(Change(key, name_of(item), details))
    for key, item in before.items():
        if key not in after:
            section.removed.append(Change(key, name_of(item)))
    return section


def _shown(value: object) -> str:
    if value in (None, ""):
        return "—"
    return str(value)


def compare(before: Problem | None, after: Problem) -> Preview:
    empty: dict[str, object] = {}
    sections = [
        _compare(
            "Clinicians",
            {c.clinician_id: c for c in before.clinicians} if before else empty,
            {c.clinician_id: c for c in after.clinicians},
            lambda c: c.name,
            skip=("clinician_id",),
        ),
        _compare(
            "Practices",
            {p.code: p for p in before.practices} if before else empty,
            {p.code: p for p in after.practices},
            lambda p: p.name,
            skip=("code",),
        ),
        _compare(
            "Hubs",
            {h.hub_id: h for h in before.hubs} if before else empty,
            {h.hub_id: h for h in after.hubs},
            lambda h: h.name,
            skip=("hub_id",),
        ),
    ]
    old_sessions = {s.session_id for s in before.sessions} if before else set()
    new_sessions = {s.session_id for s in after.sessions}
    names = {
        c.clinician_id: c.name for c in (*(before.clinicians if before else ()), *after.clinicians)
    }
    cells = []
    old_cells = before.availability if before else {}
    for key in sorted(set(old_cells) | set(after.availability)):
        was, now = offer_text(old_cells.get(key)), offer_text(after.availability.get(key))
        if was != now:
            cells.append(CellChange(key[0], names.get(key[0], key[0]), key[1], was, now))
    settings = []
    if before is not None:
        for label, old, new in (
            ("rules", before.rules, after.rules),
            ("weights", before.weights, after.weights),
        ):
            for k, v in _fields(new).items():
                if _fields(old)[k] != v:
                    settings.append(f"{label}.{k}: {_shown(_fields(old)[k])} → {_shown(v)}")
    return Preview(
        sections=sections,
        sessions_before=len(old_sessions),
        sessions_after=len(new_sessions),
        sessions_added=len(new_sessions - old_sessions),
        sessions_removed=len(old_sessions - new_sessions),
        period_before=(before.period_start, before.period_end) if before else None,
        period_after=(after.period_start, after.period_end),
        cells=cells,
        settings=settings,
    )
