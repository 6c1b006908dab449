"""Session expansion: weekly pattern rows and one-off rows become the period's Sessions.

Pure Python (no pandas). The loader parses `patterns.csv` and `sessions.csv` into `DemandRow`s;
`expand` turns them into `Session`s whose posts are the rows sharing hub, date, start and end (in
the order the rows are given), skips bank holidays where a row says so, and reports what it
skipped so the contract can count the minutes lost.

Bank holidays come from the `holidays` package (no network): `england-and-wales` uses the
English calendar (Wales shares it), `scotland` and `northern-ireland` their own. A one-off row
follows the same `bank_holidays` rule as a pattern row (default skip).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta

import holidays

from scheduler.domain import HubId, Post, Session, SkippedSession

# rota.toml `bank_holiday_region` → subdivision of holidays.country_holidays("GB", ...)
REGIONS: dict[str, str] = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}


@dataclass(frozen=True)
class DemandRow:
    """One row of patterns.csv (`weekday` set) or sessions.csv (`date` set): one post."""

    hub_id: HubId
    start: time
    end: time
    post: Post
    weekday: int | None = None  # 0 = Monday … 6 = Sunday
    date: dt.date | None = None  # (the field shadows the type inside the class body)
    run_on_bank_holidays: bool = False  # `bank_holidays = run`
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def dates(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The days from `first` to `last` (inclusive) on which this row asks for its post."""
        lo = max(first, self.valid_from) if self.valid_from else first
        hi = min(last, self.valid_to) if self.valid_to else last
        if self.date is not None:
            return [self.date] if lo <= self.date <= hi else []
        if self.weekday is None or lo > hi:
            return []
        day = lo + timedelta(days=(self.weekday - lo.weekday()) % 7)
        out = []
        while day <= hi:
            out.append(day)
            day += timedelta(days=7)
        return out


@dataclass(frozen=True)
class Expansion:
    sessions: tuple[Session, ...]  # sorted by (start_minute, hub_id)
    bank_holidays: frozenset[date]  # bank holidays inside the period
    skipped: tuple[SkippedSession, ...]  # sessions (or some of their posts) skipped for them


def bank_holidays_between(region: str, first: date, last: date) -> frozenset[date]:
    """Bank holidays of `region` from `first` to `last` inclusive; ValueError for a bad region."""
    if region not in REGIONS:
        raise ValueError(
            f"unknown bank holiday region {region!r}; expected one of {sorted(REGIONS)}"
        )
    if last < first:
        return frozenset()
    years = range(first.year, last.year + 1)
    calendar = holidays.country_holidays("GB", subdiv=REGIONS[region], years=years)
    return frozenset(d for d in calendar if first <= d <= last)


def expand(
    rows: Iterable[DemandRow],
    first: date,
    last: date,
    region: str = "england-and-wales",
) -> Expansion:
    """The sessions that `rows` ask for from `first` to `last` inclusive."""
    bank = bank_holidays_between(region, first, last)
    posts: dict[tuple[HubId, date, time, time], list[Post]] = {}
    skipped: dict[tuple[HubId, date, time, time], int] = {}
    for row in rows:
        for day in row.dates(first, last):
            key = (row.hub_id, day, row.start, row.end)
            if day in bank and not row.run_on_bank_holidays:
                skipped[key] = skipped.get(key, 0) + row.post.min
            else:
                posts.setdefault(key, []).append(row.post)
    sessions = [Session(h, d, s, e, tuple(p)) for (h, d, s, e), p in posts.items()]
    sessions.sort(key=lambda s: (s.start_minute, s.hub_id, s.end_minute))
    lost = [SkippedSession(h, d, s, e, n) for (h, d, s, e), n in skipped.items()]
    lost.sort(key=lambda k: (k.date, k.start, k.hub_id, k.end))
    return Expansion(tuple(sessions), bank, tuple(lost))
