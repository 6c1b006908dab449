"""The hubrota web app: `create_app` builds a Flask app over the engine in `scheduler/`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,  # HUBROTA_SECRET_KEY; required unless DEMO or TESTING (web.security)
    "DEMO": False,  # `hubrota serve --demo`: a made-up key and cookies over plain HTTP
    "DATABASE_URL": None,  # None: an SQLite file in the instance folder
    "SOLVER_WORKERS": 2,
    "DEFAULT_TIME_LIMIT": 20,  # seconds, for a new federation's "Optimise"
    # Failed logins per (email, address): free ones, then a wait doubling from the first delay
    # up to the longest; failures older than the window are forgotten (web.services.login_throttle)
    "LOGIN_FREE_FAILURES": 3,
    "LOGIN_DELAY_SECONDS": 2,
    "LOGIN_MAX_DELAY_SECONDS": 5 * 60,
    "LOGIN_WINDOW_SECONDS": 60 * 60,
    "PROXIES": 0,  # HUBROTA_PROXIES: reverse proxies in front whose X-Forwarded-* to trust
    "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,  # bytes of one request; larger uploads get 413
    "UPLOAD_MAX_CLINICIANS": 5_000,  # rows of clinicians.csv in one federation
    "UPLOAD_MAX_SESSIONS": 20_000,  # sessions of the rota period (and rows of patterns.csv)
    "UPLOAD_MAX_PRACTICES": 500,
    "UPLOAD_MAX_HUBS": 200,
    "SESSION_IDLE_MINUTES": 60,  # a login ends after this long without a request
    "SESSION_MAX_HOURS": 12,  # and this long after logging in, however busy
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": None,  # None: Secure unless DEMO or TESTING
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "PROBLEM_CACHE_SIZE": 8,
    "PASSWORD_HASH_METHOD": "scrypt",
    "FEED_SECRET": None,  # HUBROTA_FEED_SECRET; None: one made once and kept in the database
    "FEED_MAX_FAILURES_PER_IP": 20,  # unknown or revoked feed tokens within the window
    "FEED_FAILURE_WINDOW_SECONDS": 15 * 60,
    "SMTP_URL": None,  # HUBROTA_SMTP_URL: smtp://user:pass@host:587 (STARTTLS) or smtps://…
    "MAIL_FROM": None,  # HUBROTA_MAIL_FROM; without both, mail is held in the Outbox page
    "BASE_URL": None,  # HUBROTA_BASE_URL: links in mail written outside a request
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Config from DEFAULTS, then `HUBROTA_*` environment variables (and `DATABASE_URL`), then
    `test_config`; the database is migrated to the newest schema before the app is returned."""
    app = Flask(__name__, instance_relative_config=True)
    from web.security import IdConverter

    app.url_map.converters["int"] = IdConverter  # <int:...> ids past the columns are 404
    app.config.from_mapping(DEFAULTS)
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env("HUBROTA")
    if test_config:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    from web import security

    security.configure(app)  # raises ConfigurationError without SECRET_KEY outside demo/tests
    security.trust_proxies(app)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'hubrota.sqlite'}"

    from web import db
    from web.services import current_rota as rotas
    from web.services import jobs, mail, problems, published
    from web.views import auth

    db.init_app(app)
    problems.init_app(app)
    rotas.init_app(app)
    jobs.init_app(app)
    mail.init_app(app)
    auth.init_app(app)  # before CSRF: an anonymous request is sent to log in first

    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)

    from web.views import admin, availability, data, exports, home, insights, rota, runs

    for module in (auth, home, data, availability, rota, exports, insights, runs, admin):
        app.register_blueprint(module.bp)

    from web.views import calendar, contract

    calendar.init_app(app)  # the Calendar links page, and the feeds themselves
    app.register_blueprint(contract.bp)

    from web.views import absence, asking, audit, clinician, leave, outbox, publish, swaps, tokens

    published.init_app(app)  # published versions never change
    audit.init_app(app)  # uploads are logged as they are saved
    for module in (absence, publish, audit, outbox, clinician, leave, swaps, asking, tokens):
        app.register_blueprint(module.bp)

    from web import commands, errors, filters
    from web.services import labels, refusals
    from web.views import access

    errors.init_app(app)
    security.init_app(app)
    filters.init_app(app)
    labels.init_app(app)
    refusals.init_app(app)
    access.init_app(app)
    commands.init_app(app)

    from web import api

    api.init_app(app)  # after web.errors: under /api/ errors are problem documents
    return app
