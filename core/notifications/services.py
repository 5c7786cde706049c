"""A person's own notifications across every tenant (the inbox, 站内信) and their choices of channel per kind."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.db import ALL_TENANTS
from core.errors import InvalidInput, NotFound, Problems
from core.notifications.messages import KINDS
from core.notifications.models import Notification, NotificationPreference
from core.notifications.outbox import CHANNELS, DEFAULT_CHANNELS, DEFAULT_DIGEST
from core.tenancy.models import Tenant
from core.tenancy.scope import acting_for

_OWN = {ALL_TENANTS: True}  # a person's own rows, in every tenant: Row-Level Security shows them and no others


@dataclass
class InboxPage:
    items: list[tuple[Notification, str, str]]  # (row, tenant slug, tenant name)
    total: int
    unread: int


async def inbox(session: AsyncSession, user_id: uuid.UUID, *, unread_only: bool, limit: int, offset: int) -> InboxPage:
    mine = (Notification.recipient_id == user_id, Notification.channel == "inbox")
    async with acting_for(session, user_id):
        where = (*mine, Notification.read_at.is_(None)) if unread_only else mine
        rows = (await session.execute(
            select(Notification, Tenant.slug, Tenant.name).join(Tenant, Tenant.id == Notification.tenant_id)
            .where(*where).order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit).offset(offset).execution_options(**_OWN))).all()
        total = await session.scalar(select(func.count()).select_from(Notification).where(*where)
                                     .execution_options(**_OWN))
        unread = await unread_count(session, user_id)
    return InboxPage([(row, slug, name) for row, slug, name in rows], int(total or 0), unread)


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    """The number on the bell."""
    async with acting_for(session, user_id):
        return int(await session.scalar(select(func.count()).select_from(Notification).where(
            Notification.recipient_id == user_id, Notification.channel == "inbox", Notification.read_at.is_(None))
            .execution_options(**_OWN)) or 0)


async def mark_read(session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID | None = None) -> int:
    """Mark one of the person's notifications read (404 if it is not theirs), or all of them."""
    where = [Notification.recipient_id == user_id, Notification.channel == "inbox", Notification.read_at.is_(None)]
    if notification_id is not None:
        async with acting_for(session, user_id):
            exists = await session.scalar(select(Notification.id).where(
                Notification.id == notification_id, Notification.recipient_id == user_id,
                Notification.channel == "inbox").execution_options(**_OWN))
        if exists is None:
            raise NotFound("没有这条通知")
        where.append(Notification.id == notification_id)
    async with acting_for(session, user_id):
        result = await session.execute(update(Notification).where(*where).values(read_at=clock.now())
                                       .execution_options(**_OWN, synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass
class Choice:
    kind: str
    channels: list[str]
    digest: bool
    default: bool  # nobody chose: the role's default applies


async def choices(session: AsyncSession, user_id: uuid.UUID) -> list[Choice]:
    chosen = {p.kind: p for p in (await session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id))).all()}
    return [Choice(kind, list(chosen[kind].channels), chosen[kind].digest, False) if kind in chosen
            else Choice(kind, list(DEFAULT_CHANNELS.get(kind, ())), kind in DEFAULT_DIGEST, True) for kind in KINDS]


async def choose(session: AsyncSession, user_id: uuid.UUID, kind: str, channels: list[str], digest: bool) -> Choice:
    """The person's channels for `kind` (besides the inbox, always on), or a daily digest instead."""
    problems = Problems()
    if kind not in KINDS:
        problems.add(InvalidInput("没有这类通知：{kind}", field="kind", kind=kind))
    unknown = sorted(set(channels) - set(CHANNELS))
    if unknown:
        problems.add(InvalidInput("没有这个渠道：{channels}（可选 {known}）", field="channels",
                                  channels=", ".join(unknown), known=", ".join(CHANNELS)))
    problems.raise_any()
    row = await session.scalar(select(NotificationPreference).where(
        NotificationPreference.user_id == user_id, NotificationPreference.kind == kind))
    if row is None:
        row = NotificationPreference(user_id=user_id, kind=kind, channels=[], digest=False)
        session.add(row)
    row.channels, row.digest = sorted(set(channels)), digest
    await session.flush()
    return Choice(kind, row.channels, row.digest, False)


async def unsubscribe(session: AsyncSession, user_id: uuid.UUID, kind: str, channel: str) -> None:
    """One click from a message: `kind` no longer comes by `channel` (the inbox still has it)."""
    current = next((c for c in await choices(session, user_id) if c.kind == kind), None)
    if current is None:
        return
    await choose(session, user_id, kind, [c for c in current.channels if c != channel], False)
