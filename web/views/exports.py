"""The rota as CSV and XLSX, and a printable page per hub and week.

Every exported cell that starts with = + - or @ gets a leading apostrophe, so a spreadsheet
never runs it as a formula (names and notes come from uploads anyone could have written).
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date, timedelta
from pathlib import Path

from flask import Response, abort, g, render_template, request
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from scheduler.io.load import UNFILLED_COLUMNS, write_rota_csv
from web.db import get_db
from web.services.cells import safe_cell
from web.services.current_rota import findings, state, week_start, weeks_of
from web.views.auth import federation_blueprint

bp = federation_blueprint("exports", __name__, "/rota")


def _rota_rows(st) -> tuple[list[str], list[list[str]]]:
    """rota.csv exactly as `hubrota solve` writes it (scheduler.io.load), read back as rows."""
    with tempfile.TemporaryDirectory(prefix="hubrota-") as folder:
        path = Path(folder) / "rota.csv"
        write_rota_csv(st.problem, [a for a in st.rota if _known(st.problem, a)], path)
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    return rows[0], rows[1:]


def _known(problem, a) -> bool:
    return a.session_id in problem.sessions_by_id and a.clinician_id in problem.clinicians_by_id


def _unfilled_rows(st) -> list[list[object]]:
    unfilled, _ = findings(st, for_export=True)
    return [
        [
            u.session_id,
            u.hub_id,
            u.date.isoformat(),
            f"{u.start:%H:%M}",
            f"{u.end:%H:%M}",
            u.roles,
            u.missing,
            u.reason,
        ]
        for u in unfilled
    ]


def _state_with_rota():
    st = state(get_db(), g.federation.id)
    if st.problem is None or st.row is None:
        abort(404)
    return st


def _filename(st, ext: str) -> str:
    return f"{g.federation.slug}-rota-{st.problem.period_start:%Y%m%d}.{ext}"


@bp.get("/export.csv")
def rota_csv():
    st = _state_with_rota()
    header, rows = _rota_rows(st)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[safe_cell(c) for c in r] for r in rows])
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={_filename(st, 'csv')}"},
    )


@bp.get("/export.xlsx")
def rota_xlsx():
    st = _state_with_rota()
    header, rows = _rota_rows(st)
    book = Workbook()
    sheet = book.active
    sheet.title = "rota"
    _table(sheet, header, rows)
    _table(book.create_sheet("unfilled"), list(UNFILLED_COLUMNS), _unfilled_rows(st))
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename={_filename(st, 'xlsx')}"},
    )


def _table(sheet, header: list[str], rows: list[list[object]]) -> None:
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="005EB8")
    for row in rows:
        sheet.append([safe_cell(c) for c in row])
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(60, max(8, width + 2))


@bp.get("/print")
def printable():
    """One page per hub per week: the sessions, who works them and the posts still open."""
    st = _state_with_rota()
    problem = st.problem
    weeks = weeks_of(problem)
    wanted_week = request.args.get("week", "")
    wanted_hub = request.args.get("hub", "")
    if wanted_week:
        try:
            weeks = [week_start(date.fromisoformat(wanted_week))]
        except ValueError:
            abort(400)
    hubs = [h for h in problem.hubs if not wanted_hub or h.hub_id == wanted_hub]
    if not hubs:
        abort(404)
    unfilled, _ = findings(st)
    missing = {(u.session_id, u.post_index): u for u in unfilled}
    by_post: dict[tuple[str, int], list[str]] = {}
    for a in st.rota:
        if _known(problem, a):
            by_post.setdefault((a.session_id, a.post_index), []).append(a.clinician_id)
    pages = []
    for hub in hubs:
        for monday in weeks:
            sessions = [
                s
                for s in problem.sessions
                if s.hub_id == hub.hub_id and monday <= s.date < monday + timedelta(days=7)
            ]
            if sessions:
                pages.append((hub, monday, sessions))
    return render_template(
        "rota/print.html", st=st, pages=pages, by_post=by_post, missing=missing, timedelta=timedelta
    )
