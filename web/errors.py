"""Error pages in the app's own layout, and the security headers of every response."""

from __future__ import annotations

from flask import Flask, make_response, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("Bad request", "The request was not understood."),
    403: ("Not allowed", "Your role does not allow this. Ask an admin of your federation."),
    404: ("Not found", "There is no such page here."),
    405: ("Not allowed", "That page does not take this kind of request."),
    413: ("Too large", "The upload is too large."),
    429: ("Too many requests", "Wait a few minutes, then try again."),
    500: ("Something went wrong", "The error has been logged. Please try again."),
}

# Inline SVG and the stylesheet's own rules are allowed; scripts come only from this site.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_security_headers)


def _csrf_error(error: CSRFError):
    return render_template(
        "error.html",
        code=400,
        title="The form has expired",
        message="The page was open too long or was sent twice. Go back, reload it and try again.",
    ), 400


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    title, message = MESSAGES.get(error.code, (error.name, error.description or ""))
    response = make_response(
        render_template("error.html", code=error.code, title=title, message=message), error.code
    )
    for name, value in error.get_headers():  # Retry-After of a 429, Allow of a 405
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
