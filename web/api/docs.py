"""/api/v1/docs: the OpenAPI document as a readable page, rendered on the server from the
same spec as /api/v1/openapi.json (no scripts, nothing fetched from another site)."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template
from markupsafe import Markup, escape

from web.api.problems import DETAILS, TITLES

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")
METHODS = ("get", "post", "put", "patch", "delete")
EXTENSION = "hubrota.api"  # the flask-smorest Api, set by web.api.init_app


@bp.app_template_filter("ticks")
def ticks(text: str | None) -> Markup:
    """`code` in the document's descriptions as <code>, the rest escaped."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text or ""))))


@bp.app_template_filter("typename")
def typename(schema: dict | None) -> str:
    """'string', 'string or null', 'integer (int32)' of a JSON schema."""
    if not schema:
        return ""
    kind = schema.get("type", "")
    text = " or ".join(kind) if isinstance(kind, list) else kind
    return f"{text} ({schema['format']})" if schema.get("format") else text


@bp.get("/docs")
def page():
    spec = current_app.extensions[EXTENSION].spec.to_dict()
    operations = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                op = item[method]
                operations.append(
                    {
                        "id": f"{method}-{path}".replace("/", "-").strip("-"),
                        "method": method.upper(),
                        "path": path,
                        "tag": (op.get("tags") or [""])[0],
                        "op": op,
                        "parameters": item.get("parameters", []) + op.get("parameters", []),
                    }
                )
    tags = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    return render_template(
        "api/docs.html",
        spec=spec,
        operations=operations,
        tags=tags,
        schemas=spec.get("components", {}).get("schemas", {}),
        problems=[(s, TITLES[s], DETAILS.get(s, "")) for s in sorted(TITLES)],
    )
