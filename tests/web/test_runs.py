"""Background runs in the web process: live progress as JSON and on the page, one run per rota
period, cancelling (a queued run at once, a running one within a few seconds)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import func, select

from web.db import new_session
from web.models import AuditEvent, Dataset, DatasetFile, Job, Rota, utcnow
from web.services import jobs
from web.services.demo import files_of

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def add_sample_data(app, federation_id: int) -> None:
    """The sample federation as the next data version: a problem whose solve takes the whole
    time limit, to have a run to watch and cancel."""
    files, _ = files_of(SAMPLE)
    with new_session(app) as db:
        version = (
            db.scalar(
                select(func.max(Dataset.version)).where(Dataset.federation_id == federation_id)
            )
            or 0
        )
        dataset = Dataset(federation_id=federation_id, version=version + 1, note="sample")
        dataset.files = [DatasetFile(name=n, content=t) for n, t in files.items()]
        db.add(dataset)
        db.commit()


def job_row(app, job_id: int) -> Job:
    with new_session(app) as db:
        return db.get(Job, job_id)


def wait_for(app, job_id: int, predicate, timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_row(app, job_id)
        if predicate(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"run {job_id} never got there: {job.status} {job.message}")


def started_job(response) -> int:
    assert response.status_code == 302, response.status_code
    assert "/runs/watch?job=" in response.location
    return int(response.location.rsplit("=", 1)[1])


def test_optimise_goes_to_a_live_run_page_and_its_json(app, seeded, as_role):
    """Optimise redirects to the run's page; when it ends its JSON has the status, the phases
    with best and bound, samples for the chart and a link to the rota, and the page draws the
    chart as inline SVG."""
    manager = as_role("manager")
    job_id = started_job(manager.post("/f/north/runs/optimise"))
    jobs.wait(app, 60)
    data = manager.get(f"/f/north/runs/progress?job={job_id}").get_json()
    assert data["status"] == "done" and data["active"] is False, data["message"]
    assert data["phases"] >= 3 and data["phase"] and data["samples"]
    assert data["best"] is not None and data["bound"] is not None and data["gap"] is not None
    assert data["result_url"] == "/f/north/rota/" and data["points"]["best"]
    page = manager.get(f"/f/north/runs/watch?job={job_id}").get_data(as_text=True)
    assert '<svg class="chart" id="run-chart"' in page and 'id="run-best-line"' in page
    assert "runs.js" in page and "Open the rota" in page
    job = job_row(app, job_id)
    assert (
        job.backend == "thread"
        and job.active_key is None
        and job.period == "2027-03-01..2027-03-14"
    )


def test_a_second_run_of_the_same_period_is_refused(app, seeded, as_role):
    """While a run of the period is going, Optimise is refused with a clear message naming it,
    and no second job is made."""
    with new_session(app) as db:
        going = Job(
            federation_id=seeded.north,
            status="running",
            kind="optimise",
            period="2027-03-01..2027-03-14",
            active_key=f"{seeded.north}:2027-03-01..2027-03-14",
            time_limit_seconds=60,
            started_at=utcnow(),
            heartbeat_at=utcnow(),
        )
        db.add(going)
        db.commit()
        going_id = going.id
    manager = as_role("manager")
    response = manager.post("/f/north/runs/optimise")
    assert response.location.endswith(f"/runs/watch?job={going_id}")
    page = manager.get(response.location).get_data(as_text=True)
    assert f"Run {going_id} for this rota period (Mon 1 Mar to Sun 14 Mar 2027)" in page
    assert "is still going" in page
    with new_session(app) as db:
        assert db.scalar(select(func.count(Job.id))) == 1
    south = as_role("manager", "south")  # another federation's period is its own
    started_job(south.post("/f/south/runs/optimise"))


def test_a_queued_run_cancels_at_once(app, seeded, as_role):
    """Cancelling a run no worker has started ends it there and then, freeing the period."""
    with new_session(app) as db:
        queued = Job(
            federation_id=seeded.north,
            status="queued",
            period="p",
            active_key=f"{seeded.north}:p",
            time_limit_seconds=20,
        )
        db.add(queued)
        db.commit()
        job_id = queued.id
    assert as_role("coordinator").post("/f/north/runs/cancel", {"job": job_id}).status_code == 403
    as_role("manager").post("/f/north/runs/cancel", {"job": job_id})
    job = job_row(app, job_id)
    assert (job.status, job.active_key, job.cancel_requested) == ("cancelled", None, True)
    jobs.execute(app, job_id)  # a worker picking it up later does nothing
    assert job_row(app, job_id).status == "cancelled"


def test_a_running_run_stops_within_seconds_of_cancel(app, seeded, as_role):
    """A long solve (the sample federation, 120 s allowed) is cancelled while it runs: it ends
    within a few seconds as cancelled, and keeps nothing (the current rota is unchanged)."""
    add_sample_data(app, seeded.north)
    manager = as_role("manager")
    with new_session(app) as db:
        rotas_before = db.scalar(select(func.count(Rota.id)))
    job_id = jobs.start_optimise(app, seeded.north, seeded.users["manager@north"], 120)
    wait_for(app, job_id, lambda j: j.status == "running" and j.progress)
    asked = time.monotonic()
    manager.post("/f/north/runs/cancel", {"job": job_id})
    job = wait_for(app, job_id, lambda j: j.status not in jobs.ACTIVE, timeout=30)
    stopped_after = time.monotonic() - asked
    assert job.status == "cancelled" and stopped_after < 5, (job.status, stopped_after)
    jobs.wait(app, 30)
    with new_session(app) as db:
        assert db.scalar(select(func.count(Rota.id))) == rotas_before
        actions = [e.detail for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert any("asked run" in a for a in actions) and any("cancelled" in a for a in actions)


def test_progress_log_keeps_a_bounded_sample_list(app, seeded):
    """However long a run, the stored samples stay bounded, first one kept."""
    from scheduler.solver.solve import Progress

    with new_session(app) as db:
        job = Job(federation_id=seeded.north, status="running", time_limit_seconds=20)
        db.add(job)
        db.commit()
        job_id = job.id
    log = jobs.ProgressLog(app, job_id)
    for i in range(1000):
        log(Progress("unfilled_min", 1, 3, i / 10, 1000 - i, 0, done=(i == 999)))
    stored = json.loads(job_row(app, job_id).progress)
    assert len(stored["samples"]) <= jobs.MAX_SAMPLES and stored["samples"][0][0] == 0
    assert stored["best"] == 1 and stored["phase_names"] == {"1": "unfilled_min"}


def test_run_pages_of_unknown_or_foreign_runs_answer_404(app, seeded, as_role):
    """A run id of another federation, or none at all, is not found."""
    south = as_role("manager", "south")
    job_id = started_job(south.post("/f/south/runs/optimise"))
    jobs.wait(app, 60)
    north = as_role("manager")
    assert north.get(f"/f/north/runs/watch?job={job_id}").status_code == 404
    assert north.get(f"/f/north/runs/progress?job={job_id}").status_code == 404
    assert north.get("/f/north/runs/watch?job=99999").status_code == 404
    assert north.get("/f/north/runs/watch").status_code == 302
