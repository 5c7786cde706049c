"""Who the liaison stations' events tell: a deputy hears of each new duty-list item a reception gave them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.concerns.models import Concern
from core.db import TenantContext
from core.events import WorkflowEvent
from core.notifications.rules import Rule
from core.redaction import public_summary
from core.tenancy.models import Tenant
from plugins.liaison_station.models import DutyItem

DUTY_ITEM_EVENT = "liaison.duty_item"


async def _item(session: AsyncSession, event: WorkflowEvent) -> DutyItem | None:
    return await session.get(DutyItem, (event.tenant_id, event.subject_id))


async def deputy(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> list[uuid.UUID]:
    item = await _item(session, event)
    return [item.deputy_id] if item is not None else []


async def duty_facts(session: AsyncSession, ctx: TenantContext, event: WorkflowEvent) -> dict[str, Any]:
    tenant = await session.get(Tenant, ctx.tenant_id)
    item = await _item(session, event)
    concern = await session.get(Concern, (event.tenant_id, item.concern_id)) if item is not None else None
    return {"tenant": tenant.name if tenant else "", "reference": concern.reference if concern else "",
            "title": public_summary(concern) if concern else "", "link": f"/t/{tenant.slug if tenant else ''}/deputy"}


RULES = [
    Rule(DUTY_ITEM_EVENT, "liaison.duty_item", deputy, duty_facts, texts={
        "zh-CN": ("新的履职事项", "{tenant}联络站接待中，群众反映「{title}」（{reference}）已列入您的履职清单。"),
        "en": ("New duty-list item", "A reception at {tenant} added “{title}” ({reference}) to your duty list."),
    }),
]
