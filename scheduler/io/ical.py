"""iCalendar text of the subscription feeds: the only engine module that touches `icalendar`.

`feeds` decides what each feed says; this module turns that into RFC 5545 bytes and reads
back what an earlier run wrote. Times are always UTC (`...Z`), so no VTIMEZONE is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event, FreeBusy, vDuration, vText

PRODID = "-//hubrota//hubrota 0.1//EN"
REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class EventContent:
    """What a subscriber sees of an event; a change to any field is a change to the event."""

    start: datetime  # UTC
    end: datetime  # UTC
    summary: str
    location: str
    description: str


@dataclass(frozen=True)
class Revision:
    """When an event last changed and how often: SEQUENCE, LAST-MODIFIED and DTSTAMP."""

    sequence: int
    last_modified: datetime  # UTC
    stamp: datetime  # UTC


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    content: EventContent
    revision: Revision


@dataclass(frozen=True)
class Placeholder:
    """The VFREEBUSY that stands in for 'no sessions' (RFC 5545 wants at least one component)."""

    uid: str
    stamp: datetime  # UTC


@dataclass(frozen=True)
class CalendarText:
    """A calendar as `render` writes it and `read` gives it back."""

    uid: str
    name: str
    events: tuple[FeedEvent, ...]
    placeholder: Placeholder | None = None


def render(calendar: CalendarText) -> bytes:
    """The calendar as bytes; equal inputs give equal bytes (nothing here reads the clock)."""
    cal = Calendar.new(
        prodid=PRODID, name=calendar.name, uid=calendar.uid, refresh_interval=REFRESH
    )
    # icalendar 7 writes the name as it is; NAME and X-WR-CALNAME are TEXT, so ';', ',' and
    # '\\' must be escaped (vText does it, in place: the order of the lines stays).
    for text in ("NAME", "X-WR-CALNAME"):
        cal[text] = vText(calendar.name)
    # RFC 7986 requires VALUE=DURATION on REFRESH-INTERVAL; icalendar leaves it out.
    cal["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"
    # An X- property given a bare timedelta would be written as text ("1:00:00").
    cal.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    for event in calendar.events:
        cal.add_component(_event(event))
    if calendar.placeholder is not None:
        cal.add_component(_placeholder(calendar.placeholder))
    cal.validate()
    return cal.to_ical()


def _event(event: FeedEvent) -> Event:
    content, revision = event.content, event.revision
    return Event.new(
        uid=event.uid,
        start=_utc(content.start),
        end=_utc(content.end),
        summary=content.summary,
        location=content.location or None,
        description=content.description or None,
        sequence=revision.sequence,
        last_modified=_utc(revision.last_modified),
        stamp=_utc(revision.stamp),
    )


def _placeholder(placeholder: Placeholder) -> FreeBusy:
    # A VFREEBUSY with no FREEBUSY periods says "nothing busy"; clients ignore it in
    # subscriptions, and unlike a VTIMEZONE it carries no zone rules to get wrong.
    free_busy = FreeBusy()
    free_busy.add("UID", placeholder.uid)
    free_busy.add("DTSTAMP", _utc(placeholder.stamp))
    return free_busy


def read(data: bytes) -> CalendarText | None:
    """What an earlier run wrote, or None when `data` is not a calendar this module can read.

    Events without the fields `render` writes are skipped: they are treated as new.
    """
    try:
        cal = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError, TypeError):
        return None
    if not isinstance(cal, Calendar):
        return None
    events: list[FeedEvent] = []
    placeholder: Placeholder | None = None
    for component in cal.subcomponents:
        if isinstance(component, Event):
            event = _read_event(component)
            if event is not None:
                events.append(event)
        elif isinstance(component, FreeBusy) and component.get("UID") and component.get("DTSTAMP"):
            stamp = component.decoded("DTSTAMP")
            if isinstance(stamp, datetime) and stamp.tzinfo is not None:
                placeholder = Placeholder(str(component["UID"]), stamp.astimezone(UTC))
    raw = cal.get("NAME") or cal.get("X-WR-CALNAME")
    # icalendar 7 gives NAME back as it stands in the file, escapes and all
    name = _unescaped(raw.to_ical().decode()) if raw is not None else ""
    return CalendarText(
        uid=str(cal.get("UID", "")), name=name, events=tuple(events), placeholder=placeholder
    )


_TEXT_ESCAPE = re.compile(r"\\([\\;,nN])")


def _unescaped(text: str) -> str:
    """An RFC 5545 TEXT value as written, unescaped: \\\\ \\; \\, and \\n."""
    return _TEXT_ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _read_event(component: Event) -> FeedEvent | None:
    try:
        start, end = component.decoded("DTSTART"), component.decoded("DTEND")
        last_modified = component.decoded("LAST-MODIFIED")
        stamp = component.decoded("DTSTAMP")
        sequence = int(component.get("SEQUENCE", 0))
        uid = str(component["UID"])
    except (KeyError, ValueError, TypeError):
        return None
    instants = (start, end, last_modified, stamp)
    if not all(isinstance(t, datetime) and t.tzinfo is not None for t in instants):
        return None
    start, end, last_modified, stamp = (t.astimezone(UTC) for t in instants)
    content = EventContent(
        start=start,
        end=end,
        summary=str(component.get("SUMMARY", "")),
        location=str(component.get("LOCATION", "")),
        description=str(component.get("DESCRIPTION", "")),
    )
    return FeedEvent(
        uid=uid,
        content=content,
        revision=Revision(sequence=sequence, last_modified=last_modified, stamp=stamp),
    )


def _utc(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValueError(f"feed times must be timezone-aware datetimes, got {moment!r}")
    return moment.astimezone(UTC).replace(microsecond=0)
