"""Who is told what: each workflow event becomes messages for the people it concerns, in the inbox and their
channels, once; nothing for a change that rolled back; nothing to the one who acted. The staff's messages come
from the fan-out of the event log (`fan_out`, which the job engine runs every few seconds)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select

from core import clock
from core.concerns.schemas import ConcernCreate
from core.concerns.services import ConcernService
from core.notifications.fanout import fan_out
from core.notifications.models import Notification
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import BASE, accepted_concern, file, topic_at

pytestmark = pytest.mark.usefixtures("world")


async def _mine(client: AsyncClient, auth: Auth, who: str, **params: Any) -> dict:
    response = await client.get("/api/v1/me/notifications", headers=await auth(who), params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _rows(app: Litestar, **where: Any) -> list[Notification]:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        query = select(Notification).where(*(getattr(Notification, k) == v for k, v in where.items()))
        return list((await scope.session.scalars(query.order_by(Notification.created_at))).all())


async def test_a_resident_hears_their_concern_was_accepted_in_the_inbox_and_by_sms(
        app: Litestar, client: AsyncClient, auth: Auth, drain: Any) -> None:
    concern = await accepted_concern(client, auth)
    mine = await _mine(client, auth, "resident")
    assert mine["unread"] == 1 and mine["total"] == 1
    [item] = mine["items"]
    assert item["kind"] == "concern.accepted" and item["subject"] == "诉求已受理" and item["tenant"] == "comm-a"
    assert concern["reference"] in item["body"] and "甲社区" in item["body"]
    assert item["link"] == f"/t/comm-a/me/concerns/{concern['id']}"
    [sms] = await _rows(app, kind="concern.accepted", channel="sms")
    assert sms.status == "pending"  # the resident has a phone; SMS is residents' default for their concern
    await drain()
    [sms] = await _rows(app, kind="concern.accepted", channel="sms")
    assert sms.status == "sent" and sms.provider_message_id == "dev-outbox"  # no SMS provider in development
    outbox = (await client.get("/dev/outbox")).json()
    assert [(m["kind"], m["channel"], m["to"], m["status"]) for m in outbox] == [
        ("concern.accepted", "sms", "13812341234", "sent")]


async def test_staff_hear_of_a_new_concern_in_their_inbox_and_digest_not_one_message_each(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    await file(client, await auth("resident"))
    await fan_out(app.state)
    staff = await _mine(client, auth, "cstaff")
    assert [i["kind"] for i in staff["items"]] == ["concern.new"]
    assert staff["items"][0]["link"] == "/t/comm-a/staff/inbox"
    assert "柳" not in staff["items"][0]["body"] and "13812341234" not in staff["items"][0]["body"]
    rows = await _rows(app, kind="concern.new")
    assert [(r.channel, r.status) for r in rows] == [("inbox", "digest")]  # one row: the inbox's, for the digest too
    assert (await _mine(client, auth, "resident"))["total"] == 0  # nobody is told of what they did themselves
    assert (await _mine(client, auth, "bstaff"))["total"] == 0  # another community's staff hear nothing


async def test_a_rolled_back_change_tells_nobody(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    with pytest.raises(RuntimeError):
        async with tenant_session(app, "comm-a", "resident") as scope:
            await ConcernService(scope.session, scope).file(ConcernCreate(
                title="半途而废", description="不会留下", category="environment"))
            raise RuntimeError("the request failed after filing")
    await fan_out(app.state)
    assert await _rows(app) == []
    assert (await _mine(client, auth, "cstaff"))["total"] == 0


async def test_a_rejection_tells_the_reason_and_marking_read_clears_the_bell(
        client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    rejected = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                                 json={"action": "reject", "reason": "不属于社区职责范围"})
    assert rejected.status_code == 200, rejected.text
    [item] = (await _mine(client, auth, "resident"))["items"]
    assert item["kind"] == "concern.rejected" and "不属于社区职责范围" in item["body"]
    headers = await auth("resident")
    other = await client.post(f"/api/v1/me/notifications/{item['id']}/read", headers=await auth("neighbour"))
    assert other.status_code == 404  # not theirs: as if it did not exist
    read = await client.post(f"/api/v1/me/notifications/{item['id']}/read", headers=headers)
    assert read.status_code == 200 and read.json() == {"marked": 1, "unread": 0}
    assert (await _mine(client, auth, "resident", unread="true"))["total"] == 0
    assert (await _mine(client, auth, "resident"))["total"] == 1


async def test_the_action_owner_gets_an_email_with_an_unsubscribe_link(
        app: Litestar, client: AsyncClient, auth: Auth, drain: Any, inbox: Any, session: Any) -> None:
    from core.accounts.models import User

    owner = await session.scalar(select(User).where(User.username == "wuye"))
    owner.email = "wuye@example.org"
    await session.commit()
    await topic_at(client, auth, "published")
    await drain()
    [mail] = [m for m in inbox.messages if m["X-Yishi-Kind"] == "action.assigned"]
    assert mail["To"] == "wuye@example.org" and mail["Subject"] == "新的执行事项"
    assert mail["List-Unsubscribe"].startswith("<http") and mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = (part.get_payload(decode=True).decode() for part in mail.walk() if part.get_content_maintype() == "text")
    assert "安装直饮水机" in text and "<a href=" in html
    [row] = await _rows(app, kind="action.assigned", channel="email")
    assert row.status == "sent" and mail["Message-ID"] == f"<{row.id}@yishi>" == row.provider_message_id
    unsubscribe = mail["List-Unsubscribe"].strip("<>").split("://", 1)[1].split("/", 1)[1]
    done = await client.post(f"/{unsubscribe}")
    assert done.status_code == 200 and "已退订" in done.text
    choices = (await client.get("/api/v1/me/notification-preferences", headers=await auth("wuye"))).json()
    assert next(c for c in choices if c["kind"] == "action.assigned") == {
        "kind": "action.assigned", "channels": [], "digest": False, "default": False}



async def test_a_resident_invited_to_the_meeting_on_their_own_concern_is_told_once(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    topic_id, _ = await topic_at(client, auth, "researching")
    meeting = await client.post(f"{BASE}/topics/{topic_id}/meetings", headers=await auth("cstaff"), json={
        "mechanism": "on_demand", "venue": "议事厅", "starts_at": "2026-12-20T15:00:00+08:00",
        "invitees": {"users": ["resident"], "roles": ["resident"]}})
    assert meeting.status_code == 201, meeting.text
    kinds = [i["kind"] for i in (await _mine(client, auth, "resident"))["items"]]
    assert kinds.count("meeting.invited") == 1 and "topic.meeting_scheduled" not in kinds
    [invited] = [i for i in (await _mine(client, auth, "resident"))["items"] if i["kind"] == "meeting.invited"]
    assert "12月20日 15:00" in invited["body"] and invited["link"] == "/t/comm-a/meetings.ics"
    assert [i["kind"] for i in (await _mine(client, auth, "neighbour"))["items"]] == ["meeting.invited"]


async def test_an_escalation_tells_the_staff_above_and_the_resident(client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    escalated = await client.post(f"{BASE}/concerns/{concern['id']}/triage", headers=await auth("cstaff"),
                                  json={"action": "escalate", "reason": "涉及多个社区，需街道协调"})
    assert escalated.status_code == 200, escalated.text
    [above] = (await _mine(client, auth, "sstaff"))["items"]
    assert above["kind"] == "concern.escalated_in" and "需街道协调" in above["body"] and above["tenant"] == "comm-a"
    assert [i["kind"] for i in (await _mine(client, auth, "resident"))["items"]] == ["concern.escalated"]
    assert (await _mine(client, auth, "bstaff"))["total"] == 0


async def test_choices_are_checked_and_named_field_by_field(client: AsyncClient, auth: Auth) -> None:
    headers = await auth("resident")
    bad = await client.put("/api/v1/me/notification-preferences/no.such.kind", headers=headers,
                           json={"channels": ["pigeon"], "digest": False})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"kind", "channels"}, bad.text
    ok = await client.put("/api/v1/me/notification-preferences/concern.accepted", headers=headers,
                          json={"channels": ["email"], "digest": True})
    assert ok.status_code == 200 and ok.json() == {"kind": "concern.accepted", "channels": ["email"],
                                                   "digest": True, "default": False}
    unauthenticated = await client.get("/api/v1/me/notifications")
    assert unauthenticated.status_code == 401


async def test_a_resident_follows_their_concern_through_all_six_steps(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    topic_id, _ = await topic_at(client, auth, "completed")
    kinds = [i["kind"] for i in reversed((await _mine(client, auth, "resident"))["items"])]
    assert kinds == ["concern.accepted", "concern.in_topic", "topic.meeting_scheduled", "topic.result_published",
                     "topic.action_completed", "concern.revisit"]  # the concern settled with it: 回访
    done = (await _mine(client, auth, "resident"))["items"][1]
    assert "欢迎评价" in done["body"] and done["link"] == "/t/comm-a/results"
    # A low rating opens a follow-up, and the community's staff hear of it.
    rated = await client.post(f"{BASE}/topics/{topic_id}/ratings", headers=await auth("resident"), json={"score": 1})
    assert rated.status_code in (200, 201), rated.text
    await fan_out(app.state)
    staff = [i for i in (await _mine(client, auth, "cstaff"))["items"] if i["kind"] == "follow_up.low_rating"]
    assert len(staff) == 1 and staff[0]["link"] == f"/t/comm-a/staff/topics/{topic_id}"


async def test_invitees_hear_a_meeting_moved_or_called_off_even_in_quiet_hours(
        client: AsyncClient, auth: Auth, app: Litestar) -> None:
    topic_id, _ = await topic_at(client, auth, "researching")
    staff = await auth("cstaff")
    meeting = (await client.post(f"{BASE}/topics/{topic_id}/meetings", headers=staff, json={
        "mechanism": "on_demand", "venue": "议事厅", "starts_at": "2026-12-20T15:00:00+08:00",
        "invitees": {"users": ["dadmin"]}})).json()
    today = clock.today()
    with clock.frozen(clock.day_start(today) + datetime.timedelta(hours=23)):
        moved = await client.post(f"{BASE}/meetings/{meeting['id']}/reschedule", headers=staff, json={
            "starts_at": "2026-12-21T15:00:00+08:00", "reason": "会议室维修"})
        assert moved.status_code == 200, moved.text
        called_off = await client.post(f"{BASE}/meetings/{meeting['id']}/cancel", headers=staff,
                                       json={"reason": "议题已另行解决"})
        assert called_off.status_code == 200, called_off.text
    items = (await _mine(client, auth, "dadmin"))["items"]
    assert sorted(i["kind"] for i in items) == ["meeting.cancelled", "meeting.invited", "meeting.rescheduled"]
    moved_body = next(i["body"] for i in items if i["kind"] == "meeting.rescheduled")
    assert "12月21日 15:00" in moved_body and "会议室维修" in moved_body
    sms = [r for r in await _rows(app, channel="sms") if r.kind in ("meeting.rescheduled", "meeting.cancelled")]
    assert len(sms) == 2 and all(r.deliver_after is None for r in sms)  # urgent: not held till 07:00
