"""Uploads: CSV files or a workbook, the preview, errors as file:row:column, all-or-nothing
saves."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.web.conftest import tiny_files
from web.db import new_session
from web.models import Dataset
from web.services.availability import rewrite
from web.services.upload_files import read_uploads, workbook_bytes


def _versions(app, federation_id: int) -> int:
    with new_session(app) as db:
        return (
            db.scalar(
                select(func.max(Dataset.version)).where(Dataset.federation_id == federation_id)
            )
            or 0
        )


def _upload(client, *files: tuple[str, bytes]):
    return client.post(
        "/f/north/data/upload",
        {"files": [(io.BytesIO(data), name) for name, data in files]},
        content_type="multipart/form-data",
    )


def test_csv_upload_previews_then_saves(app, seeded, as_role):
    """Changing one clinician shows as a change in the preview; saving makes version 2."""
    coordinator = as_role("coordinator")
    text = tiny_files()["clinicians.csv"].replace("C2,Ben Bell,P2,GP", "C2,Ben Bell,P2,ANP")
    text += "C7,Gil Gray,P1,GP,gil@example.test,,2,\n"
    response = _upload(coordinator, ("clinicians.csv", text.encode()))
    assert response.status_code == 302
    preview = coordinator.get(response.location).get_data(as_text=True)
    assert "Nothing is saved yet" in preview
    assert "+ Gil Gray" in preview and "C7" in preview
    assert "role: GP → ANP" in preview
    assert _versions(app, seeded.north) == 1
    draft_id = int(re.search(r"/drafts/(\d+)", response.location).group(1))
    saved = coordinator.post(f"/f/north/data/drafts/{draft_id}/save")
    assert saved.status_code == 302
    assert _versions(app, seeded.north) == 2
    assert "C7" in coordinator.get("/f/north/data/files/clinicians.csv").get_data(as_text=True)


def test_broken_upload_lists_every_problem_and_saves_nothing(app, seeded, as_role):
    """Bad cells come back as file:row:column lines (422) and the data stays at version 1."""
    coordinator = as_role("coordinator")
    text = tiny_files()["clinicians.csv"] + "C8,Hal Hill,NOPE,GP,,,x,\n"
    response = _upload(coordinator, ("clinicians.csv", text.encode()))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert "clinicians.csv:8:practice_code:" in page
    assert "clinicians.csv:8:max_sessions_per_week:" in page
    assert _versions(app, seeded.north) == 1
    with new_session(app) as db:
        drafts = db.scalar(
            select(func.count(Dataset.id)).where(
                Dataset.federation_id == seeded.north, Dataset.version.is_(None)
            )
        )
    assert drafts == 1  # only the seeded one


def test_workbook_upload_names_sheets_in_errors(app, seeded, as_role):
    """A workbook's errors name the workbook and sheet, with the sheet's own row numbers."""
    files = tiny_files()
    files["hubs.csv"] = files["hubs.csv"].replace(
        "H2,River Hub,2 Quay Road,RI2 2BB,1", "H2,River Hub,2 Quay Road,RI2 2BB,none"
    )
    response = _upload(as_role("coordinator"), ("book.xlsx", workbook_bytes(files)))
    assert response.status_code == 422
    assert "book.xlsx[hubs]:3:rooms:" in response.get_data(as_text=True)


def test_workbook_upload_round_trips(app, seeded, as_role):
    """The federation's data downloaded as a workbook uploads again with nothing changed."""
    coordinator = as_role("coordinator")
    book = coordinator.get("/f/north/data/workbook.xlsx")
    assert book.status_code == 200
    response = _upload(coordinator, ("north.xlsx", book.data))
    assert response.status_code == 302
    assert "The upload changes nothing" in coordinator.get(response.location).get_data(as_text=True)


def test_unknown_file_is_refused(app, seeded, as_role):
    """A file that is none of DESIGN.md's is named in the errors."""
    response = _upload(as_role("coordinator"), ("staff.csv", b"a,b\n1,2\n"))
    assert response.status_code == 422
    assert "staff.csv" in response.get_data(as_text=True)


def test_discard_drops_the_draft(app, seeded, as_role):
    """Discarding a previewed upload deletes it; its page then answers 404."""
    coordinator = as_role("coordinator")
    assert coordinator.post(f"/f/north/data/drafts/{seeded.north_draft}/discard").status_code == 302
    assert coordinator.get(f"/f/north/data/drafts/{seeded.north_draft}").status_code == 404


def test_templates_download(app, seeded, as_role):
    """Each file's CSV template and the workbook template download, and the workbook loads."""
    c = as_role("coordinator")
    csv_template = c.get("/f/north/data/templates/clinicians.csv")
    assert csv_template.status_code == 200
    assert csv_template.get_data(as_text=True).startswith("clinician_id,name,practice_code,role")
    book = load_workbook(io.BytesIO(c.get("/f/north/data/templates/workbook.xlsx").data))
    assert {"practices", "hubs", "clinicians", "patterns", "availability", "rota"} <= set(
        book.sheetnames
    )
    assert c.get("/f/north/data/templates/nothing.csv").status_code == 404


def test_workbook_sheets_become_csv_and_toml():
    """Dates, times and whole numbers in cells become the text the loader expects; the rota
    sheet becomes rota.toml."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Patterns"
    sheet.append(["hub_id", "weekday", "start", "end", "roles", "min"])
    from datetime import time

    sheet.append(["H1", "Mon", time(18, 30), time(20, 0), "GP", 1.0])
    rota = book.create_sheet("rota")
    rota.append(["key", "value"])
    rota.append(["period.start", "2027-03-01"])
    rota.append(["rules.gp_cover", "false"])
    rota.append(["rules.availability_default", "available"])
    buffer = io.BytesIO()
    book.save(buffer)
    upload = read_uploads([("b.xlsx", io.BytesIO(buffer.getvalue()))])
    assert upload.errors == []
    assert (
        upload.files["patterns.csv"]
        == "hub_id,weekday,start,end,roles,min\nH1,Mon,18:30,20:00,GP,1\n"
    )
    assert upload.labels["patterns.csv"] == "b.xlsx[Patterns]"
    assert "start = 2027-03-01" in upload.files["rota.toml"]
    assert "gp_cover = false" in upload.files["rota.toml"]
    assert 'availability_default = "available"' in upload.files["rota.toml"]


def test_availability_editor_cycles_and_saves(app, seeded, as_role):
    """Setting a day to P and another to U saves a new data version with those cells."""
    coordinator = as_role("coordinator")
    page = coordinator.get("/f/north/availability/C3")
    assert page.status_code == 200 and 'name="d-2027-03-06"' in page.get_data(as_text=True)
    response = coordinator.post(
        "/f/north/availability/C3", {"d-2027-03-06": "P", "d-2027-03-13": "U"}
    )
    assert response.status_code == 302
    assert _versions(app, seeded.north) == 2
    text = coordinator.get("/f/north/data/files/availability.csv").get_data(as_text=True)
    assert "C3,2027-03-06,P" in text and "C3,2027-03-13,U" in text


def test_availability_editor_refuses_unknown_values(app, seeded, as_role):
    """Every role may view the grid; a bad cell value is refused with 400."""
    assert (
        as_role("coordinator").post("/f/north/availability/C3", {"d-2027-03-06": "X"}).status_code
        == 400
    )


def test_rewrite_long_form_changes_only_the_given_days():
    """In long form, the clinician's rows for changed days are replaced; others are kept."""
    text = (
        "clinician_id,date,status,start,end\n"
        "C1,2027-03-01,A,18:00,20:00\nC1,2027-03-02,A,,\nC2,2027-03-01,U,,\n"
    )
    out = rewrite(text, "C1", {date(2027, 3, 2): "U", date(2027, 3, 3): "P"})
    assert out.splitlines() == [
        "clinician_id,date,status,start,end",
        "C1,2027-03-01,A,18:00,20:00",
        "C2,2027-03-01,U,,",
        "C1,2027-03-02,U,,",
        "C1,2027-03-03,P,,",
    ]


def test_rewrite_grid_form_sets_cells_and_adds_columns():
    """In grid form, the clinician's cells change, a missing date gets a column, a blank clears."""
    text = "clinician_id,2027-03-01,2027-03-02\nC1,A,\nC2,U,P\n"
    out = rewrite(text, "C2", {date(2027, 3, 1): "", date(2027, 3, 3): "A"})
    assert out.splitlines() == [
        "clinician_id,2027-03-01,2027-03-02,2027-03-03",
        "C1,A,,",
        "C2,,P,A",
    ]
