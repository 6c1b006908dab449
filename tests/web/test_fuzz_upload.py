"""Hypothesis fuzzing of the upload page: a logged-in coordinator posts malformed files (the
mutations of tests/test_fuzz_load.py applied to the tiny federation, damaged workbooks, odd
file names); every answer is an error page (4xx) or a draft whose preview renders — never a
500 — and the saved data version never changes."""

from __future__ import annotations

import io
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.test_fuzz_load import csv_mutation, toml_mutation
from tests.web.conftest import tiny_files
from web.db import new_session
from web.models import Dataset
from web.services.upload_files import workbook_bytes

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # text no workbook cell may hold
TINY = {name: text.encode("utf-8") for name, text in tiny_files().items()}
# HUBROTA_FUZZ_UPLOADS scales the search up for a long local run; the default stays quick.
UPLOADS = settings(
    max_examples=int(os.environ.get("HUBROTA_FUZZ_UPLOADS", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def _workbook(draw) -> tuple[str, bytes]:
    """The tiny federation as a workbook with one sheet mutated, or its bytes damaged."""
    name, data = draw(csv_mutation(TINY))
    files = {n: t.decode("utf-8") for n, t in TINY.items()}
    try:
        if data is None:
            files.pop(name)
        elif not CONTROL.search(text := data.decode("utf-8")):
            files[name] = text.replace("\r\n", "\n").replace("\r", "\n")  # as uploads store it
    except UnicodeDecodeError:
        pass  # bytes a sheet cannot hold: the sheet stays as it was
    book = bytearray(workbook_bytes(files))  # its length varies with its time stamps
    for _ in range(draw(st.integers(0, 3))):
        book[draw(st.integers(0, 2**20)) % len(book)] = draw(st.integers(0, 255))
    return draw(st.sampled_from(["book.xlsx", "BOOK.XLSX", "a b/c.xlsx"])), bytes(book)


@st.composite
def _upload(draw) -> list[tuple[str, bytes]]:
    """One to three files: mutated CSV files, a mutated rota.toml, a workbook, or strangers."""

    def one(draw_) -> tuple[str, bytes]:
        kind = draw_(st.sampled_from(["csv", "csv", "toml", "workbook", "stranger"]))
        if kind == "csv":
            name, data = draw_(csv_mutation(TINY))
            return name, data if data is not None else b""
        if kind == "toml":
            return draw_(toml_mutation())
        if kind == "workbook":
            return draw_(_workbook())
        return (
            draw_(
                st.sampled_from(
                    [
                        "notes.txt",
                        "other.csv",
                        "rota.xlsx",
                        "..\\x.csv",
                        "PRACTICES.CSV",
                        "practices.csv.exe",
                    ]
                )
            ),
            draw_(st.binary(max_size=300)),
        )

    return [one(draw) for _ in range(draw(st.integers(1, 3)))]


def _version(app, federation_id: int) -> int | None:
    with new_session(app) as db:
        return db.scalar(
            select(func.max(Dataset.version)).where(Dataset.federation_id == federation_id)
        )


def test_fuzzed_uploads_never_fail_and_never_save(app, seeded, as_role):
    """A few dozen malformed uploads: 4xx with the errors, or a draft whose preview answers
    200; never a 500, and the saved version stays 1."""
    coordinator = as_role("coordinator")
    answered: list[int] = []

    @UPLOADS
    @given(_upload())
    def post(files: list[tuple[str, bytes]]) -> None:
        response = coordinator.post(
            "/f/north/data/upload",
            {"files": [(io.BytesIO(data), name) for name, data in files]},
            content_type="multipart/form-data",
        )
        answered.append(response.status_code)
        assert response.status_code in (302, 400, 413, 422), (response.status_code, files)
        if response.status_code == 302:
            assert "/data/drafts/" in response.location
            assert coordinator.get(response.location).status_code == 200
        else:
            assert "Error 500" not in response.get_data(as_text=True)
        assert _version(app, seeded.north) == 1

    post()
    assert any(status == 422 for status in answered)


def test_a_csv_with_bare_carriage_returns_saves_and_downloads(app, seeded, as_role):
    """Found by fuzzing: a CSV file whose lines end in a bare CR loaded (pandas splits lines
    there) but was stored with the CRs, and the saved data's workbook download then failed in
    csv.reader (a 500). Uploads now store plain line feeds."""
    coordinator = as_role("coordinator")
    text = tiny_files()["clinicians.csv"].replace("\n", "\r")
    response = coordinator.post(
        "/f/north/data/upload",
        {"files": [(io.BytesIO(text.encode()), "clinicians.csv")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    draft = response.location.rstrip("/").rsplit("/", 1)[1]
    assert coordinator.post(f"/f/north/data/drafts/{draft}/save").status_code == 302
    assert _version(app, seeded.north) == 2
    assert coordinator.get("/f/north/data/workbook.xlsx").status_code == 200
