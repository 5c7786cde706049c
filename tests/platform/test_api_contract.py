"""The API as clients see it: documented in OpenAPI, every tenant route authorized, never a 500 for input."""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from tests.conftest import Auth

EXPECTED_PATHS = {
    "/health", "/ready", "/api/v1/auth/token", "/api/v1/me", "/api/v1/tenants", "/api/v1/tenants/{slug}",
    "/api/v1/tenants/{slug}/children", "/api/v1/tenants/{slug}/descendants", "/api/v1/tenants/{slug}/members",
    "/api/v1/tenants/{slug}/members/{username}/{role}", "/api/v1/tenants/{slug}/compounds",
    "/api/v1/tenants/{slug}/compounds/{compound_id}", "/api/v1/tenants/{slug}/compounds/{compound_id}/buildings",
    "/api/v1/tenants/{slug}/compounds/{compound_id}/buildings/{building_id}", "/api/v1/tenants/{slug}/residents",
    "/api/v1/tenants/{slug}/residents/{user_id}/confirm",
    "/api/v1/tenants/{slug}/public/privacy", "/api/v1/tenants/{slug}/public/verification-codes",
    "/api/v1/tenants/{slug}/public/join", "/api/v1/auth/code-token", "/api/v1/auth/password-reset",
    "/api/v1/me/password", "/api/v1/me/phone", "/api/v1/me/phone/verification-codes", "/api/v1/me/sign-ins",
    "/api/v1/me/sign-out-others", "/api/v1/tenants/{slug}/time-limits",
    "/api/v1/tenants/{slug}/members/{username}", "/api/v1/tenants/{slug}/invitations",
    "/api/v1/tenants/{slug}/invitations/{invitation_id}", "/api/v1/tenants/{slug}/public/invitations/{token}",
    "/api/v1/tenants/{slug}/public/invitations/{token}/accept", "/api/v1/tenants/{slug}/public/concerns",
    "/api/v1/tenants/{slug}/concerns/{concern_id}/revisit", "/api/v1/tenants/{slug}/concerns/{concern_id}/revisits",
    "/api/v1/tenants/{slug}/rates", "/api/v1/tenants/{slug}/rates/ranking", "/api/v1/tenants/{slug}/public/rates",
    "/api/v1/tenants/{slug}/public/open-data/rates.csv", "/api/v1/tenants/{slug}/public/open-data/rates.xlsx",
    "/api/v1/tenants/{slug}/concerns/{concern_id}/pause", "/api/v1/tenants/{slug}/concerns/{concern_id}/resume",
    "/api/v1/tenants/{slug}/concerns/{concern_id}/extensions", "/api/v1/tenants/{slug}/extensions",
    "/api/v1/tenants/{slug}/extensions/{extension_id}/decision",
    "/api/v1/tenants/{slug}/concerns/{concern_id}/merge", "/api/v1/tenants/{slug}/concerns/{concern_id}/unmerge",
    "/api/v1/tenants/{slug}/concerns/{concern_id}/related",
    "/api/v1/tenants/{slug}/concerns/similar", "/api/v1/tenants/{slug}/concerns/{concern_id}/support",
    "/api/v1/tenants/{slug}/topics/suggestions",
    "/api/v1/tenants/{slug}/related/hot",
    "/api/v1/tenants/{slug}/cppcc/topics/{topic_id}/report.pdf",
}


async def test_every_route_is_in_the_openapi_schema(client: AsyncClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert set(schema["paths"]) >= EXPECTED_PATHS
    assert "BearerToken" in str(schema["components"].get("securitySchemes", {}))


def _tenant_routes(app: Litestar) -> list[tuple[str, HTTPRouteHandler]]:
    return [
        (route.path, handler)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if route.path.startswith("/api/v1/tenants/{slug") and handler.http_methods != {"OPTIONS"}
    ]


def test_every_tenant_route_declares_the_action_it_needs(app: Litestar) -> None:
    actions = app.state.authorizer.actions
    routes = _tenant_routes(app)
    assert len(routes) >= 30
    for path, handler in routes:
        if path.startswith("/api/v1/tenants/{slug:str}/public/"):
            assert handler.opt.get("exclude_from_auth") is True, handler
        else:
            assert handler.opt.get("action") in actions, handler


BAD_BODIES = [b"", b"{", b"[]", b'"text"', b"{}", b'{"slug": null, "name": [], "kind": 1}', "{\"名\": \"值\"}".encode()]
NO_SUCH = "00000000-0000-4000-8000-000000000000"  # a well-formed id nothing has
WRITE_ROUTES = [
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/tenants"),
    ("PATCH", "/api/v1/tenants/comm-a"),
    ("POST", "/api/v1/tenants/comm-a/members"),
    ("POST", "/api/v1/tenants/comm-a/compounds"),
    ("POST", "/api/v1/tenants/comm-a/compounds/{compound}/buildings"),
    ("PATCH", "/api/v1/tenants/comm-a/compounds/{compound}"),
    ("PATCH", "/api/v1/tenants/comm-a/compounds/{compound}/buildings/{building}"),
    ("POST", "/api/v1/tenants/comm-a/residents/{resident}/confirm"),
    ("POST", "/api/v1/tenants/comm-a/public/verification-codes"),
    ("POST", "/api/v1/tenants/comm-a/public/join"),
    ("POST", "/api/v1/tenants/comm-a/public/concerns"),
    ("POST", "/api/v1/auth/code-token"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/me/password"),
    ("PATCH", "/api/v1/me"),
    ("POST", "/api/v1/me/phone/verification-codes"),
    ("POST", "/api/v1/me/phone"),
    ("PUT", "/api/v1/tenants/comm-a/time-limits"),
    ("PATCH", "/api/v1/tenants/comm-a/members/grid"),
    ("POST", "/api/v1/tenants/comm-a/invitations"),
    ("POST", "/api/v1/tenants/comm-a/public/invitations/no-such-token/accept"),
    ("POST", "/api/v1/tenants/comm-a/concerns/{concern}/revisit"),
    ("POST", f"/api/v1/tenants/comm-a/concerns/{NO_SUCH}/pause"),
    ("POST", f"/api/v1/tenants/comm-a/concerns/{NO_SUCH}/resume"),
    ("POST", f"/api/v1/tenants/comm-a/concerns/{NO_SUCH}/extensions"),
    ("POST", f"/api/v1/tenants/street-a/extensions/{NO_SUCH}/decision"),
    ("POST", "/api/v1/tenants/comm-a/concerns/{concern}/merge"),
    ("POST", f"/api/v1/tenants/comm-a/concerns/{NO_SUCH}/unmerge"),
    ("POST", "/api/v1/tenants/comm-a/concerns/similar"),
    ("POST", f"/api/v1/tenants/comm-a/concerns/{NO_SUCH}/support"),
    ("DELETE", f"/api/v1/tenants/comm-a/concerns/{NO_SUCH}/support"),
]


@pytest.mark.usefixtures("world")
async def test_garbage_input_is_a_4xx_problem_never_a_500(client: AsyncClient, auth: Auth) -> None:
    headers = {**await auth("admin"), "content-type": "application/json"}
    compound, building = next((c["id"], c["buildings"][0]["id"]) for c in (await client.get(
        "/api/v1/tenants/comm-a/compounds", headers=headers)).json())
    resident = next(r["user_id"] for r in (await client.get(
        "/api/v1/tenants/comm-a/residents", headers=headers)).json()["items"] if r["user"] == "resident")
    for method, path in WRITE_ROUTES:
        for body in BAD_BODIES:
            if method == "PATCH" and body == b"{}":
                continue  # an empty PATCH is a valid no-op
            response = await client.request(method, path.format(compound=compound, building=building, resident=resident,
                                                                 concern=uuid.uuid4()), content=body, headers=headers)
            assert 400 <= response.status_code < 500, (method, path, body, response.status_code, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "Traceback" not in response.text
    for path in ("/api/v1/tenants/comm-a/compounds/not-a-uuid", f"/api/v1/tenants/{'x' * 300}",
                 "/api/v1/tenants/comm-a/children?limit=abc", "/api/v1/tenants/comm-a/children?offset=-1",
                 f"/api/v1/tenants/comm-a/compounds/{uuid.uuid4()}"):
        response = await client.get(path, headers=headers)
        assert 400 <= response.status_code < 500, (path, response.status_code)
