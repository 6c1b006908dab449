"""The API tokens page and the API's docs page in a real browser (Debian's chromium through
Playwright): a token made, shown once, used, revoked. Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request

import pytest

from tests.web.browsing import served
from tests.web.conftest import PASSWORD, make_app
from tests.web.test_browser import _shot
from web.db import engine_of, new_session
from web.services.accounts import create_user, ensure_federation


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template):
    folder = tmp_path_factory.mktemp("api-browser")
    shutil.copy(sqlite_template, folder / "hubrota.sqlite")
    app = make_app(f"sqlite:///{folder / 'hubrota.sqlite'}", folder)
    with app.app_context(), new_session(app) as db:
        federation = ensure_federation(db, "north", "North Federation")
        for role in ("coordinator", "admin"):
            create_user(
                db, federation=federation, email=f"{role}@north", password=PASSWORD, role=role
            )
        db.commit()
    with served(app) as url:
        yield url
    engine_of(app).dispose()


def _status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request) as response:
            json.loads(response.read())
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_admin_makes_a_token_for_a_coordinator_and_revokes_it(server, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/login")
    page.fill("input[name=email]", "admin@north")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.click("a:has-text('API tokens')")
    page.wait_for_url(f"{server}/f/north/tokens/")
    page.select_option("select[name=owner]", label="coordinator@north (coordinator)")
    page.select_option("select[name=role]", "manager")
    page.fill("input[name=name]", "rota script")
    page.click("button:has-text('Make token')")
    assert "at most its owner" in page.inner_text("main")  # a manager's token for a coordinator
    page.select_option("select[name=role]", "coordinator")
    page.click("button:has-text('Make token')")
    token = page.inner_text("#new-token")
    assert token.startswith("hrt_")
    _shot(page, "api-01-token-made")
    assert _status(f"{server}/api/v1/hubs", token) == 200
    page.goto(f"{server}/f/north/tokens/")
    assert token not in page.content()
    assert f"…{token[-4:]}" in page.inner_text("table")
    page.click("button:has-text('Revoke')")
    assert "revoked" in page.inner_text("main")
    _shot(page, "api-02-token-revoked")
    assert _status(f"{server}/api/v1/hubs", token) == 401
    page.goto(f"{server}/api/v1/docs")
    assert page.inner_text("h1").startswith("hubrota JSON API")
    assert page.locator("section.op").count() >= 25
    _shot(page, "api-03-docs")
    assert errors == []
    context.close()
