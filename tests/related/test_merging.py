"""Merging duplicates through the API (both databases): states, one event each, reporters and supporters carried
to the survivor and told, the refusals (itself, closed, merged, in a topic, another tenant's), undoing within a
day and not after, the sweep and the rates leaving merged concerns out, the related list, the inbox's batched
likely duplicates, and two staff merging at once."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core import clock
from core.concerns.models import Concern
from core.events import WorkflowEvent
from core.related import similarity
from core.related.merging import MergeService, label_of, likely_duplicates
from core.related.models import Supporter
from core.related.services import RelatedService
from core.related.similarity import Text
from core.tenancy.models import Tenant
from core.tenancy.scope import system_session, tenant_session
from core.timelimits.sweep import sweep
from tests.conftest import Auth
from tests.helpers import BASE, file

pytestmark = pytest.mark.usefixtures("world")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
T0 = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=BEIJING)  # a Friday
HOUR = datetime.timedelta(hours=1)
LAMP = {"title": "小区北门路灯坏了", "description": "北门那盏路灯坏了一个多星期，晚上回家很黑，老人容易摔倒",
        "category": "public_facilities"}
LAMP_AGAIN = {"title": "北门路灯不亮", "description": "小区北门的路灯已经坏了好几天，晚上很黑看不清路",
              "category": "public_facilities"}
LAMP_THIRD = {"title": "北门路灯坏了没人修", "description": "北门口路灯一直不亮，晚上走路害怕",
              "category": "public_facilities"}
LAMPS_AROUND = {"title": "小区路灯晚上不亮", "description": "小区里好几盏路灯晚上不亮，希望物业检修",
                "category": "public_facilities"}
CLUTTER = {"title": "楼道里堆满杂物", "description": "三单元楼道堆放大量纸箱和旧家具，有消防隐患",
           "category": "safety"}


async def _merge(client: AsyncClient, auth: Auth, survivor: str, duplicates: list[str], who: str = "cstaff",
                 slug: str = "comm-a", **extra: Any) -> Any:
    return await client.post(f"/api/v1/tenants/{slug}/concerns/{survivor}/merge", headers=await auth(who),
                             json={"duplicates": duplicates, **extra})


async def _unmerge(client: AsyncClient, auth: Auth, duplicate: str, who: str = "cstaff") -> Any:
    return await client.post(f"{BASE}/concerns/{duplicate}/unmerge", headers=await auth(who))


async def _tenant_id(app: Litestar, slug: str = "comm-a") -> uuid.UUID:
    async with app.state.sessionmaker() as session:
        found = await session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    assert found is not None
    return found


async def _row(app: Litestar, concern_id: str) -> Concern:
    async with system_session(app.state, await _tenant_id(app)) as session:
        concern = await session.scalar(select(Concern).where(Concern.id == uuid.UUID(concern_id)))
        assert concern is not None
        session.expunge(concern)
        return concern


async def _events(app: Litestar, concern_id: str) -> list[WorkflowEvent]:
    async with system_session(app.state, await _tenant_id(app)) as session:
        rows = (await session.scalars(select(WorkflowEvent).where(WorkflowEvent.subject_id == uuid.UUID(concern_id))
                                      .order_by(WorkflowEvent.seq))).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


async def _supporters(app: Litestar, concern_id: str) -> dict[str, str | None]:
    """username → the duplicate that brought them (None: joined by themselves), of a concern's supporters."""
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        from core.accounts.models import User
        rows = (await scope.session.execute(
            select(User.username, Supporter.merged_from_id).join(User, User.id == Supporter.user_id)
            .where(Supporter.concern_id == uuid.UUID(concern_id)))).all()
    return {name: str(merged) if merged else None for name, merged in rows}


async def _told(client: AsyncClient, auth: Auth, who: str, kind: str) -> list[dict]:
    mine = await client.get("/api/v1/me/notifications", headers=await auth(who), params={"limit": 50})
    assert mine.status_code == 200, mine.text
    return [item for item in mine.json()["items"] if item["kind"] == kind]


async def _support(app: Litestar, who: str, concern_id: str) -> None:
    async with tenant_session(app, "comm-a", who) as scope:
        await RelatedService(scope.session, scope).support(uuid.UUID(concern_id))


async def test_merging_makes_duplicates_of_them_carries_their_people_over_and_tells_them(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    survivor = await file(client, await auth("resident"), LAMP)
    again = await file(client, await auth("neighbour"), LAMP_AGAIN)
    for_someone = await file(client, await auth("grid"), {**LAMP_THIRD, "resident_name": "某居民",
                                                          "resident_phone": "13800000000"})
    accepted = await client.post(f"{BASE}/concerns/{for_someone['id']}/triage", json={"action": "accept"},
                                 headers=await auth("cstaff"))
    assert accepted.status_code == 200, accepted.text
    await _support(app, "deputy2", again["id"])  # a supporter of a duplicate follows the survivor too
    await _support(app, "resident", again["id"])  # … unless they are the survivor's own reporter

    merged = await _merge(client, auth, survivor["id"], [again["id"], for_someone["id"], again["id"]],
                          reason="同一盏路灯")
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["survivor"]["id"] == survivor["id"] and body["carried"] == 3 and body["supporters"] == 3
    assert [(d["id"], d["status"], d["status_name"]) for d in body["duplicates"]] == [
        (again["id"], "merged", "已合并办理"), (for_someone["id"], "merged", "已合并办理")]
    assert {d["duplicate_of"]["reference"] for d in body["duplicates"]} == {survivor["reference"]}
    assert body["duplicates"][0]["light"] is None  # its clock stopped: the survivor's runs
    assert body["survivor"]["duplicate_of"] is None

    assert (await _row(app, survivor["id"])).supporters == 3
    assert await _supporters(app, survivor["id"]) == {"neighbour": again["id"], "deputy2": again["id"],
                                                      "grid": for_someone["id"]}
    for duplicate, before in ((again, "submitted"), (for_someone, "accepted")):
        row = await _row(app, duplicate["id"])
        assert (row.status, row.merged_from, str(row.duplicate_of_id)) == ("merged", before, survivor["id"])
        assert row.merged_at is not None and row.alert_at is None
        [event] = [e for e in await _events(app, duplicate["id"]) if e.action == "concern.merged"]
        assert (event.from_state, event.to_state) == (before, "merged")
        assert event.payload["survivor"] == survivor["reference"] and event.payload["reason"] == "同一盏路灯"
    assert [e.action for e in await _events(app, survivor["id"])] == ["concern.filed"]  # none on the survivor

    # The duplicates' reporters are told, with the survivor's reference; the survivor's own reporter is not.
    [told] = await _told(client, auth, "neighbour", "concern.merged")
    assert survivor["reference"] in told["body"] and again["reference"] in told["body"]
    assert told["body"].startswith("您反映的诉求") and "合并办理" in told["body"]
    assert told["link"] == f"/t/comm-a/me/concerns/{again['id']}"
    assert len(await _told(client, auth, "grid", "concern.merged")) == 1
    assert await _told(client, auth, "resident", "concern.merged") == []
    assert await _told(client, auth, "cstaff", "concern.merged") == []
    # The reporter still sees their own concern, now merged, and where to.
    seen = (await client.get(f"{BASE}/concerns/{again['id']}", headers=await auth("neighbour"))).json()
    assert seen["status"] == "merged" and seen["duplicate_of"]["id"] == survivor["id"]


async def test_what_cannot_be_merged(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    survivor = await file(client, await auth("resident"), LAMP)
    other = await file(client, await auth("neighbour"), LAMP_AGAIN)
    resolved = await file(client, await auth("neighbour"), LAMP_THIRD)
    await client.post(f"{BASE}/concerns/{resolved['id']}/triage", headers=await auth("cstaff"),
                      json={"action": "resolve_directly", "note": "已换灯泡"})
    elsewhere = (await client.post("/api/v1/tenants/comm-b/concerns", headers=await auth("bstaff"),
                                   json=LAMP_AGAIN)).json()

    itself = await _merge(client, auth, survivor["id"], [survivor["id"], other["id"]])
    assert itself.status_code == 422 and itself.json()["errors"][0]["field"] == "duplicates", itself.text
    assert "自己" in itself.json()["detail"]
    closed = await _merge(client, auth, survivor["id"], [resolved["id"]])
    assert closed.status_code == 409 and resolved["reference"] in closed.json()["detail"], closed.text
    assert "已直接办结" in closed.json()["detail"]
    into_closed = await _merge(client, auth, resolved["id"], [other["id"]])
    assert into_closed.status_code == 409, into_closed.text
    theirs = await _merge(client, auth, survivor["id"], [elsewhere["id"]])
    assert theirs.status_code == 404 and theirs.json()["errors"][0]["field"] == "duplicates", theirs.text
    assert (await _merge(client, auth, elsewhere["id"], [other["id"]])).status_code == 404
    assert (await _merge(client, auth, survivor["id"], [other["id"]], who="bstaff")).status_code == 403
    assert (await _merge(client, auth, survivor["id"], [other["id"]], who="resident")).status_code == 403
    empty = await _merge(client, auth, survivor["id"], [])
    assert empty.status_code == 422 and "请选择" in empty.json()["detail"]
    too_many = await _merge(client, auth, survivor["id"], [str(uuid.uuid4()) for _ in range(21)])
    assert too_many.status_code == 422 and "重复诉求最多 20 项" in too_many.text, too_many.text
    not_ids = await _merge(client, auth, survivor["id"], ["not-an-id"])
    assert not_ids.status_code == 400 and "重复诉求" in not_ids.text, not_ids.text
    long_reason = await _merge(client, auth, survivor["id"], [other["id"]], reason="很" * 501)
    assert long_reason.status_code == 422 and "理由" in long_reason.text

    assert (await _merge(client, auth, survivor["id"], [other["id"]])).status_code == 200
    again = await _merge(client, auth, survivor["id"], [other["id"]])
    assert again.status_code == 409 and "已合并办理" in again.json()["detail"]
    into_merged = await _merge(client, auth, other["id"], [resolved["id"]])
    assert into_merged.status_code == 409
    # A concern others were merged into is not merged in its turn.
    third = await file(client, await auth("neighbour"), LAMPS_AROUND)
    nested = await _merge(client, auth, third["id"], [survivor["id"]])
    assert nested.status_code == 409 and survivor["reference"] in nested.json()["detail"], nested.text
    # Nothing of the refused merges was written.
    assert (await _row(app, resolved["id"])).status == "resolved"
    assert (await _row(app, survivor["id"])).supporters == 1
    assert [e.action for e in await _events(app, survivor["id"])] == ["concern.filed"]


async def test_a_concern_in_a_topic_is_not_merged(client: AsyncClient, auth: Auth) -> None:
    survivor = await file(client, await auth("resident"), LAMP)
    in_topic = await file(client, await auth("neighbour"), LAMP_AGAIN)
    staff = await auth("cstaff")
    await client.post(f"{BASE}/concerns/{in_topic['id']}/triage", headers=staff, json={"action": "accept"})
    topic = await client.post(f"{BASE}/topics", headers=staff, json={"title": "北门照明", "concern_ids": [in_topic["id"]]})
    assert topic.status_code == 201, topic.text
    refused = await _merge(client, auth, survivor["id"], [in_topic["id"]])
    assert refused.status_code == 409 and "已纳入议题协商" in refused.json()["detail"], refused.text
    # Into it, though: the duplicate's reporter follows the concern being deliberated.
    assert (await _merge(client, auth, in_topic["id"], [survivor["id"]])).status_code == 200


async def test_undoing_a_merge_restores_the_state_the_clock_and_the_supporters(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    with clock.frozen(T0):
        survivor = await file(client, await auth("resident"), LAMP)
        first = await file(client, await auth("neighbour"), LAMP_AGAIN)
        second = await file(client, await auth("deputy2"), LAMP_THIRD)
    await _support(app, "neighbour", second["id"])  # brought by both duplicates: credited to the first
    await _support(app, "grid", survivor["id"])  # joined by themselves: no merge takes them off
    before = await _row(app, first["id"])
    assert before.alert_at is not None
    with clock.frozen(T0 + 2 * HOUR):
        merged = await _merge(client, auth, survivor["id"], [first["id"], second["id"]])
        assert merged.status_code == 200 and merged.json()["supporters"] == 3, merged.text
    assert await _supporters(app, survivor["id"]) == {"grid": None, "neighbour": first["id"],
                                                      "deputy2": second["id"]}

    with clock.frozen(T0 + 20 * HOUR):
        undone = await _unmerge(client, auth, first["id"])
    assert undone.status_code == 200, undone.text
    assert undone.json()["status"] == "submitted" and undone.json()["duplicate_of"] is None
    assert undone.json()["light"] == "yellow"  # 20 hours into a 24-hour limit: the deadlines did not move
    row = await _row(app, first["id"])
    assert (row.status, row.merged_from, row.duplicate_of_id, row.merged_at) == ("submitted", None, None, None)
    assert (row.alert_at, row.respond_by, row.resolve_by) == (before.alert_at, before.respond_by, before.resolve_by)
    # The neighbour stays: the second duplicate (still merged) brought them too.
    assert await _supporters(app, survivor["id"]) == {"grid": None, "neighbour": second["id"],
                                                      "deputy2": second["id"]}
    assert (await _row(app, survivor["id"])).supporters == 3
    [event] = [e for e in await _events(app, first["id"]) if e.action == "concern.unmerged"]
    assert (event.from_state, event.to_state, event.payload["survivor"]) == ("merged", "submitted",
                                                                            survivor["reference"])
    with clock.frozen(T0 + 21 * HOUR):
        assert (await _unmerge(client, auth, second["id"])).status_code == 200
        again = await _unmerge(client, auth, second["id"])
    assert again.status_code == 409 and "没有合并" in again.json()["detail"]
    assert await _supporters(app, survivor["id"]) == {"grid": None}
    assert (await _row(app, survivor["id"])).supporters == 1
    assert (await _unmerge(client, auth, survivor["id"], who="bstaff")).status_code == 403
    assert (await _unmerge(client, auth, str(uuid.uuid4()))).status_code == 404


async def test_a_merge_is_not_undone_after_a_day(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    with clock.frozen(T0):
        survivor = await file(client, await auth("resident"), LAMP)
        duplicate = await file(client, await auth("neighbour"), LAMP_AGAIN)
        assert (await _merge(client, auth, survivor["id"], [duplicate["id"]])).status_code == 200
    with clock.frozen(T0 + 24 * HOUR + datetime.timedelta(minutes=1)):
        late = await _unmerge(client, auth, duplicate["id"])
    assert late.status_code == 409 and "超过一天" in late.json()["detail"], late.text
    assert (await _row(app, duplicate["id"])).status == "merged"
    assert (await _row(app, survivor["id"])).supporters == 1


async def test_the_sweep_leaves_a_merged_concern_alone_until_the_merge_is_undone(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    with clock.frozen(T0):
        survivor = await file(client, await auth("resident"), LAMP)
        duplicate = await file(client, await auth("neighbour"), LAMP_AGAIN)
        assert (await _merge(client, auth, survivor["id"], [duplicate["id"]])).status_code == 200
    moment = T0 + 19 * HOUR  # both past yellow (18 h)
    with clock.frozen(moment):
        swept = await sweep(app.state, moment)
    assert swept.done == {"concern.deadline_warning": 1}  # the survivor's, not the duplicate's
    assert [e.action for e in await _events(app, duplicate["id"])] == ["concern.filed", "concern.merged"]
    with clock.frozen(T0 + 20 * HOUR):
        assert (await _unmerge(client, auth, duplicate["id"])).status_code == 200
    later = T0 + 20 * HOUR + datetime.timedelta(minutes=1)
    with clock.frozen(later):
        swept = await sweep(app.state, later)
    assert swept.done == {"concern.deadline_warning": 1}  # its clock runs again: its reminder is due
    assert [e.action for e in await _events(app, duplicate["id"])][-1] == "concern.deadline_warning"


async def test_the_rates_and_stats_count_a_merged_duplicate_as_no_concern_of_its_own(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    staff = await auth("cstaff")

    async def received() -> int:
        rates = await client.get(f"{BASE}/rates", headers=staff)
        stats = await client.get(f"{BASE}/stats", headers=staff)  # the dashboard's figures agree with the rates
        assert rates.status_code == 200 and stats.status_code == 200, (rates.text, stats.text)
        assert stats.json()["own"]["concerns_received"] == rates.json()["own"]["concerns_received"]
        return int(rates.json()["own"]["concerns_received"])

    survivor = await file(client, await auth("resident"), LAMP)
    duplicate = await file(client, await auth("neighbour"), LAMP_AGAIN)
    await file(client, await auth("neighbour"), CLUTTER)
    assert await received() == 3
    assert (await _merge(client, auth, survivor["id"], [duplicate["id"]])).status_code == 200
    assert await received() == 2
    assert (await _unmerge(client, auth, duplicate["id"])).status_code == 200
    assert await received() == 3


async def test_the_related_list_labels_likely_duplicates_and_related_concerns_by_score(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"), LAMP)
    texts = {"again": LAMP_AGAIN, "third": LAMP_THIRD, "around": LAMPS_AROUND, "clutter": CLUTTER}
    filed = {name: await file(client, await auth("neighbour"), body) for name, body in texts.items()}
    staff = await auth("cstaff")
    await client.post(f"{BASE}/concerns/{filed['third']['id']}/triage", headers=staff,
                      json={"action": "escalate", "reason": "需街道协调"})
    answer = await client.get(f"{BASE}/concerns/{concern['id']}/related", headers=staff)
    assert answer.status_code == 200, answer.text
    listed = {item["id"]: item for item in answer.json()}
    mine = Text.of(LAMP["title"], LAMP["description"], category=LAMP["category"])
    for name, body in texts.items():
        expected = similarity.score(mine, Text.of(body["title"], body["description"], category=body["category"]))
        item = listed.get(filed[name]["id"])
        assert (item is not None) == (expected >= similarity.RELATED), (name, expected)
        if item is not None:
            assert item["score"] == pytest.approx(expected, abs=0.001)
            assert item["label"] == label_of(expected)
            assert item["label_name"] == ("疑似重复" if expected >= similarity.SHOWN else "相关诉求")
    assert listed[filed["again"]["id"]]["label"] == "likely_duplicate"
    assert listed[filed["again"]["id"]]["mergeable"] is True
    assert listed[filed["third"]["id"]]["mergeable"] is False  # escalated: the street holds it
    assert "13812341234" not in answer.text
    scores = [item["score"] for item in answer.json()]
    assert scores == sorted(scores, reverse=True)
    assert (await client.get(f"{BASE}/concerns/{concern['id']}/related", headers=await auth("resident"))).status_code == 403
    theirs = await client.get(f"/api/v1/tenants/comm-b/concerns/{concern['id']}/related", headers=await auth("bstaff"))
    assert theirs.status_code == 404


async def test_the_inbox_batch_finds_what_like_finds_for_each(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    bodies = [LAMP, LAMP_AGAIN, LAMP_THIRD, LAMPS_AROUND, CLUTTER]
    ids = [uuid.UUID((await file(client, await auth("neighbour"), body))["id"]) for body in bodies]
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        concerns = list((await scope.session.scalars(select(Concern).where(Concern.id.in_(ids)))).all())
        batched = await likely_duplicates(scope.session, scope, concerns)
        related = RelatedService(scope.session, scope)
        for concern in concerns:
            one_by_one = [s for s in await related.like(concern) if s.score >= similarity.SHOWN]
            assert [(s.concern.id, round(s.score, 6)) for s in batched[concern.id]] == [
                (s.concern.id, round(s.score, 6)) for s in one_by_one]
        by_id = {c.id: c for c in concerns}
        assert {s.concern.id for s in batched[ids[0]]} >= {ids[1]}
        assert batched[ids[4]] == []
        assert all(by_id[i].id not in {s.concern.id for s in batched[i]} for i in ids)  # never itself
        assert await likely_duplicates(scope.session, scope, []) == {}


async def test_two_staff_merging_at_once_count_each_supporter_once(app: Litestar, client: AsyncClient,
                                                                   auth: Auth) -> None:
    """The rows are locked: the same duplicate merged twice at once is merged once (the second finds it merged),
    and two duplicates of one reporter merged at once into one survivor bring that reporter once."""
    survivor = await file(client, await auth("resident"), LAMP)
    duplicate = await file(client, await auth("neighbour"), LAMP_AGAIN)
    staff, district = await auth("cstaff"), await auth("dadmin")
    answers = await asyncio.gather(*(client.post(f"{BASE}/concerns/{survivor['id']}/merge", headers=headers,
                                                 json={"duplicates": [duplicate["id"]]})
                                     for headers in (staff, district)))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert (await _row(app, survivor["id"])).supporters == 1
    assert [e.action for e in await _events(app, duplicate["id"])].count("concern.merged") == 1

    other = await file(client, await auth("resident"), LAMPS_AROUND)
    first = await file(client, await auth("deputy2"), LAMP_THIRD)
    second = await file(client, await auth("deputy2"), LAMP_AGAIN)
    answers = await asyncio.gather(*(client.post(f"{BASE}/concerns/{other['id']}/merge", headers=headers,
                                                 json={"duplicates": [one["id"]]})
                                     for headers, one in ((staff, first), (district, second))))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert (await _row(app, other["id"])).supporters == 1
    assert list(await _supporters(app, other["id"])) == ["deputy2"]
    assert sorted(a.json()["carried"] for a in answers) == [0, 1]


async def test_a_survivors_merged_duplicates_are_listed(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    survivor = await file(client, await auth("resident"), LAMP)
    duplicates = [await file(client, await auth("neighbour"), body) for body in (LAMP_AGAIN, LAMP_THIRD)]
    assert (await _merge(client, auth, survivor["id"], [d["id"] for d in duplicates])).status_code == 200
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        service = MergeService(scope.session, scope)
        concern = await scope.session.get(Concern, (scope.tenant.id, uuid.UUID(survivor["id"])))
        assert concern is not None
        assert [str(c.id) for c in await service.merged_into(concern)] == [d["id"] for d in duplicates]
