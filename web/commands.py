"""Flask commands: `flask --app web create-user EMAIL --role R --federation SLUG`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from web.db import new_session
from web.models import ROLES, User
from web.services import login_sessions
from web.services.accounts import create_user, ensure_federation, hash_password, password_problem
from web.services.tokens import TokenRefused, create_token


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user_command)


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option(
    "--federation",
    "slug",
    required=True,
    help="the federation's short name in URLs; made if it does not exist",
)
@click.option("--federation-name", default=None, help="its full name, for a new federation")
@click.option("--name", default="", help="the user's name")
@click.password_option(envvar="HUBROTA_NEW_USER_PASSWORD")
@with_appcontext
def create_user_command(
    email: str, role: str, slug: str, federation_name: str | None, name: str, password: str
) -> None:
    """Add a user (or reset an existing one's password and role)."""
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise click.BadParameter(problem, param_hint="password")
    with new_session() as db:
        federation = ensure_federation(db, slug, federation_name)
        user = db.scalar(select(User).where(User.email == email.strip().casefold()))
        if user is not None:
            if user.federation_id != federation.id:
                raise click.ClickException(f"{email} belongs to another federation")
            user.role, user.password_hash, user.active = role, hash_password(password), True
            login_sessions.end_all(db, user.id)
            click.echo(f"updated {user.email} ({role}) in {federation.slug}")
        else:
            user = create_user(
                db, federation=federation, email=email, password=password, role=role, name=name
            )
            click.echo(f"created {user.email} ({role}) in {federation.slug}")
        db.commit()


def issue_token(app: Flask, email: str, role: str | None, days: int | None, name: str = "") -> int:
    """`hubrota create-token`: print a new token of the user with this email; 0, or 2 with a
    message on standard error when the user or the settings are wrong."""
    import sys

    with app.app_context(), new_session(app) as db:
        user = db.scalar(select(User).where(User.email == email.strip().casefold()))
        if user is None or not user.active:
            print(f"hubrota create-token: no active user {email}", file=sys.stderr)
            return 2
        try:
            issued = create_token(db, user, name=name or "command line", role=role, days=days)
        except TokenRefused as refused:
            print(f"hubrota create-token: {refused.field}: {refused.message}", file=sys.stderr)
            return 2
        db.commit()
        print(
            f"token …{issued.token.token_hint} of {user.email} ({issued.token.role}) in "
            f"{user.federation.slug}, expires {issued.token.expires_at:%Y-%m-%d %H:%M} UTC",
            file=sys.stderr,
        )
        print(issued.secret)
    return 0
