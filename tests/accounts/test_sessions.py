"""Signing out ends the session at once: the bearer token and the portal cookie issued before stop working."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.conftest import PASSWORD
from tests.helpers import sign_in, submit

pytestmark = pytest.mark.usefixtures("world")


async def _token(client: AsyncClient, username: str) -> dict[str, str]:
    answer = await client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_signing_out_revokes_the_bearer_token_at_once(client: AsyncClient) -> None:
    headers = await _token(client, "cstaff")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/tenants/comm-a/members", headers=headers)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    for path in ("/api/v1/me", "/api/v1/tenants/comm-a", "/api/v1/tenants/comm-a/members"):
        assert (await client.get(path, headers=headers)).status_code == 401, path
    again = await client.post("/api/v1/auth/logout", headers=headers)
    assert again.status_code == 401 and again.json()["detail"] == "已退出登录，请重新登录"
    fresh = await _token(client, "cstaff")
    assert (await client.get("/api/v1/me", headers=fresh)).status_code == 200


async def test_a_signed_out_admin_cannot_open_a_top_level_tenant(client: AsyncClient) -> None:
    headers = await _token(client, "admin")
    await client.post("/api/v1/auth/logout", headers=headers)
    answer = await client.post("/api/v1/tenants", headers=headers,
                               json={"slug": "city-c", "name": "丙市", "kind": "city"})
    assert answer.status_code == 401


async def test_signing_out_of_the_portal_voids_the_old_cookie_and_the_users_tokens(client: AsyncClient) -> None:
    headers = await _token(client, "cstaff")
    await sign_in(client, "comm-a", "cstaff")
    cookie = client.cookies["yishi_session"]
    assert (await client.get("/t/comm-a/staff/inbox")).status_code == 200
    out = await submit(client, "/t/comm-a/me", "/t/comm-a/logout", {})
    assert out.status_code == 303
    client.cookies.set("yishi_session", cookie)  # a copy of the cookie kept from before signing out
    replayed = await client.get("/t/comm-a/staff/inbox")
    assert replayed.status_code == 302 and "/t/comm-a/login" in replayed.headers["location"]
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_signing_out_through_the_api_ends_the_portal_session_too(client: AsyncClient) -> None:
    await sign_in(client, "comm-a", "cstaff")
    assert (await client.get("/t/comm-a/staff/inbox")).status_code == 200
    headers = await _token(client, "cstaff")
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/t/comm-a/staff/inbox")).status_code == 302
