"""What a clinician's own page shows besides their calendar: their e-mail choice and their
leave requests, their published sessions to offer, and colleagues' sessions they could take."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session as DbSession

from scheduler.io.feeds import LONDON
from web.models import FeedLink
from web.services import asking, leave, mail, swaps


def panel(db: DbSession, link: FeedLink) -> dict | None:
    """None for a hub, practice or federation link: only a clinician's page has these parts."""
    if link.kind != "clinician":
        return None
    today = datetime.now(LONDON).date()
    return {
        "opt_out": mail.opted_out(db, link.federation_id, link.key),
        "leave": leave.of_clinician(db, link.federation_id, link.key),
        "categories": leave.CATEGORIES,
        "sessions": swaps.upcoming(db, link.federation_id, link.key, datetime.now(LONDON).date()),
        "offers": swaps.offers_for(db, link.federation_id, link.key, today),
        "asked": [
            (row, asking.response_of(db, row, link.key))
            for row in asking.open_for(db, link.federation_id, today)
        ],
    }
