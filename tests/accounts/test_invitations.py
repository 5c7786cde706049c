"""Invitations by link: staff invite someone to a role they may grant; the link works once, expires (7 days unless
said), can be revoked, is kept only as a hash, and is another tenant's staff's to neither see nor revoke; the
invitee makes an account (or takes it with their own) and holds the role."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core import clock
from core.accounts.models import Invitation
from core.tenancy.scope import tenant_session
from tests.conftest import PASSWORD, Auth

pytestmark = pytest.mark.usefixtures("world")
INVITATIONS = "/api/v1/tenants/comm-a/invitations"
GOOD = "Qp7-harbour-lantern"


async def _invite(client: AsyncClient, auth: Auth, role: str = "grid_worker", by: str = "cstaff",
                  **body: Any) -> dict[str, Any]:
    made = await client.post(INVITATIONS, json={"role": role, **body}, headers=await auth(by))
    assert made.status_code == 201, made.text
    return dict(made.json())


def _accept(client: AsyncClient, token: str, headers: dict[str, str] | None = None, slug: str = "comm-a",
            **body: Any) -> Any:
    return client.post(f"/api/v1/tenants/{slug}/public/invitations/{token}/accept", json=body, headers=headers or {})


async def test_an_invitee_makes_an_account_and_holds_the_role_and_the_link_works_once(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    made = await _invite(client, auth, note="网格员小周 138****0000")
    token = made["token"]
    assert len(token) >= 43 and made["link"].endswith(f"/t/comm-a/invite/{token}")  # 256 random bits
    expires = datetime.datetime.fromisoformat(made["expires_at"])
    assert datetime.timedelta(days=6, hours=23) < expires - clock.now() <= datetime.timedelta(days=7)
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        kept = (await scope.session.scalars(select(Invitation))).one()
    assert kept.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in kept.token_hash
    shown = await client.get(f"/api/v1/tenants/comm-a/public/invitations/{token}")
    assert shown.status_code == 200 and shown.json()["role"] == "grid_worker" and shown.json()["role_name"] == "网格员"

    taken = await _accept(client, token, username="xiaozhou", name="周网格", password=GOOD)
    assert taken.status_code == 201, taken.text
    assert taken.json()["new_account"] is True and taken.json()["role"] == "grid_worker"
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {taken.json()['access_token']}"})
    assert [(t["tenant"], t["roles"]) for t in me.json()["tenants"]] == [("comm-a", ["grid_worker"])]
    assert (await client.post("/api/v1/auth/token", json={"username": "xiaozhou", "password": GOOD})).status_code == 200

    again = await _accept(client, token, username="xiaozhou2", name="另一人", password=GOOD)
    assert again.status_code == 410 and "已被使用" in again.json()["detail"]
    assert (await client.get(f"/api/v1/tenants/comm-a/public/invitations/{token}")).status_code == 410
    assert (await client.get(INVITATIONS, headers=await auth("cstaff"))).json()["total"] == 0
    assert (await client.post("/api/v1/auth/token", json={"username": "xiaozhou2", "password": GOOD})).status_code == 401


async def test_a_signed_in_person_takes_the_invitation_with_their_own_account(
        client: AsyncClient, auth: Auth) -> None:
    token = (await _invite(client, auth, role="resident_rep"))["token"]
    taken = await _accept(client, token, headers=await auth("resident"))
    assert taken.status_code == 201 and taken.json()["new_account"] is False
    assert taken.json()["username"] == "resident"
    members = (await client.get("/api/v1/tenants/comm-a/members", headers=await auth("cstaff"))).json()["items"]
    assert [m["roles"] for m in members if m["user"] == "resident"] == [["resident", "resident_rep"]]
    # A token that is not a valid one of ours is refused, not taken for a new account.
    token = (await _invite(client, auth, role="resident_rep"))["token"]
    forged = await _accept(client, token, headers={"Authorization": "Bearer not.a.token"}, username="sneaky",
                           name="冒名", password=GOOD)
    assert forged.status_code == 401
    assert (await client.get(f"/api/v1/tenants/comm-a/public/invitations/{token}")).status_code == 200


async def test_expired_revoked_and_unknown_links_answer_clearly_never_500(client: AsyncClient, auth: Auth) -> None:
    moment = clock.now()
    with clock.frozen(moment):
        short = (await _invite(client, auth, days=1))["token"]
        week = await _invite(client, auth)
    with clock.frozen(moment + datetime.timedelta(days=1, seconds=1)):
        late = await _accept(client, short, username="late1", name="迟到", password=GOOD)
        assert late.status_code == 410 and "已过期" in late.json()["detail"]
        assert (await client.get(INVITATIONS, headers=await auth("cstaff"))).json()["total"] == 1
    with clock.frozen(moment + datetime.timedelta(days=7, seconds=1)):
        assert (await client.get(f"/api/v1/tenants/comm-a/public/invitations/{week['token']}")).status_code == 410
    revoked = await client.delete(f"{INVITATIONS}/{week['id']}", headers=await auth("cstaff"))
    assert revoked.status_code == 204
    gone = await _accept(client, week["token"], username="late2", name="迟到", password=GOOD)
    assert gone.status_code == 410 and "已被撤销" in gone.json()["detail"]
    for token in ("nonsense", "x" * 2000, week["token"] + "x"):
        unknown = await _accept(client, token, username="late3", name="迟到", password=GOOD)
        assert unknown.status_code == 404 and "邀请链接无效" in unknown.json()["detail"], token[:20]
    # A link of 甲社区 opened under 乙社区's address is no link there.
    token = (await _invite(client, auth))["token"]
    assert (await _accept(client, token, slug="comm-b", username="late4", name="迟到", password=GOOD)).status_code == 404


async def test_bad_fields_are_named_and_spend_no_link(client: AsyncClient, auth: Auth) -> None:
    token = (await _invite(client, auth))["token"]
    refused = await _accept(client, token, username="a", name="", password="short")
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"username", "name", "password"}
    taken = await _accept(client, token, username="resident", name="重名", password=GOOD)
    assert taken.status_code == 422 and taken.json()["errors"][0]["field"] == "username"
    weak = await _accept(client, token, username="newbie", name="新人", password="newbie12345")
    assert weak.status_code == 422 and "太常见" in weak.json()["detail"]
    assert (await _accept(client, token, username="newbie", name="新人", password=GOOD)).status_code == 201
    bad = [await client.post(INVITATIONS, json=body, headers=await auth("cstaff")) for body in (
        {"role": "mayor"}, {"role": "grid_worker", "days": 31}, {"role": "grid_worker", "note": "长" * 101})]
    assert [(b.status_code, b.json()["errors"][0]["field"]) for b in bad] == [
        (422, "role"), (422, "days"), (422, "note")]


async def test_nobody_invites_to_a_role_above_their_own_and_another_tenant_neither_sees_nor_revokes(
        client: AsyncClient, auth: Auth) -> None:
    for role in ("community_staff", "deputy", "district_admin"):
        above = await client.post(INVITATIONS, json={"role": role}, headers=await auth("cstaff"))
        assert above.status_code == 403, role
    for who in ("grid", "resident", "bstaff"):
        assert (await client.post(INVITATIONS, json={"role": "resident"}, headers=await auth(who))).status_code == 403
    by_street = await _invite(client, auth, role="community_staff", by="sstaff")
    # 甲社区's staff see it, but cannot revoke a link to a role they could not grant.
    listed = (await client.get(INVITATIONS, headers=await auth("cstaff"))).json()
    assert [(i["role"], i["created_by"]) for i in listed["items"]] == [("community_staff", "sstaff")]
    assert "token" not in listed["items"][0]
    assert (await client.delete(f"{INVITATIONS}/{by_street['id']}", headers=await auth("cstaff"))).status_code == 403
    # 乙社区's staff: not through 甲社区's address, and not through their own.
    assert (await client.get(INVITATIONS, headers=await auth("bstaff"))).status_code == 403
    assert (await client.get("/api/v1/tenants/comm-b/invitations", headers=await auth("bstaff"))).json()["total"] == 0
    theirs = await client.delete(f"/api/v1/tenants/comm-b/invitations/{by_street['id']}", headers=await auth("bstaff"))
    assert theirs.status_code == 404
    taken = await _accept(client, by_street["token"], username="newstaff", name="新社工", password=GOOD)
    assert taken.status_code == 201 and taken.json()["role"] == "community_staff"


async def test_a_link_outlives_no_one_s_authority(client: AsyncClient, auth: Auth) -> None:
    """A link made by staff who have since lost the right to grant its role gives nothing."""
    token = (await _invite(client, auth, role="grid_worker", by="cstaff"))["token"]
    revoked = await client.delete("/api/v1/tenants/comm-a/members/cstaff/community_staff", headers=await auth("sstaff"))
    assert revoked.status_code == 204
    answer = await _accept(client, token, username="orphan", name="无主", password=GOOD)
    assert answer.status_code == 410 and "已失效" in answer.json()["detail"]
    assert (await client.post("/api/v1/auth/token", json={"username": "orphan", "password": PASSWORD})).status_code == 401
