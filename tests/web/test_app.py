"""The application factory, its configuration, the migrations and the demo."""

from __future__ import annotations

from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select

from scheduler.cli import _parser
from tests.web.conftest import TINY, Client
from web import create_app
from web.db import alembic_config, database_url, engine_of
from web.models import Base, Rota
from web.services import jobs
from web.services.demo import clinician_link, files_of, load_demo, open_request


def test_config_from_environment_then_test_config(monkeypatch, tmp_path):
    """DATABASE_URL and HUBROTA_* variables configure the app; test_config wins over both."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    monkeypatch.setenv("HUBROTA_SOLVER_WORKERS", "3")
    monkeypatch.setenv("HUBROTA_DEFAULT_TIME_LIMIT", "7")
    app = create_app({"DEFAULT_TIME_LIMIT": 9, "SECRET_KEY": "s" * 32})
    assert app.config["DATABASE_URL"].endswith("env.sqlite")
    assert app.config["SOLVER_WORKERS"] == 3
    assert app.config["DEFAULT_TIME_LIMIT"] == 9
    assert (tmp_path / "env.sqlite").exists()
    engine_of(app).dispose()


def test_postgres_urls_use_psycopg():
    """postgres:// and postgresql:// URLs both go through the psycopg 3 driver."""
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


def test_schema_is_at_the_newest_migration_and_matches_the_models(app):
    """Start-up migrated the database to head, and the models need no further migration."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine_of(app).connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == head
        assert compare_metadata(context, Base.metadata) == []


def test_serve_command_is_registered():
    """`hubrota serve --demo --host H --port P` parses into the serve command."""
    args = _parser().parse_args(["serve", "--demo", "--host", "0.0.0.0", "--port", "8123"])
    assert (args.demo, args.host, args.port) == (True, "0.0.0.0", 8123)
    assert args.run.__module__ == "web.plugin"


def test_demo_loads_the_data_users_and_a_first_rota(app):
    """The demo saves the sample as version 1, adds the three logins and solves a first rota."""
    users = (
        ("coordinator@demo", "coordinator"),
        ("manager@demo", "manager"),
        ("admin@demo", "admin"),
    )
    load_demo(app, TINY, "demo password 1", users, time_limit=3)
    jobs.wait(app, 60)
    with app.app_context():
        from web.db import new_session

        with new_session(app) as db:
            assert db.scalar(select(Rota)) is not None
    for email, _ in users:
        c = Client(app.test_client())
        assert c.login(email, "demo password 1").location == "/f/demo/"
    page = c.get("/f/demo/rota/").get_data(as_text=True)
    assert "Ann Able" in page
    name, link = clinician_link(app, "http://127.0.0.1:5000")
    assert name == "Ann Able" and link.startswith("http://127.0.0.1:5000/feeds/")
    own = c.get(link.removeprefix("http://127.0.0.1:5000")).get_data(as_text=True)
    assert "My calendar" in own and "No e-mail, please" in own
    first, last, closes = open_request(app)
    assert (first, last) == (date(2027, 3, 1), date(2027, 3, 14)) and closes <= last
    own = c.get(link.removeprefix("http://127.0.0.1:5000")).get_data(as_text=True)
    assert "Mark my availability" in own


def test_sample_workbook_and_folder_give_the_same_files():
    """The demo reads data/sample.xlsx or data/sample/ into the same stored CSV files."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "data"
    if not (root / "sample.xlsx").exists():
        return
    from web.services.problems import parse_files

    book, labels = files_of(root / "sample.xlsx")
    folder, _ = files_of(root / "sample")
    assert labels["clinicians.csv"] == "sample.xlsx[clinicians]"
    a, b = parse_files(book).problem, parse_files(folder).problem
    assert (len(a.sessions), len(a.clinicians)) == (len(b.sessions), len(b.clinicians))
    assert a.availability == b.availability


def test_security_headers_and_error_pages(app, seeded, as_role):
    """Responses carry a content security policy; errors use the app's own layout."""
    c = as_role("coordinator")
    page = c.get("/f/north/")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    missing = c.get("/f/north/rota/clinician/NOBODY")
    assert missing.status_code == 404
    assert "There is no such page here." in missing.get_data(as_text=True)
    forbidden = c.get("/f/north/settings")
    assert forbidden.status_code == 403 and "Your role does not allow this" in forbidden.get_data(
        as_text=True
    )


def test_a_run_left_by_a_dead_process_does_not_block_optimise(app, seeded, as_role):
    """A job still marked running long after its time limit no longer counts as running."""
    from datetime import timedelta

    from web.db import new_session
    from web.models import Job, utcnow
    from web.services.jobs import running_job

    with new_session(app) as db:
        db.add(
            Job(
                federation_id=seeded.north,
                status="running",
                time_limit_seconds=3,
                created_at=utcnow() - timedelta(hours=1),
            )
        )
        db.commit()
        assert running_job(db, seeded.north) is None
    assert as_role("manager").post("/f/north/runs/optimise").status_code == 302
    jobs.wait(app, 60)
    with new_session(app) as db:
        statuses = sorted(j.status for j in db.scalars(select(Job)))
    assert statuses == ["done", "failed"]
