"""What falls due with time rather than with an event: reminders of tomorrow's meetings and of action items due
soon or overdue, and the daily digest. Each runs in every tenant through a system session, and each is safe to
run twice (what was said is not said again) or to miss (the next run says what was not yet said)."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from core import clock
from core.accounts.models import User
from core.authz.rules import STAFF_ROLES
from core.db import TenantContext, column_values
from core.notifications.fanout import fan_out
from core.notifications.messages import DEFAULT_LANGUAGE, LANGUAGES, digest_line, render
from core.notifications.models import Notification
from core.notifications.outbox import add, write
from core.notifications.rules import holders, invitees_of
from core.tenancy.models import Tenant
from core.tenancy.scope import system_session
from core.topics.models import ActionItem, Meeting, Topic


async def _tenants(state: Any) -> list[uuid.UUID]:
    async with state.sessionmaker() as session:
        return list((await session.scalars(select(Tenant.id).where(Tenant.archived.is_(False)))).all())


async def _said(session: AsyncSession, key: str) -> bool:
    return await session.scalar(select(Notification.id).where(Notification.dedup_key == key).limit(1)) is not None


async def _tell_once(session: AsyncSession, ctx: TenantContext, kind: str, key: str, people: list[uuid.UUID],
                     facts: dict[str, Any], link: str | None) -> None:
    if people and not await _said(session, key):
        await write(session, ctx, kind, sorted(set(people)), facts, link=link, dedup_key=key)


async def reminders(state: Any, at: datetime.datetime) -> None:
    """Tomorrow's meetings to their invitees; action items due in two days, or overdue, to their owners (and the
    overdue ones to the tenant's staff, in their digest by default)."""
    today = clock.local(at).date()
    tomorrow_lo, tomorrow_hi = clock.day_range(today + datetime.timedelta(days=1), today + datetime.timedelta(days=1))
    for tenant_id in await _tenants(state):
        async with system_session(state, tenant_id) as session:
            tenant = await session.get(Tenant, tenant_id)
            assert tenant is not None
            ctx = TenantContext(tenant.id, tenant.path)
            meetings = (await session.execute(select(Meeting, Topic.title).join(
                Topic, (Topic.tenant_id == Meeting.tenant_id) & (Topic.id == Meeting.topic_id)).where(
                Meeting.starts_at >= tomorrow_lo, Meeting.starts_at < tomorrow_hi, Meeting.cancelled_at.is_(None)))).all()
            for meeting, title in meetings:
                facts = {"tenant": tenant.name, "topic": title, "venue": meeting.venue,
                         "starts_at": meeting.starts_at.isoformat()}
                await _tell_once(session, ctx, "meeting.reminder", f"reminder:{meeting.id}",
                                 await invitees_of(session, ctx, meeting), facts, f"/t/{tenant.slug}/meetings.ics")
            due = (await session.execute(select(ActionItem, Topic.title).join(
                Topic, (Topic.tenant_id == ActionItem.tenant_id) & (Topic.id == ActionItem.topic_id)).where(
                ActionItem.status == "open", ActionItem.due_date <= today + datetime.timedelta(days=2)))).all()
            staff = await holders(session, tenant.id, STAFF_ROLES)
            for action, title in due:
                facts = {"tenant": tenant.name, "topic": title, "action": action.title,
                         "due": action.due_date.isoformat() if action.due_date else ""}
                owner = [action.owner_user_id] if action.owner_user_id else []
                link = f"/t/{tenant.slug}/actions"
                if action.due_date is not None and action.due_date < today:
                    await _tell_once(session, ctx, "action.overdue", f"overdue:{action.id}", owner, facts, link)
                    await _tell_once(session, ctx, "action.overdue_in", f"overdue_in:{action.id}",
                                     [s for s in staff if s not in owner], facts, link)
                else:
                    await _tell_once(session, ctx, "action.due_soon", f"due_soon:{action.id}", owner, facts, link)


async def digests(state: Any, at: datetime.datetime) -> None:
    """Each person's waiting messages of a tenant in one digest ("建设巷社区: 3 条新诉求, 1 条上报"), by e-mail (or
    SMS without one); what a digest carried is marked as sent and never carried again. The event log is fanned
    out first, so that what happened just before is in today's digest."""
    await fan_out(state)
    for tenant_id in await _tenants(state):
        async with system_session(state, tenant_id) as session:
            waiting = (await session.scalars(select(Notification).where(Notification.status == "digest")
                                             .order_by(Notification.created_at))).all()
            if not waiting:
                continue
            tenant = await session.get(Tenant, tenant_id)
            assert tenant is not None
            by_person: defaultdict[uuid.UUID, list[Notification]] = defaultdict(list)
            for row in waiting:
                if row.recipient_id is not None:
                    by_person[row.recipient_id].append(row)
            people = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_(list(by_person))))).all()}
            now = clock.now()
            digests: list[Notification] = []
            for person, rows in by_person.items():
                user = people.get(person)
                language = user.language if user and user.language in LANGUAGES else DEFAULT_LANGUAGE
                counts: dict[str, int] = {}
                for row in rows:
                    counts[row.kind] = counts.get(row.kind, 0) + 1
                lines = "，".join(digest_line(kind, language, n) for kind, n in counts.items())
                subject, body = render("digest", language, {"tenant": tenant.name, "lines": f"{tenant.name}：{lines}"})
                channel = "email" if user and user.email else "sms" if user and user.phone else None
                digest_id = uuid7()
                if channel is not None and user is not None and user.active:
                    digests.append(Notification(
                        tenant_id=tenant.id, id=digest_id, recipient_id=person, channel=channel, kind="digest",
                        dedup_key=f"digest:{digest_id}", urgent=False, language=language, subject=subject, body=body,
                        link=f"/t/{tenant.slug}/staff/inbox", params={"tenant": tenant.name, "lines": lines},
                        status="pending", attempts=0, created_at=now, updated_at=now))
                for row in rows:
                    row.status, row.digest_id, row.sent_at = "sent", digest_id, now
            await session.flush()
            await add(session, [column_values(row) for row in digests])
