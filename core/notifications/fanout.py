"""The fan-out: what follows from a tenant's events once they commit, read from the event log instead of written
in each event's own transaction — its role holders (its staff) told, new concerns written into the similarity
index (`core.related.index.follow`), and the figures of the days the events touched recounted
(`core.reporting.tallies.follow`). Filing a concern writes no row per staff member, no index key and no figure.

Each tenant has a cursor (`notification_cursor`: the `seq` of the last event fanned out). A worker reads the
events after it, indexes the new concerns, recounts the figures, and for those whose action has a rule addressed
to role holders (`Rule.fans_out`) writes exactly the rows `tell` writes in a transaction (kinds, facts, links, channels or the digest, quiet hours, the actor left out, and
whoever the event's own transaction told already), and moves the cursor, all in one transaction in the tenant
that holds the cursor's row lock (FOR UPDATE on PostgreSQL; SQLite has one writer at a time): two workers never
write a notice twice, and a crash loses none (the cursor did not move either).

A tenant's events become visible in `seq` order: the chain head's row lock is held from taking a `seq` until
commit, so no event can commit before one with a lower `seq` of the same tenant. A cursor therefore never passes
an event still to come. A tenant without a cursor is a new one (the migration gave every tenant there was one at
its head, and an import without one starts at its head): it starts at 0.

It runs every few seconds on the job engine (`core.notifications.jobs`), and at once where that is cheap: on
SQLite after the commit that wrote the event (the queue is in memory), after the time-limit sweep, and before the
daily digest.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import Concern
from core.db import TenantContext
from core.events import EventChainHead, WorkflowEvent
from core.notifications.models import Notification, NotificationCursor
from core.notifications.outbox import add, people_of, tell
from core.notifications.rules import RULES, Holders
from core.related import index as related_index
from core.reporting import tallies
from core.tenancy.models import Tenant
from core.tenancy.scope import system_session, within

log = logging.getLogger("yishi.notifications")
BATCH = 500  # events fanned out per tenant and transaction; what is left is taken by the next one at once


@dataclass
class FanOutResult:
    """What a fan-out did: the events read, the people told (each in the inbox and the channels they chose), the
    tenants another worker held or that failed."""

    events: int = 0
    told: int = 0
    indexed: int = 0  # new concerns written into the similarity index
    tallied_days: int = 0  # tenant-days whose figures changed (`core.reporting.tallies`)
    skipped_tenants: int = 0
    failed_tenants: int = 0
    tenants: set[uuid.UUID] = field(default_factory=set)  # those it fanned out in


async def behind(state: Any) -> list[uuid.UUID]:
    """The tenants whose chain has gone past their cursor: one query per root of the tree, reading its subtree
    (Row-Level Security lets no query read every tenant at once)."""
    found: list[uuid.UUID] = []
    statement = (select(EventChainHead.tenant_id)
                 .outerjoin(NotificationCursor, NotificationCursor.tenant_id == EventChainHead.tenant_id)
                 .where(EventChainHead.seq > func.coalesce(NotificationCursor.seq, 0)))
    async with state.sessionmaker() as session:
        roots = (await session.scalars(select(Tenant).where(Tenant.parent_id.is_(None)))).all()
        for root in roots:
            async with within(session, root, subtree=True):
                found.extend((await session.scalars(statement)).all())
    return found


async def fan_out(state: Any, tenants: list[uuid.UUID] | None = None) -> FanOutResult:
    """Fan out every tenant's events not yet fanned out (or those of `tenants`), each tenant in transactions of
    its own; a tenant that fails is rolled back and taken again by the next run."""
    result = FanOutResult()
    for tenant_id in await behind(state) if tenants is None else tenants:
        try:
            more = True
            while more:  # a batch at a time, each in its own transaction
                more = await fan_out_tenant(state, tenant_id, result)
        except Exception:
            result.failed_tenants += 1
            log.exception("fan-out failed in tenant %s", tenant_id)
    return result


async def fan_out_tenant(state: Any, tenant_id: uuid.UUID, result: FanOutResult) -> bool:
    """Fan out up to BATCH of the tenant's events after its cursor, and move it past them, in one transaction;
    answer whether more remain. Another worker holding the cursor has them: they are left to it."""
    async with system_session(state, tenant_id) as session:
        cursor = await _locked_cursor(session, tenant_id)
        if cursor is None:
            result.skipped_tenants += 1
            return False
        head = await session.scalar(select(EventChainHead.seq))
        if head is None or head <= cursor.seq:
            return False
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None  # the session's own
        rules = [rule for rule in (*RULES, *state.plugins.notification_rules(tenant)) if rule.fans_out]
        # Every event: any may change the figures; those with a rule for role holders are told.
        batch = (await session.scalars(select(WorkflowEvent).where(
            WorkflowEvent.seq > cursor.seq, WorkflowEvent.seq <= head)
            .order_by(WorkflowEvent.seq).limit(BATCH))).all()
        more = len(batch) == BATCH
        ctx = TenantContext(tenant.id, tenant.path)
        result.indexed += await related_index.follow(session, ctx, batch)
        result.tallied_days += await tallies.follow(session, ctx, tenant, batch)
        actions = {rule.action for rule in rules}
        events = [event for event in batch if event.action in actions]
        told = await _told_already(session, events)
        # Read once for the batch: the concerns the rules' facts look up (then found in the session's identity
        # map, which holds them while `concerns` does), and each kind's audience, which events differ in only by
        # whom they leave out.
        concerns = await _concerns(session, events)
        people: dict[tuple[str, tuple[str, ...]], Sequence[Row[Any]]] = {}
        rows: list[dict[str, Any]] = []
        for event in events:
            told_of = told[str(event.id)] | {event.actor_id}
            for rule in rules:
                if rule.action != event.action or not rule.when(event):
                    continue
                assert isinstance(rule.audience, Holders)
                key = (rule.kind, rule.audience.roles)
                if key not in people:
                    people[key] = await people_of(session, ctx, rule.kind, rule.audience)
                written = await tell(session, ctx, event, rule, people[key], told_of)
                told_now = {row["recipient_id"] for row in written if row["recipient_id"] is not None}
                result.told += len(told_now)
                told_of |= told_now
                rows.extend(written)
        await add(session, rows)
        del concerns
        cursor.seq = batch[-1].seq if more else head
        cursor.updated_at = clock.now()
        await session.flush()
        result.events += len(batch)
        result.tenants.add(tenant_id)
        return more


async def _concerns(session: AsyncSession, events: Sequence[WorkflowEvent]) -> list[Concern]:
    ids = {event.subject_id for event in events if event.subject_kind == "concern"}
    return list((await session.scalars(select(Concern).where(Concern.id.in_(ids)))).all()) if ids else []


async def _locked_cursor(session: AsyncSession, tenant_id: uuid.UUID) -> NotificationCursor | None:
    """The tenant's cursor, locked until commit (made at 0 for a new tenant); None if another worker holds it."""
    lock = select(NotificationCursor).with_for_update(skip_locked=True)
    if await session.scalar(select(NotificationCursor.id)) is None:
        # Two workers making a new tenant's cursor at once: the second's insert fails harmlessly.
        with contextlib.suppress(IntegrityError):
            async with session.begin_nested():
                await _insert_cursor(session, tenant_id, 0)
    return await session.scalar(lock)


async def _told_already(session: AsyncSession,
                        events: Sequence[WorkflowEvent]) -> defaultdict[str, set[uuid.UUID | None]]:
    """Who each event's own transaction told already, by the event's id: a person is told of an event once."""
    told: defaultdict[str, set[uuid.UUID | None]] = defaultdict(set)
    keys = [str(event.id) for event in events]
    if keys:
        rows = await session.execute(select(Notification.dedup_key, Notification.recipient_id).where(
            Notification.dedup_key.in_(keys), Notification.recipient_id.is_not(None)))
        for key, recipient in rows:
            told[key].add(recipient)
    return told


async def start_at_head(session: AsyncSession, tenant_id: uuid.UUID, seq: int) -> None:
    """Give a tenant that arrives with events of its own (an import) its cursor at its head: what happened before
    was told where it happened."""
    await _insert_cursor(session, tenant_id, seq)


async def _insert_cursor(session: AsyncSession, tenant_id: uuid.UUID, seq: int) -> None:
    now = clock.now()
    await session.execute(insert(NotificationCursor).values(tenant_id=tenant_id, id=uuid.uuid4(), seq=seq,
                                                            created_at=now, updated_at=now))
