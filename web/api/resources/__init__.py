"""The API's resources, one flask-smorest blueprint each, and what they share: pagination by
`limit` and `cursor`, and the current data of the token's federation."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import g
from flask_smorest import Blueprint

from scheduler.domain import Problem
from web.api.problems import Problem as ProblemError
from web.db import get_db
from web.services.problems import current_dataset, loaded

MAX_LIMIT = 500
# Ids in URLs: larger ones than the databases' integers answer 404 at routing (PostgreSQL would
# refuse them as out of range).
ID = "int(min=1, max=2147483647)"


class Instant(ma.fields.DateTime):
    """A moment, stored as naive UTC (web.models.utcnow), given with its offset: RFC 3339."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def blueprint(name: str, path: str, description: str) -> Blueprint:
    return Blueprint(f"api_{name}", __name__, url_prefix=f"/api/v1{path}", description=description)


def init_app(app) -> None:
    from web.api.resources import rota
    from web.services import version_figures

    version_figures.init_app(app)
    rota.init_app(app)


def blueprints() -> list[Blueprint]:
    from web.api.resources import availability, calendar, catalogue, contract, data, rota, runs

    return [module.bp for module in (data, catalogue, availability, runs, rota, contract, calendar)]


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(
        load_default=100,
        validate=ma.validate.Range(1, MAX_LIMIT),
        metadata={"description": f"items per page, 1 to {MAX_LIMIT}"},
    )
    cursor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=400),
        metadata={"description": "`next_cursor` of the page before"},
    )


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """{items: [item], next_cursor: str | null}."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item), required=True),
            "next_cursor": ma.fields.String(
                required=True,
                allow_none=True,
                metadata={"description": "pass as `cursor` for the next page; null: last page"},
            ),
        },
        name=name,
    )


def _encode(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ProblemError(
            422,
            "The cursor is not one this API gave out.",
            errors=[{"field": "cursor", "message": "not a cursor of this list"}],
        ) from None


def paginate(items: Sequence[Any], key: Callable[[Any], Any], args: dict) -> dict:
    """One page of `items` (sorted by `key`, which is a str, an int or a list of those): the
    cursor is the last key of the page before, so pages stay right while items come and go."""
    limit, cursor = args["limit"], args.get("cursor")
    rows = sorted(items, key=key)
    if cursor:
        after = _decode(cursor)
        try:
            rows = [r for r in rows if _comparable(key(r)) > _comparable(after)]
        except TypeError:
            raise ProblemError(
                422,
                "The cursor is not one of this list.",
                errors=[{"field": "cursor", "message": "not a cursor of this list"}],
            ) from None
    chosen = rows[:limit]
    more = len(rows) > limit
    return {"items": chosen, "next_cursor": _encode(key(chosen[-1])) if more else None}


def _comparable(key: Any) -> Any:
    return list(key) if isinstance(key, tuple) else key


def current_problem() -> Problem | None:
    dataset = current_dataset(get_db(), g.federation.id)
    return loaded(dataset).problem if dataset is not None else None


def need_problem() -> Problem:
    problem = current_problem()
    if problem is None:
        raise ProblemError(404, "The federation has no data yet: upload it first.", kind="no-data")
    return problem


def not_found(what: str) -> ProblemError:
    return ProblemError(404, f"There is no {what} here.", kind="not-found")
