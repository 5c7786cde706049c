"""Correcting mistakes through the API: a filer edits or withdraws a concern until it is triaged, staff correct its
category or place, reassign or cancel an action item; each correction is one event and tells who must hear."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core.concerns.models import Concern
from core.events import WorkflowEvent
from core.notifications.fanout import fan_out
from core.related import index as related_index
from core.related.models import ConcernBand
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import BASE, TODAY, WATER, file, topic_at

pytestmark = pytest.mark.usefixtures("world")
EDIT = {**WATER, "title": "北门内侧再装一台直饮水机", "description": "西北角的居民取水要走七分钟，请在北门内侧加装。"}


async def _actions(app: Litestar, concern_id: str) -> list[str]:
    """The concern's events, oldest first, by action."""
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        return list((await scope.session.scalars(select(WorkflowEvent.action).where(
            WorkflowEvent.subject_id == concern_id).order_by(WorkflowEvent.seq))).all())


async def _band(app: Litestar, concern_id: str) -> set[int]:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        return set((await scope.session.scalars(select(ConcernBand.key).where(
            ConcernBand.concern_id == concern_id))).all())


async def _concern(app: Litestar, concern_id: str) -> Concern:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        found = await scope.session.scalar(select(Concern).where(Concern.id == concern_id))
        assert found is not None
        return found


async def _notified(client: AsyncClient, auth: Auth, who: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/me/notifications", headers=await auth(who))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_resident_edits_their_concern_until_it_is_triaged_and_the_index_follows(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    concern = await file(client, resident, {"title": "柳先生家楼下的直饮水机坏了"})
    await fan_out(app.state)  # what writes a new concern's keys, once filed
    before = await _band(app, concern["id"])
    assert before
    edited = await client.patch(f"{BASE}/concerns/{concern['id']}", json=EDIT, headers=resident)
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["title"] == EDIT["title"] and body["description"] == EDIT["description"] and body["editable"]
    assert body["public_summary"] == EDIT["title"]
    after = await _band(app, concern["id"])
    assert after == set(related_index.keys_of(EDIT["title"], EDIT["description"])) and after != before
    # A neighbour typing the same matter finds it by its new words.
    similar = await client.post(f"{BASE}/concerns/similar", headers=await auth("neighbour"),
                                json={"title": EDIT["title"], "description": EDIT["description"]})
    assert similar.status_code == 200, similar.text
    assert concern["reference"] in [found["reference"] for found in similar.json()], similar.text
    # The new title is redacted for the public as a new filing's is.
    named = await client.patch(f"{BASE}/concerns/{concern['id']}", headers=resident,
                               json={**EDIT, "title": "请联系13812341234 柳先生"})
    assert named.status_code == 200 and "13812341234" not in named.json()["public_summary"]
    # Someone else may not edit it; nothing changed is refused by its field.
    assert (await client.patch(f"{BASE}/concerns/{concern['id']}", json=EDIT,
                               headers=await auth("neighbour"))).status_code == 404
    same = await client.patch(f"{BASE}/concerns/{concern['id']}", headers=resident,
                              json={**EDIT, "title": "请联系13812341234 柳先生"})
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "title"
    bad = await client.patch(f"{BASE}/concerns/{concern['id']}", headers=resident,
                             json={**EDIT, "title": " ", "category": "nope"})
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"title", "category"}
    # Once triaged: a Chinese 409.
    staff = await auth("cstaff")
    assert (await client.post(f"{BASE}/concerns/{concern['id']}/triage", json={"action": "accept"},
                              headers=staff)).status_code == 200
    late = await client.patch(f"{BASE}/concerns/{concern['id']}", json=EDIT, headers=resident)
    assert late.status_code == 409 and "已受理" in late.json()["detail"] and "不能再修改" in late.json()["detail"]
    late = await client.post(f"{BASE}/concerns/{concern['id']}/withdraw", json={}, headers=resident)
    assert late.status_code == 409 and "不能再撤回" in late.json()["detail"]
    assert await _actions(app, concern["id"]) == ["concern.filed", "concern.edited", "concern.edited",
                                                  "concern.accept"]


async def test_an_edit_before_the_fan_out_is_indexed_once_under_its_new_words(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    concern = await file(client, resident, {"title": "柳先生家楼下的直饮水机坏了"})
    assert await _band(app, concern["id"]) == set()
    edited = await client.patch(f"{BASE}/concerns/{concern['id']}", json=EDIT, headers=resident)
    assert edited.status_code == 200, edited.text
    assert (await fan_out(app.state)).indexed == 0  # the edit wrote them already
    assert await _band(app, concern["id"]) == set(related_index.keys_of(EDIT["title"], EDIT["description"]))


async def test_a_withdrawn_concern_leaves_the_inbox_the_index_and_tells_who_joined_it(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    kept, concern = await file(client, resident), await file(client, resident)
    assert kept["id"] != concern["id"]
    await fan_out(app.state)
    assert await _band(app, concern["id"])
    joined = await client.post(f"{BASE}/concerns/{concern['id']}/support", headers=await auth("neighbour"))
    assert joined.status_code in (200, 201), joined.text
    withdrawn = await client.post(f"{BASE}/concerns/{concern['id']}/withdraw", json={"reason": "已自行解决"},
                                  headers=resident)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["status_name"] == "已撤回"
    assert not withdrawn.json()["editable"] and withdrawn.json()["light"] is None
    assert await _band(app, concern["id"]) == set()
    await fan_out(app.state)
    assert await _band(app, concern["id"]) == set()  # and no later run indexes it again
    row = await _concern(app, concern["id"])
    assert row.closed_at is not None and row.alert_at is None
    listed = (await client.get(f"{BASE}/concerns", params={"status": "submitted"}, headers=await auth("cstaff"))).json()
    assert concern["id"] not in [c["id"] for c in listed["items"]]
    [told] = [n for n in await _notified(client, auth, "neighbour") if n["kind"] == "concern.withdrawn"]
    assert told["subject"] == "诉求已撤回" and concern["reference"] in told["body"]
    assert not [n for n in await _notified(client, auth, "resident") if n["kind"] == "concern.withdrawn"]
    # Never handled, it counts in no rate: only the concern kept was received.
    rates = (await client.get(f"{BASE}/rates", headers=await auth("cstaff"))).json()
    assert rates["own"]["concerns_received"] == 1, rates
    again = await client.post(f"{BASE}/concerns/{concern['id']}/withdraw", json={}, headers=resident)
    assert again.status_code == 409 and "已撤回" in again.json()["detail"]
    triage = await client.post(f"{BASE}/concerns/{concern['id']}/triage", json={"action": "accept"},
                               headers=await auth("cstaff"))
    assert triage.status_code == 409


async def test_staff_correct_a_concerns_category_and_place_with_a_reason(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    concern = await file(client, await auth("resident"))
    compound = (await client.get(f"{BASE}/compounds", headers=staff)).json()[0]
    building = compound["buildings"][1]
    url = f"{BASE}/concerns/{concern['id']}/correction"
    no_reason = await client.post(url, headers=staff, json={"category": "drainage", "reason": " "})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    unknown = await client.post(url, headers=staff, json={"category": "nope", "reason": "分错了"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "category"
    other = (await client.get("/api/v1/tenants/comm-b/compounds", headers=await auth("bstaff"))).json()[0]
    elsewhere = await client.post(url, headers=staff, json={"category": "drainage", "reason": "分错了",
                                                            "building": other["buildings"][0]["id"]})
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["field"] == "building"
    fixed = await client.post(url, headers=staff, json={"category": "drainage", "reason": "其实是管道堵塞",
                                                        "building": building["id"]})
    assert fixed.status_code == 200, fixed.text
    body = fixed.json()
    assert (body["category"], body["category_name"]) == ("drainage", "管道堵塞")
    assert (body["compound"], body["building"]) == (compound["id"], building["id"])
    unchanged = await client.post(url, headers=staff, json={"category": "drainage", "reason": "再来一次",
                                                            "building": building["id"]})
    assert unchanged.status_code == 422
    # Residents may not; another tenant's staff do not see it.
    assert (await client.post(url, headers=await auth("resident"),
                              json={"category": "noise", "reason": "x"})).status_code == 403
    assert (await client.post(f"/api/v1/tenants/comm-b/concerns/{concern['id']}/correction", headers=await auth("bstaff"),
                              json={"category": "noise", "reason": "x"})).status_code == 404
    [told] = [n for n in await _notified(client, auth, "resident") if n["kind"] == "concern.corrected"]
    assert "其实是管道堵塞" in told["body"] and concern["reference"] in told["body"]


async def test_a_corrected_category_brings_its_own_time_limits_and_keeps_an_extension(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")
    # 管道堵塞 is settled faster here: four hours to respond, two days (not working days) to resolve.
    limits = [{"urgency": "normal", "category": "drainage", "respond": "PT4H", "resolve": "P2D"}]
    assert (await client.put(f"{BASE}/time-limits", headers=staff, json={"limits": limits})).status_code == 200
    concern = await file(client, await auth("resident"))
    before = await _concern(app, concern["id"])
    url = f"{BASE}/concerns/{concern['id']}/correction"
    fixed = await client.post(url, headers=staff, json={"category": "drainage", "reason": "其实是管道堵塞"})
    assert fixed.status_code == 200, fixed.text
    after = await _concern(app, concern["id"])
    assert after.respond_by == before.created_at + datetime.timedelta(hours=4)
    assert after.resolve_by == before.created_at + datetime.timedelta(days=2)
    assert (after.respond_working, after.resolve_working) == (False, False)
    assert fixed.json()["deadlines"]["resolve_by"] is not None
    assert after.alert_at == after.respond_warn_at and after.respond_warn_at < after.respond_by
    # Back where it was: the first category's deadlines again, to the second.
    back = await client.post(url, headers=staff, json={"category": WATER["category"], "reason": "还是公共设施"})
    assert back.status_code == 200, back.text
    again = await _concern(app, concern["id"])
    assert (again.respond_by, again.resolve_by, again.resolve_working) == (
        before.respond_by, before.resolve_by, before.resolve_working)
    # Once it is accepted the respond phase is over: a correction moves only the resolve deadline, and keeps
    # what an extension added to it.
    accepted = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=staff, json={"action": "accept"})
    assert accepted.status_code == 200, accepted.text
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        held = await scope.session.scalar(select(Concern).where(Concern.id == concern["id"]))
        assert held is not None and held.resolve_by is not None
        held.resolve_by += datetime.timedelta(days=3)  # as an approved extension of three days leaves it
    responded = await _concern(app, concern["id"])
    assert (await client.post(url, headers=staff, json={"category": "drainage", "reason": "又改回"})).status_code == 200
    last = await _concern(app, concern["id"])
    assert last.respond_by == responded.respond_by
    assert last.resolve_by == before.created_at + datetime.timedelta(days=2 + 3)
    corrected = [e for e in await _events(app, concern["id"]) if e.action == "concern.corrected"]
    assert corrected[-1].payload["resolve_by"] == str(last.resolve_by)


async def _events(app: Litestar, concern_id: str) -> list[WorkflowEvent]:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        return list((await scope.session.scalars(select(WorkflowEvent).where(
            WorkflowEvent.subject_id == concern_id).order_by(WorkflowEvent.seq))).all())


async def test_an_action_item_is_reassigned_from_the_list_of_those_who_can_act_and_both_owners_hear(
        client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "executing")
    staff = await auth("cstaff")
    owners = (await client.get(f"{BASE}/topics/action-owners", headers=staff)).json()
    by_name = {o["username"]: o for o in owners}
    assert by_name["wuye"]["display_name"] == "甲物业" and "property_company" in by_name["wuye"]["roles"]
    assert "cstaff" in by_name and "resident" not in by_name and "grid" not in by_name
    assert (await client.get(f"{BASE}/topics/action-owners", headers=await auth("resident"))).status_code == 403
    url = f"{BASE}/actions/{ids['action']}/reassign"
    refused = await client.post(url, headers=staff, json={"owner_user": "resident", "reason": "换人"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "owner_user"
    no_reason = await client.post(url, headers=staff, json={"owner_user": "cstaff", "reason": ""})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    moved = await client.post(url, headers=staff, json={"owner_user": "cstaff", "owner_org": "甲社区居委会",
                                                        "reason": "物业合同到期"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["owner_user"], moved.json()["owner_name"]) == ("cstaff", "cstaff")
    events = (await client.get(f"{BASE}/topics/{topic_id}/events", headers=staff)).json()
    [event] = [e for e in events if e["action"] == "topic.reassign_action"]
    assert event["payload"]["reason"] == "物业合同到期" and event["payload"]["from"]["owner_org"] == "宁夏鑫盛物业"
    assert (event["from_state"], event["to_state"]) == ("executing", "executing")
    [told] = [n for n in await _notified(client, auth, "wuye") if n["kind"] == "action.unassigned"]
    assert "物业合同到期" in told["body"]
    # The old owner no longer reports on it; the new one (staff here) may.
    assert (await client.post(f"{BASE}/actions/{ids['action']}/progress", headers=await auth("wuye"),
                              json={"percent": 80})).status_code in (403, 404)
    again = await client.post(url, headers=staff, json={"owner_user": "wuye", "reason": "合同续签"})
    assert again.status_code == 200
    [assigned] = [n for n in await _notified(client, auth, "wuye") if n["kind"] == "action.assigned"][:1]
    assert "安装直饮水机" in assigned["body"]
    other = await client.post(f"/api/v1/tenants/comm-b/actions/{ids['action']}/reassign", headers=await auth("bstaff"),
                              json={"owner_org": "乙物业", "reason": "x"})
    assert other.status_code == 404


async def test_cancelling_the_last_open_item_completes_a_topic_whose_other_item_was_done(
        client: AsyncClient, auth: Auth) -> None:
    topic_id, ids = await topic_at(client, auth, "executing")
    staff = await auth("cstaff")
    second = await client.post(f"{BASE}/topics/{topic_id}/actions", headers=staff, json={
        "title": "张贴使用说明", "owner_user": "wuye", "due_date": (TODAY + datetime.timedelta(days=3)).isoformat()})
    assert second.status_code == 201
    done = await client.post(f"{BASE}/actions/{ids['action']}/complete", headers=await auth("wuye"))
    assert done.status_code == 200
    url = f"{BASE}/actions/{second.json()['id']}/cancel"
    assert (await client.post(url, headers=staff, json={"reason": " "})).status_code == 422
    cancelled = await client.post(url, headers=staff, json={"reason": "厂家已附说明"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    detail = (await client.get(f"{BASE}/topics/{topic_id}", headers=staff)).json()
    assert detail["topic"]["state"] == "completed" and detail["concerns"][0]["status"] == "completed"
    twice = await client.post(url, headers=staff, json={"reason": "再取消"})
    assert twice.status_code == 409
    [told] = [n for n in await _notified(client, auth, "wuye") if n["kind"] == "action.cancelled"]
    assert "厂家已附说明" in told["body"]
