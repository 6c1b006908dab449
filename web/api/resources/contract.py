"""The network contract per network and ISO week: the figures of report.json's `contract` list
(scheduler.contract), for the current rota or a published version."""

from __future__ import annotations

import re

import marshmallow as ma
from flask import g, jsonify
from sqlalchemy import select

from scheduler.contract import contract_weeks
from web.api.problems import Problem as ProblemError
from web.api.resources import PageArgs, blueprint, not_found, page_schema, paginate
from web.db import get_db
from web.models import PublishedVersion
from web.services.current_rota import known_rota, state
from web.services.version_figures import figures

bp = blueprint("contract", "/contract", "The network contract per network and ISO week")
WEEK = re.compile(r"\d{4}-W\d{2}")


class SpanSchema(ma.Schema):
    date = ma.fields.String(required=True)
    start = ma.fields.String(required=True)
    end = ma.fields.String(required=True)
    minutes = ma.fields.Integer(required=True)


class ContractWeekSchema(ma.Schema):
    """One network's ISO week, as in report.json's `contract` list."""

    network = ma.fields.String(required=True)
    week = ma.fields.String(required=True, metadata={"description": "ISO week, 2027-W09"})
    required_minutes = ma.fields.Integer(required=True)
    delivered_minutes = ma.fields.Integer(required=True)
    nsh_uncovered_minutes = ma.fields.Integer(required=True)
    nsh_without_gp_minutes = ma.fields.Integer(required=True)
    passed = ma.fields.Boolean(required=True, data_key="pass", attribute="pass")
    failures = ma.fields.List(ma.fields.String(), required=True)
    shortfall_minutes = ma.fields.Integer(required=True)
    sessions = ma.fields.Integer(required=True)
    gp_share_of_nsh = ma.fields.Float(required=True)
    nsh_minutes = ma.fields.Integer(required=True)
    delivered_in_nsh_minutes = ma.fields.Integer(required=True)
    days_in_period = ma.fields.Integer(required=True)
    base_minutes = ma.fields.Integer(required=True)
    bank_holiday_minutes = ma.fields.Integer(required=True)
    bank_holiday_relief_minutes = ma.fields.Integer(required=True)
    made_up_minutes = ma.fields.Integer(required=True)
    made_up_from = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(), required=True
    )
    made_up_in = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    make_up_after_period_minutes = ma.fields.Integer(required=True)
    nsh_uncovered = ma.fields.List(ma.fields.Nested(SpanSchema), required=True)
    nsh_without_gp = ma.fields.List(ma.fields.Nested(SpanSchema), required=True)


class ContractArgs(PageArgs):
    network = ma.fields.String(metadata={"description": "one network's weeks"})
    week = ma.fields.String(
        validate=ma.validate.Regexp(WEEK, error="an ISO week such as 2027-W09"),
        metadata={"description": "one ISO week, e.g. 2027-W09"},
    )
    version = ma.fields.Integer(
        validate=ma.validate.Range(1, 2**31 - 1),
        metadata={"description": "a published version's figures; default: the current rota"},
    )


@bp.get("/")
@bp.arguments(ContractArgs, location="query", as_kwargs=True)
@bp.response(200, page_schema(ContractWeekSchema, "ContractPage"))
def weeks(**args):
    """Required against delivered minutes and the NSH checks, per network and ISO week."""
    db = get_db()
    if args.get("version") is not None:
        v = db.scalar(
            select(PublishedVersion).where(
                PublishedVersion.federation_id == g.federation.id,
                PublishedVersion.number == args["version"],
            )
        )
        if v is None:
            raise not_found(f"published version {args['version']}")
        rows = list(figures(v).contract)
    else:
        st = state(db, g.federation.id)
        if st.problem is None or st.row is None:
            raise ProblemError(404, "There is no rota yet: optimise first.", kind="no-rota")
        rows = [w.as_dict() for w in contract_weeks(st.problem, known_rota(st.problem, st.rota))]
    if args.get("network"):
        rows = [r for r in rows if r["network"] == args["network"]]
    if args.get("week"):
        rows = [r for r in rows if r["week"] == args["week"]]
    # the rows are ContractWeek.as_dict() already, in the schema's shape: sent as they are,
    # without a second pass through the schema (the schemathesis test checks the shape)
    return jsonify(paginate(rows, lambda r: (r["network"], r["week"]), args))
