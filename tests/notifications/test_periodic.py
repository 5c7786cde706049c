"""What time brings: quiet hours hold messages till morning, the daily digest says each thing once (and a missed
run is made up by the next), reminders of tomorrow's meetings and of action items due or overdue come once."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import User
from core.notifications import periodic
from core.notifications.models import Notification
from core.tenancy.scope import tenant_session
from tests.conftest import Auth
from tests.helpers import BASE, accepted_concern, file, topic_at

pytestmark = pytest.mark.usefixtures("world")


async def _rows(app: Litestar, **where: Any) -> list[Notification]:
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        query = select(Notification).where(*(getattr(Notification, k) == v for k, v in where.items()))
        return list((await scope.session.scalars(query.order_by(Notification.created_at))).all())


async def _email(session: AsyncSession, username: str) -> None:
    user = await session.scalar(select(User).where(User.username == username))
    assert user is not None
    user.email = f"{username}@example.org"
    await session.commit()


def _beijing(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return clock.day_start(day) + datetime.timedelta(hours=hour, minutes=minute)


async def test_quiet_hours_hold_sms_till_seven_but_not_the_inbox_nor_an_urgent_notice(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    today = clock.today()
    with clock.frozen(_beijing(today, 23, 30)):
        await accepted_concern(client, auth)
    [inbox] = await _rows(app, kind="concern.accepted", channel="inbox")
    [sms] = await _rows(app, kind="concern.accepted", channel="sms")
    assert inbox.status == "sent" and inbox.deliver_after is None
    assert sms.status == "pending" and sms.deliver_after == _beijing(today + datetime.timedelta(days=1), 7)
    with clock.frozen(_beijing(today, 6, 59)):
        await accepted_concern(client, auth)
    with clock.frozen(_beijing(today, 7, 0)):
        await accepted_concern(client, auth)
    held = {r.created_at: r.deliver_after for r in await _rows(app, kind="concern.accepted", channel="sms")}
    assert held[_beijing(today, 6, 59)] == _beijing(today, 7) and held[_beijing(today, 7)] is None


async def test_the_digest_says_each_thing_once_and_a_missed_day_is_made_up(
        app: Litestar, client: AsyncClient, auth: Auth, session: AsyncSession, drain: Any, inbox: Any) -> None:
    await _email(session, "cstaff")
    day = clock.today()
    resident = await auth("resident")
    with clock.frozen(_beijing(day, 9)):
        for _ in range(3):
            await file(client, resident)
        await file(client, await auth("neighbour"))
    with clock.frozen(_beijing(day, 18)):
        await periodic.digests(app.state, clock.now())
        await periodic.digests(app.state, clock.now())  # a second run the same day finds nothing new
    await drain()
    digests = [m for m in inbox.messages if m["X-Yishi-Kind"] == "digest" and m["To"] == "cstaff@example.org"]
    assert len(digests) == 1
    assert digests[0]["Subject"] == "甲社区今日摘要" and "甲社区：4 条新诉求" in digests[0].get_body(("plain",)).get_content()
    # The next day's filing waits through a day with no run (the worker was down), and comes the day after.
    with clock.frozen(_beijing(day + datetime.timedelta(days=1), 10)):
        await file(client, resident)
    with clock.frozen(_beijing(day + datetime.timedelta(days=2), 18)):
        await periodic.digests(app.state, clock.now())
    await drain()
    digests = [m for m in inbox.messages if m["X-Yishi-Kind"] == "digest" and m["To"] == "cstaff@example.org"]
    assert len(digests) == 2 and "1 条新诉求" in digests[1].get_body(("plain",)).get_content()
    assert all(r.status == "sent" and r.digest_id for r in await _rows(app, kind="concern.new", channel="inbox"))


async def test_a_reminder_of_tomorrows_meeting_comes_once_to_each_invitee(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    topic_id, _ = await topic_at(client, auth, "researching")
    tomorrow = clock.today() + datetime.timedelta(days=1)
    meeting = await client.post(f"{BASE}/topics/{topic_id}/meetings", headers=await auth("cstaff"), json={
        "mechanism": "on_demand", "venue": "议事厅", "starts_at": _beijing(tomorrow, 15).isoformat(),
        "invitees": {"users": ["wuye", "neighbour"]}})
    assert meeting.status_code == 201, meeting.text
    assert len(await _rows(app, kind="meeting.invited", channel="inbox")) == 2
    await periodic.reminders(app.state, clock.now())
    await periodic.reminders(app.state, clock.now())  # the hourly run again: nothing said twice
    reminders = await _rows(app, kind="meeting.reminder", channel="inbox")
    assert len(reminders) == 2 and all("明天 " in r.body and "15:00" in r.body for r in reminders)


async def test_action_items_due_soon_then_overdue_are_each_said_once(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    await topic_at(client, auth, "published")  # its action item, owned by wuye, is due in five days
    await periodic.reminders(app.state, clock.now())
    assert await _rows(app, kind="action.due_soon") == []  # five days out: not yet
    for days in (3, 3, 6, 6):
        with clock.frozen(clock.now() + datetime.timedelta(days=days)):
            await periodic.reminders(app.state, clock.now())
    [due] = await _rows(app, kind="action.due_soon", channel="inbox")
    assert "安装直饮水机" in due.body
    async with tenant_session(app, "comm-a", "cstaff") as scope:
        names = dict((await scope.session.execute(select(User.id, User.username))).all())
    owner = [(names[r.recipient_id], r.channel) for r in await _rows(app, kind="action.overdue")]
    staff = [(names[r.recipient_id], r.channel, r.status) for r in await _rows(app, kind="action.overdue_in")]
    assert sorted(owner) == [("wuye", "inbox")]  # no e-mail address: the inbox alone
    assert staff == [("cstaff", "inbox", "digest")]  # staff: in their inbox, and in their daily digest
