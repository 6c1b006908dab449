"""Every route in app.url_map: login required, other federations 404, forms need a CSRF token."""

from __future__ import annotations

import pytest

PUBLIC = {"auth.login", "static"}
# A calendar feed and its "My calendar" page need no login: their token is the key, and without
# a valid one they answer 404 to anyone.
TOKEN_PROTECTED = {"feeds.feed", "feeds.mine"} | {
    f"clinician.{name}"
    for name in (
        "email",
        "ask_leave",
        "withdraw_leave",
        "offer",
        "accept",
        "withdraw_offer",
        "availability",
        "reply",
    )
}  # a clinician's own forms, under the same token

# Sample values for the URL arguments of every route (all of the north federation).
SAMPLE_ARGS = {
    "fed": "north",
    "session_id": "H1-20270301-1830-2000",
    "clinician_id": "C1",
    "code": "P1",
    "name": "clinicians.csv",
    "filename": "app.css",
    "token": "no-such-token-0123456789abcdefghijklmnop",
    "hub_id": "H1",
    "token_id": 1,
    "absence_id": 1,
    "run_id": 1,
    "link_id": 1,
    "number": 1,
}
# The JSON API authenticates by bearer token, never by the session: without one every route
# answers a 401 problem document (tests/web/test_api.py checks each operation), and its own
# documentation is public.
API = "/api/"
API_DOCS = {"api-docs.openapi_json", "api_docs.page"}


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


def _url(rule, seeded) -> str:
    values = {}
    for arg in rule.arguments:
        if arg == "draft_id":
            values[arg] = seeded.north_draft
        elif arg == "user_id":
            values[arg] = seeded.users["coordinator@north"]
        elif arg in ROW_ARGS:
            values[arg] = getattr(seeded, "rows", {}).get(arg, 1)
        else:
            values[arg] = SAMPLE_ARGS[arg]
    return rule.build(values, append_unknown=False)[1]


ROW_ARGS = ("message_id", "request_id", "offer_id")


@pytest.fixture
def seeded(seeded, app):
    """The seed, plus one north row of each kind a URL names by id (an e-mail, an availability
    request, a give-away offer), so their pages are reached too."""
    from datetime import date

    from web.db import new_session
    from web.models import AvailabilityRequest, MailMessage, SwapOffer

    with new_session(app) as db:
        rows = [
            MailMessage(
                federation_id=seeded.north,
                kind="links",
                to_addr="ann@example.test",
                subject="s",
                body_text="t",
                status="held",
            ),
            AvailabilityRequest(
                federation_id=seeded.north,
                first_day=date(2027, 3, 1),
                last_day=date(2027, 3, 14),
                closes_on=date(2027, 2, 20),
            ),
            SwapOffer(
                federation_id=seeded.north,
                version_number=1,
                session_id="H1-20270303-1830-2000",
                post_index=0,
                clinician_id="C1",
            ),
        ]
        db.add_all(rows)
        db.commit()
        seeded.rows = {
            "message_id": rows[0].id,
            "request_id": rows[1].id,
            "offer_id": rows[2].id,
        }
    return seeded


def _methods(rule) -> list[str]:
    return sorted(m for m in rule.methods if m in ("GET", "POST"))


def test_every_route_has_sample_arguments(app, seeded):
    """The route tests know a value for every URL argument, so no route escapes them."""
    for rule in _rules(app):
        assert _url(rule, seeded).startswith("/"), rule.rule


def test_anonymous_requests_go_to_the_login_page(app, seeded, client):
    """Without a login, every route but the login page and static files redirects to login;
    the token-protected feed routes answer 404 to a token that is not valid."""
    checked = 0
    for rule in _rules(app):
        if rule.endpoint in PUBLIC:
            continue
        if rule.endpoint in TOKEN_PROTECTED:
            for method in _methods(rule):  # GET: not found; POST: no CSRF token first
                response = client.http.open(_url(rule, seeded), method=method)
                assert response.status_code == (404 if method == "GET" else 400), rule.rule
            continue
        if rule.rule.startswith(API):
            for method in _methods(rule):
                response = client.http.open(_url(rule, seeded), method=method)
                expected = 200 if rule.endpoint in API_DOCS else 401
                assert response.status_code == expected, (method, rule.rule)
            continue
        for method in _methods(rule):
            response = client.http.open(_url(rule, seeded), method=method)
            assert response.status_code == 302, (method, rule.rule, response.status_code)
            assert response.location.startswith("/login"), (rule.rule, response.location)
            checked += 1
    assert checked >= 30


def test_login_page_and_static_files_are_public(app, seeded, client):
    """The login page and the stylesheet answer without a login."""
    assert client.get("/login").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_another_federations_pages_answer_404(app, seeded, as_role):
    """A south admin asking for any north page, with a valid token, gets 404 as if it did not
    exist."""
    south = as_role("admin", "south")
    checked = 0
    for rule in _rules(app):
        if "fed" not in rule.arguments:
            continue
        for method in _methods(rule):
            url = _url(rule, seeded)
            response = south.get(url) if method == "GET" else south.post(url, {})
            assert response.status_code == 404, (method, rule.rule, response.status_code)
            checked += 1
    assert checked >= 30


def test_own_federation_pages_answer(app, seeded, as_role):
    """The same GET routes answer the north admin (200, or a redirect for the index)."""
    north = as_role("admin")
    for rule in _rules(app):
        if (
            "GET" not in rule.methods
            or rule.endpoint in ("auth.login", "auth.logout")
            or rule.endpoint in TOKEN_PROTECTED
            or rule.rule.startswith(API)
        ):
            continue
        response = north.get(_url(rule, seeded))
        assert response.status_code in (200, 302), (rule.rule, response.status_code)


def test_posts_without_csrf_token_are_refused(app, seeded, as_role):
    """Every POST route answers 400 to a logged-in user whose form lacks the CSRF token."""
    north = as_role("admin")
    checked = 0
    for rule in _rules(app):
        if "POST" not in rule.methods or rule.rule.startswith(API):
            continue
        response = north.http.post(_url(rule, seeded), data={"clinician_id": "C1"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    ("role", "url", "allowed"),
    [
        ("coordinator", "/f/north/settings", False),
        ("manager", "/f/north/settings", True),
        ("manager", "/f/north/users", False),
        ("admin", "/f/north/users", True),
        ("coordinator", "/f/north/data/drafts/{draft}", True),
    ],
)
def test_pages_need_their_role(app, seeded, as_role, role, url, allowed):
    """Settings need a manager, users an admin; a coordinator may preview uploads."""
    response = as_role(role).get(url.format(draft=seeded.north_draft))
    assert response.status_code == (200 if allowed else 403)


def test_coordinator_cannot_optimise(app, seeded, as_role):
    """Optimise is a manager's button: a coordinator's POST is forbidden."""
    assert as_role("coordinator").post("/f/north/runs/optimise").status_code == 403


def test_another_federations_ids_answer_404_under_your_own_federation(app, seeded, as_role):
    """A north admin naming a south draft or south user under /f/north/ still gets 404."""
    north = as_role("admin")
    assert north.get(f"/f/north/data/drafts/{seeded.south_draft}").status_code == 404
    assert north.post(f"/f/north/data/drafts/{seeded.south_draft}/save").status_code == 404
    assert (
        north.post(
            f"/f/north/users/{seeded.users['admin@south']}",
            {"role": "coordinator", "active": "yes"},
        ).status_code
        == 404
    )
