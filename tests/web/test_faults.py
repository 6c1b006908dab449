"""Faults: what survives a process killed half-way, and what two people doing one thing at the
same moment get.

- A `hubrota worker` killed mid-solve (the real worker on the local Redis and PostgreSQL): the run
  is failed within seconds, not left "running"; the data and the published rota are untouched; a
  new run succeeds.
- The web process killed mid-upload (a real server process, SIGKILL while the save's
  transaction is open): the datasets are exactly as before.
- Two managers starting runs of one period at the same moment: one run, one clear refusal.
- Two publishes at the same moment make one version; a publish failing half-way makes none.

Races are made certain, not hoped for: a hook holds each side at a barrier just before it writes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import event, select, update

from tests.web.conftest import PASSWORD, Client, make_app, seed
from tests.web.test_publish import publish, versions
from tests.web.test_runs import add_sample_data, started_job, wait_for
from web.db import EXTENSION as DB_EXTENSION
from web.db import engine_of, new_session
from web.models import (
    AuditEvent,
    Dataset,
    Federation,
    Job,
    PublishedVersion,
    Rota,
)
from web.services import jobs
from web.services.accounts import create_user

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("HUBROTA_TEST_REDIS", "redis://127.0.0.1:6379/0")
STALE_SECONDS = 3  # the web app gives a silent run up this soon (production: 60)


def snapshot(app) -> dict:
    """What a fault must not touch: every dataset with its files, every published version with
    its assignments, every rota with its assignments."""
    with new_session(app) as db:
        datasets = [
            (d.id, d.version, d.note, tuple((f.name, f.content) for f in d.files))
            for d in db.scalars(select(Dataset).order_by(Dataset.id))
        ]
        published = [
            (
                v.federation_id,
                v.number,
                v.rota_id,
                v.rota_revision,
                tuple(
                    sorted(
                        (a.session_id, a.post_index, a.clinician_id, a.locked)
                        for a in v.assignments
                    )
                ),
            )
            for v in db.scalars(select(PublishedVersion).order_by(PublishedVersion.id))
        ]
        rotas = [
            (
                r.id,
                r.revision,
                tuple(
                    sorted(
                        (a.session_id, a.post_index, a.clinician_id, a.locked)
                        for a in r.assignments
                    )
                ),
            )
            for r in db.scalars(select(Rota).order_by(Rota.id))
        ]
    return {"datasets": datasets, "published": published, "rotas": rotas}


def login(app, email: str) -> Client:
    client = Client(app.test_client())
    assert client.login(email).status_code == 302
    return client


# ---- a worker killed mid-solve --------------------------------------------------------------


@pytest.fixture(scope="module")
def queue_name():
    """A queue of this module's own on the real Redis, deleted at the end."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except Exception as exc:  # pragma: no cover - scripts/test.sh starts Redis
        pytest.fail(f"Redis at {REDIS_URL} is not usable: {exc}")
    name = f"hubrota-faults-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield name
    Queue(name, connection=connection).delete(delete_jobs=True)


class Workers:
    """`hubrota worker` processes on the test database and queue (heartbeat every half
    second), and the work-horses they fork; `stop` ends whatever is still alive."""

    def __init__(self, postgres_url: str, queue_name: str, logs: Path):
        self.env = {
            **os.environ,
            "DATABASE_URL": postgres_url,
            "REDIS_URL": REDIS_URL,
            "HUBROTA_SECRET_KEY": "test-secret-of-at-least-32-characters",
            "HUBROTA_SOLVER_WORKERS": "1",
            "HUBROTA_RQ_QUEUE": queue_name,
            "HUBROTA_JOB_HEARTBEAT_SECONDS": "0.5",
        }
        self.logs = logs
        self.started: list[subprocess.Popen] = []
        self.horses: list[int] = []

    def start(self) -> subprocess.Popen:
        with open(self.logs / f"worker-{len(self.started)}.log", "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "scheduler.cli", "worker"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        self.started.append(process)
        return process

    def horse(self, worker: subprocess.Popen, timeout: float = 60) -> int:
        """The process RQ forked to run the job (the worker's one child)."""
        deadline = time.monotonic() + timeout
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
        while time.monotonic() < deadline:
            pids = children.read_text().split() if children.exists() else []
            if pids:
                self.horses.append(int(pids[0]))
                return int(pids[0])
            time.sleep(0.05)
        raise AssertionError("the worker never forked a work-horse")

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # a warm shutdown: RQ unregisters it
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:  # pragma: no cover
                    process.kill()
                    process.wait(10)
        for pid in self.horses:  # a horse orphaned by a test that failed before killing it
            with contextlib.suppress(OSError):
                if b"scheduler.cli" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def workers(postgres_url, queue_name, tmp_path):
    started = Workers(postgres_url, queue_name, tmp_path)
    yield started
    started.stop()


@pytest.fixture
def rq_app(postgres_url, queue_name, tmp_path, tiny_loaded):
    """The web app on PostgreSQL sending runs to the test queue; the sample federation as data
    version 2 of `north`, a version 1 published, and runs allowed 120 s."""
    from tests.web.conftest import _empty_postgres

    app = make_app(
        postgres_url,
        tmp_path,
        REDIS_URL=REDIS_URL,
        RQ_QUEUE=queue_name,
        JOB_STALE_SECONDS=STALE_SECONDS,
    )
    seeded = seed(app, tiny_loaded)
    manager = login(app, "manager@north")
    assert publish(manager, "before the fault").status_code == 302
    add_sample_data(app, seeded.north)
    with new_session(app) as db:
        db.get(Federation, seeded.north).time_limit_seconds = 120
        db.commit()
    yield app, seeded, manager
    jobs.wait(app, 60)
    engine_of(app).dispose()
    _empty_postgres(postgres_url)


def running_solve(app, manager, workers: Workers, worker) -> tuple[int, int]:
    """Optimise, and wait until the worker's solve is under way: (job id, work-horse pid)."""
    job_id = started_job(manager.post("/f/north/runs/optimise"))
    job = wait_for(app, job_id, lambda j: j.status == "running" and j.progress, timeout=60)
    assert job.time_limit_seconds == 120 and worker.poll() is None
    return job_id, workers.horse(worker)


def ended(manager, job_id: int, timeout: float) -> tuple[dict, float]:
    """Poll the run page's JSON (the web process's status check) until the run has ended."""
    asked = time.monotonic()
    while time.monotonic() - asked < timeout:
        data = manager.get(f"/f/north/runs/progress?job={job_id}").get_json()
        if not data["active"]:
            return data, time.monotonic() - asked
        time.sleep(0.2)
    raise AssertionError(f"run {job_id} still {data['status']} after {timeout} s")


def retry_succeeds(app, manager) -> None:
    """A new run of the same period starts (the dead one no longer holds it) and is done."""
    with new_session(app) as db:
        db.scalar(select(Federation).where(Federation.slug == "north")).time_limit_seconds = 4
        db.commit()
    job_id = started_job(manager.post("/f/north/runs/optimise"))
    job = wait_for(app, job_id, lambda j: j.status not in jobs.ACTIVE, timeout=60)
    assert job.status == "done", job.message
    with new_session(app) as db:
        assert db.get(Rota, job.rota_id).source == "optimiser"


def test_a_worker_killed_mid_solve_fails_its_run_within_seconds(rq_app, workers):
    """SIGKILL to the worker and its work-horse while a 120 s solve runs: nothing is left to
    report, so the run's heartbeat stops and the run page's status check fails the run within
    a few seconds (the app allows STALE_SECONDS of silence), naming why; the data, the published
    version and the rotas are as before; a new run (on a new worker) succeeds."""
    app, _seeded, manager = rq_app
    worker = workers.start()
    before = snapshot(app)
    job_id, horse = running_solve(app, manager, workers, worker)
    os.kill(worker.pid, signal.SIGKILL)
    os.kill(horse, signal.SIGKILL)
    worker.wait(10)
    replacement = workers.start()  # starts while the old run is being given up
    data, waited = ended(manager, job_id, timeout=STALE_SECONDS + 10)
    assert data["status"] == "failed" and waited < STALE_SECONDS + 5, (data, waited)
    assert "no sign of life" in data["message"], data["message"]
    assert snapshot(app) == before
    with new_session(app) as db:
        job = db.get(Job, job_id)
        assert job.active_key is None and job.finished_at is not None and job.rota_id is None
        assert db.scalar(select(AuditEvent).where(AuditEvent.detail.like(f"run {job_id} %failed%")))
    retry_succeeds(app, manager)
    assert replacement.poll() is None


def test_a_killed_work_horse_fails_its_run_at_once(rq_app, workers):
    """The solving process alone is killed (as the kernel's out-of-memory killer would): the
    worker that forked it fails the run at once, naming the signal, without waiting for the
    heartbeat to go stale; nothing is saved, and the same worker takes the next run."""
    app, _seeded, manager = rq_app
    worker = workers.start()
    before = snapshot(app)
    job_id, horse = running_solve(app, manager, workers, worker)
    os.kill(horse, signal.SIGKILL)
    # read from the database, not the run page: only the worker's notice can end it this soon
    job = wait_for(app, job_id, lambda j: j.status not in jobs.ACTIVE, timeout=STALE_SECONDS)
    assert job.status == "failed" and "SIGKILL" in job.message, job.message
    assert snapshot(app) == before
    retry_succeeds(app, manager)
    assert worker.poll() is None


def test_a_run_given_up_for_lost_keeps_nothing_when_it_comes_back(app, seeded):
    """A run that only seemed dead (its process stalled past the stale limit and the web app
    failed it) notices at its next heartbeat, stops, and ends without touching the job's
    failed status or storing its rota; its period was free all along."""
    add_sample_data(app, seeded.north)
    app.config["JOB_HEARTBEAT_SECONDS"] = 0.2
    job_id = jobs.start_optimise(app, seeded.north, seeded.users["manager@north"], 120)
    wait_for(app, job_id, lambda j: j.status == "running" and j.progress)
    before = snapshot(app)
    with new_session(app) as db:  # what reap does to a run silent for too long
        db.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="failed", message="given up", active_key=None)
        )
        db.commit()
    asked = time.monotonic()
    jobs.wait(app, 30)
    assert time.monotonic() - asked < 5
    job = wait_for(app, job_id, lambda j: True)
    assert (job.status, job.message, job.rota_id) == ("failed", "given up", None)
    assert snapshot(app) == before


# ---- the web process killed mid-upload ------------------------------------------------------

# The web app in a real server process, with a hook that stalls inside the save's transaction:
# after the upload's file rows are written (upload) or after the draft's version number is set
# and before the other drafts are deleted and the transaction commits (save).
SERVER = r"""
import os, pathlib, time
from sqlalchemy import event
from werkzeug.serving import make_server
from web import create_app
from web.models import Dataset, DatasetFile

app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                  "DATABASE_URL": os.environ["DATABASE_URL"]})
marker = pathlib.Path(os.environ["FAULT_MARKER"])

def stall(*_):
    marker.write_text("inside the transaction")
    time.sleep(120)

if os.environ["FAULT_AT"] == "upload":
    event.listen(DatasetFile, "after_insert", stall, once=True)
else:
    event.listen(Dataset, "after_update", stall, once=True)
make_server("127.0.0.1", int(os.environ["PORT"]), app, threaded=True).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("fault_at", ["upload", "save"])
def test_the_web_process_killed_mid_upload_saves_nothing(
    app, seeded, tmp_path, database_url, fault_at
):
    """A real server is killed (SIGKILL) while an upload's transaction is open — after the new
    draft's file rows are written, or after the draft became version 2 but before the commit:
    the database, read directly, has exactly the datasets and files it had before, and the
    draft can still be saved whole afterwards."""
    port, marker = free_port(), tmp_path / "stalled"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "FAULT_MARKER": str(marker),
        "FAULT_AT": fault_at,
    }
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base, http = f"http://127.0.0.1:{port}", requests.Session()
        deadline = time.monotonic() + 30
        while True:
            try:
                http.get(f"{base}/login", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None, (
                    server.stderr.read().decode(errors="replace") if server.poll() else "slow"
                )
                time.sleep(0.1)
        assert (
            http.post(
                f"{base}/login",
                data={"email": "coordinator@north", "password": PASSWORD},
                allow_redirects=False,
                timeout=10,
            ).status_code
            == 302
        )
        before = snapshot(app)
        if fault_at == "upload":
            practices = (ROOT / "tests/web/data/tiny/practices.csv").read_text(encoding="utf-8")
            request = {
                "url": f"{base}/f/north/data/upload",
                "files": [
                    (
                        "files",
                        (
                            "practices.csv",
                            practices.replace("River Practice", "Riverbank Practice"),
                            "text/csv",
                        ),
                    )
                ],
            }
        else:
            request = {"url": f"{base}/f/north/data/drafts/{seeded.north_draft}/save"}

        def send() -> None:
            with contextlib.suppress(requests.ConnectionError):  # the server dies under it
                http.post(**request, timeout=60, allow_redirects=False)

        sender = threading.Thread(target=send)
        sender.start()
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert time.monotonic() < deadline, "the save never started"
            time.sleep(0.02)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        sender.join(10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    assert snapshot(app) == before
    with new_session(app) as db:
        assert db.scalar(select(AuditEvent).where(AuditEvent.detail.like("%version 2%"))) is None
    coordinator = login(app, "coordinator@north")
    coordinator.post(f"/f/north/data/drafts/{seeded.north_draft}/save")
    with new_session(app) as db:
        saved = db.get(Dataset, seeded.north_draft)
        files = next(d[3] for d in before["datasets"] if d[0] == seeded.north_draft)
        assert saved.version == 2 and saved.texts() == dict(files)


# ---- two managers, one period ---------------------------------------------------------------


def hold_at(app, barrier: threading.Barrier, kind: type) -> None:
    """Make every session of `app` wait at `barrier` before it writes a new `kind` row: both
    sides have read what they decide from before either writes."""

    def wait(session, _context, _instances) -> None:
        if any(isinstance(obj, kind) for obj in session.new):
            barrier.wait(timeout=30)

    event.listen(app.extensions[DB_EXTENSION], "before_flush", wait)


def at_once(*calls):
    """Run the calls in threads of their own at the same moment; their results in order."""
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call) -> None:
        try:
            results[i] = call()
        except BaseException as exc:  # pragma: no cover - shown below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


@pytest.fixture
def second_app(database_url, tmp_path):
    """Another web process on the same database (its own engine, its own run threads)."""
    other = make_app(database_url, tmp_path / "second")
    yield other
    jobs.wait(other, 60)
    engine_of(other).dispose()


def test_two_managers_starting_runs_of_one_period_at_once_get_one_run(app, seeded, second_app):
    """Two managers on two web processes press Optimise for the same period at the same moment
    (both pass every check before either writes): one run starts, the other is refused with a
    message naming that run, and there is one job."""
    with app.app_context(), new_session(app) as db:
        federation = db.get(Federation, seeded.north)
        create_user(
            db,
            federation=federation,
            email="manager2@north",
            password=PASSWORD,
            role="manager",
            name="Second Manager",
        )
        db.commit()
    first, second = login(app, "manager@north"), login(second_app, "manager2@north")
    barrier = threading.Barrier(2)
    for each in (app, second_app):
        hold_at(each, barrier, Job)
    responses = at_once(
        lambda: first.post("/f/north/runs/optimise"), lambda: second.post("/f/north/runs/optimise")
    )
    with new_session(app) as db:
        made = db.scalars(select(Job)).all()
    assert len(made) == 1
    run = made[0]
    assert all(
        r.status_code == 302 and r.location.endswith(f"/runs/watch?job={run.id}") for r in responses
    )
    refused = second if run.user_id == seeded.users["manager@north"] else first
    page = refused.get(f"/f/north/runs/watch?job={run.id}").get_data(as_text=True)
    assert f"Run {run.id} for this rota period (Mon 1 Mar to Sun 14 Mar 2027)" in page, page


def test_the_refusal_names_a_run_that_ended_in_the_meantime(app, seeded):
    """When the run that took the period has already ended by the time the loser looks (a
    quick one), the refusal still names it and says it has just ended."""
    period = "2027-03-01..2027-03-14"
    with new_session(app) as db:
        quick = Job(
            federation_id=seeded.north,
            status="done",
            period=period,
            user_id=seeded.users["manager@north"],
            time_limit_seconds=3,
        )
        db.add(quick)
        db.commit()
        refusal = jobs._refusal(db, seeded.north, period)
    assert refusal.job_id == quick.id
    assert refusal.message == (
        f"Run {quick.id} for this rota period (Mon 1 Mar to Sun 14 Mar "
        "2027), started by manager@north at the same moment, has just "
        "ended (done): look at it before starting another."
    )


# ---- publishing -----------------------------------------------------------------------------


def test_two_publishes_at_the_same_moment_make_one_version(app, seeded, second_app):
    """Two managers publish the same rota revision at the same moment (both read that version
    1 is next before either writes): exactly one version 1 exists, with the whole rota, and the
    other manager is told someone published at the same moment."""
    first, second = login(app, "manager@north"), login(second_app, "admin@north")
    pages = [c.get("/f/north/publish/preview").get_data(as_text=True) for c in (first, second)]
    forms = [
        {
            "rota": p.split('name="rota" value="')[1].split('"')[0],
            "revision": p.split('name="revision" value="')[1].split('"')[0],
            "note": "at once",
        }
        for p in pages
    ]
    barrier = threading.Barrier(2)
    for each in (app, second_app):
        hold_at(each, barrier, PublishedVersion)
    responses = at_once(
        lambda: first.post("/f/north/publish/", forms[0]),
        lambda: second.post("/f/north/publish/", forms[1]),
    )
    published = versions(app, seeded.north)
    assert [v.number for v in published] == [1]
    with new_session(app) as db:
        assert len(db.get(PublishedVersion, published[0].id).assignments) == 5
        assert len(db.scalars(select(AuditEvent).where(AuditEvent.action == "publish")).all()) == 1
    assert sorted(r.location.split("/publish/")[1].split("?")[0] for r in responses) == [
        "preview",
        "version",
    ]
    loser = first if "preview" in responses[0].location else second
    assert "Someone published at the same moment" in loser.get("/f/north/publish/preview").get_data(
        as_text=True
    )


def test_a_publish_failing_half_way_leaves_no_version(app, seeded):
    """An error after the version row is written and before its assignments are copied: no
    version, no audit line, and the next publish is version 1 with every assignment."""
    manager = login(app, "manager@north")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a real server answers 500

    def fail(*_):
        raise RuntimeError("the disk is full")

    event.listen(PublishedVersion, "after_insert", fail)
    try:
        assert publish(manager, "half way").status_code == 500
    finally:
        event.remove(PublishedVersion, "after_insert", fail)
    assert versions(app, seeded.north) == []
    with new_session(app) as db:
        assert db.scalar(select(AuditEvent).where(AuditEvent.action == "publish")) is None
    assert publish(manager, "again").status_code == 302
    (v1,) = versions(app, seeded.north)
    with new_session(app) as db:
        assert v1.number == 1 and len(db.get(PublishedVersion, v1.id).assignments) == 5
