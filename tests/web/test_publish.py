"""Absences, publishing and the audit log in the web app: an absence re-runs from the published
version and the diff page shows exactly the engine's diff; versions are immutable, numbered,
comparable, and what the calendar feeds show; every upload, pin, run and publish is logged."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scheduler.diff import rota_diff
from web.db import new_session
from web.models import (
    Absence,
    AuditEvent,
    Dataset,
    DatasetFile,
    Federation,
    Job,
    PublishedVersion,
    Rota,
)
from web.services import jobs
from web.services.current_rota import rota_of
from web.services.feed_source import feed_source_key, rota_for_feeds
from web.services.published import ImmutableVersion, version_rota

TUE_2 = "H2-20270302-1830-2000"  # Ben Bell (C2) in the seeded rota
MON_1 = "H1-20270301-1830-2000"  # Ann Able (C1), pinned


def publish(client, note: str = "first rota", rota: int | None = None):
    page = client.get("/f/north/publish/preview" + (f"?rota={rota}" if rota else ""))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    rota_id = int(text.split('name="rota" value="')[1].split('"')[0])
    revision = text.split('name="revision" value="')[1].split('"')[0]
    return client.post("/f/north/publish/", {"rota": rota_id, "revision": revision, "note": note})


def versions(app, federation_id: int) -> list[PublishedVersion]:
    with new_session(app) as db:
        return db.scalars(
            select(PublishedVersion)
            .where(PublishedVersion.federation_id == federation_id)
            .order_by(PublishedVersion.number)
        ).all()


def mark_absent(client, clinician: str, first: str, last: str, reason: str = "leave"):
    return client.post(
        "/f/north/absence/",
        {"clinician_id": clinician, "first": first, "last": last, "reason": reason},
    )


def test_publish_copies_the_rota_into_an_immutable_version(app, seeded, as_role):
    """A manager publishes the current rota with a reason: version 1 holds a copy of its
    assignments, later hand edits do not reach it, and changing it is refused."""
    manager = as_role("manager")
    response = publish(manager, "the March rota")
    assert response.status_code == 302 and response.location.endswith("/publish/version?n=1")
    (v1,) = versions(app, seeded.north)
    assert v1.note == "the March rota" and v1.published_by_id == seeded.users["manager@north"]
    with new_session(app) as db:
        v1 = db.get(PublishedVersion, v1.id)
        row = db.scalar(select(Rota).where(Rota.federation_id == seeded.north))
        assert version_rota(v1) == rota_of(row)
    as_role("coordinator").post(f"/f/north/rota/session/{MON_1}/unpin", {"clinician_id": "C1"})
    with new_session(app) as db:
        v1 = db.get(PublishedVersion, v1.id)
        assert any(a.locked for a in v1.assignments)  # the version kept the pin as published
        v1.note = "rewritten"
        with pytest.raises(ImmutableVersion):
            db.commit()
        db.rollback()
        db.delete(db.get(PublishedVersion, v1.id))
        with pytest.raises(ImmutableVersion):
            db.commit()
    page = manager.get("/f/north/publish/version?n=1").get_data(as_text=True)
    assert "the March rota" in page and "Ann Able" in page


def test_publishing_needs_a_manager_a_reason_and_the_rota_as_previewed(app, seeded, as_role):
    """A coordinator may look but not publish; no reason or a rota edited since the preview is
    refused with a message, and nothing is published."""
    coordinator = as_role("coordinator")
    assert "A manager publishes" in coordinator.get("/f/north/publish/preview").get_data(
        as_text=True
    )
    assert coordinator.post("/f/north/publish/", {"rota": 1, "note": "x"}).status_code == 403
    manager = as_role("manager")
    refused = publish(manager, note="  ")
    assert "Say why you publish" in manager.get(refused.location).get_data(as_text=True)
    page = manager.get("/f/north/publish/preview").get_data(as_text=True)
    rota_id = int(page.split('name="rota" value="')[1].split('"')[0])
    stale = manager.post("/f/north/publish/", {"rota": rota_id, "revision": "99", "note": "x"})
    assert "edited after you opened" in manager.get(stale.location).get_data(as_text=True)
    assert versions(app, seeded.north) == []


def test_absence_reruns_from_the_published_version_and_the_diff_page_is_the_engines(
    app, seeded, as_role
):
    """Publish, mark Ben Bell away on Tue 2 Mar: the re-run starts from version 1, Ben loses
    that session, the preview lists exactly the engine's diff per session and per clinician
    with unfilled posts before and after; publishing makes version 2, which the versions
    compare to 1 the same way and the feeds now show."""
    manager, coordinator = as_role("manager"), as_role("coordinator")
    publish(manager, "first")
    response = mark_absent(coordinator, "C2", "2027-03-02", "2027-03-02")
    assert "/runs/watch?job=" in response.location
    jobs.wait(app, 60)
    job_id = int(response.location.rsplit("=", 1)[1])
    data = coordinator.get(f"/f/north/runs/progress?job={job_id}").get_json()
    assert data["status"] == "done", data["message"]
    assert "re-ran from published version 1" in data["message"]
    with new_session(app) as db:
        job = db.get(Job, job_id)
        new = db.get(Rota, job.rota_id)
        assert new.source == "absence"
        v1 = db.scalar(select(PublishedVersion))
        base, after = version_rota(v1), rota_of(new)
        absence = db.scalar(select(Absence))
        assert (absence.clinician_id, str(absence.first_day), absence.job_id) == (
            "C2",
            "2027-03-02",
            job_id,
        )
    assert data["result_url"] == f"/f/north/publish/preview?rota={new.id}"
    assert (TUE_2, "C2") in {(a.session_id, a.clinician_id) for a in base}
    assert (TUE_2, "C2") not in {(a.session_id, a.clinician_id) for a in after}

    from web.services.problems import loaded

    with app.app_context(), new_session(app) as db:
        problem = loaded(db.get(Dataset, seeded.north_dataset)).problem
    diff = rota_diff(base, after, problem)
    page = manager.get(data["result_url"]).get_data(as_text=True)
    counts = diff.counts
    assert f"{counts.added} added" in page and f"{counts.removed} removed" in page
    places, sessions = diff.changed_places, len(diff.by_session)
    assert (
        f"{places} place{'s' if places != 1 else ''} changed in "
        f"{sessions} session{'s' if sessions != 1 else ''}"
    ) in page
    assert f"posts short of min: {len(diff.unfilled_before)} → {len(diff.unfilled_after)}" in page
    assert "Tue 2 Mar 18:30–20:00 at River Hub" in page
    assert '<span class="diff-lost">Ben Bell</span>' in page
    names = {c.clinician_id: c.name for c in problem.clinicians}
    for change in diff.by_session.values():
        for cid in change.gained:
            assert f'<span class="diff-gained">{names[cid]}</span>' in page
    assert page.count("<tr><td>") >= len(diff.by_session) + len(diff.by_clinician)

    publish(manager, "Ben away on 2 March", rota=new.id)
    v1, v2 = versions(app, seeded.north)
    assert v2.number == 2 and v2.rota_id == new.id
    compared = manager.get("/f/north/publish/compare?a=1&b=2").get_data(as_text=True)
    assert f"{counts.added} added" in compared and "Ben Bell" in compared
    assert "Version 1 → version 2" in compared
    listing = manager.get("/f/north/publish/").get_data(as_text=True)
    assert "Ben away on 2 March" in listing and "live" in listing
    with app.app_context(), new_session(app) as db:
        federation = db.get(Federation, seeded.north)
        assert feed_source_key(db, federation).startswith("published version 2")
        _, shown = rota_for_feeds(db, federation)
    assert (TUE_2, "C2") not in {(a.session_id, a.clinician_id) for a in shown}


def test_an_absence_on_a_pinned_day_stops_with_the_pin_named(app, seeded, as_role):
    """Ann Able is pinned on Mon 1 Mar; marking her away that day stops the re-run, and the run
    page names the pin and the rule in plain English."""
    coordinator = as_role("coordinator")
    response = mark_absent(coordinator, "C1", "2027-03-01", "2027-03-01")
    jobs.wait(app, 60)
    page = coordinator.get(response.location).get_data(as_text=True)
    assert "These locked pins cannot all be kept" in page
    assert "pin Ann Able → North Hub Mon 1 Mar 18:30: marked unavailable for Mon 1 Mar 2027" in page
    with new_session(app) as db:
        assert db.scalar(select(Job)).status == "failed"
        assert db.scalar(select(Rota).where(Rota.source == "absence")) is None


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"clinician_id": "NOBODY", "first": "2027-03-02", "last": "2027-03-02"},
            "Choose a clinician",
        ),
        ({"clinician_id": "C2", "first": "2027-03-05", "last": "2027-03-02"}, "before it starts"),
        ({"clinician_id": "C2", "first": "2027-05-01", "last": "2027-05-02"}, "outside it"),
        ({"clinician_id": "C2", "first": "March", "last": ""}, "Give the first and last day"),
    ],
)
def test_bad_absences_are_refused_and_not_recorded(app, seeded, as_role, form, message):
    """An unknown clinician, a backwards or out-of-period absence, or no dates: a message, and
    nothing recorded or run."""
    coordinator = as_role("coordinator")
    response = coordinator.post("/f/north/absence/", form)
    assert message in coordinator.get(response.location).get_data(as_text=True)
    with new_session(app) as db:
        assert db.scalar(select(Absence)) is None and db.scalar(select(Job)) is None


def test_withdrawn_absence_frees_the_days(app, seeded, as_role):
    """A withdrawn absence no longer makes the rota break availability."""
    coordinator = as_role("coordinator")
    mark_absent(coordinator, "C4", "2027-03-04", "2027-03-04")
    jobs.wait(app, 60)
    page = coordinator.get("/f/north/absence/").get_data(as_text=True)
    assert "Dan Dale (C4)" in page
    with new_session(app) as db:
        absence_id = db.scalar(select(Absence.id))
    coordinator.post("/f/north/absence/withdraw", {"absence": absence_id})
    with new_session(app) as db:
        assert db.scalar(select(Absence)) is None


def test_audit_log_records_uploads_pins_runs_absences_and_publishes(app, seeded, as_role):
    """Each kind of event lands in the log with who did it; managers see the page, coordinators
    do not."""
    coordinator, manager = as_role("coordinator"), as_role("manager")
    with new_session(app) as db:
        draft = db.get(Dataset, seeded.north_draft)
        draft.version, draft.created_by_id = 2, seeded.users["coordinator@north"]
        db.commit()
    coordinator.post(f"/f/north/rota/session/{MON_1}/unpin", {"clinician_id": "C1"})
    manager.post("/f/north/runs/optimise")
    jobs.wait(app, 60)
    publish(manager, "audited")
    mark_absent(coordinator, "C4", "2027-03-04", "2027-03-04")
    jobs.wait(app, 60)
    with new_session(app) as db:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.federation_id == seeded.north)
        ).all()
    actions = {e.action for e in events}
    assert {"upload", "unpin", "run", "publish", "absence"} <= actions
    upload = next(e for e in events if e.action == "upload" and "version 2" in e.detail)
    assert upload.user_id == seeded.users["coordinator@north"] and "version 2" in upload.detail
    assert as_role("coordinator").get("/f/north/audit/").status_code == 403
    page = manager.get("/f/north/audit/").get_data(as_text=True)
    assert "audited" in page and "Dan Dale away Thu 4 Mar 2027" in page
    assert "coordinator@north" in page
    only = manager.get("/f/north/audit/?action=publish").get_data(as_text=True)
    assert "audited" in only and "data version 2 saved" not in only


def test_a_new_dataset_saved_whole_is_logged_as_an_upload(app, seeded):
    """A dataset inserted with its version already set (the demo, a whole-file save) is an
    upload too."""
    with new_session(app) as db:
        dataset = Dataset(federation_id=seeded.south, version=2, note="whole")
        dataset.files = [DatasetFile(name="x.csv", content="a\n")]
        db.add(dataset)
        db.commit()
        events = db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "upload", AuditEvent.federation_id == seeded.south)
            .order_by(AuditEvent.id)
        ).all()
    assert [e.detail for e in events] == [
        "data version 1 saved (seed)",
        "data version 2 saved (whole)",
    ]
