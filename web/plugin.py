"""The web app's `hubrota` subcommands, registered through the `hubrota.commands` entry points
(the engine's command line loads them without importing web/)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


def register_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="the web app (--demo: the sample federation on SQLite)")
    p.add_argument("--demo", action="store_true", help="load the sample and solve a first rota")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    from web.serve import serve

    return _started("serve", lambda: serve(demo=args.demo, host=args.host, port=args.port))


def _started(command: str, run: Callable[[], int]) -> int:
    """Runs a command that builds the app: settings it refuses to start with (web.security,
    e.g. no HUBROTA_SECRET_KEY) are one clear line and exit 1, not a traceback."""
    from web.security import ConfigurationError

    try:
        return run()
    except ConfigurationError as error:
        print(f"hubrota {command}: {error}", file=sys.stderr)
        return 1


def register_create_user(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "create-user",
        add_help=False,
        help="add a web user: EMAIL --role R --federation SLUG (prompts for a password)",
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(run=_create_user)


def _create_user(args: argparse.Namespace) -> int:
    """Runs the app's `create-user` command (the same as `flask --app web create-user`)."""
    import click
    from flask.cli import FlaskGroup

    from web import create_app

    group = FlaskGroup(
        create_app=lambda: create_app(), add_default_commands=False, load_dotenv=False
    )

    def run() -> int:
        group.main(args=["create-user", *args.rest], prog_name="hubrota", standalone_mode=False)
        return 0

    try:
        return _started("create-user", run)
    except click.exceptions.Abort:
        return 1
    except click.ClickException as error:
        error.show()
        return 2


def register_worker(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "worker",
        help="run optimiser jobs from the RQ queue (needs REDIS_URL "
        "and the web app's DATABASE_URL)",
    )
    p.add_argument(
        "--queue", default=None, help="queue name (default: HUBROTA_RQ_QUEUE or hubrota)"
    )
    p.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    p.add_argument("--name", default=None, help="the worker's name (default: RQ's)")
    p.set_defaults(run=_worker)


def _worker(args: argparse.Namespace) -> int:
    from web.worker import run_worker

    return _started(
        "worker", lambda: run_worker(queue=args.queue, burst=args.burst, name=args.name)
    )


def register_remind(sub: argparse._SubParsersAction) -> None:
    sub.add_parser(
        "remind",
        help="e-mail clinicians who have not replied to an availability request closing within "
        "two days (run daily, e.g. from cron; the web app's settings)",
    ).set_defaults(run=_remind)


def _remind(_args: argparse.Namespace) -> int:
    def run() -> int:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        from web import create_app
        from web.services.asking import send_due_reminders

        app = create_app()
        today = datetime.now(ZoneInfo("Europe/London")).date()
        for request_id, written in send_due_reminders(app, today):
            print(f"request {request_id}: {written} reminder(s)", file=sys.stderr)
        return 0

    return _started("remind", run)


def register_create_token(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "create-token",
        help="print a new API token of a user: EMAIL [--expires-days N] [--role ROLE]",
    )
    p.add_argument("email")
    p.add_argument("--expires-days", type=int, default=None, help="1 to 366 (default 90)")
    p.add_argument("--role", default=None, help="at most the user's (default: the user's)")
    p.add_argument("--name", default="", help="what the token is for, to tell tokens apart")
    p.add_argument(
        "--demo", action="store_true", help="the database of `hubrota serve --demo` started here"
    )
    p.set_defaults(run=_create_token)


def _create_token(args: argparse.Namespace) -> int:
    """A token for an existing user, in the database the app uses: DATABASE_URL, else the
    default of `hubrota serve` (or, with --demo, of `serve --demo`) started from this folder.
    The secret goes to standard output alone, so a script can keep it."""
    import os

    from web import create_app
    from web.commands import issue_token

    def run() -> int:
        config: dict = {}
        if args.demo:
            from web.serve import demo_database

            config = {"DATABASE_URL": f"sqlite:///{demo_database()}", "DEMO": True}
        if not os.environ.get("HUBROTA_SECRET_KEY"):
            config["SECRET_KEY"] = "not-used-by-create-token"  # nothing here is signed
        app = create_app(config)
        return issue_token(app, args.email, args.role, args.expires_days, args.name)

    return _started("create-token", run)
