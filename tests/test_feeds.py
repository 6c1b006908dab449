"""iCalendar feeds: content, identity, change tracking and four independent parsers plus Radicale.

The node parsers (ical.js, node-ical) need `npm ci --prefix tests/js` first; the README's test
command runs it. Without it these tests fail with a message saying so.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import vobject
from icalendar import Calendar

from scheduler.domain import Assignment, Problem
from scheduler.io.feeds import (
    Scope,
    build_feeds,
    calendar_uid,
    event_uid,
    feed_secret,
    feeds_main,
    session_instants,
    write_feeds,
)
from tests import builders as b

SECRET = b"test-secret-0123456789abcdef"
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)  # window starts 4 Jan 2027: every session is in
LATER = datetime(2027, 3, 2, 9, 30, tzinfo=UTC)
JS_DIR = Path(__file__).parent / "js"
UID_SHAPE = re.compile(r"^[0-9a-f]{32}@hubrota$")

# ---- a small network: two hubs, three practices, five clinicians -------------------------

HUBS = (
    b.hub("H1", name="Riverside hub", address="1 River Road, Townsville", postcode="TS1 1AA"),
    b.hub(
        "H2",
        name="Hillview hub",
        address="22 Hill Street; Upper Floor \\ Suite 3, a long "
        "address line that forces folding: Ærøskøbing Straße café",
        postcode="TS2 2BB",
    ),
)
PRACTICES = (
    b.practice("P1", name="Riverside Surgery"),
    b.practice("P2", name="Hillview Medical Centre"),
    b.practice("P3", name="Oak Lane Practice"),
)
CLINICIANS = (
    b.clinician("C1", "GP", "P1", name="Dr Ann Smith", email="ann.smith@example.org"),
    b.clinician("C2", "ANP", "P1", name="Bo Lee", email="bo.lee@example.org"),
    b.clinician("C3", "GP", "P2", name="Dr Chris O'Neil"),
    b.clinician("C4", "Practice Nurse", "P2", name="Dana Østergaard, RGN; Lead"),
    b.clinician("C5", "HCA", "P3", name="Eli Brown"),  # works nothing: an empty feed
)
SAT_MAR = b.session(date(2027, 3, 27), "09:00", "17:00", "H1", (b.post("GP;ANP", 1, 2),))
MON_MAR_H1 = b.session(date(2027, 3, 29), "18:30", "20:00", "H1", (b.post("GP", 1, 2),))
MON_MAR_H2 = b.session(
    date(2027, 3, 29), "18:30", "20:00", "H2", (b.post("ANP;Practice Nurse", 1, 2),)
)
SAT_OCT = b.session(
    date(2027, 10, 30),
    "09:00",
    "17:00",
    "H2",
    (b.post("GP", 1), b.post("ANP;Practice Nurse", 1, 2)),
)
MON_NOV = b.session(date(2027, 11, 1), "18:30", "20:00", "H1", (b.post("GP", 1),))
TUE_NOV = b.session(date(2027, 11, 2), "18:30", "20:00", "H2", (b.post("GP", 1),))  # unfilled
SESSIONS = (SAT_MAR, MON_MAR_H1, MON_MAR_H2, SAT_OCT, MON_NOV, TUE_NOV)

# Europe/London → UTC, written out by hand: clocks go forward on Sun 28 Mar 2027 and back on
# Sun 31 Oct 2027.
UTC_TIMES = {
    SAT_MAR.session_id: ("2027-03-27T09:00:00Z", "2027-03-27T17:00:00Z"),  # GMT
    MON_MAR_H1.session_id: ("2027-03-29T17:30:00Z", "2027-03-29T19:00:00Z"),  # BST
    MON_MAR_H2.session_id: ("2027-03-29T17:30:00Z", "2027-03-29T19:00:00Z"),  # BST
    SAT_OCT.session_id: ("2027-10-30T08:00:00Z", "2027-10-30T16:00:00Z"),  # BST
    MON_NOV.session_id: ("2027-11-01T18:30:00Z", "2027-11-01T20:00:00Z"),  # GMT
    TUE_NOV.session_id: ("2027-11-02T18:30:00Z", "2027-11-02T20:00:00Z"),  # GMT
}
ROTA = (
    Assignment(SAT_MAR.session_id, 0, "C1"),
    Assignment(SAT_MAR.session_id, 0, "C2"),
    Assignment(MON_MAR_H1.session_id, 0, "C1"),
    Assignment(MON_MAR_H1.session_id, 0, "C3"),
    Assignment(MON_MAR_H2.session_id, 0, "C2"),
    Assignment(MON_MAR_H2.session_id, 0, "C4"),
    Assignment(SAT_OCT.session_id, 0, "C3"),
    Assignment(SAT_OCT.session_id, 1, "C4"),
    Assignment(SAT_OCT.session_id, 1, "C2"),
    Assignment(MON_NOV.session_id, 0, "C1"),
)


def network(clinicians=CLINICIANS) -> Problem:
    return b.problem(clinicians=clinicians, sessions=SESSIONS, hubs=HUBS, practices=PRACTICES)


def expected_events(problem: Problem, rota) -> dict[str, set[tuple[str, str, str]]]:
    """Feed file → {(uid, start, end)} as the rota says, with the hand-written UTC times."""
    staff: dict[str, set[str]] = {}
    for a in rota:
        staff.setdefault(a.session_id, set()).add(a.clinician_id)
    out: dict[str, set] = {Scope("all").filename: set()}
    for c in problem.clinicians:
        out[Scope("clinician", c.clinician_id).filename] = set()
    for h in problem.hubs:
        out[Scope("hub", h.hub_id).filename] = set()
    for p in problem.practices:
        out[Scope("practice", p.code).filename] = set()
    for session in problem.sessions:
        sid = session.session_id
        times = UTC_TIMES[sid]
        if not staff.get(sid):
            continue
        for scope in (Scope("all"), Scope("hub", session.hub_id)):
            out[scope.filename].add((event_uid(SECRET, scope, sid), *times))
        for cid in staff[sid]:
            scope = Scope("clinician", cid)
            out[scope.filename].add((event_uid(SECRET, scope, sid), *times))
            practice = Scope("practice", problem.clinician(cid).practice_code)
            out[practice.filename].add((event_uid(SECRET, practice, sid, cid), *times))
    return out


# ---- parsers --------------------------------------------------------------------------------


def _z(moment: datetime) -> str:
    assert moment.tzinfo is not None, f"floating time {moment}"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_icalendar(data: bytes) -> set[tuple[str, str, str]]:
    cal = Calendar.from_ical(data)
    return {(str(e["UID"]), _z(e.start), _z(e.end)) for e in cal.events}


def with_vobject(data: bytes) -> list[tuple[str, str, str]]:
    cal = vobject.readOne(data.decode("utf-8"), validate=True)
    return [
        (e.uid.value, _z(e.dtstart.value), _z(e.dtend.value))
        for e in cal.contents.get("vevent", [])
    ]


def with_node(paths: list[Path]) -> dict[str, dict[str, list[dict]]]:
    """ical.js and node-ical through tests/js/parse.js: file name → parser → events."""
    if shutil.which("node") is None:
        pytest.fail(
            "node is not installed: the feed tests need Node.js 20 for ical.js and node-ical"
        )
    if (
        not (JS_DIR / "node_modules" / "ical.js").is_dir()
        or not (JS_DIR / "node_modules" / "node-ical").is_dir()
    ):
        pytest.fail("tests/js/node_modules is missing: run `npm ci --prefix tests/js` first")
    run = subprocess.run(
        ["node", str(JS_DIR / "parse.js"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, f"parse.js failed:\n{run.stderr}"
    return {Path(path).name: parsed for path, parsed in json.loads(run.stdout).items()}


def js_triples(events: list[dict]) -> list[tuple[str, str, str]]:
    return [(e["uid"], _iso_z(e["start"]), _iso_z(e["end"])) for e in events]


def _iso_z(text: str) -> str:
    return _z(datetime.fromisoformat(text))


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def feeds_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    write_feeds(network(), ROTA, out, secret=SECRET, now=NOW)
    return out


@pytest.fixture(scope="module")
def node_parsed(feeds_dir) -> dict[str, dict[str, list[dict]]]:
    return with_node(sorted(feeds_dir.glob("*.ics")))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def radicale(tmp_path_factory):
    """A Radicale CalDAV server on 127.0.0.1 with its own storage, no authentication."""
    root = tmp_path_factory.mktemp("radicale")
    port = _free_port()
    log = (root / "radicale.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "-C",
            "",
            "-H",
            f"127.0.0.1:{port}",
            "--auth-type",
            "none",
            "--storage-filesystem-folder",
            str(root / "storage"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Radicale did not start: {(root / 'radicale.log').read_text()}")
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def caldav(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        # any password is accepted with auth type none; the user owns /hubrota/
        headers = {
            "Authorization": "Basic aHVicm90YTp4",  # hubrota:x
            "Content-Type": "text/calendar; charset=utf-8",
        }
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# ---- the files ------------------------------------------------------------------------------


def test_one_feed_per_clinician_hub_practice_and_network(feeds_dir):
    """Every clinician, hub and practice has a feed, even with nothing in it, plus all.ics."""
    names = sorted(p.name for p in feeds_dir.iterdir())
    assert names == sorted(expected_events(network(), ROTA))
    assert names == [
        "all.ics",
        "clinician-C1.ics",
        "clinician-C2.ics",
        "clinician-C3.ics",
        "clinician-C4.ics",
        "clinician-C5.ics",
        "hub-H1.ics",
        "hub-H2.ics",
        "practice-P1.ics",
        "practice-P2.ics",
        "practice-P3.ics",
    ]


def test_icalendar_reads_every_feed_without_errors(feeds_dir):
    """icalendar parses each feed with no component errors and Calendar.validate passes."""
    for path in sorted(feeds_dir.glob("*.ics")):
        cal = Calendar.from_ical(path.read_bytes())
        for component in cal.walk():
            assert component.errors == [], (path.name, component.name, component.errors)
        cal.validate()
        assert {c.name for c in cal.walk()} <= {"VCALENDAR", "VEVENT", "VFREEBUSY"}, path.name


def test_calendar_properties(feeds_dir):
    """PRODID, NAME/X-WR-CALNAME, REFRESH-INTERVAL with VALUE=DURATION, X-PUBLISHED-TTL as a
    duration and a stable opaque calendar UID; times are UTC and no TZID or VTIMEZONE."""
    text = (feeds_dir / "clinician-C1.ics").read_bytes().decode("utf-8")
    lines = text.split("\r\n")
    assert "PRODID:-//hubrota//hubrota 0.1//EN" in lines
    assert "NAME:Hub sessions – Dr Ann Smith" in lines
    assert "X-WR-CALNAME:Hub sessions – Dr Ann Smith" in lines
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    assert "X-PUBLISHED-TTL:PT1H" in lines
    assert f"UID:{calendar_uid(SECRET, Scope('clinician', 'C1'))}" in lines
    for path in feeds_dir.glob("*.ics"):
        raw = path.read_bytes().decode("utf-8")
        assert "TZID" not in raw and "VTIMEZONE" not in raw, path.name
        assert "METHOD" not in raw and "STATUS:" not in raw, path.name
        for line in raw.split("\r\n"):
            if line.startswith(("DTSTART", "DTEND", "DTSTAMP", "LAST-MODIFIED")):
                assert re.fullmatch(r"[A-Z-]+:\d{8}T\d{6}Z", line), (path.name, line)


def test_vobject_validates_every_feed(feeds_dir):
    """vobject's readOne(validate=True) accepts each feed, the empty ones included."""
    for path in sorted(feeds_dir.glob("*.ics")):
        with_vobject(path.read_bytes())


def test_every_parser_sees_the_rota(feeds_dir, node_parsed):
    """icalendar, vobject, ical.js and node-ical each read exactly the (UID, start, end) events
    the rota says, per clinician, hub and practice feed and all.ics, with no duplicates."""
    expected = expected_events(network(), ROTA)
    for name, events in expected.items():
        data = (feeds_dir / name).read_bytes()
        assert with_icalendar(data) == events, name
        read_by = {
            "vobject": with_vobject(data),
            "ical.js": js_triples(node_parsed[name]["icaljs"]),
            "node-ical": js_triples(node_parsed[name]["nodeical"]),
        }
        for parser, triples in read_by.items():
            assert len(triples) == len(events), (name, parser)
            assert set(triples) == events, (name, parser)
    assert len(expected["all.ics"]) == 5  # the unfilled Tuesday session is in no feed
    assert expected["clinician-C5.ics"] == set()


def test_clock_change_sessions_have_the_right_utc_instants(feeds_dir, node_parsed):
    """The Saturdays before and Mondays after the 2027 clock changes are at the right instants
    in all four parsers, and the JavaScript parsers read the times as UTC, not floating."""
    wanted = {
        ("C1", SAT_MAR): ("2027-03-27T09:00:00Z", "2027-03-27T17:00:00Z"),
        ("C1", MON_MAR_H1): ("2027-03-29T17:30:00Z", "2027-03-29T19:00:00Z"),
        ("C3", SAT_OCT): ("2027-10-30T08:00:00Z", "2027-10-30T16:00:00Z"),
        ("C1", MON_NOV): ("2027-11-01T18:30:00Z", "2027-11-01T20:00:00Z"),
    }
    for (cid, session), times in wanted.items():
        scope = Scope("clinician", cid)
        name, uid = scope.filename, event_uid(SECRET, scope, session.session_id)
        data = (feeds_dir / name).read_bytes()
        assert (uid, *times) in with_icalendar(data)
        assert (uid, *times) in with_vobject(data)
        for parser in ("icaljs", "nodeical"):
            assert (uid, *times) in js_triples(node_parsed[name][parser]), parser
    for parsed in node_parsed.values():
        for event in parsed["icaljs"]:
            assert event["zones"] == ["UTC", "UTC"]
        for event in parsed["nodeical"]:
            assert set(event["zones"]) <= {"Etc/UTC", "UTC"}


def test_session_instants_follow_the_wall_clock_past_midnight():
    """A session past midnight on the night the clocks go forward ends at 02:00 BST = 01:00Z."""
    late = b.session(date(2027, 3, 27), "22:00", "02:00")
    assert session_instants(late) == (
        datetime(2027, 3, 27, 22, tzinfo=UTC),
        datetime(2027, 3, 28, 1, tzinfo=UTC),
    )


# ---- what the events say -----------------------------------------------------------------


def _events(path: Path) -> dict[str, dict[str, str]]:
    cal = Calendar.from_ical(path.read_bytes())
    return {str(e["UID"]): {k: str(v) for k, v in e.items()} for e in cal.events}


def test_clinician_event_text(feeds_dir):
    """Summary with the clinician's role and the hub; location with the hub's name, address and
    postcode; description with the others on the session by name and role."""
    events = _events(feeds_dir / "clinician-C2.ics")
    event = events[event_uid(SECRET, Scope("clinician", "C2"), SAT_OCT.session_id)]
    assert event["SUMMARY"] == "Extended access – ANP – Hillview hub"
    assert event["LOCATION"] == (
        "Hillview hub, 22 Hill Street; Upper Floor \\ Suite 3, a long "
        "address line that forces folding: Ærøskøbing Straße café, TS2 2BB"
    )
    assert event["DESCRIPTION"] == (
        "Also on this session:\nDana Østergaard, RGN; Lead (Practice Nurse)\nDr Chris O'Neil (GP)"
    )
    alone = _events(feeds_dir / "clinician-C1.ics")[
        event_uid(SECRET, Scope("clinician", "C1"), MON_NOV.session_id)
    ]
    assert alone["DESCRIPTION"] == "No one else is on this session."
    assert alone["LOCATION"] == "Riverside hub, 1 River Road, Townsville, TS1 1AA"


def test_hub_practice_and_network_event_text(feeds_dir):
    """Hub and all.ics events count the staff and list everyone; practice events name the
    practice's clinician, since several of them may share a session."""
    hub = _events(feeds_dir / "hub-H1.ics")[
        event_uid(SECRET, Scope("hub", "H1"), SAT_MAR.session_id)
    ]
    assert hub["SUMMARY"] == "Extended access – Riverside hub (2 staff)"
    assert hub["DESCRIPTION"] == "On this session:\nBo Lee (ANP)\nDr Ann Smith (GP)"
    everyone = _events(feeds_dir / "all.ics")[event_uid(SECRET, Scope("all"), SAT_OCT.session_id)]
    assert everyone["SUMMARY"] == "Extended access – Hillview hub (3 staff)"
    practice = _events(feeds_dir / "practice-P1.ics")
    ann = practice[event_uid(SECRET, Scope("practice", "P1"), SAT_MAR.session_id, "C1")]
    bo = practice[event_uid(SECRET, Scope("practice", "P1"), SAT_MAR.session_id, "C2")]
    assert ann["SUMMARY"] == "Extended access – GP – Riverside hub – Dr Ann Smith"
    assert bo["SUMMARY"] == "Extended access – ANP – Riverside hub – Bo Lee"
    assert ann["DESCRIPTION"] == "Also on this session:\nBo Lee (ANP)"


def test_feeds_hold_no_contact_details_or_scheduling_parts(feeds_dir):
    """No e-mail address, VALARM, ATTENDEE or ORGANIZER in any feed."""
    for path in feeds_dir.glob("*.ics"):
        raw = path.read_bytes().decode("utf-8")
        assert "@example.org" not in raw, path.name
        for forbidden in ("VALARM", "ATTENDEE", "ORGANIZER", "MAILTO:"):
            assert forbidden not in raw.upper(), (path.name, forbidden)


def test_uids_are_opaque_stable_and_unique(feeds_dir, tmp_path):
    """UIDs look like <hex>@hubrota, hide names and ids, are unique within each feed, come out
    the same on another run with the same secret and differ under another secret."""
    problem = network()
    uids_by_feed = {}
    for path in feeds_dir.glob("*.ics"):
        cal = Calendar.from_ical(path.read_bytes())
        uids = [str(c["UID"]) for c in cal.walk() if "UID" in c]
        assert len(uids) == len(set(uids)), path.name
        for uid in uids:
            assert UID_SHAPE.match(uid), uid
        uids_by_feed[path.name] = uids
    raw = "".join(p.read_bytes().decode("utf-8") for p in feeds_dir.glob("*.ics"))
    uid_text = " ".join(u for uids in uids_by_feed.values() for u in uids)
    for s in problem.sessions:
        assert s.session_id not in raw
    again = build_feeds(
        problem, ROTA, secret=SECRET, previous=None, changed_at=LATER, window_start=None
    )
    for name, data in again.items():
        cal = Calendar.from_ical(data)
        assert [str(c["UID"]) for c in cal.walk() if "UID" in c] == uids_by_feed[name]
    other = build_feeds(
        problem,
        ROTA,
        secret=b"another-secret-0123456789",
        previous=None,
        changed_at=NOW,
        window_start=None,
    )
    other_uids = {str(e["UID"]) for data in other.values() for e in Calendar.from_ical(data).events}
    assert not other_uids & set(uid_text.split())


# ---- change over time ---------------------------------------------------------------------


def _vevents(data: bytes) -> dict[str, bytes]:
    """UID → the raw VEVENT block, to compare events byte for byte."""
    blocks = re.findall(rb"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", data, flags=re.S)
    return {re.search(rb"\r\nUID:([^\r]+)\r\n", blk).group(1).decode(): blk for blk in blocks}


def test_unchanged_rota_gives_identical_bytes_and_untouched_files(tmp_path):
    """Writing the same rota again, later, gives the same bytes and leaves the files alone."""
    first = write_feeds(network(), ROTA, tmp_path, secret=SECRET, now=NOW)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in first}
    time.sleep(0.01)
    second = write_feeds(network(), ROTA, tmp_path, secret=SECRET, now=LATER)
    assert [p.name for p in second] == [p.name for p in first]
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in second} == before


def test_one_change_bumps_only_the_events_it_touches(tmp_path, node_parsed):
    """Bo Lee (C2) drops out of the Saturday 30 Oct session: her event leaves her feed and
    practice P1's; the session's other events (its description changed) get SEQUENCE 1 and
    the new change time; every other event and feed keeps its bytes."""
    problem = network()
    write_feeds(problem, ROTA, tmp_path, secret=SECRET, now=NOW)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.ics")}
    dropped = Assignment(SAT_OCT.session_id, 1, "C2")
    changed_rota = tuple(a for a in ROTA if a != dropped)
    write_feeds(problem, changed_rota, tmp_path, secret=SECRET, now=LATER)
    after = {p.name: p.read_bytes() for p in tmp_path.glob("*.ics")}
    sid = SAT_OCT.session_id
    touched = {
        "all.ics": event_uid(SECRET, Scope("all"), sid),
        "hub-H2.ics": event_uid(SECRET, Scope("hub", "H2"), sid),
        "clinician-C3.ics": event_uid(SECRET, Scope("clinician", "C3"), sid),
        "clinician-C4.ics": event_uid(SECRET, Scope("clinician", "C4"), sid),
        "practice-P2.ics": {
            event_uid(SECRET, Scope("practice", "P2"), sid, "C3"),
            event_uid(SECRET, Scope("practice", "P2"), sid, "C4"),
        },
    }
    removed = {
        "clinician-C2.ics": event_uid(SECRET, Scope("clinician", "C2"), sid),
        "practice-P1.ics": event_uid(SECRET, Scope("practice", "P1"), sid, "C2"),
    }
    for name in before:
        old, new = _vevents(before[name]), _vevents(after[name])
        bumped = touched.get(name, set())
        bumped = {bumped} if isinstance(bumped, str) else bumped
        gone = {removed[name]} if name in removed else set()
        assert set(new) == set(old) - gone, name
        for uid, block in new.items():
            if uid in bumped:
                assert b"\r\nSEQUENCE:1\r\n" in block, (name, block)
                assert b"\r\nLAST-MODIFIED:20270302T093000Z\r\n" in block
                assert b"\r\nDTSTAMP:20270302T093000Z\r\n" in block
            else:
                assert block == old[uid], (name, uid)
        if not bumped and not gone:
            assert after[name] == before[name], name
    assert expected_events(problem, changed_rota)["clinician-C2.ics"] == with_icalendar(
        after["clinician-C2.ics"]
    )
    hub = _events(tmp_path / "hub-H2.ics")[touched["hub-H2.ics"]]
    assert hub["SUMMARY"] == "Extended access – Hillview hub (2 staff)"
    # writing the changed rota again changes nothing; putting C2 back is another change
    write_feeds(problem, changed_rota, tmp_path, secret=SECRET, now=LATER.replace(hour=11))
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.ics")} == after
    write_feeds(problem, ROTA, tmp_path, secret=SECRET, now=LATER.replace(hour=12))
    hub_again = _events(tmp_path / "hub-H2.ics")[touched["hub-H2.ics"]]
    assert hub_again["SEQUENCE"] == "2"
    back = _events(tmp_path / "clinician-C2.ics")[removed["clinician-C2.ics"]]
    assert back["SEQUENCE"] == "0"


def test_a_feed_whose_scope_is_gone_is_rewritten_empty_and_valid(tmp_path, radicale):
    """Dr Ann Smith (C1) leaves: her feed stays, empty but valid in all four parsers and in
    Radicale, with the same calendar UID; an .ics file that is not a feed is left alone."""
    write_feeds(network(), ROTA, tmp_path, secret=SECRET, now=NOW)
    (tmp_path / "notes.ics").write_bytes(b"not ours")
    without_c1 = network(tuple(c for c in CLINICIANS if c.clinician_id != "C1"))
    rota = tuple(a for a in ROTA if a.clinician_id != "C1")
    paths = write_feeds(without_c1, rota, tmp_path, secret=SECRET, now=LATER)
    assert tmp_path / "clinician-C1.ics" in paths
    assert (tmp_path / "notes.ics").read_bytes() == b"not ours"
    data = (tmp_path / "clinician-C1.ics").read_bytes()
    cal = Calendar.from_ical(data)
    cal.validate()
    assert [c.errors for c in cal.walk()] == [[], []]
    assert [c.name for c in cal.subcomponents] == ["VFREEBUSY"]
    assert str(cal["UID"]) == calendar_uid(SECRET, Scope("clinician", "C1"))
    assert str(cal["X-WR-CALNAME"]) == "Hub sessions – Dr Ann Smith"
    assert with_vobject(data) == []
    parsed = with_node([tmp_path / "clinician-C1.ics"])["clinician-C1.ics"]
    assert parsed == {"icaljs": [], "nodeical": []}
    status, _ = caldav(radicale, "PUT", "/hubrota/gone-c1/", data)
    assert status == 201
    # and it stays byte-identical on the next run
    write_feeds(without_c1, rota, tmp_path, secret=SECRET, now=LATER.replace(hour=15))
    assert (tmp_path / "clinician-C1.ics").read_bytes() == data


def test_a_change_is_never_stamped_before_the_last_one(tmp_path):
    """If a re-run's clock is behind the last change, SEQUENCE still rises and LAST-MODIFIED
    stays at the later time; an unreadable old feed is simply replaced."""
    write_feeds(network(), ROTA, tmp_path, secret=SECRET, now=LATER)
    (tmp_path / "clinician-C4.ics").write_bytes(b"\xff\xfe garbage")
    rota = tuple(a for a in ROTA if a != Assignment(SAT_OCT.session_id, 1, "C2"))
    write_feeds(network(), rota, tmp_path, secret=SECRET, now=NOW)
    event = _events(tmp_path / "hub-H2.ics")[
        event_uid(SECRET, Scope("hub", "H2"), SAT_OCT.session_id)
    ]
    assert event["SEQUENCE"] == "1"
    assert (
        b"LAST-MODIFIED:20270302T093000Z"
        in _vevents((tmp_path / "hub-H2.ics").read_bytes())[
            event_uid(SECRET, Scope("hub", "H2"), SAT_OCT.session_id)
        ]
    )
    replaced = tmp_path / "clinician-C4.ics"
    assert with_icalendar(replaced.read_bytes()) == expected_events(network(), rota)[replaced.name]


def test_window_keeps_eight_weeks_back_and_all_future(tmp_path):
    """With "now" on 1 Jun 2027 the March sessions (more than 8 weeks back) drop out."""
    write_feeds(network(), ROTA, tmp_path, secret=SECRET, now=datetime(2027, 6, 1, tzinfo=UTC))
    starts = {start for _, start, _ in with_icalendar((tmp_path / "all.ics").read_bytes())}
    assert starts == {"2027-10-30T08:00:00Z", "2027-11-01T18:30:00Z"}
    assert with_vobject((tmp_path / "clinician-C2.ics").read_bytes())  # October still in


# ---- Radicale -----------------------------------------------------------------------------


def test_radicale_accepts_every_feed(feeds_dir, radicale):
    """A PUT of each whole feed to a new calendar collection answers 201, and Radicale then
    holds one item per event; a feed with a duplicated UID is refused (400)."""
    expected = expected_events(network(), ROTA)
    for path in sorted(feeds_dir.glob("*.ics")):
        collection = f"/hubrota/{path.stem}/"
        status, body = caldav(radicale, "PUT", collection, path.read_bytes())
        assert status == 201, (path.name, body)
        status, body = caldav(radicale, "GET", collection)
        assert status == 200
        assert body.count(b"BEGIN:VEVENT") == len(expected[path.name]), path.name
    data = (feeds_dir / "clinician-C1.ics").read_bytes()
    first = re.search(rb"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", data, flags=re.S).group(0)
    twin = first.replace(b"DTSTART:20270327T090000Z", b"DTSTART:20270327T100000Z")
    status, _ = caldav(radicale, "PUT", "/hubrota/duplicate/", data.replace(first, first + twin))
    assert status == 400


# ---- secret and command --------------------------------------------------------------------


def test_feed_secret_from_environment_or_a_private_file(tmp_path):
    """HUBROTA_FEED_SECRET wins; otherwise a 0600 file under XDG_CONFIG_HOME is made once and
    reused; a short secret is refused."""
    assert feed_secret({"HUBROTA_FEED_SECRET": "x" * 20}) == b"x" * 20
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    first = feed_secret(env)
    path = tmp_path / "config" / "hubrota" / "feed-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert re.fullmatch(rb"[0-9a-f]{64}", first)
    assert feed_secret(env) == first
    assert (
        feed_secret({"HOME": str(tmp_path / "home")})
        == (tmp_path / "home" / ".config" / "hubrota" / "feed-secret").read_text().strip().encode()
    )
    with pytest.raises(ValueError, match="at least"):
        feed_secret({"HUBROTA_FEED_SECRET": "short"})


def test_feeds_main_writes_the_feeds_or_reports_a_bad_rota(tmp_path, monkeypatch, capsys):
    """feeds_main writes into the folder it is given and returns 0; a rota naming an unknown
    clinician returns 2 and says which."""
    monkeypatch.setenv("HUBROTA_FEED_SECRET", SECRET.decode())
    assert feeds_main(network(), ROTA, tmp_path / "feeds", now=NOW) == 0
    assert (tmp_path / "feeds" / "all.ics").read_bytes() == build_feeds(
        network(), ROTA, secret=SECRET, previous=None, changed_at=NOW, window_start=date(2027, 1, 4)
    )["all.ics"]
    assert "11 feeds" in capsys.readouterr().err
    bad = (*ROTA, Assignment(SAT_MAR.session_id, 0, "C9"))
    assert feeds_main(network(), bad, tmp_path / "other", now=NOW) == 2
    assert "C9" in capsys.readouterr().err


def test_build_feeds_rejects_naive_change_time():
    """A change time without a zone would be a floating DTSTAMP: refused."""
    with pytest.raises(ValueError, match="timezone-aware"):
        build_feeds(
            network(),
            ROTA,
            secret=SECRET,
            previous=None,
            changed_at=datetime(2027, 3, 1),
            window_start=None,
        )


def test_odd_ids_make_safe_file_names(tmp_path):
    """An id with a slash or space is percent-encoded in the file name, never a path."""
    odd = replace(CLINICIANS[0], clinician_id="C/1 x")
    problem = network((odd, *CLINICIANS[1:]))
    rota = tuple(replace(a, clinician_id="C/1 x") if a.clinician_id == "C1" else a for a in ROTA)
    paths = write_feeds(problem, rota, tmp_path, secret=SECRET, now=NOW)
    assert tmp_path / "clinician-C%2F1%20x.ics" in paths
    assert all(p.parent == tmp_path for p in paths)
    assert os.listdir(tmp_path).count("clinician-C%2F1%20x.ics") == 1
