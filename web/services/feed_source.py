"""Which rota a federation's calendar feeds show: its latest published version (web.views.publish);
before anything is published, its current rota.

Two functions name the same rota and must change together: `feed_source_key` says cheaply, from
row ids alone, which rota and data that is, so serving a feed is a look-up until it changes;
`rota_for_feeds` loads it for a rebuild. Once a federation publishes, optimiser runs and hand
edits reach calendars only when a manager publishes them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session as DbSession

from scheduler.domain import Problem, Rota
from web.models import Federation
from web.services.current_rota import current_rota, rota_of
from web.services.problems import loaded
from web.services.published import latest_version, version_rota


def feed_source_key(db: DbSession, federation: Federation) -> str | None:
    """Changes whenever the feeds' rota or its data changes (a new version; before the first,
    a new rota or a hand edit); None when there is no rota to show."""
    version = latest_version(db, federation.id)
    if version is not None:
        return f"published version {version.number} dataset {version.dataset_id}"
    row = current_rota(db, federation.id)
    if row is None:
        return None
    return f"rota {row.id} revision {row.revision} dataset {row.dataset_id}"


def rota_for_feeds(db: DbSession, federation: Federation) -> tuple[Problem, Rota] | None:
    """The rota and the Problem of the data it was made from; assignments that data does not
    know (a hand edit made against newer data) are left out rather than failing the feeds."""
    version = latest_version(db, federation.id)
    if version is not None:
        dataset, rota = version.dataset, version_rota(version)
    else:
        row = current_rota(db, federation.id)
        if row is None:
            return None
        dataset, rota = row.dataset, rota_of(row)
    problem = loaded(dataset).problem
    sessions = {s.session_id for s in problem.sessions}
    clinicians = {c.clinician_id for c in problem.clinicians}
    return problem, tuple(
        a for a in rota if a.session_id in sessions and a.clinician_id in clinicians
    )
