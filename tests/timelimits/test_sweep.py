"""The time-limit sweep with the clock moved on: a reminder at yellow (once, however often it sweeps), a
supervision notice from the level above at red, escalation one level up after N hours red and nothing more
after it, the ceiling kept (supervised, never escalated), closed concerns never read, working time across a
weekend, National Day and its 调休 Saturday, and the due query on the partial index (both databases)."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import select, text

from core import clock
from core.accounts.models import User
from core.concerns.models import Concern
from core.events import WorkflowEvent
from core.notifications import jobs
from core.notifications.jobs import worker_context
from core.notifications.models import Notification
from core.tenancy.models import Tenant
from core.tenancy.scope import system_session
from core.timelimits.services import forget_policies
from core.timelimits.sweep import SweepResult, due_concerns, due_statement, sweep
from tests.conftest import PG_REACHABLE, Auth
from tests.helpers import WATER

pytestmark = pytest.mark.usefixtures("world")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
T0 = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=BEIJING)  # a Friday, a working day
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


async def _file(client: AsyncClient, slug: str, user: str, **extra: str) -> str:
    response = await client.post(f"/api/v1/tenants/{slug}/concerns", json={**WATER, **extra},
                                 headers=await Auth(client)(user))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _policy(client: AsyncClient, slug: str, user: str, limits: list[dict] | None = None, **extra: Any) -> None:
    response = await client.put(f"/api/v1/tenants/{slug}/time-limits", json={"limits": limits or [], **extra},
                                headers=await Auth(client)(user))
    assert response.status_code == 200, response.text
    forget_policies()


async def _sweep(app: Litestar, moment: datetime.datetime) -> SweepResult:
    with clock.frozen(moment):
        return await sweep(app.state, moment)


async def _tenant_id(app: Litestar, slug: str) -> uuid.UUID:
    async with app.state.sessionmaker() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    assert tenant_id is not None
    return tenant_id


async def _concern(app: Litestar, slug: str, concern_id: str) -> Concern:
    async with system_session(app.state, await _tenant_id(app, slug)) as session:
        concern = await session.scalar(select(Concern).where(Concern.id == uuid.UUID(concern_id)))
        assert concern is not None
        session.expunge(concern)
        return concern


async def _events(app: Litestar, slug: str, concern_id: str) -> list[WorkflowEvent]:
    async with system_session(app.state, await _tenant_id(app, slug)) as session:
        rows = (await session.scalars(select(WorkflowEvent).where(WorkflowEvent.subject_id == uuid.UUID(concern_id))
                                      .order_by(WorkflowEvent.seq))).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


async def _told(app: Litestar, slug: str, kind: str) -> list[tuple[str, str]]:
    """(username, body) of each inbox message of `kind` written in the tenant."""
    async with system_session(app.state, await _tenant_id(app, slug)) as session:
        rows = (await session.execute(select(Notification.recipient_id, Notification.body).where(
            Notification.kind == kind, Notification.channel == "inbox"))).all()
    async with app.state.sessionmaker() as session:
        names = dict((await session.execute(select(User.id, User.username))).all())
    return sorted((names[recipient], body) for recipient, body in rows)


def _actions(events: list[WorkflowEvent]) -> list[str]:
    return [e.action for e in events]


async def test_yellow_reminds_once_red_is_supervised_from_above_then_escalated_then_nothing_more(
        app: Litestar, client: AsyncClient) -> None:
    with clock.frozen(T0):
        await _policy(client, "street-a", "sstaff", escalate_after_hours=2)
        concern_id = await _file(client, "comm-a", "resident")
    # A normal concern is to be responded to within 24 hours: yellow after 18, red after 24.
    assert (await _sweep(app, T0 + 17 * HOUR)).acted == 0
    first = await _sweep(app, T0 + 18 * HOUR + MINUTE)
    assert first.done == {"concern.deadline_warning": 1}
    assert (await _sweep(app, T0 + 18 * HOUR + 2 * MINUTE)).acted == 0  # swept again: said once
    [(who, body)] = await _told(app, "comm-a", "concern.deadline_warning")
    assert who == "cstaff" and "响应时限" in body and "12月5日 10:00" in body

    red = await _sweep(app, T0 + 24 * HOUR + MINUTE)
    assert red.done == {"concern.supervised": 1}
    [(who, body)] = await _told(app, "comm-a", "concern.supervised")
    assert who == "cstaff" and body.startswith("甲街道督办") and "已超过响应时限" in body
    [(who, body)] = await _told(app, "comm-a", "concern.supervised_below")
    assert who == "sstaff" and "甲社区的诉求" in body
    assert (await _concern(app, "comm-a", concern_id)).status == "submitted"

    escalated = await _sweep(app, T0 + 26 * HOUR + MINUTE)
    assert escalated.done == {"concern.auto_escalated": 1}
    concern = await _concern(app, "comm-a", concern_id)
    assert concern.status == "escalated" and concern.escalated_to_id == await _tenant_id(app, "street-a")
    assert [who for who, _ in await _told(app, "comm-a", "concern.escalated_in")] == ["sstaff"]
    assert (await _sweep(app, T0 + 26 * HOUR + 2 * MINUTE)).acted == 0
    assert (await _sweep(app, T0 + 40 * HOUR)).acted == 0
    events = await _events(app, "comm-a", concern_id)
    assert _actions(events) == ["concern.filed", "concern.deadline_warning", "concern.supervised",
                                "concern.auto_escalated"]
    assert all(e.actor_id is None for e in events[1:])
    assert events[2].payload["by_tenant"] == "street-a" and "resident" not in str(events[2].payload)
    # The resident is told of none of it: supervision is internal.
    async with system_session(app.state, await _tenant_id(app, "comm-a")) as session:
        resident = await session.scalar(select(User.id).where(User.username == "resident"))
        kinds = (await session.scalars(select(Notification.kind).where(Notification.recipient_id == resident))).all()
    assert not {"concern.deadline_warning", "concern.supervised", "concern.escalated"} & set(kinds)
    # The street finds it among the escalations waiting for it.
    with clock.frozen(T0 + 27 * HOUR):
        waiting = await client.get("/api/v1/tenants/street-a/escalations", headers=await Auth(client)("sstaff"))
    assert waiting.json()["total"] == 1


async def test_a_concern_at_the_ceiling_is_supervised_and_never_escalated(app: Litestar, client: AsyncClient) -> None:
    with clock.frozen(T0):
        await _policy(client, "street-a", "sstaff", escalate_after_hours=1)  # ceiling: the street (default)
        concern_id = await _file(client, "street-a", "sstaff")
    # Found red at once (no sweep ran at yellow): supervised, the reminder passed over.
    assert (await _sweep(app, T0 + 24 * HOUR + MINUTE)).done == {"concern.supervised": 1}
    [(who, body)] = await _told(app, "street-a", "concern.supervised_below")
    assert who == "dadmin"
    assert (await _sweep(app, T0 + 25 * HOUR + MINUTE)).done == {"concern.supervised": 1}
    assert (await _sweep(app, T0 + 30 * HOUR)).acted == 0
    concern = await _concern(app, "street-a", concern_id)
    assert concern.status == "submitted" and concern.escalated_to_id is None and concern.alert_at is None
    events = await _events(app, "street-a", concern_id)
    assert _actions(events) == ["concern.filed", "concern.supervised", "concern.supervised"]
    assert events[2].payload["ceiling"] == "street"


async def test_closed_concerns_are_never_read_nor_touched(app: Litestar, client: AsyncClient) -> None:
    with clock.frozen(T0):
        open_id = await _file(client, "comm-a", "resident")
        closed_id = await _file(client, "comm-a", "resident")
        done = await client.post(f"/api/v1/tenants/comm-a/concerns/{closed_id}/triage", headers=await Auth(client)(
            "cstaff"), json={"action": "resolve_directly", "note": "已派物业当天修好"})
        assert done.status_code == 200, done.text
    later = T0 + 30 * 24 * HOUR
    due = await due_concerns(app.state, later)
    assert [str(i) for ids in due.values() for i in ids] == [open_id]
    await _sweep(app, later)
    assert _actions(await _events(app, "comm-a", closed_id)) == ["concern.filed", "concern.resolve_directly",
                                                                  "concern.revisit_asked"]
    assert (await _concern(app, "comm-a", closed_id)).alert_at is None


async def test_working_time_limits_stop_over_the_weekend(app: Litestar, client: AsyncClient) -> None:
    friday = datetime.datetime(2026, 12, 4, 16, 0, tzinfo=BEIJING)
    with clock.frozen(friday):
        await _policy(client, "district-a", "dadmin", [{"urgency": "normal", "respond": "PT4H", "respond_working": True}])
        concern_id = await _file(client, "comm-a", "resident")
    concern = await _concern(app, "comm-a", concern_id)
    # Two working hours on Friday, two on Monday morning: due Monday 10:30, yellow at 09:30.
    assert concern.respond_by == datetime.datetime(2026, 12, 7, 10, 30, tzinfo=BEIJING)
    assert concern.respond_warn_at == datetime.datetime(2026, 12, 7, 9, 30, tzinfo=BEIJING)
    assert (await _sweep(app, datetime.datetime(2026, 12, 5, 12, 0, tzinfo=BEIJING))).acted == 0  # Saturday
    assert (await _sweep(app, datetime.datetime(2026, 12, 7, 9, 29, tzinfo=BEIJING))).acted == 0
    monday = await _sweep(app, datetime.datetime(2026, 12, 7, 9, 31, tzinfo=BEIJING))
    assert monday.done == {"concern.deadline_warning": 1}
    late = await _sweep(app, datetime.datetime(2026, 12, 7, 10, 31, tzinfo=BEIJING))
    assert late.done == {"concern.supervised": 1}


async def test_working_time_limits_stop_over_national_day_and_run_on_its_tiaoxiu_saturday(
        app: Litestar, client: AsyncClient) -> None:
    """The State Council's calendar (chinese-calendar): 1–7 October 2026 are holidays, Saturday 10 October a
    working day (调休). Four working hours from Wednesday 30 September 16:00 end on Thursday 8 October; four from
    Friday 9 October 16:00 end on that Saturday, not on Monday."""
    before_the_holiday = datetime.datetime(2026, 9, 30, 16, 0, tzinfo=BEIJING)
    with clock.frozen(before_the_holiday):
        await _policy(client, "district-a", "dadmin", [{"urgency": "normal", "respond": "PT4H", "respond_working": True}])
        first = await _file(client, "comm-a", "resident")
    concern = await _concern(app, "comm-a", first)
    assert concern.respond_by == datetime.datetime(2026, 10, 8, 10, 30, tzinfo=BEIJING)
    assert (await _sweep(app, datetime.datetime(2026, 10, 5, 12, 0, tzinfo=BEIJING))).acted == 0  # 国庆 holiday
    assert (await _sweep(app, datetime.datetime(2026, 10, 8, 9, 31, tzinfo=BEIJING))).done == {
        "concern.deadline_warning": 1}
    assert (await _sweep(app, datetime.datetime(2026, 10, 8, 10, 31, tzinfo=BEIJING))).done == {
        "concern.supervised": 1}
    with clock.frozen(datetime.datetime(2026, 10, 9, 16, 0, tzinfo=BEIJING)):
        second = await _file(client, "comm-a", "resident")
    concern = await _concern(app, "comm-a", second)
    assert concern.respond_by == datetime.datetime(2026, 10, 10, 10, 30, tzinfo=BEIJING)  # the 调休 Saturday
    saturday = await _sweep(app, datetime.datetime(2026, 10, 10, 10, 31, tzinfo=BEIJING))
    assert saturday.done == {"concern.supervised": 1}, saturday.done  # red already: supervised, not warned
    assert (await _concern(app, "comm-a", second)).alert_stage == "respond_red"



# EXPLAIN is PostgreSQL's planner: this runs there only.
@pytest.mark.parametrize("database", ["postgresql"] if PG_REACHABLE else [], indirect=True)
async def test_the_due_query_reads_the_partial_index(app: Litestar, client: AsyncClient) -> None:
    root = None
    async with app.state.sessionmaker() as session:
        root = await session.scalar(select(Tenant).where(Tenant.slug == "city-a"))
        statement = due_statement(clock.now()).compile(
            dialect=session.bind.dialect, compile_kwargs={"literal_binds": True})
        await session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: make the planner show its index
        plan = "\n".join((await session.execute(text(f"EXPLAIN {statement}"))).scalars().all())
    assert root is not None and "ix_concern_alert_at" in plan, plan


async def test_the_job_engine_sweeps_every_minute(app: Litestar, client: AsyncClient) -> None:
    crons = {task.task.name: task.cron for task in app.state.jobs.periodic_registry.periodic_tasks.values()}
    assert crons["yishi:timelimits.sweep"] == "* * * * *"
    with clock.frozen(T0):
        concern_id = await _file(client, "comm-a", "resident")
    # The job itself, as a worker runs it: the minute's timestamp is the moment swept.
    context = SimpleNamespace(additional_context=worker_context(app.state))
    moment = T0 + 18 * HOUR + MINUTE
    with clock.frozen(moment):
        await jobs.timelimits_sweep(context, int(moment.timestamp()))  # type: ignore[arg-type]
    assert _actions(await _events(app, "comm-a", concern_id))[-1] == "concern.deadline_warning"


async def test_two_workers_sweeping_at_once_do_each_stage_once(app: Litestar, client: AsyncClient) -> None:
    with clock.frozen(T0):
        ids = [await _file(client, "comm-a", "resident") for _ in range(3)]
    moment = T0 + 18 * HOUR + MINUTE
    with clock.frozen(moment):
        first, second = await asyncio.gather(sweep(app.state, moment), sweep(app.state, moment))
    assert first.acted + second.acted == 3, (first, second)
    for concern_id in ids:
        assert _actions(await _events(app, "comm-a", concern_id)).count("concern.deadline_warning") == 1
    assert len(await _told(app, "comm-a", "concern.deadline_warning")) == 3


async def test_an_escalated_concern_alerts_nobody_below_until_it_is_sent_back(app: Litestar, client: AsyncClient,
                                                                               auth: Auth) -> None:
    with clock.frozen(T0):
        concern_id = await _file(client, "comm-a", "resident")
        escalated = await client.post(f"/api/v1/tenants/comm-a/concerns/{concern_id}/triage",
                                      json={"action": "escalate", "reason": "涉及多个小区，需街道协调"},
                                      headers=await auth("cstaff"))
        assert escalated.status_code == 200, escalated.text
    assert (await _concern(app, "comm-a", concern_id)).alert_at is None
    assert (await _sweep(app, T0 + 30 * 24 * HOUR)).acted == 0  # long past its deadlines: the street holds it
    with clock.frozen(T0 + 2 * HOUR):
        returned = await client.post(f"/api/v1/tenants/street-a/escalations/{concern_id}/return",
                                     json={"instructions": "请社区先与物业协商"}, headers=await auth("sstaff"))
        assert returned.status_code == 200, returned.text
    back = await _concern(app, "comm-a", concern_id)
    assert back.status == "accepted" and back.alert_at == back.resolve_warn_at  # its resolve phase's alerts go on
