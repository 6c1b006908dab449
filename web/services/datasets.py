"""Uploads into drafts, drafts into saved versions: what the Data page and the API both do.

An upload is checked whole by scheduler.io.load (through web.services.problems) together with
the current files it replaces; only an upload with no errors becomes a draft. Saving gives the
draft the next version number and drops the federation's other drafts in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from scheduler.io.load import InputError, InputErrors
from web.models import Dataset, DatasetFile
from web.services import upload_lock
from web.services.labels import people
from web.services.problems import (
    current_dataset,
    labels_of,
    loaded,
    located,
    parse_files,
    relabel,
    remember,
)
from web.services.upload_files import Caps, merged, read_uploads
from web.services.upload_preview import Preview, compare


@dataclass(frozen=True)
class Uploaded:
    draft: Dataset | None  # None when there were errors
    errors: list[dict[str, object]]  # {file, row, column, message, line}


class SaveConflict(Exception):
    """Another version was saved at the same moment: nothing was saved."""


class UploadBusy(Exception):
    """The user's previous upload is still being read: this one was not read."""


def upload_draft(
    db: DbSession,
    federation_id: int,
    user_id: int | None,
    files: list[tuple[str, IO[bytes]]],
    caps: Caps | None = None,
) -> Uploaded:
    """Files (CSV, rota.toml or one workbook) over the current data, as a new draft, within
    `caps`. One upload at a time per user: raises UploadBusy while another is being read."""
    if user_id is not None and not upload_lock.acquire(db, user_id):
        raise UploadBusy
    try:
        return _upload_draft(db, federation_id, user_id, files, caps or Caps())
    finally:
        if user_id is not None:
            upload_lock.release(db, user_id)


def _upload_draft(
    db: DbSession,
    federation_id: int,
    user_id: int | None,
    files: list[tuple[str, IO[bytes]]],
    caps: Caps,
) -> Uploaded:
    current = current_dataset(db, federation_id)
    upload = read_uploads(files, caps)
    labels = {**(labels_of(current) if current else {}), **upload.labels}
    errors = [located(e, labels) for e in upload.errors]
    result = None
    texts = merged(current.texts() if current else {}, upload)
    if not errors:
        try:
            result = parse_files(texts)
        except InputErrors as exc:
            errors = [located(e, labels) for e in exc.errors]
    if result is not None and len(result.problem.sessions) > caps.sessions:
        source = next(
            (labels.get(n, n) for n in ("sessions.csv", "patterns.csv") if n in upload.files),
            ", ".join(name for name, _ in files),
        )
        message = (
            f"refused: {len(result.problem.sessions):,} sessions (at most {caps.sessions:,} in "
            "one federation; the setting HUBROTA_UPLOAD_MAX_SESSIONS raises it)"
        )
        errors = [located(InputError(source, 0, "", message), labels)]
    if errors:
        return Uploaded(None, errors)
    draft = Dataset(
        federation_id=federation_id,
        version=None,
        created_by_id=user_id,
        note=", ".join(name for name, _ in files)[:300],
        labels=json.dumps(dict(labels)),
    )
    draft.files = [DatasetFile(name=name, content=text) for name, text in sorted(texts.items())]
    db.add(draft)
    db.commit()
    if result is not None:
        remember(draft.id, result)
    return Uploaded(draft, [])


def preview_of(db: DbSession, federation_id: int, draft: Dataset) -> tuple[Preview, list[str]]:
    """What saving the draft would change against the current data, and its warnings."""
    current = current_dataset(db, federation_id)
    new = loaded(draft)
    preview = compare(loaded(current).problem if current else None, new.problem)
    labels = labels_of(draft)
    return preview, [relabel(w, labels) for w in new.warnings]


def repeated_names(draft: Dataset) -> list[tuple[str, list[str]]]:
    """Names held by several of the draft's clinicians, each with the labels that tell them
    apart (web.services.labels)."""
    problem = loaded(draft).problem
    who = people(problem)
    return [(name, [who(cid) for cid in ids]) for name, ids in who.repeated]


def save_draft(db: DbSession, federation_id: int, draft: Dataset) -> int:
    """The draft becomes the current data; returns its version. Raises SaveConflict when
    someone saved another version at the same moment (then nothing is saved)."""
    latest = (
        db.scalar(select(func.max(Dataset.version)).where(Dataset.federation_id == federation_id))
        or 0
    )
    draft.version = latest + 1
    db.execute(
        delete(Dataset).where(
            Dataset.federation_id == federation_id,
            Dataset.version.is_(None),
            Dataset.id != draft.id,
        )
    )
    try:
        db.commit()  # one transaction: the whole upload becomes current, or nothing does
    except IntegrityError as exc:
        db.rollback()
        raise SaveConflict from exc
    return draft.version


def find_dataset(db: DbSession, federation_id: int, dataset_id: int, draft: bool) -> Dataset | None:
    """The federation's draft (or saved version) of this id, else None."""
    dataset = db.get(Dataset, dataset_id)
    if dataset is None or dataset.federation_id != federation_id:
        return None
    if (dataset.version is None) != draft:
        return None
    return dataset
