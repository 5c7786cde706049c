"""The log of unmasked phone numbers: every answer that shows residents' numbers in full writes who read them,
whose (the concerns' or the accounts' ids), when and on which route; the district admin reads it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.accounts.models import PhoneRead, User
from core.tenancy.models import Tenant

audit_log = logging.getLogger("yishi.audit")


def current_route() -> str:
    """The request's method and path, as the request-context middleware bound it ("" outside a request)."""
    return str(structlog.contextvars.get_contextvars().get("route", ""))[:200]


async def record(session: AsyncSession, tenant_id: uuid.UUID, viewer_id: uuid.UUID, subject_kind: str,
                 subjects: Sequence[uuid.UUID]) -> None:
    """Note that `viewer_id` was shown the numbers of `subjects` in the tenant (nothing if there were none)."""
    if not subjects:
        return
    now = clock.now()
    audit_log.info("unmasked phone numbers read: user=%s tenant=%s kind=%s count=%d", viewer_id, tenant_id,
                   subject_kind, len(subjects))
    session.add(PhoneRead(tenant_id=tenant_id, viewer_id=viewer_id, route=current_route() or "-",
                          subject_kind=subject_kind, subjects=[str(s) for s in subjects],
                          created_at=now, updated_at=now))
    await session.flush()


async def page(session: AsyncSession, limit: int, offset: int) -> tuple[list[tuple[PhoneRead, str, str]], int]:
    """The log of the tenants the session reads (a district's: every community below), newest first, with the
    reader's username and the tenant's slug."""
    total = await session.scalar(select(func.count()).select_from(PhoneRead))
    rows = (await session.execute(
        select(PhoneRead, User.username, Tenant.slug).join(User, User.id == PhoneRead.viewer_id)
        .join(Tenant, Tenant.id == PhoneRead.tenant_id)
        .order_by(PhoneRead.created_at.desc(), PhoneRead.id.desc()).limit(limit).offset(offset))).all()
    return [(row, username, slug) for row, username, slug in rows], int(total or 0)
