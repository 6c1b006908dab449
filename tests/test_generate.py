"""The seeded generator (scheduler.bench.generate) and the committed sample federation
(data/sample)."""

from __future__ import annotations

import csv
import importlib.util
import math
import re
import tomllib
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from scheduler.bench.generate import PROFILES, bank_holidays, generate

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
GENERATED_FILES = (
    "practices.csv",
    "hubs.csv",
    "clinicians.csv",
    "patterns.csv",
    "availability.csv",
    "rota.toml",
)
SAMPLE_FILES = (*GENERATED_FILES, "sessions.csv")
ROLES = {
    "GP",
    "ANP",
    "Practice Nurse",
    "Clinical Pharmacist",
    "Physiotherapist",
    "Paramedic",
    "HCA",
}


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def header(folder: Path, name: str) -> list[str]:
    with (folder / name).open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def load_make_sample():
    spec = importlib.util.spec_from_file_location("make_sample", SAMPLE / "make_sample.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pcn(tmp_path_factory) -> Path:
    return generate("pcn", 11, tmp_path_factory.mktemp("pcn"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return generate("sample", 2027, tmp_path_factory.mktemp("sample"))


def minutes(row: dict[str, str]) -> int:
    (h1, m1), (h2, m2) = (map(int, row[k].split(":")) for k in ("start", "end"))
    return (h2 * 60 + m2) - (h1 * 60 + m1)


# ---- determinism ----------------------------------------------------------------------------


def test_same_size_and_seed_give_the_same_bytes(tmp_path, pcn):
    """Generating twice with the same size and seed writes identical files."""
    again = generate("pcn", 11, tmp_path / "again")
    for name in GENERATED_FILES:
        assert (again / name).read_bytes() == (pcn / name).read_bytes(), name


def test_different_seeds_give_different_data(tmp_path, pcn):
    """Another seed changes every table: names, demand and availability all differ."""
    other = generate("pcn", 12, tmp_path / "other")
    for name in ("practices.csv", "clinicians.csv", "availability.csv"):
        assert (other / name).read_bytes() != (pcn / name).read_bytes(), name


def test_unknown_size_is_refused(tmp_path):
    """An unknown size raises ValueError naming the sizes there are."""
    with pytest.raises(ValueError, match="sample"):
        generate("galaxy", 1, tmp_path)


# ---- sizes ------------------------------------------------------------------------------------


def test_profiles_state_the_sizes():
    """The four sizes have the practices, clinicians, hubs and weeks the brief states."""
    stated = {
        "sample": (7, 75, 3, 9),
        "pcn": (6, 60, 2, 6),
        "federation": (40, 400, 6, 13),
        "ics": (200, 2_000, 30, 13),
    }
    for size, counts in stated.items():
        p = PROFILES[size]
        assert (p.practices, p.clinicians, p.hubs, p.weeks) == counts, size
        assert p.start.weekday() == 0, size


@pytest.mark.parametrize("size", ["sample", "pcn"])
def test_generated_folders_have_the_stated_counts(size, request):
    """A generated folder holds exactly its profile's practices, hubs, clinicians and weeks."""
    folder = request.getfixturevalue(size)
    p = PROFILES[size]
    assert len(read(folder, "practices.csv")) == p.practices
    assert len(read(folder, "hubs.csv")) == p.hubs
    assert len(read(folder, "clinicians.csv")) == p.clinicians
    assert len(read(folder, "availability.csv")) == p.clinicians
    days = header(folder, "availability.csv")[1:]
    assert len(days) == 7 * p.weeks
    networks = {row["network"] for row in read(folder, "practices.csv")}
    assert len(networks) == p.networks


def test_sample_period_spans_both_may_bank_holidays(sample):
    """The sample runs 19 April to 20 June 2027, across the early-May and spring bank holidays."""
    settings = tomllib.loads((sample / "rota.toml").read_text(encoding="utf-8"))
    assert settings["period"] == {"start": date(2027, 4, 19), "end": date(2027, 6, 20)}
    assert settings["rules"]["availability_default"] == "unavailable"
    days = header(sample, "availability.csv")[1:]
    assert (days[0], days[-1]) == ("2027-04-19", "2027-06-20")
    assert {"2027-05-03", "2027-05-31"} <= set(days)


def test_bank_holidays_follow_the_standing_rules():
    """England-and-Wales bank holidays, with Easter and weekend substitutes, for 2027 and 2028."""
    assert bank_holidays(2027) == [
        date(2027, 1, 1),
        date(2027, 3, 26),
        date(2027, 3, 29),
        date(2027, 5, 3),
        date(2027, 5, 31),
        date(2027, 8, 30),
        date(2027, 12, 27),
        date(2027, 12, 28),
    ]
    assert bank_holidays(2028)[:3] == [date(2028, 1, 3), date(2028, 4, 14), date(2028, 4, 17)]


# ---- columns and values ---------------------------------------------------------------------


def test_files_have_the_design_columns(pcn):
    """Each file carries DESIGN.md's required columns and the optional ones the generator fills."""
    expected = {
        "practices.csv": ["practice_code", "name", "list_size", "adjusted_population", "network"],
        "hubs.csv": ["hub_id", "name", "address", "postcode", "rooms", "network"],
        "clinicians.csv": [
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
        ],
        "patterns.csv": [
            "hub_id",
            "weekday",
            "start",
            "end",
            "roles",
            "min",
            "target",
            "skill",
            "bank_holidays",
            "valid_from",
            "valid_to",
        ],
    }
    for name, columns in expected.items():
        assert header(pcn, name) == columns, name
    grid = header(pcn, "availability.csv")
    assert grid[0] == "clinician_id"
    first = date.fromisoformat(grid[1])
    assert grid[1:] == [str(first + timedelta(days=i)) for i in range(len(grid) - 1)]


def test_practices_look_like_english_practices(pcn, sample):
    """ODS-like codes, list sizes 3,000–25,000, adjusted population 0.90–1.15 × list size,
    and networks of 30,000–60,000 adjusted population."""
    for folder in (pcn, sample):
        practices = read(folder, "practices.csv")
        population: Counter[str] = Counter()
        for row in practices:
            assert re.fullmatch(r"[A-Z]\d{5}", row["practice_code"])
            size, adjusted = int(row["list_size"]), int(row["adjusted_population"])
            assert 3_000 <= size <= 25_000
            assert 0.9 * size - 1 <= adjusted <= 1.15 * size + 1
            population[row["network"]] += adjusted
        assert len({row["practice_code"] for row in practices}) == len(practices)
        assert len({row["name"] for row in practices}) == len(practices)
        assert all(30_000 <= n <= 60_000 for n in population.values()), population


def test_hubs_have_rooms_postcodes_and_a_known_network(sample):
    """Hubs have 2–6 rooms, a postcode-shaped postcode and one of the practices' networks."""
    networks = {row["network"] for row in read(sample, "practices.csv")}
    for hub in read(sample, "hubs.csv"):
        assert 2 <= int(hub["rooms"]) <= 6
        assert re.fullmatch(r"[A-Z]{2}\d{1,2} \d[A-Z]{2}", hub["postcode"])
        assert hub["network"] in networks
        assert hub["address"]


def test_clinicians_are_plausible(pcn, sample):
    """Roles from the usual mix with ~40 % GPs; caps 1–3; known practices and hubs; unique ids,
    names and e-mail addresses at the invented domain; GPs cost more than nurses."""
    for folder in (pcn, sample):
        clinicians = read(folder, "clinicians.csv")
        practices = {row["practice_code"] for row in read(folder, "practices.csv")}
        hubs = {row["hub_id"] for row in read(folder, "hubs.csv")}
        roles = Counter(c["role"] for c in clinicians)
        assert set(roles) <= ROLES
        assert 0.35 <= roles["GP"] / len(clinicians) <= 0.45
        for key in ("clinician_id", "name", "email"):
            assert len({c[key] for c in clinicians}) == len(clinicians), key
        for c in clinicians:
            assert c["practice_code"] in practices
            assert c["email"].endswith("@example.org")
            assert c["max_sessions_per_week"] in {"1", "2", "3"}
            assert set(filter(None, c["hubs"].split(";"))) <= hubs
            if c["min_sessions_per_period"] and c["max_sessions_per_period"]:
                assert int(c["min_sessions_per_period"]) <= int(c["max_sessions_per_period"])
            hours = float(c["weekly_hours_elsewhere"])
            assert hours == 0 or 20 <= hours <= 45
        cost = {c["role"]: int(c["cost_per_hour"]) for c in clinicians}
        assert cost["GP"] >= 90 and cost["Practice Nurse"] <= 40
        caps = Counter(c["max_sessions_per_week"] for c in clinicians)
        assert caps.most_common(1)[0][0] == "2"


def test_patterns_cover_the_standard_hours_with_gp_posts(pcn, sample):
    """Every network has weekday evenings 18:30–20:00 and a Saturday 09:00–17:00 with a GP post;
    every session has a GP post; min ≤ target; session posts fit the hub's rooms."""
    for folder in (pcn, sample):
        rows = read(folder, "patterns.csv")
        hubs = {h["hub_id"]: h for h in read(folder, "hubs.csv")}
        sessions: dict[tuple[str, str], list[dict[str, str]]] = {}
        for row in rows:
            assert 0 <= int(row["min"]) <= int(row["target"])
            expected = ("09:00", "17:00") if row["weekday"] == "Sat" else ("18:30", "20:00")
            assert (row["start"], row["end"]) == expected
            sessions.setdefault((row["hub_id"], row["weekday"]), []).append(row)
        for (hub_id, _), posts in sessions.items():
            assert any(p["roles"] == "GP" and int(p["min"]) >= 1 for p in posts)
            assert sum(int(p["target"]) for p in posts) <= int(hubs[hub_id]["rooms"])
        for network in {h["network"] for h in hubs.values()}:
            days = {wd for (hub_id, wd) in sessions if hubs[hub_id]["network"] == network}
            assert days >= {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}, network


def test_demand_is_tight_against_the_contract(pcn, sample):
    """Per network and week, target minutes are 1.0–1.3 × the contract (60 min per 1,000
    adjusted population) while the required (min) minutes stay below it."""
    for folder in (pcn, sample):
        network_of = {h["hub_id"]: h["network"] for h in read(folder, "hubs.csv")}
        population: Counter[str] = Counter()
        for row in read(folder, "practices.csv"):
            population[row["network"]] += int(row["adjusted_population"])
        target: Counter[str] = Counter()
        required: Counter[str] = Counter()
        for row in read(folder, "patterns.csv"):
            target[network_of[row["hub_id"]]] += int(row["target"]) * minutes(row)
            required[network_of[row["hub_id"]]] += int(row["min"]) * minutes(row)
        for network, people in population.items():
            contract = math.ceil(60 * people / 1000)
            assert 1.0 <= target[network] / contract <= 1.3, network
            assert required[network] < contract, network


def test_availability_cells_and_shape(pcn):
    """Cells are A, P, U or blank; Sundays are mostly blank; everyone offers something; some
    people mark preferred dates and leave."""
    grid = read(pcn, "availability.csv")
    days = [date.fromisoformat(d) for d in header(pcn, "availability.csv")[1:]]
    sunday_cells = Counter()
    for row in grid:
        cells = [row[str(d)] for d in days]
        assert set(cells) <= {"A", "P", "U", ""}
        assert any(c in {"A", "P"} for c in cells), row["clinician_id"]
        sunday_cells.update(row[str(d)] for d in days if d.weekday() == 6)
    assert sunday_cells[""] > 0.7 * sum(sunday_cells.values())
    assert sunday_cells["A"] == sunday_cells["P"] == 0
    everything = Counter(v for row in grid for k, v in row.items() if k != "clinician_id")
    assert everything["P"] > 0 and everything["U"] > 0


def test_sample_has_a_few_genuinely_unfillable_cytology_posts(sample):
    """On a few dates nobody who may take the cytology post offered: between 2 and 6 of them,
    at least one per network."""
    clinicians = {c["clinician_id"]: c for c in read(sample, "clinicians.csv")}
    grid = {row["clinician_id"]: row for row in read(sample, "availability.csv")}
    days = [date.fromisoformat(d) for d in header(sample, "availability.csv")[1:]]
    bank = set(bank_holidays(2027))
    weekday = {"Mon": 0, "Tue": 1, "Wed": 2, "Thu": 3, "Fri": 4, "Sat": 5}
    network_of = {h["hub_id"]: h["network"] for h in read(sample, "hubs.csv")}
    unfillable: list[tuple[str, date]] = []
    for row in read(sample, "patterns.csv"):
        if row["skill"] != "cytology" or row["min"] == "0":
            continue
        roles = set(row["roles"].split(";"))
        for day in (d for d in days if d.weekday() == weekday[row["weekday"]] and d not in bank):
            able = [
                c
                for c in clinicians.values()
                if c["role"] in roles
                and "cytology" in c["skills"].split(";")
                and (not c["hubs"] or row["hub_id"] in c["hubs"].split(";"))
                and grid[c["clinician_id"]][str(day)] in {"A", "P"}
            ]
            if not able:
                unfillable.append((row["hub_id"], day))
    assert 2 <= len(unfillable) <= 6, unfillable
    assert {network_of[h] for h, _ in unfillable} == set(network_of.values())


def test_generated_folder_loads_without_warnings(pcn):
    """The project's loader reads a generated folder with no errors and no warnings."""
    load = pytest.importorskip("scheduler.io.load")
    problem, warnings = load.load_problem_with_warnings(str(pcn))
    assert warnings == []
    assert len(problem.clinicians) == PROFILES["pcn"].clinicians
    assert problem.sessions


# ---- the committed sample ---------------------------------------------------------------------


def test_sample_folder_is_what_make_sample_writes(tmp_path):
    """data/sample and data/sample.xlsx are byte for byte what make_sample.py writes now."""
    make_sample = load_make_sample()
    folder = make_sample.make_folder(tmp_path / "sample")
    for name in SAMPLE_FILES:
        assert (folder / name).read_bytes() == (SAMPLE / name).read_bytes(), name
    workbook = make_sample.make_workbook(folder, tmp_path / "sample.xlsx")
    assert workbook.read_bytes() == (ROOT / "data" / "sample.xlsx").read_bytes()


def test_sample_workbook_holds_the_same_tables():
    """Each sheet of data/sample.xlsx reads back as its CSV file (numbers as numbers), and there
    is no rota sheet, so the period is the span of the availability columns."""
    pd = pytest.importorskip("pandas")
    sheets = pd.read_excel(
        ROOT / "data" / "sample.xlsx", sheet_name=None, dtype=str, keep_default_na=False
    )
    assert list(sheets) == [
        "practices",
        "hubs",
        "clinicians",
        "patterns",
        "sessions",
        "availability",
    ]
    for name, table in sheets.items():
        csv_rows = read(SAMPLE, f"{name}.csv")
        assert list(table.columns) == header(SAMPLE, f"{name}.csv"), name
        assert table.to_dict("records") == csv_rows, name
    settings = tomllib.loads((SAMPLE / "rota.toml").read_text(encoding="utf-8"))
    columns = list(sheets["availability"].columns)[1:]
    assert (columns[0], columns[-1]) == (
        str(settings["period"]["start"]),
        str(settings["period"]["end"]),
    )


def test_sample_sessions_add_a_one_off_skilled_saturday_clinic():
    """sessions.csv holds a Saturday clinic inside the period whose required post needs a skill."""
    rows = read(SAMPLE, "sessions.csv")
    assert header(SAMPLE, "sessions.csv")[:8] == [
        "hub_id",
        "date",
        "start",
        "end",
        "roles",
        "min",
        "target",
        "skill",
    ]
    hubs = {h["hub_id"] for h in read(SAMPLE, "hubs.csv")}
    for row in rows:
        day = date.fromisoformat(row["date"])
        assert day.weekday() == 5 and date(2027, 4, 19) <= day <= date(2027, 6, 20)
        assert row["hub_id"] in hubs
    assert any(r["skill"] and int(r["min"]) >= 1 for r in rows)
