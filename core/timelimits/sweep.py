"""The time-limit sweep: once a minute, every concern whose next stage is due (`alert_at` passed) has it done —
a reminder to its tenant's staff at yellow, a supervision notice (督办) from the level above at red, and, where
the policy says so, escalation one level up after so many hours red, never past the policy's ceiling.

It reads only the concerns with an alert due, through the partial index `ix_concern_alert_at` (closed and
paused concerns have none), so its cost grows with what is due, not with what is closed. Row-Level Security lets
no query read every tenant at once: the due concerns are read in one query per root of the tenant tree, acting
in the root with its subtree (there is one root per city, a handful in all). Each tenant's due concerns are then
done in that tenant, in one transaction of its own, each locked with SKIP LOCKED on PostgreSQL so that two
workers sweeping at once never do a stage twice (the second skips what the first holds, and finds it no longer
due once the first commits); SQLite has one writer at a time.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.concerns.models import Concern
from core.concerns.services import TRIAGE, apply_triage
from core.db import TenantContext
from core.events import append_event
from core.notifications.fanout import fan_out
from core.tenancy.models import Tenant
from core.tenancy.scope import system_session, within
from core.timelimits import clock as timelimits
from core.timelimits.services import Policy, policy_for

log = logging.getLogger("yishi.timelimits")
BATCH = 2000  # due concerns read per root and sweep; what is left is due still, and read by the next minute's
# How high each kind of tenant sits: escalation goes to the parent only if it sits no higher than the ceiling.
HEIGHTS = {"community": 0, "street": 1, "town": 1, "district": 2, "city": 3}
AUTO_ESCALATE_REASON = "超过时限仍未办结，按时限规定自动上报上级"
ACTIONS = {"yellow": "concern.deadline_warning", "red": "concern.supervised", "escalate": "concern.auto_escalated"}


@dataclass
class SweepResult:
    """What one sweep did: the due concerns it read, the stages it did by name, those another worker had."""

    due: int = 0
    done: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    failed_tenants: int = 0

    @property
    def acted(self) -> int:
        return sum(self.done.values())


def due_statement(at: datetime.datetime, limit: int = BATCH) -> Any:
    """The concerns with an alert due at `at`, soonest first: what the partial index holds (alert_at set)."""
    return (select(Concern.tenant_id, Concern.id)
            .where(Concern.alert_at.is_not(None), Concern.alert_at <= at)
            .order_by(Concern.alert_at).limit(limit))


async def due_concerns(state: Any, at: datetime.datetime, limit: int = BATCH) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The due concerns of every tenant, by tenant: one query per root of the tree, reading its subtree."""
    found: defaultdict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    async with state.sessionmaker() as session:
        roots = (await session.scalars(select(Tenant).where(Tenant.parent_id.is_(None)))).all()
        for root in roots:
            async with within(session, root, subtree=True):
                for tenant_id, concern_id in (await session.execute(due_statement(at, limit))).all():
                    found[tenant_id].append(concern_id)
    return found


def escalate_after(policy: Policy) -> datetime.timedelta | None:
    hours = policy.escalate_after_hours
    return datetime.timedelta(hours=hours) if hours else None


def _stage_due(concern: Concern, after: datetime.timedelta | None, at: datetime.datetime) -> str | None:
    """The latest stage of the concern due at `at`: a concern found already red is supervised, not warned first
    (the stages passed over count as done)."""
    upcoming = timelimits.next_alert(concern, after)
    if upcoming is None or upcoming[1] > at:
        return None
    stage, done = upcoming[0], concern.alert_stage
    while True:
        concern.alert_stage = stage
        later = timelimits.next_alert(concern, after)
        if later is None or later[1] > at:
            break
        stage = later[0]
    concern.alert_stage = done
    return stage


def may_escalate(concern: Concern, parent: Tenant | None, policy: Policy) -> bool:
    """Whether the concern may go one level up: staff could still escalate it, and the level above sits no
    higher than the policy's ceiling."""
    return (parent is not None and concern.status in TRIAGE["escalate"][0]
            and HEIGHTS.get(parent.kind, 99) <= HEIGHTS.get(policy.escalate_ceiling, 1))


async def _do(session: AsyncSession, tenant: Tenant, parent: Tenant | None, policy: Policy, concern: Concern,
              stage: str) -> str:
    """Do `stage` on the concern (one event), and answer the action of its event."""
    current, step = stage.split("_")
    due = getattr(concern, f"{current}_by")
    payload: dict[str, Any] = {"stage": stage, "due": due.isoformat() if due else None,
                               "by_tenant": parent.slug if parent is not None else None}
    if step == "escalate":
        if may_escalate(concern, parent, policy):
            await apply_triage(session, tenant, concern, "escalate", AUTO_ESCALATE_REASON, None, None,
                               event=ACTIONS["escalate"], payload=payload | {"reason": AUTO_ESCALATE_REASON})
            return ACTIONS["escalate"]
        step, payload["ceiling"] = "red", policy.escalate_ceiling  # at the ceiling: supervised again, not escalated
    await append_event(session, TenantContext(tenant.id, tenant.path), subject_kind="concern", subject_id=concern.id,
                       action=ACTIONS[step], from_state=concern.status, to_state=concern.status, actor_id=None,
                       topic_id=concern.topic_id, payload=payload)
    return ACTIONS[step]


async def sweep_tenant(state: Any, tenant_id: uuid.UUID, ids: list[uuid.UUID], at: datetime.datetime,
                       result: SweepResult) -> None:
    """The due concerns `ids` of one tenant, in one transaction in that tenant."""
    async with system_session(state, tenant_id) as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        parent = await session.get(Tenant, tenant.parent_id) if tenant.parent_id else None
        concerns = (await session.scalars(
            select(Concern).where(Concern.id.in_(ids), Concern.alert_at.is_not(None), Concern.alert_at <= at)
            .with_for_update(skip_locked=True))).all()
        result.skipped += len(ids) - len(concerns)
        if not concerns:
            return
        policy = await policy_for(session, tenant)
        after = escalate_after(policy)
        for concern in concerns:
            stage = _stage_due(concern, after, at)
            if stage is not None:
                action = await _do(session, tenant, parent, policy, concern, stage)
                result.done[action] = result.done.get(action, 0) + 1
                concern.alert_stage = stage
            timelimits.reschedule(concern, after)  # the next stage's moment, or none left
        await session.flush()


async def sweep(state: Any, at: datetime.datetime) -> SweepResult:
    """Every stage due at `at`, in every tenant (see the module's docstring); the staff its events tell are told
    at once (the fan-out, `core.notifications.fanout`, not waiting for its next run)."""
    result = SweepResult()
    due = await due_concerns(state, at)
    result.due = sum(len(ids) for ids in due.values())
    for tenant_id, ids in due.items():
        try:
            await sweep_tenant(state, tenant_id, ids, at, result)
        except Exception:  # one tenant's failure (rolled back) does not hold up the others: retried next minute
            result.failed_tenants += 1
            log.exception("time-limit sweep failed in tenant %s", tenant_id)
    if result.acted:
        await fan_out(state, list(due))
    return result
