"""`hubrota worker`: an RQ worker that runs the web app's optimiser jobs (web.jobs.work).

It needs REDIS_URL, and the same DATABASE_URL and HUBROTA_* settings as the web app: the job
reads its problem from the database and writes its progress and rota back there. Start as many
as there are cores to spare, here or on other machines.
"""

from __future__ import annotations

import os
import sys


def run_worker(queue: str | None = None, burst: bool = False, name: str | None = None) -> int:
    url = os.environ.get("REDIS_URL") or os.environ.get("HUBROTA_REDIS_URL")
    if not url:
        print("hubrota worker needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)", file=sys.stderr)
        return 2
    from redis import Redis
    from rq import Queue, Worker

    from web import create_app
    from web.db import engine_of

    app = create_app()  # migrates the database and checks the settings before taking jobs
    queue_name = queue or app.config.get("RQ_QUEUE") or "hubrota"
    engine_of(app).dispose()  # each job opens its own (the worker forks per job)
    connection = Redis.from_url(url)
    print(f"hubrota worker on queue {queue_name!r}{' (burst)' if burst else ''}",
          file=sys.stderr)
    worker = Worker([Queue(queue_name, connection=connection)], connection=connection,
                    name=name)
    worker.work(burst=burst, with_scheduler=False)
    return 0
