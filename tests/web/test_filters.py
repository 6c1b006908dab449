"""Template filters: times in Europe/London local time, ISO weeks in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from web.filters import week_of, when


def test_when_shows_london_time_in_winter_and_summer():
    """Stored times are naive UTC: in winter London is UTC (GMT), in summer an hour ahead."""
    assert when(datetime(2026, 12, 7, 22, 16)) == "7 Dec 2026 22:16 GMT"
    assert when(datetime(2027, 6, 1, 8, 5)) == "1 Jun 2027 09:05 BST"
    assert when(datetime(2027, 3, 28, 0, 30)) == "28 Mar 2027 00:30 GMT"  # before the change
    assert when(datetime(2027, 3, 28, 1, 30)) == "28 Mar 2027 02:30 BST"  # after it
    assert when(None) == ""


def test_when_converts_an_aware_time_from_its_own_zone():
    paris = timezone(timedelta(hours=2))
    assert when(datetime(2027, 6, 1, 10, 5, tzinfo=paris)) == "1 Jun 2027 09:05 BST"
    assert when(datetime(2027, 1, 4, 9, 0, tzinfo=UTC)) == "4 Jan 2027 09:00 GMT"


def test_week_of_says_an_iso_week_in_words():
    assert week_of("2027-W09") == "week of Mon 1 Mar 2027"
    assert week_of("not a week") == "not a week"
