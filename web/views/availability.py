"""One clinician's availability for the period, edited in a grid (click a day to cycle A/P/U).

Saving rewrites only the changed days in the stored availability.csv, in whichever form (long or
grid) it was uploaded, checks the result with scheduler.io.load and saves it as a new data version.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, g, redirect, render_template, request, url_for

from web.db import get_db
from web.services.availability import save_changes
from web.services.problems import current_dataset, loaded
from web.services.upload_preview import LETTER
from web.views.auth import federation_blueprint
from web.views.paging import matches, paginate

bp = federation_blueprint("availability", __name__, "/availability")

CHOICES = ("", "A", "P", "U")
WORDS = {"": "not entered", "A": "available", "P": "preferred", "U": "unavailable"}


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
        errors = save_changes(db, g.federation.id, g.user.id, dataset, clinician_id, changes)
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
