"""Compounds and buildings through the API: renamed and archived (and brought back); an archived one is offered
to nobody (the join form, the filing form, the join QR code, `resolve_place`) and still names what already
named it; names stay unique; another community's compound is not there."""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient

from tests.conftest import Auth
from tests.helpers import BASE, WATER, file, text_of

pytestmark = pytest.mark.usefixtures("world")
COMPOUNDS = f"{BASE}/compounds"


async def _compound(client: AsyncClient, auth: Auth, name: str = "甲小区", slug: str = "comm-a",
                    user: str = "cstaff") -> dict:
    listed = (await client.get(f"/api/v1/tenants/{slug}/compounds?archived=true", headers=await auth(user))).json()
    return next(c for c in listed if c["name"] == name)


async def test_staff_rename_a_compound_and_a_building(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("cstaff")
    compound = await _compound(client, auth)
    building = next(b for b in compound["buildings"] if b["name"] == "1号楼")
    renamed = await client.patch(f"{COMPOUNDS}/{compound['id']}", json={"name": " 甲花园 "}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "甲花园" and renamed.json()["archived"] is False
    moved = await client.patch(f"{COMPOUNDS}/{compound['id']}/buildings/{building['id']}", json={"name": "一号楼"},
                               headers=headers)
    assert moved.status_code == 200 and moved.json() == {"id": building["id"], "name": "一号楼", "archived": False}
    got = (await client.get(f"{COMPOUNDS}/{compound['id']}", headers=headers)).json()
    assert got["name"] == "甲花园" and sorted(b["name"] for b in got["buildings"]) == ["2号楼", "一号楼"]
    # The same name again changes nothing and is no conflict with itself.
    same = await client.patch(f"{COMPOUNDS}/{compound['id']}", json={"name": "甲花园"}, headers=headers)
    assert same.status_code == 200


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"name": "乙园"}, 409, "name"),  # another compound of the community has it
    ({"name": "   "}, 422, "name"),
    ({"name": "园" * 101}, 422, "name"),
    ({"archived": "yes"}, 400, "archived"),
])
async def test_a_compound_name_taken_or_broken_is_refused_with_its_field(client: AsyncClient, auth: Auth,
                                                                         body: dict, status: int, field: str) -> None:
    headers = await auth("cstaff")
    created = await client.post(COMPOUNDS, json={"name": "乙园"}, headers=headers)
    assert created.status_code == 201
    compound = await _compound(client, auth)
    refused = await client.patch(f"{COMPOUNDS}/{compound['id']}", json=body, headers=headers)
    assert refused.status_code == status, refused.text
    assert refused.json()["errors"][0]["field"] == field
    assert (await _compound(client, auth))["name"] == "甲小区"


async def test_a_building_name_is_unique_in_its_compound_only(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("cstaff")
    compound = await _compound(client, auth)
    first = next(b for b in compound["buildings"] if b["name"] == "1号楼")
    taken = await client.patch(f"{COMPOUNDS}/{compound['id']}/buildings/{first['id']}", json={"name": "2号楼"},
                               headers=headers)
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "name"
    other = (await client.post(COMPOUNDS, json={"name": "乙园", "buildings": ["3号楼"]}, headers=headers)).json()
    elsewhere = await client.patch(f"{COMPOUNDS}/{other['id']}/buildings/{other['buildings'][0]['id']}",
                                   json={"name": "1号楼"}, headers=headers)
    assert elsewhere.status_code == 200  # 1号楼 in two compounds is two buildings
    # A building is reached through its own compound only.
    crossed = await client.patch(f"{COMPOUNDS}/{other['id']}/buildings/{first['id']}", json={"name": "x"},
                                 headers=headers)
    assert crossed.status_code == 404


async def test_an_archived_compound_is_offered_to_nobody_and_keeps_its_name(client: AsyncClient,
                                                                            auth: Auth) -> None:
    staff, resident = await auth("cstaff"), await auth("resident")
    compound = await _compound(client, auth)
    building = compound["buildings"][0]
    before = await file(client, resident, {"compound": compound["id"], "building": building["id"]})
    archived = await client.patch(f"{COMPOUNDS}/{compound['id']}", json={"archived": True}, headers=staff)
    assert archived.status_code == 200 and archived.json()["archived"] is True
    # Not offered: the lists a form reads, the join form, the join QR code, the filing form and filing itself.
    assert "甲小区" not in [c["name"] for c in (await client.get(COMPOUNDS, headers=resident)).json()]
    assert "甲小区" not in text_of(await client.get("/t/comm-a/join"))
    assert (await client.get(f"/t/comm-a/join/qr.svg?compound={compound['id']}")).status_code == 422
    for body, field in (({"compound": compound["id"]}, "compound"), ({"building": building["id"]}, "building")):
        refused = await client.post(f"{BASE}/concerns", json={**WATER, **body}, headers=resident)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field
    # Kept: staff still list and read it, and what named it still does.
    assert (await _compound(client, auth))["archived"] is True
    got = await client.get(f"{COMPOUNDS}/{compound['id']}", headers=resident)
    assert got.status_code == 200 and got.json()["name"] == "甲小区"
    concern = (await client.get(f"{BASE}/concerns/{before['id']}", headers=staff)).json()
    assert concern["compound"] == compound["id"] and concern["building"] == building["id"]
    # No new building while archived; brought back, it is offered again.
    closed = await client.post(f"{COMPOUNDS}/{compound['id']}/buildings", json={"name": "9号楼"}, headers=staff)
    assert closed.status_code == 409
    restored = await client.patch(f"{COMPOUNDS}/{compound['id']}", json={"archived": False}, headers=staff)
    assert restored.status_code == 200
    assert "甲小区" in [c["name"] for c in (await client.get(COMPOUNDS, headers=resident)).json()]
    await file(client, resident, {"compound": compound["id"]})


async def test_an_archived_building_is_refused_and_hidden_but_its_compound_is_not(client: AsyncClient,
                                                                                  auth: Auth) -> None:
    staff, resident = await auth("cstaff"), await auth("resident")
    compound = await _compound(client, auth)
    gone = next(b for b in compound["buildings"] if b["name"] == "1号楼")
    archived = await client.patch(f"{COMPOUNDS}/{compound['id']}/buildings/{gone['id']}", json={"archived": True},
                                  headers=staff)
    assert archived.status_code == 200 and archived.json()["archived"] is True
    offered = next(c for c in (await client.get(COMPOUNDS, headers=resident)).json() if c["name"] == "甲小区")
    assert [b["name"] for b in offered["buildings"]] == ["2号楼"]
    refused = await client.post(f"{BASE}/concerns", json={**WATER, "building": gone["id"]}, headers=resident)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "building"
    await file(client, resident, {"compound": compound["id"]})
    # Taken by an archived building, a name is still taken (and the refusal says it can be brought back).
    again = await client.post(f"{COMPOUNDS}/{compound['id']}/buildings", json={"name": "1号楼"}, headers=staff)
    assert again.status_code == 409 and "恢复" in again.json()["detail"]


async def test_residents_and_other_communities_cannot_change_a_compound(client: AsyncClient, auth: Auth) -> None:
    compound = await _compound(client, auth)
    building = compound["buildings"][0]
    assert (await client.patch(f"{COMPOUNDS}/{compound['id']}", json={"name": "我家小区"},
                               headers=await auth("resident"))).status_code == 403
    # Another community's staff, through their own community's path: no such compound there.
    theirs = "/api/v1/tenants/comm-b/compounds"
    bstaff = await auth("bstaff")
    for path in (f"{theirs}/{compound['id']}", f"{theirs}/{compound['id']}/buildings/{building['id']}"):
        assert (await client.patch(path, json={"archived": True}, headers=bstaff)).status_code == 404
    assert (await client.patch(f"{theirs}/{uuid.uuid4()}", json={"name": "x"}, headers=bstaff)).status_code == 404
    # And through ours: not theirs to change.
    assert (await client.patch(f"{COMPOUNDS}/{compound['id']}", json={"archived": True},
                               headers=bstaff)).status_code == 403
    assert (await _compound(client, auth))["archived"] is False
