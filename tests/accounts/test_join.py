"""Residents join a community from a phone: a code by SMS, the privacy notice accepted with its version, a name
and a password; they sign in by code, reset the password by code, and change it. Codes expire, are single-use,
are throttled, and no answer tells whether a phone has an account."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core import clock
from core.accounts.models import Consent, RoleAssignment, User
from core.notifications.models import Notification, NotificationPreference
from core.tenancy.scope import tenant_session
from tests.conftest import Auth

pytestmark = pytest.mark.usefixtures("world")

PHONE = "13700001111"
GOOD = "青砖小院2026晚霞"  # a password the policy takes


async def _last_code(app: Litestar, phone: str = PHONE) -> str | None:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        row = await scope.session.scalar(select(Notification).where(
            Notification.kind == "verification.code", Notification.address == phone)
            .order_by(Notification.created_at.desc()).limit(1))
        return row.params["code"] if row is not None else None


async def _codes_sent(app: Litestar, phone: str) -> int:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        return len((await scope.session.scalars(select(Notification.id).where(
            Notification.kind == "verification.code", Notification.address == phone))).all())


async def _version(client: AsyncClient, slug: str = "comm-a") -> str:
    response = await client.get(f"/api/v1/tenants/{slug}/public/privacy")
    assert response.status_code == 200 and "手机号" in response.json()["text"]
    return response.json()["version"]


async def _ask(client: AsyncClient, purpose: str = "join", phone: str = PHONE, slug: str = "comm-a") -> Any:
    return await client.post(f"/api/v1/tenants/{slug}/public/verification-codes", json={"phone": phone, "purpose": purpose})


async def _join(client: AsyncClient, app: Litestar, **overrides: Any) -> Any:
    assert (await _ask(client)).status_code == 202
    body = {"phone": PHONE, "code": await _last_code(app), "name": "林女士", "password": GOOD,
            "privacy_version": await _version(client), "accept_privacy": True, "sms_consent": True} | overrides
    return await client.post("/api/v1/tenants/comm-a/public/join", json=body)


async def test_a_resident_joins_with_a_code_and_is_signed_in_as_a_resident_of_that_community(
        app: Litestar, client: AsyncClient) -> None:
    joined = await _join(client, app)
    assert joined.status_code == 201, joined.text
    assert joined.json()["existing_account"] is False and joined.json()["tenant"] == "comm-a"
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {joined.json()['access_token']}"})
    assert me.status_code == 200
    assert [(t["tenant"], t["roles"]) for t in me.json()["tenants"]] == [("comm-a", ["resident"])]
    assert me.json()["display_name"] == "林女士"
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        consents = (await scope.session.scalars(select(Consent).order_by(Consent.kind))).all()
    assert [(c.kind, c.granted, c.version) for c in consents] == [
        ("privacy", True, await _version(client)), ("sms", True, await _version(client))]


async def test_the_code_is_single_use_and_expires(app: Litestar, client: AsyncClient) -> None:
    assert (await _join(client, app)).status_code == 201
    code = await _last_code(app)
    again = await client.post("/api/v1/auth/code-token", json={"phone": PHONE, "code": code})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "code"
    # A fresh code for signing in, too late: five minutes and a second
    moment = clock.now()
    with clock.frozen(moment + datetime.timedelta(minutes=2)):
        assert (await _ask(client, "sign_in")).status_code == 202
    code = await _last_code(app)
    with clock.frozen(moment + datetime.timedelta(minutes=7, seconds=1)):
        late = await client.post("/api/v1/auth/code-token", json={"phone": PHONE, "code": code})
    assert late.status_code == 422 and "已过期" in late.json()["detail"]


async def test_refusals_name_every_bad_field_and_spend_no_code(app: Litestar, client: AsyncClient) -> None:
    refused = await _join(client, app, name="", password="123456789", accept_privacy=False)
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"name", "password", "accept_privacy"}
    weak = await client.post("/api/v1/tenants/comm-a/public/join", json={
        "phone": PHONE, "code": await _last_code(app), "name": "林女士", "password": "1qaz2wsx3edc",
        "privacy_version": await _version(client), "accept_privacy": True})
    assert weak.status_code == 422 and "太常见" in weak.json()["detail"]
    ok = await client.post("/api/v1/tenants/comm-a/public/join", json={
        "phone": PHONE, "code": await _last_code(app), "name": "林女士", "password": GOOD,
        "privacy_version": await _version(client), "accept_privacy": True})
    assert ok.status_code == 201, ok.text  # the refusals spent nothing


async def test_an_old_privacy_version_must_be_read_again(app: Litestar, client: AsyncClient) -> None:
    refused = await _join(client, app, privacy_version="0123456789ab")
    assert refused.status_code == 409 and "隐私政策已更新" in refused.json()["detail"]


async def test_wrong_codes_are_counted_and_the_fifth_spends_the_code(app: Litestar, client: AsyncClient) -> None:
    assert (await _ask(client)).status_code == 202
    code = await _last_code(app)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        body = {"phone": PHONE, "code": wrong, "name": "林女士", "password": GOOD,
                "privacy_version": await _version(client), "accept_privacy": True}
        assert (await client.post("/api/v1/tenants/comm-a/public/join", json=body)).status_code == 422
    right = await client.post("/api/v1/tenants/comm-a/public/join", json=body | {"code": code})
    assert right.status_code == 422  # guessed at five times: spent, a new one must be asked for


async def test_codes_are_throttled_per_phone_and_answers_never_tell_who_has_an_account(
        app: Litestar, client: AsyncClient) -> None:
    assert (await _join(client, app)).status_code == 201
    moment = clock.now()
    with clock.frozen(moment + datetime.timedelta(minutes=2)):
        # Someone asks a sign-in code for a registered and an unregistered phone: the same answer
        registered, stranger = await _ask(client, "sign_in"), await _ask(client, "sign_in", phone="13700002222")
        assert registered.status_code == stranger.status_code == 202
        assert registered.json() == stranger.json()
        soon = await _ask(client, "sign_in")  # within the minute of the last one for signing in
        assert soon.status_code == 429 and "Retry-After" in soon.headers
    assert await _codes_sent(app, "13700002222") == 0  # but no SMS goes to a phone with no account
    for minute in range(4, 12, 2):
        with clock.frozen(moment + datetime.timedelta(minutes=minute)):
            await _ask(client, "sign_in")
    with clock.frozen(moment + datetime.timedelta(minutes=13)):
        assert (await _ask(client, "sign_in")).status_code == 429  # five an hour
    bad = await _ask(client, phone="12345")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "phone"
    assert (await _ask(client, "gossip")).status_code == 422


async def test_sign_in_by_code_and_reset_the_password_which_ends_every_other_session(
        app: Litestar, client: AsyncClient) -> None:
    joined = await _join(client, app)
    old_token = {"Authorization": f"Bearer {joined.json()['access_token']}"}
    username = joined.json()["username"]
    clock_at = clock.now() + datetime.timedelta(minutes=2)
    with clock.frozen(clock_at):
        assert (await _ask(client, "sign_in")).status_code == 202
        signed = await client.post("/api/v1/auth/code-token", json={"phone": PHONE, "code": await _last_code(app)})
    assert signed.status_code == 200
    with clock.frozen(clock_at + datetime.timedelta(minutes=2)):
        assert (await _ask(client, "reset")).status_code == 202
        reset = await client.post("/api/v1/auth/password-reset", json={
            "phone": PHONE, "code": await _last_code(app), "password": "新的密码要够长2027"})
    assert reset.status_code == 204, reset.text
    assert (await client.get("/api/v1/me", headers=old_token)).status_code == 401
    by_password = await client.post("/api/v1/auth/token", json={"username": username, "password": "新的密码要够长2027"})
    assert by_password.status_code == 200


async def test_change_password_needs_the_old_one_and_keeps_this_session(app: Litestar, client: AsyncClient,
                                                                        auth: Auth) -> None:
    headers = await auth("resident")
    wrong = await client.post("/api/v1/me/password", headers=headers,
                              json={"old_password": "not-it-at-all", "new_password": GOOD})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "old_password"
    short = await client.post("/api/v1/me/password", headers=headers,
                              json={"old_password": "password-123", "new_password": "short"})
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "new_password"
    changed = await client.post("/api/v1/me/password", headers=headers,
                                json={"old_password": "password-123", "new_password": GOOD})
    assert changed.status_code == 200
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401  # the old token ended
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=fresh)).status_code == 200


async def test_a_resident_who_moves_joins_another_community_with_the_same_account(
        app: Litestar, client: AsyncClient) -> None:
    assert (await _join(client, app, sms_consent=False)).status_code == 201
    with clock.frozen(clock.now() + datetime.timedelta(minutes=2)):
        assert (await _ask(client, slug="comm-b")).status_code == 202
        code = await _last_code_in(app, "comm-b")
        moved = await client.post("/api/v1/tenants/comm-b/public/join", json={
            "phone": PHONE, "code": code, "name": "林女士", "password": "whatever-they-typed-2026",
            "privacy_version": await _version(client, "comm-b"), "accept_privacy": True})
    assert moved.status_code == 201 and moved.json()["existing_account"] is True
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {moved.json()['access_token']}"})
    assert sorted(t["tenant"] for t in me.json()["tenants"]) == ["comm-a", "comm-b"]
    async with app.state.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.phone == PHONE))
        assert user is not None
        chosen = (await session.scalars(select(NotificationPreference).where(
            NotificationPreference.user_id == user.id))).all()
    assert chosen and all("sms" not in c.channels for c in chosen)  # no SMS consent: no SMS by default


async def _last_code_in(app: Litestar, slug: str) -> str:
    async with tenant_session(app, slug, "admin") as scope:
        row = await scope.session.scalar(select(Notification).where(Notification.kind == "verification.code")
                                         .order_by(Notification.created_at.desc()).limit(1))
        assert row is not None
        return str(row.params["code"])


async def test_only_a_community_can_be_joined(app: Litestar, client: AsyncClient) -> None:
    assert (await _ask(client, slug="street-a")).status_code == 202
    async with tenant_session(app, "street-a", "admin") as scope:
        row = await scope.session.scalar(select(Notification).where(Notification.kind == "verification.code"))
        code = row.params["code"] if row else ""
    refused = await client.post("/api/v1/tenants/street-a/public/join", json={
        "phone": PHONE, "code": code, "name": "林女士", "password": GOOD,
        "privacy_version": await _version(client, "street-a"), "accept_privacy": True})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "tenant"
    async with tenant_session(app, "street-a", "admin") as scope:
        assert (await scope.session.scalars(select(RoleAssignment).where(RoleAssignment.role == "resident"))).all() == []


async def test_another_communitys_compound_or_an_unknown_community_is_refused_and_nothing_is_written(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    theirs = (await client.get("/api/v1/tenants/comm-b/compounds", headers=await auth("bstaff"))).json()[0]["id"]
    refused = await _join(client, app, compound=theirs)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "compound"
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(User).where(User.phone == PHONE)) is None
    right = await client.post("/api/v1/tenants/comm-a/public/join", json={
        "phone": PHONE, "code": await _last_code(app), "name": "林女士", "password": GOOD,
        "privacy_version": await _version(client), "accept_privacy": True})
    assert right.status_code == 201  # the refusal spent no code
    for path in ("/api/v1/tenants/nowhere/public/privacy", "/api/v1/tenants/nowhere/public/join"):
        answer = await (client.get(path) if path.endswith("privacy") else client.post(path, json={}))
        assert answer.status_code in (400, 404)
    unknown = await client.post("/api/v1/tenants/nowhere/public/verification-codes", json={"phone": PHONE})
    assert unknown.status_code == 404


async def test_a_code_for_a_new_phone_number_is_not_asked_for_without_signing_in(client: AsyncClient) -> None:
    answer = await client.post("/api/v1/tenants/comm-a/public/verification-codes",
                               json={"phone": PHONE, "purpose": "phone"})
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["purpose"]
