"""Input boundary: reads a rota folder or workbook into a Problem, reporting every bad cell.

API
- `load_problem(src) -> Problem`: `src` is a folder of CSV files or one `.xlsx` workbook (one
  sheet per file, named like the file without `.csv`). Warnings are logged on the logger
  `scheduler.io.load`.
- `load_problem_with_warnings(src) -> (Problem, list[str])`: the same, returning the warnings
  (unknown columns, sheets and files; pins or one-off sessions ignored) instead of logging them.
- `load_rota(problem, path) -> Rota`: a rota.csv as `write_rota_csv` writes it.
- `write_rota_csv(problem, rota, path)`, `write_unfilled_csv(rows, path)`: DESIGN.md's outputs.

Bad input raises `InputErrors`, holding every `InputError(file, row, column, message)` found;
each prints as `file:row:column: message`. `row` is the row a spreadsheet shows (header 1, first
data row 2; 0 for a whole file); `file` is `book.xlsx[sheet]` inside a workbook. Warnings use
the same format.

Extensions to DESIGN.md (README documents them)
- clinicians.csv `preferred_hubs` (list of hub_ids).
- rota.toml `[period] reference_date`: "today" for the stability goal (default: period start).
- A workbook may carry an optional `rota` sheet with columns `key` (`section.key`, e.g.
  `rules.min_rest_hours`) and `value` (a TOML value; bare text is read as a string): the
  workbook's rota.toml.
- A hub with a blank `network` joins the practices' network when they all share one.
- Header names also match with inner spaces for underscores (`Practice Code`).

General rules (optional columns and keys; blank = no such rule)
- patterns.csv / sessions.csv: `kind` (a label of the session, e.g. a shift type, that the rules
  per kind below refer to; rows of one session must not give different kinds), `under_weight`
  and `over_weight` (whole numbers ≥ 0: each person short of `target`, or above it, costs that
  much in the `cover` goal), `max` (most people on the post, ≥ target; default target).
- clinicians.csv: `max_sessions_per_day` (≥ 1), `max_per_kind` (a list `kind=most`, e.g.
  `E=28;L=0`; 0 = never that kind), `max_minutes_per_period`, `min_minutes_per_period` (hard,
  minutes of sessions in the period), `max_consecutive_days` (≥ 1; overrides the rule),
  `min_consecutive_days` and `min_consecutive_days_off` (≥ 1; runs touching the first or last
  day of the period are exempt), `max_weekends` (weekends with a Saturday or Sunday worked).
- availability.csv, long form: `kind` and `weight` (whole number ≥ 0). An entry with a weight
  > 0 is a soft request, never a hard rule: `available`/`preferred` asks for a session (of
  `kind`, if given) that day, `unavailable` asks not to work one; the `requests` goal charges
  the weight when it is not met. A request does not offer the date: with
  `availability_default = "unavailable"` give an ordinary entry too. `kind` needs a weight;
  a request covers the whole day (no `start`/`end`).
- rota.toml `[rules]` of the network contract (scheduler.contract): `nsh_weekday` and
  `nsh_saturday` ("HH:MM-HH:MM"), `bank_holiday_policy` (`skip` | `make_up` | `run`; a pattern or
  session row with a blank `bank_holidays` cell follows it: `run` runs, else skip) and
  `make_up_weeks` (≥ 1).
- rota.toml `[rules]`: `max_sessions_per_day` (≥ 1, for everyone) and `forbidden_successions`
  (a list like `["L>E", "N>D"]`: a session of kind E may not follow one of kind L the day
  before).
- A kind named in `max_per_kind`, availability or `forbidden_successions` that no session has
  is a warning (a likely typo).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import logging
import math
import posixpath
import re
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO, Any, overload
from xml.parsers import expat

import pandas as pd

from scheduler.domain import (
    BANK_HOLIDAY_POLICIES,
    DEFAULT_NETWORK,
    Assignment,
    Clinician,
    ClinicianId,
    Hub,
    Offer,
    Pin,
    Post,
    Practice,
    Problem,
    Rota,
    Rules,
    Session,
    Status,
    Weights,
)
from scheduler.io.expand import REGIONS, DemandRow, expand

log = logging.getLogger(__name__)

ROTA_COLUMNS = (
    "session_id",
    "hub_id",
    "date",
    "start",
    "end",
    "roles",
    "clinician_id",
    "clinician_name",
    "practice_code",
    "locked",
)
UNFILLED_COLUMNS = ("session_id", "hub_id", "date", "start", "end", "roles", "missing", "reason")

REQUIRED_FILES = ("practices", "hubs", "clinicians", "patterns", "availability")
OPTIONAL_FILES = ("sessions", "assignments")
SETTINGS_FILE = "rota.toml"
SETTINGS_SHEET = "rota"

PRACTICE_COLUMNS = ("practice_code", "name", "list_size", "adjusted_population", "network")
HUB_COLUMNS = ("hub_id", "name", "address", "postcode", "rooms", "network")
CLINICIAN_COLUMNS = (
    "clinician_id",
    "name",
    "practice_code",
    "role",
    "email",
    "skills",
    "max_sessions_per_week",
    "max_sessions_per_period",
    "min_sessions_per_period",
    "hubs",
    "cost_per_hour",
    "weekly_hours_elsewhere",
    "preferred_hubs",
    "max_sessions_per_day",
    "max_per_kind",
    "max_minutes_per_period",
    "min_minutes_per_period",
    "max_consecutive_days",
    "min_consecutive_days",
    "min_consecutive_days_off",
    "max_weekends",
)
DEMAND_COLUMNS = (
    "hub_id",
    "start",
    "end",
    "roles",
    "min",
    "target",
    "skill",
    "bank_holidays",
    "valid_from",
    "valid_to",
    "kind",
    "under_weight",
    "over_weight",
    "max",
)
LONG_AVAILABILITY_COLUMNS = ("clinician_id", "date", "status", "start", "end", "kind", "weight")

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
STATUSES = {
    "available": Status.AVAILABLE,
    "a": Status.AVAILABLE,
    "preferred": Status.PREFERRED,
    "p": Status.PREFERRED,
    "unavailable": Status.UNAVAILABLE,
    "u": Status.UNAVAILABLE,
}
FLAGS = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}

_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")  # XLSX: "… 00:00:00"
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::00)?")
_WHOLE = re.compile(r"[+-]?\d+(?:\.0*)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # all but tab, line feed, return
_NUMBER = re.compile(r"£?\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))")


# ---- errors and warnings ---------------------------------------------------------------


@dataclass(frozen=True)
class InputError:
    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.message}"


class InputErrors(Exception):
    """Every problem found in the input; str() is one `file:row:column: message` per line."""

    def __init__(self, errors: Iterable[InputError]):
        self.errors: list[InputError] = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass
class _Report:
    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # (file, row, column, kind) wherever a session kind is named outside patterns and sessions,
    # checked against the sessions' kinds once they are known
    kinds_named: list[tuple[str, int, str, str]] = field(default_factory=list)
    kinds_given: dict[str, str] = field(default_factory=dict)  # post source → its row's kind

    def error(self, file: str, row: int, column: str, message: str) -> None:
        self.errors.append(InputError(file, row, column, message))

    def warn(self, file: str, row: int, column: str, message: str) -> None:
        self.warnings.append(str(InputError(file, row, column, message)))

    def raise_if_any(self) -> None:
        if self.errors:
            raise InputErrors(self.errors)


# ---- size guards -----------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """The most an input may hold. A workbook is inspected as a zip (its size, each member's
    compression ratio, the members, each sheet's rows and columns, declared and actual) before
    pandas or openpyxl expand it; a CSV file's size and width are checked before it is parsed
    and its rows as it is; the period is bounded before sessions are expanded over it."""

    max_file_bytes: int = 50 * 1024 * 1024  # a CSV file, rota.toml or workbook as stored
    max_unzipped_bytes: int = 100 * 1024 * 1024  # a workbook's members, unzipped
    max_compression_ratio: int = 100  # unzipped ÷ zipped, of a member over RATIO_FLOOR
    max_members: int = 1_000  # files inside a workbook
    # the text of every sheet's cells, loaded whole by any reader: an input's few thousand
    # names, emails and ids take well under 1 MB
    max_shared_strings_bytes: int = 16 * 1024 * 1024
    max_rows: int = 250_000  # of a CSV file or sheet
    max_columns: int = 2_000
    max_cells: int = 2_500_000  # rows × columns of a CSV file or sheet
    max_period_days: int = 731  # of the rota period: two years


LIMITS = Limits()
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)  # the period's bounds
# Numbers past these are typing slips, and would overflow the solver's 64-bit arithmetic.
MAX_WHOLE = 1_000_000  # any number in a cell or rota.toml
MAX_PEOPLE = 1_000  # min, target and max of a post, rooms of a hub
MAX_WEIGHT = 10_000  # a [weights] entry
RATIO_FLOOR = 1024 * 1024  # a member smaller than this unzipped may compress any amount
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,12})")
_XML_TEXT_DECLARATIONS = ("<!DOCTYPE", "<!ENTITY")  # no workbook has them; entity bombs do
_XML_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']")


def _size(count: int) -> str:
    if count < 1024 * 1024:
        return f"{count:,} bytes"
    return f"{count / (1024 * 1024):,.1f} MB"


def _table_too_big(rows: int, columns: int, limits: Limits) -> str:
    """What is over the limits in a table of rows × columns, or ''."""
    if rows > limits.max_rows:
        return f"{rows:,} rows (at most {limits.max_rows:,})"
    if columns > limits.max_columns:
        return f"{columns:,} columns (at most {limits.max_columns:,})"
    if rows * columns > limits.max_cells:
        return (
            f"{rows:,} rows × {columns:,} columns = {rows * columns:,} cells "
            f"(at most {limits.max_cells:,})"
        )
    return ""


def known_sheet(title: str) -> bool:
    """Whether a workbook's sheet is one of the input files (or the `rota` settings sheet):
    any other sheet is ignored, and never read."""
    key = title.strip().casefold().removesuffix(".csv")
    return key in REQUIRED_FILES + OPTIONAL_FILES or key == SETTINGS_SHEET


def check_workbook(
    source: str | Path | bytes, name: str, limits: Limits | None = None
) -> list[InputError]:
    """Why a workbook (a path, or its bytes) is unsafe to open, read from the zip alone without
    expanding any sheet; [] when pandas or openpyxl may read it. Each error names `name` (or
    `name[sheet]`) at row 0."""
    limits = limits or LIMITS
    try:
        size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
        if size > limits.max_file_bytes:
            return [
                InputError(
                    name,
                    0,
                    "",
                    f"refused: the workbook is {_size(size)} "
                    f"(at most {_size(limits.max_file_bytes)})",
                )
            ]
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as book:
            return _check_zip(book, name, limits)
    except Exception as exc:  # zipfile, zlib and expat raise many kinds for a damaged file
        return [InputError(name, 0, "", f"cannot read workbook ({type(exc).__name__}: {exc})")]


def _check_zip(book: zipfile.ZipFile, name: str, limits: Limits) -> list[InputError]:
    def refused(message: str, sheet: str = "") -> list[InputError]:
        return [InputError(f"{name}[{sheet}]" if sheet else name, 0, "", f"refused: {message}")]

    members = book.infolist()
    if len(members) > limits.max_members:
        return refused(
            f"{len(members):,} files inside the workbook (at most {limits.max_members:,})"
        )
    unzipped = sum(m.file_size for m in members)
    if unzipped > limits.max_unzipped_bytes:
        return refused(
            f"the workbook unzips to {_size(unzipped)} (at most "
            f"{_size(limits.max_unzipped_bytes)}): a zip bomb?"
        )
    for member in members:
        if (
            member.filename.casefold() == "xl/sharedstrings.xml"
            and member.file_size > limits.max_shared_strings_bytes
        ):
            return refused(
                f"its cells hold {_size(member.file_size)} of text (at most "
                f"{_size(limits.max_shared_strings_bytes)}): remove sheets that are not input files"
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR and ratio > limits.max_compression_ratio:
            return refused(
                f"{member.filename} is compressed {ratio:,.0f} to 1 (at most "
                f"{limits.max_compression_ratio} to 1): a zip bomb?"
            )
    sheet_paths = {m.filename for m in members if m.filename.startswith("xl/worksheets/")}
    for member in members:  # zipfile never unzips more than a member declares
        if member.filename not in sheet_paths and _declares_entities(book, member):
            return refused(
                f"{member.filename} declares a DOCTYPE or ENTITY (no workbook does): an XML bomb?"
            )
    for path, sheet in _worksheets(book).items():
        if not known_sheet(sheet):
            continue  # never read: an unknown sheet is ignored, whatever it holds
        if _declares_entities(book, book.getinfo(path)):
            return refused(
                f"{path} declares a DOCTYPE or ENTITY (no workbook does): an XML bomb?", sheet
            )
        with book.open(path) as stream:
            too_big = _sheet_too_big(stream, limits)
        if too_big:
            return refused(too_big, sheet)
    return []


_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<dimension ref="A1"/><sheetData/></worksheet>'
)


def without_unknown_sheets(data: bytes) -> bytes:
    """The workbook with every sheet that is not an input file emptied, so that no reader
    spends time on it: openpyxl measures each sheet when it opens a workbook, even read-only,
    and parses the whole sheet when its dimension is missing. `data` must have passed
    check_workbook. Returns `data` itself when there is nothing to empty."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        unknown = {path for path, title in _worksheets(book).items() if not known_sheet(title)}
        if not unknown:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
            for member in book.infolist():
                content = _EMPTY_SHEET if member.filename in unknown else book.read(member)
                target.writestr(member.filename, content)
    return out.getvalue()


def _declares_entities(book: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Whether the member's XML has a DOCTYPE or ENTITY, read as text in the encoding the
    XML parser would use (a UTF-16 member hides them from a byte search)."""
    overlap = max(len(d) for d in _XML_TEXT_DECLARATIONS) - 1
    tail = ""
    with book.open(member) as stream:
        head = stream.read(1024)
        decoder = codecs.getincrementaldecoder(_xml_encoding(head))(errors="replace")
        chunk = head
        while chunk:
            window = tail + decoder.decode(chunk)
            if any(d in window for d in _XML_TEXT_DECLARATIONS):
                return True
            tail = window[-overlap:]
            chunk = stream.read(1024 * 1024)
    return False


def _xml_encoding(head: bytes) -> str:
    """The encoding of an XML document from its first bytes (the XML spec's appendix F): a
    byte-order mark, the pattern of "<?" in UTF-16 or UTF-32, else the declaration's, else
    UTF-8. An encoding Python does not know is read as UTF-8 (expat refuses it anyway)."""
    for mark, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
        (b"<\0\0\0", "utf-32-le"),
        (b"\0\0\0<", "utf-32-be"),
        (b"<\0?\0", "utf-16-le"),
        (b"\0<\0?", "utf-16-be"),
    ):
        if head.startswith(mark):
            return encoding
    declared = _XML_ENCODING.match(head)
    if declared:
        try:
            return codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            pass
    return "utf-8"


def _worksheets(book: zipfile.ZipFile) -> dict[str, str]:
    """Member name → sheet title, for every sheet the workbook lists and every member under
    xl/worksheets/ (titled by its file name when the workbook does not list it)."""
    names = set(book.namelist())
    sheets: dict[str, str] = {}
    try:
        relations = ET.fromstring(book.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") or "" for r in relations}
        for element in ET.fromstring(book.read("xl/workbook.xml")).iter():
            if element.tag.rpartition("}")[2] != "sheet":
                continue
            ids = [v for k, v in element.attrib.items() if k.rpartition("}")[2] == "id"]
            target = targets.get(ids[0], "") if ids else ""
            path = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join("xl", target))
            )
            if path in names:
                sheets[path] = element.get("name") or path
    except (KeyError, ET.ParseError):
        pass  # openpyxl says what is wrong with the workbook's structure
    for member in sorted(names - set(sheets)):
        if member.startswith("xl/worksheets/") and member.endswith(".xml"):
            sheets[member] = posixpath.basename(member)
    return sheets


class _SheetTooBig(Exception):
    """Stops the scan of a sheet at the first limit passed."""


def _sheet_too_big(stream: IO[bytes], limits: Limits) -> str:
    """What is over the limits in a worksheet's XML: its declared dimension, then its rows and
    cells as written (a sheet may leave its dimension out or understate it); '' if nothing.
    expat's start tags alone: no tree is built, so the scan is quick and small."""
    rows = columns = row = 0
    last_ref, after_ref = "", 0  # the row's last cell reference, and cells after it without one

    def end_of_row() -> None:
        nonlocal columns
        found = _CELL_REF.fullmatch(last_ref)
        columns = max(columns, (_column_number(found.group(1)) if found else 0) + after_ref)
        too_big = _table_too_big(rows, columns, limits)
        if too_big:
            raise _SheetTooBig(f"the sheet has {too_big}")

    def start(tag: str, attributes: dict[str, str]) -> None:
        nonlocal rows, row, last_ref, after_ref
        if tag == "c" or tag.endswith(":c"):  # most tags: keep this quick
            ref = attributes.get("r")
            if ref:
                last_ref, after_ref = ref, 0
            else:
                after_ref += 1
            return
        tag = tag.rpartition(":")[2]
        if tag == "row":
            end_of_row()
            number = attributes.get("r", "")
            row = int(number) if number.isdigit() else row + 1
            rows, last_ref, after_ref = max(rows, row), "", 0
        elif tag == "dimension":
            ref = attributes.get("ref", "")
            found = _CELL_REF.fullmatch(ref.rpartition(":")[2])
            claimed = found and _table_too_big(
                int(found.group(2)), _column_number(found.group(1)), limits
            )
            if claimed:
                raise _SheetTooBig(f"the sheet claims {claimed} in its dimension {ref}")

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    try:
        while chunk := stream.read(1024 * 1024):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
        end_of_row()
    except _SheetTooBig as stop:
        return str(stop)
    return ""


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


# ---- tables ----------------------------------------------------------------------------


@dataclass
class _Row:
    file: str
    number: int  # as a spreadsheet shows it
    cells: dict[str, str]  # normalised column name → stripped text

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass
class _Table:
    file: str
    columns: list[str]  # normalised header names, in file order, duplicates dropped
    rows: list[_Row]
    header_row: int = 1

    def has(self, column: str) -> bool:
        return column in self.columns


def _normalise_header(name: str) -> str:
    name = name.replace("\ufeff", "").strip().casefold()
    if _DATE.fullmatch(name):  # a grid's date column; an XLSX date header ends in 00:00:00
        return re.split(r"[ t]", name)[0]
    return re.sub(r"\s+", "_", name)


def _table_from_cells(file: str, cells: list[list[str]], report: _Report) -> _Table | None:
    """Header = first non-blank row; later non-blank rows keep their spreadsheet numbers."""
    cells = [[("" if v is None else str(v)).strip() for v in row] for row in cells]
    numbered = [(i + 1, row) for i, row in enumerate(cells) if any(row)]
    if not numbered:
        report.error(file, 0, "", "file is empty (no header row)")
        return None
    for number, row in numbered:  # a database cannot store NUL, nor a workbook the others
        control = next((found for cell in row if (found := _CONTROL.search(cell))), None)
        if control:
            report.error(
                file,
                number,
                "",
                f"contains the control character "
                f"U+{ord(control.group()):04X}: not text (save it as CSV UTF-8)",
            )
            return None
    header_number, header = numbered[0]
    columns: list[str] = []
    positions: list[tuple[int, str]] = []
    for index, raw in enumerate(header):
        name = _normalise_header(raw)
        if not name:
            if any(index < len(r) and r[index] for _, r in numbered[1:]):
                report.warn(file, header_number, f"#{index + 1}", "column without a name ignored")
            continue
        if name in columns:
            report.error(file, header_number, name, "duplicate column")
            continue
        columns.append(name)
        positions.append((index, name))
    rows = [
        _Row(file, number, {name: row[i] if i < len(row) else "" for i, name in positions})
        for number, row in numbered[1:]
    ]
    return _Table(file, columns, rows, header_number)


def _read_csv(path: Path, file: str, report: _Report) -> _Table | None:
    limits = LIMITS
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            header = handle.readline(1024 * 1024)  # pandas takes the width from the first line
    except OSError as exc:
        report.error(file, 0, "", f"cannot read file: {exc}")
        return None
    width = header.count(b",") + 1
    most_rows = min(limits.max_rows, limits.max_cells // width)
    too_big = (
        f"the file is {_size(size)} (at most {_size(limits.max_file_bytes)})"
        if size > limits.max_file_bytes
        else _table_too_big(1, width, limits)
    )
    if too_big:
        report.error(file, 0, "", f"refused: {too_big}")
        return None
    try:
        frame = pd.read_csv(
            path,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
            nrows=most_rows + 1,
        )
    except pd.errors.EmptyDataError:
        report.error(file, 0, "", "file is empty (no header row)")
        return None
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            want, line, saw = found.groups()
            report.error(
                file,
                int(line),
                "",
                f"row has {saw} cells but the header has {want} "
                "(a comma inside a value needs quotes)",
            )
        else:
            report.error(file, 0, "", f"unreadable CSV: {exc}")
        return None
    except UnicodeDecodeError:
        report.error(file, 0, "", "not UTF-8 text (save it as CSV UTF-8)")
        return None
    except (OSError, ValueError) as exc:
        report.error(file, 0, "", f"cannot read file: {exc}")
        return None
    if len(frame) > most_rows:
        wide = f" with {width:,} columns" if most_rows < limits.max_rows else ""
        report.error(
            file, 0, "", f"refused: more than {most_rows:,} rows (at most {most_rows:,}{wide})"
        )
        return None
    return _table_from_cells(file, frame.fillna("").values.tolist(), report)


class _Source:
    """The files of a rota folder or the sheets of a workbook, by name without `.csv`."""

    def __init__(
        self,
        tables: dict[str, Callable[[], _Table | None]],
        settings: Callable[[_Report], _RawSettings | None],
    ):
        self._tables = tables
        self._settings = settings

    def table(self, name: str) -> _Table | None:
        return self._tables[name]() if name in self._tables else None

    def settings(self, report: _Report) -> _RawSettings | None:
        return self._settings(report)


def _open(src: str | Path, report: _Report) -> _Source | None:
    path = Path(src)
    if path.is_dir():
        return _open_folder(path, report)
    if path.is_file() and path.suffix.casefold() == ".xlsx":
        return _open_workbook(path, report)
    if path.exists():
        report.error(path.name, 0, "", "expected a folder of CSV files or an .xlsx workbook")
    else:
        report.error(str(path), 0, "", "no such folder or workbook")
    return None


def _open_folder(folder: Path, report: _Report) -> _Source:
    known = set(REQUIRED_FILES + OPTIONAL_FILES)
    files: dict[str, Path] = {}
    settings_path: Path | None = None
    for path in sorted(folder.iterdir()):
        lowered = path.name.casefold()
        if lowered == SETTINGS_FILE:
            settings_path = path
        elif lowered.endswith(".csv") and lowered[:-4] in known:
            files[lowered[:-4]] = path
        elif lowered.endswith(".csv"):
            report.warn(path.name, 0, "", "unknown file ignored")
    for name in REQUIRED_FILES:
        if name not in files:
            report.error(f"{name}.csv", 0, "", "required file is missing")

    def reader(name: str, path: Path) -> Callable[[], _Table | None]:
        return lambda: _read_csv(path, f"{name}.csv", report)

    def settings(rep: _Report) -> _RawSettings | None:
        if settings_path is None:
            return None
        return _read_toml(settings_path, rep)

    return _Source({n: reader(n, p) for n, p in files.items()}, settings)


def _open_workbook(path: Path, report: _Report) -> _Source | None:
    refused = check_workbook(path, path.name)
    if refused:
        report.errors.extend(refused)
        return None
    try:
        with pd.ExcelFile(
            io.BytesIO(without_unknown_sheets(path.read_bytes())), engine="openpyxl"
        ) as book:  # openpyxl in read-only mode
            titles = [str(t) for t in book.sheet_names]
            for title in titles:
                if not known_sheet(title):
                    report.warn(f"{path.name}[{title}]", 0, "", "unknown sheet ignored")
            sheets = pd.read_excel(
                book,
                sheet_name=[t for t in titles if known_sheet(t)],
                header=None,
                dtype=str,
                keep_default_na=False,
            )
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a damaged file
        report.error(path.name, 0, "", f"cannot read workbook ({type(exc).__name__}: {exc})")
        return None
    found = {str(sheet).strip().casefold().removesuffix(".csv"): str(sheet) for sheet in sheets}
    for name in REQUIRED_FILES:
        if name not in found:
            report.error(f"{path.name}[{name}]", 0, "", "required sheet is missing")

    def reader(sheet: str) -> Callable[[], _Table | None]:
        frame = sheets[sheet]
        return lambda: _table_from_cells(
            f"{path.name}[{sheet}]", frame.fillna("").values.tolist(), report
        )

    def settings(rep: _Report) -> _RawSettings | None:
        if SETTINGS_SHEET not in found:
            return None
        sheet = found[SETTINGS_SHEET]
        table = _table_from_cells(
            f"{path.name}[{sheet}]", sheets[sheet].fillna("").values.tolist(), rep
        )
        return _settings_from_sheet(table, rep) if table else None

    tables = {n: reader(s) for n, s in found.items() if n != SETTINGS_SHEET}
    return _Source(tables, settings)


def _check_columns(
    table: _Table, required: Iterable[str], known: Iterable[str], report: _Report
) -> bool:
    """Warn about unknown columns; False (and an error each) when required ones are missing."""
    known_set = set(known) | set(required)
    for name in table.columns:
        if name not in known_set:
            report.warn(table.file, table.header_row, name, "unknown column ignored")
    missing = [name for name in required if not table.has(name)]
    for name in missing:
        report.error(table.file, table.header_row, name, "missing required column")
    return not missing


# ---- typed cells -----------------------------------------------------------------------


def parse_date(text: str) -> date:
    """YYYY-MM-DD (an XLSX date cell reads as 'YYYY-MM-DD 00:00:00'); ValueError otherwise."""
    found = _DATE.fullmatch(text.strip())
    if not found:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}")
    try:
        return date(*(int(g) for g in found.groups()))
    except ValueError:
        raise ValueError(f"impossible date {text!r}") from None


def parse_time(text: str) -> time:
    """HH:MM (an XLSX time cell reads as 'HH:MM:00'); ValueError otherwise."""
    found = _TIME.fullmatch(text.strip())
    if not found:
        raise ValueError(f"not a time (HH:MM): {text!r}")
    try:
        return time(int(found.group(1)), int(found.group(2)))
    except ValueError:
        raise ValueError(f"impossible time {text!r}") from None


def _shown(value: str) -> str:
    """A number as typed, shortened when it runs to many digits."""
    return value if len(value) <= 24 else f"{value[:12]}…{value[-4:]} ({len(value):,} characters)"


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(";") if item.strip()]


class _Cells:
    """Typed reads of one row; each failure is reported against its cell and marks the row bad."""

    def __init__(self, report: _Report, row: _Row):
        self.report = report
        self.row = row
        self.ok = True

    def fail(self, column: str, message: str) -> None:
        self.ok = False
        self.report.error(self.row.file, self.row.number, column, message)

    def text(self, column: str, required: bool = False) -> str:
        value = self.row.get(column)
        if required and not value:
            self.fail(column, "is required but blank")
        return value

    @overload
    def whole(
        self,
        column: str,
        default: int,
        minimum: int = 0,
        required: bool = False,
        maximum: int = MAX_WHOLE,
    ) -> int: ...

    @overload
    def whole(
        self,
        column: str,
        default: int | None = None,
        minimum: int = 0,
        required: bool = False,
        maximum: int = MAX_WHOLE,
    ) -> int | None: ...

    def whole(
        self,
        column: str,
        default: int | None = None,
        minimum: int = 0,
        required: bool = False,
        maximum: int = MAX_WHOLE,
    ) -> int | None:
        value = self.text(column, required)
        if not value:
            return default
        if not _WHOLE.fullmatch(value):
            self.fail(column, f"not a whole number: {value!r}")
            return default
        number = int(Decimal(value))
        if number > maximum:
            self.fail(column, f"too large: {_shown(value)} (at most {maximum:,})")
            return default
        if number < minimum:
            self.fail(column, f"must be at least {minimum}, got {_shown(value)}")
            return number if number >= -maximum else default
        return number

    def number(self, column: str, default: Decimal = Decimal(0)) -> Decimal:
        """A decimal ≥ 0 (a leading £ is allowed), at most MAX_WHOLE."""
        value = self.text(column)
        if not value:
            return default
        found = _NUMBER.fullmatch(value)
        if not found:
            self.fail(column, f"not a number: {value!r}")
            return default
        number = Decimal(found.group(1))
        if number < 0:
            self.fail(column, f"must not be negative, got {_shown(value)}")
        elif number > MAX_WHOLE:
            self.fail(column, f"too large: {_shown(value)} (at most {MAX_WHOLE:,})")
            return default
        return number

    def day(self, column: str, required: bool = False) -> date | None:
        value = self.text(column, required)
        if not value:
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self.fail(column, str(exc))
            return None

    def clock(self, column: str, required: bool = False) -> time | None:
        value = self.text(column, required)
        if not value:
            return None
        try:
            return parse_time(value)
        except ValueError as exc:
            self.fail(column, str(exc))
            return None

    def flag(self, column: str, default: bool = False) -> bool:
        value = self.text(column).casefold()
        if not value:
            return default
        if value not in FLAGS:
            self.fail(column, f"expected yes or no, got {self.text(column)!r}")
            return default
        return FLAGS[value]

    def window(
        self, start_column: str = "start", end_column: str = "end", required: bool = False
    ) -> tuple[time | None, time | None]:
        """Start and end on one day: end after start (a session may not run past midnight)."""
        start = self.clock(start_column, required)
        end = self.clock(end_column, required)
        given_start, given_end = bool(self.text(start_column)), bool(self.text(end_column))
        if not required and given_start != given_end:
            missing = start_column if given_end else end_column
            self.fail(missing, f"give both {start_column} and {end_column}, or neither")
        if start is not None and end is not None and end <= start:
            self.fail(
                end_column,
                f"end {end:%H:%M} is not after start {start:%H:%M} (nothing may run past midnight)",
            )
        return start, end


def _refs(cells: _Cells, column: str, known: set[str] | None, what: str) -> frozenset[str]:
    items = _items(cells.text(column))
    if known is not None:
        for item in items:
            if item not in known:
                cells.fail(column, f"unknown {what} {item!r}")
    return frozenset(items)


def _unique(cells: _Cells, column: str, seen: dict[str, int]) -> str:
    value = cells.text(column, required=True)
    if value and value in seen:
        cells.fail(column, f"duplicate {column} {value!r} (first on row {seen[value]})")
    elif value:
        seen[value] = cells.row.number
    return value


def _pence(pounds: Decimal) -> int:
    return int((pounds * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _minutes(hours: Decimal) -> int:
    return int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---- the files -------------------------------------------------------------------------


def _practices(
    table: _Table | None, report: _Report
) -> tuple[list[Practice], set[str] | None, set[str]]:
    """The practices, every code written (None: unknown) and every network named."""
    if table is None or not _check_columns(table, PRACTICE_COLUMNS[:3], PRACTICE_COLUMNS, report):
        return [], None, set()
    seen: dict[str, int] = {}
    practices = []
    for row in table.rows:
        cells = _Cells(report, row)
        code = _unique(cells, "practice_code", seen)
        name = cells.text("name", required=True)
        size = cells.whole("list_size", minimum=1, required=True)
        adjusted = cells.whole("adjusted_population", default=size, minimum=0)
        network = cells.text("network") or DEFAULT_NETWORK
        if cells.ok:
            practices.append(Practice(code, name, size, adjusted, network))  # type: ignore[arg-type]
    if not table.rows:
        report.error(table.file, 0, "", "no practices")
    networks = {row.get("network") or DEFAULT_NETWORK for row in table.rows}
    return practices, set(seen) or None, networks


def _hubs(
    table: _Table | None, practice_networks: set[str], report: _Report
) -> tuple[list[Hub], set[str] | None]:
    if table is None or not _check_columns(table, HUB_COLUMNS[:2], HUB_COLUMNS, report):
        return [], None
    only_network = (
        next(iter(practice_networks))
        if len(practice_networks) == 1
        else None
        if practice_networks
        else DEFAULT_NETWORK
    )
    seen: dict[str, int] = {}
    hubs = []
    for row in table.rows:
        cells = _Cells(report, row)
        hub_id = _unique(cells, "hub_id", seen)
        name = cells.text("name", required=True)
        rooms = cells.whole("rooms", default=None, minimum=1, maximum=MAX_PEOPLE)
        network = cells.text("network") or only_network
        if network is None:
            cells.fail("network", "required: the practices belong to several networks")
        elif practice_networks and network not in practice_networks:
            report.warn(
                row.file, row.number, "network", f"no practice belongs to network {network!r}"
            )
        if cells.ok:
            hubs.append(
                Hub(
                    hub_id,
                    name,
                    cells.text("address"),
                    cells.text("postcode"),
                    rooms,
                    network or DEFAULT_NETWORK,
                )
            )
    if not table.rows:
        report.error(table.file, 0, "", "no hubs")
    return hubs, set(seen) or None


def _clinicians(
    table: _Table | None, practice_codes: set[str] | None, hub_ids: set[str] | None, report: _Report
) -> tuple[list[Clinician], set[str] | None]:
    if table is None or not _check_columns(table, CLINICIAN_COLUMNS[:4], CLINICIAN_COLUMNS, report):
        return [], None
    seen: dict[str, int] = {}
    clinicians = []
    for row in table.rows:
        cells = _Cells(report, row)
        clinician_id = _unique(cells, "clinician_id", seen)
        name = cells.text("name", required=True)
        practice_code = cells.text("practice_code", required=True)
        if practice_code and practice_codes is not None and practice_code not in practice_codes:
            cells.fail("practice_code", f"unknown practice {practice_code!r}")
        role = cells.text("role", required=True)
        per_week = cells.whole("max_sessions_per_week", default=2)
        per_period = cells.whole("max_sessions_per_period", default=None)
        at_least = cells.whole("min_sessions_per_period", default=0)
        if per_period is not None and at_least is not None and at_least > per_period:
            cells.fail(
                "min_sessions_per_period",
                f"{at_least} is above max_sessions_per_period {per_period}",
            )
        hubs = _refs(cells, "hubs", hub_ids, "hub")
        preferred = _refs(cells, "preferred_hubs", hub_ids, "hub")
        cost = cells.number("cost_per_hour")
        elsewhere = cells.number("weekly_hours_elsewhere")
        if elsewhere > 168:
            cells.fail("weekly_hours_elsewhere", f"more hours than a week has: {elsewhere}")
        general = _general_rules(cells)
        if cells.ok:
            clinicians.append(
                Clinician(
                    clinician_id=clinician_id,
                    name=name,
                    practice_code=practice_code,
                    role=role,
                    email=cells.text("email"),
                    skills=frozenset(s.casefold() for s in _items(cells.text("skills"))),
                    max_sessions_per_week=per_week,
                    max_sessions_per_period=per_period,
                    min_sessions_per_period=at_least,
                    hubs=hubs,
                    cost_per_hour_pence=_pence(cost),
                    weekly_minutes_elsewhere=_minutes(elsewhere),
                    preferred_hubs=preferred,
                    **general,
                )
            )
    if not table.rows:
        report.error(table.file, 0, "", "no clinicians")
    return clinicians, set(seen) or None


def _general_rules(cells: _Cells) -> dict[str, Any]:
    """The optional general rules of a clinicians.csv row, as Clinician fields."""
    rules: dict[str, Any] = {
        "max_sessions_per_day": cells.whole("max_sessions_per_day", minimum=1),
        "max_per_kind": _kind_caps(cells, "max_per_kind"),
        "max_minutes_per_period": cells.whole("max_minutes_per_period"),
        "min_minutes_per_period": cells.whole("min_minutes_per_period"),
        "max_consecutive_days": cells.whole("max_consecutive_days", minimum=1),
        "min_consecutive_days": cells.whole("min_consecutive_days", minimum=1),
        "min_consecutive_days_off": cells.whole("min_consecutive_days_off", minimum=1),
        "max_weekends": cells.whole("max_weekends"),
    }
    for least, most in (
        ("min_minutes_per_period", "max_minutes_per_period"),
        ("min_consecutive_days", "max_consecutive_days"),
    ):
        low, high = rules[least], rules[most]
        if isinstance(low, int) and isinstance(high, int) and low > high:
            cells.fail(least, f"{low} is above {most} {high}")
    return rules


def _kind_caps(cells: _Cells, column: str) -> tuple[tuple[str, int], ...]:
    """`E=28;L=0`: the most sessions of each kind."""
    caps: dict[str, int] = {}
    for item in _items(cells.text(column)):
        kind, equals, value = (part.strip() for part in item.partition("="))
        if not equals or not kind:
            cells.fail(column, f"expected kind=most (e.g. E=28;L=0), got {item!r}")
        elif kind in caps:
            cells.fail(column, f"kind {kind!r} given twice")
        elif not _WHOLE.fullmatch(value) or not 0 <= int(Decimal(value)) <= MAX_WHOLE:
            cells.fail(column, f"kind {kind}: not a whole number ≥ 0: {value!r}")
        else:
            caps[kind] = int(Decimal(value))
            cells.report.kinds_named.append((cells.row.file, cells.row.number, column, kind))
    return tuple(caps.items())


def _weekday(cells: _Cells) -> int | None:
    value = cells.text("weekday", required=True).casefold()
    if not value:
        return None
    for number, name in enumerate(WEEKDAYS):
        if len(value) >= 3 and name.startswith(value):
            return number
    cells.fail("weekday", f"unknown weekday {cells.text('weekday')!r} (use Mon..Sun)")
    return None


def _demand(
    table: _Table | None,
    when: str,
    hub_ids: set[str] | None,
    report: _Report,
    bank_holidays: str = "skip",
) -> list[DemandRow]:
    """Rows of patterns.csv (`when` 'weekday') or sessions.csv (`when` 'date')."""
    required = ("hub_id", when, "start", "end", "roles", "min")
    if table is None or not _check_columns(table, required, DEMAND_COLUMNS, report):
        return []
    rows = []
    for row in table.rows:
        cells = _Cells(report, row)
        hub_id = cells.text("hub_id", required=True)
        if hub_id and hub_ids is not None and hub_id not in hub_ids:
            cells.fail("hub_id", f"unknown hub {hub_id!r}")
        weekday = _weekday(cells) if when == "weekday" else None
        day = cells.day("date", required=True) if when == "date" else None
        start, end = cells.window(required=True)
        roles = _items(cells.text("roles", required=True))
        if cells.text("roles") and not roles:
            cells.fail("roles", "no role named")
        least = cells.whole("min", required=True, maximum=MAX_PEOPLE)
        wanted = cells.whole("target", default=least, maximum=MAX_PEOPLE)
        if least is not None and wanted is not None and least > wanted:
            cells.fail("min", f"min {least} is above target {wanted}")
        skill = cells.text("skill").casefold() or None
        policy = cells.text("bank_holidays").casefold() or bank_holidays  # blank: rota.toml's
        if policy not in ("skip", "run"):
            cells.fail(
                "bank_holidays", f"expected skip or run, got {cells.text('bank_holidays')!r}"
            )
        valid_from, valid_to = cells.day("valid_from"), cells.day("valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            cells.fail("valid_to", f"valid_to {valid_to} is before valid_from {valid_from}")
        under, over = cells.whole("under_weight", default=0), cells.whole("over_weight", default=0)
        most = cells.whole("max", maximum=MAX_PEOPLE)
        if most is not None and wanted is not None and most < wanted:
            cells.fail("max", f"max {most} is below target {wanted}")
        # A required cell is None only after a failure, which has already cleared `ok`.
        if not cells.ok or least is None or wanted is None or start is None or end is None:
            continue
        post = Post(
            roles_text=cells.text("roles"),
            roles=frozenset(r.casefold() for r in roles),
            min=least,
            target=wanted,
            skill=skill,
            source=f"{row.file}:{row.number}",
            under_weight=under,
            over_weight=over,
            max=most,
        )
        rows.append(
            DemandRow(
                hub_id,
                start,
                end,
                post,
                weekday=weekday,
                date=day,
                run_on_bank_holidays=policy == "run",
                valid_from=valid_from,
                valid_to=valid_to,
            )
        )
        if cells.text("kind"):
            report.kinds_given[post.source] = cells.text("kind")
    return rows


def _with_kinds(sessions: tuple[Session, ...], report: _Report) -> tuple[Session, ...]:
    """Each session takes the `kind` its rows give; rows of one session giving different
    kinds are an error (on the later row)."""
    out = []
    reported: set[tuple[str, str]] = set()
    for session in sessions:
        given = [
            (post.source, report.kinds_given[post.source])
            for post in session.posts
            if post.source in report.kinds_given
        ]
        if not given:
            out.append(session)
            continue
        first_source, kind = given[0]
        for source, other in given[1:]:
            if other != kind and (first_source, source) not in reported:
                reported.add((first_source, source))
                file, number = source.rsplit(":", 1)
                report.error(
                    file,
                    int(number),
                    "kind",
                    f"kind {other!r} differs from kind "
                    f"{kind!r} on {first_source} for the same session "
                    f"{session.session_id}",
                )
        out.append(dataclasses.replace(session, kind=kind))
    return tuple(out)


Availability = dict[tuple[ClinicianId, date], list[Offer]]


def _availability(
    table: _Table | None, clinician_ids: set[str] | None, report: _Report
) -> tuple[Availability, set[date]]:
    """Long form (a `status` column) or grid form (one column per date)."""
    if table is None:
        return {}, set()
    if table.has("status") or table.has("date"):
        return _availability_long(table, clinician_ids, report)
    return _availability_grid(table, clinician_ids, report)


def _known_clinician(cells: _Cells, clinician_ids: set[str] | None) -> str:
    clinician_id = cells.text("clinician_id", required=True)
    if clinician_id and clinician_ids is not None and clinician_id not in clinician_ids:
        cells.fail("clinician_id", f"unknown clinician {clinician_id!r}")
    return clinician_id


def _status(cells: _Cells, column: str) -> Status | None:
    value = cells.text(column)
    if value.casefold() in STATUSES:
        return STATUSES[value.casefold()]
    cells.fail(
        column, f"unknown status {value!r} (use available, preferred, unavailable or A, P, U)"
    )
    return None


def _availability_long(
    table: _Table, clinician_ids: set[str] | None, report: _Report
) -> tuple[Availability, set[date]]:
    if not _check_columns(table, LONG_AVAILABILITY_COLUMNS[:3], LONG_AVAILABILITY_COLUMNS, report):
        return {}, set()
    offers: Availability = {}
    dates: set[date] = set()
    for row in table.rows:
        cells = _Cells(report, row)
        clinician_id = _known_clinician(cells, clinician_ids)
        day = cells.day("date", required=True)
        status = _status(cells, "status") if cells.text("status", required=True) else None
        start, end = cells.window()
        kind, weight = cells.text("kind") or None, cells.whole("weight", default=0)
        if weight and start is not None:
            cells.fail(
                "start", "a weighted request covers the whole day: leave start and end blank"
            )
        if kind is not None and not weight:
            cells.fail("kind", "kind applies to weighted requests only: give a weight > 0")
        elif kind is not None:
            report.kinds_named.append((row.file, row.number, "kind", kind))
        if cells.ok and day is not None and status is not None:
            offers.setdefault((clinician_id, day), []).append(
                Offer(status, start, end, kind=kind, weight=weight or 0)
            )
            dates.add(day)
    return offers, dates


def _availability_grid(
    table: _Table, clinician_ids: set[str] | None, report: _Report
) -> tuple[Availability, set[date]]:
    dated = [name for name in table.columns if re.match(r"\d{4}-", name)]
    if not dated:
        # neither form: name the long form's columns, the usual one
        for name in ("date", "status"):
            report.error(
                table.file,
                table.header_row,
                name,
                "missing required column (or use "
                "the grid form: clinician_id then one column per date)",
            )
        return {}, set()
    date_columns: dict[str, date] = {}
    for name in dated:
        try:
            day = parse_date(name)
        except ValueError as exc:
            report.error(table.file, table.header_row, name, str(exc))
            continue
        if day in date_columns.values():
            report.error(table.file, table.header_row, name, f"duplicate date column {day}")
            continue
        date_columns[name] = day
    if not _check_columns(table, ("clinician_id",), dated, report):
        return {}, set()
    offers: Availability = {}
    seen: dict[str, int] = {}
    for row in table.rows:
        cells = _Cells(report, row)
        clinician_id = _known_clinician(cells, clinician_ids)
        if clinician_id in seen:
            cells.fail(
                "clinician_id",
                f"duplicate clinician_id {clinician_id!r} (first on row {seen[clinician_id]})",
            )
        elif clinician_id:
            seen[clinician_id] = row.number
        for name, day in date_columns.items():
            if not cells.text(name):
                continue
            status = _status(cells, name)
            if status is not None and cells.ok:
                offers.setdefault((clinician_id, day), []).append(Offer(status))
    return offers, set(date_columns.values())


# ---- rota.toml -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    start: date | None = None
    end: date | None = None
    reference: date | None = None
    rules: Rules = field(default_factory=Rules)
    weights: Weights = field(default_factory=Weights)
    where: Callable[[str, str], tuple[str, int]] = lambda section, key: (SETTINGS_FILE, 0)


@dataclass(frozen=True)
class _RawSettings:
    """rota.toml (or a workbook's rota sheet) as read, and where each key was written."""

    data: dict
    where: Callable[[str, str], tuple[str, int]]  # (section, key) → (file, row)


def _read_toml(path: Path, report: _Report) -> _RawSettings | None:
    file = SETTINGS_FILE
    try:
        if path.stat().st_size > LIMITS.max_file_bytes:
            report.error(
                file,
                0,
                "",
                f"refused: the file is {_size(path.stat().st_size)} "
                f"(at most {_size(LIMITS.max_file_bytes)})",
            )
            return None
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        report.error(file, 0, "", "not UTF-8 text")
        return None
    except OSError as exc:
        report.error(file, 0, "", f"cannot read file: {exc}")
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+)", str(exc))
        report.error(file, int(found.group(1)) if found else 0, "", f"not valid TOML: {exc}")
        return None
    except (ValueError, RecursionError):  # thousands of digits, or arrays nested thousands deep
        report.error(file, 0, "", "not valid TOML: a number too long or arrays nested too deep")
        return None

    def where(section: str, key: str) -> tuple[str, int]:
        return file, _toml_line(text, section, key)

    return _RawSettings(data, where)


def _toml_line(text: str, section: str, key: str) -> int:
    """The line where `key` (or the table `section` when key is '') is written; 0 if not found."""
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1).strip('"')
            if not key and current == section:
                return number
            continue
        if key and current == section and re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", line):
            return number
    return 0


def _settings_from_sheet(table: _Table, report: _Report) -> _RawSettings | None:
    if not _check_columns(table, ("key", "value"), ("key", "value"), report):
        return None
    data: dict = {}
    rows: dict[tuple[str, str], int] = {}
    for row in table.rows:
        section, _, key = row.get("key").partition(".")
        if not key:
            report.error(row.file, row.number, "key", "expected section.key, e.g. rules.gp_cover")
            continue
        raw = row.get("value")
        try:
            value = raw if _DATE.fullmatch(raw) else tomllib.loads(f"v = {raw}")["v"]
        except (ValueError, RecursionError):  # TOMLDecodeError; also huge ints, deep nests
            value = raw
        data.setdefault(section, {})[key] = value
        rows[(section, key)] = row.number

    def where(section: str, key: str) -> tuple[str, int]:
        return table.file, rows.get((section, key), 0)

    return _RawSettings(data, where)


def _settings(loaded: _RawSettings | None, report: _Report) -> _Settings:
    if loaded is None:
        return _Settings()
    data, where = loaded.data, loaded.where
    ok = True

    def fail(section: str, key: str, message: str) -> None:
        nonlocal ok
        ok = False
        file, row = where(section, key)
        report.error(file, row, f"{section}.{key}" if key else section, message)

    rule_fields = {f.name for f in dataclasses.fields(Rules)}
    weight_fields = {f.name for f in dataclasses.fields(Weights)}
    period: dict[str, date] = {}
    rules: dict[str, Any] = {}  # checked by _rule_value, one type per field
    weights: dict[str, int] = {}
    for section, table in data.items():
        is_table = isinstance(table, dict)
        if section not in ("period", "rules", "weights") or not is_table:
            ok = False
            file, row = where(section, "") if is_table else where("", section)
            if section in ("period", "rules", "weights"):
                message = "must be a table, e.g. [rules]"
            elif is_table:
                message = "unknown section (use [period], [rules], [weights])"
            else:
                message = "unknown key"
            report.error(file, row, section, message)
            continue
        for key, value in table.items():
            if section == "period" and key in ("start", "end", "reference_date"):
                day = _setting_date(value)
                if day is None:
                    fail(section, key, f"expected a date YYYY-MM-DD, got {value!r}")
                else:
                    period[key] = day
            elif section == "rules" and key in rule_fields:
                parsed, problem = _rule_value(key, value)
                if problem:
                    fail(section, key, problem)
                else:
                    rules[key] = parsed
            elif section == "weights" and key in weight_fields:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    fail(section, key, f"expected a whole number ≥ 0, got {value!r}")
                elif value > MAX_WEIGHT:
                    fail(section, key, f"too large: {value} (at most {MAX_WEIGHT:,})")
                else:
                    weights[key] = value
            else:
                fail(section, key, "unknown key")
    if "start" in period and "end" in period and period["end"] < period["start"]:
        fail("period", "end", f"end {period['end']} is before start {period['start']}")
    if not ok:
        return _Settings()
    return _Settings(
        period.get("start"),
        period.get("end"),
        period.get("reference_date"),
        Rules(**rules),
        Weights(**weights),
        where,
    )


def _setting_date(value: object) -> date | None:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return parse_date(value)
        except ValueError:
            return None
    return None


def _rule_value(key: str, value: object) -> tuple[object, str]:
    """The parsed value of a [rules] key and '', or None and what is wrong with it."""
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is not None and not (math.isfinite(number) and abs(number) <= MAX_WHOLE):
        return None, f"expected a number from 0 to {MAX_WHOLE:,}, got {value!r}"
    if key == "availability_default":
        status = {"available": Status.AVAILABLE, "unavailable": Status.UNAVAILABLE}
        if str(value).casefold() in status:
            return status[str(value).casefold()], ""
        return None, f"expected available or unavailable, got {value!r}"
    if key == "gp_cover":
        if isinstance(value, bool):
            return value, ""
        return None, f"expected true or false, got {value!r}"
    if key == "bank_holiday_region":
        if isinstance(value, str) and value in REGIONS:
            return value, ""
        return None, f"expected one of {', '.join(REGIONS)}, got {value!r}"
    if key == "forbidden_successions":
        return _successions(value)
    if key in ("nsh_weekday", "nsh_saturday"):
        return _clock_window(value)
    if key == "bank_holiday_policy":
        policy = str(value).strip().casefold().replace("-", "_")
        if isinstance(value, str) and policy in BANK_HOLIDAY_POLICIES:
            return policy, ""
        return None, f"expected skip, make_up or run, got {value!r}"
    if key == "make_up_weeks":
        if isinstance(number, int) and number >= 1:
            return number, ""
        return None, f"expected a whole number ≥ 1, got {value!r}"
    if key == "max_sessions_per_day":
        if isinstance(number, int) and number >= 1:
            return number, ""
        return None, f"expected a whole number ≥ 1, got {value!r}"
    if key in ("max_consecutive_days", "stability_near_days"):
        least = 1 if key == "max_consecutive_days" else 0
        if isinstance(number, int) and number >= least:
            return number, ""
        return None, f"expected a whole number ≥ {least}, got {value!r}"
    if key == "max_weekly_hours":
        if number is not None and number > 0:
            return number, ""
        return None, f"expected a number > 0, got {value!r}"
    if number is not None and number >= 0:
        return number, ""
    return None, f"expected a number ≥ 0, got {value!r}"


def _clock_window(value: object) -> tuple[object, str]:
    """ "HH:MM-HH:MM" as (start, end), start before end."""
    start_text, dash, end_text = str(value).replace("–", "-").partition("-")
    try:
        if not isinstance(value, str) or not dash:
            raise ValueError
        start, end = parse_time(start_text), parse_time(end_text)
    except ValueError:
        return None, f'expected a window like "18:30-20:00", got {value!r}'
    if end <= start:
        return None, f"the window ends ({end:%H:%M}) before it starts ({start:%H:%M})"
    return (start, end), ""


def _successions(value: object) -> tuple[object, str]:
    """["L>E", …] as (("L", "E"), …): E may not follow L the next day."""
    if not isinstance(value, list):
        return None, f'expected a list like ["L>E", "N>D"], got {value!r}'
    pairs: list[tuple[str, str]] = []
    for number, item in enumerate(value, start=1):
        parts = [p.strip() for p in item.split(">")] if isinstance(item, str) else []
        if len(parts) != 2 or not all(parts):
            return None, (
                f'item {number} {item!r}: expected "KIND>KIND" (a kind, then the kind '
                "that may not follow it the next day)"
            )
        if (parts[0], parts[1]) not in pairs:
            pairs.append((parts[0], parts[1]))
    return tuple(pairs), ""


# ---- published rota --------------------------------------------------------------------


def _split_session_id(session_id: str) -> date | None:
    """The date inside `{hub}-{YYYYMMDD}-{HHMM}-{HHMM}`, or None if it has not that shape."""
    found = re.fullmatch(r".+-(\d{8})-(\d{4})-(\d{4})", session_id)
    if not found:
        return None
    try:
        return date(int(found.group(1)[:4]), int(found.group(1)[4:6]), int(found.group(1)[6:]))
    except ValueError:
        return None


def _find_session(
    cells: _Cells,
    by_id: Mapping[str, Session],
    by_start: Mapping[tuple[str, date, time], list[Session]],
    hub_ids: set[str] | None,
) -> tuple[Session | None, str, date | None]:
    """The session a row names (by session_id, else hub_id+date+start[+end])."""
    session_id = cells.text("session_id")
    if session_id:
        day = _split_session_id(session_id)
        if day is None:
            cells.fail("session_id", f"not a session id (hub-YYYYMMDD-HHMM-HHMM): {session_id!r}")
        return by_id.get(session_id), session_id, day
    hub_id = cells.text("hub_id", required=True)
    if hub_id and hub_ids is not None and hub_id not in hub_ids:
        cells.fail("hub_id", f"unknown hub {hub_id!r}")
    day = cells.day("date", required=True)
    start = cells.clock("start", required=True)
    end = cells.clock("end")
    if not cells.ok or day is None or start is None:
        return None, "", None
    matches = [s for s in by_start.get((hub_id, day, start), ()) if end is None or s.end == end]
    if len(matches) > 1:
        cells.fail(
            "end",
            f"{len(matches)} sessions at {hub_id} on {day} start {start:%H:%M}: "
            "give end or session_id",
        )
        return None, "", day
    described = f"{hub_id} on {day} at {start:%H:%M}"
    return (matches[0] if matches else None), described, day


def _pins(
    table: _Table | None,
    sessions: tuple[Session, ...],
    clinician_ids: set[str] | None,
    hub_ids: set[str] | None,
    period: tuple[date, date],
    report: _Report,
) -> tuple[Pin, ...]:
    if table is None:
        return ()
    if not _check_columns(table, ("clinician_id",), ROTA_COLUMNS, report):
        return ()
    if not table.has("session_id") and not all(table.has(c) for c in ("hub_id", "date", "start")):
        report.error(
            table.file, 1, "session_id", "missing required column (or give hub_id, date and start)"
        )
        return ()
    by_id = {s.session_id: s for s in sessions}
    by_start: dict[tuple[str, date, time], list[Session]] = {}
    for s in sessions:
        by_start.setdefault((s.hub_id, s.date, s.start), []).append(s)
    pins: dict[tuple[str, str], Pin] = {}
    first_row: dict[tuple[str, str], int] = {}
    for row in table.rows:
        cells = _Cells(report, row)
        clinician_id = _known_clinician(cells, clinician_ids)
        locked = cells.flag("locked")
        session, described, day = _find_session(cells, by_id, by_start, hub_ids)
        if not cells.ok:
            continue
        if session is None:
            column = "session_id" if cells.text("session_id") else "date"
            inside = day is not None and period[0] <= day <= period[1]
            why = (
                f"no session {described} in patterns or sessions"
                if inside
                else f"session {described} is not in the period {period[0]} to {period[1]}"
            )
            if locked:
                cells.fail(column, f"locked pin on a missing session: {why}")
            else:
                report.warn(row.file, row.number, column, f"{why}; pin ignored")
            continue
        key = (session.session_id, clinician_id)
        if key in pins:
            report.warn(
                row.file,
                row.number,
                "clinician_id",
                f"same session and clinician as row {first_row[key]}; merged",
            )
            locked = locked or pins[key].locked
        else:
            first_row[key] = row.number
        pins[key] = Pin(session.session_id, clinician_id, locked)
    return tuple(pins.values())


# ---- the whole problem -----------------------------------------------------------------


def load_problem_with_warnings(src: str | Path) -> tuple[Problem, list[str]]:
    """The Problem in a rota folder or workbook and the warnings; raises InputErrors."""
    report = _Report()
    source = _open(src, report)
    if source is None:  # _open has said why
        raise InputErrors(report.errors)
    settings = _settings(source.settings(report), report)
    practices, practice_codes, networks = _practices(source.table("practices"), report)
    hubs, hub_ids = _hubs(source.table("hubs"), networks, report)
    clinicians, clinician_ids = _clinicians(
        source.table("clinicians"), practice_codes, hub_ids, report
    )
    row_policy = "run" if settings.rules.bank_holiday_policy == "run" else "skip"
    patterns = _demand(source.table("patterns"), "weekday", hub_ids, report, row_policy)
    one_offs = _demand(source.table("sessions"), "date", hub_ids, report, row_policy)
    availability_table = source.table("availability")
    offers, offered_dates = _availability(availability_table, clinician_ids, report)
    period = _period(
        settings,
        offered_dates,
        availability_table.file if availability_table else "availability.csv",
        report,
    )
    if period is None:  # _period (or a broken availability file) has said why
        raise InputErrors(report.errors)
    first, last = period
    for row in one_offs:
        if row.date is not None and not first <= row.date <= last:
            report.warn(
                *_origin(row),
                "date",
                f"{row.date} is outside the period {first} to {last}; ignored",
            )
    expansion = expand(patterns + one_offs, first, last, settings.rules.bank_holiday_region)
    _warn_skipped_one_offs(one_offs, expansion.bank_holidays, report)
    if not expansion.sessions and not report.errors:
        report.warn("patterns.csv", 0, "", f"no sessions between {first} and {last}")
    sessions = _with_kinds(expansion.sessions, report)
    _warn_unknown_kinds(sessions, settings, report)
    published = _pins(source.table("assignments"), sessions, clinician_ids, hub_ids, period, report)
    report.raise_if_any()
    availability = {
        key: tuple(value) for key, value in sorted(offers.items()) if first <= key[1] <= last
    }
    problem = Problem(
        practices=tuple(practices),
        hubs=tuple(hubs),
        clinicians=tuple(clinicians),
        sessions=sessions,
        availability=availability,
        period_start=first,
        period_end=last,
        rules=settings.rules,
        weights=settings.weights,
        published=published,
        bank_holidays=expansion.bank_holidays,
        reference_date=settings.reference,
        skipped_for_bank_holidays=expansion.skipped,
    )
    return problem, report.warnings


def load_problem(src: str | Path) -> Problem:
    """The Problem in a rota folder or workbook; warnings go to the `scheduler.io.load` logger."""
    problem, warnings = load_problem_with_warnings(src)
    for warning in warnings:
        log.warning("%s", warning)
    return problem


def _period(
    settings: _Settings, offered: set[date], availability_file: str, report: _Report
) -> tuple[date, date] | None:
    """[period] of rota.toml; a bound it leaves out is the first or last availability date."""
    first = settings.start or (min(offered) if offered else None)
    last = settings.end or (max(offered) if offered else None)
    if first is None or last is None:
        if not any(e.file == availability_file for e in report.errors):  # explained already
            report.error(
                availability_file,
                0,
                "",
                "no dates to take the period from: give [period] start and end in rota.toml",
            )
        return None
    if last < first:
        report.error(
            SETTINGS_FILE,
            0,
            "period.start" if settings.start else "period.end",
            f"the period would end ({last}) before it starts ({first})",
        )
        return None
    # Sessions are expanded day by day over the period: bound it, and keep it clear of the
    # calendar's ends (date arithmetic around 0001-01-01 or 9999-12-31 overflows).
    days = (last - first).days + 1
    if first < EARLIEST_DAY or last > LATEST_DAY or days > LIMITS.max_period_days:
        problem = (
            f"is {days:,} days long (at most {LIMITS.max_period_days:,})"
            if days > LIMITS.max_period_days
            else f"must lie between {EARLIEST_DAY} and {LATEST_DAY}"
        )
        key = "start" if first < EARLIEST_DAY or not settings.end else "end"
        if getattr(settings, key) is not None:
            file, row = settings.where("period", key)
            report.error(file, row, f"period.{key}", f"the period {first} to {last} {problem}")
        else:
            report.error(
                availability_file,
                0,
                "date",
                f"the availability dates span {first} "
                f"to {last}, so the period would too: it {problem}; give [period] "
                "start and end in rota.toml",
            )
        return None
    return first, last


def _warn_unknown_kinds(
    sessions: tuple[Session, ...], settings: _Settings, report: _Report
) -> None:
    """A kind named in a rule that no session has is most likely a typo."""
    kinds = {s.kind for s in sessions if s.kind}
    named = list(report.kinds_named)
    for first, then in settings.rules.forbidden_successions:
        file, row = settings.where("rules", "forbidden_successions")
        named += [(file, row, "rules.forbidden_successions", k) for k in (first, then)]
    known = ", ".join(sorted(kinds)) or "none: give patterns or sessions a kind column"
    warned: set[tuple[str, int, str, str]] = set()
    for where in named:
        if where[3] not in kinds and where not in warned:
            warned.add(where)
            report.warn(*where[:3], f"no session is of kind {where[3]!r} (kinds: {known})")


def _warn_skipped_one_offs(rows: list[DemandRow], bank: frozenset[date], report: _Report) -> None:
    for row in rows:
        if row.date in bank and not row.run_on_bank_holidays:
            report.warn(
                *_origin(row),
                "date",
                f"{row.date} is a bank holiday: skipped (bank_holidays = run keeps it)",
            )


def _origin(row: DemandRow) -> tuple[str, int]:
    file, number = row.post.source.rsplit(":", 1)
    return file, int(number)


# ---- rotas in and out ------------------------------------------------------------------


def load_rota(problem: Problem, path: str | Path) -> Rota:
    """A rota.csv (DESIGN.md's output columns; session_id and clinician_id required)."""
    path = Path(path)
    report = _Report()
    table = _read_csv(path, path.name, report) if path.is_file() else None
    if not path.is_file():
        report.error(path.name, 0, "", "no such file")
    if table is None or not _check_columns(
        table, ("session_id", "clinician_id"), ROTA_COLUMNS, report
    ):
        report.raise_if_any()
        return ()
    taken: dict[tuple[str, int], int] = {}
    seen: dict[tuple[str, str], int] = {}
    rota = []
    for row in table.rows:
        cells = _Cells(report, row)
        session_id = cells.text("session_id", required=True)
        clinician_id = cells.text("clinician_id", required=True)
        locked = cells.flag("locked")
        session = problem.sessions_by_id.get(session_id)
        clinician = problem.clinicians_by_id.get(clinician_id)
        if session_id and session is None:
            cells.fail("session_id", f"unknown session {session_id!r}")
        if clinician_id and clinician is None:
            cells.fail("clinician_id", f"unknown clinician {clinician_id!r}")
        if (session_id, clinician_id) in seen:
            cells.fail(
                "clinician_id",
                f"same session and clinician as row {seen[(session_id, clinician_id)]}",
            )
        if not cells.ok or session is None or clinician is None:
            continue
        seen[(session_id, clinician_id)] = row.number
        index = _post_index(session, clinician, cells.text("roles"), taken)
        taken[(session_id, index)] = taken.get((session_id, index), 0) + 1
        rota.append(Assignment(session_id, index, clinician_id, locked))
    report.raise_if_any()
    return tuple(sorted(rota))


def _post_index(
    session: Session, clinician: Clinician, roles: str, taken: Mapping[tuple[str, int], int]
) -> int:
    """The post named by `roles`, else the first accepting the clinician; free places first."""
    wanted = frozenset(r.casefold() for r in _items(roles))
    if roles:
        candidates = [i for i, p in enumerate(session.posts) if p.roles_text == roles]
        candidates = candidates or [i for i, p in enumerate(session.posts) if p.roles == wanted]
    else:
        candidates = [i for i, p in enumerate(session.posts) if p.accepts(clinician)]
    if not candidates:
        return 0
    for index in candidates:
        if taken.get((session.session_id, index), 0) < session.posts[index].target:
            return index
    return candidates[0]


def _cell_text(value: object) -> str:
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def write_rota_csv(problem: Problem, rota: Iterable[Assignment], path: str | Path) -> None:
    """rota.csv: one row per assignment, by session start, hub, post and clinician."""

    def order(a: Assignment) -> tuple:
        s = problem.session(a.session_id)
        return s.start_minute, s.hub_id, s.end_minute, a.post_index, a.clinician_id

    rows = []
    for a in sorted(rota, key=order):
        s = problem.session(a.session_id)
        c = problem.clinician(a.clinician_id)
        post = s.posts[a.post_index] if a.post_index < len(s.posts) else None
        rows.append(
            (
                s.session_id,
                s.hub_id,
                s.date,
                s.start,
                s.end,
                post.roles_text if post else "",
                c.clinician_id,
                c.name,
                c.practice_code,
                a.locked,
            )
        )
    _write_csv(path, ROTA_COLUMNS, rows)


def write_unfilled_csv(rows: Iterable[Mapping[str, object] | object], path: str | Path) -> None:
    """unfilled.csv from mappings (or objects with attributes) named by UNFILLED_COLUMNS."""

    def cell(row: Mapping[str, object] | object, column: str) -> object:
        return row.get(column) if isinstance(row, Mapping) else getattr(row, column, "")

    _write_csv(path, UNFILLED_COLUMNS, [[cell(r, c) for c in UNFILLED_COLUMNS] for r in rows])


def _write_csv(path: str | Path, columns: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([_cell_text(v) for v in row] for row in rows)
