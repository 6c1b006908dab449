"""RFC 9457 problem documents: every 4xx and 5xx answer under /api/ is one of these, never an
HTML page or a traceback."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, json
from werkzeug.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/docs#problem-"  # the docs page says what each kind means

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
}
DETAILS = {
    401: "Send a personal access token as `Authorization: Bearer <token>` (made on the "
    "API tokens page or with `hubrota create-token`); it may have expired or been revoked.",
    403: "The token's role does not allow this.",
    404: "There is no such resource here.",
    405: "This resource does not take this method.",
    413: "The upload is too large.",
    429: "Too many requests: wait a little, then try again.",
    500: "The error has been logged. Please try again.",
}


class ProblemItemSchema(ma.Schema):
    """One problem with the input: a file's row and column, or a field of the request."""

    file = ma.fields.String(metadata={"description": "the file (or workbook[sheet]) at fault"})
    row = ma.fields.Integer(metadata={"description": "its row, 1 = the header (0: whole file)"})
    column = ma.fields.String(metadata={"description": "its column ('' when none)"})
    field = ma.fields.String(metadata={"description": "the request field at fault"})
    message = ma.fields.String(required=True)


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document."""

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.List(ma.fields.Nested(ProblemItemSchema))
    job_id = ma.fields.Integer(metadata={"description": "the run that is already going (409)"})


def problem(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or str(status)),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail or DETAILS.get(status, TITLES.get(status, "Error")),
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class Problem(HTTPException):
    """Raised by a resource to answer with a problem document."""

    def __init__(self, status: int, detail: str, **kwargs: Any):
        super().__init__(detail, response=problem(status, detail, **kwargs))
        self.code = status


def field_errors(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """webargs' nested messages ({"query": {"limit": ["..."]}}) as a flat list of fields."""
    out: list[dict[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if prefix == "" and key in ("json", "query", "form", "files", "headers", "path"):
                name = ""
            out.extend(field_errors(value, name))
    elif isinstance(messages, list | tuple):
        for value in messages:
            if isinstance(value, str):
                out.append({"field": prefix, "message": value})
            else:
                out.extend(field_errors(value, prefix))
    else:
        out.append({"field": prefix, "message": str(messages)})
    return out


def from_http_error(error: HTTPException) -> Response:
    """The problem document of an HTTP error raised anywhere under /api/."""
    if error.response is not None and error.response.mimetype == MEDIA_TYPE:
        return error.response
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = field_errors(data.get("messages") or data.get("errors") or {})
    detail = data.get("message")
    if detail is None:
        if status == 422 and errors:
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        elif status in DETAILS:
            detail = DETAILS[status]
        else:
            detail = error.description or TITLES.get(status, "Error")
    headers = dict(data.get("headers") or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="hubrota"')
    if status == 405 and error.response is None:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    return problem(status, str(detail), errors=errors, headers=headers)
