"""How long Yishi keeps residents' phone numbers: on a concern closed more than N months ago (per tenant, the
portal setting `phone_retention_months`, 24 by default) the number is erased, and the phone a verification
code was sent to is erased once the code's day is over. Run daily by the job engine; idempotent."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import select, update

from core.concerns.models import Concern
from core.notifications.models import Notification
from core.tenancy.models import Tenant
from core.tenancy.scope import system_session

DEFAULT_MONTHS = 24
CODE_ADDRESS_KEPT = datetime.timedelta(days=1)
DAYS_PER_MONTH = 30.4375  # a calendar's average: "24 months" is two years to the day, within one day


def retention_months(tenant: Tenant) -> int:
    raw = (tenant.portal or {}).get("phone_retention_months")
    return int(raw) if raw and str(raw).isdecimal() and int(raw) > 0 else DEFAULT_MONTHS


async def erase_old_phones(state: Any, at: datetime.datetime) -> int:
    """Erase what is past its time in every tenant; the number of phone numbers erased (of concerns, and of what
    the plugins keep: `yishi_erase_old_phones`)."""
    async with state.sessionmaker() as session:
        tenants = list((await session.scalars(select(Tenant))).all())
    erased = 0
    for tenant in tenants:
        cutoff = at - datetime.timedelta(days=DAYS_PER_MONTH * retention_months(tenant))
        async with system_session(state, tenant.id) as session:
            result = await session.execute(update(Concern).where(
                Concern.closed_at.is_not(None), Concern.closed_at < cutoff, Concern.resident_phone.is_not(None))
                .values(resident_phone=None))
            erased += int(getattr(result, "rowcount", 0) or 0)
            erased += await state.plugins.erase_old_phones(session, tenant, cutoff)
            await session.execute(update(Notification).where(
                Notification.address.is_not(None), Notification.created_at < at - CODE_ADDRESS_KEPT)
                .values(address=None))
    return erased
