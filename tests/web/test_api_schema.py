"""Schemathesis against the live app, from its own OpenAPI document, on SQLite and on
PostgreSQL: for every operation a few generated requests, valid ones and invalid ones, with a
manager's token; no answer is a 5xx, every answer matches the document, every 4xx is a problem
document. Examples are bounded (MAX_EXAMPLES per operation) so the run costs seconds."""

from __future__ import annotations

import itertools
import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.browsing import served
from tests.web.conftest import _empty_postgres, make_app, seed
from tests.web.test_api import token_of
from web.db import engine_of
from web.services import jobs

MAX_EXAMPLES = 5
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)  # valid requests, and invalid ones


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_api(request, tmp_path_factory, tiny_loaded):
    """The app on a free port of 127.0.0.1, seeded, with a manager's token."""
    folder = tmp_path_factory.mktemp("live")
    if request.param == "sqlite":
        path = folder / "hubrota.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    app = make_app(url, folder, PROPAGATE_EXCEPTIONS=False, API_RATE_LIMITS_OFF=True)
    seed(app, tiny_loaded)
    secret = token_of(app, "manager@north")
    with served(app) as base:
        schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
        schema.config.update(headers={"Authorization": f"Bearer {secret}"}, base_url=base)
        yield schema
    jobs.wait(app, 60)
    engine_of(app).dispose()
    if request.param == "postgresql":
        _empty_postgres(url)


CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _problem_document(response) -> None:
    """Every 4xx and 5xx is an RFC 9457 problem document."""
    if response.status_code < 400:
        return
    content_type = response.headers["content-type"]
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/problem+json"), (
        response.request.method,
        response.url,
        response.status_code,
        content_type,
    )
    body = response.json()
    assert body["status"] == response.status_code
    assert isinstance(body["type"], str) and isinstance(body["title"], str)
    assert isinstance(body["detail"], str) and body["detail"]


def test_the_api_answers_as_its_document_says(live_api):
    operations = [result.ok() for result in live_api.get_all_operations()]
    assert len(operations) >= 25
    for operation, mode in itertools.product(operations, MODES):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def answers(case):
            response = case.call()
            case.validate_response(response, checks=CHECKS)
            _problem_document(response)

        try:
            answers()
        except Unsatisfiable:  # an operation with nothing to send wrong (no parameters)
            assert mode is GenerationMode.NEGATIVE, operation.path
