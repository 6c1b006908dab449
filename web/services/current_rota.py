"""The current rota of a federation, and hand edits that the checker vets before they are kept.

An edit (pin, unpin, remove, swap) is tried on the rota in memory; scheduler.checker says which
hard rules it would break, and only an edit that breaks none is written to the database.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduler.checker import Violation, check, violations_after_edit, violations_if_added
from scheduler.domain import Assignment, Pin, Problem, Rota, SolveStatus
from scheduler.explain import Unfilled, explain_unfilled
from scheduler.solver.rerun import Absence, with_absences
from web.models import Absence as AbsenceRow
from web.models import AuditEvent, Dataset, RotaAssignment, RotaEdit
from web.models import Rota as RotaRow
from web.services.labels import people
from web.services.problems import current_dataset, loaded

EXPLAIN_EXTENSION = "hubrota.explanations"


@dataclass(frozen=True)
class State:
    """Everything a rota page shows: the current data and the current rota against it."""

    dataset: Dataset | None
    problem: Problem | None
    warnings: tuple[str, ...]
    row: RotaRow | None
    rota: Rota
    absences: tuple[Absence, ...] = ()  # recorded absences, already applied to `problem`

    @property
    def stale(self) -> bool:
        """The rota was made from older data than the current."""
        return bool(self.row and self.dataset and self.row.dataset_id != self.dataset.id)


def current_rota(db: DbSession, federation_id: int) -> RotaRow | None:
    return db.scalar(
        select(RotaRow)
        .where(RotaRow.federation_id == federation_id)
        .order_by(RotaRow.id.desc())
        .limit(1)
    )


def rota_of(row: RotaRow | None) -> Rota:
    if row is None:
        return ()
    return tuple(
        sorted(
            Assignment(a.session_id, a.post_index, a.clinician_id, a.locked)
            for a in row.assignments
        )
    )


def state(db: DbSession, federation_id: int) -> State:
    dataset = current_dataset(db, federation_id)
    if dataset is None:
        return State(None, None, (), None, ())
    data = loaded(dataset)
    row = current_rota(db, federation_id)
    absences = absences_of(db, federation_id)
    return State(
        dataset, with_absences(data.problem, absences), data.warnings, row, rota_of(row), absences
    )


def known_rota(problem: Problem, rota: Rota) -> Rota:
    """The assignments the data knows (a rota kept from older data may name a few it does not)."""
    return tuple(
        a
        for a in rota
        if a.session_id in problem.sessions_by_id and a.clinician_id in problem.clinicians_by_id
    )


def absences_of(db: DbSession, federation_id: int) -> tuple[Absence, ...]:
    """The federation's recorded absences, oldest first."""
    rows = db.scalars(
        select(AbsenceRow).where(AbsenceRow.federation_id == federation_id).order_by(AbsenceRow.id)
    )
    return tuple(Absence(r.clinician_id, r.first_day, r.last_day) for r in rows)


def effective_problem(db: DbSession, federation_id: int, dataset: Dataset) -> Problem:
    """The dataset's Problem with the federation's recorded absences applied: what every run
    and every page checks against."""
    return with_absences(loaded(dataset).problem, absences_of(db, federation_id))


def solver_status(row: RotaRow | None) -> SolveStatus | None:
    try:
        return SolveStatus(row.status) if row is not None and row.status else None
    except ValueError:
        return None


# ---- what the pages show, cached per rota revision ----------------------------------------


class _Explanations:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[tuple, tuple[list[Unfilled], list[Violation]]] = {}


def init_app(app) -> None:
    app.extensions[EXPLAIN_EXTENSION] = _Explanations()


def findings(st: State, for_export: bool = False) -> tuple[list[Unfilled], list[Violation]]:
    """Unfilled posts with the engine's reasons, and the hard rules the rota breaks.

    Reasons name people by their labels (web.services.labels) on pages, by ID in exports. On a
    stale rota a post someone could fill is put down to the older data it was made from."""
    if st.problem is None:
        return [], []
    key = (
        st.dataset.id if st.dataset else None,
        st.row.id if st.row else None,
        st.row.revision if st.row else None,
        st.absences,
        for_export,
    )
    store: _Explanations = current_app.extensions[EXPLAIN_EXTENSION]
    with store.lock:
        if key in store.items:
            return store.items[key]
    result = (
        explain_unfilled(
            st.problem,
            st.rota,
            solver_status(st.row),
            label=None if for_export else people(st.problem),
            older_data=st.stale,
        ),
        check(st.problem, st.rota),
    )
    with store.lock:
        if len(store.items) > 16:
            store.items.clear()
        store.items[key] = result
    return result


# ---- edits ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditResult:
    ok: bool
    message: str
    violations: tuple[Violation, ...] = ()


def try_pin(
    problem: Problem, rota: Rota, session_id: str, clinician_id: str, post_index: int | None = None
) -> tuple[Assignment | None, list[Violation]]:
    """The locked assignment to add, or the violations of the best post for it.

    With no post given, each post of the session is tried, those accepting the clinician's role
    first; the first one breaking no rule is taken."""
    session = problem.session(session_id)
    indices = [post_index] if post_index is not None else list(range(len(session.posts)))
    clinician = problem.clinician(clinician_id)
    indices.sort(key=lambda i: not session.posts[i].accepts(clinician))
    first: list[Violation] | None = None
    for index in indices:
        found = violations_if_added(problem, rota, session_id, index, clinician_id)
        if not found:
            return Assignment(session_id, index, clinician_id, True), []
        first = first if first is not None else found
    return None, first or []


def swap_violations(problem: Problem, rota: Rota, a: Assignment, b: Assignment) -> list[Violation]:
    added = [
        Assignment(a.session_id, a.post_index, b.clinician_id, a.locked),
        Assignment(b.session_id, b.post_index, a.clinician_id, b.locked),
    ]
    return violations_after_edit(problem, rota, added=added, removed=[a, b])


def remove_violations(problem: Problem, rota: Rota, a: Assignment) -> list[Violation]:
    return violations_after_edit(problem, rota, removed=[a])


def record(db: DbSession, row: RotaRow, user_id: int | None, action: str, detail: str) -> None:
    """A hand edit: the rota's own trail, and a line of the audit log."""
    row.revision += 1
    db.add(RotaEdit(rota_id=row.id, user_id=user_id, action=action, detail=detail))
    db.add(
        AuditEvent(
            federation_id=row.federation_id,
            user_id=user_id,
            action=action,
            detail=f"rota {row.id}: {detail}",
        )
    )


def find(row: RotaRow, session_id: str, clinician_id: str) -> RotaAssignment | None:
    for a in row.assignments:
        if a.session_id == session_id and a.clinician_id == clinician_id:
            return a
    return None


# ---- the optimiser's input ---------------------------------------------------------------


def problem_to_optimise(problem: Problem, rota: Rota) -> Problem:
    """The data plus `rota` as the published one to stay close to; its locked assignments
    become locked pins, and so stay hard: pins the data now forbids (an absence on a pinned day)
    stop the run, which then names them (scheduler.solver.rerun.conflicting_pins)."""
    if not rota:
        return problem
    pins = {(p.session_id, p.clinician_id): p for p in problem.published}
    for a in rota:
        if not _known(problem, a):
            continue
        existing = pins.get((a.session_id, a.clinician_id))
        pins[(a.session_id, a.clinician_id)] = Pin(
            a.session_id, a.clinician_id, a.locked or bool(existing and existing.locked)
        )
    return replace(problem, published=tuple(pins.values()))


def _known(problem: Problem, a: Assignment) -> bool:
    try:
        session = problem.session(a.session_id)
        problem.clinician(a.clinician_id)
    except KeyError:
        return False
    return a.post_index < len(session.posts)


# ---- weeks ------------------------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks_of(problem: Problem) -> list[date]:
    """The Mondays of the weeks that have sessions."""
    return sorted({week_start(s.date) for s in problem.sessions})
