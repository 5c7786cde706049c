"""Membership of a tenant: granting and revoking roles, who may grant which, and masked phone numbers."""

from __future__ import annotations

import logging

import pytest
from httpx import AsyncClient

from tests.conftest import Auth
from tests.helpers import topic_at

pytestmark = pytest.mark.usefixtures("world")
MEMBERS = "/api/v1/tenants/comm-a/members"


async def test_community_staff_grants_a_resident_role_once(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("cstaff")
    first = await client.post(MEMBERS, json={"user": "outsider", "role": "resident_rep"}, headers=headers)
    assert first.status_code == 201
    assert first.json() == {"user": "outsider", "role": "resident_rep", "tenant": "comm-a"}
    again = await client.post(MEMBERS, json={"user": "outsider", "role": "resident_rep"}, headers=headers)
    assert again.status_code == 200
    members = (await client.get(MEMBERS, headers=headers)).json()
    outsider = [m for m in members["items"] if m["user"] == "outsider"]
    assert outsider and outsider[0]["roles"] == ["resident_rep"]


async def test_the_grant_takes_effect_on_the_very_next_request(client: AsyncClient, auth: Auth) -> None:
    outsider = await auth("outsider")
    assert (await client.get("/api/v1/tenants/comm-a", headers=outsider)).status_code == 403
    await client.post(MEMBERS, json={"user": "outsider", "role": "resident"}, headers=await auth("cstaff"))
    assert (await client.get("/api/v1/tenants/comm-a", headers=outsider)).status_code == 200
    revoked = await client.delete(f"{MEMBERS}/outsider/resident", headers=await auth("cstaff"))
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/tenants/comm-a", headers=outsider)).status_code == 403


async def test_nobody_grants_a_role_above_their_own(client: AsyncClient, auth: Auth) -> None:
    for role in ("community_staff", "district_admin", "deputy"):
        response = await client.post(MEMBERS, json={"user": "outsider", "role": role}, headers=await auth("cstaff"))
        assert response.status_code == 403, role
    by_street = await client.post(MEMBERS, json={"user": "outsider", "role": "community_staff"},
                                  headers=await auth("sstaff"))
    assert by_street.status_code == 201
    assert (await client.post(MEMBERS, json={"user": "outsider", "role": "district_admin"},
                              headers=await auth("sstaff"))).status_code == 403
    assert (await client.post(MEMBERS, json={"user": "outsider", "role": "district_admin"},
                              headers=await auth("dadmin"))).status_code == 201


async def test_residents_and_other_tenants_cannot_manage_members(client: AsyncClient, auth: Auth) -> None:
    body = {"user": "outsider", "role": "resident"}
    assert (await client.post(MEMBERS, json=body, headers=await auth("resident"))).status_code == 403
    assert (await client.get(MEMBERS, headers=await auth("resident"))).status_code == 403
    assert (await client.post(MEMBERS, json=body, headers=await auth("bstaff"))).status_code == 403
    assert (await client.get(MEMBERS, headers=await auth("bstaff"))).status_code == 403
    assert (await client.post(MEMBERS, json=body, headers=await auth("badmin"))).status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"user": "outsider", "role": "mayor"}, 422, "role"),
        ({"user": "outsider", "role": "platform_admin"}, 422, "role"),
        ({"user": "ghost", "role": "resident"}, 422, "user"),
        ({"user": "outsider"}, 400, "role"),
        ({"user": 7, "role": "resident"}, 400, "user"),
    ],
)
async def test_bad_grants_name_the_field_and_change_nothing(client: AsyncClient, auth: Auth, body: dict,
                                                           status: int, field: str) -> None:
    headers = await auth("cstaff")
    before = (await client.get(MEMBERS, headers=headers)).json()
    response = await client.post(MEMBERS, json=body, headers=headers)
    assert response.status_code == status, response.text
    assert any(e["field"] == field for e in response.json()["errors"])
    assert (await client.get(MEMBERS, headers=headers)).json() == before


async def test_revoking_a_role_not_held_is_404(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("cstaff")
    assert (await client.delete(f"{MEMBERS}/outsider/resident", headers=headers)).status_code == 404
    assert (await client.delete(f"{MEMBERS}/ghost/resident", headers=headers)).status_code == 404
    assert (await client.delete(f"{MEMBERS}/resident/mayor", headers=headers)).status_code == 422
    # A role held in another tenant is not this tenant's to revoke.
    other = await client.delete("/api/v1/tenants/comm-b/members/resident/resident", headers=await auth("bstaff"))
    assert other.status_code == 404
    assert (await client.get("/api/v1/tenants/comm-a", headers=await auth("resident"))).status_code == 200


async def test_phones_are_masked_for_administrators_above_the_community(client: AsyncClient, auth: Auth,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    def phone_of(page: dict) -> str:
        return next(m["phone"] for m in page["items"] if m["user"] == "resident")

    masked = (await client.get(MEMBERS, headers=await auth("dadmin"))).json()
    assert phone_of(masked) == "138****1234"
    with caplog.at_level(logging.INFO, logger="yishi.audit"):
        full = (await client.get(MEMBERS, headers=await auth("cstaff"))).json()
    assert phone_of(full) == "13812341234"
    assert any("unmasked phone numbers read" in r.getMessage() for r in caplog.records)


async def test_member_list_is_paginated_and_scoped_to_the_tenant(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("dadmin")
    everyone = (await client.get(MEMBERS, headers=headers)).json()
    assert {m["user"] for m in everyone["items"]} == {"cstaff", "grid", "resident", "wuye", "neighbour", "deputy2"}
    assert everyone["total"] == 6
    page = (await client.get(f"{MEMBERS}?limit=4&offset=4", headers=headers)).json()
    assert len(page["items"]) == 2 and page["total"] == 6
    other = (await client.get("/api/v1/tenants/comm-b/members", headers=headers)).json()
    assert {m["user"] for m in other["items"]} == {"bstaff"}


async def test_granting_never_tells_whether_a_username_exists_elsewhere(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("bstaff")  # 乙社区's staff: cstaff, grid … belong to 甲社区
    before = (await client.get("/api/v1/tenants/comm-b/members", headers=headers)).json()
    answers = [await client.post("/api/v1/tenants/comm-b/members", json={"user": user, "role": "resident"},
                                 headers=headers) for user in ("ghost", "cstaff", "dadmin")]
    assert {a.status_code for a in answers} == {422}
    assert len({a.text for a in answers}) == 1
    assert answers[0].json()["detail"] == "找不到该用户，或无法授予"
    assert (await client.get("/api/v1/tenants/comm-b/members", headers=headers)).json() == before
    revoked = [await client.delete(f"/api/v1/tenants/comm-b/members/{user}/resident", headers=headers)
               for user in ("ghost", "resident")]
    assert [r.status_code for r in revoked] == [404, 404]
    assert revoked[0].json()["detail"].replace("ghost", "resident") == revoked[1].json()["detail"]



async def test_no_staff_form_tells_whether_a_username_exists_elsewhere(client: AsyncClient, auth: Auth) -> None:
    """Invitees and action owners are named like grants: another community's user reads as an unknown name."""
    staff = await auth("cstaff")
    topic_id, _ids = await topic_at(client, auth, "researching")
    answers = [await client.post(f"/api/v1/tenants/comm-a/topics/{topic_id}/meetings", headers=staff, json={
        "mechanism": "on_demand", "venue": "议事亭", "starts_at": "2026-12-20T15:00:00+08:00",
        "invitees": {"users": [name]}}) for name in ("ghost", "bstaff")]
    assert [a.status_code for a in answers] == [422, 422]
    assert answers[0].json()["detail"].replace("ghost", "bstaff") == answers[1].json()["detail"]
    seen = await client.post(f"/api/v1/tenants/comm-a/topics/{topic_id}/meetings", headers=staff, json={
        "mechanism": "on_demand", "venue": "议事亭", "starts_at": "2026-12-20T15:00:00+08:00",
        "invitees": {"users": ["resident", "dadmin"]}})  # this community's own, and the district's above it
    assert seen.status_code == 201, seen.text
