"""The rota pages and hand edits: every edit is vetted by the checker before it is kept."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from tests.web.conftest import seed, tiny_files
from web.db import new_session
from web.models import Job, Rota, RotaAssignment, RotaEdit
from web.services import jobs

MON_1 = "H1-20270301-1830-2000"
TUE_2 = "H2-20270302-1830-2000"
WED_3 = "H1-20270303-1830-2000"
THU_4 = "H2-20270304-1830-2000"
MON_8 = "H1-20270308-1830-2000"


def _pairs(app, federation_id: int) -> set[tuple[str, str, bool]]:
    with new_session(app) as db:
        row = db.scalar(
            select(Rota).where(Rota.federation_id == federation_id).order_by(Rota.id.desc())
        )
        return {(a.session_id, a.clinician_id, a.locked) for a in row.assignments}


def test_grid_shows_names_and_unfilled_reasons(app, seeded, as_role):
    """The week's grid names who works each session and gives the engine's reason for a gap."""
    page = as_role("coordinator").get("/f/north/rota/?week=2027-03-08").get_data(as_text=True)
    assert "North Hub" in page and "River Hub" in page
    assert "no Practice Nurse offered Thu 11 Mar 2027" in page
    first = as_role("coordinator").get("/f/north/rota/").get_data(as_text=True)
    assert "Ann Able" in first and "Ben Bell" in first


def test_grid_filters_by_hub_and_role(app, seeded, as_role):
    """Filtering by hub leaves only that hub's column; by role, only sessions with that role."""
    c = as_role("coordinator")
    by_hub = c.get("/f/north/rota/?week=all&hub=H2").get_data(as_text=True)
    assert 'data-hub="River Hub"' in by_hub and 'data-hub="North Hub"' not in by_hub
    by_role = c.get("/f/north/rota/?week=all&role=practice+nurse").get_data(as_text=True)
    assert "H2-20270304-1830-2000" in by_role and MON_1 not in by_role


def test_pin_a_free_clinician(app, seeded, as_role):
    """Pinning someone free adds them, locked, and records the edit."""
    response = as_role("coordinator").post(
        f"/f/north/rota/session/{MON_8}/pin", {"clinician_id": "C1"}
    )
    assert response.status_code == 302
    assert (MON_8, "C1", True) in _pairs(app, seeded.north)
    with new_session(app) as db:
        assert db.scalar(select(RotaEdit.action)) == "pin"


def test_refused_pin_names_the_broken_rule(app, seeded, as_role):
    """Pinning someone marked unavailable is refused (409) with the rule and why; nothing
    changes."""
    before = _pairs(app, seeded.north)
    response = as_role("coordinator").post(
        f"/f/north/rota/session/{MON_8}/pin", {"clinician_id": "C6"}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Refused" in page and "availability" in page
    assert "marked unavailable for Mon 8 Mar 2027" in page
    assert _pairs(app, seeded.north) == before


def test_pin_refused_for_wrong_role(app, seeded, as_role):
    """A practice nurse cannot be pinned to a GP-only session: the role rule says so."""
    response = as_role("coordinator").post(
        f"/f/north/rota/session/{MON_8}/pin", {"clinician_id": "C4"}
    )
    assert response.status_code == 409
    assert "role" in response.get_data(as_text=True)


def test_unpin_and_pin_again(app, seeded, as_role):
    """Unpinning keeps the assignment but drops the lock; pinning it again locks it."""
    c = as_role("coordinator")
    assert c.post(f"/f/north/rota/session/{WED_3}/pin", {"clinician_id": "C1"}).status_code == 302
    assert (WED_3, "C1", True) in _pairs(app, seeded.north)
    assert c.post(f"/f/north/rota/session/{WED_3}/unpin", {"clinician_id": "C1"}).status_code == 302
    assert (WED_3, "C1", False) in _pairs(app, seeded.north)


def test_remove_refused_for_a_published_lock(app, seeded, as_role):
    """C1's Monday is locked in assignments.csv: taking them off breaks `locked` and is refused."""
    response = as_role("coordinator").post(
        f"/f/north/rota/session/{MON_1}/remove", {"clinician_id": "C1"}
    )
    assert response.status_code == 409
    assert "locked" in response.get_data(as_text=True)
    assert (MON_1, "C1", True) in _pairs(app, seeded.north)


def test_remove(app, seeded, as_role):
    """Removing an unlocked assignment takes the clinician off the session."""
    assert (
        as_role("coordinator")
        .post(f"/f/north/rota/session/{WED_3}/remove", {"clinician_id": "C1"})
        .status_code
        == 302
    )
    assert not any(s == WED_3 for s, _, _ in _pairs(app, seeded.north))


def test_swap_two_gps(app, seeded, as_role):
    """Ann (Wed 3) and Ben (Tue 2) are both free on both days: the swap is kept."""
    response = as_role("coordinator").post(
        f"/f/north/rota/session/{WED_3}/swap", {"clinician_id": "C1", "other": f"{TUE_2}|C2"}
    )
    assert response.status_code == 302
    pairs = {(s, c) for s, c, _ in _pairs(app, seeded.north)}
    assert {(TUE_2, "C1"), (WED_3, "C2")} <= pairs


def test_swap_refused_for_a_published_lock(app, seeded, as_role):
    """Ann's Monday is locked in assignments.csv: swapping her off it is refused."""
    response = as_role("coordinator").post(
        f"/f/north/rota/session/{MON_1}/swap", {"clinician_id": "C1", "other": f"{TUE_2}|C2"}
    )
    assert response.status_code == 409
    assert "locked" in response.get_data(as_text=True)


def test_swap_refused_for_wrong_roles(app, seeded, as_role):
    """Swapping a GP with a practice nurse breaks the role rule both ways: refused."""
    response = as_role("coordinator").post(
        f"/f/north/rota/session/{WED_3}/swap", {"clinician_id": "C1", "other": f"{THU_4}|C4"}
    )
    assert response.status_code == 409
    assert response.get_data(as_text=True).count(">role<") >= 2


def test_session_page_lists_candidates_with_reasons(app, seeded, as_role):
    """The session page says who could work it and what stops the others."""
    page = as_role("manager").get(f"/f/north/rota/session/{MON_8}").get_data(as_text=True)
    assert "Ann Able" in page and "Fay Fox" in page and "availability" in page


def test_unknown_session_is_404(app, seeded, as_role):
    """A session id that is not in the data answers 404."""
    assert as_role("manager").get("/f/north/rota/session/H9-20270301-1830-2000").status_code == 404


def test_clinician_and_practice_views(app, seeded, as_role):
    """Per clinician: their sessions; per practice: share of list and of hours."""
    c = as_role("coordinator")
    mine = c.get("/f/north/rota/clinician/C1").get_data(as_text=True)
    assert "Ann Able" in mine and "Mon 1 Mar 2027" in mine
    practices = c.get("/f/north/rota/practices").get_data(as_text=True)
    assert "North Surgery" in practices and "50%" in practices
    assert "Cara Cole" in c.get("/f/north/rota/practice/P1").get_data(as_text=True)
    assert c.get("/f/north/rota/practice/NOPE").status_code == 404


def test_pin_without_a_rota_makes_a_hand_made_one(app, tiny_loaded):
    """Before any optimiser run, a pin starts a hand-made rota."""
    s = seed(app, tiny_loaded, rota=False)
    from tests.web.conftest import Client

    c = Client(app.test_client())
    c.login("coordinator@north")
    assert c.post(f"/f/north/rota/session/{MON_8}/pin", {"clinician_id": "C1"}).status_code == 302
    with new_session(app) as db:
        row = db.scalar(select(Rota).where(Rota.federation_id == s.north))
        assert row.source == "manual" and [a.clinician_id for a in row.assignments] == ["C1"]


def test_optimise_runs_in_the_background_and_keeps_pins(app, seeded, as_role):
    """A manager's Optimise starts a job; when it ends the new rota is current, fills what it
    can and keeps the locked pin."""
    manager = as_role("manager")
    as_role("coordinator").post(f"/f/north/rota/session/{MON_8}/pin", {"clinician_id": "C1"})
    response = manager.post("/f/north/runs/optimise")
    assert response.status_code == 302
    jobs.wait(app, 60)
    with new_session(app) as db:
        job = db.scalar(select(Job))
        assert job.status == "done", job.message
        assert job.federation_id == seeded.north
    pairs = _pairs(app, seeded.north)
    assert (MON_1, "C1", True) in pairs and (MON_8, "C1", True) in pairs
    assert len(pairs) >= 10
    page = manager.get("/f/north/runs/").get_data(as_text=True)
    assert "done" in page and "optimiser" in page
    south_rota = _pairs(app, seeded.south)
    assert len(south_rota) == 5  # the other federation is untouched


def test_dashboard_shows_contract_and_gaps(app, seeded, as_role):
    """The overview shows the contract table and the unfilled posts with reasons."""
    page = as_role("manager").get("/f/north/").get_data(as_text=True)
    assert "Network contract" in page and "North PCN" in page
    assert "Unfilled posts" in page and "Optimise" in page


def test_federations_see_only_their_own_data(app, seeded, as_role):
    """South's pin changes south's rota only; north's pages never show it."""
    south = as_role("coordinator", "south")
    assert (
        south.post(f"/f/south/rota/session/{MON_8}/pin", {"clinician_id": "C1"}).status_code == 302
    )
    assert (MON_8, "C1", True) in _pairs(app, seeded.south)
    assert not any(s == MON_8 for s, _, _ in _pairs(app, seeded.north))
    with new_session(app) as db:
        assert (
            db.scalar(
                select(RotaAssignment).where(RotaAssignment.session_id == MON_8)
            ).rota.federation_id
            == seeded.south
        )


def test_hand_made_rota_of_the_tests_breaks_no_rule(tiny_loaded):
    """The seeded rota is valid, so every refusal in these tests comes from the edit alone."""
    from scheduler.checker import check
    from scheduler.domain import Assignment
    from tests.web.conftest import HAND_ROTA

    rota = [Assignment(s, i, c, locked) for s, i, c, locked in HAND_ROTA]
    assert check(tiny_loaded.problem, rota) == []


def test_reasons_name_people_on_pages_ids_in_exports_and_blame_older_data(app, seeded, as_role):
    """A post someone could fill is explained with their name on the overview and by ID in the
    export; once newer data is saved, the older data is the reason, not the solver's time."""
    coordinator = as_role("coordinator")
    overview = coordinator.get("/f/north/").get_data(as_text=True)
    assert "Ann Able" in overview and "could fill it: adding them breaks no hard rule" in overview
    coordinator.post(f"/f/north/data/drafts/{seeded.north_draft}/save")
    overview = coordinator.get("/f/north/").get_data(as_text=True)
    assert "the rota was made from older data: optimise again" in overview
    assert "time ran out" not in overview
    book = load_workbook(io.BytesIO(coordinator.get("/f/north/rota/export.xlsx").data))
    reasons = [row[7] for row in book["unfilled"].iter_rows(min_row=2, values_only=True)]
    assert any(r.startswith("C1") and "older data" in r for r in reasons), reasons
    assert not any("Ann Able" in r for r in reasons)


def test_roles_and_skills_typed_in_any_case_show_as_one_label(app, seeded, as_role):
    """Clinicians typed 'gp' and 'practice nurse', a post needing 'CHILDHOOD_IMMUNISATIONS':
    pages show 'GP', 'Practice Nurse' and 'Childhood immunisations', and the role filter lists
    GP once; the stored files keep what was typed."""
    from tests.web.test_data import _upload

    coordinator = as_role("coordinator")
    files = tiny_files()
    clinicians = files["clinicians.csv"].replace("C2,Ben Bell,P2,GP", "C2,Ben Bell,P2,gp")
    clinicians = clinicians.replace(
        "Practice Nurse,dan@example.test,,",
        "practice nurse,dan@example.test,CHILDHOOD_IMMUNISATIONS,",
    )
    patterns = files["patterns.csv"].replace("roles,min,target", "roles,min,target,skill")
    patterns = patterns.replace("Practice Nurse,1,1", "practice nurse,1,1,CHILDHOOD_IMMUNISATIONS")
    response = _upload(
        coordinator, ("clinicians.csv", clinicians.encode()), ("patterns.csv", patterns.encode())
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    draft_id = int(re.search(r"/drafts/(\d+)", response.location).group(1))
    coordinator.post(f"/f/north/data/drafts/{draft_id}/save")
    listing = coordinator.get("/f/north/rota/clinicians").get_data(as_text=True)
    assert "<td>gp</td>" not in listing and "<td>practice nurse</td>" not in listing
    assert listing.count(">GP</option>") == 1 and "<td>Practice Nurse</td>" in listing
    grid = coordinator.get("/f/north/rota/?week=all").get_data(as_text=True)
    assert "Practice Nurse · Childhood immunisations" in grid and "CHILDHOOD" not in grid
    stored = coordinator.get("/f/north/data/files/clinicians.csv").get_data(as_text=True)
    assert "C2,Ben Bell,P2,gp" in stored
