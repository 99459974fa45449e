"""Schemathesis over the live OpenAPI schema: every operation, no 5xx, answers match the schema."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth

from portal.roles import Role
from tests.conftest import token_for
from tests.contracts.routes import all_routes
from tests.factories import FACTORIES, OrganizationFactory

_MAX_EXAMPLES = 25


def _schema_reader() -> str:
    """The schema is served to API clients and verified sessions only."""
    return f"Bearer {token_for(OrganizationFactory(), scopes=('accounts:read',)).token}"


def _schema_document(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json", HTTP_AUTHORIZATION=_schema_reader())
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def api_schema(db):
    # Like Django's test client: keep the test's connection (and its transaction) across requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.from_wsgi(
        "/api/schema/", get_wsgi_application(), headers={"Authorization": _schema_reader()}
    )
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.from_pytest_fixture("api_schema")


@pytest.fixture
def bearer(db):
    """A token with every scope for an organization that has one row of every model."""
    from django.conf import settings as django_settings  # noqa: PLC0415

    organization = OrganizationFactory()
    for make in FACTORIES.values():
        make(organization)
    token = token_for(
        organization,
        scopes=tuple(django_settings.OAUTH2_PROVIDER["SCOPES"]),
        roles=(Role.OWNER, Role.GLOBAL_ADMIN, Role.ADMIN_AGENT),
    )
    return f"Bearer {token.token}"


@schema.parametrize()
@settings(
    max_examples=_MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_within_its_schema(case, bearer):
    response = case.call_wsgi(headers={"Authorization": bearer})
    # The token is sent as a plain header, which schemathesis can't strip for its own
    # "auth ignored" probe; test_every_operation_refuses_anonymous_callers covers that instead.
    case.validate_response(response, excluded_checks=(ignored_auth,))


@pytest.mark.django_db
def test_the_schema_and_its_docs_refuse_anonymous_callers(client):
    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 401
    assert client.get("/api/docs/").status_code in (401, 403)
    assert client.get("/api/docs/?script=").status_code in (401, 403)


@pytest.mark.django_db
def test_every_operation_refuses_anonymous_callers(client):
    document = _schema_document(client)
    samples = {"integer": "1", "uuid": str(uuid.uuid4())}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            url = path
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    schema = parameter.get("schema", {})
                    value = samples.get(schema.get("format") or schema.get("type"), "x")
                    url = url.replace("{" + parameter["name"] + "}", value)
            response = getattr(client, method)(url)
            assert response.status_code == 401, f"{method.upper()} {url} -> {response.status_code}"
            assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_every_registered_api_route_is_in_the_schema(client):
    document = _schema_document(client)
    documented = set(document["paths"])
    for route in all_routes():
        if route.is_api:
            path = route.path_for(
                **{name: "{id}" if name == "pk" else "{" + name + "}" for name in route.kwargs}
            )
            assert path in documented, f"{path} is routed but not documented"


def test_the_schema_is_valid_openapi_without_warnings(tmp_path):
    # Client generators refuse an invalid document (e.g. an empty `required` list).
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
