"""The tenant tree through /api/v1/tenants: onboarding, reading, updating and archiving, with every refusal."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.conftest import Auth

pytestmark = pytest.mark.usefixtures("world")
NEW_COMMUNITY = {"slug": "comm-new", "name": "新社区", "kind": "community", "parent": "street-a"}


async def test_district_admin_onboards_a_community_under_their_street(client: AsyncClient, auth: Auth) -> None:
    response = await client.post("/api/v1/tenants", json=NEW_COMMUNITY, headers=await auth("dadmin"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["slug"] == "comm-new" and body["parent"] == "street-a" and body["depth"] == 4
    got = await client.get("/api/v1/tenants/comm-new", headers=await auth("dadmin"))
    assert got.status_code == 200 and got.json()["name"] == "新社区"


async def test_street_and_community_staff_cannot_onboard(client: AsyncClient, auth: Auth) -> None:
    for user in ("sstaff", "cstaff"):
        response = await client.post("/api/v1/tenants", json=NEW_COMMUNITY, headers=await auth(user))
        assert response.status_code == 403, user
    assert (await client.get("/api/v1/tenants/comm-new", headers=await auth("admin"))).status_code == 404


async def test_district_admin_cannot_onboard_under_another_district(client: AsyncClient, auth: Auth) -> None:
    body = {"slug": "street-x", "name": "某街道", "kind": "street", "parent": "district-a"}
    assert (await client.post("/api/v1/tenants", json=body, headers=await auth("badmin"))).status_code == 403


async def test_only_a_platform_admin_creates_a_root(client: AsyncClient, auth: Auth) -> None:
    body = {"slug": "city-c", "name": "丙市", "kind": "city"}
    assert (await client.post("/api/v1/tenants", json=body, headers=await auth("dadmin"))).status_code == 403
    response = await client.post("/api/v1/tenants", json=body, headers=await auth("admin"))
    assert response.status_code == 201 and response.json()["parent"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW_COMMUNITY, "slug": "A"}, "slug"),
        ({**NEW_COMMUNITY, "slug": "-bad-"}, "slug"),
        ({**NEW_COMMUNITY, "slug": "x" * 64}, "slug"),
        ({**NEW_COMMUNITY, "name": "  "}, "name"),
        ({**NEW_COMMUNITY, "kind": "village"}, "kind"),
        ({**NEW_COMMUNITY, "parent": "district-a"}, "parent"),
        ({"slug": "street-z", "name": "街道", "kind": "street", "parent": "comm-a"}, "parent"),
        ({**NEW_COMMUNITY, "plugins": ["no_such_plugin"]}, "plugins"),
        ({**NEW_COMMUNITY, "portal": {"colour": "red"}}, "portal"),
    ],
)
async def test_invalid_tenant_is_refused_naming_the_field(client: AsyncClient, auth: Auth, body: dict,
                                                          field: str) -> None:
    response = await client.post("/api/v1/tenants", json=body, headers=await auth("admin"))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["errors"][0]["field"] == field and problem["detail"]
    assert (await client.get(f"/api/v1/tenants/{body['slug']}", headers=await auth("admin"))).status_code in (404, 400)


async def test_malformed_bodies_are_400_with_the_field(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("admin")
    wrong_type = await client.post("/api/v1/tenants", json={**NEW_COMMUNITY, "slug": 5}, headers=headers)
    assert wrong_type.status_code == 400 and wrong_type.json()["errors"][0]["field"] == "slug"
    missing = await client.post("/api/v1/tenants", json={"slug": "abc"}, headers=headers)
    assert missing.status_code == 400
    not_json = await client.post("/api/v1/tenants", content=b"{nope", headers={**headers, "content-type": "application/json"})
    assert not_json.status_code == 400
    unknown_field = await client.post("/api/v1/tenants", json={**NEW_COMMUNITY, "colour": 1}, headers=headers)
    assert unknown_field.status_code == 400


async def test_duplicate_slug_is_409_and_unknown_parent_404(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("admin")
    duplicate = await client.post("/api/v1/tenants", json={**NEW_COMMUNITY, "slug": "comm-b"}, headers=headers)
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "slug"
    orphan = await client.post("/api/v1/tenants", json={**NEW_COMMUNITY, "parent": "nowhere"}, headers=headers)
    assert orphan.status_code == 404 and orphan.json()["errors"][0]["field"] == "parent"


async def test_children_and_descendants_are_paginated(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("dadmin")
    children = (await client.get("/api/v1/tenants/street-a/children", headers=headers)).json()
    assert [t["slug"] for t in children["items"]] == ["comm-a", "comm-b"] or sorted(
        t["slug"] for t in children["items"]) == ["comm-a", "comm-b"]
    assert children["total"] == 2
    page = (await client.get("/api/v1/tenants/district-a/descendants?limit=2&offset=0", headers=headers)).json()
    rest = (await client.get("/api/v1/tenants/district-a/descendants?limit=2&offset=2", headers=headers)).json()
    assert page["total"] == rest["total"] == 3
    assert len(page["items"]) == 2 and len(rest["items"]) == 1
    slugs = {t["slug"] for t in page["items"] + rest["items"]}
    assert slugs == {"street-a", "comm-a", "comm-b"}
    bad = await client.get("/api/v1/tenants/district-a/descendants?limit=0", headers=headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "limit"


async def test_descendants_never_reach_sideways(client: AsyncClient, auth: Auth) -> None:
    items = (await client.get("/api/v1/tenants/city-a/descendants", headers=await auth("admin"))).json()["items"]
    assert "city-b" not in {t["slug"] for t in items}
    assert {t["slug"] for t in items} == {"district-a", "district-b", "street-a", "comm-a", "comm-b"}


async def test_patch_updates_name_portal_and_plugins(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("cstaff")
    response = await client.patch(
        "/api/v1/tenants/comm-a", json={"name": "甲社区（新）", "portal": {"contact_phone": "0951-1234567"}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "甲社区（新）"
    assert response.json()["portal"] == {"contact_phone": "0951-1234567"}
    bad = await client.patch("/api/v1/tenants/comm-a", json={"plugins": ["ghost"]}, headers=headers)
    assert bad.status_code == 422 and "ghost" in bad.json()["detail"]
    after = (await client.get("/api/v1/tenants/comm-a", headers=headers)).json()
    assert after["plugins"] == ["liaison_station"] and after["name"] == "甲社区（新）"


async def test_archiving_needs_a_district_admin_and_keeps_the_data(client: AsyncClient, auth: Auth) -> None:
    refused = await client.patch("/api/v1/tenants/comm-a", json={"archived": True}, headers=await auth("cstaff"))
    assert refused.status_code == 403
    archived = await client.patch("/api/v1/tenants/comm-a", json={"archived": True}, headers=await auth("dadmin"))
    assert archived.status_code == 200 and archived.json()["archived"] is True
    still_there = await client.get("/api/v1/tenants/comm-a/compounds", headers=await auth("cstaff"))
    assert still_there.status_code == 200 and still_there.json()[0]["name"] == "甲小区"
    write = await client.post("/api/v1/tenants/comm-a/compounds", json={"name": "新小区"}, headers=await auth("cstaff"))
    assert write.status_code == 409
    child = await client.post("/api/v1/tenants", json={**NEW_COMMUNITY, "parent": "comm-a"}, headers=await auth("admin"))
    assert child.status_code == 409 and "归档" in child.json()["detail"]
    restored = await client.patch("/api/v1/tenants/comm-a", json={"archived": False}, headers=await auth("dadmin"))
    assert restored.json()["archived"] is False


async def test_there_is_no_hard_delete(client: AsyncClient, auth: Auth) -> None:
    response = await client.delete("/api/v1/tenants/comm-a", headers=await auth("admin"))
    assert response.status_code == 405
    assert (await client.get("/api/v1/tenants/comm-a", headers=await auth("admin"))).status_code == 200


async def test_unknown_tenant_is_404_and_foreign_tenant_403(client: AsyncClient, auth: Auth) -> None:
    missing = await client.get("/api/v1/tenants/nowhere", headers=await auth("cstaff"))
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    foreign = await client.get("/api/v1/tenants/comm-b", headers=await auth("cstaff"))
    assert foreign.status_code == 403
    assert set(foreign.json()) <= {"status", "title", "detail"}


async def test_no_token_or_a_bad_token_is_401(client: AsyncClient) -> None:
    assert (await client.get("/api/v1/tenants/comm-a")).status_code == 401
    bad = await client.get("/api/v1/tenants/comm-a", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401


async def test_a_compound_with_more_buildings_than_the_cap_is_refused_whole(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("cstaff")
    huge = {"name": "大小区", "buildings": [f"{n}号楼" for n in range(1, 502)]}
    refused = await client.post("/api/v1/tenants/comm-a/compounds", json=huge, headers=headers)
    assert refused.status_code == 422
    assert "楼栋最多 500 项" in refused.json()["detail"]
    assert any(e["field"] == "buildings" for e in refused.json()["errors"])
    names = [c["name"] for c in (await client.get("/api/v1/tenants/comm-a/compounds", headers=headers)).json()]
    assert "大小区" not in names
