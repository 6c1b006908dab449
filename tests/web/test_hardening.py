"""Hardening of the web app: login redirects, server-side sessions, throttles, ids, headers."""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD, Client

# ---- `next` after login ------------------------------------------------------------------

# As they stand in the query string (already percent-encoded where a browser would encode).
FOREIGN_NEXT = (
    "//evil.example/x",
    "%2F%09%2Fevil.example%2Fphish",
    "/%0A/evil.example",
    "/%0D%0ALocation:%20//evil.example",
    "%2F%5Cevil.example",
    "%5C%5Cevil.example",
    "%20//evil.example",
    "/%20/evil.example",
    "https://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "/f/north/%00",
    "f/north/",
)


@pytest.mark.parametrize("target", FOREIGN_NEXT)
def test_login_never_redirects_off_the_site(app, seeded, target):
    """A `next` that a browser would read as another site, or with control characters or
    spaces, sends the user to their home page instead (and never answers 500)."""
    c = Client(app.test_client())
    response = c.http.post(
        f"/login?next={target}",
        data={"email": "manager@north", "password": PASSWORD, "csrf_token": c.token()},
    )
    assert response.status_code == 302
    assert response.location == "/f/north/"


def test_login_keeps_a_local_next_with_its_query(app, seeded):
    c = Client(app.test_client())
    response = c.http.post(
        "/login",
        query_string={"next": "/f/north/rota/?week=2"},
        data={"email": "manager@north", "password": PASSWORD, "csrf_token": c.token()},
    )
    assert response.location == "/f/north/rota/?week=2"
