"""Give-aways: a clinician offers a published session, only colleagues who could take it see it,
one accepts, a coordinator approves, and a new version is published and mailed; two acceptances
at once give one winner (threads against PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from scheduler.domain import Assignment
from tests.web.conftest import HAND_ROTA, _empty_postgres, make_app, seed, tiny_files
from tests.web.test_leave import Clinician
from tests.web.test_mail import issue_link
from tests.web.test_publish import publish
from web.db import engine_of, new_session
from web.models import (
    AuditEvent,
    DatasetFile,
    Federation,
    MailMessage,
    PublishedVersion,
    Rota,
    SwapOffer,
)
from web.services import eligible, jobs, swaps
from web.services.problems import parse_files, remember
from web.services.published import version_rota

TUE = "H2-20270302-1830-2000"  # Ben (C2); of the tiny data only Eve (C5) could take it
MON = "H1-20270301-1830-2000"  # Ann (C1), pinned
THU = "H2-20270304-1830-2000"  # Dan (C4), the one practice nurse: nobody could take it


def mails(app, kind: str) -> dict[str, MailMessage]:
    """The newest message of `kind` to each address."""
    with new_session(app) as db:
        rows = db.scalars(
            select(MailMessage).where(MailMessage.kind == kind).order_by(MailMessage.id)
        ).all()
    return {m.to_addr: m for m in rows}


def offers(app) -> list[SwapOffer]:
    with new_session(app) as db:
        return db.scalars(select(SwapOffer).order_by(SwapOffer.id)).all()


def version(app, federation_id: int, number: int) -> PublishedVersion | None:
    with new_session(app) as db:
        v = db.scalar(
            select(PublishedVersion).where(
                PublishedVersion.federation_id == federation_id, PublishedVersion.number == number
            )
        )
        return v and (v, version_rota(v))


def test_offer_accept_approve_publishes_and_tells_both(app, seeded, as_role):
    assert publish(as_role("manager"), "first rota").status_code == 302
    ben = Clinician(app, issue_link(app, seeded.north, "C2"))
    eve = Clinician(app, issue_link(app, seeded.north, "C5"))
    ann = Clinician(app, issue_link(app, seeded.north, "C1"))
    page = ben.page()
    assert "My published sessions" in page and "Tue 2 Mar 2027 18:30–20:00" in page
    assert ben.post("/offer", {"session_id": TUE, "note": "school play"}).status_code == 302
    assert "Offered to the colleagues who could take it" in ben.page()
    [offer] = offers(app)
    assert (offer.status, offer.clinician_id, offer.version_number) == ("open", "C2", 1)
    # only Eve could take it: only she sees it, only she is mailed
    assert "Sessions you could take" in eve.page() and "school play" in eve.page()
    assert "Sessions you could take" not in ann.page()
    assert list(mails(app, "swap")) == ["eve@example.test"]
    assert "Ben Bell cannot work this session" in mails(app, "swap")["eve@example.test"].body_text
    # Ann cannot take it: the checker's rule is named
    refused = ann.post(f"/offer/{offer.id}/accept", {})
    assert refused.status_code == 302
    assert "it would break the rota rules (weekly_cap)" in ann.page()

    assert eve.post(f"/offer/{offer.id}/accept", {}).status_code == 302
    assert "You accepted the session" in eve.page()
    assert offers(app)[0].status == "accepted" and offers(app)[0].taken_by == "C5"
    assert "Eve East accepted the session you offered" in (
        mails(app, "swap")["ben@example.test"].body_text
    )
    assert "taken, waiting for approval" in ben.page()

    coordinator = as_role("coordinator")
    listing = coordinator.get("/f/north/swaps/").get_data(as_text=True)
    assert "Ben Bell (C2)" in listing and "Eve East (C5)" in listing
    approved = coordinator.post(f"/f/north/swaps/{offer.id}", {"action": "approve"})
    assert approved.status_code == 302 and approved.location.endswith("/publish/compare?b=2")
    v2, rota2 = version(app, seeded.north, 2)
    assert "Give-away: Ben Bell gave Tue 2 Mar 2027 18:30–20:00 at River Hub" in v2.note
    assert Assignment(TUE, 0, "C5") in rota2 and all(a.clinician_id != "C2" for a in rota2)
    assert len(rota2) == len(HAND_ROTA)
    diff = coordinator.get(approved.location).get_data(as_text=True)
    assert "Eve East" in diff and "Ben Bell" in diff
    # the current rota follows, the offer records the version, and both are mailed
    with new_session(app) as db:
        row = db.scalar(select(Rota).where(Rota.federation_id == seeded.north))
        assert {(a.session_id, a.clinician_id) for a in row.assignments} >= {(TUE, "C5")}
        assert db.get(SwapOffer, offer.id).result_version == 2
        actions = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("swap%"))).all()
        assert actions == ["swap offered", "swap accepted", "swap"]
    told = mails(app, "publish")
    assert "rota version 2" in told["ben@example.test"].subject
    assert "Removed (you no longer work these):\n  - Tue 2 Mar 2027" in (
        told["ben@example.test"].body_text
    )
    assert (
        "Added:\n  - Tue 2 Mar 2027 18:30–20:00 at River Hub" in told["eve@example.test"].body_text
    )
    # Eve's calendar feed now has the session
    ics = eve.http.get(f"/feeds/{eve.token}.ics").get_data(as_text=True)
    assert "DTSTART:20270302T183000Z" in ics


def test_offers_that_cannot_be_made_are_refused(app, seeded, as_role):
    ben = Clinician(app, issue_link(app, seeded.north, "C2"))
    ben.post("/offer", {"session_id": TUE})
    assert "Nothing is published yet" in ben.page()
    publish(as_role("manager"), "first rota")
    ben.post("/offer", {"session_id": MON})
    assert "You are not on that session in the published rota." in ben.page()
    ann = Clinician(app, issue_link(app, seeded.north, "C1"))
    ann.post("/offer", {"session_id": MON})
    assert "Your coordinator pinned you to that session" in ann.page()
    dan = Clinician(app, issue_link(app, seeded.north, "C4"))
    dan.post("/offer", {"session_id": THU})
    assert "No colleague could take that session without breaking a rota rule" in dan.page()
    ben.post("/offer", {"session_id": TUE})
    ben.post("/offer", {"session_id": TUE})
    assert "You have already offered that session." in ben.page()
    assert len(offers(app)) == 1
    # withdrawn, it is gone from Eve's page
    ben.post(f"/offer/{offers(app)[0].id}/withdraw", {})
    assert offers(app)[0].status == "withdrawn"
    assert (
        "Sessions you could take" not in Clinician(app, issue_link(app, seeded.north, "C5")).page()
    )


def test_the_federation_can_publish_rule_clean_give_aways_by_itself(app, seeded, as_role):
    manager = as_role("manager")
    publish(manager, "first rota")
    saved = manager.post(
        "/f/north/settings",
        {"name": "North Federation", "time_limit_seconds": "3", "swap_auto_approve": "yes"},
    )
    assert saved.status_code == 302
    ben = Clinician(app, issue_link(app, seeded.north, "C2"))
    eve = Clinician(app, issue_link(app, seeded.north, "C5"))
    ben.post("/offer", {"session_id": TUE})
    eve.post(f"/offer/{offers(app)[0].id}/accept", {})
    assert "The session is yours" in eve.page()
    assert offers(app)[0].status == "approved"
    _, rota2 = version(app, seeded.north, 2)
    assert Assignment(TUE, 0, "C5") in rota2


def test_approval_is_refused_when_the_published_rota_changed(app, seeded, as_role):
    manager = as_role("manager")
    publish(manager, "first rota")
    ben = Clinician(app, issue_link(app, seeded.north, "C2"))
    eve = Clinician(app, issue_link(app, seeded.north, "C5"))
    ben.post("/offer", {"session_id": TUE})
    offer_id = offers(app)[0].id
    eve.post(f"/offer/{offer_id}/accept", {})
    # meanwhile the manager takes Ben off Tuesday and publishes
    manager.post(f"/f/north/rota/session/{TUE}/remove", {"clinician_id": "C2"})
    publish(manager, "Ben off Tuesday")
    assert version(app, seeded.north, 2) is not None
    coordinator = as_role("coordinator")
    coordinator.post(f"/f/north/swaps/{offer_id}", {"action": "approve"})
    page = coordinator.get("/f/north/swaps/").get_data(as_text=True)
    assert "The published rota has changed" in page
    assert version(app, seeded.north, 3) is None and offers(app)[0].status == "accepted"
    coordinator.post(f"/f/north/swaps/{offer_id}", {"action": "decline", "note": "done already"})
    assert offers(app)[0].status == "declined"
    assert set(mails(app, "swap")) == {"ben@example.test", "eve@example.test"}


def test_eligible_names_the_checkers_rules_and_puts_the_best_first(tiny_loaded):
    problem = tiny_loaded.problem
    rota = tuple(sorted(Assignment(*r) for r in HAND_ROTA))
    ben_tue = next(a for a in rota if a.session_id == TUE)
    assert [c.clinician.clinician_id for c in eligible.eligible(problem, rota, ben_tue)] == ["C5"]
    assert [v.rule for v in eligible.could_take(problem, rota, ben_tue, "C1")] == ["weekly_cap"]
    assert {v.rule for v in eligible.could_take(problem, rota, ben_tue, "C4")} == {
        "role",
        "availability",
    }
    # the manager's swap list: only exchanges that break no rule
    options = eligible.swap_options(problem, rota, "H1-20270303-1830-2000")
    assert [(o.mine.clinician_id, o.theirs.session_id, o.theirs.clinician_id) for o in options] == [
        ("C1", TUE, "C2")
    ]


# ---- two acceptances at once, against PostgreSQL -------------------------------------------


@pytest.fixture
def pg_app(postgres_url, tmp_path, tiny_loaded):
    app = make_app(postgres_url, tmp_path)
    yield app
    jobs.wait(app, 60)
    engine_of(app).dispose()
    _empty_postgres(postgres_url)


def test_two_acceptances_at_once_give_one_winner(pg_app, tiny_loaded):
    app = pg_app
    s = seed(app, tiny_loaded)
    # everyone available by default: Eve and Fay could both take Ben's Tuesday
    files = tiny_files()
    files["rota.toml"] += '\n[rules]\navailability_default = "available"\n'
    with new_session(app) as db:
        stored = db.scalar(
            select(DatasetFile).where(
                DatasetFile.dataset_id == s.north_dataset, DatasetFile.name == "rota.toml"
            )
        )
        stored.content = files["rota.toml"]
        db.commit()
    with app.app_context():
        remember(s.north_dataset, parse_files(files))
    from tests.web.conftest import Client

    manager = Client(app.test_client())
    manager.login("manager@north")
    assert publish(manager, "first rota").status_code == 302
    with app.test_request_context(), new_session(app) as db:
        federation = db.get(Federation, s.north)
        offer, _ = swaps.offer(
            db, federation, "C2", TUE, "", "test", tiny_loaded.problem.period_start
        )
        db.commit()
        offer_id = offer.id
        state = swaps.published(db, s.north)
        ids = [
            c.clinician.clinician_id
            for c in eligible.eligible(state.problem, state.rota, Assignment(TUE, 0, "C2"))
        ]
    assert {"C5", "C6"} <= set(ids)

    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def take(clinician_id: str) -> None:
        with app.test_request_context(), new_session(app) as db:
            federation = db.get(Federation, s.north)
            barrier.wait()
            try:
                swaps.accept(db, federation, offer_id, clinician_id, "test")
                db.commit()
                outcomes[clinician_id] = "won"
            except swaps.SwapRefused as refused:
                db.rollback()
                outcomes[clinician_id] = refused.message

    threads = [threading.Thread(target=take, args=(c,)) for c in ("C5", "C6")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes.values()).count("won") == 1, outcomes
    winner = next(c for c, o in outcomes.items() if o == "won")
    loser = next(c for c in outcomes if c != winner)
    assert outcomes[loser] == "A colleague accepted that session first: nothing changed for you."
    [row] = offers(app)
    assert (row.status, row.taken_by) == ("accepted", winner)
    with new_session(app) as db:
        accepted = db.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "swap accepted")
        ).all()
    assert len(accepted) == 1 and accepted[0].startswith(winner)


def test_the_managers_swap_list_offers_only_rule_clean_swaps(app, seeded, as_role):
    """Point 12 of the rota page: Ann's Wednesday can be exchanged with Ben's Tuesday only
    (Dan's Thursday would break role and availability, so it is not offered)."""
    manager = as_role("manager")
    page = manager.get("/f/north/rota/session/H1-20270303-1830-2000").get_data(as_text=True)
    listed = page.split('<ul class="swap-list">')[1].split("</ul>")[0]
    assert listed.count("<li>") == 1
    assert "Ann Able ⇄ Ben Bell — Tue 2 Mar 18:30, River Hub" in listed
    assert "Dan Dale" not in listed
    swapped = manager.post(
        "/f/north/rota/session/H1-20270303-1830-2000/swap",
        {"clinician_id": "C1", "other": f"{TUE}|C2"},
    )
    assert swapped.status_code == 302
    # Thursday's only nurse has nobody to exchange with
    thursday = manager.get(f"/f/north/rota/session/{THU}").get_data(as_text=True)
    assert "No exchange with another session this week would keep every rule." in thursday


def test_a_colleague_can_swap_one_of_theirs_in_return(app, seeded, as_role):
    """Ann offers her Wednesday; Ben takes it giving his Tuesday in return (a rule-clean
    exchange); approval publishes both moves."""
    publish(as_role("manager"), "first rota")
    ann = Clinician(app, issue_link(app, seeded.north, "C1"))
    ben = Clinician(app, issue_link(app, seeded.north, "C2"))
    wed = "H1-20270303-1830-2000"
    ann.post("/offer", {"session_id": wed})
    offer_id = offers(app)[0].id
    page = ben.page()
    assert "Swap for my Tue 2 Mar 2027 18:30–20:00, River Hub" in page
    # a session that is not his is refused, nothing changes
    ben.post(f"/offer/{offer_id}/accept", {"in_return": MON})
    assert "not one of yours to give" in ben.page()
    assert offers(app)[0].status == "open"
    ben.post(f"/offer/{offer_id}/accept", {"in_return": TUE})
    row = offers(app)[0]
    assert (row.status, row.taken_by, row.return_session_id) == ("accepted", "C2", TUE)
    assert "and gives you this one in return:\n\n  Tue 2 Mar 2027" in (
        mails(app, "swap")["ann@example.test"].body_text
    )
    assert "swapped, waiting for approval" in ann.page()
    coordinator = as_role("coordinator")
    assert "in return: Tue 2 Mar 2027" in coordinator.get("/f/north/swaps/").get_data(as_text=True)
    coordinator.post(f"/f/north/swaps/{offer_id}", {"action": "approve"})
    v2, rota2 = version(app, seeded.north, 2)
    assert v2.note.startswith("Swap: Ann Able gave Wed 3 Mar 2027")
    assert Assignment(wed, 0, "C2") in rota2 and Assignment(TUE, 0, "C1") in rota2
    told = mails(app, "publish")
    # each moves within the week: Ann from Wednesday to Tuesday, Ben the other way
    assert "  - from Wed 3 Mar 2027 18:30–20:00 at North Hub" in told["ann@example.test"].body_text
    assert "  - from Tue 2 Mar 2027 18:30–20:00 at River Hub" in told["ben@example.test"].body_text
    with new_session(app) as db:
        v2_to = db.scalars(
            select(MailMessage.to_addr).where(MailMessage.subject.like("%rota version 2"))
        ).all()
    assert sorted(v2_to) == ["ann@example.test", "ben@example.test"]
