"""Statistics of the six steps for a tenant, and rolled up over the tenants below it."""

from __future__ import annotations

import datetime
import statistics
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.di import Provide
from litestar.params import QueryParameter
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.concerns.models import Concern
from core.errors import InvalidInput
from core.events import PLUGINS_KEY
from core.http import DbSession, Scope, provide_tenant_scope
from core.inputs import label, period
from core.tenancy.models import Tenant
from core.tenancy.scope import TenantScope
from core.topics.models import ActionItem, FollowUp, Meeting, Rating, Topic


def report_year(year: int | None) -> int:
    """The year a yearly report asks for: this year unless given, and from 2000 to this year (else a 422)."""
    this_year = clock.today().year
    if year is not None and not 2000 <= year <= this_year:
        raise InvalidInput("{name}须在 2000–{latest} 之间", field="year", name=label("year"), latest=this_year)
    return year or this_year


class Figures(msgspec.Struct):
    concerns_received: int
    resolved_directly: int
    topics: int
    consultations_held: int
    matters_completed: int
    median_days_to_completion: float | None
    overdue_action_items: int
    average_rating: float | None
    follow_ups: int  # 回访 opened in the period (a low rating)
    follow_ups_open: int  # still waiting for staff now, like the overdue items


class StatsOut(msgspec.Struct):
    tenant: str
    date_from: datetime.date
    date_to: datetime.date
    own: Figures
    rollup: Figures
    tenants_in_rollup: int
    plugins: dict[str, dict[str, Any]]


class PublicStats(msgspec.Struct):
    """What a portal shows: "今年以来 20余次协商, 12件实事"."""

    year: int
    consultations_held: int
    matters_completed: int
    concerns_received: int
    median_days_to_completion: float | None
    average_rating: float | None


async def figures(session: AsyncSession, date_from: datetime.date, date_to: datetime.date) -> Figures:
    """Figures over the session's current scope (one tenant, or a subtree) for [date_from, date_to]."""
    lo, hi = clock.day_range(date_from, date_to)

    async def count(model, *where) -> int:  # type: ignore[no-untyped-def]
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    in_range = lambda column: and_(column >= lo, column < hi)  # noqa: E731
    durations = (await session.execute(
        select(Concern.created_at, Topic.completed_at)
        .join(Topic, and_(Topic.tenant_id == Concern.tenant_id, Topic.id == Concern.topic_id))
        .where(in_range(Topic.completed_at))
    )).all()
    days = [(done - filed).total_seconds() / 86400 for filed, done in durations]
    rating = await session.scalar(select(func.avg(Rating.score)).where(in_range(Rating.created_at)))
    today = clock.today()
    received, resolved = (await session.execute(  # one pass over the period's concerns for both figures
        select(func.count(), func.count().filter(Concern.status == "resolved")).select_from(Concern)
        .where(in_range(Concern.created_at)))).one()
    return Figures(
        concerns_received=int(received),
        resolved_directly=int(resolved),
        topics=await count(Topic, in_range(Topic.created_at)),
        consultations_held=await count(Meeting, in_range(Meeting.minutes_recorded_at)),
        matters_completed=await count(Topic, in_range(Topic.completed_at)),
        median_days_to_completion=round(statistics.median(days), 1) if days else None,
        overdue_action_items=await count(ActionItem, ActionItem.status == "open", ActionItem.due_date < today),
        average_rating=round(float(rating), 2) if rating is not None else None,
        follow_ups=await count(FollowUp, in_range(FollowUp.created_at)),
        follow_ups_open=await count(FollowUp, FollowUp.status == "open"),
    )


async def tenant_stats(scope: TenantScope, date_from: datetime.date, date_to: datetime.date) -> StatsOut:
    session, tenant = scope.session, scope.tenant
    own = await figures(session, date_from, date_to)
    async with scope.subtree():
        rollup = await figures(session, date_from, date_to)
    size = await session.scalar(select(func.count()).select_from(Tenant).where(Tenant.path.startswith(tenant.path)))
    plugins = session.info.get(PLUGINS_KEY)
    extra = await plugins.statistics(session, tenant, date_from, date_to) if plugins is not None else {}
    return StatsOut(tenant=tenant.slug, date_from=date_from, date_to=date_to, own=own, rollup=rollup,
                    tenants_in_rollup=int(size or 0), plugins=extra)


async def public_stats(session: AsyncSession, year: int) -> PublicStats:
    f = await figures(session, datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    return PublicStats(year=year, consultations_held=f.consultations_held, matters_completed=f.matters_completed,
                       concerns_received=f.concerns_received, median_days_to_completion=f.median_days_to_completion,
                       average_rating=f.average_rating)


class StatsController(Controller):
    path = "/api/v1/tenants/{slug:str}/stats"
    tags = ["统计 Statistics"]
    dependencies = {"tenant_scope": Provide(provide_tenant_scope)}

    @get("/", opt={"action": "stats.read"}, summary="统计：本级与所辖全部下级（from/to 为日期，默认今年）")
    async def get_stats(self, db_session: DbSession, tenant_scope: Scope, date_from: Annotated[
            datetime.date | None, QueryParameter(name="from")] = None, date_to: Annotated[
            datetime.date | None, QueryParameter(name="to")] = None) -> StatsOut:
        today = clock.today()
        date_from = date_from or datetime.date(today.year, 1, 1)
        date_to = date_to or today
        period(date_from, date_to)
        return await tenant_stats(tenant_scope, date_from, date_to)
