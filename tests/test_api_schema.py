"""The OpenAPI document matches behaviour: schemathesis against ``/api/v1/openapi.json``.

Every operation is called with generated data (bounded, derandomized) as a
member and as an admin; no response may be a server error or disagree with
the documented response schema.
"""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode

from portal.extensions import db as _db
from portal_courses.sync import sync_directory
from tests.conftest import _wipe, make_test_app
from tests.helpers.factories import Factory

pytestmark = pytest.mark.slow

ROLES = ("member1", "admin")
PASSWORD = "pass-1234"
#: per operation, generation mode and run: bounds the whole test to well under a minute here
MAX_EXAMPLES = 10
#: no 5xx; the status is one the operation documents; the body has the documented type and shape
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def tokens(app) -> dict[str, dict[str, str]]:
    """Bearer headers of a member and an admin of the test organization (wiped afterwards).

    With the bundled courses and a care request, small generated ids reach real
    objects, not only 404s. (The full demo would take half a minute to build.)
    """
    with app.app_context():
        Factory(_db).standard_org()
        sync_directory()
        _db.session.commit()
    client = app.test_client()
    headers = {}
    for username in ROLES:
        response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.get_data(as_text=True)
        headers[username] = {"Authorization": f"Bearer {response.json['token']}"}
    filed = client.post("/api/v1/care/requests", headers=headers["member1"], json={
        "category": "wages", "title": "Wages owed", "description": "6800 yuan since March", "where": "host"})
    assert filed.status_code == 201, filed.get_data(as_text=True)
    yield headers
    _wipe(app)


def _failures(operation, tokens: dict[str, dict[str, str]], mode: GenerationMode) -> list[str]:
    """Run one operation's bounded examples; the distinct failures found (empty when it conforms)."""
    found: list[str] = []

    @given(operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        for username in ROLES:
            try:
                case.call_and_validate(headers=tokens[username], checks=CHECKS)
            except FailureGroup as group:
                problems = [f"{failure.title}: {failure.message.strip()[:300]}" for failure in group.exceptions]
            except Failure as failure:
                problems = [f"{failure.title}: {failure.message.strip()[:300]}"]
            except Exception as error:  # noqa: BLE001 - the app's own exception (TESTING propagates it): a 500
                problems = [f"500 {type(error).__name__}: {str(error)[:300]}"]
            else:
                problems = []
            for problem in problems:
                message = f"{operation.label} as {username}: {problem}"
                if message not in found:
                    found.append(message)

    run()
    return found


def test_api_matches_its_openapi_document(app, tokens):
    """No 5xx and no response outside its documented schema, for a member and an admin."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    for result in schema.get_all_operations():
        for mode in GenerationMode:  # valid data, then invalid data (which must be refused with a 4xx)
            failures.extend(_failures(result.ok(), tokens, mode))
    assert not failures, "\n".join(failures)


def _operations(client) -> list[tuple[str, str, dict]]:
    doc = client.get("/api/v1/openapi.json").json
    return [(method, path, operation) for path, operations in doc["paths"].items()
            for method, operation in operations.items()]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture(scope="module")
def csrf_app(tmp_path_factory):
    """An app with CSRF protection on, as in production."""
    app = make_test_app(tmp_path_factory, WTF_CSRF_ENABLED=True)
    with app.app_context():
        _db.create_all()
    return app


def test_unauthenticated_calls_answer_401_whatever_the_body(csrf_app):
    """Not a CSRF 400: an API call acting for nobody is told to authenticate."""
    client = csrf_app.test_client()
    # Operations without an anonymous alternative ({} or an empty list) in their security.
    secured = [(m, p) for m, p, op in _operations(client) if {} not in op.get("security", [{"bearer": []}])
               and op.get("security") != []]
    assert any(m == "post" for m, _p in secured)
    for method, path in secured:
        for body in ({"data": "not json"}, {"json": {}}, {}):
            response = client.open(_concrete(path), method=method.upper(), **body)
            assert response.status_code == 401, (method, path, body, response.status_code)
            assert response.json["error"]["code"] == "unauthorized"


def test_unknown_fields_are_refused_with_their_names(app, tokens):
    """Every documented JSON body is closed, and the API refuses what it does not name (422)."""
    client = app.test_client()
    bodies = [(m, p, op) for m, p, op in _operations(client) if "requestBody" in op]
    assert bodies
    for method, path, operation in bodies:
        if "application/json" not in operation["requestBody"]["content"]:
            continue  # an upload (multipart/form-data): its form fields are read by name, not as a JSON object
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema["additionalProperties"] is False, (method, path)
        if operation.get("security") == []:
            continue
        response = client.open(_concrete(path), method=method.upper(), json={"surprise": 1},
                               headers=tokens["member1"])
        if response.status_code == 404 and "{" in path:
            continue  # no such object in this database: refused before the body is read
        assert response.status_code == 422, (method, path, response.status_code)
        assert response.json["error"]["code"] == "unknown_fields" and "surprise" in response.json["error"]["fields"]
    response = client.post("/api/v1/auth/token", json={"username": "member1", "password": "pass-1234", "x": 1})
    assert response.status_code == 422 and "x" in response.json["error"]["message"]
