"""Session expansion: weekly patterns and one-off rows over a period, with bank holidays."""

from datetime import date, time

import pytest

from scheduler.io.expand import DemandRow, bank_holidays_between, expand
from tests.builders import post

MARCH_1 = date(2027, 3, 1)  # a Monday
GOOD_FRIDAY = date(2027, 3, 26)
EASTER_MONDAY = date(2027, 3, 29)


def row(weekday=0, start="18:30", end="20:00", hub="H1", roles="GP", min=1, target=None, **kw):
    return DemandRow(
        hub_id=hub,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        post=post(roles, min, target),
        weekday=weekday,
        **kw,
    )


def test_weekly_pattern_gives_one_session_per_matching_day():
    """A Monday pattern over four weeks gives the four Mondays, in date order."""
    result = expand([row(weekday=0)], MARCH_1, date(2027, 3, 28))
    assert [s.date for s in result.sessions] == [date(2027, 3, d) for d in (1, 8, 15, 22)]
    assert all(s.session_id.startswith("H1-202703") for s in result.sessions)


def test_period_bounds_are_inclusive_and_may_start_midweek():
    """A Wednesday-to-Monday period catches the Saturday and both end days."""
    rows = [row(weekday=5, start="09:00", end="17:00"), row(weekday=2), row(weekday=0)]
    result = expand(rows, date(2027, 3, 3), date(2027, 3, 8))
    assert [s.date for s in result.sessions] == [
        date(2027, 3, 3),
        date(2027, 3, 6),
        date(2027, 3, 8),
    ]


def test_rows_sharing_hub_date_and_times_become_posts_in_row_order():
    """Two rows for the same slot are one session with two posts; another hub is separate."""
    rows = [
        row(roles="GP", min=1),
        row(roles="ANP;Practice Nurse", min=0, target=1),
        row(hub="H0", roles="HCA"),
    ]
    result = expand(rows, MARCH_1, MARCH_1)
    assert [(s.hub_id, [p.roles_text for p in s.posts]) for s in result.sessions] == [
        ("H0", ["HCA"]),
        ("H1", ["GP", "ANP;Practice Nurse"]),
    ]


def test_sessions_sorted_by_start_then_hub():
    """Sessions come in (start, hub) order whatever the row order."""
    rows = [
        row(weekday=1, hub="A"),
        row(weekday=0, hub="B", start="19:00"),
        row(weekday=0, hub="C", start="18:00", end="19:00"),
        row(weekday=0, hub="A", start="19:00"),
    ]
    result = expand(rows, MARCH_1, date(2027, 3, 2))
    assert [(s.date.day, s.start.hour, s.hub_id) for s in result.sessions] == [
        (1, 18, "C"),
        (1, 19, "A"),
        (1, 19, "B"),
        (2, 18, "A"),
    ]


def test_valid_from_and_valid_to_limit_a_pattern_inclusively():
    """valid_from and valid_to are inclusive bounds inside the period."""
    limited = row(weekday=0, valid_from=date(2027, 3, 8), valid_to=date(2027, 3, 15))
    result = expand([limited], MARCH_1, date(2027, 3, 28))
    assert [s.date for s in result.sessions] == [date(2027, 3, 8), date(2027, 3, 15)]


def test_validity_outside_the_period_gives_nothing():
    """A row valid only before the period asks for no sessions."""
    old = row(weekday=0, valid_to=date(2027, 2, 28))
    assert expand([old], MARCH_1, date(2027, 3, 28)).sessions == ()


def test_bank_holiday_skipped_by_default_and_recorded():
    """Easter Monday has no session from a default row; the skip records its minutes × min."""
    result = expand([row(weekday=0, min=2, target=3)], date(2027, 3, 22), date(2027, 4, 4))
    assert [s.date for s in result.sessions] == [date(2027, 3, 22)]
    assert result.bank_holidays == frozenset({GOOD_FRIDAY, EASTER_MONDAY})
    (skipped,) = result.skipped
    assert (skipped.hub_id, skipped.date, skipped.min_posts) == ("H1", EASTER_MONDAY, 2)
    assert skipped.session_id == "H1-20270329-1830-2000"
    assert skipped.min_minutes == 90 * 2


def test_bank_holiday_run_keeps_the_session():
    """bank_holidays = run keeps the Easter Monday session and records no skip."""
    result = expand([row(weekday=0, run_on_bank_holidays=True)], EASTER_MONDAY, EASTER_MONDAY)
    assert [s.date for s in result.sessions] == [EASTER_MONDAY]
    assert result.skipped == ()


def test_mixed_rows_on_a_bank_holiday_keep_only_the_run_posts():
    """Of two rows in one slot, only the `run` one survives; the other's min is recorded."""
    rows = [
        row(weekday=0, roles="GP", min=1),
        row(weekday=0, roles="ANP", min=1, run_on_bank_holidays=True),
    ]
    result = expand(rows, EASTER_MONDAY, EASTER_MONDAY)
    assert [p.roles_text for p in result.sessions[0].posts] == ["ANP"]
    assert [s.min_posts for s in result.skipped] == [1]


def test_one_off_rows_join_pattern_sessions_and_respect_the_period():
    """A dated row in a pattern's slot adds a post; a dated row outside the period is dropped."""
    one_off = DemandRow("H1", time(18, 30), time(20, 0), post("HCA"), date=MARCH_1)
    outside = DemandRow("H1", time(18, 30), time(20, 0), post("HCA"), date=date(2027, 4, 5))
    result = expand([row(weekday=0), one_off, outside], MARCH_1, date(2027, 3, 7))
    assert [[p.roles_text for p in s.posts] for s in result.sessions] == [["GP", "HCA"]]


def test_one_off_on_a_bank_holiday_follows_its_row_rule():
    """A dated row on Good Friday is skipped by default and kept with run."""
    skip = DemandRow("H1", time(9), time(12), post(), date=GOOD_FRIDAY)
    run = DemandRow("H2", time(9), time(12), post(), date=GOOD_FRIDAY, run_on_bank_holidays=True)
    result = expand([skip, run], GOOD_FRIDAY, GOOD_FRIDAY)
    assert [s.hub_id for s in result.sessions] == ["H2"]
    assert [s.hub_id for s in result.skipped] == ["H1"]


@pytest.mark.parametrize(
    ("region", "day", "is_holiday"),
    [
        ("england-and-wales", EASTER_MONDAY, True),
        ("scotland", EASTER_MONDAY, False),
        ("scotland", date(2027, 11, 30), True),  # St Andrew's Day
        ("northern-ireland", date(2027, 3, 17), True),  # St Patrick's Day
        ("england-and-wales", date(2027, 3, 17), False),
    ],
)
def test_bank_holiday_regions(region, day, is_holiday):
    """Each region uses its own calendar."""
    assert (day in bank_holidays_between(region, day, day)) is is_holiday


def test_bank_holidays_span_years():
    """A period across New Year includes both years' holidays and nothing outside it."""
    days = bank_holidays_between("england-and-wales", date(2027, 12, 20), date(2028, 1, 5))
    assert date(2027, 12, 27) in days and date(2028, 1, 3) in days
    assert all(date(2027, 12, 20) <= d <= date(2028, 1, 5) for d in days)


def test_unknown_region_is_a_value_error():
    """The loader validates regions; expand itself refuses a bad one loudly."""
    with pytest.raises(ValueError, match="wales"):
        expand([], MARCH_1, MARCH_1, region="wales")
