"""The API while filing: the open concerns of this community like what a resident is typing, told without a word
of what their reporters wrote about themselves, and its input refused field by field."""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient

from tests.conftest import Auth
from tests.helpers import BASE
from tests.related.matters import LAMP, ROOF, file_in, similar

pytestmark = pytest.mark.usefixtures("world")
SIMILAR = f"{BASE}/concerns/similar"
PUBLIC_FIELDS = {"id", "reference", "summary", "status", "status_name", "supporters", "created_at", "joined", "mine",
                 "joinable", "score"}


async def test_the_matching_open_concern_of_this_community_is_answered(client: AsyncClient, auth: Auth) -> None:
    roof = await file_in(client, "comm-a", await auth("resident"), ROOF)
    lamp = await file_in(client, "comm-a", await auth("resident"), LAMP)
    resolved = await client.post(f"{BASE}/concerns/{lamp['id']}/triage", headers=await auth("cstaff"),
                                 json={"action": "resolve_directly", "note": "已更换灯泡"})
    assert resolved.status_code == 200, resolved.text
    elsewhere = await file_in(client, "comm-b", await auth("bstaff"), ROOF)  # the same words, another community

    neighbour = await auth("neighbour")
    [found] = await similar(client, neighbour, {"title": "十四号楼楼顶的垃圾导致漏水", "description": "楼顶垃圾很多"})
    assert set(found) == PUBLIC_FIELDS
    assert (found["id"], found["reference"], found["summary"]) == (roof["id"], roof["reference"], ROOF["title"])
    assert (found["status"], found["status_name"], found["supporters"]) == ("submitted", "已提交，待受理", 0)
    assert (found["joined"], found["mine"], found["joinable"]) == (False, False, True) and 0 < found["score"] <= 1
    assert found["id"] != elsewhere["id"]
    # The lamp was resolved: a handled matter is shown, so the resident sees what was done, but not to join.
    [handled] = await similar(client, neighbour, {"title": "东门路灯坏了", "description": "晚上看不见路"})
    assert (handled["id"], handled["status"], handled["joinable"]) == (lamp["id"], "resolved", False)
    # comm-b's staff see their own community's concern, never comm-a's.
    [theirs] = await similar(client, await auth("bstaff"), {**ROOF, "category": None}, slug="comm-b")
    assert theirs["id"] == elsewhere["id"]
    # The reporter is told the one they raised is theirs: nothing to join.
    [own] = await similar(client, await auth("resident"), {"title": ROOF["title"], "description": ""})
    assert own["mine"] is True


async def test_a_short_or_empty_text_answers_nothing(client: AsyncClient, auth: Auth) -> None:
    await file_in(client, "comm-a", await auth("resident"), ROOF)
    neighbour = await auth("neighbour")
    for typed in ({"title": "", "description": ""}, {"title": "漏", "description": ""},
                  {"title": "   ", "description": "\n"}):
        assert await similar(client, neighbour, typed) == [], typed


async def test_nothing_a_reporter_wrote_of_themselves_is_answered(client: AsyncClient, auth: Auth) -> None:
    own = await file_in(client, "comm-a", await auth("resident"), {
        **ROOF, "description": "14号楼楼顶垃圾堆积漏水，我是柳先生，电话13812341234，住14号楼502"})
    for_her = await file_in(client, "comm-a", await auth("grid"), {
        **ROOF, "title": "王秀英反映14号楼楼顶垃圾漏水", "description": "14号楼楼顶垃圾漏水，联系王秀英 13900001111",
        "resident_name": "王秀英", "resident_phone": "13900001111"})
    answer = await client.post(SIMILAR, headers=await auth("neighbour"), json=ROOF)
    assert answer.status_code == 200
    assert {c["id"] for c in answer.json()} == {own["id"], for_her["id"]}
    for personal in ("柳", "13812341234", "502", "王秀英", "13900001111", "联系", "电话", "resident"):
        assert personal not in answer.text, personal


@pytest.mark.parametrize(("body", "status", "fields"), [
    ({"description": "楼顶漏水"}, 400, ["title"]),
    ({"title": "漏水"}, 400, ["description"]),
    ({"title": "漏" * 121, "description": ""}, 422, ["title"]),
    ({"title": "漏水", "description": "", "compound_id": "not-a-uuid"}, 400, ["compound_id"]),
    ({"title": "漏水", "description": "", "category": "no_such"}, 422, ["category"]),
    ({"title": "漏水", "description": "", "building_id": str(uuid.uuid4())}, 422, ["building_id"]),
    ({"title": "漏水", "description": "", "category": "no_such", "compound_id": str(uuid.uuid4())}, 422,
     ["category", "compound_id"]),
    ({"title": "漏水", "description": "", "place": "14号楼"}, 400, ["place"]),
])
async def test_bad_input_is_refused_naming_each_field(client: AsyncClient, auth: Auth, body: dict, status: int,
                                                      fields: list[str]) -> None:
    answer = await client.post(SIMILAR, headers=await auth("neighbour"), json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert [e["field"] for e in problem["errors"]] == fields
    assert all("\u4e00" <= ch <= "\u9fff" for e in problem["errors"] for ch in e["message"][:1]), problem


async def test_a_building_of_another_community_is_refused(client: AsyncClient, auth: Auth) -> None:
    compounds = (await client.get("/api/v1/tenants/comm-b/compounds", headers=await auth("admin"))).json()
    building = compounds[0]["buildings"][0]["id"]
    answer = await client.post(SIMILAR, headers=await auth("neighbour"),
                               json={**ROOF, "building_id": building})
    assert answer.status_code == 422 and answer.json()["errors"][0] == {
        "field": "building_id", "message": "本社区没有这个楼栋"}


async def test_only_those_who_may_file_may_ask(client: AsyncClient, auth: Auth) -> None:
    await file_in(client, "comm-a", await auth("resident"), ROOF)
    for who in ("outsider", "wuye", "bstaff"):  # no role here; a role that does not file; another community's staff
        answer = await client.post(SIMILAR, headers=await auth(who), json=ROOF)
        assert answer.status_code == 403, (who, answer.text)
