"""Uploaded files into stored input files: CSV text by DESIGN.md name, and rota.toml.

A workbook's sheets become CSV text (keeping every row, so row numbers in messages still match
the sheet) and its optional `rota` sheet becomes rota.toml. Labels remember where each stored
file came from ("sample.xlsx[clinicians]"), so messages name what the user uploaded.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO

from openpyxl import load_workbook

from scheduler.io.load import InputError, check_workbook, known_sheet, without_unknown_sheets
from web.services.problems import FILE_NAMES

SETTINGS = "rota.toml"
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


@dataclass
class Upload:
    files: dict[str, str] = field(default_factory=dict)  # stored name → text
    labels: dict[str, str] = field(default_factory=dict)  # stored name → name shown
    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Caps:
    """The most an upload may hold, to fit a federation (settings UPLOAD_MAX_CLINICIANS,
    _SESSIONS, _PRACTICES and _HUBS): rows are counted before anything is parsed, and past the
    cap the file is refused with a message naming it. The pages that list clinicians show a
    page at a time; the caps also bound what one optimiser run is given."""

    clinicians: int = 5_000
    sessions: int = 20_000
    practices: int = 500
    hubs: int = 200

    @classmethod
    def of(cls, config: Mapping[str, object]) -> Caps:
        def setting(name: str, default: int) -> int:
            return int(str(config.get(f"UPLOAD_MAX_{name.upper()}", default)))

        return cls(
            clinicians=setting("clinicians", cls.clinicians),
            sessions=setting("sessions", cls.sessions),
            practices=setting("practices", cls.practices),
            hubs=setting("hubs", cls.hubs),
        )

    def rows(self, stored: str) -> tuple[int, str, str] | None:
        """(most data rows, what a row is, the setting) of a stored file that has a cap. A
        weekly pattern gives at least one session, so patterns share the sessions' cap."""
        for what in ("clinicians", "practices", "hubs"):
            if stored == f"{what}.csv":
                return getattr(self, what), what, f"UPLOAD_MAX_{what.upper()}"
        if stored in ("sessions.csv", "patterns.csv"):
            return self.sessions, stored.removesuffix(".csv"), "UPLOAD_MAX_SESSIONS"
        return None


def read_uploads(uploads: list[tuple[str, IO[bytes]]], caps: Caps | None = None) -> Upload:
    """(filename, stream) pairs: CSV files named as in DESIGN.md, rota.toml, or .xlsx workbooks."""
    caps = caps or Caps()
    out = Upload()
    for filename, stream in uploads:
        name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].strip()
        lowered = name.casefold()
        data = stream.read()
        if lowered.endswith(".xlsx"):
            _read_workbook(name, data, out, caps)
        elif lowered in FILE_NAMES:
            cap = caps.rows(lowered)
            if cap is not None:
                # lines, less the header: at least the rows (quoted line breaks only add)
                rows = data.count(b"\n") + (not data.endswith(b"\n")) - 1
                if rows > cap[0]:
                    out.errors.append(_over_cap(name, rows, cap, "about "))
                    continue
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                out.errors.append(InputError(name, 0, "", "not UTF-8 text (save it as CSV UTF-8)"))
                continue
            # a lone CR ends a line for pandas too; left in, csv.reader (workbook_bytes) fails
            _put(out, lowered, text.replace("\r\n", "\n").replace("\r", "\n"), name)
        elif lowered.endswith(".csv"):
            out.errors.append(
                InputError(
                    name,
                    0,
                    "",
                    "unknown file: expected one of "
                    + ", ".join(n for n in FILE_NAMES if n.endswith(".csv")),
                )
            )
        else:
            out.errors.append(
                InputError(name, 0, "", "expected CSV files, rota.toml or one .xlsx workbook")
            )
    return out


def _over_cap(label: str, rows: int, cap: tuple[int, str, str], about: str = "") -> InputError:
    most, what, setting = cap
    return InputError(
        label,
        0,
        "",
        f"refused: {about}{rows:,} {what} (at most {most:,} in one federation; the setting "
        f"HUBROTA_{setting} raises it)",
    )


def _put(out: Upload, stored: str, text: str, label: str) -> None:
    if stored in out.files:
        out.errors.append(
            InputError(label, 0, "", f"{stored} given twice (also as {out.labels[stored]})")
        )
        return
    out.files[stored] = text
    out.labels[stored] = label


def _read_workbook(name: str, data: bytes, out: Upload, caps: Caps) -> None:
    refused = check_workbook(data, name)  # zip bombs and huge sheets, before openpyxl opens it
    if refused:
        out.errors.extend(refused)
        return
    try:
        # read-only: each sheet is streamed as it is read, and a sheet not read is never parsed
        book = load_workbook(
            io.BytesIO(without_unknown_sheets(data)), read_only=True, data_only=True
        )
    except Exception as exc:  # zipfile and openpyxl raise many kinds for a damaged file
        out.errors.append(InputError(name, 0, "", f"cannot read workbook ({type(exc).__name__})"))
        return
    try:
        for title in book.sheetnames:
            label = f"{name}[{title}]"
            if not known_sheet(title):
                out.warnings.append(f"{label}:0:: unknown sheet ignored")
                continue
            key = title.strip().casefold().removesuffix(".csv")
            stored = SETTINGS if key == "rota" else f"{key}.csv"
            cap = caps.rows(stored)
            rows = []
            for row in book[title].iter_rows(values_only=True):
                rows.append([_cell_text(v) for v in row])
                if cap is not None and len(rows) > cap[0] + 1:
                    break
            if cap is not None and len(rows) > cap[0] + 1:
                out.errors.append(_over_cap(label, len(rows) - 1, cap, "more than "))
                continue
            _put(
                out, stored, _toml_from_rows(rows) if stored == SETTINGS else _csv_text(rows), label
            )
    except Exception as exc:  # a damaged sheet: openpyxl raises many kinds
        out.errors.append(InputError(name, 0, "", f"cannot read workbook ({type(exc).__name__})"))
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_text(rows: list[list[str]]) -> str:
    while rows and not any(rows[-1]):
        rows.pop()
    width = max((len(r) for r in rows), default=0)
    while width and not any(len(r) >= width and r[width - 1] for r in rows):
        width -= 1
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([(r + [""] * width)[:width] for r in rows])
    return buffer.getvalue()


def _toml_from_rows(rows: list[list[str]]) -> str:
    """The workbook's `rota` sheet (columns key = section.key, value) as rota.toml text."""
    filled = [r for r in rows if any(r)]
    if not filled:
        return ""
    header = [h.strip().casefold() for h in filled[0]]
    if "key" not in header or "value" not in header:
        return "# the rota sheet needs columns key and value\n[rota_sheet]\n"
    k, v = header.index("key"), header.index("value")
    sections: dict[str, list[str]] = {}
    for row in filled[1:]:
        key = row[k].strip() if k < len(row) else ""
        raw = row[v].strip() if v < len(row) else ""
        section, _, item = key.partition(".")
        if not item:
            sections.setdefault("rota_sheet", []).append(f"{json.dumps(key)} = {json.dumps(raw)}")
            continue
        sections.setdefault(section, []).append(f"{item} = {_toml_value(raw)}")
    return "".join(
        f"[{section}]\n" + "".join(line + "\n" for line in lines) + "\n"
        for section, lines in sections.items()
    )


def _toml_value(raw: str) -> str:
    if _DATE.fullmatch(raw):
        year, month, day = (int(x) for x in raw.split("-"))
        return f"{year:04d}-{month:02d}-{day:02d}"
    try:
        tomllib.loads(f"v = {raw}")
        return raw
    except tomllib.TOMLDecodeError:
        return json.dumps(raw)


def merged(current: dict[str, str], upload: Upload) -> dict[str, str]:
    """The current files with the uploaded ones in their place."""
    return {**current, **upload.files}


def workbook_bytes(files: dict[str, str]) -> bytes:
    """The stored files as one workbook: a sheet per CSV file, rota.toml as a `rota` sheet."""
    from openpyxl import Workbook

    from web.services.cells import safe_cell

    book = Workbook()
    book.remove(book.active)
    for name in FILE_NAMES:
        if name not in files:
            continue
        if name == SETTINGS:
            sheet = book.create_sheet("rota")
            sheet.append(["key", "value"])
            for key, value in _toml_pairs(files[name]):
                sheet.append([key, value])
            continue
        sheet = book.create_sheet(name.removesuffix(".csv"))
        for row in csv.reader(io.StringIO(files[name])):
            sheet.append([safe_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _toml_pairs(text: str) -> list[tuple[str, str]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    pairs = []
    for section, table in data.items():
        if isinstance(table, dict):
            for key, value in table.items():
                shown = value.isoformat() if isinstance(value, date) else json.dumps(value)
                pairs.append(
                    (f"{section}.{key}", shown.strip('"') if isinstance(value, str) else shown)
                )
    return pairs
