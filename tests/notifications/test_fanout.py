"""The fan-out of the event log to a tenant's staff: filing writes no row per staff member; the fan-out writes
them afterwards, exactly once however often and however many run it at once, never to the one who acted, and
moves the tenant's cursor with them; a tenant with no staff moves on too, and staff who come later hear only of
what follows. The people an event names (the resident) still hear in its own transaction (both databases)."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from types import SimpleNamespace
from typing import Any

import croniter
import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import delete, select

from core.accounts.models import RoleAssignment, User
from core.events import EventChainHead, WorkflowEvent
from core.notifications import jobs
from core.notifications.fanout import fan_out
from core.notifications.models import Notification, NotificationCursor
from core.tenancy.models import Tenant
from core.tenancy.scope import system_session
from tests.conftest import PG_REACHABLE, Auth
from tests.helpers import accepted_concern, file

pytestmark = pytest.mark.usefixtures("world")


async def _tenant_id(app: Litestar, slug: str = "comm-a") -> uuid.UUID:
    async with app.state.sessionmaker() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    assert tenant_id is not None
    return tenant_id


async def _told(app: Litestar, kind: str = "concern.new", slug: str = "comm-a") -> list[tuple[str, str, str, str]]:
    """(username, channel, status, the event's subject) of each row of `kind` in the tenant."""
    async with system_session(app.state, await _tenant_id(app, slug)) as session:
        rows = (await session.execute(
            select(Notification.recipient_id, Notification.channel, Notification.status, WorkflowEvent.subject_id)
            .join(WorkflowEvent, WorkflowEvent.id == Notification.event_id).where(Notification.kind == kind))).all()
    async with app.state.sessionmaker() as session:
        names = dict((await session.execute(select(User.id, User.username))).all())
    return sorted((names[recipient], channel, status, str(subject)) for recipient, channel, status, subject in rows)


async def _cursor_and_head(app: Litestar, slug: str = "comm-a") -> tuple[int | None, int | None]:
    async with system_session(app.state, await _tenant_id(app, slug)) as session:
        return (await session.scalar(select(NotificationCursor.seq)),
                await session.scalar(select(EventChainHead.seq)))


async def _staff_role(app: Litestar, username: str, *, holds: bool) -> None:
    """Give `username` the community_staff role in comm-a, or take it away."""
    tenant_id = await _tenant_id(app)
    async with system_session(app.state, tenant_id) as session:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        mine = (RoleAssignment.user_id == user_id) & (RoleAssignment.role == "community_staff")
        if holds:
            session.add(RoleAssignment(tenant_id=tenant_id, user_id=user_id, role="community_staff"))
        else:
            await session.execute(delete(RoleAssignment).where(mine))


async def test_filing_tells_staff_once_the_fan_out_has_run_and_the_cursor_moves_with_it(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    concern = await file(client, await auth("resident"))
    assert await _told(app) == []  # filing wrote no row for the staff
    cursor, head = await _cursor_and_head(app)
    assert cursor is None and head is not None  # a tenant new since the upgrade: it starts at 0

    result = await fan_out(app.state)
    assert (result.events, result.told, result.failed_tenants) == (1, 1, 0)
    assert await _told(app) == [("cstaff", "inbox", "digest", concern["id"])]  # its inbox, for the digest too
    assert await _cursor_and_head(app) == (head, head)

    again = await fan_out(app.state)  # nothing left behind the cursor: nothing read, nothing written
    assert (again.events, again.told) == (0, 0) and again.tenants == set()
    assert await _told(app) == [("cstaff", "inbox", "digest", concern["id"])]
    assert await _told(app, slug="comm-b") == []  # another community's staff hear nothing


async def test_two_fan_outs_at_once_write_each_notice_once(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    filed = [await file(client, resident) for _ in range(3)]
    accepted = await accepted_concern(client, auth)  # an event with no rule for staff: read (for the figures), no one told
    first, second = await asyncio.gather(fan_out(app.state), fan_out(app.state))
    assert first.events + second.events == 5 and first.told + second.told == 4, (first, second)
    assert await _told(app) == sorted(("cstaff", "inbox", "digest", c["id"]) for c in [*filed, accepted])
    cursor, head = await _cursor_and_head(app)
    assert cursor == head
    third = await fan_out(app.state)
    assert third.events == 0 and len(await _told(app)) == 4


async def test_the_actor_is_not_told_and_the_resident_hears_at_once(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    await _staff_role(app, "grid", holds=True)
    # cstaff files for a resident who phoned: cstaff did it, the other staff member is told.
    phoned = await file(client, await auth("cstaff"), {"resident_name": "王阿姨", "resident_phone": "13700000000"})
    # A resident's concern accepted: the resident hears in the transaction of the acceptance, before any fan-out.
    concern = await accepted_concern(client, auth)
    assert [(who, channel) for who, channel, _, _ in await _told(app, "concern.accepted")] == [
        ("resident", "inbox"), ("resident", "sms")]
    assert await _told(app) == []
    await fan_out(app.state)
    assert await _told(app) == sorted([("grid", "inbox", "digest", phoned["id"]),
                                       ("cstaff", "inbox", "digest", concern["id"]),
                                       ("grid", "inbox", "digest", concern["id"])])


async def test_a_tenant_with_no_staff_moves_on_and_staff_who_come_later_hear_only_of_what_follows(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    await _staff_role(app, "cstaff", holds=False)
    resident = await auth("resident")
    before = await file(client, resident)
    result = await fan_out(app.state)
    assert (result.events, result.told) == (1, 0)
    cursor, head = await _cursor_and_head(app)
    assert cursor == head and await _told(app) == []
    await _staff_role(app, "cstaff", holds=True)
    after = await file(client, resident)
    await fan_out(app.state)
    assert await _told(app) == [("cstaff", "inbox", "digest", after["id"])]
    assert before["id"] != after["id"]


@pytest.mark.parametrize("database", ["postgresql"] if PG_REACHABLE else [], indirect=True)  # SQLite: one writer
async def test_a_cursor_another_worker_holds_is_passed_over_and_taken_once_released(
        app: Litestar, client: AsyncClient, auth: Auth) -> None:
    resident = await auth("resident")
    await file(client, resident)
    await fan_out(app.state)
    later = await file(client, resident)
    async with system_session(app.state, await _tenant_id(app)) as holding:
        await holding.scalar(select(NotificationCursor).with_for_update())  # as a worker mid-fan-out does
        meanwhile = await fan_out(app.state)
        assert (meanwhile.skipped_tenants, meanwhile.events) == (1, 0)
    released = await fan_out(app.state)
    assert (released.skipped_tenants, released.events) == (0, 1)
    assert [subject for *_, subject in await _told(app)].count(later["id"]) == 1


async def test_the_job_engine_fans_out_every_five_seconds(app: Litestar, client: AsyncClient, auth: Auth) -> None:
    crons = {task.task.name: task.cron for task in app.state.jobs.periodic_registry.periodic_tasks.values()}
    start = datetime.datetime(2026, 12, 4, 10, 0, 0, tzinfo=datetime.UTC)
    ticks = croniter.croniter(crons[jobs.FAN_OUT_TASK], start)
    assert [ticks.get_next(datetime.datetime) - start for _ in range(3)] == [
        datetime.timedelta(seconds=s) for s in (5, 10, 15)]
    concern = await file(client, await auth("resident"))
    # The job itself, as a worker runs it for the period.
    context = SimpleNamespace(additional_context=jobs.worker_context(app.state))
    await jobs.fan_out(context, int(start.timestamp()))  # type: ignore[arg-type]
    assert await _told(app) == [("cstaff", "inbox", "digest", concern["id"])]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # PostgreSQL's workers: test_worker.py
async def test_on_sqlite_the_commit_hands_a_fan_out_to_the_in_process_worker(
        app: Litestar, client: AsyncClient, auth: Auth, drain: Any) -> None:
    """The queue is in this process: the filing's commit queues a fan-out for its tenant (one, however many
    filings wait for it), and the worker runs it."""
    resident = await auth("resident")
    filed = [await file(client, resident) for _ in range(2)]
    await asyncio.sleep(0.05)  # the commits' hand-over runs on the loop
    waiting = [job for job in app.state.jobs.connector.jobs.values()
               if job["task_name"] == jobs.FAN_OUT_TASK and job["status"] == "todo"]
    assert [job["args"] for job in waiting] == [{"tenant_id": str(await _tenant_id(app))}]
    await drain()
    assert await _told(app) == sorted(("cstaff", "inbox", "digest", c["id"]) for c in filed)
