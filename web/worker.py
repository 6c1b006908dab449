"""`hubrota worker`: an RQ worker that runs the web app's optimiser jobs (`work`).

It needs REDIS_URL, and the same DATABASE_URL and HUBROTA_* settings as the web app: the job
reads its problem from the database and writes its progress and rota back there. Start as many
as there are cores to spare, here or on other machines.

RQ runs each job in a forked work-horse. When that process is killed (SIGKILL, the kernel's
out-of-memory killer), the worker fails the job's run at once, naming the signal; when the
whole worker dies, the run's heartbeat stops and the web app fails it (web.services.jobs.reap).
"""

from __future__ import annotations

import os
import signal
import sys

from flask import Flask
from rq import Worker

from web.services.jobs import WORK


def work(job_id: int) -> None:
    """The RQ entry point, in a `hubrota worker` process: the app from the environment (the
    same DATABASE_URL and HUBROTA_* settings as the web app), then the run."""
    from web import create_app
    from web.db import engine_of
    from web.services.jobs import execute

    app = create_app()
    try:
        execute(app, job_id)
    finally:
        engine_of(app).dispose()


def send_mail(message_id: int) -> str:
    """The RQ entry point of one queued e-mail (web.services.mail.dispatch)."""
    from web import create_app
    from web.db import engine_of
    from web.services.mail import deliver

    app = create_app()
    try:
        return deliver(app, message_id)
    finally:
        engine_of(app).dispose()


class HubrotaWorker(Worker):
    """RQ's worker, which also fails the run of a work-horse that was killed."""

    app: Flask | None = None

    def handle_work_horse_killed(self, job, retpid, ret_val, rusage) -> None:
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        if self.app is None or job.func_name != WORK or not job.args:
            return
        from web.db import engine_of
        from web.services.jobs import fail_lost

        try:
            fail_lost(
                self.app,
                int(job.args[0]),
                "interrupted: " + killed_text(ret_val) + "; nothing was saved",
            )
        except Exception:  # the database is away: the web app's heartbeat check fails it later
            self.log.exception("run %s: could not record its work-horse's end", job.args[0])
        finally:
            engine_of(self.app).dispose()  # no connection of this process is forked on


def killed_text(status: int | None) -> str:
    """How the work-horse ended, from its wait status: 'its worker process was killed
    (SIGKILL)'."""
    if status is not None and os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"its worker process was killed ({name})"
    code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else status
    return f"its worker process stopped (exit status {code})"


def run_worker(queue: str | None = None, burst: bool = False, name: str | None = None) -> int:
    url = os.environ.get("REDIS_URL") or os.environ.get("HUBROTA_REDIS_URL")
    if not url:
        print("hubrota worker needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)", file=sys.stderr)
        return 2
    from redis import Redis
    from rq import Queue

    from web import create_app
    from web.db import engine_of

    app = create_app()  # migrates the database and checks the settings before taking jobs
    queue_name = queue or app.config.get("RQ_QUEUE") or "hubrota"
    engine_of(app).dispose()  # each job opens its own (the worker forks per job)
    connection = Redis.from_url(url)
    print(f"hubrota worker on queue {queue_name!r}{' (burst)' if burst else ''}", file=sys.stderr)
    worker = HubrotaWorker(
        [Queue(queue_name, connection=connection)], connection=connection, name=name
    )
    worker.app = app
    worker.work(burst=burst, with_scheduler=False)
    return 0
