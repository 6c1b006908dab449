"""Hardening of the web app: login redirects, server-side sessions, throttles, ids, headers."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
import vobject
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import func, select

from scheduler.io import ical
from scheduler.io.load import Limits, check_workbook, load_problem_with_warnings
from tests.web.conftest import PASSWORD, Client, make_app, seed, tiny_files
from web import create_app
from web.db import engine_of, new_session
from web.models import (
    Dataset,
    DatasetFile,
    FeedLink,
    LoginAttempt,
    LoginSession,
    UploadLock,
    User,
    utcnow,
)
from web.security import ConfigurationError
from web.services import upload_files
from web.services.problems import parse_files, remember
from web.services.upload_files import read_uploads, workbook_bytes

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


# ---- server-side sessions ----------------------------------------------------------------


def _copy_of(client: Client, app) -> Client:
    """A second browser holding a copy of `client`'s session cookie."""
    copy = Client(app.test_client())
    cookie = client.http.get_cookie("session")
    copy.http.set_cookie("session", cookie.value)
    return copy


def test_logout_ends_the_session_for_a_copy_of_the_cookie(app, seeded, as_role):
    """A cookie copied before logging out opens nothing afterwards."""
    manager = as_role("manager")
    stolen = _copy_of(manager, app)
    assert stolen.get("/f/north/settings").status_code == 200
    manager.post("/logout")
    assert stolen.get("/f/north/settings").status_code == 302


def test_a_password_change_ends_every_session_of_the_user(app, seeded, as_role):
    manager = as_role("manager")
    stolen = _copy_of(manager, app)
    as_role("admin").post(
        f"/f/north/users/{seeded.users['manager@north']}",
        {"role": "manager", "active": "yes", "password": "a brand new pass"},
    )
    assert stolen.get("/f/north/").status_code == 302
    assert manager.get("/f/north/").status_code == 302


def _age_sessions(app, **ago: timedelta) -> None:
    with new_session(app) as db:
        for row in db.scalars(select(LoginSession)):
            if "idle" in ago:
                row.last_seen_at = utcnow() - ago["idle"]
            if "age" in ago:
                row.created_at = utcnow() - ago["age"]
        db.commit()


def test_an_idle_session_ends(app, seeded, as_role):
    """No request for longer than SESSION_IDLE_MINUTES: the next one must log in again."""
    manager = as_role("manager")
    idle = app.config["SESSION_IDLE_MINUTES"]
    _age_sessions(app, idle=timedelta(minutes=idle - 1))
    assert manager.get("/f/north/").status_code == 200
    _age_sessions(app, idle=timedelta(minutes=idle + 1))
    response = manager.get("/f/north/")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_a_session_ends_after_its_absolute_lifetime_however_busy(app, seeded, as_role):
    manager = as_role("manager")
    hours = app.config["SESSION_MAX_HOURS"]
    _age_sessions(app, age=timedelta(hours=hours) - timedelta(minutes=1))
    assert manager.get("/f/north/").status_code == 200
    _age_sessions(app, age=timedelta(hours=hours, minutes=1))
    assert manager.get("/f/north/").status_code == 302


def test_session_lifetimes_are_settings(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("HUBROTA_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("HUBROTA_SESSION_MAX_HOURS", "4")
    app = make_app(database_url, tmp_path)
    assert app.config["SESSION_IDLE_MINUTES"] == 15
    assert app.config["SESSION_MAX_HOURS"] == 4
    engine_of(app).dispose()


def test_the_session_cookie_carries_nothing_of_the_password_hash(app, seeded, as_role):
    manager = as_role("manager")
    data = (
        SecureCookieSessionInterface()
        .get_signing_serializer(app)
        .loads(manager.http.get_cookie("session").value)
    )
    with new_session(app) as db:
        hashed = db.get(User, seeded.users["manager@north"]).password_hash
    assert not any(str(v) in hashed for v in data.values() if len(str(v)) >= 6)
    assert "auth" not in data


# ---- passwords and messages --------------------------------------------------------------


@pytest.mark.parametrize("weak", ["aaaaaaaaaa", "password12", "qwertyuiop12", "manager@north1"])
def test_common_and_guessable_passwords_are_refused(app, seeded, as_role, weak):
    admin = as_role("admin")
    page = admin.post(
        f"/f/north/users/{seeded.users['manager@north']}",
        {"role": "manager", "active": "yes", "password": weak},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "too easy to guess" in page
    assert Client(app.test_client()).login("manager@north", weak).status_code == 401


def test_the_create_user_command_refuses_a_common_password(app, runner):
    result = runner.invoke(
        args=["create-user", "x@east", "--role", "admin", "--federation", "east"],
        input="password12\npassword12\n",
    )
    assert result.exit_code != 0 and "too easy to guess" in result.output


def test_adding_a_user_tells_nothing_of_other_federations(app, seeded, as_role):
    """The message for an email of another federation is the one for an email of this one."""
    admin = as_role("admin")

    def add(email: str) -> str:
        return admin.post(
            "/f/north/users",
            {"email": email, "password": "another good one", "role": "coordinator"},
            follow_redirects=True,
        ).get_data(as_text=True)

    here, there = add("manager@north"), add("manager@south")
    assert "exists" not in here + there
    message = "That email cannot be used for a new user"
    assert message in here and message in there


# ---- login throttling --------------------------------------------------------------------


def _fail(client: Client, email: str, times: int, **kwargs) -> list[int]:
    codes = []
    for _ in range(times):
        codes.append(
            client.http.post(
                "/login",
                data={"email": email, "password": "not it at all", "csrf_token": client.token()},
                **kwargs,
            ).status_code
        )
    return codes


def _age_attempts(app, seconds: float) -> None:
    with new_session(app) as db:
        for row in db.scalars(select(LoginAttempt)):
            row.at = row.at - timedelta(seconds=seconds)
        db.commit()


def test_failures_bring_growing_delays_not_a_lockout(app, seeded, client):
    """Past LOGIN_FREE_FAILURES an (account, address) pair waits longer after each failure;
    within the wait every attempt answers 429 with Retry-After, and once it has passed the
    right password logs in."""
    free = app.config["LOGIN_FREE_FAILURES"]
    assert _fail(client, "admin@north", free) == [401] * free
    delays = []
    for _ in range(3):
        refused = client.login("admin@north")
        assert refused.status_code == 429
        assert "Too many failed attempts" in refused.get_data(as_text=True)
        delays.append(int(refused.headers["Retry-After"]))
        _age_attempts(app, delays[-1])
        assert _fail(client, "admin@north", 1) == [401]
    assert delays[0] >= 1 and delays[0] < delays[1] < delays[2]
    _age_attempts(app, app.config["LOGIN_MAX_DELAY_SECONDS"])
    assert client.login("admin@north").status_code == 302


def test_the_delay_is_capped(app, seeded, client):
    free = app.config["LOGIN_FREE_FAILURES"]
    _fail(client, "admin@north", free)
    waits = []
    for _ in range(12):
        _fail(client, "admin@north", 1)
        refused = client.login("admin@north")
        waits.append(int(refused.headers["Retry-After"]))
        _age_attempts(app, waits[-1])
    assert max(waits) == waits[-1] == app.config["LOGIN_MAX_DELAY_SECONDS"]


def test_another_address_and_another_account_are_not_slowed(app, seeded):
    """Failures for one account from one address hold up neither the owner elsewhere nor
    other users of that address."""
    app.config["PROXIES"] = 0
    attacker = Client(app.test_client())
    _fail(attacker, "admin@north", 30)
    neighbour = Client(app.test_client())
    assert neighbour.login("manager@north").status_code == 302
    elsewhere = Client(app.test_client())
    elsewhere.http.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert elsewhere.login("admin@north").status_code == 302


def test_forwarded_addresses_are_trusted_only_from_configured_proxies(database_url, tmp_path):
    """With HUBROTA_PROXIES=1 the address is the proxy's X-Forwarded-For; without it a forged
    header changes nothing."""
    behind = make_app(database_url, tmp_path / "a", PROXIES=1)
    seed(behind, parse_files(tiny_files()))
    c = Client(behind.test_client())
    free = behind.config["LOGIN_FREE_FAILURES"]
    forwarded = {"headers": {"X-Forwarded-For": "203.0.113.5"}}
    _fail(c, "admin@north", free + 1, **forwarded)
    blocked = c.http.post(
        "/login",
        data={"email": "admin@north", "password": PASSWORD, "csrf_token": c.token()},
        **forwarded,
    )
    assert blocked.status_code == 429
    other = c.http.post(
        "/login",
        data={"email": "admin@north", "password": PASSWORD, "csrf_token": c.token()},
        headers={"X-Forwarded-For": "203.0.113.6"},
    )
    assert other.status_code == 302
    engine_of(behind).dispose()


def test_a_forged_forwarded_header_is_ignored_without_proxies(app, seeded, client):
    free = app.config["LOGIN_FREE_FAILURES"]
    _fail(client, "admin@north", free + 1)
    forged = client.http.post(
        "/login",
        data={"email": "admin@north", "password": PASSWORD, "csrf_token": client.token()},
        headers={"X-Forwarded-For": "203.0.113.77"},
    )
    assert forged.status_code == 429 and "Retry-After" in forged.headers


# ---- uploads -----------------------------------------------------------------------------


def _book_with(extra: dict[str, list[list[object]]] | None = None, **replace: str) -> bytes:
    """The tiny data as a workbook, files replaced by `replace` (name → CSV text) and extra
    sheets added (title → rows)."""
    files = {**tiny_files(), **{f"{k}.csv": v for k, v in replace.items()}}
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(files)))
    for title, rows in (extra or {}).items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _with_dimension(book: bytes, sheet_title: str, dimension: str) -> bytes:
    """The workbook whose sheet `sheet_title` claims `dimension` (it keeps its few rows)."""
    with zipfile.ZipFile(io.BytesIO(book)) as source:
        titles = openpyxl.load_workbook(io.BytesIO(book), read_only=True).sheetnames
        member = f"xl/worksheets/sheet{titles.index(sheet_title) + 1}.xml"
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                data = source.read(info.filename)
                if info.filename == member:
                    data = re.sub(
                        rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), data
                    )
                target.writestr(info.filename, data)
    return out.getvalue()


def _upload(client, *files: tuple[str, bytes]):
    return client.post(
        "/f/north/data/upload",
        {"files": [(io.BytesIO(data), name) for name, data in files]},
        content_type="multipart/form-data",
    )


def test_unknown_sheets_are_skipped_before_they_are_read():
    """An extra sheet is never scanned or parsed, whatever it claims to hold: its size limits
    do not apply, and the upload reads with a warning naming it."""
    book = _with_dimension(_book_with({"notes": [["a", "b"], ["c", "d"]]}), "notes", "A1:J9000000")
    assert check_workbook(book, "book.xlsx") == []
    upload = read_uploads([("book.xlsx", io.BytesIO(book))])
    assert upload.errors == []
    assert "book.xlsx[notes]:0:: unknown sheet ignored" in upload.warnings
    assert set(upload.files) == set(tiny_files())


def test_a_workbook_is_read_in_read_only_mode(monkeypatch):
    """openpyxl streams the sheets (read_only=True): memory stays flat whatever their size."""
    calls = []
    real = upload_files.load_workbook

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(upload_files, "load_workbook", spy)
    read_uploads([("book.xlsx", io.BytesIO(_book_with()))])
    assert calls and all(c.get("read_only") for c in calls)


def _clinicians(count: int) -> str:
    header = tiny_files()["clinicians.csv"].splitlines()[0]
    rows = [f"X{i},Person {i},P1,GP,x{i}@example.test,,2," for i in range(count)]
    return "\n".join([header, *rows]) + "\n"


def test_too_many_clinicians_are_refused_naming_the_file(app, seeded, as_role):
    most = app.config["UPLOAD_MAX_CLINICIANS"]
    coordinator = as_role("coordinator")
    for name, data in (
        ("clinicians.csv", _clinicians(most + 1).encode()),
        ("big.xlsx", _book_with(clinicians=_clinicians(most + 1))),
    ):
        response = _upload(coordinator, (name, data))
        assert response.status_code == 422, name
        page = response.get_data(as_text=True)
        assert f"{most + 1:,} clinicians" in page and f"at most {most:,}" in page
        assert name in page
    with new_session(app) as db:
        assert db.scalar(select(func.count(Dataset.id))) == 4  # the seeded ones only


def test_too_many_sessions_are_refused(app, seeded, as_role):
    app.config["UPLOAD_MAX_SESSIONS"] = 3
    response = _upload(
        as_role("coordinator"), ("clinicians.csv", tiny_files()["clinicians.csv"].encode())
    )
    assert response.status_code == 422
    assert "sessions (at most 3" in response.get_data(as_text=True)


def test_one_upload_at_a_time_per_user(app, seeded, as_role):
    """While an upload of a user is being read, their second one is refused; another user's
    goes ahead, and a lock left by a crashed request expires."""
    coordinator = as_role("coordinator")
    with new_session(app) as db:
        db.add(UploadLock(user_id=seeded.users["coordinator@north"]))
        db.commit()
    data = ("clinicians.csv", tiny_files()["clinicians.csv"].encode())
    refused = _upload(coordinator, data)
    assert refused.status_code == 409
    assert "upload is still being read" in refused.get_data(as_text=True)
    assert _upload(as_role("manager"), data).status_code == 302
    with new_session(app) as db:
        lock = db.get(UploadLock, seeded.users["coordinator@north"])
        lock.started_at = utcnow() - timedelta(minutes=10)
        db.commit()
    assert _upload(coordinator, data).status_code == 302
    with new_session(app) as db:
        assert db.scalar(select(func.count()).select_from(UploadLock)) == 0


def test_a_utf16_doctype_is_refused():
    """The DOCTYPE check reads each member in its own encoding: UTF-16 does not hide it."""
    book = _book_with()
    with zipfile.ZipFile(io.BytesIO(book)) as source:
        xml = source.read("xl/worksheets/sheet1.xml").decode("utf-8")
    laughs = xml.replace('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n', "")
    laughs = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>' + laughs
    ).encode("utf-16")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, laughs if info.filename.endswith("sheet1.xml") else data)
    [error] = check_workbook(out.getvalue(), "book.xlsx")
    assert "declares a DOCTYPE or ENTITY" in error.message


def test_a_workbook_with_too_much_text_is_refused():
    """Every reader loads the shared strings whole: past the limit the workbook is refused."""
    strings = "".join(f"<si><t>note {i}</t></si>" for i in range(100))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_book_with())) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        target.writestr("xl/sharedStrings.xml", f"<sst>{strings}</sst>")
    [error] = check_workbook(out.getvalue(), "book.xlsx", Limits(max_shared_strings_bytes=1000))
    assert error.file == "book.xlsx" and "of text (at most 1,000 bytes)" in error.message


def test_the_command_line_reads_a_workbook_without_its_unknown_sheets(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(_with_dimension(_book_with({"notes": [["a"]]}), "notes", "A1:J9000000"))
    problem, warnings = load_problem_with_warnings(path)
    assert problem.clinicians and any("[notes]" in str(w) for w in warnings)


# ---- pages that list clinicians ----------------------------------------------------------


@pytest.fixture
def crowded(app, seeded):
    """North's current data with as many clinicians as the cap allows."""
    most = app.config["UPLOAD_MAX_CLINICIANS"]
    own = tiny_files()["clinicians.csv"].splitlines()[1:]
    files = {**tiny_files(), "clinicians.csv": _clinicians(most - len(own))}
    files["clinicians.csv"] += "".join(line + "\n" for line in own)
    with app.app_context(), new_session(app) as db:
        dataset = Dataset(federation_id=seeded.north, version=2, note="crowded")
        dataset.files = [DatasetFile(name=n, content=t) for n, t in files.items()]
        db.add(dataset)
        db.commit()
        remember(dataset.id, parse_files(files))
    return most


@pytest.mark.parametrize(
    "url", ["/f/north/calendar/", "/f/north/availability/", "/f/north/insights/"]
)
def test_pages_that_list_clinicians_stay_small(app, crowded, as_role, url):
    """With the most clinicians a federation may have, each page is a page of them: a few
    hundred KB at most, with a pager that reaches the last of them."""
    coordinator = as_role("coordinator")
    response = coordinator.get(url)
    assert response.status_code == 200
    assert len(response.data) < 300_000, len(response.data)
    page = response.get_data(as_text=True)
    assert 'aria-label="Pages"' in page and f"of {crowded:,}" in page
    last = re.findall(r'href="([^"]*page=(\d+)[^"]*)"', page)
    final = max(last, key=lambda m: int(m[1]))[0].replace("&amp;", "&")
    tail = coordinator.get(final).get_data(as_text=True)
    assert f"–{crowded:,} of {crowded:,}" in tail


def test_the_links_page_finds_a_clinician(app, crowded, as_role):
    page = as_role("coordinator").get("/f/north/calendar/?q=x4321%40example").get_data(as_text=True)
    assert "Person 4321" in page and "Person 4322" not in page
    assert 'name="q" value="x4321@example"' in page


def test_create_links_for_everyone_without_one(app, seeded, as_role):
    """The bulk action makes a link for each clinician who never had one, hands them over once
    as CSV, and leaves existing and revoked links alone."""
    coordinator = as_role("coordinator")
    kept = coordinator.post("/f/north/calendar/links", {"kind": "clinician", "key": "C1"})
    assert kept.status_code == 200
    revoked = coordinator.post("/f/north/calendar/links", {"kind": "clinician", "key": "C2"})
    assert revoked.status_code == 200
    with new_session(app) as db:
        c1, c2 = (db.scalar(select(FeedLink).where(FeedLink.key == key)) for key in ("C1", "C2"))
    coordinator.post("/f/north/calendar/links/revoke", {"link_id": c2.id})
    page = coordinator.get("/f/north/calendar/").get_data(as_text=True)
    others = len(tiny_files()["clinicians.csv"].strip().splitlines()) - 3
    assert f"<strong>{others}</strong> clinicians never had a link" in page
    response = coordinator.post("/f/north/calendar/links/everyone")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == others and {"C1", "C2"}.isdisjoint(r["clinician_id"] for r in rows)
    for row in rows:
        token = row["calendar_feed"].rsplit("/", 1)[1].removesuffix(".ics")
        assert app.test_client().get(f"/feeds/{token}.ics").status_code == 200
    with new_session(app) as db:
        assert db.get(FeedLink, c1.id).token_hash == c1.token_hash
        assert db.get(FeedLink, c2.id).token_hash is None
    again = coordinator.post("/f/north/calendar/links/everyone")
    assert again.status_code == 302


# ---- the production server ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_gunicorn_with_the_demo_and_no_version_in_server(tmp_path):
    """`hubrota serve --demo` answers through gunicorn's workers, not Werkzeug's development
    server; the Server header names no version, and the demo's logins work."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HUBROTA_")},
        "HUBROTA_DEMO_INSTANCE": str(tmp_path),
        "HUBROTA_DEMO_PASSWORD": "demo password for tests",
        "HUBROTA_WORKERS": "2",
        "HUBROTA_SOLVER_WORKERS": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        response = None
        for _ in range(120):
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except OSError:
                time.sleep(0.5)
        assert response is not None and response.status == 200
        assert response.headers["Server"] == "gunicorn"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        cookie_page = opener.open(f"http://127.0.0.1:{port}/login").read().decode()
        token = re.search(r'name="csrf-token" content="([^"]+)"', cookie_page).group(1)
        form = urllib.parse.urlencode(
            {"email": "manager@demo", "password": "demo password for tests", "csrf_token": token}
        ).encode()
        home = opener.open(f"http://127.0.0.1:{port}/login", data=form)
        assert home.url.endswith("/f/demo/") and "Demo Federation" in home.read().decode()
        guess = "G" * 43
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/{guess}.ics", timeout=5)
        assert missing.value.code == 404
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    assert "development server" not in output
    assert "Booting worker" in output, output[-2000:]
    assert "G" * 43 not in output and "/feeds/[token]" in output  # tokens masked in the log


# ---- ids out of range --------------------------------------------------------------------

HUGE = "9" * 30


@pytest.mark.parametrize(
    "method, url, form",
    [
        ("get", f"/f/north/runs/watch?job={HUGE}", None),
        ("get", f"/f/north/runs/progress?job={HUGE}", None),
        ("get", "/f/north/runs/watch?job=2147483648", None),
        ("get", "/f/north/runs/watch?job=\u00b2", None),
        ("get", f"/f/north/data/drafts/{HUGE}", None),
        ("post", f"/f/north/data/drafts/{HUGE}/save", {}),
        ("post", f"/f/north/data/drafts/{HUGE}/discard", {}),
        ("get", f"/f/north/publish/version?n={HUGE}", None),
        ("get", f"/f/north/publish/compare?b={HUGE}", None),
        ("get", f"/f/north/publish/preview?rota={HUGE}", None),
        ("post", "/f/north/publish/", {"rota": HUGE, "note": "why", "revision": "0"}),
        ("post", "/f/north/absence/withdraw", {"absence": HUGE}),
        ("post", "/f/north/calendar/links/revoke", {"link_id": HUGE}),
        ("post", "/f/north/calendar/links/rotate", {"link_id": HUGE, "generation": "1"}),
        ("post", f"/f/north/users/{HUGE}", {"role": "manager", "active": "yes"}),
    ],
)
def test_ids_out_of_range_are_not_found(app, seeded, as_role, method, url, form):
    admin = as_role("admin")
    response = admin.get(url) if method == "get" else admin.post(url, form)
    assert response.status_code == 404, (url, response.status_code)


# ---- feeds: every text property escaped --------------------------------------------------

AWKWARD = "North; South, East\\West"


def test_every_text_property_of_a_feed_is_escaped():
    """NAME and X-WR-CALNAME too (icalendar 7 writes them raw): ';' ',' '\\' go out escaped,
    and parsers read back what was meant."""
    moment = datetime(2027, 3, 1, 18, 30, tzinfo=UTC)
    event = ical.FeedEvent(
        uid="hubrota-1@example",
        content=ical.EventContent(moment, moment + timedelta(hours=1), AWKWARD, AWKWARD, AWKWARD),
        revision=ical.Revision(0, moment, moment),
    )
    data = ical.render(ical.CalendarText("hubrota-cal@example", AWKWARD, (event,)))
    lines = data.decode().replace("\r\n ", "").split("\r\n")
    escaped = "North\\; South\\, East\\\\West"
    for prop in ("NAME", "X-WR-CALNAME", "SUMMARY", "LOCATION", "DESCRIPTION"):
        [line] = [line for line in lines if line.startswith(prop + ":")]
        assert line == f"{prop}:{escaped}", line
    assert vobject.readOne(data.decode()).vevent.summary.value == AWKWARD
    assert ical.read(data).name == AWKWARD


# ---- caching and the secret key ----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/f/north/",
        "/f/north/rota/",
        "/f/north/settings",
        "/f/north/rota/export.csv",
        "/f/north/rota/export.xlsx",
        "/f/north/data/workbook",
        "/f/north/no-such-page",
    ],
)
def test_logged_in_pages_and_exports_are_never_stored(app, seeded, as_role, url):
    response = as_role("manager").get(url)
    assert response.headers["Cache-Control"] == "no-store", (url, response.status_code)


def test_static_files_and_feeds_keep_their_caching(app, seeded, as_role):
    coordinator = as_role("coordinator")
    assert "no-store" not in coordinator.get("/static/app.css").headers.get("Cache-Control", "")


@pytest.mark.parametrize("key", ["k", "x" * 31])
def test_a_short_secret_key_refuses_to_start(monkeypatch, tmp_path, key):
    for name in list(os.environ):
        if name.startswith("HUBROTA_"):
            monkeypatch.delenv(name)
    database = tmp_path / "short.sqlite"
    with pytest.raises(ConfigurationError, match="at least 32 characters"):
        create_app({"SECRET_KEY": key, "DATABASE_URL": f"sqlite:///{database}"})
    assert not database.exists()
    app = create_app({"SECRET_KEY": "x" * 32, "DATABASE_URL": f"sqlite:///{database}"})
    engine_of(app).dispose()


@pytest.mark.parametrize("page", ["\u00b2", "0", "-1", "x", "9" * 30, "99"])
def test_any_page_number_gives_a_page(app, seeded, as_role, page):
    """Nonsense or out-of-range page numbers give the first or last page, never an error."""
    coordinator = as_role("coordinator")
    for url in ("/f/north/calendar/", "/f/north/availability/", "/f/north/insights/"):
        response = coordinator.get(url, query_string={"page": page, "load_page": page})
        assert response.status_code == 200, (url, page)
