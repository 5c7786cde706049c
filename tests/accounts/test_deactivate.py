"""Deactivating an account: only from the tenant that answers for every role the person holds, never oneself, and
only by staff who may grant each of those roles; every session of theirs ends at once, no password or code signs
them in until they are reactivated, and their roles come back with reactivation."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core import clock
from core.accounts.services import MemberService
from core.notifications.models import Notification
from core.tenancy.scope import tenant_session
from tests.conftest import PASSWORD, Auth

pytestmark = pytest.mark.usefixtures("world")
MEMBERS = "/api/v1/tenants/comm-a/members"
PHONE = "13700003333"
GOOD = "Qp7-harbour-lantern"


async def _token(client: AsyncClient, username: str, password: str = PASSWORD) -> Any:
    return await client.post("/api/v1/auth/token", json={"username": username, "password": password})


async def _set_active(client: AsyncClient, headers: dict[str, str], username: str, active: bool,
                      slug: str = "comm-a") -> Any:
    return await client.patch(f"/api/v1/tenants/{slug}/members/{username}", json={"active": active}, headers=headers)


async def _last_code(app: Litestar, phone: str = PHONE) -> str:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        row = await scope.session.scalar(select(Notification).where(
            Notification.kind == "verification.code", Notification.address == phone)
            .order_by(Notification.created_at.desc()).limit(1))
        assert row is not None
        return str(row.params["code"])


async def _ask(client: AsyncClient, purpose: str) -> None:
    answer = await client.post("/api/v1/tenants/comm-a/public/verification-codes",
                               json={"phone": PHONE, "purpose": purpose})
    assert answer.status_code == 202, answer.text


async def _joined_resident(client: AsyncClient, app: Litestar) -> dict[str, Any]:
    """A resident who joined by phone (so the phone signs in by code too)."""
    await _ask(client, "join")
    version = (await client.get("/api/v1/tenants/comm-a/public/privacy")).json()["version"]
    joined = await client.post("/api/v1/tenants/comm-a/public/join", json={
        "phone": PHONE, "code": await _last_code(app), "name": "秦女士", "password": GOOD,
        "privacy_version": version, "accept_privacy": True})
    assert joined.status_code == 201, joined.text
    return dict(joined.json())


async def test_a_deactivated_account_is_signed_out_and_signs_in_by_no_password_or_code_until_reactivated(
        app: Litestar, client: AsyncClient, auth: Auth, caplog: pytest.LogCaptureFixture) -> None:
    joined = await _joined_resident(client, app)
    username, old = joined["username"], {"Authorization": f"Bearer {joined['access_token']}"}
    assert (await client.get("/api/v1/tenants/comm-a", headers=old)).status_code == 200
    staff = await auth("cstaff")
    with caplog.at_level(logging.INFO, logger="yishi.audit"):
        off = await _set_active(client, staff, username, False)
    assert off.status_code == 200, off.text
    assert off.json() == {"user": username, "active": False, "tenant": "comm-a"}
    assert any("account deactivated" in r.getMessage() for r in caplog.records)
    for path in ("/api/v1/me", "/api/v1/tenants/comm-a"):
        assert (await client.get(path, headers=old)).status_code == 401, path
    by_password = await _token(client, username, GOOD)
    assert by_password.status_code == 401 and "已停用" in by_password.json()["detail"]
    wrong = await _token(client, username, "not-the-password-at-all")
    assert wrong.status_code == 401 and "已停用" not in wrong.json()["detail"]  # only the password's owner hears
    moment = clock.now() + datetime.timedelta(minutes=2)
    with clock.frozen(moment):
        await _ask(client, "sign_in")
        by_code = await client.post("/api/v1/auth/code-token", json={"phone": PHONE, "code": await _last_code(app)})
    assert by_code.status_code == 422 and by_code.json()["errors"][0]["field"] == "code"
    listed = (await client.get(MEMBERS, headers=staff)).json()["items"]
    assert [(m["roles"], m["active"]) for m in listed if m["user"] == username] == [(["resident"], False)]

    on = await _set_active(client, staff, username, True)
    assert on.status_code == 200 and on.json()["active"] is True
    again = await _token(client, username, GOOD)
    assert again.status_code == 200
    fresh = {"Authorization": f"Bearer {again.json()['access_token']}"}
    assert (await client.get("/api/v1/tenants/comm-a", headers=fresh)).status_code == 200  # the role came back
    assert (await client.get("/api/v1/me", headers=old)).status_code == 401  # the old session stays ended
    with clock.frozen(moment + datetime.timedelta(minutes=2)):
        await _ask(client, "sign_in")
        by_code = await client.post("/api/v1/auth/code-token", json={"phone": PHONE, "code": await _last_code(app)})
    assert by_code.status_code == 200, by_code.text


async def test_nobody_deactivates_someone_who_answers_to_another_tenant_too(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    # 乙社区's resident too (they joined there as well): 甲社区 does not answer for all of them, and is not told
    # where else they are.
    async with tenant_session(app, "comm-b", "bstaff") as scope:
        await MemberService(scope.session, scope.tenant).grant("neighbour", "resident", None, anywhere=True)
    refused = await _set_active(client, staff, "neighbour", False)
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "user"
    assert "本辖区以外" in refused.json()["detail"] and "comm-b" not in refused.text and "乙社区" not in refused.text
    # The street above both answers for all of them.
    assert (await _set_active(client, await auth("sstaff"), "neighbour", False, slug="street-a")).status_code == 200
    assert (await _token(client, "neighbour")).status_code == 401
    # A platform administrator holding a role here is not this community's to deactivate either.
    assert (await client.post(MEMBERS, json={"user": "admin", "role": "resident"},
                              headers=await auth("admin"))).status_code == 201
    refused = await _set_active(client, staff, "admin", False)
    assert refused.status_code == 403 and "本辖区以外" in refused.json()["detail"]
    assert (await _token(client, "admin")).status_code == 200


async def test_nobody_deactivates_themselves_an_unknown_name_or_someone_of_another_community(
        client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    self_ = await _set_active(client, staff, "cstaff", False)
    assert self_.status_code == 422 and self_.json()["errors"][0]["field"] == "user"
    answers = [await _set_active(client, staff, name, False) for name in ("ghost", "bstaff", "outsider")]
    assert [a.status_code for a in answers] == [404, 404, 404]  # unknown, elsewhere, or no role at all: alike
    assert answers[0].json()["detail"].replace("ghost", "bstaff") == answers[1].json()["detail"]
    for name in ("cstaff", "bstaff", "outsider"):
        assert (await _token(client, name)).status_code == 200, name
    bad = await client.patch(f"{MEMBERS}/grid", json={"active": "no"}, headers=staff)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "active"


async def test_only_staff_who_may_grant_every_role_of_the_person_deactivate_them(
        client: AsyncClient, auth: Auth) -> None:
    for role_holder in ("grid", "resident"):  # roles without member.manage
        refused = await _set_active(client, await auth(role_holder), "neighbour", False)
        assert refused.status_code == 403, role_holder
    assert (await _set_active(client, await auth("bstaff"), "grid", False)).status_code == 403  # not their tenant
    # 乙代表 is a deputy of 甲社区: a role community staff do not grant, so they do not deactivate its holder.
    above = await _set_active(client, await auth("cstaff"), "deputy2", False)
    assert above.status_code == 403 and "人大代表" in above.json()["detail"]
    assert (await _token(client, "deputy2")).status_code == 200
    by_district = await _set_active(client, await auth("dadmin"), "deputy2", False)
    assert by_district.status_code == 200
    assert (await _token(client, "deputy2")).status_code == 401
    # Deactivating twice changes nothing; the grid worker is the community's own to deactivate.
    assert (await _set_active(client, await auth("dadmin"), "deputy2", False)).json()["active"] is False
    assert (await _set_active(client, await auth("cstaff"), "grid", False)).status_code == 200
