"""What a clinician's own page shows besides their calendar: their e-mail choice and their
leave requests."""

from __future__ import annotations

from sqlalchemy.orm import Session as DbSession

from web.models import FeedLink
from web.services import leave, mail


def panel(db: DbSession, link: FeedLink) -> dict | None:
    """None for a hub, practice or federation link: only a clinician's page has these parts."""
    if link.kind != "clinician":
        return None
    return {
        "opt_out": mail.opted_out(db, link.federation_id, link.key),
        "leave": leave.of_clinician(db, link.federation_id, link.key),
        "categories": leave.CATEGORIES,
    }
