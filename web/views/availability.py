"""One clinician's availability for the period, edited in a grid (click a day to cycle A/P/U).

Saving rewrites only the changed days in the stored availability.csv, in whichever form (long or
grid) it was uploaded, checks the result with scheduler.io.load and saves it as a new data version.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from scheduler.io.load import InputErrors, parse_date
from web.db import get_db
from web.models import Dataset, DatasetFile
from web.services.problems import current_dataset, labels_of, loaded, located, parse_files, remember
from web.services.upload_preview import LETTER
from web.views.auth import federation_blueprint
from web.views.paging import matches, paginate

bp = federation_blueprint("availability", __name__, "/availability")

FILE = "availability.csv"
CHOICES = ("", "A", "P", "U")
WORDS = {"": "not entered", "A": "available", "P": "preferred", "U": "unavailable"}


def _header_key(name: str) -> str:
    return "_".join(name.replace("\ufeff", "").strip().casefold().split())


def _as_date(text: str) -> date | None:
    try:
        return parse_date(text)
    except (ValueError, TypeError):
        return None


def rewrite(text: str, clinician_id: str, changes: dict[date, str]) -> str:
    """availability.csv with `changes` (day → '', 'A', 'P' or 'U') made for one clinician."""
    rows = list(csv.reader(io.StringIO(text)))
    header_at = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    if header_at is None:
        rows, header_at = [["clinician_id", "date", "status"]], 0
    header = [_header_key(c) for c in rows[header_at]]
    if "status" in header:
        body = _rewrite_long(rows[header_at + 1 :], header, clinician_id, changes)
    else:
        body = _rewrite_grid(rows[header_at + 1 :], rows[header_at], header, clinician_id, changes)
        rows[header_at] = body.pop(0)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows[: header_at + 1] + body)
    return buffer.getvalue()


def _rewrite_long(
    body: list[list[str]], header: list[str], clinician_id: str, changes: dict[date, str]
) -> list[list[str]]:
    who, when, status = (header.index(c) for c in ("clinician_id", "date", "status"))
    kept = [
        r
        for r in body
        if not (
            len(r) > max(who, when)
            and r[who].strip() == clinician_id
            and _as_date(r[when].strip()) in changes
        )
    ]
    for day, letter in sorted(changes.items()):
        if letter:
            row = [""] * len(header)
            row[who], row[when], row[status] = clinician_id, day.isoformat(), letter
            kept.append(row)
    return kept


def _rewrite_grid(
    body: list[list[str]],
    raw_header: list[str],
    header: list[str],
    clinician_id: str,
    changes: dict[date, str],
) -> list[list[str]]:
    raw_header = list(raw_header)
    who = header.index("clinician_id") if "clinician_id" in header else 0
    columns = {d: i for i, c in enumerate(raw_header) if (d := _as_date(c.strip())) is not None}
    for day in sorted(changes):
        if day not in columns and changes[day]:
            columns[day] = len(raw_header)
            raw_header.append(day.isoformat())
    width = len(raw_header)
    body = [r + [""] * (width - len(r)) for r in body]
    mine = next((r for r in body if len(r) > who and r[who].strip() == clinician_id), None)
    if mine is None:
        mine = [""] * width
        mine[who] = clinician_id
        body.append(mine)
    for day, letter in changes.items():
        if day in columns:
            mine[columns[day]] = letter
    return [raw_header, *body]


def _cell(offers) -> tuple[str, str]:
    """The editor's value for a day and a note for entries it cannot show (windows, several)."""
    if not offers:
        return "", ""
    if len(offers) == 1 and offers[0].start is None:
        return LETTER[offers[0].status], ""
    note = "; ".join(
        f"{LETTER[o.status]}" + (f" {o.start:%H:%M}–{o.end:%H:%M}" if o.start else "")
        for o in offers
    )
    return LETTER[offers[0].status], note


@bp.get("/")
def index():
    dataset = current_dataset(get_db(), g.federation.id)
    if dataset is None:
        return render_template("availability/index.html", problem=None, rows=[])
    problem = loaded(dataset).problem
    query = request.args.get("q", "").strip()
    found = [
        c
        for c in sorted(problem.clinicians, key=lambda c: (c.name.casefold(), c.clinician_id))
        if matches(query, c.name, c.clinician_id)
    ]
    page = paginate(found)
    days = problem.days()
    rows = []
    for c in page.items:  # counted for this page only
        counts = {letter: 0 for letter in "APU"}
        for day in days:
            for offer in problem.availability.get((c.clinician_id, day), ()):
                counts[LETTER[offer.status]] += 1
        rows.append((c, counts))
    return render_template(
        "availability/index.html", problem=problem, rows=rows, q=query, page=page
    )


@bp.route("/<clinician_id>", methods=("GET", "POST"))
def edit(clinician_id: str):
    db = get_db()
    dataset = current_dataset(db, g.federation.id)
    if dataset is None:
        abort(404)
    problem = loaded(dataset).problem
    if clinician_id not in problem.clinicians_by_id:
        abort(404)
    clinician = problem.clinician(clinician_id)
    days = problem.days()
    cells = {d: _cell(problem.availability.get((clinician_id, d))) for d in days}
    errors: list[dict] = []
    if request.method == "POST":
        if not g.user.may("coordinator"):
            abort(403)
        changes = {}
        for d in days:
            value = request.form.get(f"d-{d.isoformat()}", cells[d][0])
            if value not in CHOICES:
                abort(400)
            if value != cells[d][0]:
                changes[d] = value
        if not changes:
            flash("Nothing changed.", "info")
            return redirect(url_for(".edit", clinician_id=clinician_id))
        errors = _save(db, dataset, clinician_id, changes)
        if not errors:
            flash(
                f"Saved {len(changes)} day{'s' if len(changes) != 1 else ''} for {clinician.name}.",
                "success",
            )
            return redirect(url_for(".edit", clinician_id=clinician_id))
    first = days[0] - timedelta(days=days[0].weekday()) if days else None
    padded = [first + timedelta(days=i) for i in range((days[-1] - first).days + 1)] if days else []
    session_days = {s.date for s in problem.sessions}
    return render_template(
        "availability/edit.html",
        c=clinician,
        problem=problem,
        cells=cells,
        padded=padded,
        period=set(days),
        session_days=session_days,
        errors=errors,
        words=WORDS,
    ), (422 if errors else 200)


def _save(db, dataset: Dataset, clinician_id: str, changes: dict[date, str]) -> list[dict]:
    files = dataset.texts()
    files[FILE] = rewrite(files.get(FILE, ""), clinician_id, changes)
    labels = labels_of(dataset)
    try:
        parsed = parse_files(files)
    except InputErrors as exc:
        return [located(e, labels) for e in exc.errors]
    latest = (
        db.scalar(select(func.max(Dataset.version)).where(Dataset.federation_id == g.federation.id))
        or 0
    )
    labels[FILE] = f"{FILE} (edited in the browser)"
    new = Dataset(
        federation_id=g.federation.id,
        version=latest + 1,
        created_by_id=g.user.id,
        note=f"availability of {clinician_id}: {len(changes)} day(s)",
        labels=json.dumps(labels),
    )
    new.files = [DatasetFile(name=n, content=t) for n, t in sorted(files.items())]
    db.add(new)
    db.commit()
    remember(new.id, parsed)
    return []
