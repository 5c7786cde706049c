"""Signing in: tokens, the current user, and throttling that never reveals whether an account exists."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import jwt
import pytest
from httpx import AsyncClient, Response
from litestar import Litestar
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import User
from core.accounts.services import mask_phone
from core.app import create_app
from core.clock import Stopped, frozen
from core.http import verified_token
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


async def test_a_token_the_process_verified_is_refused_once_it_expires(client: AsyncClient, app: Litestar,
                                                                         auth: Auth) -> None:
    """Each process keeps the tokens it verified (`core.http.verified_token`): a kept one still expires on time."""
    me = (await client.get("/api/v1/me", headers=await auth("cstaff"))).json()
    now = datetime.datetime.now(datetime.UTC)
    soon = now.replace(microsecond=0) + datetime.timedelta(seconds=2)
    token = jwt.encode({"sub": me["id"], "aud": app.state.settings.token_audience, "exp": soon, "iat": now},
                       app.state.settings.secret_key, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200  # the kept token
    await asyncio.sleep((soon - datetime.datetime.now(datetime.UTC)).total_seconds() + 0.05)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


def test_a_token_is_verified_once_and_a_forged_one_every_time() -> None:
    decoded: list[str] = []
    good = Token(exp=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1), sub="someone")

    def decode_good() -> Token:
        decoded.append("good")
        return good

    def decode_forged() -> Token:
        decoded.append("forged")
        raise NotAuthorizedException

    raw = uuid.uuid4().hex  # a token no other test has shown this process
    for _ in range(3):
        assert verified_token(raw, "secret", "aud", decode_good) is good
        with pytest.raises(NotAuthorizedException):
            verified_token(raw + "-forged", "secret", "aud", decode_forged)
    assert decoded == ["good", "forged", "forged", "forged"]
    # Another secret or audience is another verification.
    verified_token(raw, "another-secret", "aud", decode_good)
    assert decoded[-1] == "good" and len(decoded) == 5


async def test_a_deactivated_user_is_refused_on_the_next_request(client: AsyncClient, auth: Auth,
                                                                 session: AsyncSession) -> None:
    headers = await auth("cstaff")
    assert (await client.get("/api/v1/tenants/comm-a", headers=headers)).status_code == 200
    await session.execute(update(User).where(User.username == "cstaff").values(active=False))
    await session.commit()
    assert (await client.get("/api/v1/tenants/comm-a", headers=headers)).status_code == 401
    login = await client.post("/api/v1/auth/token", json={"username": "cstaff", "password": PASSWORD})
    assert login.status_code == 401


class Clock:
    """The throttle's clock, stopped: delays are tested by moving it, never by sleeping."""

    def __init__(self, stopped: Stopped) -> None:
        self.stopped = stopped

    def advance(self, seconds: float) -> None:
        self.stopped.advance(datetime.timedelta(seconds=seconds))


@pytest.fixture
def clock() -> Iterator[Clock]:
    with frozen(datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)) as stopped:
        yield Clock(stopped)


BEHIND_PROXY = {"trusted_proxies": (ipaddress.ip_network("127.0.0.0/8"),)}


async def _sign_in(client: AsyncClient, username: str, password: str, address: str | None = None) -> Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return await client.post("/api/v1/auth/token", json={"username": username, "password": password},
                             headers=headers)


async def _attempts(database: DatabaseUnderTest, attempts: list[tuple[str, str]], address: str | None = None,
                    **settings: Any) -> list[int]:
    app = create_app(replace(database.settings, login_max_failures=3, **settings))
    async with http_client(app) as client:
        return [(await _sign_in(client, u, p, address)).status_code for u, p in attempts]


@pytest.mark.parametrize("username", ["cstaff", "nobody"])
async def test_repeated_failures_are_throttled_whether_or_not_the_account_exists(
        database: DatabaseUnderTest, clock: Clock, username: str) -> None:
    codes = await _attempts(database, [(username, "bad-password")] * 4)
    assert codes == [401, 401, 401, 429]


async def test_a_throttled_client_waits_even_with_the_right_password(database: DatabaseUnderTest,
                                                                    clock: Clock) -> None:
    codes = await _attempts(database, [("cstaff", "bad-password")] * 3 + [("cstaff", PASSWORD)])
    assert codes == [401, 401, 401, 429]
    app = create_app(replace(database.settings, login_max_failures=3))
    async with http_client(app) as other:
        blocked = await _sign_in(other, "cstaff", PASSWORD)
    assert blocked.status_code == 429
    assert blocked.headers["retry-after"] == "1"
    assert blocked.json()["detail"] == "尝试次数过多，请 1 秒后再试"


async def test_each_further_failure_doubles_the_wait_up_to_the_window(database: DatabaseUnderTest,
                                                                      clock: Clock) -> None:
    app = create_app(replace(database.settings, login_max_failures=3, login_window_seconds=900))
    waits = []
    async with http_client(app) as client:
        for _ in range(3):
            assert (await _sign_in(client, "cstaff", "bad-password")).status_code == 401
        for _ in range(12):
            refused = await _sign_in(client, "cstaff", "bad-password")
            assert refused.status_code == 429  # refused attempts are not counted: the wait stays as it was
            wait = int(refused.headers["retry-after"])
            waits.append(wait)
            clock.advance(wait)
            assert (await _sign_in(client, "cstaff", "bad-password")).status_code == 401
        clock.advance(900)
        assert (await _sign_in(client, "cstaff", PASSWORD)).status_code == 200
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


async def test_a_strangers_failures_never_lock_the_owner_out(database: DatabaseUnderTest, clock: Clock) -> None:
    app = create_app(replace(database.settings, login_max_failures=3, **BEHIND_PROXY))
    async with http_client(app) as client:
        stranger = [(await _sign_in(client, "cstaff", "guess", "203.0.113.9")).status_code for _ in range(5)]
        owner = await _sign_in(client, "cstaff", PASSWORD, "198.51.100.7")
        colleague = await _sign_in(client, "grid", PASSWORD, "203.0.113.9")
    assert stranger == [401, 401, 401, 429, 429]
    assert owner.status_code == 200
    assert colleague.status_code == 200  # the stranger's address is slowed for that account, not for everyone


async def test_forwarded_addresses_are_believed_only_from_a_trusted_proxy(database: DatabaseUnderTest,
                                                                          clock: Clock) -> None:
    app = create_app(replace(database.settings, login_max_failures=3))
    async with http_client(app) as client:
        rotating = [(await _sign_in(client, "cstaff", "guess", f"198.51.100.{n}")).status_code for n in range(4)]
    assert rotating == [401, 401, 401, 429]
    app = create_app(replace(database.settings, login_max_failures=3, **BEHIND_PROXY))
    async with http_client(app) as client:
        # What the client wrote itself comes first; the address the trusted proxy saw is the last one.
        spoofed = [(await _sign_in(client, "dadmin", "guess", f"10.9.9.{n}, 198.51.100.77")).status_code
                   for n in range(4)]
    assert spoofed == [401, 401, 401, 429]


async def test_one_address_trying_many_names_is_slowed_but_an_office_has_room(database: DatabaseUnderTest,
                                                                               clock: Clock) -> None:
    names = [f"typo{n}" for n in range(30)]
    codes = await _attempts(database, [(name, "x" * 9) for name in names] + [("grid", PASSWORD)])
    assert codes == [401] * 30 + [429]


async def test_guesses_from_many_addresses_slow_the_account_down(database: DatabaseUnderTest,
                                                                 clock: Clock) -> None:
    app = create_app(replace(database.settings, login_max_failures=3, **BEHIND_PROXY))
    async with http_client(app) as client:
        spread = [(await _sign_in(client, "cstaff", "guess", f"198.51.100.{n}")).status_code for n in range(30)]
        anyone = await _sign_in(client, "cstaff", PASSWORD, "203.0.113.50")
        clock.advance(1)
        after_the_wait = await _sign_in(client, "cstaff", PASSWORD, "203.0.113.50")
    assert spread == [401] * 30
    assert anyone.status_code == 429 and anyone.headers["retry-after"] == "1"
    assert after_the_wait.status_code == 200


def test_phone_numbers_are_masked_to_the_first_three_and_last_four() -> None:
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone(None) is None
