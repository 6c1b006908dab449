"""`hubrota serve`: the web app behind a production WSGI server; `--demo` loads the sample
federation first.

gunicorn runs it (HUBROTA_WORKERS processes of HUBROTA_THREADS threads each); where gunicorn
cannot run (Windows), waitress does. The app is built once in the starting process, which
checks the settings and migrates the database, then once in each worker. Neither server says
its version in the `Server` header.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

from flask import Flask

from web import create_app
from web.db import engine_of

DEMO_SLUG = "demo"
DEMO_USERS = (
    ("coordinator@demo", "coordinator"),
    ("manager@demo", "manager"),
    ("admin@demo", "admin"),
)
DEMO_TIME_LIMIT = 20
PASSWORD_ENV = "HUBROTA_DEMO_PASSWORD"
WORKERS_ENV, THREADS_ENV = "HUBROTA_WORKERS", "HUBROTA_THREADS"
# An upload is read in well under this; a request still going after it has hung.
REQUEST_TIMEOUT = 120


def serve(demo: bool = False, host: str = "127.0.0.1", port: int = 5000) -> int:
    config: dict[str, Any] = {}
    first_solve: int | None = None
    if demo:
        from web.services.demo import clinician_link, load_demo, open_request, sample_source

        source = sample_source()
        if source is None:
            print("no sample data: expected data/sample/ or data/sample.xlsx", file=sys.stderr)
            return 1
        database = demo_database()
        database.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)  # the demo starts afresh
        password = os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(9)
        config = {
            "DATABASE_URL": f"sqlite:///{database}",
            "DEMO": True,
            "SECRET_KEY": secrets.token_urlsafe(32),  # the same in every worker
            "BASE_URL": f"http://{host}:{port}",
        }
        app = create_app(config)
        first_solve = load_demo(
            app, source, password, DEMO_USERS, time_limit=DEMO_TIME_LIMIT, solve=False
        )
        print(f"hubrota demo on http://{host}:{port}/ with {source}", file=sys.stderr)
        print(
            "logins (password "
            + ("from " + PASSWORD_ENV if os.environ.get(PASSWORD_ENV) else f"{password}")
            + "):",
            file=sys.stderr,
        )
        for email, role in DEMO_USERS:
            print(f"  {email:<18} {role}", file=sys.stderr)
        print(
            f"a first rota is being solved in the background ({DEMO_TIME_LIMIT} s)",
            file=sys.stderr,
        )
        clinician, link = clinician_link(app, f"http://{host}:{port}")
        first, last, closes = open_request(app)
        print(f"{clinician}'s own page (a clinician's private link): {link}", file=sys.stderr)
        print(
            f"an availability request for {first} to {last} is open until {closes}", file=sys.stderr
        )
        if not app.config.get("SMTP_URL"):
            print("mail is kept, not sent (no HUBROTA_SMTP_URL): see Outbox", file=sys.stderr)
    else:
        app = create_app()  # settings checked and the database migrated, once
        print(
            f"hubrota on http://{host}:{port}/ (database: {_shown(app.config['DATABASE_URL'])})",
            file=sys.stderr,
        )
    engine_of(app).dispose()  # the workers open their own connections
    return run_server(config, host, port, first_solve)


def run_server(config: dict[str, Any], host: str, port: int, first_solve: int | None) -> int:
    workers = _whole(WORKERS_ENV, 2)
    threads = _whole(THREADS_ENV, 4)
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # no fork (Windows): one process, its threads
        return _waitress(create_app(config), host, port, workers * threads, first_solve)

    class Server(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "timeout": REQUEST_TIMEOUT,
                "accesslog": "-",
                "errorlog": "-",
                "post_worker_init": _start_demo_solve,
                "logger_class": _masked_logger(),
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            app = create_app(config)
            app.extensions["hubrota.first_solve"] = first_solve
            return app

    Server().run()
    return 0


def _masked_logger() -> type:
    """gunicorn's logger with feed tokens masked in the access log and its own messages, as
    web.services.feed_links masks them in the app's: a token in a log is a leaked password."""
    from gunicorn.glogging import Logger

    from web.services.feed_links import MaskFeedTokens, mask

    class MaskedLogger(Logger):
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            self.error_log.addFilter(MaskFeedTokens())

        def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict:
            found = super().atoms(resp, req, environ, request_time)
            return {k: mask(v) if isinstance(v, str) else v for k, v in found.items()}

    return MaskedLogger


def _start_demo_solve(worker: Any) -> None:
    """The demo's first solve, in the first worker (a worker started later does not repeat
    it: its age is higher)."""
    app = worker.wsgi
    federation_id = app.extensions.get("hubrota.first_solve")
    if federation_id is not None and worker.age == 1:
        from web.services.jobs import start_optimise

        start_optimise(app, federation_id, None, DEMO_TIME_LIMIT)


def _waitress(app: Flask, host: str, port: int, threads: int, first_solve: int | None) -> int:
    from waitress import serve as waitress_serve

    if first_solve is not None:
        from web.services.jobs import start_optimise

        start_optimise(app, first_solve, None, DEMO_TIME_LIMIT)
    waitress_serve(app, host=host, port=port, threads=threads, ident="")
    return 0


def _whole(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        from web.security import ConfigurationError

        raise ConfigurationError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def demo_database() -> Path:
    """The demo's SQLite file: `instance/` of the folder it is started from (or
    HUBROTA_DEMO_INSTANCE); `hubrota create-token --demo` finds it there too."""
    return (
        Path(os.environ.get("HUBROTA_DEMO_INSTANCE", "instance")).resolve() / "hubrota-demo.sqlite"
    )


def _shown(url: str) -> str:
    """The database URL without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return url
