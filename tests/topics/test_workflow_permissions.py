"""Section 8 of the method: each transition × role, and tenant categories."""

from __future__ import annotations

import datetime

import pytest
from httpx import AsyncClient

from core import clock
from tests.conftest import Auth
from tests.helpers import BASE, WATER, accepted_concern, file, topic_at

pytestmark = pytest.mark.usefixtures("world")
TODAY = clock.today().isoformat()
MANAGERS = {"cstaff", "dadmin", "sstaff"}  # community staff, and the street and district above it
OTHERS = ["grid", "resident", "wuye", "zhujian", "bstaff", "badmin", "outsider"]
# command → (state the topic must be in, request)
TRANSITIONS = {
    "research": ("drafted", lambda t, ids: ("POST", f"/topics/{t}/research",
                                            {"kind": "site_visit", "date": TODAY, "findings": "看了"})),
    "schedule": ("researching", lambda t, ids: ("POST", f"/topics/{t}/meetings",
                                                {"mechanism": "monthly", "venue": "亭", "starts_at": "2026-08-01T09:00:00+08:00"})),
    "minutes": ("scheduled", lambda t, ids: ("POST", f"/meetings/{ids['meeting']}/minutes", {"minutes": "记"})),
    "publish": ("deliberated", lambda t, ids: ("POST", f"/topics/{t}/publish", None)),
    "add_action": ("published", lambda t, ids: ("POST", f"/topics/{t}/actions",
                                                 {"title": "办", "owner_org": "物业", "due_date": TODAY})),
    "withdraw": ("drafted", lambda t, ids: ("POST", f"/topics/{t}/withdraw", {"reason": "不再需要"})),
}


@pytest.mark.parametrize("command", sorted(TRANSITIONS))
@pytest.mark.parametrize("user", sorted(MANAGERS) + OTHERS)
async def test_each_transition_by_each_role(client: AsyncClient, auth: Auth, command: str, user: str) -> None:
    state, request = TRANSITIONS[command]
    topic_id, ids = await topic_at(client, auth, state)
    method, path, body = request(topic_id, ids)
    response = await client.request(method, BASE + path, json=body, headers=await auth(user))
    if user in MANAGERS:
        assert response.status_code in (200, 201), (user, command, response.text)
    else:
        assert response.status_code == 403, (user, command, response.status_code)
    after = (await client.get(f"{BASE}/topics/{topic_id}", headers=await auth("cstaff"))).json()["topic"]["state"]
    assert (after != state or command in ("minutes", "add_action")) if user in MANAGERS else after == state


async def test_who_may_file_and_who_may_read_topics(client: AsyncClient, auth: Auth) -> None:
    for user in ("resident", "grid", "cstaff"):
        assert (await client.post(f"{BASE}/concerns", json=WATER, headers=await auth(user))).status_code == 201
    for user in ("wuye", "zhujian", "outsider", "bstaff"):
        assert (await client.post(f"{BASE}/concerns", json=WATER, headers=await auth(user))).status_code == 403
    for user, status in (("cstaff", 200), ("dadmin", 200), ("resident", 403), ("wuye", 403), ("grid", 403)):
        assert (await client.get(f"{BASE}/topics", headers=await auth(user))).status_code == status, user
    concern = await accepted_concern(client, auth)
    topic = await client.post(f"{BASE}/topics", json={"title": "议题", "concern_ids": [concern["id"]]},
                              headers=await auth("resident"))
    assert topic.status_code == 403
    not_accepted = await file(client, await auth("resident"))
    refused = await client.post(f"{BASE}/topics", json={"title": "议题", "concern_ids": [not_accepted["id"]]},
                                headers=await auth("cstaff"))
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "concern_ids"


async def test_a_tenant_extends_the_default_categories(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    before = (await client.get(f"{BASE}/categories", headers=await auth("resident"))).json()
    assert {c["code"] for c in before} >= {"property_service", "drainage", "ev_charging", "heating", "other"}
    assert (await client.post(f"{BASE}/categories", json={"code": "elevator", "name": "电梯"},
                              headers=await auth("resident"))).status_code == 403
    added = await client.post(f"{BASE}/categories", json={"code": "elevator", "name": "电梯"}, headers=staff)
    assert added.status_code == 201
    assert (await client.post(f"{BASE}/categories", json={"code": "elevator", "name": "电梯"},
                              headers=staff)).status_code == 409
    assert (await client.post(f"{BASE}/categories", json={"code": "Bad Code", "name": "x"},
                              headers=staff)).status_code == 422
    filed = await client.post(f"{BASE}/concerns", json={**WATER, "category": "elevator"}, headers=await auth("resident"))
    assert filed.status_code == 201
    elsewhere = await client.post("/api/v1/tenants/comm-b/concerns", json={**WATER, "category": "elevator"},
                                  headers=await auth("bstaff"))
    assert elsewhere.status_code == 422


async def test_concern_lists_filter_and_sort_from_an_allowlist(client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    first = await file(client, await auth("resident"), {"category": "noise"})
    await file(client, await auth("resident"))
    await client.post(f"{BASE}/concerns/{first['id']}/triage", json={"action": "accept"}, headers=staff)
    accepted = (await client.get(f"{BASE}/concerns?status=accepted", headers=staff)).json()
    assert [c["id"] for c in accepted["items"]] == [first["id"]]
    noise = (await client.get(f"{BASE}/concerns?category=noise", headers=staff)).json()
    assert noise["total"] == 1
    oldest = (await client.get(f"{BASE}/concerns?sort=created_at&limit=1", headers=staff)).json()
    assert oldest["items"][0]["id"] == first["id"] and oldest["total"] == 2
    today = clock.today()
    window = (await client.get(f"{BASE}/concerns?created_from={today}&created_to={today}", headers=staff)).json()
    assert window["total"] == 2
    future = (await client.get(f"{BASE}/concerns?created_from={today + datetime.timedelta(days=1)}",
                               headers=staff)).json()
    assert future["total"] == 0
    for bad in ("sort=password_hash", "status=lost", "created_from=yesterday", "compound=nope"):
        response = await client.get(f"{BASE}/concerns?{bad}", headers=staff)
        assert response.status_code in (400, 422), bad
