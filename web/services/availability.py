"""One clinician's availability changed day by day: the stored availability.csv rewritten in
whichever form (long or grid) it was uploaded, checked with scheduler.io.load and saved as a new
data version. The Availability page and the API both use it."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from scheduler.io.load import InputErrors, parse_date
from web.models import Dataset, DatasetFile
from web.services.problems import labels_of, located, parse_files, remember

FILE = "availability.csv"


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


def save_changes(
    db: DbSession,
    federation_id: int,
    user_id: int | None,
    dataset: Dataset,
    clinician_id: str,
    changes: dict[date, str],
) -> list[dict]:
    """Save `changes` (day → '', 'A', 'P' or 'U') as the next data version; the errors of the
    result ({file, row, column, message, line}), when it does not load, and then nothing is
    saved."""
    files = dataset.texts()
    files[FILE] = rewrite(files.get(FILE, ""), clinician_id, changes)
    labels = labels_of(dataset)
    try:
        parsed = parse_files(files)
    except InputErrors as exc:
        return [located(e, labels) for e in exc.errors]
    latest = (
        db.scalar(select(func.max(Dataset.version)).where(Dataset.federation_id == federation_id))
        or 0
    )
    labels[FILE] = f"{FILE} (edited in the browser)"
    new = Dataset(
        federation_id=federation_id,
        version=latest + 1,
        created_by_id=user_id,
        note=f"availability of {clinician_id}: {len(changes)} day(s)",
        labels=json.dumps(labels),
    )
    new.files = [DatasetFile(name=n, content=t) for n, t in sorted(files.items())]
    db.add(new)
    db.commit()
    remember(new.id, parsed)
    return []
