"""Schemathesis over every operation of the served schema (/schema/openapi.json): each answer must be one the
schema documents — its status, its content type, its headers and its body's shape — and never a 5xx.

The app under test is one of its own (`create_app` on the database under test), run in Schemathesis' ASGI
thread; the small world of tests/conftest.py is loaded into that database first, and every call is made as a
platform administrator (who may read and change most things), the tenant in the path being a real one most of
the time, so that answers are more than 404s. A few examples per operation, drawn deterministically.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from httpx import AsyncClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.app import create_app
from core.concerns.models import CHANNELS
from core.inputs import TEXT_CAP
from core.publishing.opendata import OpenRates
from core.timelimits.models import URGENCIES
from tests.conftest import Auth, DatabaseUnderTest

pytestmark = pytest.mark.usefixtures("world")

EXAMPLES = 3  # per operation: 167 operations × 2 backends in a few minutes on a busy 2-core machine
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
TENANTS = ["comm-a", "district-a", "city-a", "no-such-tenant"]  # with and without plugins, and none at all
# Signing out ends the token every other call uses: those run last (their answers are still checked).
LAST = re.compile(r"/(logout|erase|sign-out-others)$")


@pytest.fixture
def served(database: DatabaseUnderTest) -> Litestar:
    """An app of its own: Schemathesis runs it on its own event loop, which the suite's shared app's pooled
    connections cannot cross."""
    return create_app(database.settings)


def _operations(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(found, key=lambda operation: (bool(LAST.search(operation.path)), operation.path, operation.method))


def _check(operation: Any, headers: dict[str, str]) -> str | None:
    """The first failure of one operation's examples, or None."""
    strategy = operation.as_strategy()
    tenant = st.sampled_from(TENANTS)

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy, slug=tenant)
    def run(case: Any, slug: str) -> None:
        if "slug" in (case.path_parameters or {}):
            case.path_parameters["slug"] = slug
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except (Exception, ExceptionGroup) as failure:  # a check's failures, with the request that caused them
        return f"{operation.method.upper()} {operation.path}: {failure}"[:3000]
    return None


async def test_every_operation_answers_as_its_schema_says(served: Litestar, auth: Auth) -> None:
    headers = await auth("admin")
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", served)
    operations = _operations(schema)
    assert len(operations) > 150  # the whole API is served, plugins' routes too
    failures = [failure for operation in operations if (failure := _check(operation, headers))]
    assert not failures, f"{len(failures)} operations disagree with the schema:\n\n" + "\n\n".join(failures)


async def test_the_schema_tells_the_truth_about_refusals_sign_in_and_open_data(client: AsyncClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    operations = {(method, path): operation for path, item in schema["paths"].items()
                  for method, operation in item.items() if method in ("get", "post", "put", "patch", "delete")}
    problem = {"$ref": "#/components/schemas/Problem"}
    for (method, path), operation in operations.items():
        if path.startswith("/open311/"):
            continue  # Open311 answers refusals in its spec's error list, documented by its controller
        for status in ("400", "401", "403", "404", "409", "422"):
            assert operation["responses"][status]["content"]["application/problem+json"]["schema"] == problem, (
                method, path, status)
    assert "errors" in schema["components"]["schemas"]["Problem"]["properties"]
    # No sign-in: the public routes, the probes; a member's route still needs the token.
    assert operations[("post", "/api/v1/auth/token")]["security"] == []
    assert operations[("get", "/api/v1/tenants/{slug}/public/results")]["security"] == []
    assert operations[("get", "/health")]["security"] == []
    assert "security" not in operations[("get", "/api/v1/me")] and schema["security"] == [{"BearerToken": []}]
    # The open-data files: each format what it is, the JSON one with its rows typed.
    rates = operations[("get", "/api/v1/tenants/{slug}/public/open-data/rates.json")]["responses"]["200"]["content"]
    document = schema["components"]["schemas"][rates["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    row = schema["components"]["schemas"][document["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[-1]]
    assert set(row["properties"]) == set(OpenRates.__struct_fields__)
    csv = operations[("get", "/api/v1/tenants/{slug}/public/open-data/rates.csv")]["responses"]["200"]["content"]
    assert list(csv) == ["text/csv"]
    # The codes a service accepts are the ones the schema lists.
    concern = schema["components"]["schemas"]["ConcernCreate"]["properties"]
    assert concern["channel"]["enum"] == list(CHANNELS) and concern["urgency"]["enum"] == list(URGENCIES)
    # Every successful JSON answer says its shape (a bare Response would be documented as `{}`); the one exception
    # is the personal-data export, a document of whatever a person's rows hold.
    shapeless = [(method, path) for (method, path), operation in operations.items()
                 for status, answer in operation["responses"].items() if status.startswith("2")
                 for media_type, body in answer.get("content", {}).items()
                 if "json" in media_type and not ({"$ref", "properties", "items", "oneOf", "anyOf"} & set(body["schema"]))
                 and body["schema"].get("type") not in ("string", "integer", "number", "boolean")
                 and not body["schema"].get("additionalProperties")]  # a map of typed values says its shape
    assert shapeless == [("get", "/api/v1/me/data")], shapeless
    # And the caps every input gets (core.inputs) where the declaration leaves a field open; a declared one stays.
    assert concern["description"]["maxLength"] == TEXT_CAP and concern["title"]["maxLength"] == 120
    assert concern["place"]["maxLength"] == 200 and "maxLength" not in concern["place"]["oneOf"][0]


async def test_a_code_outside_the_listed_ones_is_refused_as_documented(client: AsyncClient, auth: Auth) -> None:
    body = {"title": "路灯坏了", "description": "三号楼前", "category": "facilities", "channel": "fax"}
    response = await client.post("/api/v1/tenants/comm-a/concerns", json=body, headers=await auth("grid"))
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert "channel" in {error["field"] for error in response.json()["errors"]}
