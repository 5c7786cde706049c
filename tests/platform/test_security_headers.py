"""Security headers on every response: a strict Content-Security-Policy with no inline script, no framing, no MIME
sniffing, a Referrer-Policy, and HSTS in production only."""

from __future__ import annotations

from dataclasses import replace

import pytest
from httpx import AsyncClient

from core.app import create_app
from tests.conftest import DatabaseUnderTest, http_client

pytestmark = pytest.mark.usefixtures("world")

PATHS = ["/t/comm-a/", "/t/comm-a/login", "/t/comm-a/no-such-page", "/api/v1/tenants/comm-a/public/results",
         "/api/v1/me", "/no/such/route", "/static/portal.css", "/health"]


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("path", PATHS)
async def test_every_response_carries_the_security_headers(client: AsyncClient, path: str) -> None:
    response = await client.get(path)
    csp = _directives(response.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers  # a development run is plain HTTP


async def test_production_adds_strict_transport_security(database: DatabaseUnderTest) -> None:
    app = create_app(replace(database.settings, env="production"))
    async with http_client(app) as client:
        response = await client.get("/t/comm-a/")
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


async def test_the_api_docs_page_loads_swagger_ui_from_us_alone_and_is_never_framed(client: AsyncClient) -> None:
    response = await client.get("/schema/swagger")
    assert response.status_code == 200
    csp = _directives(response.headers["content-security-policy"])
    # Its inline start-up script is allowed on /schema alone; no other host may serve it script or styles.
    assert csp["script-src"] == ["'self'", "'unsafe-inline'"] and csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["default-src"] == ["'self'"]
    assert "http" not in response.text.split("<body>")[0]  # script, styles and icon: all from this app

