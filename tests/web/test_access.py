"""Links follow the roles: a page links only to pages its reader's role may open, and forms
post only where that role may act (web.views.access is the one place that knows)."""

from __future__ import annotations

import re

import pytest

from web.views.access import can_open, role_for

HREF = re.compile(r'href="(/f/north/[^"#?]*)')
ACTION = re.compile(r'<form[^>]*method="post"[^>]*action="(/f/north/[^"#?]*)')
START = ("/f/north/", "/f/north/rota/", "/f/north/runs/", "/f/north/data/", "/f/north/publish/")


@pytest.mark.parametrize("role", ["coordinator", "manager", "admin"])
def test_no_page_links_to_a_page_the_role_cannot_open(app, seeded, as_role, role):
    """Crawl from the main pages two links deep: every link answers, none with 403."""
    client = as_role(role)
    seen: dict[str, int] = {}
    frontier = list(START)
    for _ in range(2):
        found = []
        for path in frontier:
            if path in seen:
                continue
            response = client.get(path)
            seen[path] = response.status_code
            assert response.status_code != 403, f"{role} was sent to {path}"
            if response.status_code == 200 and response.mimetype == "text/html":
                page = response.get_data(as_text=True)
                found += [p for p in HREF.findall(page) if not p.endswith("/logout")]
                with app.app_context():
                    for action in ACTION.findall(page):
                        endpoint = _endpoint(app, action)
                        assert can_open(endpoint, role), f"{path} offers {role} a form to {action}"
        frontier = found
    assert len(seen) > 15


def _endpoint(app, path: str) -> str:
    adapter = app.url_map.bind("localhost")
    endpoint, _ = adapter.match(path, method="POST")
    return endpoint


def test_the_roles_come_from_the_views_own_checks(app):
    """role_for reads what role_required put on the view: settings for managers, users for
    admins, the audit log for managers, calendar links for coordinators, the rota for all."""
    with app.app_context():
        assert role_for("admin.settings") == "manager"
        assert role_for("admin.users") == "admin"
        assert role_for("audit.index") == "manager"
        assert role_for("calendar.index") == "coordinator"
        assert role_for("rota.grid") is None
        assert can_open("admin.settings", "manager") and not can_open(
            "admin.settings", "coordinator"
        )
