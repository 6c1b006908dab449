"""Calendar feeds served by the web app: private links (made, rotated, revoked), the feed's
headers and 304s, the rate limit, hashed tokens, SEQUENCE across re-solves, and log masking."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import urllib.error
import urllib.request

import pytest
from sqlalchemy import delete, select
from werkzeug.serving import make_server

from tests.web.conftest import HAND_ROTA
from web.db import new_session
from web.models import (
    Base,
    FeedBuild,
    FeedFile,
    FeedLink,
    InstallationSecret,
    Rota,
    RotaAssignment,
)
from web.services.feed_links import MaskFeedTokens, mask

_FEED_URL = re.compile(r'value="http://localhost/feeds/([A-Za-z0-9_-]+)\.ics"')


def make_link(client, kind: str = "clinician", key: str = "C1") -> str:
    """Create a link on the Calendar links page and read the token off the page shown once."""
    response = client.post("/f/north/calendar/links", {"kind": kind, "key": key})
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return _FEED_URL.search(response.get_data(as_text=True)).group(1)


def link_of(app, kind: str = "clinician", key: str = "C1") -> FeedLink:
    with new_session(app) as db:
        return db.scalar(select(FeedLink).where(FeedLink.kind == kind, FeedLink.key == key))


def events(data: bytes) -> dict[str, str]:
    """UID → the event's lines, as served."""
    text = data.decode("utf-8")
    blocks = re.findall(r"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", text, flags=re.S)
    return {re.search(r"\r\nUID:([^\r]+)\r\n", b).group(1): b for b in blocks}


def sequence(block: str) -> int:
    return int(re.search(r"\r\nSEQUENCE:(\d+)\r\n", block).group(1))


def new_rota(app, federation_id: int, dataset_id: int, rows) -> None:
    """A rota as a re-solve would store it: a new row, the newest of the federation."""
    with new_session(app) as db:
        rota = Rota(federation_id=federation_id, dataset_id=dataset_id, source="optimiser")
        rota.assignments = [
            RotaAssignment(session_id=s, post_index=i, clinician_id=c, locked=locked)
            for s, i, c, locked in rows
        ]
        db.add(rota)
        db.commit()


# ---- serving ----------------------------------------------------------------------------


def test_feed_answers_200_with_calendar_headers_and_no_accept_header(app, as_role):
    """A bare GET (no Accept header, no login) gets the calendar with a strong ETag."""
    token = make_link(as_role("coordinator"))
    response = app.test_client().get(f"/feeds/{token}.ics")
    assert "HTTP_ACCEPT" not in response.request.environ
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-cache"
    etag = response.headers["ETag"]
    assert not etag.startswith("W/")
    assert etag == f'"{hashlib.sha256(response.data).hexdigest()}"'
    body = response.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\n") and "Hub sessions – Ann Able" in body
    assert len(events(response.data)) == 2  # C1 works two sessions of HAND_ROTA
    assert token not in body


def test_if_none_match_gives_304_and_a_changed_etag_gives_200(app, as_role):
    """The ETag sent back answers 304 with no body; any other ETag gets the bytes again."""
    token = make_link(as_role("coordinator"))
    client = app.test_client()
    first = client.get(f"/feeds/{token}.ics")
    again = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == "private, no-cache"
    other = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == first.data


def test_unknown_malformed_and_revoked_tokens_answer_404(app, as_role):
    """Made-up tokens of any shape, and a revoked one, are not found; so is its page."""
    coordinator = as_role("coordinator")
    token = make_link(coordinator)
    client = app.test_client()
    for bad in ("x", "A" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x"):
        assert client.get(f"/feeds/{bad}.ics").status_code == 404, bad
    assert client.get(f"/feeds/{token}.ics").status_code == 200
    link = link_of(app)
    assert (
        coordinator.post("/f/north/calendar/links/revoke", {"link_id": link.id}).status_code == 302
    )
    assert client.get(f"/feeds/{token}.ics").status_code == 404
    assert client.get(f"/feeds/{token}").status_code == 404
    assert link_of(app).token_hash is None


def test_rotate_makes_the_old_token_404_and_the_new_one_work(app, as_role):
    """ "New link" replaces the token: the old link dies at once, the new one serves the same
    feed; sending the same form twice changes nothing more."""
    coordinator = as_role("coordinator")
    old = make_link(coordinator)
    link = link_of(app)
    response = coordinator.post(
        "/f/north/calendar/links/rotate", {"link_id": link.id, "generation": link.generation}
    )
    assert response.status_code == 200
    new = _FEED_URL.search(response.get_data(as_text=True)).group(1)
    client = app.test_client()
    assert new != old
    assert client.get(f"/feeds/{old}.ics").status_code == 404
    assert client.get(f"/feeds/{new}.ics").status_code == 200
    twice = coordinator.post(
        "/f/north/calendar/links/rotate", {"link_id": link.id, "generation": link.generation}
    )
    assert twice.status_code == 302
    assert client.get(f"/feeds/{new}.ics").status_code == 200


def test_creating_a_second_link_for_the_same_feed_is_refused(app, as_role):
    """One link per person and feed: "Create link" again keeps the first and says to rotate."""
    coordinator = as_role("coordinator")
    token = make_link(coordinator)
    again = coordinator.post("/f/north/calendar/links", {"kind": "clinician", "key": "C1"})
    assert again.status_code == 302
    assert app.test_client().get(f"/feeds/{token}.ics").status_code == 200
    with new_session(app) as db:
        assert len(db.scalars(select(FeedLink)).all()) == 1


def test_failed_lookups_are_rate_limited_per_address(app, as_role):
    """After N unknown tokens from one address, further unknown tokens from it answer 429 with
    Retry-After; a valid token is still served there, and another address is not affected."""
    token = make_link(as_role("coordinator"))
    app.config["FEED_MAX_FAILURES_PER_IP"] = 3
    client = app.test_client()
    for _ in range(3):
        assert client.get("/feeds/" + "Z" * 43 + ".ics").status_code == 404
    refused = client.get("/feeds/" + "Y" * 43 + ".ics")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= app.config["FEED_FAILURE_WINDOW_SECONDS"]
    assert client.get("/feeds/" + "Y" * 43).status_code == 429
    assert client.get(f"/feeds/{token}.ics").status_code == 200
    assert client.get(f"/feeds/{token}").status_code == 200
    elsewhere = client.get("/feeds/" + "Z" * 43 + ".ics", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 404


def test_revoked_and_replaced_tokens_answer_404_without_counting(app, as_role):
    """Calendar apps keep polling links that were revoked or replaced: they answer 404 however
    often, and do not use up the address's allowance for unknown tokens."""
    coordinator = as_role("coordinator")
    revoked = make_link(coordinator, "clinician", "C1")
    replaced = make_link(coordinator, "clinician", "C2")
    coordinator.post("/f/north/calendar/links/revoke", {"link_id": link_of(app, key="C1").id})
    link = link_of(app, key="C2")
    coordinator.post(
        "/f/north/calendar/links/rotate", {"link_id": link.id, "generation": link.generation}
    )
    app.config["FEED_MAX_FAILURES_PER_IP"] = 3
    client = app.test_client()
    for _ in range(10):
        assert client.get(f"/feeds/{revoked}.ics").status_code == 404
        assert client.get(f"/feeds/{replaced}.ics").status_code == 404
        assert client.get(f"/feeds/{revoked}").status_code == 404
    for _ in range(3):
        assert client.get("/feeds/" + "Z" * 43 + ".ics").status_code == 404
    assert client.get("/feeds/" + "Z" * 43 + ".ics").status_code == 429
    assert client.get(f"/feeds/{revoked}.ics").status_code == 404


def test_the_token_is_stored_only_as_its_hash(app, as_role):
    """No column of any table holds the token: only its SHA-256 and last 4 characters."""
    coordinator = as_role("coordinator")
    token = make_link(coordinator)
    client = app.test_client()
    client.get(f"/feeds/{token}.ics")
    client.get(f"/feeds/{token}")
    client.get("/feeds/" + token[::-1] + ".ics")  # a failed look-up is recorded too
    link = link_of(app)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert link.token_hint == token[-4:]
    with new_session(app) as db:
        for table in Base.metadata.sorted_tables:
            for row in db.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, str):
                        assert token not in value and token[::-1] not in value, table.name
    page = coordinator.get("/f/north/calendar/").get_data(as_text=True)
    assert token not in page and f"…{token[-4:]}" in page


def test_resolving_after_one_change_keeps_every_other_event_and_bumps_that_one(
    app, as_role, seeded
):
    """A re-solve that moves one session from C2 to C5: in all.ics that session's event gets
    SEQUENCE 1, every other event is byte for byte as before; C1's feed is unchanged bytes
    and ETag; C2's event goes, C5's arrives with SEQUENCE 0."""
    coordinator = as_role("coordinator")
    tokens = {
        key: make_link(coordinator, kind, key)
        for kind, key in (
            ("all", ""),
            ("clinician", "C1"),
            ("clinician", "C2"),
            ("clinician", "C5"),
        )
    }
    client = app.test_client()
    before = {key: client.get(f"/feeds/{t}.ics") for key, t in tokens.items()}
    moved = "H2-20270302-1830-2000"
    rows = [(s, i, "C5" if s == moved else c, locked) for s, i, c, locked in HAND_ROTA]
    new_rota(app, seeded.north, seeded.north_dataset, rows)
    after = {key: client.get(f"/feeds/{t}.ics") for key, t in tokens.items()}

    old_all, new_all = events(before[""].data), events(after[""].data)
    assert old_all.keys() == new_all.keys() and len(new_all) == 5
    changed = [uid for uid in new_all if new_all[uid] != old_all[uid]]
    assert len(changed) == 1
    assert "Eve East" in new_all[changed[0]] and "Ben Bell" in old_all[changed[0]]
    assert (sequence(old_all[changed[0]]), sequence(new_all[changed[0]])) == (0, 1)
    assert after[""].headers["ETag"] != before[""].headers["ETag"]

    assert after["C1"].data == before["C1"].data
    assert after["C1"].headers["ETag"] == before["C1"].headers["ETag"]
    assert len(events(before["C2"].data)) == 1 and events(after["C2"].data) == {}
    assert events(before["C5"].data) == {}
    assert [sequence(b) for b in events(after["C5"].data).values()] == [0]


def test_an_unchanged_rota_gives_identical_bytes_and_etag(app, as_role, seeded):
    """Fetching twice, and a re-solve that gives the same rota (a full rebuild), serve the
    same bytes under the same ETag."""
    token = make_link(as_role("coordinator"), "all", "")
    client = app.test_client()
    first = client.get(f"/feeds/{token}.ics")
    second = client.get(f"/feeds/{token}.ics")
    new_rota(app, seeded.north, seeded.north_dataset, HAND_ROTA)
    rebuilt = client.get(f"/feeds/{token}.ics")
    with new_session(app) as db:
        assert db.scalar(select(FeedBuild.source_key)).startswith("rota ")
    for response in (second, rebuilt):
        assert response.data == first.data
        assert response.headers["ETag"] == first.headers["ETag"]


def test_the_uid_secret_is_made_once_and_kept_or_taken_from_the_config(app, as_role):
    """Without HUBROTA_FEED_SECRET one secret is stored in the database and reused (a rebuild
    from nothing gives the same UIDs); a configured secret changes every UID."""
    app.config["FEED_SECRET"] = None  # tests/conftest.py sets HUBROTA_FEED_SECRET for the CLI
    token = make_link(as_role("coordinator"))
    client = app.test_client()
    first = client.get(f"/feeds/{token}.ics").data
    assert len(events(first)) == 2
    with new_session(app) as db:
        assert len(db.scalars(select(InstallationSecret)).all()) == 1
        db.execute(delete(FeedFile))
        db.execute(delete(FeedBuild))
        db.commit()
    # the same UIDs (a build from nothing stamps its events with the time of the build)
    assert events(client.get(f"/feeds/{token}.ics").data).keys() == events(first).keys()
    app.config["FEED_SECRET"] = "a configured secret of enough length"
    with new_session(app) as db:
        db.execute(delete(FeedFile))
        db.execute(delete(FeedBuild))
        db.commit()
    configured = client.get(f"/feeds/{token}.ics").data
    assert events(configured).keys().isdisjoint(events(first).keys())


def test_a_link_before_any_rota_serves_an_empty_calendar(app, as_role):
    """A valid link whose federation has no rota yet gets a valid calendar with no events."""
    coordinator = as_role("coordinator")
    with new_session(app) as db:
        db.execute(delete(RotaAssignment))
        db.execute(delete(Rota))
        db.commit()
    token = make_link(coordinator)
    response = app.test_client().get(f"/feeds/{token}.ics")
    assert response.status_code == 200
    assert "BEGIN:VFREEBUSY" in response.get_data(as_text=True)
    assert events(response.data) == {}


# ---- the pages ----------------------------------------------------------------------------


def test_my_calendar_page_has_the_links_qr_code_and_the_note(app, as_role):
    """The link-holder's page (no login) offers webcal:// and https:// links, an inline SVG QR
    code and says how long Google and Outlook take; it is never cached or referred on."""
    token = make_link(as_role("coordinator"))
    response = app.test_client().get(f"/feeds/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert f'href="webcal://localhost/feeds/{token}.ics"' in page
    assert f'value="http://localhost/feeds/{token}.ics"' in page
    assert '<svg class="qr"' in page and "<path" in page
    assert "Google Calendar may take up to a day" in page and "Outlook about 3 hours" in page
    assert "My calendar" in page and "Hub sessions – Ann Able" in page
    assert "North Hub" in page  # the next sessions


def test_calendar_links_page_lists_the_federations_feeds(app, as_role):
    """Clinicians, hubs, practices and the all-hubs feed are listed with a button each; the
    link made shows only its last 4 characters, and the e-mail button has the address."""
    coordinator = as_role("coordinator")
    page = coordinator.get("/f/north/calendar/").get_data(as_text=True)
    for name in ("Ann Able", "Fay Fox", "North Hub", "River Hub", "Hill Practice", "All hubs"):
        assert name in page
    assert page.count("Create link") >= 6 + 2 + 3 + 1
    issued = coordinator.post("/f/north/calendar/links", {"kind": "clinician", "key": "C1"})
    assert "mailto:ann@example.test?" in issued.get_data(as_text=True)
    hint = link_of(app).token_hint
    assert f"…{hint}" in coordinator.get("/f/north/calendar/").get_data(as_text=True)


def test_another_federations_links_are_not_listed_or_managed(app, as_role):
    """A south coordinator sees none of north's links and gets 404 for north's page and for
    rotating or revoking a north link by id under /f/south/."""
    north_token = make_link(as_role("coordinator"))
    link = link_of(app)
    south = as_role("coordinator", "south")
    assert south.get("/f/north/calendar/").status_code == 404
    page = south.get("/f/south/calendar/").get_data(as_text=True)
    assert f"…{link.token_hint}" not in page
    assert south.post("/f/south/calendar/links/revoke", {"link_id": link.id}).status_code == 404
    assert (
        south.post(
            "/f/south/calendar/links/rotate", {"link_id": link.id, "generation": link.generation}
        ).status_code
        == 404
    )
    assert south.post("/f/south/calendar/links/revoke", {"link_id": "x"}).status_code == 404
    assert (
        south.post("/f/south/calendar/links", {"kind": "clinician", "key": "nobody"}).status_code
        == 404
    )
    assert app.test_client().get(f"/feeds/{north_token}.ics").status_code == 200


# ---- logs -------------------------------------------------------------------------------


def test_tokens_are_masked_in_the_request_log(app, as_role, caplog):
    """Werkzeug's request log line shows /feeds/[token].ics, never the token."""
    token = make_link(as_role("coordinator"))
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            base = f"http://127.0.0.1:{http.server_port}/feeds/"
            with urllib.request.urlopen(f"{base}{token}.ics") as response:
                assert response.status == 200
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(f"{base}{token[::-1]}")
    finally:
        http.shutdown()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("GET /feeds/[token].ics" in line for line in lines), lines
    assert any("GET /feeds/[token] " in line for line in lines), lines
    assert not any(token in line or token[::-1] in line for line in lines)


def test_mask_filter_rewrites_messages_and_arguments():
    """The filter masks a token in a message and in its arguments, and leaves others alone."""
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '"%s" %s',
        ("GET /feeds/abcDEF_-123.ics HTTP/1.1", 200),
        None,
    )
    assert MaskFeedTokens().filter(record)
    assert record.getMessage() == '"GET /feeds/[token].ics HTTP/1.1" 200'
    assert mask("Exception on /feeds/abc [GET]") == "Exception on /feeds/[token] [GET]"
    assert mask("GET /f/north/calendar/ HTTP/1.1") == "GET /f/north/calendar/ HTTP/1.1"
