"""`hubrota serve`: the web app on a local port; `--demo` loads the sample federation first."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from web import create_app

DEMO_SLUG = "demo"
DEMO_USERS = (
    ("coordinator@demo", "coordinator"),
    ("manager@demo", "manager"),
    ("admin@demo", "admin"),
)
DEMO_TIME_LIMIT = 20
PASSWORD_ENV = "HUBROTA_DEMO_PASSWORD"


def serve(demo: bool = False, host: str = "127.0.0.1", port: int = 5000) -> int:
    if not demo:
        app = create_app()
        print(
            f"hubrota on http://{host}:{port}/ (database: {_shown(app.config['DATABASE_URL'])})",
            file=sys.stderr,
        )
        app.run(host=host, port=port, threaded=True)
        return 0
    from web.services.demo import load_demo, sample_source

    source = sample_source()
    if source is None:
        print("no sample data: expected data/sample/ or data/sample.xlsx", file=sys.stderr)
        return 1
    database = demo_database()
    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)  # the demo starts afresh each time
    password = os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(9)
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "DEMO": True,
            "SECRET_KEY": secrets.token_urlsafe(32),
        }
    )
    load_demo(app, source, password, DEMO_USERS, time_limit=DEMO_TIME_LIMIT)
    print(f"hubrota demo on http://{host}:{port}/ with {source}", file=sys.stderr)
    print(
        "logins (password "
        + ("from " + PASSWORD_ENV if os.environ.get(PASSWORD_ENV) else f"{password}")
        + "):",
        file=sys.stderr,
    )
    for email, role in DEMO_USERS:
        print(f"  {email:<18} {role}", file=sys.stderr)
    print(f"a first rota is being solved in the background ({DEMO_TIME_LIMIT} s)", file=sys.stderr)
    app.run(host=host, port=port, threaded=True)
    return 0


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
