"""The JSON API (web.api): tokens, roles, federation scoping, problem documents, and the
resources doing what the pages do — on SQLite and on PostgreSQL."""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from tests.web.conftest import TINY, Client
from web.db import new_session
from web.models import ApiToken, Dataset, Job, PublishedVersion, User, utcnow
from web.services import jobs
from web.services.tokens import create_token

PROBLEM = "application/problem+json"


def token_of(app, email: str, role: str | None = None, days: int = 30) -> str:
    with app.app_context(), new_session(app) as db:
        user = db.scalar(select(User).where(User.email == email))
        issued = create_token(db, user, name="test", role=role, days=days)
        db.commit()
        return issued.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api(app, seeded):
    """api('manager') → (get, post, …) of a test client sending manager@north's token."""

    class Api:
        def __init__(self, secret: str):
            self.http, self.headers = app.test_client(), bearer(secret)

        def __getattr__(self, method):
            call = getattr(self.http, method)
            return lambda url, **kw: call(
                url, headers={**self.headers, **kw.pop("headers", {})}, **kw
            )

    return lambda role="manager", fed="north": Api(token_of(app, f"{role}@{fed}"))


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


def operations(app) -> list[tuple[str, str]]:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    out = []
    for path, item in spec["paths"].items():
        for method in ("get", "post", "put", "delete"):
            if method in item:
                url = re.sub(r"\{[^}]+\}", "1", path)
                out.append((method, url))
    return out


def test_the_document_is_openapi_3_1_and_the_docs_page_needs_nothing_else(app):
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    validate(spec)  # against the OpenAPI 3.1 schema; raises naming what is wrong
    assert "/api/v1/runs/" in spec["paths"] and "/api/v1/contract/" in spec["paths"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script" not in html and "https://cdn" not in html
    assert "/api/v1/rota/versions" in html and 'id="problem-401"' in html


def test_no_endpoint_answers_without_a_valid_token(app, seeded):
    """Every operation of the document: 401 problem documents without a token, with a
    malformed one, and with a made-up one."""
    client = app.test_client()
    ops = operations(app)
    assert len(ops) >= 25
    for headers in ({}, {"Authorization": "Basic abc"}, bearer("hrt_" + "x" * 43)):
        for method, url in ops:
            response = getattr(client, method)(url, headers=headers)
            body = assert_problem(response, 401)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert "token" in body["detail"]


def test_a_session_cookie_does_not_authenticate_the_api(as_role):
    manager = as_role("manager")
    assert_problem(manager.get("/api/v1/clinicians"), 401)
    assert_problem(manager.http.post("/api/v1/runs/", json={}), 401)


def test_expired_and_revoked_tokens_get_401(app, seeded):
    secret = token_of(app, "manager@north")
    client = app.test_client()
    assert client.get("/api/v1/clinicians", headers=bearer(secret)).status_code == 200
    with new_session(app) as db:
        token = db.scalar(select(ApiToken))
        token.expires_at = utcnow() - timedelta(seconds=1)
        db.commit()
    assert_problem(client.get("/api/v1/clinicians", headers=bearer(secret)), 401)
    other = token_of(app, "manager@north")
    manager = Client(app.test_client())
    manager.login("manager@north")
    page = manager.get("/f/north/tokens/").get_data(as_text=True)
    hint = other[-4:]
    assert f"…{hint}" in page and other not in page  # listed by its hint, never in full
    with new_session(app) as db:
        token_id = db.scalar(select(ApiToken.id).where(ApiToken.token_hint == hint))
    assert manager.post(f"/f/north/tokens/{token_id}/revoke").status_code == 302
    assert_problem(client.get("/api/v1/clinicians", headers=bearer(other)), 401)


def test_the_tokens_page_shows_a_new_token_once_with_a_role_no_higher(app, seeded):
    coordinator = Client(app.test_client())
    coordinator.login("coordinator@north")
    refused = coordinator.post("/f/north/tokens/", {"name": "x", "role": "manager"})
    assert refused.status_code == 422
    assert "at most its owner's (coordinator)" in html.unescape(refused.get_data(as_text=True))
    made = coordinator.post("/f/north/tokens/", {"name": "weekly", "expires_days": "7"})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-token">(hrt_[^<]+)<', made.get_data(as_text=True)).group(1)
    assert secret not in coordinator.get("/f/north/tokens/").get_data(as_text=True)
    with new_session(app) as db:
        token = db.scalar(select(ApiToken))
        assert token.role == "coordinator" and secret not in token.token_hash
        assert timedelta(days=6) < token.expires_at - utcnow() <= timedelta(days=7)
    response = app.test_client().get("/api/v1/clinicians", headers=bearer(secret))
    assert response.status_code == 200


def test_a_coordinator_token_cannot_run_publish_or_cancel(api, seeded):
    coordinator = api("coordinator")
    assert_problem(coordinator.post("/api/v1/runs/", json={}), 403)
    assert_problem(coordinator.post("/api/v1/rota/versions", json={"note": "x"}), 403)
    assert_problem(coordinator.post("/api/v1/runs/1/cancel"), 403)
    assert coordinator.get("/api/v1/rota/current").status_code == 200  # reading is allowed


def test_a_manager_token_of_an_admin_is_a_manager(app, seeded):
    secret = token_of(app, "admin@north", role="coordinator")
    response = app.test_client().post("/api/v1/runs/", json={}, headers=bearer(secret))
    assert_problem(response, 403)


def test_another_federations_objects_answer_404(app, api, seeded):
    with new_session(app) as db:
        south_job = Job(federation_id=seeded.south, status="done", time_limit_seconds=3)
        db.add(south_job)
        db.commit()
        job_id = south_job.id
    north = api("admin")
    assert_problem(north.get(f"/api/v1/runs/{job_id}"), 404)
    assert_problem(north.post(f"/api/v1/runs/{job_id}/cancel"), 404)
    assert_problem(north.get(f"/api/v1/data/drafts/{seeded.south_draft}"), 404)
    assert_problem(north.post(f"/api/v1/data/drafts/{seeded.south_draft}/save"), 404)
    assert_problem(north.delete(f"/api/v1/data/drafts/{seeded.south_draft}"), 404)
    assert north.get(f"/api/v1/data/drafts/{seeded.north_draft}").status_code == 200


def test_a_tokens_secret_never_appears_in_logs(app, seeded, caplog):
    caplog.set_level(logging.DEBUG)
    secret = token_of(app, "manager@north")
    client = app.test_client()
    client.get("/api/v1/clinicians", headers=bearer(secret))
    client.get(f"/api/v1/clinicians?q={secret}", headers=bearer(secret))
    client.get("/api/v1/nothing", headers=bearer(secret))
    client.get("/api/v1/clinicians", headers=bearer(secret[:-2] + "zz"))
    app.logger.warning("a request with %s", secret)  # masked even where code logs it
    logging.getLogger("werkzeug").info('"GET /api/v1/x?t=%s HTTP/1.1" 200 -', secret)
    assert caplog.records
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in text and secret[4:20] not in text


def test_errors_are_problem_documents_with_field_problems(api, seeded):
    manager = api("manager")
    body = assert_problem(manager.get("/api/v1/clinicians?limit=0"), 422)
    assert body["errors"][0]["field"] == "limit"
    body = assert_problem(manager.post("/api/v1/runs/", json={"time_limit": "soon"}), 422)
    assert body["errors"][0]["field"] == "time_limit"
    assert_problem(manager.get("/api/v1/clinicians?cursor=%%%"), 422)
    assert_problem(manager.patch("/api/v1/clinicians"), 405)
    assert_problem(manager.get("/api/v1/no/such/thing"), 404)
    body = assert_problem(manager.post("/api/v1/rota/versions", json={"note": "  "}), 422)
    assert body["errors"][0]["field"] == "note"


def test_lists_page_with_limit_and_cursor(api, seeded):
    manager = api("manager")
    seen, cursor = [], None
    while True:
        url = "/api/v1/clinicians?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = manager.get(url).get_json()
        seen += [c["clinician_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    every = manager.get("/api/v1/clinicians?limit=500").get_json()["items"]
    assert seen == [c["clinician_id"] for c in every] and len(seen) > 2
    gps = manager.get("/api/v1/clinicians?role=gp").get_json()["items"]
    assert gps and all(c["role"].casefold() == "gp" for c in gps)
    day = manager.get("/api/v1/sessions?date=2027-03-06").get_json()["items"]
    assert day and all(s["date"] == "2027-03-06" for s in day)


def test_upload_errors_name_file_row_and_column_and_save_nothing(app, api, seeded):
    manager = api("manager")
    bad = (TINY / "clinicians.csv").read_text().replace("C2,", "C2x,", 1) + "C9,Dr Nine,NOPE,GP\n"
    response = manager.post(
        "/api/v1/data/uploads",
        data={"files": [(__import__("io").BytesIO(bad.encode()), "clinicians.csv")]},
        content_type="multipart/form-data",
    )
    body = assert_problem(response, 422)
    assert body["errors"] and {"file", "row", "column", "message"} <= body["errors"][0].keys()
    assert body["errors"][0]["file"] == "clinicians.csv" and body["errors"][0]["row"] > 1
    with new_session(app) as db:
        assert db.scalar(select(func.count(Dataset.id))) == 4  # the seeded ones only


def test_upload_preview_save_run_publish_and_contract(app, api, seeded):
    """The manager's week in API calls: the same upload, preview, run and publish as the
    pages, and the contract figures of report.json."""
    import io

    from web.models import MailMessage
    from web.services.problems import parse_files

    manager = api("manager")
    text = (TINY / "clinicians.csv").read_text().replace("Ann Able", "Anne Able", 1)
    made = manager.post(
        "/api/v1/data/uploads",
        data={"files": [(io.BytesIO(text.encode()), "clinicians.csv")]},
        content_type="multipart/form-data",
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    preview = made.get_json()
    assert preview["draft"]["version"] is None
    changed = next(s for s in preview["sections"] if s["title"] == "Clinicians")["changed"]
    assert changed and "Anne Able" in changed[0]["details"][0]
    saved = manager.post(f"/api/v1/data/drafts/{preview['draft']['id']}/save").get_json()
    assert saved["version"] == 2
    run = manager.post("/api/v1/runs/", json={"time_limit": 3})
    assert run.status_code == 202, run.get_data(as_text=True)
    run_id = run.get_json()["id"]
    second = manager.post("/api/v1/runs/", json={})
    if second.status_code == 409:  # the first one was still going
        assert assert_problem(second, 409)["job_id"] == run_id
    jobs.wait(app, 60)
    done = manager.get(f"/api/v1/runs/{run_id}").get_json()
    assert done["status"] == "done" and done["result"]["assignments"] > 0
    current = manager.get("/api/v1/rota/current").get_json()
    assert current["rota_id"] == done["result"]["rota_id"] and current["assignments"]
    published = manager.post("/api/v1/rota/versions", json={"note": "March rota"})
    assert published.status_code == 201
    version = published.get_json()
    assert version["number"] == 1 and version["note"] == "March rota"
    assert len(version["assignments"]) == len(current["assignments"])
    # as from the Publish page, each clinician whose sessions changed is written to, once
    with new_session(app) as db:
        problem = parse_files(db.scalar(select(PublishedVersion)).dataset.texts()).problem
        mailed = sorted(db.scalars(select(MailMessage.clinician_id)))
    on_rota = {a["clinician_id"] for a in version["assignments"]}
    assert mailed == sorted(c.clinician_id for c in problem.clinicians if c.clinician_id in on_rota)
    diff = manager.get("/api/v1/rota/diff?after=1").get_json()
    assert diff["before"] == 0 and len(diff["added"]) == len(version["assignments"])
    weeks = manager.get("/api/v1/contract/?version=1").get_json()["items"]
    from scheduler.contract import contract_weeks
    from web.services.published import version_rota

    with new_session(app) as db:
        v = db.scalar(select(PublishedVersion))
        problem = parse_files(v.dataset.texts()).problem
        expected = [w.as_dict() for w in contract_weeks(problem, version_rota(v))]
    assert weeks == sorted(expected, key=lambda w: (w["network"], w["week"]))
    one = manager.get(f"/api/v1/contract/?week={weeks[0]['week']}").get_json()["items"]
    assert one and all(w["week"] == weeks[0]["week"] for w in one)


def test_a_second_run_answers_409_naming_the_first(app, api, seeded):
    with new_session(app) as db:
        going = Job(
            federation_id=seeded.north,
            status="running",
            period="2027-03-01..2027-03-14",
            active_key=f"{seeded.north}:2027-03-01..2027-03-14",
            time_limit_seconds=60,
            started_at=utcnow(),
            heartbeat_at=utcnow(),
        )
        db.add(going)
        db.commit()
        going_id = going.id
    body = assert_problem(api("manager").post("/api/v1/runs/", json={}), 409)
    assert body["job_id"] == going_id and "still going" in body["detail"]


def test_availability_set_and_withdraw_make_new_versions(app, api, seeded):
    coordinator = api("coordinator")
    before = coordinator.get("/api/v1/availability/C1").get_json()
    day = before["days"][0]["date"]
    after = coordinator.put("/api/v1/availability/C1", json={"days": {day: "U"}})
    assert after.status_code == 200, after.get_data(as_text=True)
    assert after.get_json()["days"][0]["status"] == "U"
    assert after.get_json()["dataset_version"] == before["dataset_version"] + 1
    cleared = coordinator.put("/api/v1/availability/C1", json={"days": {day: ""}}).get_json()
    assert cleared["days"][0]["status"] == ""
    outside = coordinator.put("/api/v1/availability/C1", json={"days": {"2030-01-01": "A"}})
    assert assert_problem(outside, 422)["errors"][0]["field"] == "days.2030-01-01"
    assert_problem(coordinator.get("/api/v1/availability/NOPE"), 404)


def test_absences_record_rerun_and_withdraw(app, api, seeded):
    coordinator = api("coordinator")
    made = coordinator.post(
        "/api/v1/absences",
        json={"clinician_id": "C2", "first": "2027-03-02", "last": "2027-03-03", "reason": "leave"},
    )
    assert made.status_code == 202, made.get_data(as_text=True)
    absence = made.get_json()["absence"]
    assert made.get_json()["run"]["kind"] == "absence"
    jobs.wait(app, 60)
    listed = coordinator.get("/api/v1/absences").get_json()["items"]
    assert [a["id"] for a in listed] == [absence["id"]]
    assert coordinator.delete(f"/api/v1/absences/{absence['id']}").status_code == 204
    assert coordinator.get("/api/v1/absences").get_json()["items"] == []
    bad = coordinator.post(
        "/api/v1/absences", json={"clinician_id": "C2", "first": "2027-03-05", "last": "2027-03-01"}
    )
    body = assert_problem(bad, 422)
    assert "before it starts" in body["detail"] and body["errors"][0]["field"] == "last"


def test_calendar_links_create_rotate_revoke(app, api, seeded):
    coordinator = api("coordinator")
    made = coordinator.post("/api/v1/calendar-links/", json={"kind": "clinician", "key": "C1"})
    assert made.status_code == 201, made.get_data(as_text=True)
    link = made.get_json()
    feed = app.test_client().get(link["url"].split("://", 1)[1].split("/", 1)[1].join(["/", ""]))
    assert feed.status_code == 200 and b"BEGIN:VCALENDAR" in feed.data
    assert_problem(
        coordinator.post("/api/v1/calendar-links/", json={"kind": "clinician", "key": "C1"}), 409
    )
    rotated = coordinator.post(f"/api/v1/calendar-links/{link['id']}/rotate").get_json()
    assert rotated["url"] != link["url"] and rotated["generation"] == link["generation"] + 1
    old_path = "/" + link["url"].split("://", 1)[1].split("/", 1)[1]
    assert app.test_client().get(old_path).status_code == 404
    revoked = coordinator.delete(f"/api/v1/calendar-links/{link['id']}").get_json()
    assert revoked["active"] is False
    assert_problem(
        coordinator.post("/api/v1/calendar-links/", json={"kind": "hub", "key": "NOPE"}), 404
    )


def test_create_token_command_prints_a_working_token(app, seeded, capsys):
    from web.commands import issue_token

    assert issue_token(app, "coordinator@north", "manager", None) == 2
    assert "at most its owner's" in capsys.readouterr().err
    assert issue_token(app, "nobody@north", None, None) == 2
    assert issue_token(app, "manager@north", "coordinator", 3) == 0
    out = capsys.readouterr()
    secret = out.out.strip()
    assert secret.startswith("hrt_") and secret not in out.err
    response = app.test_client().get("/api/v1/hubs", headers=bearer(secret))
    assert response.status_code == 200
    assert_problem(app.test_client().post("/api/v1/runs/", json={}, headers=bearer(secret)), 403)


def test_rate_limits_answer_429_problem_documents(database_url, tmp_path, tiny_loaded):
    from tests.web.conftest import make_app, seed

    app = make_app(
        database_url, tmp_path, API_RATE_LIMIT="3 per minute", API_AUTH_FAILURE_LIMIT="2 per hour"
    )
    seed(app, tiny_loaded)
    secret = token_of(app, "manager@north")
    client = app.test_client()
    for url in ("/api/v1/hubs", "/api/v1/runs/", "/api/v1/data/"):  # one count for all
        assert client.get(url, headers=bearer(secret)).status_code == 200
    body = assert_problem(client.get("/api/v1/hubs", headers=bearer(secret)), 429)
    assert "wait" in body["detail"].casefold()
    other = token_of(app, "coordinator@north")  # another token counts on its own
    assert client.get("/api/v1/hubs", headers=bearer(other)).status_code == 200
    for url in ("/api/v1/hubs", "/api/v1/runs/"):  # guessing tokens from one address is stopped
        assert_problem(client.get(url, headers=bearer("hrt_" + "g" * 43)), 401)
    assert_problem(client.get("/api/v1/contract/", headers=bearer("hrt_" + "h" * 43)), 429)


def test_an_unexpected_error_is_a_500_problem_without_a_traceback(
    database_url, tmp_path, tiny_loaded, monkeypatch
):
    from tests.web.conftest import make_app, seed
    from web.api.resources import catalogue

    app = make_app(database_url, tmp_path, PROPAGATE_EXCEPTIONS=False)
    seed(app, tiny_loaded)
    secret = token_of(app, "manager@north")

    def broken():
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(catalogue, "current_problem", broken)
    response = app.test_client().get("/api/v1/hubs", headers=bearer(secret))
    body = assert_problem(response, 500)
    assert "disk on fire" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True) and body["detail"]


def test_a_too_large_upload_is_a_413_problem(database_url, tmp_path, tiny_loaded):
    import io

    from tests.web.conftest import make_app, seed

    app = make_app(database_url, tmp_path, MAX_CONTENT_LENGTH=1000)
    seed(app, tiny_loaded)
    secret = token_of(app, "manager@north")
    response = app.test_client().post(
        "/api/v1/data/uploads",
        data={"files": [(io.BytesIO(b"x" * 5000), "clinicians.csv")]},
        content_type="multipart/form-data",
        headers=bearer(secret),
    )
    assert_problem(response, 413)


def test_a_workbook_upload_previews_and_a_draft_can_be_discarded(app, api, seeded):
    """The sample workbook over the tiny data: the tiny pins name clinicians the workbook does
    not have (422 naming the row), so it goes up with an empty assignments.csv."""
    import io

    manager = api("coordinator")
    sample = (TINY.parents[3] / "data" / "sample.xlsx").read_bytes()

    def upload(*extra):
        files = [(io.BytesIO(sample), "sample.xlsx"), *extra]
        return manager.post(
            "/api/v1/data/uploads", data={"files": files}, content_type="multipart/form-data"
        )

    body = assert_problem(upload(), 422)
    assert body["errors"][0] == {
        "file": "assignments.csv",
        "row": 2,
        "column": "clinician_id",
        "message": "unknown clinician 'C1'",
    }
    made = upload((io.BytesIO(b"session_id,clinician_id,locked\n"), "assignments.csv"))
    assert made.status_code == 201, made.get_data(as_text=True)
    preview = made.get_json()
    assert preview["counts"]["clinicians"] == 75 and preview["sessions_added"] > 0
    draft = preview["draft"]["id"]
    assert manager.delete(f"/api/v1/data/drafts/{draft}").status_code == 204
    assert_problem(manager.get(f"/api/v1/data/drafts/{draft}"), 404)
    assert manager.get("/api/v1/data/").get_json()["dataset"]["version"] == 1  # unchanged


def test_a_manager_cancels_a_queued_run(app, api, seeded):
    with new_session(app) as db:
        queued = Job(
            federation_id=seeded.north,
            status="queued",
            period="2027-03-01..2027-03-14",
            active_key=f"{seeded.north}:2027-03-01..2027-03-14",
            time_limit_seconds=20,
        )
        db.add(queued)
        db.commit()
        job_id = queued.id
    cancelled = api("manager").post(f"/api/v1/runs/{job_id}/cancel").get_json()
    assert cancelled["status"] == "cancelled" and cancelled["active"] is False


def test_a_published_version_answers_304_to_its_etag(app, api, seeded):
    manager = api("manager")
    assert manager.post("/api/v1/rota/versions", json={"note": "first"}).status_code == 201
    first = manager.get("/api/v1/rota/versions/1")
    etag = first.headers["ETag"]
    again = manager.get("/api/v1/rota/versions/1", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    latest = manager.get("/api/v1/rota/versions/latest", headers={"If-None-Match": etag})
    assert latest.status_code == 304
    other = manager.get("/api/v1/rota/versions/1", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.get_json() == first.get_json()
