"""Security: upload size limits, zip bombs and absurd sheets refused before they are expanded,
CSV caps, security headers on every response, secure cookies and a required SECRET_KEY."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.cli import main
from scheduler.io import load
from scheduler.io.load import InputErrors, Limits, check_workbook, load_problem
from tests.web.conftest import TINY, tiny_files
from web import create_app
from web.db import engine_of, new_session
from web.models import Dataset
from web.security import ConfigurationError
from web.services.upload_files import workbook_bytes

MB = 1024 * 1024
FIRST_SHEET = "xl/worksheets/sheet1.xml"  # practices, the first sheet workbook_bytes writes


# ---- helpers ------------------------------------------------------------------------------


def _rezip(
    book: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None
) -> bytes:
    """The workbook with members replaced or added (deflated, as Excel writes them)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(book)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(
                info.filename, (replace or {}).get(info.filename) or source.read(info.filename)
            )
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def _sheet_xml(book: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(book)) as source:
        return source.read(FIRST_SHEET)


def _tiny_book() -> bytes:
    return workbook_bytes(tiny_files())


def _claiming(dimension: str) -> bytes:
    """The tiny workbook whose practices sheet declares `dimension` (it holds a few rows)."""
    book = _tiny_book()
    xml = _sheet_xml(book)
    assert b"<dimension " in xml
    return _rezip(
        book,
        {
            FIRST_SHEET: re.sub(
                rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), xml
            )
        },
    )


def _zip_bomb() -> bytes:
    """The tiny workbook with 20 MB of zeros inside, deflated about a thousand to one."""
    return _rezip(_tiny_book(), add={"xl/media/image1.bin": bytes(20 * MB)})


def _upload(client, *files: tuple[str, bytes]):
    return client.post(
        "/f/north/data/upload",
        {"files": [(io.BytesIO(data), name) for name, data in files]},
        content_type="multipart/form-data",
    )


def _datasets(app) -> int:
    with new_session(app) as db:
        return db.scalar(select(func.count(Dataset.id)))


def _clean_environment(monkeypatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("HUBROTA_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)


# ---- workbooks, in the engine (the command line is protected too) -------------------------


def test_a_sound_workbook_passes_the_zip_inspection(tmp_path):
    """The sample workbook and the tiny one pass, as a path and as bytes."""
    assert check_workbook(Path("data/sample.xlsx"), "sample.xlsx") == []
    assert check_workbook(_tiny_book(), "tiny.xlsx") == []


def test_a_zip_bomb_is_refused_by_its_compression_ratio():
    """A member that unzips a thousand times larger than it is stored is refused, naming the
    workbook and the member."""
    [error] = check_workbook(_zip_bomb(), "bomb.xlsx")
    assert error.file == "bomb.xlsx" and error.row == 0
    assert "xl/media/image1.bin is compressed" in error.message
    assert "zip bomb" in error.message


def test_a_workbook_that_unzips_too_large_is_refused():
    """The members' unzipped sizes add up past the limit: refused before anything is read."""
    book = _rezip(_tiny_book(), add={f"xl/media/image{i}.bin": bytes(3 * MB) for i in range(4)})
    [error] = check_workbook(book, "big.xlsx", Limits(max_unzipped_bytes=10 * MB))
    assert "the workbook unzips to" in error.message and "at most 10.0 MB" in error.message


def test_too_many_members_and_too_many_bytes_are_refused():
    """A workbook with more files inside than allowed, or larger than allowed, is refused."""
    book = _rezip(_tiny_book(), add={f"customXml/item{i}.xml": b"<a/>" for i in range(30)})
    [members] = check_workbook(book, "b.xlsx", Limits(max_members=20))
    assert "files inside the workbook (at most 20)" in members.message
    [size] = check_workbook(book, "b.xlsx", Limits(max_file_bytes=1000))
    assert "refused: the workbook is" in size.message


def test_a_workbook_claiming_a_million_rows_is_refused(tmp_path):
    """A sheet whose dimension claims 1,000,000 rows is refused from its dimension alone, with
    the workbook and sheet named; load_problem raises InputErrors, never reading the sheet."""
    [error] = check_workbook(_claiming("A1:E1000000"), "book.xlsx")
    assert error.file == "book.xlsx[practices]"
    assert "claims 1,000,000 rows" in error.message and "A1:E1000000" in error.message
    path = tmp_path / "book.xlsx"
    path.write_bytes(_claiming("A1:E1000000"))
    with pytest.raises(InputErrors) as raised:
        load_problem(path)
    assert [str(e) for e in raised.value.errors] == [str(error)]


def test_absurdly_wide_sheets_are_refused():
    """A sheet claiming every one of Excel's 16,384 columns is refused."""
    [error] = check_workbook(_claiming("A1:XFD10"), "book.xlsx")
    assert "16,384 columns (at most 2,000)" in error.message


def test_a_sheet_understating_its_size_is_measured_by_its_cells():
    """A lying dimension does not help: one cell on row 900,000 makes the sheet too long, and a
    row 3,000 cells wide (without cell references) too wide."""
    book = _tiny_book()
    xml = _sheet_xml(book)
    far = xml.replace(
        b"</sheetData>",
        b'<row r="900000"><c r="A900000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
    )
    [error] = check_workbook(_rezip(book, {FIRST_SHEET: far}), "book.xlsx")
    assert error.message == "refused: the sheet has 900,000 rows (at most 250,000)"
    wide = xml.replace(
        b"</sheetData>", b"<row>" + b"<c><v>1</v></c>" * 3000 + b"</row></sheetData>"
    )
    [error] = check_workbook(_rezip(book, {FIRST_SHEET: wide}), "book.xlsx")
    assert "3,000 columns" in error.message


def test_xml_entity_declarations_are_refused():
    """A DOCTYPE with entities (the "billion laughs") in any member is refused unparsed."""
    book = _tiny_book()
    xml = _sheet_xml(book)
    laughs = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>' + xml
    [error] = check_workbook(_rezip(book, {FIRST_SHEET: laughs}), "book.xlsx")
    assert "declares a DOCTYPE or ENTITY" in error.message


def test_the_command_line_refuses_a_zip_bomb_and_writes_nothing(tmp_path, capsys):
    """`hubrota solve bomb.xlsx` exits 2 with one file:row:column line and writes nothing."""
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(_zip_bomb())
    out = tmp_path / "out"
    assert main(["solve", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "bomb.xlsx:0::" in err and "zip bomb" in err and "Traceback" not in err
    assert not out.exists()


# ---- CSV files ----------------------------------------------------------------------------


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "rota"
    shutil.copytree(TINY, folder)
    return folder


def test_a_csv_file_with_too_many_rows_is_refused(tmp_path, monkeypatch):
    """Rows past the limit are not even parsed: one error for the file at row 0."""
    monkeypatch.setattr(load, "LIMITS", Limits(max_rows=50))
    folder = _folder(tmp_path)
    path = folder / "availability.csv"
    path.write_text(path.read_text() + "C1,2027-03-02,A\n" * 100)
    with pytest.raises(InputErrors) as raised:
        load_problem(folder)
    assert [str(e) for e in raised.value.errors] == [
        "availability.csv:0:: refused: more than 50 rows (at most 50)"
    ]


def test_a_csv_file_too_wide_or_too_large_is_refused(tmp_path, monkeypatch):
    """A header of 2,001 columns is refused before pandas reads it; so is a file over the size
    limit, and a table of too many cells."""
    folder = _folder(tmp_path)
    (folder / "hubs.csv").write_text("hub_id,name" + ",x" * 1999 + "\nH1,Hub\n")
    with pytest.raises(InputErrors) as raised:
        load_problem(folder)
    assert [str(e) for e in raised.value.errors] == [
        "hubs.csv:0:: refused: 2,001 columns (at most 2,000)"
    ]
    folder = _folder(tmp_path / "again")
    monkeypatch.setattr(load, "LIMITS", Limits(max_file_bytes=300))
    with pytest.raises(InputErrors) as raised:
        load_problem(folder)
    assert "availability.csv:0:: refused: the file is 361 bytes (at most 300 bytes)" in [
        str(e) for e in raised.value.errors
    ]
    monkeypatch.setattr(load, "LIMITS", Limits(max_cells=12))
    with pytest.raises(InputErrors) as raised:
        load_problem(folder)
    assert "practices.csv:0:: refused: more than 2 rows (at most 2 with 5 columns)" in [
        str(e) for e in raised.value.errors
    ]


# ---- the web app: uploads -----------------------------------------------------------------


def test_an_oversize_upload_answers_413_with_the_error_page(app, seeded, as_role):
    """The default limit is 10 MB; an 11 MB upload gets the app's 413 page naming the limit,
    and nothing is saved."""
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * MB
    before = _datasets(app)
    response = _upload(as_role("coordinator"), ("availability.csv", b"C1,2027-03-01,A\n" * MB))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Too large" in page and "at most 10 MB" in page and "Error 413" in page
    assert _datasets(app) == before


def test_the_upload_limit_is_configurable(monkeypatch, tmp_path):
    """HUBROTA_MAX_CONTENT_LENGTH sets the limit."""
    _clean_environment(monkeypatch)
    monkeypatch.setenv("HUBROTA_MAX_CONTENT_LENGTH", str(2 * MB))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'limit.sqlite'}",
        }
    )
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * MB
    engine_of(app).dispose()


def test_a_zip_bomb_upload_is_refused_and_nothing_saved(app, seeded, as_role):
    """A zip bomb posing as a workbook comes back as one error naming it (422), and no draft
    or version is saved."""
    before = _datasets(app)
    response = _upload(as_role("coordinator"), ("bomb.xlsx", _zip_bomb()))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "bomb.xlsx:0::" in page and "zip bomb" in page
    assert _datasets(app) == before


def test_a_workbook_upload_claiming_a_million_rows_is_refused(app, seeded, as_role):
    """The upload of a workbook whose sheet claims a million rows names the sheet (422)."""
    before = _datasets(app)
    response = _upload(as_role("coordinator"), ("book.xlsx", _claiming("A1:E1000000")))
    assert response.status_code == 422
    assert "book.xlsx[practices]:0::" in response.get_data(as_text=True)
    assert "claims 1,000,000 rows" in response.get_data(as_text=True)
    assert _datasets(app) == before


# ---- the web app: headers -----------------------------------------------------------------


def test_security_headers_are_on_every_response_including_errors(app, seeded, as_role):
    """Pages, static files, redirects and the 400, 403, 404, 413 and 500 error pages all carry
    the CSP (frame-ancestors 'none'), nosniff, X-Frame-Options DENY and a Referrer-Policy."""

    def boom():
        raise RuntimeError("a bug")

    app.add_url_rule("/f/<fed>/boom", "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 page, as in production
    coordinator = as_role("coordinator")
    anonymous = app.test_client()
    responses = {
        "login": anonymous.get("/login"),
        "static": anonymous.get("/static/app.css"),
        "redirect": anonymous.get("/f/north/"),
        "feed 404": anonymous.get("/feeds/no-such-token-0123456789abcdefghijklmnop.ics"),
        "dashboard": coordinator.get("/f/north/"),
        "403": coordinator.get("/f/north/settings"),
        "404": coordinator.get("/f/north/no-such-page"),
        "400": coordinator.http.post("/f/north/data/upload", data={}),
        "413": _upload(coordinator, ("availability.csv", b"x" * (11 * MB))),
        "500": coordinator.get("/f/north/boom"),
    }
    statuses = {name: r.status_code for name, r in responses.items()}
    assert statuses["400"] == 400 and statuses["403"] == 403 and statuses["404"] == 404
    assert statuses["413"] == 413 and statuses["500"] == 500, statuses
    for name, response in responses.items():
        headers = response.headers
        assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), name
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert headers.get("X-Frame-Options") == "DENY", name
        assert headers.get("Referrer-Policy"), name
        assert headers.get("Permissions-Policy"), name
    assert "Something went wrong" in responses["500"].get_data(as_text=True)


# ---- configuration ------------------------------------------------------------------------


def test_production_config_has_secure_cookies(monkeypatch, tmp_path):
    """Outside demo mode and tests the session cookie is Secure, HttpOnly and SameSite=Lax, and
    responses carry HSTS."""
    _clean_environment(monkeypatch)
    app = create_app(
        {
            "SECRET_KEY": "a production key of some length, 32+",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite'}",
        }
    )
    config = app.config
    assert (
        config["SESSION_COOKIE_SECURE"],
        config["SESSION_COOKIE_HTTPONLY"],
        config["SESSION_COOKIE_SAMESITE"],
    ) == (True, True, "Lax")
    response = app.test_client().get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    engine_of(app).dispose()


def test_demo_and_tests_may_use_cookies_over_plain_http(monkeypatch, tmp_path):
    """Demo mode (plain http://127.0.0.1) and tests turn the Secure flag and HSTS off; an
    explicit setting wins over both."""
    _clean_environment(monkeypatch)
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    demo = create_app({"DEMO": True, "SECRET_KEY": "k", "DATABASE_URL": url})
    assert demo.config["SESSION_COOKIE_SECURE"] is False
    assert "Strict-Transport-Security" not in demo.test_client().get("/login").headers
    engine_of(demo).dispose()
    testing = create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": url})
    assert testing.config["SESSION_COOKIE_SECURE"] is False
    engine_of(testing).dispose()
    monkeypatch.setenv("HUBROTA_SESSION_COOKIE_SECURE", "true")
    explicit = create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": url})
    assert explicit.config["SESSION_COOKIE_SECURE"] is True
    engine_of(explicit).dispose()


def test_create_app_without_secret_key_refuses_to_start(monkeypatch, tmp_path):
    """Outside demo mode and tests, no SECRET_KEY is a ConfigurationError naming
    HUBROTA_SECRET_KEY, raised before the database is touched; with the variable it starts."""
    _clean_environment(monkeypatch)
    database = tmp_path / "none.sqlite"
    with pytest.raises(ConfigurationError, match="HUBROTA_SECRET_KEY is not set"):
        create_app({"DATABASE_URL": f"sqlite:///{database}"})
    assert not database.exists()
    monkeypatch.setenv("HUBROTA_SECRET_KEY", "from the environment, long enough to sign")
    app = create_app({"DATABASE_URL": f"sqlite:///{database}"})
    assert app.config["SECRET_KEY"] == "from the environment, long enough to sign"
    engine_of(app).dispose()


@pytest.mark.parametrize(
    "command",
    [["serve", "--port", "5999"], ["create-user", "x@y", "--role", "admin", "--federation", "x"]],
)
def test_commands_without_secret_key_print_one_line_and_exit_1(monkeypatch, capsys, command):
    """`hubrota serve` (without --demo) and `hubrota create-user` print what to set and exit 1
    when HUBROTA_SECRET_KEY is unset: no traceback, no server."""
    _clean_environment(monkeypatch)
    assert main(command) == 1
    err = capsys.readouterr().err
    assert f"hubrota {command[0]}: HUBROTA_SECRET_KEY is not set" in err
    assert "Traceback" not in err
