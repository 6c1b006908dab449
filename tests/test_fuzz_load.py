"""Hypothesis fuzzing of scheduler.io.load: the sample folder with one file mutated (random bytes,
other encodings, missing, extra and duplicated columns and rows, absurd cells, broken
rota.toml) loads, or raises InputErrors of file:row:column: message lines — never another
exception — and nothing is written. What loads is usable: the checker and the goal parts run."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.checker import check, objective_parts
from scheduler.domain import Rules, Weights
from scheduler.io.load import InputError, InputErrors, load_problem_with_warnings

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
FILES = {p.name: p.read_bytes() for p in sorted(SAMPLE.iterdir()) if p.suffix in (".csv", ".toml")}
CSV_FILES = sorted(name for name in FILES if name.endswith(".csv"))
# HUBROTA_FUZZ_EXAMPLES scales the search up for a long local run; the default stays quick.
EXAMPLES = int(os.environ.get("HUBROTA_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NASTY_CELLS = [
    "",
    " ",
    "-1",
    "-0",
    "0",
    "1.5",
    "1e308",
    "1E5",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "9" * 40,
    "-" + "9" * 5000,
    "9" * 5000,
    "2147483648",
    "9223372036854775808",
    "£-5",
    "£1e9",
    "9999-12-31",
    "0001-01-01",
    "0000-01-01",
    "2027-02-30",
    "10000-01-01",
    "2027-13-01",
    "9999-12-31 00:00:00",
    "24:00",
    "23:60",
    "00:00",
    "99:99",
    "-1:00",
    "x" * 20_000,
    "🙂",
    "\x00",
    '"',
    "'",
    ";",
    ";;",
    "=1+1",
    "A;P",
    "\t",
    "yes",
    "P",
    "U",
    "Mon;Tue",
    "Saturday",
    "skip",
    "run",
    "E=1",
    "E=-1;E=2",
    "=",
    "Z" * 300 + ";" * 300,
]
TOML_VALUES = [
    "9999-12-31",
    "0001-01-01",
    "1900-01-01",
    "2027-04-19",
    "2027-04-19T10:00:00",
    "inf",
    "-inf",
    "nan",
    "1e400",
    "-1",
    "0",
    "1",
    "1.5",
    "99999999999999999999",
    "10000000",
    "true",
    '"x"',
    '""',
    "[]",
    '["L>E"]',
    '["L>"]',
    "{}",
    "[" * 400 + "]" * 400,
    '"18:30-20:00"',
    '"20:00-18:30"',
    '"run"',
    '"make_up"',
    '"unavailable"',
    '"scotland"',
]
TOML_KEYS = (
    [f"period.{k}" for k in ("start", "end", "reference_date")]
    + [f"rules.{f.name}" for f in dataclasses.fields(Rules)]
    + [f"weights.{f.name}" for f in dataclasses.fields(Weights)]
    + ["nosuch.key"]
)


def _rows(name: str, files: dict[str, bytes] = FILES) -> list[list[str]]:
    return list(csv.reader(io.StringIO(files[name].decode("utf-8-sig"))))


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


@st.composite
def _cells_changed(draw, name: str, files: dict[str, bytes]) -> bytes:
    rows = _rows(name, files)
    for _ in range(draw(st.integers(1, 4))):
        r = draw(st.integers(0, len(rows) - 1))
        if not rows[r]:
            continue
        c = draw(st.integers(0, len(rows[r]) - 1))
        rows[r][c] = draw(st.one_of(st.sampled_from(NASTY_CELLS), st.text(max_size=30)))
    return _csv_bytes(rows)


@st.composite
def _columns_changed(draw, name: str, files: dict[str, bytes]) -> bytes:
    rows = _rows(name, files)
    width = len(rows[0])
    column = draw(st.integers(0, width - 1))
    how = draw(st.sampled_from(["drop", "duplicate", "extra", "rename", "ragged"]))
    for number, row in enumerate(rows):
        if how == "drop":
            del row[column : column + 1]
        elif how == "duplicate" and column < len(row):
            row.append(row[column])
        elif how == "extra":
            row.append(draw(st.text(max_size=12)) if number == 0 else "1")
        elif how == "rename" and number == 0:
            row[column] = draw(
                st.one_of(
                    st.sampled_from(
                        [
                            "",
                            " ",
                            "2027-04-19",
                            "9999-99-99",
                            "Practice Code",
                            "DATE",
                            "clinician_id",
                        ]
                    ),
                    st.text(max_size=12),
                )
            )
        elif how == "ragged" and number and draw(st.booleans()):
            row.extend([""] * draw(st.integers(1, 3)))
    return _csv_bytes(rows)


@st.composite
def _rows_changed(draw, name: str, files: dict[str, bytes]) -> bytes:
    rows = _rows(name, files)
    how = draw(st.sampled_from(["duplicate", "drop_header", "only_header", "blank_lines"]))
    if how == "duplicate" and len(rows) > 1:
        rows.append(list(rows[draw(st.integers(1, len(rows) - 1))]))
    elif how == "drop_header":
        rows = rows[1:]
    elif how == "only_header":
        rows = rows[:1]
    else:
        rows.insert(draw(st.integers(0, len(rows))), [])
    return _csv_bytes(rows)


@st.composite
def _encoded(draw, name: str, files: dict[str, bytes]) -> bytes:
    text = files[name].decode("utf-8-sig").replace("a", "ä", 1)
    encoding = draw(st.sampled_from(["utf-16", "utf-16-le", "latin-1", "cp1252", "utf-32"]))
    return text.encode(encoding)


@st.composite
def csv_mutation(draw, files: dict[str, bytes] = FILES) -> tuple[str, bytes | None]:
    """(name, new bytes or None for a deleted file) for one CSV file of `files`."""
    name = draw(st.sampled_from(sorted(n for n in files if n.endswith(".csv"))))
    data = draw(
        st.one_of(
            st.binary(max_size=2000),
            st.just(b""),
            st.none(),  # the file is missing
            _encoded(name, files),
            _cells_changed(name, files),
            _columns_changed(name, files),
            _rows_changed(name, files),
            st.integers(0, len(files[name])).map(lambda n, name=name: files[name][:n]),
        )
    )
    return name, data


@st.composite
def toml_mutation(draw) -> tuple[str, bytes]:
    """A rota.toml of one to four keys with absurd or wrong values, sometimes with junk."""
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(TOML_KEYS), st.sampled_from(TOML_VALUES)),
            min_size=1,
            max_size=4,
            unique_by=lambda pair: pair[0],
        )
    )
    sections: dict[str, list[str]] = {}
    for key, value in pairs:
        section, item = key.split(".")
        sections.setdefault(section, []).append(f"{item} = {value}")
    text = "".join(
        f"[{s}]\n" + "".join(f"{line}\n" for line in lines) for s, lines in sections.items()
    )
    garbage = draw(st.sampled_from(["", "", "", "junk", "[rules]\n", "x = [1, 'a']\n"]))
    return "rota.toml", (text + garbage).encode("utf-8")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def assert_loads_or_documented_errors(files: dict[str, bytes | None]) -> None:
    """Load `files` from a fresh folder: a usable Problem, or only InputErrors — every one a
    file:row:column: message line — and the folder exactly as it was."""
    with tempfile.TemporaryDirectory(prefix="hubrota-fuzz-") as temp:
        folder = Path(temp) / "rota"
        folder.mkdir()
        for name, data in files.items():
            if data is not None:
                (folder / name).write_bytes(data)
        before = _snapshot(folder)
        try:
            problem, warnings = load_problem_with_warnings(folder)
        except InputErrors as raised:
            assert raised.errors, "InputErrors without an error"
            for error in raised.errors:
                assert isinstance(error, InputError)
                assert error.file and isinstance(error.row, int) and error.row >= 0
                assert error.message.strip()
                assert str(error).startswith(f"{error.file}:{error.row}:{error.column}: ")
        else:
            assert all(isinstance(w, str) for w in warnings)
            check(problem, ())  # what loads can be checked and scored
            objective_parts(problem, ())
            assert problem.rules.min_rest_minutes >= 0 <= problem.rules.max_weekly_minutes
        assert _snapshot(folder) == before, "loading wrote to the input folder"
        assert sorted(p.name for p in Path(temp).iterdir()) == ["rota"]


def test_the_sample_itself_loads():
    """The unmutated sample loads (so the mutations below start from a valid folder)."""
    assert_loads_or_documented_errors(dict(FILES))


@FUZZ
@given(csv_mutation())
def test_a_mutated_csv_file_gives_only_documented_errors(mutation):
    """One CSV file replaced by random bytes, another encoding, absurd cells, columns or rows
    dropped, duplicated or added, a truncation, nothing at all, or deleted."""
    name, data = mutation
    assert_loads_or_documented_errors({**FILES, name: data})


@FUZZ
@given(toml_mutation())
def test_a_mutated_rota_toml_gives_only_documented_errors(mutation):
    """rota.toml with dates out of range (0001-01-01, 9999-12-31), inf, nan, huge or negative
    numbers, wrong types, deeply nested arrays and trailing garbage."""
    name, data = mutation
    assert_loads_or_documented_errors({**FILES, name: data})


@FUZZ
@given(
    st.sampled_from(CSV_FILES),
    st.integers(0, 30),
    st.lists(st.sampled_from(NASTY_CELLS), min_size=1, max_size=3),
    st.booleans(),
)
def test_absurd_values_in_a_whole_column_give_only_documented_errors(
    name, column, values, without_settings
):
    """Every data cell of one column set to absurd values at once, with or without rota.toml
    (without it the period spans the availability dates: every date 9999-12-31 or 0001-01-01
    must not make a period to the end of time)."""
    rows = _rows(name)
    column %= len(rows[0])
    for number, row in enumerate(rows[1:]):
        if column < len(row):
            row[column] = values[number % len(values)]
    files = {**FILES, name: _csv_bytes(rows)}
    if without_settings:
        files["rota.toml"] = None
    assert_loads_or_documented_errors(files)


WORKBOOK = SAMPLE.parent / "sample.xlsx"


@settings(
    max_examples=max(10, EXAMPLES // 2), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.data())
def test_a_damaged_workbook_gives_only_documented_errors(data):
    """The sample workbook truncated, or with bytes overwritten (inside its zip structure or
    its compressed sheets), raises InputErrors naming it, or still loads."""
    book = bytearray(WORKBOOK.read_bytes())
    if data.draw(st.booleans()):
        book = book[: data.draw(st.integers(0, len(book)))]
    else:
        for _ in range(data.draw(st.integers(1, 8))):
            book[data.draw(st.integers(0, len(book) - 1))] = data.draw(st.integers(0, 255))
    with tempfile.TemporaryDirectory(prefix="hubrota-fuzz-") as temp:
        path = Path(temp) / "sample.xlsx"
        path.write_bytes(bytes(book))
        try:
            problem, _ = load_problem_with_warnings(path)
        except InputErrors as raised:
            assert raised.errors
            assert all(e.file.startswith("sample.xlsx") and e.message for e in raised.errors)
        else:
            check(problem, ())
        assert sorted(p.name for p in Path(temp).iterdir()) == ["sample.xlsx"]


# ---- what the fuzzing found, kept as plain regression tests -----------------------------


def _errors_with(changes: dict[str, bytes | None]) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="hubrota-fuzz-") as temp:
        folder = Path(temp)
        for name, data in {**FILES, **changes}.items():
            if data is not None:
                (folder / name).write_bytes(data)
        try:
            load_problem_with_warnings(folder)
        except InputErrors as raised:
            return [str(e) for e in raised.errors]
    return []


def _column(name: str, column: str, value: str) -> bytes:
    rows = _rows(name)
    index = rows[0].index(column)
    for row in rows[1:]:
        row[index] = value
    return _csv_bytes(rows)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # TypeError: unhashable type 'list'
        (
            {"rota.toml": b"[rules]\nbank_holiday_region = []\n"},
            "rota.toml:2:rules.bank_holiday_region: expected one of england-and-wales, scotland, "
            "northern-ireland, got []",
        ),
        # OverflowError after expanding sessions day by day for 8,000 years
        (
            {"rota.toml": b"[period]\nend = 9999-12-31\n"},
            "rota.toml:2:period.end: the period 2027-04-19 to 9999-12-31 is 2,911,970 days long "
            "(at most 731)",
        ),
        # without rota.toml the availability dates make the period: year 1 overflowed too
        (
            {
                "rota.toml": None,
                "availability.csv": _csv_bytes(
                    [
                        ["clinician_id", "date", "status"],
                        [_rows("clinicians.csv")[1][0], "0001-01-01", "A"],
                    ]
                ),
            },
            "availability.csv:0:date: the availability dates span 0001-01-01 to 0001-01-01, so the "
            "period would too: it must lie between 1900-01-01 and 2999-12-31; give [period] start "
            "and end in rota.toml",
        ),
        # loaded, then OverflowError (cannot convert float infinity to integer) in the checker
        (
            {"rota.toml": b"[rules]\nmax_weekly_hours = inf\n"},
            "rota.toml:2:rules.max_weekly_hours: expected a number from 0 to 1,000,000, got inf",
        ),
        (
            {"rota.toml": b"[rules]\nminutes_per_1000 = nan\n"},
            "rota.toml:2:rules.minutes_per_1000: expected a number from 0 to 1,000,000, got nan",
        ),
        (
            {"rota.toml": b"[weights]\ncost = 99999999\n"},
            "rota.toml:2:weights.cost: too large: 99999999 (at most 10,000)",
        ),
        # ValueError (int digits limit) and RecursionError escaped from tomllib
        (
            {"rota.toml": b"[rules]\nmin_rest_hours = " + b"9" * 5000 + b"\n"},
            "rota.toml:0:: not valid TOML: a number too long or arrays nested too deep",
        ),
        (
            {"rota.toml": b"[rules]\nforbidden_successions = " + b"[" * 1000 + b"]" * 1000 + b"\n"},
            "rota.toml:0:: not valid TOML: a number too long or arrays nested too deep",
        ),
        # ValueError: printing a 5,000-digit integer in a message
        (
            {
                "clinicians.csv": _column(
                    "clinicians.csv", "max_sessions_per_period", "-" + "9" * 5000
                )
            },
            "clinicians.csv:2:max_sessions_per_period: must be at least 0, got -99999999999…9999 "
            "(5,001 characters)",
        ),
        # decimal.InvalidOperation: quantizing 40 digits of pounds into pence
        (
            {"clinicians.csv": _column("clinicians.csv", "cost_per_hour", "9" * 40)},
            "clinicians.csv:2:cost_per_hour: too large: 999999999999…9999 (40 characters) "
            "(at most 1,000,000)",
        ),
        (
            {"patterns.csv": _column("patterns.csv", "target", "1000000")},
            "patterns.csv:2:target: too large: 1000000 (at most 1,000)",
        ),
        # loaded, then a 500 when PostgreSQL refused the NUL or openpyxl the control character
        (
            {"clinicians.csv": _column("clinicians.csv", "name", "Dr\x00X")},
            "clinicians.csv:2:: contains the control character U+0000: not text (save it as CSV "
            "UTF-8)",
        ),
        (
            {"clinicians.csv": _column("clinicians.csv", "name", "Dr\x01X")},
            "clinicians.csv:2:: contains the control character U+0001: not text (save it as CSV "
            "UTF-8)",
        ),
    ],
)
def test_what_fuzzing_found_is_an_input_error(changes, expected):
    """Each input that once raised another exception (or loaded, and broke what came after)
    is now an InputError with its file, row and column."""
    assert expected in _errors_with(changes)
