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
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO

from openpyxl import load_workbook

from scheduler.io.load import InputError, check_workbook
from web.services.problems import FILE_NAMES

SETTINGS = "rota.toml"
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


@dataclass
class Upload:
    files: dict[str, str] = field(default_factory=dict)  # stored name → text
    labels: dict[str, str] = field(default_factory=dict)  # stored name → name shown
    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_uploads(uploads: list[tuple[str, IO[bytes]]]) -> Upload:
    """(filename, stream) pairs: CSV files named as in DESIGN.md, rota.toml, or .xlsx workbooks."""
    out = Upload()
    for filename, stream in uploads:
        name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].strip()
        lowered = name.casefold()
        data = stream.read()
        if lowered.endswith(".xlsx"):
            _read_workbook(name, data, out)
        elif lowered in FILE_NAMES:
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


def _put(out: Upload, stored: str, text: str, label: str) -> None:
    if stored in out.files:
        out.errors.append(
            InputError(label, 0, "", f"{stored} given twice (also as {out.labels[stored]})")
        )
        return
    out.files[stored] = text
    out.labels[stored] = label


def _read_workbook(name: str, data: bytes, out: Upload) -> None:
    refused = check_workbook(data, name)  # zip bombs and huge sheets, before openpyxl opens it
    if refused:
        out.errors.extend(refused)
        return
    try:
        book = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # zipfile and openpyxl raise many kinds for a damaged file
        out.errors.append(InputError(name, 0, "", f"cannot read workbook ({type(exc).__name__})"))
        return
    known = {n.removesuffix(".csv") for n in FILE_NAMES if n.endswith(".csv")}
    for sheet in book.worksheets:
        key = sheet.title.strip().casefold().removesuffix(".csv")
        label = f"{name}[{sheet.title}]"
        rows = [
            [_cell_text(v) for v in row]
            for row in sheet.iter_rows(min_row=1, max_row=sheet.max_row, values_only=True)
        ]
        if key in known:
            _put(out, f"{key}.csv", _csv_text(rows), label)
        elif key == "rota":
            _put(out, SETTINGS, _toml_from_rows(rows), label)
        else:
            out.warnings.append(f"{label}:0:: unknown sheet ignored")


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
