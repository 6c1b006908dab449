"""The JSON API under /api/v1/: what a manager does in the browser, scriptable.

Built with flask-smorest: its blueprints are Flask blueprints on the app as it is, marshmallow
schemas check the input and shape the output, and the OpenAPI 3.1 document at
/api/v1/openapi.json is generated from them. /api/v1/docs is a readable page of that document,
rendered on the server (no scripts, nothing fetched from elsewhere). Authentication is by
personal access token (web.api.auth); every error is an RFC 9457 problem document
(web.api.problems); rate limits are per token and, for failed authentication, per address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Flask, request
from flask_limiter import Limiter
from flask_smorest import Api as SmorestApi
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from web.api.auth import PREFIX, authenticate
from web.api.docs import EXTENSION
from web.api.problems import MEDIA_TYPE, ProblemSchema, from_http_error

VERSION_PREFIX = "/api/v1"
CONFIG = {
    "API_TITLE": "hubrota",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": VERSION_PREFIX,
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_RATE_LIMIT": "600 per minute",  # requests of one token
    "API_AUTH_FAILURE_LIMIT": "30 per 15 minutes",  # requests with no or a bad token, per address
    "API_SPEC_OPTIONS": {
        "info": {
            "description": "Plan, publish and report a federation's enhanced-access rota. "
            "Authenticate with a personal access token: `Authorization: Bearer <token>`. "
            "Errors are RFC 9457 problem documents (application/problem+json)."
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    },
}


class Api(SmorestApi):
    """flask-smorest's Api with problem documents as the documented error responses, and
    error handling left to init_app (the pages keep their HTML error pages)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        pass

    def _register_responses(self) -> None:
        import http

        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem document", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _token_key() -> str:
    """Rate-limit key of a request: a digest of its bearer header (never the secret)."""
    header = request.headers.get("Authorization", "")
    return "t:" + hashlib.sha256(header.encode("utf-8")).hexdigest()[:32]


def _address_key() -> str:
    return "a:" + (request.remote_addr or "-")


def init_app(app: Flask) -> None:
    """After web.errors: API errors become problem documents, the pages keep theirs."""
    for key, value in CONFIG.items():
        app.config.setdefault(key, value)
    from web.api import docs, resources
    from web.services import tokens

    tokens.init_app(app)
    resources.init_app(app)
    limiter = Limiter(
        _token_key,
        app=app,
        storage_uri=_limits_storage(app),
        headers_enabled=True,
        swallow_errors=True,  # Redis away: the API keeps answering, without limits, and logs it
        enabled=not app.config.get("API_RATE_LIMITS_OFF", False),
    )
    app.before_request(authenticate)  # after the limiter's own check
    api = Api(app)
    # shared: one count per token (and per address) across every resource of the API
    per_token = limiter.shared_limit(app.config["API_RATE_LIMIT"], "api", key_func=_token_key)
    per_address = limiter.shared_limit(
        app.config["API_AUTH_FAILURE_LIMIT"],
        "api-auth",
        key_func=_address_key,
        deduct_when=lambda response: response.status_code == 401,
    )
    for blueprint in resources.blueprints():
        per_token(blueprint)
        per_address(blueprint)
        api.register_blueprint(blueprint)
    app.extensions[EXTENSION] = api
    app.register_blueprint(docs.bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # bearer requests only: the session never authenticates the API
        for name in app.blueprints:
            if name.startswith("api"):
                csrf.exempt(app.blueprints[name])
    _problems_under_api(app)


def _limits_storage(app: Flask) -> str:
    """Counters shared by every process through Redis when the app has it, else in memory."""
    url = app.config.get("REDIS_URL")
    return url if url else "memory://"


def _problems_under_api(app: Flask) -> None:
    """Every app-wide HTTP error handler answers a problem document under /api/ and does what
    it did elsewhere; with none for HTTPException, one is added."""
    handlers = app.error_handler_spec.setdefault(None, {})
    handlers.setdefault(None, {}).setdefault(HTTPException, lambda error: error)
    for by_class in handlers.values():
        for cls, handler in list(by_class.items()):
            by_class[cls] = _api_aware(handler)


def _api_aware(handler: Callable) -> Callable:
    def handle(error):
        if request.path.startswith(PREFIX) and isinstance(error, HTTPException):
            return from_http_error(error)
        return handler(error)

    return handle
