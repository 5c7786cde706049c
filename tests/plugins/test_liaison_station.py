"""The liaison station plugin: stations, receptions that become concerns and duty-list items, and items that
follow the core topic to the end."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from core import clock
from tests.conftest import Auth
from tests.helpers import BASE, LIAISON, reception, station

pytestmark = pytest.mark.usefixtures("world")
TODAY = clock.today().isoformat()
async def test_stations_and_their_schedule(client: AsyncClient, auth: Auth) -> None:
    site = await station(client, auth)
    assert site["kind_name"] == "庭院联络站" and site["schedule"][0]["deputy"] == "deputy"
    listed = (await client.get(f"{LIAISON}/stations", headers=await auth("resident"))).json()
    assert [s["name"] for s in listed] == ["甲小区庭院联络站"]
    staff = await auth("cstaff")
    for body, field in [({"name": "x", "kind": "tent"}, "kind"),
                        ({"name": "x", "kind": "courtyard", "schedule": [{"deputy": "deputy", "weekday": 9,
                                                                           "start": "09:00", "end": "10:00"}]}, "schedule"),
                        ({"name": "x", "kind": "courtyard", "schedule": [{"deputy": "ghost", "weekday": 1,
                                                                           "start": "09:00", "end": "10:00"}]}, "schedule"),
                        ({"name": " ", "kind": "courtyard"}, "name")]:
        response = await client.post(f"{LIAISON}/stations", json=body, headers=staff)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, body
    assert (await client.post(f"{LIAISON}/stations", json={"name": "x", "kind": "courtyard"},
                              headers=await auth("resident"))).status_code == 403


async def test_each_request_received_becomes_a_concern_and_a_duty_item(client: AsyncClient, auth: Auth) -> None:
    received = await reception(client, auth)
    assert received["deputy"] == "deputy" and len(received["items"]) == 2
    assert {i["state"] for i in received["items"]} == {"received"}
    concern = (await client.get(f"{BASE}/concerns/{received['items'][0]['concern']}", headers=await auth("cstaff"))).json()
    assert concern["channel"] == "liaison_station" and concern["reference"] == received["items"][0]["reference"]
    mine = (await client.get(f"{LIAISON}/duty-list", headers=await auth("deputy"))).json()
    assert len(mine) == 2
    assert (await client.get(f"{LIAISON}/duty-list", headers=await auth("deputy2"))).json() == []
    by_staff = (await client.get(f"{LIAISON}/duty-list?deputy=deputy", headers=await auth("cstaff"))).json()
    assert len(by_staff) == 2
    foreign = await client.post(f"{LIAISON}/duty-list/{mine[0]['id']}/notes", headers=await auth("deputy2"),
                                json={"kind": "other", "text": "x"})
    assert foreign.status_code == 404


async def test_bad_receptions_are_refused_and_file_nothing(client: AsyncClient, auth: Auth) -> None:
    site = await station(client, auth)
    base = {"station": site["id"], "held_at": "2026-07-20T09:30:00+08:00", "residents_received": 3,
            "requests": [{"title": "t", "description": "d"}]}
    for change, status in [({"requests": []}, 422), ({"residents_received": 0}, 422),
                           ({"requests": [{"title": "", "description": "d"}]}, 422),
                           ({"deputy": "deputy2"}, 403)]:
        response = await client.post(f"{LIAISON}/receptions", json={**base, **change}, headers=await auth("deputy"))
        assert response.status_code == status, (change, response.text)
    assert (await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))).json()["total"] == 0
    assert (await client.post(f"{LIAISON}/receptions", json=base, headers=await auth("resident"))).status_code == 403


async def test_a_duty_item_follows_its_topic_to_the_end(client: AsyncClient, auth: Auth) -> None:
    staff, deputy = await auth("cstaff"), await auth("deputy")
    item = (await reception(client, auth, requests=1))["items"][0]

    async def state() -> str:
        items = (await client.get(f"{LIAISON}/duty-list", headers=deputy)).json()
        return next(i["state"] for i in items if i["id"] == item["id"])

    await client.post(f"{BASE}/concerns/{item['concern']}/triage", json={"action": "accept"}, headers=staff)
    topic = (await client.post(f"{BASE}/topics", json={"title": "清运", "concern_ids": [item["concern"]]},
                               headers=staff)).json()["id"]
    assert await state() == "researching"
    meeting = (await client.post(f"{BASE}/topics/{topic}/meetings", headers=staff, json={
        "mechanism": "liaison_station", "venue": "甲小区庭院联络站", "starts_at": "2026-07-25T19:00:00+08:00"})).json()
    assert await state() == "in_consultation"
    await client.post(f"{BASE}/meetings/{meeting['id']}/minutes", json={"minutes": "议"}, headers=staff)
    await client.post(f"{BASE}/meetings/{meeting['id']}/decision", json={"text": "清运", "method": "consensus"},
                      headers=staff)
    await client.post(f"{BASE}/topics/{topic}/publish", headers=staff)
    assert await state() == "referred"
    action = (await client.post(f"{BASE}/topics/{topic}/actions", headers=staff, json={
        "title": "清运", "owner_user": "zhujian", "due_date": TODAY})).json()
    await client.post(f"{BASE}/actions/{action['id']}/progress", json={"percent": 50}, headers=staff)
    assert await state() == "supervising"
    note = await client.post(f"{LIAISON}/duty-list/{item['id']}/notes", headers=deputy,
                             json={"kind": "supervised_works", "text": "现场监督"})
    assert note.status_code == 201 and note.json()["notes"][0]["kind"] == "supervised_works"
    await client.post(f"{BASE}/actions/{action['id']}/complete", headers=staff)
    assert await state() == "closed"
    assert (await client.post(f"{LIAISON}/duty-list/{item['id']}/feedback", json={"score": 6},
                              headers=deputy)).status_code == 422
    feedback = await client.post(f"{LIAISON}/duty-list/{item['id']}/feedback", json={"score": 5, "text": "满意"},
                                 headers=deputy)
    assert feedback.status_code == 201 and feedback.json()["feedback_score"] == 5
    record = (await client.get(f"{LIAISON}/deputies/deputy/record", headers=deputy)).json()
    assert (record["received"], record["closed"], record["average_feedback"]) == (1, 1, 5.0)
    assert record["median_days_to_close"] is not None
    assert (await client.get(f"{LIAISON}/deputies/deputy/record", headers=await auth("deputy2"))).status_code == 404


async def test_a_withdrawn_topic_puts_the_item_back_and_a_direct_resolution_closes_it(client: AsyncClient,
                                                                                        auth: Auth) -> None:
    staff, deputy = await auth("cstaff"), await auth("deputy")
    first, second = (await reception(client, auth))["items"]
    await client.post(f"{BASE}/concerns/{first['concern']}/triage", json={"action": "accept"}, headers=staff)
    topic = (await client.post(f"{BASE}/topics", json={"title": "t", "concern_ids": [first["concern"]]},
                               headers=staff)).json()["id"]
    await client.post(f"{BASE}/topics/{topic}/withdraw", json={"reason": "另案处理"}, headers=staff)
    await client.post(f"{BASE}/concerns/{second['concern']}/triage",
                      json={"action": "resolve_directly", "note": "当场解决"}, headers=staff)
    states = {i["id"]: i["state"] for i in (await client.get(f"{LIAISON}/duty-list", headers=deputy)).json()}
    assert states == {first["id"]: "received", second["id"]: "closed"}


async def test_the_mechanism_exists_only_where_the_plugin_is_on(client: AsyncClient, auth: Auth) -> None:
    body = {"title": "t", "description": "d", "category": "other"}
    bstaff = await auth("bstaff")
    concern = (await client.post("/api/v1/tenants/comm-b/concerns", json=body, headers=bstaff)).json()
    await client.post(f"/api/v1/tenants/comm-b/concerns/{concern['id']}/triage", json={"action": "accept"},
                      headers=bstaff)
    topic = (await client.post("/api/v1/tenants/comm-b/topics", json={"title": "t", "concern_ids": [concern["id"]]},
                               headers=bstaff)).json()["id"]
    refused = await client.post(f"/api/v1/tenants/comm-b/topics/{topic}/meetings", headers=bstaff, json={
        "mechanism": "liaison_station", "venue": "亭", "starts_at": "2026-07-25T19:00:00+08:00"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "mechanism"


async def test_another_tenants_duty_items_and_stations_are_404(client: AsyncClient, auth: Auth) -> None:
    item = (await reception(client, auth, requests=1))["items"][0]
    dadmin = await auth("dadmin")  # may act in comm-b too, once the plugin is on there
    await client.patch("/api/v1/tenants/comm-b", json={"plugins": ["liaison_station"]}, headers=dadmin)
    other = "/api/v1/tenants/comm-b/liaison"
    note = await client.post(f"{other}/duty-list/{item['id']}/notes", json={"kind": "other", "text": "x"},
                             headers=dadmin)
    assert note.status_code == 404
    assert (await client.get(f"{other}/duty-list", headers=dadmin)).json() == []
    stations = (await client.get(f"{LIAISON}/stations", headers=dadmin)).json()
    crossed = await client.post(f"{other}/receptions", headers=dadmin, json={
        "station": stations[0]["id"], "held_at": "2026-07-20T09:30:00+08:00", "residents_received": 1,
        "deputy": "deputy", "requests": [{"title": "t", "description": "d"}]})
    assert crossed.status_code == 422 and crossed.json()["errors"][0]["field"] == "station"


async def test_a_reception_sent_again_with_its_idempotency_key_is_recorded_once(client: AsyncClient,
                                                                               auth: Auth) -> None:
    site = await station(client, auth)
    headers = {**await auth("deputy"), "Idempotency-Key": "reception-2026-07-20"}
    body = {"station": site["id"], "held_at": "2026-07-20T09:30:00+08:00", "residents_received": 3,
            "requests": [{"title": "楼道灯坏了", "description": "3单元楼道灯坏了一个月", "category": "other"}]}
    first = await client.post(f"{LIAISON}/receptions", json=body, headers=headers)
    again = await client.post(f"{LIAISON}/receptions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    other = await client.post(f"{LIAISON}/receptions", json={**body, "residents_received": 4}, headers=headers)
    assert other.status_code == 409 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    items = (await client.get(f"{LIAISON}/duty-list", headers=await auth("deputy"))).json()
    assert [i["title"] for i in items] == ["楼道灯坏了"]
    filed = (await client.get(f"{BASE}/concerns", headers=await auth("cstaff"))).json()["items"]
    assert [c["title"] for c in filed] == ["楼道灯坏了"]
