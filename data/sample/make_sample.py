"""Writes the sample federation: CSV files and rota.toml beside this script, and data/sample.xlsx.

    python data/sample/make_sample.py

The folder is `scheduler.bench.generate`'s "sample" size with seed 2027, plus a one-off
sessions.csv (a Saturday-morning MMR catch-up clinic). The workbook holds the same tables, one
sheet per file named without `.csv`; it has no `rota` sheet, so its period is the span of the
availability columns, which is exactly rota.toml's period. Both are byte-for-byte reproducible;
README.md is written by hand and left alone.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from scheduler.bench.generate import PROFILES, generate  # noqa: E402

SIZE, SEED = "sample", 2027
WORKBOOK = ROOT / "data" / "sample.xlsx"
SHEETS = ("practices", "hubs", "clinicians", "patterns", "sessions", "availability")
SESSION_COLUMNS = (
    "hub_id",
    "date",
    "start",
    "end",
    "roles",
    "min",
    "target",
    "skill",
    "bank_holidays",
)
FIXED_TIME = (2027, 1, 1, 0, 0, 0)  # zip entry times and document dates, for stable bytes


def make_folder(out_dir: Path) -> Path:
    """The sample rota folder: generated tables, rota.toml and the one-off sessions.csv."""
    generate(SIZE, SEED, out_dir)
    write_sessions(out_dir)
    return out_dir


def write_sessions(folder: Path) -> None:
    """A Saturday-morning MMR catch-up clinic at a hub that is otherwise shut on Saturdays: a
    nurse with childhood immunisations is required, an HCA helps if one is free."""
    with (folder / "patterns.csv").open(encoding="utf-8", newline="") as f:
        patterns = list(csv.DictReader(f))
    with (folder / "hubs.csv").open(encoding="utf-8", newline="") as f:
        hubs = [row["hub_id"] for row in csv.DictReader(f)]
    open_on_saturday = {row["hub_id"] for row in patterns if row["weekday"] == "Sat"}
    hub = next((h for h in hubs if h not in open_on_saturday), hubs[-1])
    start = PROFILES[SIZE].start
    day = (start + timedelta(days=5 + 7 * 4)).isoformat()  # the fifth Saturday of the period
    rows = [
        (hub, day, "09:00", "13:00", "Practice Nurse;ANP", 1, 1, "childhood_immunisations", ""),
        (hub, day, "09:00", "13:00", "HCA", 0, 1, "", ""),
    ]
    with (folder / "sessions.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(SESSION_COLUMNS)
        writer.writerows(rows)


def make_workbook(folder: Path, workbook: Path) -> Path:
    """One sheet per CSV file of `folder`, numbers as numbers, written with stable bytes."""
    import pandas as pd

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet in SHEETS:
            table = pd.read_csv(folder / f"{sheet}.csv", dtype=str, keep_default_na=False)
            table = table.map(_cell)
            table.to_excel(writer, sheet_name=sheet, index=False)
            _fit_columns(writer.sheets[sheet], table)
    workbook.write_bytes(_stable_zip(buffer.getvalue()))
    return workbook


def _cell(text: str) -> object:
    """A number where the CSV holds one (so the workbook reads naturally); text otherwise."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text if text else None


def _fit_columns(sheet, table) -> None:
    from openpyxl.utils import get_column_letter

    for i, column in enumerate(table.columns, start=1):
        longest = max([len(str(column))] + [len(str(v)) for v in table[column] if v is not None])
        sheet.column_dimensions[get_column_letter(i)].width = min(48, max(4, longest + 2))


def _stable_zip(data: bytes) -> bytes:
    """The same workbook with fixed entry times and document dates: openpyxl stamps 'now'."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                stamp = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*FIXED_TIME)
                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                    rb"\g<1>" + stamp.encode(),
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()


def main() -> int:
    folder = make_folder(HERE)
    make_workbook(folder, WORKBOOK)
    print(f"wrote {folder} and {WORKBOOK}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
