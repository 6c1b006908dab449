"""The demo federation: the sample data saved as version 1, three users, a first rota started."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

from flask import Flask

from scheduler.io.load import InputErrors
from web.db import new_session
from web.models import Dataset, DatasetFile, Federation
from web.services.accounts import create_user, ensure_federation
from web.services.feed_links import issue
from web.services.jobs import start_optimise
from web.services.problems import current_dataset, loaded, parse_files
from web.services.upload_files import read_uploads

ROOT = Path(__file__).resolve().parents[2]


def sample_source() -> Path | None:
    """data/sample.xlsx, else the data/sample folder (when it holds the input files)."""
    for candidate in (ROOT / "data" / "sample.xlsx", ROOT / "data" / "sample"):
        if candidate.is_file() or (candidate / "clinicians.csv").is_file():
            return candidate
    return None


def files_of(source: Path) -> tuple[dict[str, str], dict[str, str]]:
    """A workbook or a rota folder as stored files and their labels; raises InputErrors."""
    if source.is_dir():
        paths = [p for p in sorted(source.iterdir()) if p.is_file()]
        streams = [
            (p.name, io.BytesIO(p.read_bytes()))
            for p in paths
            if p.suffix.casefold() in (".csv", ".toml")
        ]
    else:
        streams = [(source.name, io.BytesIO(source.read_bytes()))]
    upload = read_uploads(streams)
    if upload.errors:
        raise InputErrors(upload.errors)
    return upload.files, upload.labels


def load_demo(
    app: Flask,
    source: Path,
    password: str,
    users: tuple[tuple[str, str], ...],
    time_limit: int = 20,
    slug: str = "demo",
    name: str = "Demo Federation",
    solve: bool = True,
) -> int:
    """Save the sample as the federation's data, add the users, start a first solve (unless
    `solve` is false: the caller starts it). Returns the run's id, or the federation's."""
    files, labels = files_of(source)
    parse_files(files)  # refuse a broken sample before anything is stored
    with app.app_context(), new_session(app) as db:
        federation = ensure_federation(db, slug, name, time_limit)
        for email, role in users:
            create_user(
                db,
                federation=federation,
                email=email,
                password=password,
                role=role,
                name=email.split("@")[0].title(),
            )
        dataset = Dataset(
            federation_id=federation.id, version=1, note=source.name, labels=json.dumps(labels)
        )
        dataset.files = [DatasetFile(name=n, content=t) for n, t in sorted(files.items())]
        db.add(dataset)
        db.commit()
        federation_id = federation.id
    if not solve:
        return federation_id
    return start_optimise(app, federation_id, None, time_limit)


def clinician_link(app: Flask, base_url: str, slug: str = "demo") -> tuple[str, str]:
    """A private link for the demo's first clinician, to try their page: (name, URL)."""
    with app.app_context(), new_session(app) as db:
        federation = db.query(Federation).filter_by(slug=slug).one()
        person = min(
            loaded(current_dataset(db, federation.id)).problem.clinicians,
            key=lambda c: c.clinician_id,
        )
        _, token = issue(db, federation.id, "clinician", person.clinician_id, None)
        db.commit()
    return person.name, f"{base_url.rstrip('/')}/feeds/{token}"


def open_request(app: Flask, slug: str = "demo") -> tuple[date, date, date]:
    """An open availability request over the sample's period, so the demo shows one (its
    e-mails go to the Outbox): (first day, last day, closing date)."""
    from web.services import asking

    with app.app_context(), new_session(app) as db:
        federation = db.query(Federation).filter_by(slug=slug).one()
        problem = loaded(current_dataset(db, federation.id)).problem
        first, last = problem.period_start, problem.period_end
        closes = max(date.today(), min(last, first - timedelta(days=7)))
        asking.open_request(
            db,
            federation,
            None,
            first,
            last,
            closes,
            "Please mark the evenings and Saturdays you can work. Thank you!",
        )
        db.commit()
    return first, last, closes
