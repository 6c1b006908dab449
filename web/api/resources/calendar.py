"""Calendar links: a private subscription link per feed (a clinician's, a hub's, a practice's,
or all hubs), made, rotated (a new secret replaces the old) and revoked, as on the Calendar
links page. The link's secret is in the answer once; only its hash is kept."""

from __future__ import annotations

import marshmallow as ma
from flask import g, url_for
from sqlalchemy import select

from web.api.auth import requires
from web.api.problems import Problem
from web.api.resources import (
    ID,
    Instant,
    PageArgs,
    blueprint,
    current_problem,
    not_found,
    page_schema,
    paginate,
)
from web.db import get_db
from web.models import FeedLink
from web.services import feed_links as feedstore

bp = blueprint("calendar", "/calendar-links", "Private calendar subscription links")


class LinkSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "clinician|hub|practice|all"})
    key = ma.fields.String(required=True)
    active = ma.fields.Boolean(required=True)
    hint = ma.fields.String(required=True, attribute="token_hint")
    generation = ma.fields.Integer(required=True)
    issued_at = Instant(required=True)
    revoked_at = Instant(required=True, allow_none=True)
    last_fetched_at = Instant(required=True, allow_none=True)


class IssuedSchema(LinkSchema):
    url = ma.fields.String(required=True, metadata={"description": "the feed: shown only now"})
    webcal = ma.fields.String(required=True)
    page = ma.fields.String(required=True, metadata={"description": "the My calendar page"})


class CreateSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(feedstore.KINDS))
    key = ma.fields.String(
        load_default="", metadata={"description": "clinician id, hub id or practice code"}
    )


def _known(kind: str, key: str) -> bool:
    problem = current_problem()
    if problem is None:
        return False
    keys = {
        "clinician": {c.clinician_id for c in problem.clinicians},
        "hub": {h.hub_id for h in problem.hubs},
        "practice": {p.code for p in problem.practices},
        "all": {""},
    }
    return key in keys.get(kind, set())


def _link(link_id: int) -> FeedLink:
    link = get_db().get(FeedLink, link_id)
    if link is None or link.federation_id != g.federation.id:
        raise not_found("such link")
    return link


def _issued(link: FeedLink, token: str) -> dict:
    https = url_for("feeds.feed", token=token, _external=True)
    return {
        **{
            name: getattr(link, name)
            for name in (
                "id",
                "kind",
                "key",
                "active",
                "token_hint",
                "generation",
                "issued_at",
                "revoked_at",
                "last_fetched_at",
            )
        },
        "url": https,
        "webcal": "webcal://" + https.split("://", 1)[1],
        "page": url_for("feeds.mine", token=token, _external=True),
    }


@bp.get("/")
@requires("coordinator")
@bp.arguments(PageArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(LinkSchema, "LinkPage"))
def links(**args):
    """The federation's links (active and revoked), without their secrets."""
    rows = get_db().scalars(select(FeedLink).where(FeedLink.federation_id == g.federation.id))
    return paginate(list(rows), lambda link: link.id, args)


@bp.post("/")
@requires("coordinator")
@bp.arguments(CreateSchema)
@bp.response(201, IssuedSchema)
@bp.alt_response(409, description="The feed already has an active link: rotate it instead")
def create(args):
    """A link to a feed that has none."""
    kind, key = args["kind"], args["key"]
    if (kind == "all") != (key == "") or not _known(kind, key):
        raise not_found(f"{kind} feed {key!r} in the current data")
    db = get_db()
    existing = db.scalar(
        select(FeedLink).where(
            FeedLink.federation_id == g.federation.id, FeedLink.kind == kind, FeedLink.key == key
        )
    )
    if existing is not None and existing.active:
        raise Problem(
            409,
            f"This feed already has a link (…{existing.token_hint}): rotate it to replace it.",
            kind="conflict",
        )
    link, token = feedstore.issue(db, g.federation.id, kind, key, g.user.id)
    db.commit()
    return _issued(link, token)


@bp.post(f"/<{ID}:link_id>/rotate")
@requires("coordinator")
@bp.response(200, IssuedSchema)
def rotate(link_id: int):
    """A new secret for the link's feed; the old link stops working."""
    link = _link(link_id)
    db = get_db()
    link, token = feedstore.issue(db, g.federation.id, link.kind, link.key, g.user.id)
    db.commit()
    return _issued(link, token)


@bp.delete(f"/<{ID}:link_id>")
@requires("coordinator")
@bp.response(200, LinkSchema)
def revoke(link_id: int):
    """Revoke the link: its feed answers 'not found' from now on."""
    link = _link(link_id)
    feedstore.revoke(get_db(), link)
    get_db().commit()
    return link
