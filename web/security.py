"""Security settings checked at start-up, and what every response carries besides the headers
of web.errors (Content-Security-Policy, nosniff, X-Frame-Options, Referrer-Policy).

- `SECRET_KEY` (HUBROTA_SECRET_KEY) signs sessions and CSRF tokens: outside demo mode (`DEMO`)
  and tests (`TESTING`) `create_app` refuses to start without one, or with one shorter than 32
  characters, so a deployment never signs with a key nobody chose or anyone could guess; demo
  and tests keep a random key in the instance folder.
- Session cookies are HttpOnly and SameSite=Lax, and Secure unless in demo mode or tests (an
  explicit `SESSION_COOKIE_SECURE` wins, for a site that truly has no HTTPS).
- An upload over `MAX_CONTENT_LENGTH` answers 413 with the app's error page naming the limit.
- With Secure cookies the site is HTTPS: responses ask browsers to keep to it (HSTS).
- Logged-in pages and exports, and the login form, carry `Cache-Control: no-store`.
- Behind reverse proxies, `PROXIES` (HUBROTA_PROXIES) says how many to trust for the client's
  address, scheme and host (Werkzeug's ProxyFix).
- Route ids (`<int:...>`) and the ids read from forms stop at what an id column holds (id_of).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

MISSING_SECRET_KEY = (
    "HUBROTA_SECRET_KEY is not set. Set it to a long random value that stays the same across "
    "restarts (it signs logins and form tokens), e.g. the output of "
    "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`. "
    "`hubrota serve --demo` needs none."
)

MIN_SECRET_KEY = 32
SHORT_SECRET_KEY = (
    f"HUBROTA_SECRET_KEY is too short: it needs at least {MIN_SECRET_KEY} characters, e.g. "
    "the output of `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`."
)

EXTRA_HEADERS = {
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"


MAX_ID = 2**31 - 1  # the largest id an Integer column holds on every database


def id_of(text: str | None) -> int | None:
    """The row id written in a URL or form field, or None when it is not one: not plain ASCII
    digits, or past what the column can hold (the database would raise, not find nothing)."""
    if not text or not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if number <= MAX_ID else None


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: only numbers a row id can be (a 30-digit id is "not found", not
    an OverflowError from the database)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class ConfigurationError(RuntimeError):
    """The app must not start with these settings; the message says what to set."""


def configure(app: Flask) -> None:
    """Settle the secret key and cookie flags once the configuration is read; raises
    ConfigurationError when SECRET_KEY is missing outside demo mode and tests."""
    relaxed = bool(app.config.get("TESTING") or app.config.get("DEMO"))
    if not app.config.get("SECRET_KEY"):
        if not relaxed:
            raise ConfigurationError(MISSING_SECRET_KEY)
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = not relaxed
    if not relaxed and len(str(app.config["SECRET_KEY"])) < MIN_SECRET_KEY:
        raise ConfigurationError(SHORT_SECRET_KEY)


def trust_proxies(app: Flask) -> None:
    """Behind PROXIES reverse proxies (HUBROTA_PROXIES), take the client's address, scheme and
    host from the X-Forwarded-* headers they add, trusting exactly that many hops; with none, the
    headers are ignored, so a client cannot forge its address."""
    try:
        hops = int(app.config.get("PROXIES") or 0)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"HUBROTA_PROXIES must be a whole number of proxies, not {app.config['PROXIES']!r}"
        ) from None
    if hops < 0:
        raise ConfigurationError("HUBROTA_PROXIES must be 0 or more")
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )


def init_app(app: Flask) -> None:
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.after_request(_headers)


def _too_large(error: RequestEntityTooLarge):
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    most = f" (at most {limit / (1024 * 1024):g} MB at once)" if limit else ""
    return render_template(
        "error.html",
        code=413,
        title="Too large",
        message=f"The upload is too large{most}. Upload fewer files at "
        "once, or a smaller workbook.",
    ), 413


def _headers(response):
    for name, value in EXTRA_HEADERS.items():
        response.headers.setdefault(name, value)
    # A logged-in page or export (and the login form) is for this user now: no browser or
    # proxy keeps a copy, to show it after logging out or to the next person at the computer.
    if request.endpoint != "static" and (
        g.get("user") is not None or request.endpoint == "auth.login"
    ):
        response.headers.setdefault("Cache-Control", "no-store")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _instance_secret(instance: Path) -> str:
    """A random key made once and kept, so demo logins survive a restart."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()
