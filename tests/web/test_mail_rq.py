"""Mail on RQ: with REDIS_URL set, a publish's messages are queued on the real Redis and a real
`hubrota worker` process sends them to a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from tests.web.conftest import make_app, seed
from tests.web.test_mail import login, smtp  # noqa: F401  (a fixture)
from tests.web.test_publish import publish
from tests.web.test_runs_rq import REDIS_URL, queue_name  # noqa: F401  (a fixture)
from web.db import engine_of, new_session
from web.models import MailMessage
from web.services import mail

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def mail_worker(postgres_url, queue_name, smtp, tmp_path):  # noqa: F811
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "REDIS_URL": REDIS_URL,
        "HUBROTA_SECRET_KEY": "test-secret-of-at-least-32-characters",
        "HUBROTA_RQ_QUEUE": queue_name,
        "HUBROTA_SMTP_URL": smtp.url,
        "HUBROTA_MAIL_FROM": "Hub rota <rota@example.org>",
    }
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:  # pragma: no cover
        process.kill()
        process.wait(10)


def test_a_worker_sends_the_mail_of_a_publish(
    postgres_url,
    queue_name,  # noqa: F811
    mail_worker,
    smtp,  # noqa: F811
    tmp_path,
    tiny_loaded,
):
    app = make_app(
        postgres_url,
        tmp_path,
        REDIS_URL=REDIS_URL,
        RQ_QUEUE=queue_name,
        SMTP_URL=smtp.url,
        MAIL_FROM="Hub rota <rota@example.org>",
    )
    try:
        seed(app, tiny_loaded)
        assert publish(login(app, "manager"), "first rota").status_code == 302
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with new_session(app) as db:
                done = db.scalars(select(MailMessage.status)).all()
            if done and set(done) == {"sent"}:
                break
            time.sleep(0.3)
        assert sorted(done) == ["sent"] * 4
        assert set(smtp.by_recipient()) == {
            "ann@example.test",
            "ben@example.test",
            "cara@example.test",
            "dan@example.test",
        }
        assert not app.extensions[mail.EXTENSION].running  # no thread of the web process sent it
    finally:
        engine_of(app).dispose()
        from tests.web.conftest import _empty_postgres

        _empty_postgres(postgres_url)
