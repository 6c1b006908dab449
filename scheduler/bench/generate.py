"""Seeded generator of realistic rota folders (DESIGN.md inputs) for samples, tests and benchmarks.

Pure Python (stdlib only). `generate(size, seed, out_dir)` writes practices.csv, hubs.csv,
clinicians.csv, patterns.csv, availability.csv (grid form) and rota.toml; the same size and seed
always give the same bytes. Sizes are the entries of `PROFILES`; add one there to add a size.

What the data looks like, and why
- Practices: list sizes lognormal (clipped to 3,000–25,000) like English practices; ODS-like codes
  (a letter and five digits); adjusted population = list size × 0.90–1.15. Practices are grouped
  into networks (PCNs) of 30,000–60,000 adjusted population, of varied sizes.
- Hubs: each network has at least one; extra hubs go to the largest networks. `rooms` is the
  busiest session's posts plus a little slack (2–6).
- Demand: every network's main hub runs Monday–Friday evenings (18:30–20:00) with a GP post and a
  Saturday (09:00–17:00) with GP and nurse posts, so the Network Standard Hours are covered; more
  posts are added until the posts' `target` minutes are 8–20 % above the network's contract
  (60 minutes per 1,000 adjusted population per week), while the `min` posts stay well below it:
  meeting the contract needs most optional posts filled. One evening a week at each main hub is a
  cervical-screening clinic (skill `cytology`).
- Clinicians: ~40 % GPs, then nurses, ANPs, pharmacists, physiotherapists, paramedics and HCAs;
  skills at role-typical rates; weekly caps mostly 2; salaried staff carry 20–45 hours elsewhere
  (so some cannot legally add a Saturday); some period caps and minimums; a few are limited to
  their own network's hubs (most are, in sizes with many networks, where hubs are far apart).
- Availability: people offer on their favourite weekday evenings and some Saturdays, take leave
  blocks of one or two weeks (U), mark some dates preferred (P) and leave Sundays blank. On a few
  dates per network (`scarce_dates`) everyone able to take the cytology post is away, so those
  posts are genuinely unfillable.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

__all__ = ["PROFILES", "SizeProfile", "bank_holidays", "generate", "main"]


@dataclass(frozen=True)
class SizeProfile:
    """How big a generated rota folder is, and a few knobs of its shape."""

    practices: int
    clinicians: int
    hubs: int
    networks: int
    weeks: int
    start: date  # a Monday
    list_median: int  # median practice list size
    scarce_dates: int = 1  # dates per network on which the cytology post cannot be filled
    restricted_share: float = 0.08  # clinicians limited to their own network's hubs
    offer_scale: float = 1.0  # scales how often people offer


PROFILES: dict[str, SizeProfile] = {
    # 9 weeks from Monday 19 April 2027: spans the early-May (3 May) and spring (31 May)
    # bank holidays
    "sample": SizeProfile(
        practices=7,
        clinicians=75,
        hubs=3,
        networks=2,
        weeks=9,
        start=date(2027, 4, 19),
        list_median=9_000,
    ),
    "pcn": SizeProfile(
        practices=6,
        clinicians=60,
        hubs=2,
        networks=1,
        weeks=6,
        start=date(2027, 4, 19),
        list_median=7_500,
    ),
    "federation": SizeProfile(
        practices=40,
        clinicians=400,
        hubs=6,
        networks=6,
        weeks=13,
        start=date(2027, 4, 5),
        list_median=6_500,
        scarce_dates=2,
        restricted_share=0.5,
    ),
    "ics": SizeProfile(
        practices=200,
        clinicians=2_000,
        hubs=30,
        networks=28,
        weeks=13,
        start=date(2027, 4, 5),
        list_median=5_500,
        scarce_dates=2,
        restricted_share=0.85,
    ),
}

EMAIL_DOMAIN = "example.org"
MINUTES_PER_1000 = 60
NETWORK_POPULATION = (30_000, 60_000)
EVENING = ("18:30", "20:00", 90)
SATURDAY = ("09:00", "17:00", 480)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_ROOMS = 6
SKILLED_STAFF = 4  # people per network holding the skill of a clinic it runs
CLINIC_REGULARS = 2  # of whom this many usually offer the clinic's weekday

ROLE_SHARES = {  # the non-GP 60 %
    "ANP": 12,
    "Practice Nurse": 20,
    "Clinical Pharmacist": 10,
    "Physiotherapist": 6,
    "Paramedic": 6,
    "HCA": 6,
}
GP_SHARE = 0.4
SKILL_RATES = {  # role → skill → share of that role holding it
    "GP": {"minor_surgery": 0.10, "contraception": 0.25, "mental_health": 0.12, "cytology": 0.06},
    "ANP": {
        "contraception": 0.20,
        "cytology": 0.22,
        "mental_health": 0.10,
        "minor_surgery": 0.05,
        "childhood_immunisations": 0.10,
    },
    "Practice Nurse": {"cytology": 0.30, "childhood_immunisations": 0.30, "contraception": 0.10},
    "Clinical Pharmacist": {"mental_health": 0.05},
    "Physiotherapist": {"joint_injection": 0.20},
    "Paramedic": {"mental_health": 0.10},
    "HCA": {"phlebotomy": 0.30},
}
SKILL_ORDER = (
    "cytology",
    "childhood_immunisations",
    "contraception",
    "minor_surgery",
    "mental_health",
    "joint_injection",
    "phlebotomy",
)
COST_PER_HOUR = {  # pounds, uniform between the two
    "GP": (90, 110),
    "ANP": (55, 65),
    "Practice Nurse": (30, 40),
    "Clinical Pharmacist": (42, 52),
    "Physiotherapist": (40, 48),
    "Paramedic": (40, 50),
    "HCA": (15, 19),
}
SALARIED_SHARE = {"GP": 0.45}  # others: DEFAULT_SALARIED_SHARE
DEFAULT_SALARIED_SHARE = 0.65
HOURS_ELSEWHERE = (20, 22.5, 24, 26, 30, 30, 32, 36, 37.5, 37.5, 37.5, 40, 45)

NURSE_POST = "Practice Nurse;ANP"
CYTOLOGY_POST = ("Practice Nurse;ANP", "cytology")
EVENING_SECOND_POSTS = (
    "Practice Nurse;ANP",
    "Practice Nurse;ANP",
    "Clinical Pharmacist",
    "Physiotherapist",
    "ANP;Paramedic",
    "Practice Nurse",
)
EVENING_THIRD_POSTS = ("Clinical Pharmacist", "Physiotherapist", "HCA", "Paramedic")
SATURDAY_EXTRA_POSTS = ("Physiotherapist", "Clinical Pharmacist", "HCA", "ANP;Paramedic")

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
)
PATTERN_COLUMNS = (
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
)

# ---- invented names -------------------------------------------------------------------------

TOWN_STEMS = (
    "Ash",
    "Bram",
    "Cald",
    "Dun",
    "Elms",
    "Fern",
    "Gos",
    "Hazel",
    "Ivy",
    "Kes",
    "Lark",
    "Marl",
    "Nether",
    "Oak",
    "Pens",
    "Quen",
    "Rook",
    "Sel",
    "Thorn",
    "Ulver",
    "Wyn",
    "Yarn",
    "Alder",
    "Birch",
    "Col",
    "Dray",
    "Ember",
    "Fox",
    "Glen",
    "Heron",
    "Kin",
    "Lin",
    "Moss",
    "Nor",
    "Otter",
    "Pel",
    "Rush",
    "Stan",
    "Tarr",
    "Wil",
    "Brock",
    "Hart",
    "Mere",
    "Sand",
    "Wold",
    "Cran",
    "Hol",
    "Ked",
)
TOWN_ENDINGS = (
    "bury",
    "ford",
    "ley",
    "ton",
    "field",
    "wick",
    "ham",
    "worth",
    "stead",
    "by",
    "combe",
    "minster",
    "bridge",
    "dale",
    "hurst",
    "mouth",
    "well",
    "thorpe",
)
STREETS = (
    "High Street",
    "Station Road",
    "Church Lane",
    "Mill Road",
    "Victoria Road",
    "Park Avenue",
    "Market Place",
    "Queen Street",
    "The Green",
    "Bridge Street",
    "School Lane",
    "Orchard Way",
    "Chapel Street",
    "West Street",
    "North Road",
    "Meadow Lane",
    "Castle Street",
    "Albion Road",
    "Kingsway",
    "Brook Street",
)
PRACTICE_FEATURES = (
    "Riverside",
    "Parkside",
    "Hillview",
    "Oakwood",
    "Willowbank",
    "Millbrook",
    "Brookfield",
    "Greenacres",
    "Beechwood",
    "Meadowside",
    "Castlegate",
    "Fairfield",
    "Abbey",
    "Harbour",
    "Orchard",
    "Kingfisher",
    "Lime Tree",
    "Cedar",
    "Rosewood",
    "Heathside",
)
NETWORK_PREFIXES = ("", "", "", "North ", "South ", "East ", "West ", "Central ", "Greater ")
POSTCODE_AREAS = (
    "BV",
    "CW",
    "DK",
    "EH",
    "FR",
    "GW",
    "HK",
    "KV",
    "LX",
    "MZ",
    "NV",
    "PX",
    "RW",
    "SV",
    "TX",
    "WK",
)
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters a real inward code uses
FIRST_NAMES = (
    "Aisha",
    "Amelia",
    "Anil",
    "Ayesha",
    "Beatrice",
    "Bilal",
    "Bronwen",
    "Callum",
    "Chidi",
    "Chloe",
    "Ciaran",
    "Dafydd",
    "Daniel",
    "Deepa",
    "Eilidh",
    "Elena",
    "Emeka",
    "Emily",
    "Eoin",
    "Farah",
    "Fatima",
    "Felix",
    "Folake",
    "Gareth",
    "Grace",
    "Hannah",
    "Harpreet",
    "Hassan",
    "Helen",
    "Ibrahim",
    "Imogen",
    "Isaac",
    "Jasmine",
    "Jia",
    "Joanna",
    "Jonah",
    "Kamal",
    "Karen",
    "Katarzyna",
    "Kwame",
    "Laila",
    "Leah",
    "Liam",
    "Lucy",
    "Mahmoud",
    "Maria",
    "Marek",
    "Megan",
    "Mei",
    "Mohammed",
    "Nadia",
    "Naomi",
    "Navjot",
    "Niamh",
    "Nikhil",
    "Ngozi",
    "Oliver",
    "Olumide",
    "Omar",
    "Owen",
    "Patrick",
    "Priya",
    "Rachel",
    "Rahul",
    "Rania",
    "Rhys",
    "Rosa",
    "Ruth",
    "Sadia",
    "Samuel",
    "Sanjay",
    "Sara",
    "Shanice",
    "Simon",
    "Siobhan",
    "Sofia",
    "Sunita",
    "Tariq",
    "Thomas",
    "Tomasz",
    "Tunde",
    "Usha",
    "Victoria",
    "Wei",
    "Yasmin",
    "Yusuf",
    "Zainab",
    "Zoe",
    "Adaeze",
    "Andrei",
    "Bethan",
    "Catherine",
    "David",
    "Esther",
    "Gabriel",
    "Ioana",
    "James",
    "Kiran",
    "Lakshmi",
    "Matthew",
    "Michelle",
    "Nathan",
    "Paul",
    "Rebecca",
    "Stephen",
    "Tanvir",
    "Aaliyah",
    "Declan",
    "Leon",
    "Marcus",
    "Mercy",
    "Noor",
    "Ravi",
    "Shreya",
    "Ugo",
)
SURNAMES = (
    "Abbott",
    "Adeyemi",
    "Ahmed",
    "Akhtar",
    "Ali",
    "Anderson",
    "Asante",
    "Bailey",
    "Banerjee",
    "Bell",
    "Bennett",
    "Bhatt",
    "Boateng",
    "Brennan",
    "Brooks",
    "Campbell",
    "Chaudhry",
    "Chen",
    "Clarke",
    "Collins",
    "Cooper",
    "Daly",
    "Davies",
    "Desai",
    "Dixon",
    "Doherty",
    "Edwards",
    "Evans",
    "Farrell",
    "Fletcher",
    "Foster",
    "Gallagher",
    "Ghosh",
    "Gordon",
    "Grant",
    "Green",
    "Gupta",
    "Hall",
    "Harris",
    "Hughes",
    "Hussain",
    "Iqbal",
    "Jackson",
    "James",
    "Jones",
    "Kaur",
    "Kelly",
    "Khan",
    "Kowalski",
    "Kumar",
    "Lewis",
    "Lin",
    "Lloyd",
    "Mahmood",
    "Malik",
    "Marsh",
    "Mensah",
    "Mitchell",
    "Morgan",
    "Murphy",
    "Nair",
    "Nguyen",
    "Novak",
    "Nwosu",
    "O'Brien",
    "O'Connor",
    "Obi",
    "Okafor",
    "Okonkwo",
    "Osei",
    "Owen",
    "Parry",
    "Patel",
    "Phillips",
    "Popescu",
    "Price",
    "Quinn",
    "Rahman",
    "Reid",
    "Richards",
    "Roberts",
    "Robinson",
    "Sandhu",
    "Shah",
    "Sharma",
    "Singh",
    "Smith",
    "Sutherland",
    "Taylor",
    "Thomas",
    "Thompson",
    "Turner",
    "Vaughan",
    "Walsh",
    "Wang",
    "Ward",
    "Watson",
    "Williams",
    "Wilson",
    "Wood",
    "Wright",
    "Yusuf",
    "Zielinski",
    "Zhang",
    "Adebayo",
    "Baker",
    "Chowdhury",
    "Fernandes",
    "Ibrahim",
    "Jenkins",
    "Mistry",
    "Nowak",
    "Pereira",
    "Rees",
    "Sokolova",
    "Whitfield",
)


# ---- the records ------------------------------------------------------------------------------


@dataclass
class _Network:
    name: str
    towns: list[str]
    practices: list[_Practice] = field(default_factory=list)
    hubs: list[_Hub] = field(default_factory=list)

    @property
    def population(self) -> int:
        return sum(p.adjusted_population for p in self.practices)

    @property
    def contract_minutes(self) -> int:
        return math.ceil(MINUTES_PER_1000 * self.population / 1000)


@dataclass
class _Practice:
    code: str
    name: str
    list_size: int
    adjusted_population: int
    network: str = ""


@dataclass
class _Hub:
    hub_id: str
    name: str
    address: str
    postcode: str
    network: str
    rooms: int = 2


@dataclass
class _Clinician:
    clinician_id: str
    name: str
    practice_code: str
    role: str
    email: str
    network: str
    skills: list[str]
    max_per_week: int = 2
    max_per_period: int | None = None
    min_per_period: int | None = None
    hubs: list[str] = field(default_factory=list)
    cost_per_hour: int = 0
    hours_elsewhere: float = 0
    clinic_days: list[int] = field(default_factory=list)  # weekdays of a clinic they staff


@dataclass
class _Row:
    """One patterns.csv row: one post on one weekday at one hub."""

    hub_id: str
    weekday: int  # 0 = Monday
    roles: str
    min: int
    target: int
    skill: str = ""
    bank_holidays: str = ""
    valid_from: date | None = None
    valid_to: date | None = None

    @property
    def minutes(self) -> int:
        return (SATURDAY if self.weekday == 5 else EVENING)[2]

    @property
    def times(self) -> tuple[str, str]:
        start, end, _ = SATURDAY if self.weekday == 5 else EVENING
        return start, end


# ---- bank holidays (England and Wales), without the holidays package ----------------------


def _easter(year: int) -> date:
    """Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=last.weekday())


def bank_holidays(year: int) -> list[date]:
    """England-and-Wales bank holidays of `year` by the standing rules (no one-off changes)."""
    new_year = date(year, 1, 1)
    new_year += timedelta(days={5: 2, 6: 1}.get(new_year.weekday(), 0))
    christmas, boxing = date(year, 12, 25), date(year, 12, 26)
    if christmas.weekday() >= 5:  # Saturday or Sunday: both move to Monday and Tuesday
        christmas, boxing = christmas + timedelta(days=2), boxing + timedelta(days=2)
    elif boxing.weekday() >= 5:  # Friday Christmas: Boxing Day moves to Monday
        boxing += timedelta(days=2)
    easter = _easter(year)
    return sorted(
        [
            new_year,
            easter - timedelta(days=2),
            easter + timedelta(days=1),
            _first_monday(year, 5),
            _last_monday(year, 5),
            _last_monday(year, 8),
            christmas,
            boxing,
        ]
    )


# ---- generation -------------------------------------------------------------------------------


class _Generator:
    def __init__(self, size: str, seed: int, profile: SizeProfile):
        self.size, self.seed, self.profile = size, seed, profile
        self.days = [profile.start + timedelta(days=i) for i in range(7 * profile.weeks)]
        self.bank = {d for y in {profile.start.year, self.days[-1].year} for d in bank_holidays(y)}
        self.networks: list[_Network] = []
        self.clinicians: list[_Clinician] = []
        self.rows: list[_Row] = []
        self.grid: dict[str, dict[date, str]] = {}

    def rng(self, stage: str) -> random.Random:
        """One stream per stage, so changing one stage leaves the others' data alone."""
        return random.Random(f"hubrota:{self.size}:{self.seed}:{stage}")

    def run(self) -> None:
        self.make_practices_and_networks()
        self.make_hubs()
        self.make_demand()
        self.make_clinicians()
        self.make_skilled_staff()
        self.make_availability()
        self.make_scarce_dates()

    # -- practices and networks

    def make_practices_and_networks(self) -> None:
        rng = self.rng("practices")
        p = self.profile
        towns = _unique_towns(rng, p.networks * 3 + p.practices)
        networks = [_Network("", towns[3 * i : 3 * i + 3]) for i in range(p.networks)]
        sizes, adjusted, groups = self._sizes_and_networks(rng)
        names = _network_names(rng, [n.towns[0] for n in networks])
        spare_towns = towns[3 * p.networks :]
        codes = _practice_codes(rng, p.practices)
        used_names: set[str] = set()
        index = 0
        for network, name, members in zip(networks, names, groups, strict=True):
            network.name = name
            for member in members:
                town = (
                    network.towns[0]
                    if index % 4 == 0
                    else rng.choice(network.towns + spare_towns[index : index + 1])
                )
                practice_name = _practice_name(rng, town, used_names)
                network.practices.append(
                    _Practice(codes[index], practice_name, sizes[member], adjusted[member], name)
                )
                index += 1
            network.practices.sort(key=lambda x: x.code)
        self.networks = networks

    def _sizes_and_networks(
        self, rng: random.Random
    ) -> tuple[list[int], list[int], list[list[int]]]:
        """List sizes, adjusted populations and the practices of each network: drawn until every
        network falls inside NETWORK_POPULATION."""
        p = self.profile
        low, high = NETWORK_POPULATION
        for _attempt in range(10_000):
            sizes = [
                min(25_000, max(3_000, round(rng.lognormvariate(math.log(p.list_median), 0.45))))
                for _ in range(p.practices)
            ]
            adjusted = [round(s * rng.uniform(0.90, 1.15)) for s in sizes]
            shares = [rng.uniform(0.75, 1.25) for _ in range(p.networks)]  # PCNs differ in size
            groups: list[list[int]] = [[] for _ in range(p.networks)]
            totals = [0] * p.networks
            for i in sorted(range(p.practices), key=lambda i: (-adjusted[i], i)):
                target = min(
                    range(p.networks), key=lambda n: ((totals[n] + adjusted[i]) / shares[n], n)
                )
                groups[target].append(i)
                totals[target] += adjusted[i]
            if all(low <= t <= high for t in totals):
                return sizes, adjusted, groups
        raise ValueError(
            f"size {self.size!r}: no networks of {low}-{high} adjusted population "
            f"from {p.practices} practices of median list {p.list_median}"
        )

    # -- hubs

    def make_hubs(self) -> None:
        rng = self.rng("hubs")
        p = self.profile
        counts = [1] * p.networks
        by_size = sorted(range(p.networks), key=lambda n: (-self.networks[n].population, n))
        for extra in range(p.hubs - p.networks):
            counts[by_size[extra % p.networks]] += 1
        number = 0
        for network, count in zip(self.networks, counts, strict=True):
            area = rng.choice(POSTCODE_AREAS)
            for k in range(count):
                number += 1
                town = network.towns[k % len(network.towns)]
                kind = rng.choice(
                    (
                        "Health Centre",
                        "Health Centre",
                        "Primary Care Centre",
                        "Community Hospital",
                        "Medical Centre",
                        "Health Hub",
                    )
                )
                street = rng.choice(STREETS)
                postcode = (
                    f"{area}{rng.randint(1, 29)} {rng.randint(1, 9)}"
                    f"{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
                )
                network.hubs.append(
                    _Hub(
                        f"H{number:02d}",
                        f"{town} {kind}",
                        f"{rng.randint(1, 180)} {street}, {town}",
                        postcode,
                        network.name,
                    )
                )

    # -- demand

    def make_demand(self) -> None:
        rng = self.rng("demand")
        for n, network in enumerate(self.networks):
            self.rows.extend(_network_demand(rng, network, self.days, first_network=n == 0))
        for network in self.networks:
            for hub in network.hubs:
                busiest = max(
                    (
                        sum(
                            r.target
                            for r in self.rows
                            if r.hub_id == hub.hub_id and r.weekday == wd
                        )
                        for wd in range(7)
                    ),
                    default=1,
                )
                hub.rooms = max(2, min(MAX_ROOMS, busiest + rng.choice((0, 0, 1))))

    # -- clinicians

    def make_clinicians(self) -> None:
        rng = self.rng("clinicians")
        p = self.profile
        practices = [(pr, nw) for nw in self.networks for pr in nw.practices]
        counts = _apportion([pr.list_size for pr, _ in practices], p.clinicians, minimum=3)
        gps = [max(1, round(GP_SHARE * count)) for count in counts]
        others = [
            role
            for role, n in zip(
                ROLE_SHARES,
                _apportion(list(ROLE_SHARES.values()), p.clinicians - sum(gps), minimum=0),
                strict=True,
            )
            for _ in range(n)
        ]
        rng.shuffle(others)
        used_names: set[str] = set()
        used_emails: set[str] = set()
        number = 0
        for (practice, network), count, gp_count in zip(practices, counts, gps, strict=True):
            roles = ["GP"] * gp_count + others[: count - gp_count]
            del others[: count - gp_count]
            rng.shuffle(roles)
            for role in roles:
                number += 1
                first, last = _person_name(rng, used_names)
                self.clinicians.append(
                    self._clinician(
                        rng,
                        f"C{number:04d}",
                        f"{first} {last}",
                        _email(first, last, used_emails),
                        practice,
                        network,
                        role,
                    )
                )

    def _clinician(
        self,
        rng: random.Random,
        cid: str,
        name: str,
        email: str,
        practice: _Practice,
        network: _Network,
        role: str,
    ) -> _Clinician:
        weeks = self.profile.weeks
        skills = [s for s in SKILL_ORDER if rng.random() < SKILL_RATES[role].get(s, 0.0)]
        c = _Clinician(cid, name, practice.code, role, email, network.name, skills)
        c.max_per_week = rng.choices((1, 2, 3), (25, 60, 15))[0]
        if rng.random() < 0.10:
            c.min_per_period = rng.randint(1, max(2, weeks // 4))
        if rng.random() < 0.20:
            c.max_per_period = rng.randint(max(2, weeks // 3), weeks)
            if c.min_per_period:
                c.max_per_period = max(c.max_per_period, c.min_per_period)
        all_hubs = [h.hub_id for nw in self.networks for h in nw.hubs]
        own = [h.hub_id for h in network.hubs]
        if len(all_hubs) > 1 and rng.random() < self.profile.restricted_share:
            if len(own) < len(all_hubs):
                c.hubs = own
            else:  # one network: a proper subset of its hubs
                c.hubs = sorted(rng.sample(own, rng.randint(1, len(own) - 1)))
        low, high = COST_PER_HOUR[role]
        c.cost_per_hour = rng.randint(low, high)
        if rng.random() < SALARIED_SHARE.get(role, DEFAULT_SALARIED_SHARE):
            c.hours_elsewhere = rng.choice(HOURS_ELSEWHERE)
        return c

    def make_skilled_staff(self) -> None:
        """A network that runs a skilled clinic has trained staff for it: at least
        SKILLED_STAFF people who may work there hold the skill, and CLINIC_REGULARS of them
        usually offer that weekday."""
        rng = self.rng("skilled")
        for network in self.networks:
            hub_ids = [h.hub_id for h in network.hubs]
            for row in (r for r in self.rows if r.hub_id in hub_ids and r.skill):
                roles = {x.casefold() for x in row.roles.split(";")}
                staff = [
                    c
                    for c in self.clinicians
                    if c.network == network.name
                    and c.role.casefold() in roles
                    and (not c.hubs or row.hub_id in c.hubs)
                ]
                holders = [c for c in staff if row.skill in c.skills]
                others = [c for c in staff if row.skill not in c.skills]
                rng.shuffle(others)
                for c in others[: max(0, SKILLED_STAFF - len(holders))]:
                    c.skills = [s for s in SKILL_ORDER if s in c.skills or s == row.skill]
                    holders.append(c)
                if row.min > 0:
                    for c in rng.sample(holders, min(CLINIC_REGULARS, len(holders))):
                        c.clinic_days.append(row.weekday)

    # -- availability

    def make_availability(self) -> None:
        rng = self.rng("availability")
        for c in self.clinicians:
            self.grid[c.clinician_id] = self._offers(rng, c)

    def _offers(self, rng: random.Random, c: _Clinician) -> dict[date, str]:
        scale = self.profile.offer_scale
        favourites = rng.sample(range(5), rng.choice((0, 1, 2, 2, 2, 3, 3)))
        favourites += [wd for wd in c.clinic_days if wd < 5 and wd not in favourites]
        saturday_clinic = 5 in c.clinic_days
        weekday_rate = [
            rng.uniform(0.55, 0.85) if wd in favourites else rng.uniform(0.03, 0.12)
            for wd in range(5)
        ]
        saturday_rate = rng.choices(
            (0.0, rng.uniform(0.15, 0.4), rng.uniform(0.5, 0.85)), (40, 40, 20)
        )[0]
        if saturday_clinic:
            saturday_rate = max(saturday_rate, rng.uniform(0.5, 0.8))
        if not favourites and saturday_rate == 0:  # everyone on the list offers something
            saturday_rate = rng.uniform(0.3, 0.7)
        if c.min_per_period:
            weekday_rate = [max(r, 0.3) for r in weekday_rate]
        preferred_rate = rng.choice((0, 0, 0, 0.1, 0.25, 0.4))
        refusal_rate = rng.choice((0, 0, 0.1, 0.3))
        cells: dict[date, str] = {}
        for day in self.days:
            wd = day.weekday()
            if wd == 6:
                cells[day] = ""
                continue
            rate = (saturday_rate if wd == 5 else weekday_rate[wd]) * scale
            if day in self.bank:
                rate *= 0.4
            if rng.random() < rate:
                cells[day] = "P" if rng.random() < preferred_rate else "A"
            else:
                cells[day] = "U" if rng.random() < refusal_rate else ""
        for _block in range(rng.choices((0, 1, 2), (40, 50, 10))[0]):
            length = rng.choice((5, 7, 7, 9, 11, 14))
            first = rng.randrange(len(self.days) - length + 1)
            for day in self.days[first : first + length]:
                cells[day] = "U"
        return cells

    def make_scarce_dates(self) -> None:
        """On a few dates per network nobody able to staff the cytology clinic is free: a
        practice-nurse update day, say. Those posts are genuinely unfillable."""
        rng = self.rng("scarce")
        for network in self.networks:
            hub_ids = {h.hub_id for h in network.hubs}
            rows = [
                r
                for r in self.rows
                if r.hub_id in hub_ids and r.skill == CYTOLOGY_POST[1] and r.min > 0
            ]
            if not rows:
                continue
            row = rows[0]
            dates = [d for d in self.days if d.weekday() == row.weekday and d not in self.bank]
            roles = {r.casefold() for r in row.roles.split(";")}
            able = [
                c for c in self.clinicians if c.role.casefold() in roles and row.skill in c.skills
            ]
            for day in rng.sample(dates, min(self.profile.scarce_dates, len(dates))):
                for c in able:
                    self.grid[c.clinician_id][day] = "U"

    # -- writing

    def write(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_csv(
            out_dir / "practices.csv",
            PRACTICE_COLUMNS,
            (
                (p.code, p.name, p.list_size, p.adjusted_population, p.network)
                for nw in self.networks
                for p in nw.practices
            ),
        )
        _write_csv(
            out_dir / "hubs.csv",
            HUB_COLUMNS,
            (
                (h.hub_id, h.name, h.address, h.postcode, h.rooms, h.network)
                for nw in self.networks
                for h in nw.hubs
            ),
        )
        _write_csv(
            out_dir / "clinicians.csv",
            CLINICIAN_COLUMNS,
            (
                (
                    c.clinician_id,
                    c.name,
                    c.practice_code,
                    c.role,
                    c.email,
                    ";".join(c.skills),
                    c.max_per_week,
                    _blank(c.max_per_period),
                    _blank(c.min_per_period),
                    ";".join(c.hubs),
                    c.cost_per_hour,
                    _number(c.hours_elsewhere),
                )
                for c in self.clinicians
            ),
        )
        _write_csv(
            out_dir / "patterns.csv",
            PATTERN_COLUMNS,
            (
                (
                    r.hub_id,
                    WEEKDAYS[r.weekday],
                    *r.times,
                    r.roles,
                    r.min,
                    r.target,
                    r.skill,
                    r.bank_holidays,
                    _blank(r.valid_from),
                    _blank(r.valid_to),
                )
                for r in self.rows
            ),
        )
        _write_csv(
            out_dir / "availability.csv",
            ("clinician_id", *map(str, self.days)),
            ((cid, *(cells[d] for d in self.days)) for cid, cells in self.grid.items()),
        )
        (out_dir / "rota.toml").write_text(
            f"# Generated by scheduler.bench.generate: size {self.size!r}, seed {self.seed}\n"
            "[period]\n"
            f"start = {self.days[0]}\n"
            f"end = {self.days[-1]}\n"
            "\n"
            "[rules]\n"
            'availability_default = "unavailable"\n',
            encoding="utf-8",
            newline="\n",
        )


def _network_demand(
    rng: random.Random, network: _Network, days: list[date], first_network: bool
) -> list[_Row]:
    """Pattern rows for one network's hubs: a core that covers the Network Standard Hours, then
    optional posts until the target minutes are 8–20 % above the weekly contract."""
    main, others = network.hubs[0].hub_id, [h.hub_id for h in network.hubs[1:]]
    goal = network.contract_minutes * rng.uniform(1.08, 1.20)
    rows: list[_Row] = []
    cytology_day = rng.randrange(5)
    gp_rows = {wd: _Row(main, wd, "GP", 1, 1) for wd in range(5)}
    rows.extend(gp_rows.values())
    if first_network or rng.random() < 0.2:  # a Monday GP that works bank holidays too
        gp_rows[0].bank_holidays = "run"
    cytology_roles, cytology = CYTOLOGY_POST
    rows.append(_Row(main, cytology_day, cytology_roles, 1, 1, cytology))
    saturday_gp = _Row(main, 5, "GP", 1, 1)
    rows += [saturday_gp, _Row(main, 5, NURSE_POST, 1, 1)]
    for hub in others:  # each further hub runs a GP on two or three evenings
        for wd in sorted(rng.sample(range(5), rng.choice((2, 3)))):
            rows.append(_Row(hub, wd, "GP", 1, 1))

    def total() -> int:
        return sum(r.target * r.minutes for r in rows)

    def add(row: _Row) -> None:
        rows.append(row)

    def raise_target(row: _Row) -> None:
        row.target += 1

    options: list[tuple[int, Callable[[_Row], None], _Row]] = []  # (tier, action, row)
    for wd in range(5):
        if wd != cytology_day:
            roles = rng.choice(EVENING_SECOND_POSTS)
            minimum = 1 if "Nurse" in roles and rng.random() < 0.4 else 0
            options.append((1, add, _Row(main, wd, roles, minimum, 1)))
    options.append((1, add, _Row(main, 5, rng.choice(SATURDAY_EXTRA_POSTS[:2]), 0, 1)))
    if rng.random() < 0.4:  # a Saturday immunisation clinic, when someone can run it
        options.append((1, add, _Row(main, 5, NURSE_POST, 0, 1, "childhood_immunisations")))
    for hub in others:
        for wd in range(5):
            options.append((2, add, _Row(hub, wd, rng.choice(EVENING_SECOND_POSTS), 0, 1)))
            if not any(r.hub_id == hub and r.weekday == wd for r in rows):
                options.append((2, add, _Row(hub, wd, "GP", 1, 1)))
    for wd in range(5):
        options.append((3, raise_target, gp_rows[wd]))
        options.append((3, add, _Row(main, wd, rng.choice(EVENING_THIRD_POSTS), 0, 1)))
    options.append((3, raise_target, saturday_gp))
    options.append((3, add, _Row(main, 5, "HCA", 0, 1)))
    options.append((3, add, _Row(main, 5, rng.choice(SATURDAY_EXTRA_POSTS[2:]), 0, 1)))
    for hub in others:
        options.append((3, add, _Row(hub, 5, "GP", 1, 1)))
        options.append((3, add, _Row(hub, 5, NURSE_POST, 0, 1)))
    rng.shuffle(options)
    options.sort(key=lambda option: option[0])  # stable: shuffled within each tier
    done: list[tuple[int, Callable[[_Row], None], _Row]] = []
    for _pass in range(2):  # a second pass adds what waited for a GP row placed later
        for option in options:
            _tier, action, row = option
            if total() >= goal * 0.97:
                break
            if (
                option in done
                or total() + row.minutes > goal * 1.03
                or _session_posts(rows, row) >= MAX_ROOMS
                or (row.roles != "GP" and not _has_gp(rows, row))
            ):
                continue
            action(row)
            done.append(option)
    if first_network or rng.random() < 0.15:  # a post that starts part-way through the period
        late = [r for r in rows if r.min == 0 and r.hub_id == main and r.weekday < 5]
        if late:
            rng.choice(late).valid_from = days[0] + timedelta(weeks=3)
    rows.sort(key=lambda r: (r.hub_id, r.weekday, r.roles != "GP"))
    return rows


def _has_gp(rows: list[_Row], row: _Row) -> bool:
    """No session without a GP post: nobody works a hub alone without GP cover."""
    return any(r.roles == "GP" for r in rows if r.hub_id == row.hub_id and r.weekday == row.weekday)


def _session_posts(rows: list[_Row], row: _Row) -> int:
    return sum(r.target for r in rows if r.hub_id == row.hub_id and r.weekday == row.weekday)


# ---- helpers ------------------------------------------------------------------------------


def _unique_towns(rng: random.Random, count: int) -> list[str]:
    towns: list[str] = []
    seen: set[str] = set()
    while len(towns) < count:
        town = rng.choice(TOWN_STEMS) + rng.choice(TOWN_ENDINGS)
        if len(seen) >= len(TOWN_STEMS) * len(TOWN_ENDINGS) * 0.8:  # the big sizes run short
            town = f"{rng.choice(('Upper', 'Lower', 'Great', 'Little', 'Old'))} {town}"
        if town not in seen:
            seen.add(town)
            towns.append(town)
    return towns


def _network_names(rng: random.Random, towns: list[str]) -> list[str]:
    names: list[str] = []
    for town in towns:
        name = f"{rng.choice(NETWORK_PREFIXES)}{town} PCN"
        while name in names:
            name = f"{town} and {rng.choice(TOWN_STEMS)}{rng.choice(TOWN_ENDINGS)} PCN"
        names.append(name)
    return names


def _practice_codes(rng: random.Random, count: int) -> list[str]:
    """ODS-like codes: a letter (mostly the federation's own) and five digits."""
    home = rng.choice("ABCDFGHJKLMNP")
    codes: list[str] = []
    seen: set[str] = set()
    while len(codes) < count:
        letter = home if rng.random() < 0.85 else rng.choice("ABCDFGHJKLMNPY")
        digits = (
            f"8{rng.randint(1, 9)}{rng.randint(0, 999):03d}"
            if letter != "Y"
            else f"0{rng.randint(1000, 9999)}"
        )
        code = letter + digits
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return sorted(codes)


def _practice_name(rng: random.Random, town: str, used: set[str]) -> str:
    while True:
        style = rng.randrange(8)
        name = (
            f"{town} Medical Centre",
            f"{town} Surgery",
            f"{town} Health Centre",
            f"{rng.choice(STREETS)} Surgery",
            f"The {rng.choice(PRACTICE_FEATURES)} Practice",
            f"{rng.choice(PRACTICE_FEATURES)} Medical Practice",
            f"{town} Family Practice",
            f"{town} Group Practice",
        )[style]
        if name not in used:
            used.add(name)
            return name


def _person_name(rng: random.Random, used: set[str]) -> tuple[str, str]:
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        if rng.random() < 0.04:  # a double-barrelled surname now and then
            last = f"{last}-{rng.choice(SURNAMES)}"
        if f"{first} {last}" not in used:
            used.add(f"{first} {last}")
            return first, last


def _email(first: str, last: str, used: set[str]) -> str:
    local = re.sub(r"[^a-z.-]", "", f"{first}.{last}".lower())
    email, n = f"{local}@{EMAIL_DOMAIN}", 1
    while email in used:
        n += 1
        email = f"{local}{n}@{EMAIL_DOMAIN}"
    used.add(email)
    return email


def _apportion(weights: list[int], total: int, minimum: int) -> list[int]:
    """Integers ≥ minimum in proportion to weights that add up to total (largest remainder)."""
    spare = total - minimum * len(weights)
    if spare < 0:
        raise ValueError(f"{total} cannot give {minimum} to each of {len(weights)}")
    exact = [spare * w / sum(weights) for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: spare - sum(counts)]:
        counts[i] += 1
    return [minimum + c for c in counts]


def _blank(value: object) -> str:
    return "" if value is None else str(value)


def _number(value: float) -> str:
    return f"{value:g}"


def _write_csv(path: Path, header: tuple[str, ...], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# ---- entry points -----------------------------------------------------------------------------


def generate(size: str, seed: int, out_dir: Path) -> Path:
    """Write a rota folder of the named size into `out_dir` (created if needed); return it.

    Deterministic: the same size and seed always write the same bytes.
    """
    if size not in PROFILES:
        raise ValueError(f"unknown size {size!r}; expected one of {', '.join(PROFILES)}")
    profile = PROFILES[size]
    if profile.start.weekday() != 0:
        raise ValueError(f"size {size!r}: the period must start on a Monday")
    generator = _Generator(size, seed, profile)
    generator.run()
    out = Path(out_dir)
    generator.write(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scheduler.bench.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("size", choices=list(PROFILES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    print(generate(args.size, args.seed, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
