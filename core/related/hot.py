"""每月一题: the month's hot topics — the largest groups of one matter among the concerns filed in a Beijing month,
for a community, and for a street or district over the communities below it. A group never spans two tenants:
each tenant's concerns are grouped apart, then all the groups ranked together, by size, then supporters."""

from __future__ import annotations

import datetime
import uuid

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from core.concerns.models import Concern
from core.related.groups import PlaceOut, grouped
from core.reporting import tallies as kept
from core.reporting.rates import month_range
from core.tenancy.models import Tenant
from core.tenancy.scope import TenantScope

TOP = 10
# Counted: what was filed, less what staff turned away, what its filer withdrew, and the duplicates merged into
# another (their survivor stands for them, and their reporters are its supporters).
NOT_COUNTED = ("rejected", "merged", "withdrawn")
# Bounds, since grouping costs more than linearly with the concerns grouped (about 0.1 s for 200 concerns, up to
# a second for 500 alike): of a subtree, the tenants that received the most concerns that month (the largest
# groups are theirs; read from the kept figures, not counted), and of each, the month's newest concerns.
TENANTS = 10
PER_TENANT = 300


class HotTopicOut(msgspec.Struct):
    tenant: str  # the community's slug
    tenant_name: str
    label: str
    count: int
    supporters: int
    places: list[PlaceOut]
    where: str
    summary: str
    concern_ids: list[uuid.UUID]


class HotOut(msgspec.Struct):
    tenant: str
    month: str
    topics: list[HotTopicOut]
    tenants_grouped: int  # how many tenants' concerns were grouped (at most TENANTS)


async def hot_topics(scope: TenantScope, first: datetime.date, *, public: bool = False, limit: int = TOP) -> HotOut:
    """The largest groups (of two concerns or more) filed in the month beginning `first` in the scope's tenant and
    every tenant below it, at most `limit`. With `public`, labels are made from public summaries only."""
    session = scope.session
    lo, hi = month_range(first)
    filed = (Concern.created_at >= lo, Concern.created_at < hi, Concern.status.not_in(NOT_COUNTED))
    async with scope.subtree():
        tenant_ids = await kept.busiest(session, first, TENANTS)
        concerns: list[Concern] = []
        if tenant_ids:
            numbered = (select(Concern, func.row_number().over(partition_by=Concern.tenant_id,
                                                                order_by=(Concern.created_at.desc(), Concern.id))
                               .label("newest")).where(Concern.tenant_id.in_(tenant_ids), *filed).subquery())
            row = aliased(Concern, numbered)
            concerns = list((await session.scalars(select(row).where(numbered.c.newest <= PER_TENANT))).all())
        groups = await grouped(session, concerns, public=public)
        names = {t.id: t for t in (await session.scalars(select(Tenant).where(Tenant.id.in_(tenant_ids)))).all()} \
            if tenant_ids else {}
    groups.sort(key=lambda g: (-g.count, -g.supporters, names[g.tenant_id].path, g.label))
    return HotOut(tenant=scope.tenant.slug, month=first.strftime("%Y-%m"), tenants_grouped=len(tenant_ids), topics=[
        HotTopicOut(tenant=names[group.tenant_id].slug, tenant_name=names[group.tenant_id].name, label=group.label,
                    count=group.count, supporters=group.supporters, places=group.places, where=group.where,
                    summary=group.summary, concern_ids=[c.id for c in group.concerns])
        for group in groups[:limit]])
