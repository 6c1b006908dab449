"""Subscription feeds of a rota: one iCalendar file per clinician, hub and practice, and all.ics.

What a feed holds (DESIGN.md, "Identities"):
- `clinician-{id}.ics`: one event per session the clinician works.
- `hub-{id}.ics`: one event per session at the hub that at least one person works, everyone
  on it in the description. A session nobody works is not something anyone attends, so it is
  left out here and in all.ics (unfilled posts are in unfilled.csv and the report).
- `practice-{code}.ics`: one event per session and clinician of the practice.
- `all.ics`: one event per session of the network that at least one person works.
Ids are percent-encoded in file names where they hold anything but letters, digits and `-_.~`.

Identity and change:
- Every UID is `<hex>@hubrota`, an HMAC-SHA256 under a per-installation secret of the feed's
  scope and the session_id (plus the clinician in practice feeds), so it survives re-runs and
  gives away no name or id.
- SEQUENCE, LAST-MODIFIED and DTSTAMP say when an event last changed (its times, summary,
  location or description), never when the file was written: an unchanged rota gives
  byte-identical feeds. A session cancelled or reassigned is left out of the feed; clients
  remove events that are no longer in a subscription.
- A feed whose scope no longer exists (a clinician who left) is rewritten empty rather than
  deleted, so its subscribers see the events go instead of a broken link.
- An empty feed holds one VFREEBUSY without busy periods: RFC 5545 and `icalendar`'s
  validate want at least one component, and clients ignore it.
- Past events are kept for WINDOW_BACK_DAYS before the reference "now"; future ones all.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from scheduler.domain import Clinician, Hub, Problem, Rota, Session
from scheduler.io import ical

LONDON = ZoneInfo("Europe/London")
WINDOW_BACK_DAYS = 8 * 7
SECRET_ENV = "HUBROTA_FEED_SECRET"
MIN_SECRET_CHARS = 16
ALL_FEED = "all.ics"
UID_DOMAIN = "hubrota"
FEED_FILE = re.compile(r"^(?:all|(clinician|hub|practice)-(.+))\.ics$")
PREFIX = "Extended access"


# ---- scopes and identities ----------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose feed: kind is 'clinician', 'hub', 'practice' or 'all' (with an empty key)."""

    kind: str
    key: str = ""

    @property
    def filename(self) -> str:
        if self.kind == "all":
            return ALL_FEED
        return f"{self.kind}-{quote(self.key, safe='-_.~')}.ics"

    @classmethod
    def from_filename(cls, filename: str) -> Scope | None:
        match = FEED_FILE.match(filename)
        if match is None:
            return None
        if match.group(1) is None:
            return cls("all")
        return cls(match.group(1), unquote(match.group(2)))


def is_feed_filename(filename: str) -> bool:
    """True for the names this module writes (and so may rewrite)."""
    return Scope.from_filename(filename) is not None


def opaque_uid(secret: bytes, *parts: str) -> str:
    """`<32 hex>@hubrota`: HMAC-SHA256 of the parts, so equal parts give equal UIDs."""
    message = "\x1f".join(parts).encode()
    return f"{hmac.new(secret, message, sha256).hexdigest()[:32]}@{UID_DOMAIN}"


def event_uid(secret: bytes, scope: Scope, session_id: str, clinician_id: str = "") -> str:
    return opaque_uid(secret, "event", scope.kind, scope.key, session_id, clinician_id)


def calendar_uid(secret: bytes, scope: Scope) -> str:
    return opaque_uid(secret, "calendar", scope.kind, scope.key)


def placeholder_uid(secret: bytes, scope: Scope) -> str:
    return opaque_uid(secret, "empty", scope.kind, scope.key)


# ---- what each event says --------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedEvent:
    uid: str
    content: ical.EventContent
    order: tuple  # sort key: start, end, hub, session, clinician


def session_instants(session: Session) -> tuple[datetime, datetime]:
    """Start and end in UTC of a session whose clock times are Europe/London.

    The end is read on the wall clock of its own day, so a session past midnight on the night
    of a clock change still ends when the clock on the wall says.
    """
    end_day = session.date + timedelta(days=1 if session.end <= session.start else 0)
    start = datetime.combine(session.date, session.start, tzinfo=LONDON)
    end = datetime.combine(end_day, session.end, tzinfo=LONDON)
    return start.astimezone(UTC), end.astimezone(UTC)


def location_of(hub: Hub) -> str:
    parts = [_clean(hub.name), _clean(hub.address)]
    postcode = _clean(hub.postcode)
    if postcode and postcode.casefold() not in parts[1].casefold():
        parts.append(postcode)
    return ", ".join(p for p in parts if p)


def person(clinician: Clinician) -> str:
    """Name and role only: feeds carry no e-mail, phone or patient data."""
    return f"{_clean(clinician.name)} ({_clean(clinician.role)})"


def people_text(heading: str, people: Iterable[Clinician], nobody: str) -> str:
    lines = [person(c) for c in _by_name(people)]
    return "\n".join([heading, *lines]) if lines else nobody


def _by_name(people: Iterable[Clinician]) -> list[Clinician]:
    return sorted(people, key=lambda c: (_clean(c.name).casefold(), c.clinician_id))


def _clean(text: str) -> str:
    """One line, single spaces: keeps feeds tidy and makes text round-trip exactly."""
    return " ".join(text.split())


def _staff(n: int) -> str:
    return f"{n} staff"


class _Rota:
    """The rota as look-ups: who works which session."""

    def __init__(self, problem: Problem, rota: Rota, window_start: date | None) -> None:
        known_sessions = {s.session_id for s in problem.sessions}
        known_clinicians = {c.clinician_id for c in problem.clinicians}
        staff: dict[str, set[str]] = {}
        for a in rota:
            if a.session_id not in known_sessions:
                raise ValueError(f"rota: unknown session_id {a.session_id!r}")
            if a.clinician_id not in known_clinicians:
                raise ValueError(f"rota: unknown clinician_id {a.clinician_id!r}")
            staff.setdefault(a.session_id, set()).add(a.clinician_id)
        self.problem = problem
        self.sessions: list[Session] = [
            s
            for s in problem.sessions
            if staff.get(s.session_id) and (window_start is None or s.date >= window_start)
        ]
        self.sessions.sort(key=lambda s: (*session_instants(s), s.hub_id, s.session_id))
        self.staff = {sid: [problem.clinician(c) for c in ids] for sid, ids in staff.items()}

    def on(self, session: Session) -> list[Clinician]:
        return _by_name(self.staff[session.session_id])


def _content(session: Session, hub: Hub, summary: str, description: str) -> ical.EventContent:
    start, end = session_instants(session)
    return ical.EventContent(
        start=start, end=end, summary=summary, location=location_of(hub), description=description
    )


def _order(session: Session, clinician_id: str = "") -> tuple:
    return (*session_instants(session), session.hub_id, session.session_id, clinician_id)


def clinician_events(rota: _Rota, secret: bytes, clinician: Clinician) -> list[PlannedEvent]:
    scope = Scope("clinician", clinician.clinician_id)
    events = []
    for session in rota.sessions:
        people = rota.on(session)
        if all(c.clinician_id != clinician.clinician_id for c in people):
            continue
        events.append(_personal_event(rota, secret, scope, session, clinician, people))
    return events


def practice_events(rota: _Rota, secret: bytes, code: str) -> list[PlannedEvent]:
    scope = Scope("practice", code)
    events = []
    for session in rota.sessions:
        people = rota.on(session)
        for clinician in people:
            if clinician.practice_code == code:
                events.append(
                    _personal_event(rota, secret, scope, session, clinician, people, named=True)
                )
    return events


def _personal_event(
    rota: _Rota,
    secret: bytes,
    scope: Scope,
    session: Session,
    clinician: Clinician,
    people: list[Clinician],
    *,
    named: bool = False,
) -> PlannedEvent:
    """One clinician's event; `named` (practice feeds) puts the clinician in the summary,
    since a practice's feed shows several of its people on the same session."""
    hub = rota.problem.hub(session.hub_id)
    summary = f"{PREFIX} – {_clean(clinician.role)} – {_clean(hub.name)}"
    if named:
        summary += f" – {_clean(clinician.name)}"
    others = [c for c in people if c.clinician_id != clinician.clinician_id]
    description = people_text("Also on this session:", others, "No one else is on this session.")
    clinician_key = clinician.clinician_id if scope.kind == "practice" else ""
    return PlannedEvent(
        uid=event_uid(secret, scope, session.session_id, clinician_key),
        content=_content(session, hub, summary, description),
        order=_order(session, clinician.clinician_id),
    )


def session_events(
    rota: _Rota, secret: bytes, scope: Scope, hub_id: str | None = None
) -> list[PlannedEvent]:
    """A hub's sessions (or, without hub_id, the network's) with everyone on them."""
    events = []
    for session in rota.sessions:
        if hub_id is not None and session.hub_id != hub_id:
            continue
        hub = rota.problem.hub(session.hub_id)
        people = rota.on(session)
        summary = f"{PREFIX} – {_clean(hub.name)} ({_staff(len(people))})"
        description = people_text("On this session:", people, "")
        events.append(
            PlannedEvent(
                uid=event_uid(secret, scope, session.session_id),
                content=_content(session, hub, summary, description),
                order=_order(session),
            )
        )
    return events


# ---- feeds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedFeed:
    scope: Scope
    name: str
    events: list[PlannedEvent]


def plan_feeds(
    problem: Problem, rota: Rota, secret: bytes, window_start: date | None
) -> list[PlannedFeed]:
    """Every feed of the problem, including the empty ones of people with no sessions: a
    clinician may subscribe before their first session."""
    view = _Rota(problem, rota, window_start)
    feeds = [
        PlannedFeed(
            Scope("clinician", c.clinician_id),
            f"Hub sessions – {_clean(c.name)}",
            clinician_events(view, secret, c),
        )
        for c in problem.clinicians
    ]
    feeds += [
        PlannedFeed(
            Scope("hub", h.hub_id),
            f"{PREFIX} – {_clean(h.name)}",
            session_events(view, secret, Scope("hub", h.hub_id), h.hub_id),
        )
        for h in problem.hubs
    ]
    feeds += [
        PlannedFeed(
            Scope("practice", p.code),
            f"{PREFIX} – {_clean(p.name)}",
            practice_events(view, secret, p.code),
        )
        for p in problem.practices
    ]
    feeds.append(
        PlannedFeed(
            Scope("all"), f"{PREFIX} – all hubs", session_events(view, secret, Scope("all"))
        )
    )
    filenames = [f.scope.filename for f in feeds]
    if len(set(filenames)) != len(filenames):
        raise ValueError("two feeds would share a file name (duplicate ids?)")
    return feeds


def build_feeds(
    problem: Problem,
    rota: Rota,
    *,
    secret: bytes,
    previous: Mapping[str, bytes] | None,
    changed_at: datetime,
    window_start: date | None,
) -> dict[str, bytes]:
    """Filename → iCalendar bytes of every feed of the rota.

    `previous` holds the feeds written before (filename → bytes): an event whose content is
    unchanged keeps its SEQUENCE, LAST-MODIFIED and DTSTAMP; a changed one gets SEQUENCE + 1
    and `changed_at`. A previous feed whose scope is gone comes back empty. `window_start`
    drops sessions on earlier dates (None keeps all).
    """
    if not secret:
        raise ValueError("the feed secret must not be empty")
    if changed_at.tzinfo is None:
        raise ValueError("changed_at must be timezone-aware")
    changed_at = changed_at.astimezone(UTC).replace(microsecond=0)
    before: dict[str, ical.CalendarText] = {}
    for filename, data in (previous or {}).items():
        text = ical.read(data) if is_feed_filename(filename) else None
        if text is not None:
            before[filename] = text
    out: dict[str, bytes] = {}
    for feed in plan_feeds(problem, rota, secret, window_start):
        out[feed.scope.filename] = _render(
            feed, before.get(feed.scope.filename), secret, changed_at
        )
    for filename in sorted(set(previous or {}) - set(out)):
        scope = Scope.from_filename(filename)
        if scope is None:
            continue  # not ours: leave it alone
        old = before.get(filename)
        name = old.name if old is not None and old.name else scope.filename.removesuffix(".ics")
        out[filename] = _render(PlannedFeed(scope, name, []), old, secret, changed_at)
    return dict(sorted(out.items()))


def _render(
    feed: PlannedFeed, old: ical.CalendarText | None, secret: bytes, changed_at: datetime
) -> bytes:
    known = {e.uid: e for e in old.events} if old is not None else {}
    events = []
    for planned in sorted(feed.events, key=lambda e: e.order):
        events.append(
            ical.FeedEvent(
                planned.uid, planned.content, _revision(known.get(planned.uid), planned, changed_at)
            )
        )
    uids = [e.uid for e in events]
    if len(set(uids)) != len(uids):
        raise ValueError(f"{feed.scope.filename}: two events share a UID")
    placeholder = None
    if not events:
        uid = placeholder_uid(secret, feed.scope)
        kept = old.placeholder if old is not None else None
        stamp = kept.stamp if kept is not None and kept.uid == uid else changed_at
        placeholder = ical.Placeholder(uid, stamp)
    return ical.render(
        ical.CalendarText(
            uid=calendar_uid(secret, feed.scope),
            name=feed.name,
            events=tuple(events),
            placeholder=placeholder,
        )
    )


def _revision(
    old: ical.FeedEvent | None, planned: PlannedEvent, changed_at: datetime
) -> ical.Revision:
    if old is None:
        return ical.Revision(sequence=0, last_modified=changed_at, stamp=changed_at)
    if old.content == planned.content:
        return old.revision
    # never earlier than the last change, even if a caller's clock went back
    changed = max(changed_at, old.revision.last_modified, old.revision.stamp)
    return ical.Revision(sequence=old.revision.sequence + 1, last_modified=changed, stamp=changed)


# ---- files, secret, command ------------------------------------------------------------------


def feed_secret(environ: Mapping[str, str] | None = None) -> bytes:
    """The per-installation secret behind every UID.

    `HUBROTA_FEED_SECRET` if set, else the file `$XDG_CONFIG_HOME/hubrota/feed-secret`
    (default `~/.config/hubrota/feed-secret`), created on first use with 64 random hex
    characters and mode 0600. Changing it changes every UID: subscribers would see every
    event replaced, so keep it with the backups.
    """
    env = os.environ if environ is None else environ
    value = env.get(SECRET_ENV, "").strip()
    if value:
        return _checked_secret(value, SECRET_ENV)
    config_home = env.get("XDG_CONFIG_HOME") or str(
        Path(env.get("HOME") or Path.home()) / ".config"
    )
    path = Path(config_home) / "hubrota" / "feed-secret"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _checked_secret(path.read_text(encoding="utf-8").strip(), str(path))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return _checked_secret(path.read_text(encoding="utf-8").strip(), str(path))


def _checked_secret(value: str, source: str) -> bytes:
    if len(value) < MIN_SECRET_CHARS:
        raise ValueError(f"{source}: the feed secret needs at least {MIN_SECRET_CHARS} characters")
    return value.encode("utf-8")


def window_start_for(now: datetime) -> date:
    """The first date kept in the feeds: WINDOW_BACK_DAYS before today in London."""
    return now.astimezone(LONDON).date() - timedelta(days=WINDOW_BACK_DAYS)


def write_feeds(
    problem: Problem,
    rota: Rota,
    out_dir: Path,
    *,
    secret: bytes | None = None,
    now: datetime | None = None,
) -> list[Path]:
    """Write every feed into out_dir, carrying SEQUENCE forward from the feeds already there.

    `now` (default: the clock) is both the change time of changed events and the reference of
    the window. Files whose bytes would not change are left untouched; the others are
    replaced atomically. Returns the paths of all feeds, sorted.
    """
    now = datetime.now(UTC) if now is None else now
    secret = feed_secret() if secret is None else secret
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = {
        p.name: p.read_bytes()
        for p in sorted(out_dir.iterdir())
        if p.is_file() and is_feed_filename(p.name)
    }
    feeds = build_feeds(
        problem,
        rota,
        secret=secret,
        previous=previous,
        changed_at=now,
        window_start=window_start_for(now),
    )
    for filename, data in feeds.items():
        if previous.get(filename) != data:
            _write_atomically(out_dir / filename, data)
    return [out_dir / filename for filename in feeds]


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def feeds_main(
    problem: Problem,
    rota: Rota,
    feeds_dir: Path,
    *,
    now: datetime | None = None,
    stderr: TextIO | None = None,
) -> int:
    """For the CLI: write the feeds into `feeds_dir` (`DIR/feeds` for `solve`, `DIR` for
    `feeds`) and say so on stderr. Exit code 0 on success, 2 when the rota does not fit the
    problem, 1 when the secret or the files fail."""
    stderr = sys.stderr if stderr is None else stderr
    try:
        secret = feed_secret()
    except (OSError, ValueError) as error:
        print(f"feeds: {error}", file=stderr)
        return 1
    try:
        paths = write_feeds(problem, rota, Path(feeds_dir), secret=secret, now=now)
    except ValueError as error:
        print(f"feeds: {error}", file=stderr)
        return 2
    except OSError as error:
        print(f"feeds: {error}", file=stderr)
        return 1
    print(f"{len(paths)} feeds in {feeds_dir}", file=stderr)
    return 0
