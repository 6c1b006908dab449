"""Logging in and out, password hashing, rate limiting, the create-user command, users admin."""

from __future__ import annotations

from sqlalchemy import select

from tests.web.conftest import PASSWORD, Client
from web.db import new_session
from web.models import User


def test_login_lands_on_the_federation_overview(app, seeded, client):
    """A good password logs in and redirects to the user's own federation."""
    response = client.login("coordinator@north")
    assert response.status_code == 302
    assert response.location == "/f/north/"
    page = client.get("/f/north/").get_data(as_text=True)
    assert "North Federation" in page and "Overview" in page


def test_login_follows_a_local_next_only(app, seeded, client):
    """`next` may send the user to a path on this site, never to another site."""
    token = client.token()
    ok = client.http.post(
        "/login?next=/f/north/rota/",
        data={"email": "manager@north", "password": PASSWORD, "csrf_token": token},
    )
    assert ok.location == "/f/north/rota/"
    other = Client(app.test_client())
    away = other.http.post(
        "/login?next=//evil.example/x",
        data={"email": "manager@north", "password": PASSWORD, "csrf_token": other.token()},
    )
    assert away.location == "/f/north/"


def test_wrong_password_is_refused(app, seeded, client):
    """A wrong password answers 401 with a message and no session."""
    response = client.login("coordinator@north", "wrong password")
    assert response.status_code == 401
    assert "Email or password is wrong" in response.get_data(as_text=True)
    assert client.get("/f/north/").status_code == 302


def test_passwords_are_stored_hashed(app, seeded):
    """No stored password hash contains the password, and each names its method."""
    with new_session(app) as db:
        hashes = db.scalars(select(User.password_hash)).all()
    assert hashes and all(
        PASSWORD not in h and h.startswith(("pbkdf2:", "scrypt:")) for h in hashes
    )


def test_login_attempts_are_rate_limited(app, seeded, client):
    """After LOGIN_FREE_FAILURES failures the next attempt, even with the right password, waits
    (429 with Retry-After); other users are not held up."""
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        assert client.login("admin@north", "nope nope").status_code == 401
    response = client.login("admin@north")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert Client(app.test_client()).login("manager@north").status_code == 302


def test_logout_ends_the_session(app, seeded, as_role):
    """Logging out sends the user back to the login page and closes the session."""
    c = as_role("manager")
    assert c.post("/logout").location == "/login"
    assert c.get("/f/north/").status_code == 302


def test_inactive_user_cannot_log_in(app, seeded, client):
    """A user an admin switched off cannot log in."""
    with new_session(app) as db:
        user = db.scalar(select(User).where(User.email == "manager@north"))
        user.active = False
        db.commit()
    assert client.login("manager@north").status_code == 401


def test_create_user_command(app, runner):
    """`flask create-user` makes the federation and a user who can then log in."""
    result = runner.invoke(
        args=[
            "create-user",
            "lead@east",
            "--role",
            "manager",
            "--federation",
            "east",
            "--federation-name",
            "East Federation",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "created lead@east (manager) in east" in result.output
    c = Client(app.test_client())
    assert c.login("lead@east").location == "/f/east/"


def test_create_user_command_rejects_a_short_password(app, runner):
    """A password under 10 characters is refused."""
    result = runner.invoke(
        args=["create-user", "x@east", "--role", "admin", "--federation", "east"],
        input="short\nshort\n",
    )
    assert result.exit_code != 0


def test_admin_adds_and_updates_users(app, seeded, as_role):
    """An admin adds a coordinator, who can log in; then makes them a manager."""
    admin = as_role("admin")
    response = admin.post(
        "/f/north/users",
        {"email": "new@north", "name": "New", "role": "coordinator", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert Client(app.test_client()).login("new@north").status_code == 302
    with new_session(app) as db:
        new_id = db.scalar(select(User.id).where(User.email == "new@north"))
    admin.post(f"/f/north/users/{new_id}", {"role": "manager", "active": "yes"})
    with new_session(app) as db:
        assert db.get(User, new_id).role == "manager"


def test_admin_cannot_demote_themselves(app, seeded, as_role):
    """An admin keeps their own admin rights, so a federation never locks itself out."""
    admin = as_role("admin")
    admin.post(
        f"/f/north/users/{seeded.users['admin@north']}", {"role": "coordinator", "active": "yes"}
    )
    with new_session(app) as db:
        assert db.get(User, seeded.users["admin@north"]).role == "admin"


def test_password_reset_ends_other_sessions(app, seeded, as_role):
    """After an admin resets a password, sessions opened with the old one end."""
    manager = as_role("manager")
    as_role("admin").post(
        f"/f/north/users/{seeded.users['manager@north']}",
        {"role": "manager", "active": "yes", "password": "a brand new pass"},
    )
    assert manager.get("/f/north/").status_code == 302


def test_settings_change_the_time_limit(app, seeded, as_role):
    """A manager sets the optimiser's time limit; nonsense is refused."""
    manager = as_role("manager")
    assert (
        manager.post("/f/north/settings", {"name": "North", "time_limit_seconds": "45"}).status_code
        == 302
    )
    assert 'value="45"' in manager.get("/f/north/settings").get_data(as_text=True)
    assert (
        manager.post("/f/north/settings", {"name": "North", "time_limit_seconds": "-3"}).status_code
        == 422
    )
