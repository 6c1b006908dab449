"""Fixtures of the web tests: an app on SQLite and on PostgreSQL, seeded federations, clients.

Every app test runs twice, once per database. PostgreSQL is the real server on this machine
(127.0.0.1:5432, user postgres); each run makes a database of its own and drops it at the end,
and each test leaves the tables empty for the next.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from web import create_app
from web.db import engine_of, make_engine, migrate, new_session
from web.models import Base, Dataset, DatasetFile, Federation, Rota, RotaAssignment
from web.services import jobs
from web.services.accounts import create_user
from web.services.problems import parse_files, remember

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny"
PASSWORD = "correct horse battery"
POSTGRES_ADMIN_URL = os.environ.get(
    "HUBROTA_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

# The hand-made rota of the tests (valid: the checker finds nothing): C1's locked pin comes from
# assignments.csv; H1 on Mon 8 Mar and H2 on Thu 11 Mar stay empty.
HAND_ROTA = (
    ("H1-20270301-1830-2000", 0, "C1", True),
    ("H2-20270302-1830-2000", 0, "C2", False),
    ("H1-20270303-1830-2000", 0, "C1", False),
    ("H2-20270304-1830-2000", 0, "C4", False),
    ("H1-20270306-0900-1300", 0, "C3", False),
)


def tiny_files() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(TINY.iterdir())}


@pytest.fixture(scope="session")
def tiny_loaded():
    """The tiny federation parsed once for the whole run."""
    return parse_files(tiny_files())


# ---- databases --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An SQLite file migrated once; each test starts from a copy."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A database of this run's own on the real PostgreSQL server, migrated once."""
    name = f"hubrota_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - the machine's server must be up
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not usable: {exc}")
    # Commits need not wait for the disk in a throw-away database: much faster tests.
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}?options=-csynchronous_commit%3Doff"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    """Delete every row (quicker than TRUNCATE for tables this small)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each app test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "hubrota.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    _empty_postgres(url)


def make_app(database_url: str, instance: Path, **extra):
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "SOLVER_WORKERS": 1,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # tests send many requests without a token from 127.0.0.1 on purpose; the limit itself
        # is tested with its own settings (tests/web/test_api.py)
        "API_AUTH_FAILURE_LIMIT": "10000 per minute",
    }
    config.update(extra)
    app = create_app(config)
    app.instance_path = str(instance)
    return app


@pytest.fixture
def app(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    yield app
    jobs.wait(app, 60)
    engine_of(app).dispose()


# ---- seeded data ------------------------------------------------------------------------


@dataclass
class Seed:
    north: int
    south: int
    north_dataset: int
    south_dataset: int
    north_draft: int
    south_draft: int
    users: dict[str, int]  # email → id


def seed(app, tiny_loaded, rota: bool = True) -> Seed:
    """Two federations with the tiny data as version 1, a hand-made rota, a pending draft, and
    a coordinator, manager and admin each (emails role@north, role@south)."""
    ids: dict[str, int] = {}
    made: dict[str, tuple[int, int, int]] = {}
    with app.app_context(), new_session(app) as db:
        for slug, name in (("north", "North Federation"), ("south", "South Federation")):
            federation = Federation(slug=slug, name=name, time_limit_seconds=3)
            db.add(federation)
            db.flush()
            for role in ("coordinator", "manager", "admin"):
                user = create_user(
                    db,
                    federation=federation,
                    email=f"{role}@{slug}",
                    password=PASSWORD,
                    role=role,
                    name=f"{role.title()} {slug}",
                )
                db.flush()
                ids[user.email] = user.id
            dataset = Dataset(federation_id=federation.id, version=1, note="seed")
            dataset.files = [DatasetFile(name=n, content=t) for n, t in tiny_files().items()]
            draft = Dataset(federation_id=federation.id, version=None, note="draft")
            draft.files = [DatasetFile(name=n, content=t) for n, t in tiny_files().items()]
            db.add_all([dataset, draft])
            db.flush()
            if rota:
                row = Rota(federation_id=federation.id, dataset_id=dataset.id, source="manual")
                row.assignments = [
                    RotaAssignment(session_id=s, post_index=i, clinician_id=c, locked=locked)
                    for s, i, c, locked in HAND_ROTA
                ]
                db.add(row)
            made[slug] = (federation.id, dataset.id, draft.id)
        db.commit()
        for _, dataset_id, draft_id in made.values():
            remember(dataset_id, tiny_loaded)
            remember(draft_id, tiny_loaded)
    return Seed(
        made["north"][0],
        made["south"][0],
        made["north"][1],
        made["south"][1],
        made["north"][2],
        made["south"][2],
        ids,
    )


@pytest.fixture
def seeded(app, tiny_loaded) -> Seed:
    return seed(app, tiny_loaded)


# ---- clients ----------------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


class Client:
    """A test client that logs in and sends the CSRF token with its forms."""

    def __init__(self, flask_client):
        self.http = flask_client

    def token(self) -> str:
        page = self.http.get("/login")
        if page.status_code == 302:
            page = self.http.get(page.location)
        return _TOKEN.search(page.get_data(as_text=True)).group(1)

    def login(self, email: str, password: str = PASSWORD):
        response = self.http.post(
            "/login", data={"email": email, "password": password, "csrf_token": self.token()}
        )
        assert response.status_code in (302, 401, 429), response.status_code
        return response

    def get(self, url: str, **kwargs):
        return self.http.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return self.http.post(url, data=data, **kwargs)


@pytest.fixture
def client(app) -> Client:
    return Client(app.test_client())


@pytest.fixture
def as_role(app, seeded):
    """as_role('manager') → a client logged in as manager@north."""

    def login(role: str, federation: str = "north") -> Client:
        c = Client(app.test_client())
        assert c.login(f"{role}@{federation}").status_code == 302
        return c

    return login


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (the test tool's own browser download does not
    work here); one per test module."""
    from tests.web.browsing import ARGS, CHROMIUM

    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: scripts/test.sh installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()
