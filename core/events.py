"""The append-only event log: one hash-chained event per state change, per tenant, never edited."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Index, Integer, String, UniqueConstraint, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantContext, TenantOwned

GENESIS = "0" * 64
# The session's plugin manager (set per request by the app): plugins hear of every event of their tenants.
PLUGINS_KEY = "yishi.plugins"


class WorkflowEvent(TenantOwned, Base):
    """One state change of a concern, topic, meeting or action item. The app role may only add and read."""

    __tablename__ = "workflow_event"
    __table_args__ = (UniqueConstraint("tenant_id", "seq"), Index("ix_workflow_event_tenant_topic", "tenant_id", "topic_id"))

    seq: Mapped[int] = mapped_column(Integer)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID] = mapped_column(GUID)
    topic_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    action: Mapped[str] = mapped_column(String(48))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(GUID)
    at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class EventChainHead(TenantOwned, Base):
    """The newest link of a tenant's chain; its row lock serializes the tenant's event writers."""

    __tablename__ = "event_chain_head"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
    at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC)


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _fields(event: WorkflowEvent | dict[str, Any]) -> dict[str, Any]:
    get = event.get if isinstance(event, dict) else lambda name: getattr(event, name)
    at = get("at")
    return {
        "tenant_id": str(get("tenant_id")),
        "seq": get("seq"),
        "subject_kind": get("subject_kind"),
        "subject_id": str(get("subject_id")),
        "topic_id": str(get("topic_id")) if get("topic_id") else None,
        "action": get("action"),
        "from": get("from_state"),
        "to": get("to_state"),
        "actor_id": str(get("actor_id")) if get("actor_id") else None,
        "at": at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "payload": get("payload") or {},
    }


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def append_event(session: AsyncSession, ctx: TenantContext, *, subject_kind: str, subject_id: uuid.UUID,
                       action: str, from_state: str | None, to_state: str | None, actor_id: uuid.UUID | None,
                       topic_id: uuid.UUID | None = None, payload: dict[str, Any] | None = None) -> WorkflowEvent:
    """Append one event to the tenant's chain, in the caller's transaction."""
    advance = (
        update(EventChainHead).values(seq=EventChainHead.seq + 1)
        .returning(EventChainHead.id, EventChainHead.seq, EventChainHead.hash, EventChainHead.at)
        .execution_options(synchronize_session=False)  # no ORM object to refresh: skip the bookkeeping
    )
    head = (await session.execute(advance)).first()
    if head is None:
        # The tenant's first event creates its chain head; if two first events race, the loser's insert
        # fails harmlessly and it advances the head the winner made.
        with contextlib.suppress(IntegrityError):
            async with session.begin_nested():
                now = utcnow()
                await session.execute(insert(EventChainHead).values(
                    tenant_id=ctx.tenant_id, id=uuid.uuid4(), seq=0, hash=GENESIS, at=now, created_at=now,
                    updated_at=now))
        head = (await session.execute(advance)).one()
    head_id, seq, prev_hash, last_at = head
    # Times never go backwards within a tenant's chain, whatever the clocks of several workers say.
    at = utcnow()
    if last_at is not None and at <= last_at:
        at = last_at + datetime.timedelta(microseconds=1)
    values = dict(
        tenant_id=ctx.tenant_id, seq=seq, subject_kind=subject_kind, subject_id=subject_id, topic_id=topic_id,
        action=action, from_state=from_state, to_state=to_state, actor_id=actor_id, at=at, payload=payload or {},
    )
    event = WorkflowEvent(id=uuid.uuid4(), **values, prev_hash=prev_hash, hash=_digest(prev_hash, _fields(values)))
    session.add(event)
    await session.execute(
        update(EventChainHead).where(EventChainHead.id == head_id).values(hash=event.hash, at=at)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    plugins = session.info.get(PLUGINS_KEY)
    if plugins is not None:
        await plugins.on_event(session, ctx, event)
    return event


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    event_id: uuid.UUID
    reason: str


async def verify_chain(session: AsyncSession) -> tuple[int, BrokenLink | None]:
    """Walk the current tenant's chain; returns how many links were checked and the first broken one."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    rows = await session.stream_scalars(select(WorkflowEvent).order_by(WorkflowEvent.seq))
    async for event in rows:
        if event.seq != expected_seq:
            return checked, BrokenLink(event.seq, event.id, f"序号不连续：应为 {expected_seq}")
        if event.prev_hash != prev_hash:
            return checked, BrokenLink(event.seq, event.id, "与前一条记录的链接不符")
        if _digest(prev_hash, _fields(event)) != event.hash:
            return checked, BrokenLink(event.seq, event.id, "记录内容已被改动")
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    return checked, None
