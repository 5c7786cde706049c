"""Signing in: tokens, the current user, and throttling that never reveals whether an account exists."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import replace

import jwt
import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.accounts.services import mask_phone
from core.app import create_app
from tests.conftest import PASSWORD, Auth, DatabaseUnderTest, http_client

pytestmark = pytest.mark.usefixtures("world")


async def test_token_is_a_jwt_with_expiry_audience_and_user(client: AsyncClient, app: Litestar) -> None:
    response = await client.post("/api/v1/auth/token", json={"username": "cstaff", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    settings = app.state.settings
    claims = jwt.decode(body["access_token"], settings.secret_key, algorithms=["HS256"],
                        audience=settings.token_audience)
    assert uuid.UUID(claims["sub"])
    assert claims["exp"] > datetime.datetime.now(datetime.UTC).timestamp()


async def test_wrong_password_and_unknown_user_answer_alike(client: AsyncClient) -> None:
    wrong = await client.post("/api/v1/auth/token", json={"username": "cstaff", "password": "wrong-password"})
    ghost = await client.post("/api/v1/auth/token", json={"username": "nobody", "password": "wrong-password"})
    assert wrong.status_code == ghost.status_code == 401
    assert wrong.json() == ghost.json()


async def test_me_lists_roles_per_tenant(client: AsyncClient, auth: Auth) -> None:
    me = (await client.get("/api/v1/me", headers=await auth("cstaff"))).json()
    assert me["username"] == "cstaff" and me["platform_admin"] is False
    assert me["tenants"] == [{"tenant": "comm-a", "tenant_name": "甲社区", "kind": "community",
                              "roles": ["community_staff"]}]
    admin = (await client.get("/api/v1/me", headers=await auth("admin"))).json()
    assert admin["platform_admin"] is True and admin["tenants"] == []


async def test_a_token_for_another_audience_or_expired_is_401(client: AsyncClient, app: Litestar,
                                                              auth: Auth) -> None:
    me = (await client.get("/api/v1/me", headers=await auth("cstaff"))).json()
    secret = app.state.settings.secret_key
    now = datetime.datetime.now(datetime.UTC)
    foreign = jwt.encode({"sub": me["id"], "aud": "someone-else", "exp": now + datetime.timedelta(hours=1),
                          "iat": now}, secret, algorithm="HS256")
    expired = jwt.encode({"sub": me["id"], "aud": app.state.settings.token_audience,
                          "exp": now - datetime.timedelta(minutes=1), "iat": now - datetime.timedelta(hours=1)},
                         secret, algorithm="HS256")
    for token in (foreign, expired):
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


async def test_a_deactivated_user_is_refused_on_the_next_request(client: AsyncClient, auth: Auth,
                                                                 session: AsyncSession) -> None:
    headers = await auth("cstaff")
    assert (await client.get("/api/v1/tenants/comm-a", headers=headers)).status_code == 200
    await session.execute(update(User).where(User.username == "cstaff").values(active=False))
    await session.commit()
    assert (await client.get("/api/v1/tenants/comm-a", headers=headers)).status_code == 401
    login = await client.post("/api/v1/auth/token", json={"username": "cstaff", "password": PASSWORD})
    assert login.status_code == 401


async def _attempts(database: DatabaseUnderTest, attempts: list[tuple[str, str]]) -> list[int]:
    app = create_app(replace(database.settings, login_max_failures=3))
    async with http_client(app) as client:
        return [
            (await client.post("/api/v1/auth/token", json={"username": u, "password": p})).status_code
            for u, p in attempts
        ]


@pytest.mark.parametrize("username", ["cstaff", "nobody"])
async def test_repeated_failures_are_throttled_whether_or_not_the_account_exists(
        database: DatabaseUnderTest, username: str) -> None:
    codes = await _attempts(database, [(username, "bad-password")] * 4)
    assert codes == [401, 401, 401, 429]


async def test_a_throttled_account_waits_even_with_the_right_password(database: DatabaseUnderTest) -> None:
    codes = await _attempts(database, [("cstaff", "bad-password")] * 3 + [("cstaff", PASSWORD)])
    assert codes == [401, 401, 401, 429]
    app = create_app(replace(database.settings, login_max_failures=3))
    async with http_client(app) as other:
        blocked = await other.post("/api/v1/auth/token", json={"username": "cstaff", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "分钟后再试" in blocked.json()["detail"]


async def test_one_address_guessing_many_names_is_throttled(database: DatabaseUnderTest) -> None:
    codes = await _attempts(database, [("dadmin", "x" * 9), ("sstaff", "x" * 9), ("nobody", "x" * 9),
                                       ("grid", PASSWORD)])
    assert codes == [401, 401, 401, 429]


def test_phone_numbers_are_masked_to_the_first_three_and_last_four() -> None:
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone(None) is None
