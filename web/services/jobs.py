"""Background runs: the optimiser and absence re-runs, outside the request that asked for them.

A run's whole state lives in its `job` row — status, live progress, the cancel flag — so a page
can watch it from any process. Where it runs depends on the configuration:

- embedded (the default): a thread of the web process;
- with `REDIS_URL` set: an RQ job, picked up by `hubrota worker` processes (on this machine or
  others sharing the database).

Both call `execute(app, job_id)`, so a run behaves the same wherever it runs. One run per rota
period at a time: the job's `active_key` is unique while it is queued or running, so a second
start is refused by the database itself, whichever process asks. Cancelling sets the flag; the
solver's `should_stop` reads it (at most every CANCEL_POLL_SECONDS) and stops the search.

A process can die mid-run (SIGKILL, the out-of-memory killer, a machine lost). While a run goes,
a thread of its process stamps `heartbeat_at` every JOB_HEARTBEAT_SECONDS; a running job silent
for JOB_STALE_SECONDS is failed by `reap`, which the run pages, `start_run` and `wait` call, and
its period is free again. `hubrota worker` fails a job at once when the work-horse running it
is killed. Every change of a job's status is a conditional UPDATE (from the status it was seen
in), so a run given up for lost that comes back never overwrites that, nor stores its rota.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from scheduler.checker import check, format_day
from scheduler.domain import Problem, SolveStatus
from scheduler.solver.params import SolveParams
from web.db import get_db, new_session
from web.models import AuditEvent, Federation, Job, Rota, RotaAssignment, utcnow
from web.services.problems import current_dataset

EXTENSION = "hubrota.jobs"
ACTIVE = ("queued", "running")
GRACE_SECONDS = 300  # a queued run no process took this long past its time limit is lost
HEARTBEAT_SECONDS = 2.0  # JOB_HEARTBEAT_SECONDS: how often a running job says it is alive
STALE_SECONDS = 60.0  # JOB_STALE_SECONDS: a running job silent this long died with its process
CANCEL_POLL_SECONDS = 0.5  # how often a run reads its cancel flag from the database
PROGRESS_WRITE_SECONDS = 0.5  # at most one progress write per this many seconds
MAX_SAMPLES = 400  # progress samples kept for the chart
WORK = "web.worker.work"  # the RQ entry point that a queued run names, imported by the worker
log = logging.getLogger(__name__)


class RunRefused(Exception):
    """A run that cannot start; the message says why, for the page."""

    def __init__(self, message: str, job_id: int | None = None):
        super().__init__(message)
        self.message, self.job_id = message, job_id


class _Threads:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[int, threading.Thread] = {}


def init_app(app: Flask) -> None:
    """REDIS_URL comes from the app's configuration (test config, HUBROTA_REDIS_URL), else the
    plain REDIS_URL variable as DESIGN.md names it; empty means embedded runs."""
    if "REDIS_URL" not in app.config:
        app.config["REDIS_URL"] = os.environ.get("REDIS_URL") or None
    app.config.setdefault("RQ_QUEUE", "hubrota")
    app.config.setdefault("JOB_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)
    app.config.setdefault("JOB_STALE_SECONDS", STALE_SECONDS)
    app.extensions[EXTENSION] = _Threads()
    # the run pages (and the JSON they poll) show no run as going whose process is gone;
    # keyed by the blueprint's name, so after the login checks
    app.before_request_funcs.setdefault("runs", []).append(_reap_before_run_pages)


def backend_of(app: Flask) -> str:
    return "rq" if app.config.get("REDIS_URL") else "thread"


# ---- which runs are going ------------------------------------------------------------------


def period_of(problem: Problem) -> str:
    return f"{problem.period_start.isoformat()}..{problem.period_end.isoformat()}"


def period_text(period: str) -> str:
    first, _, last = period.partition("..")
    try:
        from datetime import date

        return (
            f"{format_day(date.fromisoformat(first), year=False)} to "
            f"{format_day(date.fromisoformat(last))}"
        )
    except ValueError:
        return period


def _stale_seconds(app: Flask | None = None) -> float:
    """JOB_STALE_SECONDS of `app`, else of the current app."""
    if app is None and not has_app_context():
        return STALE_SECONDS
    return float((app or current_app).config.get("JOB_STALE_SECONDS", STALE_SECONDS))


def _lost(job: Job, now, stale_seconds: float) -> str | None:
    """Why an active job is lost (its process is gone), or None while it may still be going."""
    if job.active_key is None:
        return "interrupted: it was left without its period's key"
    if job.status == "running":
        seen = job.heartbeat_at or job.started_at or job.created_at
        if seen < now - timedelta(seconds=stale_seconds):
            return (
                f"interrupted: no sign of life from its process for over {stale_seconds:g} s "
                "(the worker or web process running it stopped); nothing was saved"
            )
        return None
    if job.created_at < now - timedelta(seconds=job.time_limit_seconds + GRACE_SECONDS):
        return "interrupted: no process started it (is a `hubrota worker` running?)"
    return None


def running_job(db, federation_id: int) -> Job | None:
    """The federation's newest queued or running run (one whose process died does not count)."""
    job = db.scalar(
        select(Job)
        .where(Job.federation_id == federation_id, Job.status.in_(ACTIVE))
        .order_by(Job.id.desc())
        .limit(1)
    )
    return None if job is None or _lost(job, utcnow(), _stale_seconds()) else job


def reap(db, stale_seconds: float, federation_id: int | None = None) -> list[int]:
    """Fail the active runs whose process is gone (see `_lost`), each with an audit line, and
    free their periods; the ids failed. The caller commits. A run that beat or changed status
    since it was read is left alone."""
    now = utcnow()
    query = select(Job).where(Job.status.in_(ACTIVE))
    if federation_id is not None:
        query = query.where(Job.federation_id == federation_id)
    reaped = []
    for job in db.scalars(query).all():
        why = _lost(job, now, stale_seconds)
        if why is None:
            continue
        still = [Job.status == job.status]
        if job.status == "running" and job.active_key is not None:
            still.append(
                or_(
                    Job.heartbeat_at.is_(None),
                    Job.heartbeat_at < now - timedelta(seconds=stale_seconds),
                )
            )
        if _fail(db, job, why, *still):
            reaped.append(job.id)
            db.expire(job)
    return reaped


def reap_federation(db, federation_id: int) -> None:
    """Fail the federation's runs whose process died (as the run pages do before showing)."""
    reap(db, _stale_seconds(), federation_id)
    db.commit()


def fail_lost(app: Flask, job_id: int, why: str) -> bool:
    """Fail a queued or running run whose process is known to be gone (the worker saw its
    work-horse killed); False when it had already ended."""
    with new_session(app) as db:
        job = db.get(Job, job_id)
        failed = job is not None and _fail(db, job, why, Job.status.in_(ACTIVE))
        db.commit()
    return failed


def _fail(db, job: Job, why: str, *still) -> bool:
    ended = db.execute(
        update(Job)
        .where(Job.id == job.id, *still)
        .values(status="failed", message=why, finished_at=utcnow(), active_key=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if ended:
        log.warning("run %s failed: %s", job.id, why)
        db.add(
            AuditEvent(
                federation_id=job.federation_id,
                user_id=job.user_id,
                action="run",
                detail=f"run {job.id} ({job.kind}) failed: {why}",
            )
        )
    return bool(ended)


def _reap_before_run_pages() -> None:
    db = get_db()
    if reap(db, _stale_seconds()):
        db.commit()


# ---- starting and cancelling -------------------------------------------------------------


def start_run(
    app: Flask,
    federation_id: int,
    user_id: int | None,
    kind: str = "optimise",
    time_limit: int | None = None,
    detail: dict | None = None,
    on_created=None,
) -> int:
    """Queue a run and start it; its job id. Raises RunRefused when there is no data or a run
    of the same rota period is already going. `on_created(db, job)` runs in the transaction
    that creates the job (e.g. to store what the run is about)."""
    from web.services.current_rota import effective_problem

    threads: _Threads = app.extensions[EXTENSION]
    with threads.lock, app.app_context(), new_session(app) as db:
        dataset = current_dataset(db, federation_id)
        if dataset is None:
            raise RunRefused("Upload data before optimising.")
        problem = effective_problem(db, federation_id, dataset)
        period = period_of(problem)
        reap(db, _stale_seconds(app), federation_id)
        db.commit()
        federation = db.get(Federation, federation_id)
        job = Job(
            federation_id=federation_id,
            user_id=user_id,
            status="queued",
            kind=kind,
            period=period,
            active_key=f"{federation_id}:{period}",
            backend=backend_of(app),
            time_limit_seconds=time_limit or federation.time_limit_seconds,
            detail=json.dumps(detail or {}),
        )
        db.add(job)
        try:
            db.flush()
            if on_created is not None:
                on_created(db, job)
            db.add(
                AuditEvent(
                    federation_id=federation_id,
                    user_id=user_id,
                    action="run",
                    detail=f"started run {job.id} ({kind})",
                )
            )
            db.commit()
        except IntegrityError:
            db.rollback()
            raise _refusal(db, federation_id, period) from None
        job_id = job.id
    if backend_of(app) == "rq":
        _enqueue(app, job_id)
    else:
        thread = threading.Thread(
            target=_run_thread, args=(app, job_id), daemon=True, name=f"hubrota-job-{job_id}"
        )
        with threads.lock:
            threads.running[job_id] = thread
        thread.start()
    return job_id


def _refusal(db, federation_id: int, period: str) -> RunRefused:
    """Why a run of `period` cannot start: the run that holds the period (or, when it ended
    in the meantime, the newest run of the period, started at the same moment)."""
    going = db.scalar(select(Job).where(Job.active_key == f"{federation_id}:{period}"))
    if going is None:
        going = db.scalar(
            select(Job)
            .where(Job.federation_id == federation_id, Job.period == period)
            .order_by(Job.id.desc())
            .limit(1)
        )
    if going is None:  # pragma: no cover - the key was taken, so some run had it
        return RunRefused("Another run of this rota period started at the same moment: try again.")
    who = f" by {going.user.email}" if going.user else ""
    if going.status in ACTIVE:
        return RunRefused(
            f"Run {going.id} for this rota period ({period_text(period)}), "
            f"started{who}, is still going: wait for it to finish or cancel it "
            "before starting another.",
            going.id,
        )
    return RunRefused(
        f"Run {going.id} for this rota period ({period_text(period)}), started{who} "
        f"at the same moment, has just ended ({going.status}): look at it before "
        "starting another.",
        going.id,
    )


def start_optimise(
    app: Flask, federation_id: int, user_id: int | None, time_limit: int | None = None
) -> int:
    """Start an optimiser run (RunRefused when one of the period is going)."""
    return start_run(app, federation_id, user_id, "optimise", time_limit)


def cancel(db, job: Job, user_id: int | None) -> str:
    """Ask a run to stop: a queued one stops at once, a running one within a second or so."""
    if job.status not in ACTIVE:
        return f"Run {job.id} has already ended ({job.status})."
    job.cancel_requested = True
    db.add(
        AuditEvent(
            federation_id=job.federation_id,
            user_id=user_id,
            action="cancel",
            detail=f"asked run {job.id} to stop",
        )
    )
    if job.status == "queued":  # unless a process has just started it: then it stops itself
        db.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == "queued")
            .values(
                status="cancelled",
                finished_at=utcnow(),
                active_key=None,
                message="cancelled before it started",
            )
            .execution_options(synchronize_session=False)
        )
    db.commit()
    db.refresh(job)
    return f"Run {job.id} is stopping." if job.status == "running" else f"Run {job.id} cancelled."


def wait(app: Flask, timeout: float | None = None) -> None:
    """Wait for the app's runs: its threads, and with RQ until no job of the app's database is
    queued or running (tests and the demo use it)."""
    threads: _Threads = app.extensions[EXTENSION]
    with threads.lock:
        pending = list(threads.running.values())
    for thread in pending:
        thread.join(timeout)
    if backend_of(app) == "rq":
        deadline = time.monotonic() + (timeout or 3600)
        while time.monotonic() < deadline:
            with new_session(app) as db:
                reap(db, _stale_seconds(app))
                db.commit()
                if db.scalar(select(Job.id).where(Job.status.in_(ACTIVE)).limit(1)) is None:
                    return
            time.sleep(0.2)


# ---- the backends ------------------------------------------------------------------------


def _run_thread(app: Flask, job_id: int) -> None:
    try:
        execute(app, job_id)
    finally:
        threads: _Threads = app.extensions[EXTENSION]
        with threads.lock:
            threads.running.pop(job_id, None)


def _enqueue(app: Flask, job_id: int) -> None:
    from redis import Redis
    from rq import Queue

    try:
        with new_session(app) as db:
            limit = db.get(Job, job_id).time_limit_seconds
        queue = Queue(app.config["RQ_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]))
        queue.enqueue(
            WORK,
            job_id,
            job_timeout=int(limit) + GRACE_SECONDS,
            result_ttl=3600,
            failure_ttl=24 * 3600,
            description=f"hubrota run {job_id}",
        )
    except Exception as exc:  # Redis down: the run must not stay queued for ever
        with new_session(app) as db:
            job = db.get(Job, job_id)
            job.status, job.finished_at, job.active_key = "failed", utcnow(), None
            job.message = f"the job queue is not reachable: {exc}"
            db.commit()
        raise RunRefused(
            f"The job queue is not reachable ({type(exc).__name__}); nothing was started.", job_id
        ) from None


# ---- the run itself ----------------------------------------------------------------------


@dataclass
class ProgressLog:
    """What the run page shows: the phase, elapsed time, best value and bound of the phase, and
    samples (elapsed, phase number, best, bound) for the chart. Written to the job row at most
    every PROGRESS_WRITE_SECONDS, and at every phase's end."""

    app: Flask
    job_id: int
    phase: str = ""
    phase_number: int = 0
    phases: int = 0
    elapsed: float = 0.0
    best: int | None = None
    bound: int | None = None
    phase_names: dict[int, str] = field(default_factory=dict)
    samples: list[list] = field(default_factory=list)
    _written: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, progress) -> None:
        with self._lock:
            self.phase, self.phase_number, self.phases = (
                progress.phase,
                progress.phase_number,
                progress.phases,
            )
            self.phase_names[progress.phase_number] = progress.phase
            self.elapsed, self.best, self.bound = (
                round(progress.elapsed, 2),
                progress.objective,
                progress.bound,
            )
            self.samples.append(
                [self.elapsed, progress.phase_number, progress.objective, progress.bound]
            )
            if len(self.samples) > MAX_SAMPLES:  # keep the first and every other later one
                self.samples = self.samples[:1] + self.samples[1::2]
            due = progress.done or time.monotonic() - self._written >= PROGRESS_WRITE_SECONDS
        if due:
            self.write()

    def as_dict(self) -> dict:
        gap = None
        if self.best is not None and self.bound is not None:
            gap = round((self.best - self.bound) / max(1, abs(self.best)), 4)
        return {
            "phase": self.phase,
            "phase_number": self.phase_number,
            "phases": self.phases,
            "elapsed": self.elapsed,
            "best": self.best,
            "bound": self.bound,
            "gap": gap,
            "phase_names": {str(k): v for k, v in self.phase_names.items()},
            "samples": self.samples,
        }

    def write(self) -> None:
        with self._lock:
            text = json.dumps(self.as_dict())
            self._written = time.monotonic()
        with new_session(self.app) as db:
            job = db.get(Job, self.job_id)
            job.progress, job.heartbeat_at = text, utcnow()
            db.commit()


class Heartbeat:
    """While a run goes, a thread stamps its job's `heartbeat_at` every `seconds`, so `reap`
    can tell a quiet solve from a dead process. `lost` turns true when the job is no longer
    running (given up for lost meanwhile): the run then stops, and keeps nothing."""

    def __init__(self, app: Flask, job_id: int, seconds: float):
        self.app, self.job_id, self.seconds = app, job_id, seconds
        self.lost = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, daemon=True, name=f"hubrota-heartbeat-{job_id}"
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stopped.set()
        self._thread.join(10)

    def _beat(self) -> None:
        while not self._stopped.wait(self.seconds):
            try:
                with new_session(self.app) as db:
                    alive = db.execute(
                        update(Job)
                        .where(Job.id == self.job_id, Job.status == "running")
                        .values(heartbeat_at=utcnow())
                        .execution_options(synchronize_session=False)
                    ).rowcount
                    db.commit()
            except Exception:  # a busy or restarting database: the next beat tries again
                log.warning("run %s: heartbeat not written", self.job_id, exc_info=True)
                continue
            if not alive:
                log.warning("run %s was given up for lost while it ran: stopping", self.job_id)
                self.lost = True
                return


class CancelFlag:
    """`should_stop` for the solver: the job's cancel flag, read from the database at most
    every CANCEL_POLL_SECONDS (the solver polls every 0.1 s), or the run given up for lost."""

    def __init__(self, app: Flask, job_id: int, heartbeat: Heartbeat | None = None):
        self.app, self.job_id, self.heartbeat = app, job_id, heartbeat
        self._checked = 0.0
        self._stop = False

    def __call__(self) -> bool:
        if self.heartbeat is not None and self.heartbeat.lost:
            return True
        now = time.monotonic()
        if not self._stop and now - self._checked >= CANCEL_POLL_SECONDS:
            self._checked = now
            with new_session(self.app) as db:
                self._stop = bool(
                    db.scalar(select(Job.cancel_requested).where(Job.id == self.job_id))
                )
        return self._stop


@dataclass(frozen=True)
class Outcome:
    status: str  # done | failed | cancelled
    message: str
    rota_id: int | None = None
    detail: dict | None = None


# A cancelled run keeps nothing it found: the current rota stays as it was.
CANCELLED = Outcome("cancelled", "cancelled: nothing was saved")


def execute(app: Flask, job_id: int) -> None:
    """Run a queued job to its end: done, failed or cancelled, with the reason."""
    with app.app_context(), new_session(app) as db:
        now = utcnow()
        taken = db.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.commit()
        if not taken:
            return  # cancelled before it started, or taken by another worker
        job = db.get(Job, job_id)
        progress = ProgressLog(app, job_id)
        with Heartbeat(app, job_id, float(app.config["JOB_HEARTBEAT_SECONDS"])) as heartbeat:
            try:
                outcome = _dispatch(app, db, job, progress, CancelFlag(app, job_id, heartbeat))
            except Exception as exc:  # a job must always end; the log has the traceback
                log.exception("job %s failed", job_id)
                db.rollback()
                outcome = Outcome("failed", f"{type(exc).__name__}: {exc}")
            _end(db, job_id, outcome, progress)


def _end(db, job_id: int, outcome: Outcome, progress: ProgressLog) -> None:
    """Write the run's outcome, with the rota it stored, in one transaction — unless the job
    is no longer running (given up for lost meanwhile): then nothing of it is kept."""
    job = db.get(Job, job_id)
    db.refresh(job)
    values = {
        "status": outcome.status,
        "message": outcome.message,
        "rota_id": outcome.rota_id,
        "progress": json.dumps(progress.as_dict()),
        "finished_at": utcnow(),
        "active_key": None,
    }
    if outcome.detail:
        values["detail"] = json.dumps({**_detail(job), **outcome.detail})
    ended = db.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running")
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not ended:
        db.rollback()
        log.warning(
            "run %s ended (%s) after it was given up (%s): its result is dropped",
            job_id,
            outcome.status,
            job.status,
        )
        return
    db.add(
        AuditEvent(
            federation_id=job.federation_id,
            user_id=job.user_id,
            action="run",
            detail=f"run {job.id} ({job.kind}) {outcome.status}: {outcome.message}",
        )
    )
    db.commit()


def _detail(job: Job) -> dict:
    try:
        return dict(json.loads(job.detail or "{}"))
    except ValueError:
        return {}


def _dispatch(app: Flask, db, job: Job, progress: ProgressLog, should_stop) -> Outcome:
    from web.services.current_rota import current_rota, effective_problem, rota_of

    dataset = current_dataset(db, job.federation_id)
    if dataset is None:
        return Outcome("failed", "no data uploaded yet")
    problem = effective_problem(db, job.federation_id, dataset)
    params = SolveParams(
        time_limit=float(job.time_limit_seconds),
        workers=int(app.config["SOLVER_WORKERS"]),
        progress=progress,
    )
    if job.kind == "absence":
        return _absence_rerun(db, job, dataset, problem, params, should_stop)
    return _optimise(
        db, job, dataset, problem, rota_of(current_rota(db, job.federation_id)), params, should_stop
    )


def _optimise(
    db, job: Job, dataset, problem: Problem, previous, params: SolveParams, should_stop
) -> Outcome:
    from scheduler.solver.rerun import conflicting_pins
    from scheduler.solver.solve import solve
    from web.services.current_rota import problem_to_optimise

    problem = problem_to_optimise(problem, previous)
    result = solve(problem, params, should_stop)
    if should_stop():
        return CANCELLED
    if result.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        if result.status is SolveStatus.INFEASIBLE:
            conflict = conflicting_pins(problem, should_stop=should_stop)
            if conflict is not None:
                return Outcome(
                    "failed",
                    "no rota: these locked pins cannot all be kept: " + conflict.text(),
                    detail={"conflict": list(conflict.reasons)},
                )
        return Outcome("failed", f"no rota: {result.message or result.status.value}")
    return _store(db, job, dataset, problem, result, "optimiser")


def _absence_rerun(
    db, job: Job, dataset, problem: Problem, params: SolveParams, should_stop
) -> Outcome:
    from scheduler.solver.rerun import rerun, with_published
    from web.services.published import rerun_base

    base, base_text = rerun_base(db, job.federation_id, problem)
    problem = with_published(problem, base)
    outcome = rerun(problem, params, should_stop, published=base)
    result = outcome.result
    if should_stop():
        return CANCELLED
    if not outcome.ok:
        if outcome.conflict is not None:
            return Outcome(
                "failed",
                "no rota: these locked pins cannot all be kept: " + outcome.conflict.text(),
                detail={"conflict": list(outcome.conflict.reasons)},
            )
        return Outcome("failed", f"no rota: {result.message or result.status.value}")
    stored = _store(db, job, dataset, problem, result, "absence")
    if stored.rota_id is None:
        return stored
    diff = outcome.diff
    summary = (
        f"re-ran from {base_text}: {diff.changed_places} place(s) changed in "
        f"{len(diff.by_session)} session(s)"
        if diff
        else stored.message
    )
    return Outcome("done", summary, stored.rota_id, {"base": base_text})


def _store(db, job: Job, dataset, problem: Problem, result, source: str) -> Outcome:
    broken = check(problem, result.rota)
    if broken:  # the model and the checker disagree: never store such a rota
        return Outcome("failed", "internal error: " + "; ".join(v.line() for v in broken[:3]))
    row = Rota(
        federation_id=job.federation_id,
        dataset_id=dataset.id,
        created_by_id=job.user_id,
        source=source,
        status=result.status.value,
        objective=result.objective,
        bound=result.bound,
        seconds=round(result.seconds, 2),
        message=result.message,
    )
    row.assignments = [RotaAssignment.of(a) for a in result.rota]
    db.add(row)
    db.flush()
    return Outcome("done", f"{result.status.value}: {len(result.rota)} assignments", row.id)
