"""Exports (CSV, XLSX, printable pages) and the pictures of the insights page."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from scheduler.io.load import ROTA_COLUMNS
from web.services.cells import neutralise_csv, safe_cell


def test_csv_export_has_the_design_columns(app, seeded, as_role):
    """The CSV has DESIGN.md's rota.csv columns and one row per assignment."""
    response = as_role("coordinator").get("/f/north/rota/export.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert tuple(rows[0]) == ROTA_COLUMNS
    assert len(rows) == 1 + 5
    assert [
        "H1-20270301-1830-2000",
        "H1",
        "2027-03-01",
        "18:30",
        "20:00",
        "GP",
        "C1",
        "Ann Able",
        "P1",
        "yes",
    ] in rows


def test_xlsx_export_has_rota_and_unfilled_sheets(app, seeded, as_role):
    """The workbook has the rota and the unfilled posts with their reasons."""
    response = as_role("coordinator").get("/f/north/rota/export.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["rota", "unfilled"]
    assert [c.value for c in book["rota"][1]] == list(ROTA_COLUMNS)
    reasons = [row[7] for row in book["unfilled"].iter_rows(min_row=2, values_only=True)]
    assert "no Practice Nurse offered Thu 11 Mar 2027" in reasons


def test_formula_cells_are_neutralised(app, seeded, as_role):
    """A name starting with = + - or @ leaves as text, in CSV and XLSX alike."""
    assert safe_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert [safe_cell(v) for v in ("+1", "-1", "@a", "Ann", 3)] == ["'+1", "'-1", "'@a", "Ann", 3]
    assert neutralise_csv("a,b\n=1+1,ok\n") == "a,b\n'=1+1,ok\n"
    coordinator = as_role("coordinator")
    from tests.web.conftest import tiny_files

    text = tiny_files()["clinicians.csv"].replace("Ann Able", "=cmd|' /C calc'!A0")
    upload = coordinator.post(
        "/f/north/data/upload",
        {"files": [(io.BytesIO(text.encode()), "clinicians.csv")]},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    coordinator.post(upload.location + "/save")
    exported = coordinator.get("/f/north/rota/export.csv").get_data(as_text=True)
    assert "'=cmd|' /C calc'!A0" in exported and "\n=cmd" not in exported
    book = load_workbook(io.BytesIO(coordinator.get("/f/north/rota/export.xlsx").data))
    names = {row[7] for row in book["rota"].iter_rows(min_row=2, values_only=True)}
    assert "'=cmd|' /C calc'!A0" in names


def test_printable_page_per_hub_and_week(app, seeded, as_role):
    """The print page has one section per hub and week; filters narrow it to one."""
    c = as_role("coordinator")
    everything = c.get("/f/north/rota/print").get_data(as_text=True)
    assert everything.count('class="print-week') == 4
    one = c.get("/f/north/rota/print?hub=H1&week=2027-03-01").get_data(as_text=True)
    assert one.count('class="print-week') == 1 and "North Hub" in one
    assert c.get("/f/north/rota/print?week=nonsense").status_code == 400


def test_exports_need_a_rota(app, tiny_loaded):
    """With data but no rota yet, the exports answer 404."""
    from tests.web.conftest import Client, seed

    seed(app, tiny_loaded, rota=False)
    c = Client(app.test_client())
    c.login("manager@north")
    assert c.get("/f/north/rota/export.csv").status_code == 404


def test_insights_draw_svg_charts(app, seeded, as_role):
    """The insights page has the contract chart, coverage heatmap, fair shares and load as
    inline SVG."""
    page = as_role("coordinator").get("/f/north/insights/").get_data(as_text=True)
    assert page.count("<svg") == 4
    assert "North Hub, Mon 01 Mar: 1/1" in page
    assert "River Hub, Thu 11 Mar: 0/1" in page
    assert "North Surgery" in page and "Ann Able" in page
    assert "<script" not in page.split("<main")[1].split("</main>")[0]
