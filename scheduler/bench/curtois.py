"""Curtois–Qu nurse-rostering instances: read them, map them onto the engine, score them alone.

The file format and its objective are summarised in data/benchmarks/curtois/FORMAT.md.

API
- `read_instance(path) -> Instance` (and `parse_instance(text, name)`): the sections as plain
  frozen dataclasses. Malformed input raises `InstanceError`, whose `errors` are
  `file:line: message` strings (every one found, not only the first).
- `to_problem(instance) -> Problem`: the instance as a hubrota problem, so that the engine's
  `solve`, `check` and `weighted_total` answer for it (see `to_problem` for the mapping).
- `roster_rows(problem, rota) -> [(employee, day, shift)]`, `write_roster(path, rows)`,
  `read_roster(instance, path) -> Rota` and `rota_from_rows(instance, rows)`: the roster file
  `employee,day,shift`, one row per day worked.
- `score_roster(instance, rows) -> (penalty, [HardViolation])`: the format's own scoring written
  straight from FORMAT.md, using nothing of the engine, so the two can be compared.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path

from scheduler.domain import (
    Assignment,
    Clinician,
    ClinicianId,
    Hub,
    Offer,
    Post,
    Practice,
    Problem,
    Rota,
    Rules,
    Session,
    Status,
    Weights,
    session_id_of,
)

FIRST_DAY = date(2024, 1, 1)  # day 0: the format's days start on a Monday, and so did 2024
SHIFT_START = time(8, 0)  # every shift is mapped to a session starting at 08:00
WARD = "WARD"  # the one practice every employee belongs to
ROLE = "nurse"
ROSTER_COLUMNS = ("employee", "day", "shift")

SECTIONS = (
    "SECTION_HORIZON",
    "SECTION_SHIFTS",
    "SECTION_STAFF",
    "SECTION_DAYS_OFF",
    "SECTION_SHIFT_ON_REQUESTS",
    "SECTION_SHIFT_OFF_REQUESTS",
    "SECTION_COVER",
)
REQUIRED_SECTIONS = ("SECTION_HORIZON", "SECTION_SHIFTS", "SECTION_STAFF", "SECTION_COVER")
_ID = re.compile(r"[A-Za-z0-9_.]+")  # ids become hub, session and clinician ids


# ---- the instance ----------------------------------------------------------------------


@dataclass(frozen=True)
class Shift:
    shift_id: str
    minutes: int
    cannot_follow: tuple[str, ...]  # shifts that may not be worked the day after this one
    line: int = 0


@dataclass(frozen=True)
class Employee:
    employee_id: str
    max_shifts: tuple[tuple[str, int], ...]  # (shift, most days of it); 0: may not work it
    max_total_minutes: int
    min_total_minutes: int
    max_consecutive_shifts: int
    min_consecutive_shifts: int
    min_consecutive_days_off: int
    max_weekends: int
    line: int = 0

    def max_of(self, shift_id: str) -> int | None:
        return dict(self.max_shifts).get(shift_id)


@dataclass(frozen=True)
class Request:
    """A shift-on ("I would like shift S on day d") or shift-off request."""

    employee_id: str
    day: int
    shift_id: str
    weight: int
    line: int = 0


@dataclass(frozen=True)
class Cover:
    day: int
    shift_id: str
    requirement: int
    weight_under: int
    weight_over: int
    line: int = 0


@dataclass(frozen=True)
class Instance:
    name: str  # the file name without its suffix, e.g. "Instance1"
    horizon: int  # days; day 0 is a Monday
    shifts: tuple[Shift, ...]
    staff: tuple[Employee, ...]
    days_off: Mapping[str, frozenset[int]]  # employee → days they may not work
    shift_on: tuple[Request, ...]
    shift_off: tuple[Request, ...]
    cover: tuple[Cover, ...]
    file: str = ""

    def shift(self, shift_id: str) -> Shift:
        return next(s for s in self.shifts if s.shift_id == shift_id)

    @property
    def weeks(self) -> int:
        return self.horizon // 7


class InstanceError(ValueError):
    """Malformed instance or roster file; `errors` holds one `file:line: message` each."""

    def __init__(self, errors: Iterable[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# ---- reading ---------------------------------------------------------------------------


def read_instance(path: str | Path) -> Instance:
    """The instance in a Curtois–Qu `.txt` file (CRLF or LF, `#` comments, blank lines)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InstanceError([f"{path.name}:0: not ASCII or UTF-8 text"]) from None
    except OSError as exc:
        raise InstanceError([f"{path.name}:0: cannot read file: {exc.strerror or exc}"]) from None
    return parse_instance(text, path.stem, path.name)


def parse_instance(text: str, name: str = "instance", file: str | None = None) -> Instance:
    """The instance in `text`; `file` names it in messages (default `name`)."""
    return _Parser(file or name).parse(text, name)


class _Parser:
    def __init__(self, file: str):
        self.file = file
        self.errors: list[str] = []

    def fail(self, line: int, message: str) -> None:
        self.errors.append(f"{self.file}:{line}: {message}")

    def parse(self, text: str, name: str) -> Instance:
        sections = self._sections(text)
        horizon = self._horizon(sections.get("SECTION_HORIZON", []))
        shifts = self._shifts(sections.get("SECTION_SHIFTS", []))
        shift_ids = {s.shift_id for s in shifts}
        staff = self._staff(sections.get("SECTION_STAFF", []), shift_ids)
        employees = {e.employee_id for e in staff}
        days_off = self._days_off(sections.get("SECTION_DAYS_OFF", []), employees, horizon)
        shift_on = self._requests(
            sections.get("SECTION_SHIFT_ON_REQUESTS", []), employees, shift_ids, horizon
        )
        shift_off = self._requests(
            sections.get("SECTION_SHIFT_OFF_REQUESTS", []), employees, shift_ids, horizon
        )
        cover = self._cover(sections.get("SECTION_COVER", []), shift_ids, horizon)
        if self.errors:
            raise InstanceError(self.errors)
        return Instance(
            name, horizon or 0, shifts, staff, days_off, shift_on, shift_off, cover, self.file
        )

    def _sections(self, text: str) -> dict[str, list[tuple[int, list[str]]]]:
        """Data lines (line number, comma-separated fields) by section keyword."""
        found: dict[str, list[tuple[int, list[str]]]] = {}
        current: str | None = None
        last_index = -1
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("SECTION_"):
                if line not in SECTIONS:
                    self.fail(
                        number, f"unknown section {line!r} (expected one of {', '.join(SECTIONS)})"
                    )
                    current = None
                    continue
                if line in found:
                    self.fail(number, f"{line} appears twice")
                elif SECTIONS.index(line) < last_index:
                    self.fail(
                        number,
                        f"{line} is out of order (the sections come in the order "
                        f"{', '.join(SECTIONS)})",
                    )
                current = line
                last_index = max(last_index, SECTIONS.index(line))
                found.setdefault(line, [])
                continue
            if current is None:
                if not any(e.startswith(f"{self.file}:{number}:") for e in self.errors):
                    self.fail(number, "data line outside any section")
                continue
            found[current].append((number, [field.strip() for field in line.split(",")]))
        for section in REQUIRED_SECTIONS:
            if section not in found:
                self.fail(0, f"{section} is missing")
        return found

    # -- typed fields --

    def whole(self, line: int, value: str, what: str, minimum: int = 0) -> int | None:
        if not re.fullmatch(r"[+-]?\d+", value):
            self.fail(line, f"{what}: not a whole number: {value!r}")
            return None
        number = int(value)
        if number < minimum:
            self.fail(line, f"{what}: must be at least {minimum}, got {number}")
            return None
        return number

    def fields(
        self, line: int, fields: list[str], count: int, layout: str, optional_last: bool = False
    ) -> bool:
        if len(fields) == count or (optional_last and len(fields) == count - 1):
            return True
        self.fail(line, f"expected {count} fields ({layout}), got {len(fields)}")
        return False

    def identifier(self, line: int, value: str, what: str) -> bool:
        if _ID.fullmatch(value):
            return True
        self.fail(line, f"{what}: {value!r} is not an id (letters, digits, '_' and '.')")
        return False

    def day(self, line: int, value: str, horizon: int | None) -> int | None:
        day = self.whole(line, value, "day")
        if day is not None and horizon is not None and day >= horizon:
            self.fail(line, f"day {day} is outside the horizon (days 0 to {horizon - 1})")
            return None
        return day

    def known(self, line: int, value: str, known: set[str], what: str) -> bool:
        if value in known:
            return True
        self.fail(line, f"unknown {what} {value!r}")
        return False

    # -- sections --

    def _horizon(self, lines: list[tuple[int, list[str]]]) -> int | None:
        if len(lines) != 1 or len(lines[0][1]) != 1:
            where = lines[1][0] if len(lines) > 1 else lines[0][0] if lines else 0
            if lines or not any("SECTION_HORIZON" in e for e in self.errors):
                self.fail(where, "SECTION_HORIZON holds one line with the number of days")
            return None
        line, (value,) = lines[0]
        horizon = self.whole(line, value, "horizon", minimum=1)
        if horizon is not None and horizon % 7:
            self.fail(line, f"horizon {horizon} is not a whole number of weeks")
            return None
        return horizon

    def _shifts(self, lines: list[tuple[int, list[str]]]) -> tuple[Shift, ...]:
        shifts: list[Shift] = []
        seen: dict[str, int] = {}
        for line, fields in lines:
            layout = "ShiftID, LengthInMinutes, CannotFollow"
            if not self.fields(line, fields, 3, layout, optional_last=True):
                continue
            shift_id, length = fields[0], fields[1]
            follow = (
                tuple(f.strip() for f in fields[2].split("|") if f.strip())
                if len(fields) == 3
                else ()
            )
            ok = self.identifier(line, shift_id, "shift")
            if shift_id in seen:
                self.fail(line, f"duplicate shift {shift_id!r} (first on line {seen[shift_id]})")
                ok = False
            minutes = self.whole(line, length, "length in minutes", minimum=1)
            if minutes is not None and minutes > 24 * 60:
                self.fail(line, f"length in minutes: {minutes} is longer than a day")
                minutes = None
            if ok and minutes is not None:
                seen[shift_id] = line
                shifts.append(Shift(shift_id, minutes, follow, line))
        if not shifts and lines:
            self.fail(lines[0][0], "no shift types")
        for shift in shifts:  # CannotFollow may name a shift defined further down
            for other in shift.cannot_follow:
                self.known(shift.line, other, set(seen), "shift in CannotFollow")
        return tuple(shifts)

    def _staff(
        self, lines: list[tuple[int, list[str]]], shift_ids: set[str]
    ) -> tuple[Employee, ...]:
        staff: list[Employee] = []
        seen: dict[str, int] = {}
        names = (
            "MaxTotalMinutes",
            "MinTotalMinutes",
            "MaxConsecutiveShifts",
            "MinConsecutiveShifts",
            "MinConsecutiveDaysOff",
            "MaxWeekends",
        )
        for line, fields in lines:
            if not self.fields(line, fields, 8, "ID, MaxShifts, " + ", ".join(names)):
                continue
            employee_id = fields[0]
            ok = self.identifier(line, employee_id, "employee")
            if employee_id in seen:
                self.fail(
                    line, f"duplicate employee {employee_id!r} (first on line {seen[employee_id]})"
                )
                ok = False
            caps = self._max_shifts(line, fields[1], shift_ids)
            numbers = [
                self.whole(line, value, what) for what, value in zip(names, fields[2:], strict=True)
            ]
            values = [n for n in numbers if n is not None]
            if not ok or caps is None or len(values) != len(names):
                continue
            seen[employee_id] = line
            most, least, max_run, min_run, min_off, weekends = values
            staff.append(
                Employee(employee_id, caps, most, least, max_run, min_run, min_off, weekends, line)
            )
        return tuple(staff)

    def _max_shifts(
        self, line: int, text: str, shift_ids: set[str]
    ) -> tuple[tuple[str, int], ...] | None:
        caps: dict[str, int] = {}
        ok = True
        for item in (part.strip() for part in text.split("|")):
            shift_id, equals, value = item.partition("=")
            shift_id = shift_id.strip()
            if not equals:
                self.fail(line, f"MaxShifts: expected shift=number, got {item!r}")
                ok = False
                continue
            if not self.known(line, shift_id, shift_ids, "shift in MaxShifts"):
                ok = False
                continue
            if shift_id in caps:
                self.fail(line, f"MaxShifts: {shift_id} given twice")
                ok = False
                continue
            number = self.whole(line, value.strip(), f"MaxShifts {shift_id}")
            if number is None:
                ok = False
                continue
            caps[shift_id] = number
        return tuple(caps.items()) if ok else None

    def _days_off(
        self, lines: list[tuple[int, list[str]]], employees: set[str], horizon: int | None
    ) -> dict[str, frozenset[int]]:
        days_off: dict[str, set[int]] = defaultdict(set)
        for line, fields in lines:
            employee_id = fields[0]
            if not self.known(line, employee_id, employees, "employee"):
                continue
            for value in fields[1:]:
                if not value:
                    continue  # a trailing comma
                day = self.day(line, value, horizon)
                if day is not None:
                    days_off[employee_id].add(day)
        return {e: frozenset(days) for e, days in sorted(days_off.items())}

    def _requests(
        self,
        lines: list[tuple[int, list[str]]],
        employees: set[str],
        shift_ids: set[str],
        horizon: int | None,
    ) -> tuple[Request, ...]:
        requests = []
        for line, fields in lines:
            if not self.fields(line, fields, 4, "EmployeeID, Day, ShiftID, Weight"):
                continue
            employee_id, day_text, shift_id, weight_text = fields
            ok = self.known(line, employee_id, employees, "employee")
            day = self.day(line, day_text, horizon)
            ok = self.known(line, shift_id, shift_ids, "shift") and ok
            weight = self.whole(line, weight_text, "weight")
            if ok and day is not None and weight is not None:
                requests.append(Request(employee_id, day, shift_id, weight, line))
        return tuple(requests)

    def _cover(
        self, lines: list[tuple[int, list[str]]], shift_ids: set[str], horizon: int | None
    ) -> tuple[Cover, ...]:
        cover = []
        seen: dict[tuple[int, str], int] = {}
        for line, fields in lines:
            if not self.fields(
                line, fields, 5, "Day, ShiftID, Requirement, WeightUnder, WeightOver"
            ):
                continue
            day = self.day(line, fields[0], horizon)
            ok = self.known(line, fields[1], shift_ids, "shift")
            numbers = [
                self.whole(line, value, what)
                for what, value in zip(
                    ("requirement", "weight for under", "weight for over"), fields[2:], strict=True
                )
            ]
            values = [n for n in numbers if n is not None]
            if day is None or not ok or len(values) != 3:
                continue
            key = (day, fields[1])
            if key in seen:
                self.fail(
                    line,
                    f"a second cover line for day {day} shift {fields[1]} (first on "
                    f"line {seen[key]})",
                )
                continue
            seen[key] = line
            requirement, under, over = values
            cover.append(Cover(day, fields[1], requirement, under, over, line))
        return tuple(cover)


# ---- onto the engine -------------------------------------------------------------------


def day_date(day: int) -> date:
    return FIRST_DAY + timedelta(days=day)


def shift_end(shift: Shift) -> time:
    """08:00 plus the shift's length (480 → 16:00, 600 → 18:00, 720 → 20:00), modulo a day."""
    minute = (SHIFT_START.hour * 60 + SHIFT_START.minute + shift.minutes) % (24 * 60)
    return time(minute // 60, minute % 60)


def session_id_for(shift: Shift, day: int) -> str:
    return session_id_of(shift.shift_id, day_date(day), SHIFT_START, shift_end(shift))


def to_problem(instance: Instance) -> Problem:
    """The instance as a Problem whose hard rules are the format's and whose weighted total
    (weights: cover 1, requests 1, all else 0) is the format's penalty.

    - day 0 is Monday 2024-01-01 (no bank holidays); the period is the horizon.
    - one Hub per shift type (hub_id = shift id, unlimited rooms); each day × shift type is one
      Session from 08:00 lasting the shift, of kind = shift id, with one `nurse` Post: min 0,
      target = Requirement, max = the staff size, under/over weights from the cover line.
    - one Practice `WARD`; each employee a `nurse` Clinician with one session a day, at most 7
      a week (never binding), MaxShifts as caps per kind (shift types capped at 0 also left out
      of `hubs`), total minutes, runs of work and rest and weekends as the optional rules.
    - DAYS_OFF are hard `unavailable` entries; shift-on and shift-off requests are weighted
      entries (preferred / unavailable of that kind), which are soft requests.
    - CannotFollow `L,480,E` becomes the forbidden succession ("L", "E").
    """
    cover = {(c.day, c.shift_id): c for c in instance.cover}
    staff_size = len(instance.staff)
    hubs = tuple(Hub(s.shift_id, f"Shift {s.shift_id}") for s in instance.shifts)
    sessions = []
    for day in range(instance.horizon):
        for shift in instance.shifts:
            line = cover.get((day, shift.shift_id))
            post = Post(
                roles_text=ROLE,
                roles=frozenset({ROLE}),
                min=0,
                target=line.requirement if line else 0,
                source=f"{instance.file}:{line.line}" if line else "",
                under_weight=line.weight_under if line else 0,
                over_weight=line.weight_over if line else 0,
                max=staff_size,
            )
            sessions.append(
                Session(
                    shift.shift_id,
                    day_date(day),
                    SHIFT_START,
                    shift_end(shift),
                    (post,),
                    kind=shift.shift_id,
                )
            )
    sessions.sort(key=lambda s: (s.start_minute, s.hub_id, s.end_minute))
    clinicians = tuple(_clinician(instance, e) for e in instance.staff)
    rules = Rules(
        availability_default=Status.AVAILABLE,
        min_rest_hours=0,
        max_consecutive_days=max((e.max_consecutive_shifts for e in instance.staff), default=1),
        max_weekly_hours=168,
        minutes_per_1000=0,
        gp_cover=False,
        max_sessions_per_day=1,
        forbidden_successions=tuple(
            (s.shift_id, later) for s in instance.shifts for later in s.cannot_follow
        ),
    )
    weights = Weights(
        **{f.name: 0 for f in dataclasses.fields(Weights)} | {"cover": 1, "requests": 1}
    )
    return Problem(
        practices=(Practice(WARD, "Ward", 1, 1),),
        hubs=hubs,
        clinicians=clinicians,
        sessions=tuple(sessions),
        availability=_availability(instance),
        period_start=FIRST_DAY,
        period_end=day_date(instance.horizon - 1),
        rules=rules,
        weights=weights,
        bank_holidays=frozenset(),
    )


def _clinician(instance: Instance, e: Employee) -> Clinician:
    capped_at_zero = {shift_id for shift_id, most in e.max_shifts if most == 0}
    allowed = frozenset(s.shift_id for s in instance.shifts if s.shift_id not in capped_at_zero)
    return Clinician(
        clinician_id=e.employee_id,
        name=e.employee_id,
        practice_code=WARD,
        role=ROLE,
        max_sessions_per_week=7,
        hubs=allowed,
        max_sessions_per_day=1,
        max_per_kind=e.max_shifts,
        max_minutes_per_period=e.max_total_minutes,
        min_minutes_per_period=e.min_total_minutes,
        max_consecutive_days=e.max_consecutive_shifts,
        min_consecutive_days=e.min_consecutive_shifts,
        min_consecutive_days_off=e.min_consecutive_days_off,
        max_weekends=e.max_weekends,
    )


def _availability(instance: Instance) -> dict[tuple[ClinicianId, date], tuple[Offer, ...]]:
    offers: dict[tuple[ClinicianId, date], list[Offer]] = defaultdict(list)
    for employee_id, days in instance.days_off.items():
        for day in sorted(days):
            offers[employee_id, day_date(day)].append(Offer(Status.UNAVAILABLE))
    # A weight-0 request costs nothing either way; as an entry it would read as a hard one.
    for r in instance.shift_on:
        if r.weight > 0:
            offers[r.employee_id, day_date(r.day)].append(
                Offer(Status.PREFERRED, kind=r.shift_id, weight=r.weight)
            )
    for r in instance.shift_off:
        if r.weight > 0:
            offers[r.employee_id, day_date(r.day)].append(
                Offer(Status.UNAVAILABLE, kind=r.shift_id, weight=r.weight)
            )
    return {key: tuple(value) for key, value in sorted(offers.items())}


# ---- rosters ---------------------------------------------------------------------------

RosterRow = tuple[str, int, str]  # (employee, day, shift)


def roster_rows(problem: Problem, rota: Iterable[Assignment]) -> list[RosterRow]:
    """The rota of a `to_problem` problem as (employee, day, shift), by employee then day."""
    order = {c.clinician_id: i for i, c in enumerate(problem.clinicians)}
    rows = []
    for a in rota:
        session = problem.session(a.session_id)
        rows.append((a.clinician_id, (session.date - problem.period_start).days, session.kind))
    return sorted(rows, key=lambda r: (order.get(r[0], len(order)), r[0], r[1], r[2]))


def write_roster(path: str | Path, rows: Iterable[RosterRow]) -> None:
    """`employee,day,shift`, one row per day worked."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ROSTER_COLUMNS)
        writer.writerows(rows)


def read_roster_rows(instance: Instance, path: str | Path) -> list[RosterRow]:
    """The rows of a roster file, each checked against the instance (file:line errors)."""
    path = Path(path)
    errors: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError([f"{path.name}:0: cannot read roster: {exc}"]) from None
    employees = {e.employee_id for e in instance.staff}
    shifts = {s.shift_id for s in instance.shifts}
    rows: list[RosterRow] = []
    header_seen = False
    for number, fields in enumerate(csv.reader(lines), start=1):
        fields = [f.strip() for f in fields]
        if not any(fields):
            continue
        if not header_seen:
            header_seen = True
            if [f.casefold() for f in fields] != list(ROSTER_COLUMNS):
                errors.append(
                    f"{path.name}:{number}: expected the header "
                    f"{','.join(ROSTER_COLUMNS)}, got {','.join(fields)}"
                )
                break
            continue
        if len(fields) != 3:
            errors.append(
                f"{path.name}:{number}: expected 3 fields (employee,day,shift), got {len(fields)}"
            )
            continue
        employee, day_text, shift = fields
        problems = []
        if employee not in employees:
            problems.append(f"unknown employee {employee!r}")
        if not re.fullmatch(r"\d+", day_text) or int(day_text) >= instance.horizon:
            problems.append(
                f"day {day_text!r} is not a day of the horizon (0 to {instance.horizon - 1})"
            )
        if shift not in shifts:
            problems.append(f"unknown shift {shift!r}")
        if problems:
            errors.extend(f"{path.name}:{number}: {p}" for p in problems)
            continue
        rows.append((employee, int(day_text), shift))
    if not header_seen:
        errors.append(f"{path.name}:0: empty roster (no header row)")
    if errors:
        raise InstanceError(errors)
    return rows


def rota_from_rows(instance: Instance, rows: Iterable[RosterRow]) -> Rota:
    """Roster rows as assignments to the sessions `to_problem` makes (post 0 of each)."""
    shifts = {s.shift_id: s for s in instance.shifts}
    return tuple(
        sorted(
            Assignment(session_id_for(shifts[shift], day), 0, employee)
            for employee, day, shift in rows
        )
    )


def read_roster(instance: Instance, path: str | Path) -> Rota:
    """A roster file as a Rota of `to_problem(instance)`."""
    return rota_from_rows(instance, read_roster_rows(instance, path))


# ---- the format's own scoring (FORMAT.md §3 and §4; nothing of the engine) ---------------


@dataclass(frozen=True)
class HardViolation:
    """One broken hard constraint of the format, named as FORMAT.md §3 names it."""

    rule: str  # one_shift_per_day, shift_rotation, max_shifts, max_total_minutes,
    # min_total_minutes, max_consecutive_shifts, min_consecutive_shifts,
    # min_consecutive_days_off, max_weekends, days_off, unknown
    employee: str
    day: int | None
    message: str

    def __str__(self) -> str:
        where = "" if self.day is None else f" day {self.day}"
        return f"{self.rule}: {self.employee}{where}: {self.message}"


def score_roster(instance: Instance, rows: Iterable[RosterRow]) -> tuple[int, list[HardViolation]]:
    """The format's penalty of a roster and every hard constraint it breaks."""
    shifts = {s.shift_id: s for s in instance.shifts}
    employees = {e.employee_id for e in instance.staff}
    H = instance.horizon
    worked: dict[str, dict[int, list[str]]] = {e: defaultdict(list) for e in employees}
    violations: list[HardViolation] = []
    for employee, day, shift in rows:
        if employee not in employees or shift not in shifts or not 0 <= day < H:
            violations.append(
                HardViolation(
                    "unknown", employee, day, f"row names no employee, day or shift: {shift}"
                )
            )
            continue
        worked[employee][day].append(shift)
    for e in instance.staff:
        violations.extend(_employee_violations(instance, e, worked[e.employee_id], shifts))
    return _penalty(instance, worked), violations


def _penalty(instance: Instance, worked: Mapping[str, Mapping[int, list[str]]]) -> int:
    penalty = 0
    for r in instance.shift_on:  # charged unless that very shift is worked that day
        if r.shift_id not in worked[r.employee_id].get(r.day, ()):
            penalty += r.weight
    for r in instance.shift_off:  # charged when that shift is worked that day
        if r.shift_id in worked[r.employee_id].get(r.day, ()):
            penalty += r.weight
    on_duty: Counter[tuple[int, str]] = Counter()
    for days in worked.values():
        for day, shifts in days.items():
            for shift in shifts:
                on_duty[day, shift] += 1
    for c in instance.cover:
        x = on_duty[c.day, c.shift_id]
        if x < c.requirement:
            penalty += c.weight_under * (c.requirement - x)
        elif x > c.requirement:
            penalty += c.weight_over * (x - c.requirement)
    return penalty


def _employee_violations(
    instance: Instance, e: Employee, days: Mapping[int, list[str]], shifts: Mapping[str, Shift]
) -> list[HardViolation]:
    H, who = instance.horizon, e.employee_id
    out: list[HardViolation] = []

    def broken(rule: str, day: int | None, message: str) -> None:
        out.append(HardViolation(rule, who, day, message))

    for day in sorted(days):  # 1. one shift per day
        if len(days[day]) > 1:
            broken("one_shift_per_day", day, f"works {'+'.join(days[day])}")
    for day in sorted(days):  # 2. no forbidden pair on consecutive days
        for first in days[day]:
            for second in days.get(day + 1, ()):
                if second in shifts[first].cannot_follow:
                    broken("shift_rotation", day + 1, f"{second} may not follow {first}")
    counts = Counter(s for shifts_of_day in days.values() for s in shifts_of_day)
    for shift_id, n in sorted(counts.items()):  # 3. per shift type
        most = e.max_of(shift_id)
        if most is not None and n > most:
            broken("max_shifts", None, f"{n} shifts {shift_id}; at most {most}")
    total = sum(shifts[s].minutes for s in counts.elements())  # 4. total minutes
    if total > e.max_total_minutes:
        broken("max_total_minutes", None, f"{total} minutes; at most {e.max_total_minutes}")
    if total < e.min_total_minutes:
        broken("min_total_minutes", None, f"{total} minutes; at least {e.min_total_minutes}")
    on = [bool(days.get(d)) for d in range(H)]
    for start, length, is_work in _runs(on):
        touches_end = start == 0 or start + length == H
        if is_work and length > e.max_consecutive_shifts:  # 5. even at the ends
            broken(
                "max_consecutive_shifts",
                start,
                f"{length} days in a row; at most {e.max_consecutive_shifts}",
            )
        if is_work and not touches_end and length < e.min_consecutive_shifts:  # 6.
            broken(
                "min_consecutive_shifts",
                start,
                f"{length} days in a row; at least {e.min_consecutive_shifts}",
            )
        if not is_work and not touches_end and length < e.min_consecutive_days_off:  # 7.
            broken(
                "min_consecutive_days_off",
                start,
                f"{length} days off in a row; at least {e.min_consecutive_days_off}",
            )
    weekends = [w for w in range(H // 7) if on[7 * w + 5] or on[7 * w + 6]]  # 8.
    if len(weekends) > e.max_weekends:
        broken("max_weekends", None, f"works {len(weekends)} weekends; at most {e.max_weekends}")
    for day in sorted(instance.days_off.get(who, ())):  # 9.
        if on[day]:
            broken("days_off", day, "works on a day off")
    return out


def _runs(flags: list[bool]) -> list[tuple[int, int, bool]]:
    """Maximal runs of equal flags as (first index, length, flag)."""
    runs: list[tuple[int, int, bool]] = []
    for i, flag in enumerate(flags):
        if runs and runs[-1][2] == flag:
            start, length, _ = runs[-1]
            runs[-1] = (start, length + 1, flag)
        else:
            runs.append((i, 1, flag))
    return runs
