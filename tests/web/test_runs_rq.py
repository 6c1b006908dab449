"""Runs on RQ: with REDIS_URL set, Optimise queues the job on the real Redis of this machine
(127.0.0.1:6379) and a real `hubrota worker` process runs it against the shared PostgreSQL
database; cancelling reaches the worker through the database within a few seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import select

from tests.web.conftest import _empty_postgres, make_app, seed
from tests.web.test_runs import add_sample_data, job_row, started_job, wait_for
from web.db import engine_of, new_session
from web.models import Federation, Rota
from web.services import jobs

REDIS_URL = os.environ.get("HUBROTA_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def queue_name():
    """A queue of this run's own, deleted at the end, so parallel runs never share jobs."""
    from redis import Redis

    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except Exception as exc:  # pragma: no cover - scripts/test.sh starts Redis
        pytest.fail(f"Redis at {REDIS_URL} is not usable: {exc}")
    name = f"hubrota-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield name
    from rq import Queue

    Queue(name, connection=connection).delete(delete_jobs=True)


@pytest.fixture(scope="module")
def worker(postgres_url, queue_name, tmp_path_factory):
    """`hubrota worker` in a process of its own, on the test database and queue."""
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "REDIS_URL": REDIS_URL,
        "HUBROTA_SECRET_KEY": "test-secret-of-at-least-32-characters",
        "HUBROTA_SOLVER_WORKERS": "1",
        "HUBROTA_RQ_QUEUE": queue_name,
    }
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
        )
    yield process
    process.send_signal(signal.SIGTERM)  # a warm shutdown: RQ unregisters the worker
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:  # pragma: no cover
        process.kill()
        process.wait(10)
    if process.returncode not in (0, -signal.SIGTERM):  # pragma: no cover - show why
        print(log.read_text(errors="replace"))


@pytest.fixture
def rq_app(postgres_url, queue_name, worker, tmp_path, tiny_loaded):
    app = make_app(postgres_url, tmp_path, REDIS_URL=REDIS_URL, RQ_QUEUE=queue_name)
    seeded = seed(app, tiny_loaded)
    yield app, seeded
    jobs.wait(app, 60)
    engine_of(app).dispose()
    _empty_postgres(postgres_url)


def login(app, email: str):
    from tests.web.conftest import Client

    client = Client(app.test_client())
    assert client.login(email).status_code == 302
    return client


def test_a_run_goes_through_a_real_rq_worker(rq_app):
    """Optimise queues the job; the worker process solves it and stores the rota, and the run
    page's JSON shows it done, with its progress samples."""
    app, seeded = rq_app
    manager = login(app, "manager@north")
    job_id = started_job(manager.post("/f/north/runs/optimise"))
    job = wait_for(app, job_id, lambda j: j.status not in jobs.ACTIVE, timeout=90)
    assert (job.backend, job.status) == ("rq", "done"), job.message
    with new_session(app) as db:
        row = db.get(Rota, job.rota_id)
        assert row.federation_id == seeded.north and len(row.assignments) >= 10
    data = manager.get(f"/f/north/runs/progress?job={job_id}").get_json()
    assert data["status"] == "done" and data["samples"]


def test_a_cancelled_rq_run_stops_within_seconds(rq_app):
    """A long solve on the worker (120 s allowed) stops within a few seconds of Cancel."""
    app, seeded = rq_app
    add_sample_data(app, seeded.north)
    with new_session(app) as db:
        db.get(Federation, seeded.north).time_limit_seconds = 120
        db.commit()
    manager = login(app, "manager@north")
    job_id = started_job(manager.post("/f/north/runs/optimise"))
    assert job_row(app, job_id).time_limit_seconds == 120
    wait_for(app, job_id, lambda j: j.status == "running" and j.progress, timeout=90)
    asked = time.monotonic()
    manager.post("/f/north/runs/cancel", {"job": job_id})
    job = wait_for(app, job_id, lambda j: j.status not in jobs.ACTIVE, timeout=60)
    assert job.status == "cancelled" and time.monotonic() - asked < 5
    with new_session(app) as db:
        assert db.scalar(select(Rota).where(Rota.source == "optimiser")) is None
