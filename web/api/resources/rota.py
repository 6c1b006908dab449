"""The rota: the current one and the published versions as JSON (assignments, unfilled posts
with the engine's reasons), the difference between two versions, and publishing."""

from __future__ import annotations

import marshmallow as ma
from flask import Flask, Response, current_app, g, json, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from scheduler.diff import rota_diff
from scheduler.domain import Problem, Rota
from web.api.auth import requires
from web.api.problems import Problem as ProblemError
from web.api.resources import ID, Instant, PageArgs, blueprint, not_found, page_schema, paginate
from web.db import get_db
from web.models import PublishedVersion
from web.models import Rota as RotaRow
from web.services import mail
from web.services.current_rota import current_rota, findings, state
from web.services.problems import loaded
from web.services.published import latest_version, publish, version_rota
from web.services.version_figures import Lru, figures

bp = blueprint("rota", "/rota", "The current rota, published versions, differences, publishing")
BODIES = "hubrota.api.version_bodies"


def init_app(app: Flask) -> None:
    app.extensions[BODIES] = Lru(4)


class AssignmentSchema(ma.Schema):
    session_id = ma.fields.String(required=True)
    post_index = ma.fields.Integer(required=True)
    clinician_id = ma.fields.String(required=True)
    locked = ma.fields.Boolean(required=True)


class UnfilledSchema(ma.Schema):
    session_id = ma.fields.String(required=True)
    hub_id = ma.fields.String(required=True)
    date = ma.fields.Date(required=True)
    start = ma.fields.Time(format="%H:%M", required=True)
    end = ma.fields.Time(format="%H:%M", required=True)
    roles = ma.fields.String(required=True)
    post_index = ma.fields.Integer(required=True)
    missing = ma.fields.Integer(required=True)
    reason = ma.fields.String(required=True)
    blocked_by = ma.fields.Function(
        lambda u: [{"rule": r, "clinicians": list(cs)} for r, cs in u.blocked_by],
        required=True,
        metadata={
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "rule": {"type": "string"},
                    "clinicians": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["rule", "clinicians"],
            },
            "description": "the offered candidates, grouped by the first rule that stops each",
        },
    )


class ViolationSchema(ma.Schema):
    rule = ma.fields.String(required=True)
    clinician_id = ma.fields.String(required=True, allow_none=True)
    session_id = ma.fields.String(required=True, allow_none=True)
    message = ma.fields.String(required=True)


class CurrentRotaSchema(ma.Schema):
    rota_id = ma.fields.Integer(required=True)
    revision = ma.fields.Integer(required=True)
    dataset_version = ma.fields.Integer(required=True, allow_none=True)
    stale = ma.fields.Boolean(
        required=True, metadata={"description": "made from older data than the current"}
    )
    source = ma.fields.String(required=True)
    solver_status = ma.fields.String(required=True)
    created_at = Instant(required=True)
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema), required=True)
    unfilled = ma.fields.List(ma.fields.Nested(UnfilledSchema), required=True)
    violations = ma.fields.List(ma.fields.Nested(ViolationSchema), required=True)


class VersionSummarySchema(ma.Schema):
    number = ma.fields.Integer(required=True)
    published_at = Instant(required=True)
    published_by = ma.fields.String(required=True, allow_none=True)
    note = ma.fields.String(required=True)
    rota_id = ma.fields.Integer(required=True, allow_none=True)
    rota_revision = ma.fields.Integer(required=True)
    dataset_version = ma.fields.Integer(required=True, allow_none=True)


class VersionSchema(VersionSummarySchema):
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema), required=True)
    unfilled = ma.fields.List(ma.fields.Nested(UnfilledSchema), required=True)


class PairSchema(ma.Schema):
    session_id = ma.fields.String(required=True)
    clinician_id = ma.fields.String(required=True)


class MoveSchema(ma.Schema):
    clinician_id = ma.fields.String(required=True)
    from_session = ma.fields.String(required=True)
    to_session = ma.fields.String(required=True)


class ShortPostSchema(ma.Schema):
    session_id = ma.fields.String(required=True)
    post_index = ma.fields.Integer(required=True)
    missing = ma.fields.Integer(required=True)


class DiffSchema(ma.Schema):
    before = ma.fields.Integer(required=True, metadata={"description": "0: nothing published"})
    after = ma.fields.Integer(required=True)
    added = ma.fields.List(ma.fields.Nested(PairSchema), required=True)
    removed = ma.fields.List(ma.fields.Nested(PairSchema), required=True)
    moves = ma.fields.List(ma.fields.Nested(MoveSchema), required=True)
    unfilled_before = ma.fields.List(ma.fields.Nested(ShortPostSchema), required=True)
    unfilled_after = ma.fields.List(ma.fields.Nested(ShortPostSchema), required=True)


class DiffArgs(ma.Schema):
    before = ma.fields.Integer(
        validate=ma.validate.Range(0, 2**31 - 1),
        metadata={"description": "version number; default the one before `after`; 0: none"},
    )
    after = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(1, 2**31 - 1),
        metadata={"description": "version number"},
    )


class PublishSchema(ma.Schema):
    note = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 2000),
        metadata={"description": "why: it goes in the version's record"},
    )
    rota_id = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(1, 2**31 - 1),
        metadata={"description": "default: the current rota"},
    )
    revision = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(0, 2**31 - 1),
        metadata={"description": "the rota's revision you checked; 409 if it was edited since"},
    )


def _summary(v: PublishedVersion) -> dict:
    return {
        "number": v.number,
        "published_at": v.published_at,
        "published_by": v.published_by.email if v.published_by else None,
        "note": v.note,
        "rota_id": v.rota_id,
        "rota_revision": v.rota_revision,
        "dataset_version": v.dataset.version,
    }


def _pairs(rota: Rota) -> list[dict]:
    return [
        {
            "session_id": a.session_id,
            "post_index": a.post_index,
            "clinician_id": a.clinician_id,
            "locked": a.locked,
        }
        for a in rota
    ]


def _version(number: int) -> PublishedVersion:
    v = get_db().scalar(
        select(PublishedVersion).where(
            PublishedVersion.federation_id == g.federation.id, PublishedVersion.number == number
        )
    )
    if v is None:
        raise not_found(f"published version {number}")
    return v


def _problem(v: PublishedVersion | None) -> Problem | None:
    return loaded(v.dataset).problem if v is not None else None


@bp.get("/current")
@bp.response(200, CurrentRotaSchema)
def current():
    """The current rota: assignments, unfilled posts with reasons, hard rules broken."""
    st = state(get_db(), g.federation.id)
    if st.row is None or st.problem is None:
        raise ProblemError(404, "There is no rota yet: optimise first.", kind="no-rota")
    unfilled, violations = findings(st)
    return {
        "rota_id": st.row.id,
        "revision": st.row.revision,
        "dataset_version": st.dataset.version if st.dataset else None,
        "stale": st.stale,
        "source": st.row.source,
        "solver_status": st.row.status,
        "created_at": st.row.created_at,
        "assignments": _pairs(st.rota),
        "unfilled": unfilled,
        "violations": violations,
    }


@bp.get("/versions")
@bp.arguments(PageArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(VersionSummarySchema, "VersionPage"))
def versions(**args):
    """Published versions, newest first."""
    rows = (
        get_db()
        .scalars(select(PublishedVersion).where(PublishedVersion.federation_id == g.federation.id))
        .all()
    )
    page = paginate(rows, lambda v: -v.number, args)
    page["items"] = [_summary(v) for v in page["items"]]
    return page


@bp.get("/versions/latest")
@bp.response(200, VersionSchema)
@bp.alt_response(304, description="Not modified: the `If-None-Match` ETag is this version's")
def latest():
    """The latest published version (what the calendar feeds show)."""
    v = latest_version(get_db(), g.federation.id)
    if v is None:
        raise not_found("published version yet")
    return _conditional(_version_json(v))


@bp.get(f"/versions/<{ID}:number>")
@bp.response(200, VersionSchema)
@bp.alt_response(304, description="Not modified: the `If-None-Match` ETag is this version's")
def version(number: int):
    """One published version: its assignments and unfilled posts with reasons."""
    return _conditional(_version_json(_version(number)))


def _conditional(response: Response) -> Response:
    """A version never changes: its ETag lets a poller ask again for nothing (304)."""
    response.add_etag()
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


def _version_json(v: PublishedVersion) -> Response:
    """The version as JSON, made once per process: a published version never changes (its
    3,000 assignments and their explanations take a moment to gather and serialise)."""

    def make() -> bytes:
        found = figures(v)
        body = {**_summary(v), "assignments": _pairs(found.rota), "unfilled": found.unfilled}
        return json.dumps(VersionSchema().dump(body), separators=(",", ":")).encode()

    cache: Lru = current_app.extensions[BODIES]
    return Response(cache.get(("version", v.id), make), mimetype="application/json")


@bp.get("/diff")
@bp.arguments(DiffArgs, location="query", as_kwargs=True)
@bp.response(200, DiffSchema)
def diff(after: int, before: int | None = None):
    """What changed from version `before` to version `after`."""
    b = _version(after)
    before = after - 1 if before is None else before
    a = _version(before) if before > 0 else None
    problem = _problem(b)
    d = rota_diff(version_rota(a), version_rota(b), problem, _problem(a))
    return {
        "before": before,
        "after": after,
        "added": [{"session_id": s, "clinician_id": c} for s, c in d.added],
        "removed": [{"session_id": s, "clinician_id": c} for s, c in d.removed],
        "moves": d.moves,
        "unfilled_before": d.unfilled_before,
        "unfilled_after": d.unfilled_after,
    }


@bp.post("/versions")
@requires("manager")
@bp.arguments(PublishSchema)
@bp.response(201, VersionSchema)
@bp.alt_response(409, description="The rota was edited since `revision`, or published at once")
def publish_version(args):
    """Publish a rota (the current one unless `rota_id` names another) with a reason."""
    db = get_db()
    note = args["note"].strip()
    if not note:
        raise ProblemError(
            422,
            "Say why you publish: it goes in the version's record.",
            errors=[{"field": "note", "message": "empty"}],
        )
    row = (
        db.get(RotaRow, args["rota_id"])
        if args.get("rota_id") is not None
        else current_rota(db, g.federation.id)
    )
    if row is None or row.federation_id != g.federation.id:
        raise not_found("such rota" if args.get("rota_id") is not None else "rota yet")
    if args.get("revision") is not None and args["revision"] != row.revision:
        raise ProblemError(
            409,
            f"The rota was edited (revision {row.revision}) since revision "
            f"{args['revision']}: check the changes again.",
            kind="conflict",
        )
    try:
        v = publish(db, g.federation.id, g.user.id, row, note[:2000])
        db.commit()
        answer = _version_json(v)
        answer.status_code = 201
    except IntegrityError:
        db.rollback()
        raise ProblemError(
            409, "Someone published at the same moment: check the changes again.", kind="conflict"
        ) from None
    mail.after_publish(g.federation, v)  # as the Publish page: mail never undoes the publish
    return answer
