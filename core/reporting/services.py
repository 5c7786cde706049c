"""The figures of the six steps read from what is kept (`core.reporting.tallies`): a tenant's own and its subtree's
(`/stats`), a portal's year, and each community's row of the district dashboard; what is open now counted live."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core import clock
from core.concerns.services import category_names
from core.errors import InvalidInput
from core.events import PLUGINS_KEY
from core.inputs import label
from core.reporting import tallies as kept
from core.reporting.schemas import Figures, PublicStats, StatsOut
from core.tenancy.models import Tenant, live_communities_below
from core.tenancy.scope import TenantScope
from core.topics.models import ActionItem, FollowUp

MAX_COMMUNITIES = 2000  # the dashboard's rows: every community below, bounded


def report_year(year: int | None) -> int:
    """The year a yearly report asks for: this year unless given, and from 2000 to this year (else a 422)."""
    this_year = clock.today().year
    if year is not None and not 2000 <= year <= this_year:
        raise InvalidInput("{name}须在 2000–{latest} 之间", field="year", name=label("year"), latest=this_year)
    return year or this_year


# --- the figures, per tenant ----------------------------------------------------------------------------------


def _during(column: Any, lo: datetime.datetime, hi: datetime.datetime) -> ColumnElement[bool]:
    return and_(column >= lo, column < hi)


def _overdue(today: datetime.date) -> list[ColumnElement[bool]]:
    """An action item overdue on `today`: still open past its due date."""
    return [ActionItem.status == "open", ActionItem.due_date < today]


_FOLLOW_UP_OPEN = FollowUp.status == "open"


# --- what reads them ------------------------------------------------------------------------------------------


async def _subtree_size(scope: TenantScope) -> int:
    return int(await scope.session.scalar(select(_tenants_below(scope.tenant))) or 0)


def _tenants_below(tenant: Tenant) -> Any:
    """How many tenants the roll-up of `tenant` covers (itself included)."""
    return select(func.count()).select_from(Tenant).where(Tenant.path.startswith(tenant.path)).scalar_subquery()


def _open_counts(tenant_id: uuid.UUID | None = None) -> tuple[Any, Any]:
    """The overdue action items and open follow-ups of the tenants the session reads (or of `tenant_id` among
    them): what is open today is no sum of days, and a small indexed set to count."""
    overdue, open_ = _overdue(clock.today()), [_FOLLOW_UP_OPEN]
    if tenant_id is not None:
        overdue.append(ActionItem.tenant_id == tenant_id)
        open_.append(FollowUp.tenant_id == tenant_id)
    return (select(func.count()).select_from(ActionItem).where(*overdue).scalar_subquery(),
            select(func.count()).select_from(FollowUp).where(*open_).scalar_subquery())


async def tenant_stats(scope: TenantScope, date_from: datetime.date, date_to: datetime.date) -> StatsOut:
    """The scope's tenant's own figures, then its subtree's, from the figures kept per day and month
    (`core.reporting.tallies`): a few dozen rows of its own, whatever the number of concerns or tenants below;
    what is open now, its own and the subtree's, and the size of the subtree, in one more query."""
    session, tenant = scope.session, scope.tenant
    own_part, tree_part = await kept.read(session, tenant.id, date_from, date_to)
    async with scope.subtree():
        own_overdue, own_open, tree_overdue, tree_open, size = (await session.execute(select(
            *_open_counts(tenant.id), *_open_counts(), _tenants_below(tenant)))).one()
    plugins = session.info.get(PLUGINS_KEY)
    extra = await plugins.statistics(session, tenant, date_from, date_to) if plugins is not None else {}
    return StatsOut(tenant=tenant.slug, date_from=date_from, date_to=date_to,
                    own=own_part.figures(int(own_overdue or 0), int(own_open or 0)),
                    rollup=tree_part.figures(int(tree_overdue or 0), int(tree_open or 0)),
                    tenants_in_rollup=int(size or 0), plugins=extra)


async def public_stats(session: AsyncSession, tenant: Tenant, year: int) -> PublicStats:
    """A portal's figures for `year` (Beijing's): `tenant`'s and every tenant's below it (a community's its own, a
    street's, district's or city's the sum of its communities'), from the figures kept (`core.reporting.tallies`)."""
    _, below = await kept.read(session, tenant.id, datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    f = below.figures(0, 0)  # nothing open-now is shown to the public
    return PublicStats(year=year, consultations_held=f.consultations_held, matters_completed=f.matters_completed,
                       concerns_received=f.concerns_received, median_days_to_completion=f.median_days_to_completion,
                       average_rating=f.average_rating)


# --- the district dashboard -----------------------------------------------------------------------------------


@dataclass
class CommunityRow:
    id: uuid.UUID
    slug: str
    name: str
    parent: str
    figures: Figures


@dataclass
class Dashboard:
    totals: Figures  # every tenant below together, the tenant's own figures included (the API's rollup)
    tenants: int  # how many tenants that is
    rows: list[CommunityRow]
    categories: list[tuple[str, int]]  # (category name, concerns) largest first
    months: list[tuple[str, int]]  # ("2026-03", matters completed) for every month of the range
    overdue: list[tuple[str, int]]  # (community, overdue items) largest first


async def community_dashboard(scope: TenantScope, date_from: datetime.date, date_to: datetime.date) -> Dashboard:
    """Every community in the scope's subtree with its figures for [date_from, date_to], the subtree's totals,
    its concerns by category and its matters completed per month.

    All from the figures kept per tenant and day (`core.reporting.tallies`), as `/stats` reads them: the totals,
    categories and months from the scope's own subtree rows, each community's row from its own rows summed by the
    database; what is open now counted per tenant from its small indexed set. A fixed number of queries whatever
    the number of communities, and never the concerns."""
    session, tenant = scope.session, scope.tenant
    parent = aliased(Tenant)
    communities = (await session.execute(
        select(Tenant.id, Tenant.slug, Tenant.name, parent.name)
        .outerjoin(parent, parent.id == Tenant.parent_id)
        .where(live_communities_below(tenant))
        .order_by(Tenant.path).limit(MAX_COMMUNITIES))).all()
    by_month = await kept.read_months(session, tenant.id, date_from, date_to)
    async with scope.subtree():
        parts = await kept.read_below(session, date_from, date_to)
        overdue = dict((await session.execute(select(ActionItem.tenant_id, func.count()).where(
            *_overdue(clock.today())).group_by(ActionItem.tenant_id))).all())
        open_ = dict((await session.execute(select(FollowUp.tenant_id, func.count()).where(
            _FOLLOW_UP_OPEN).group_by(FollowUp.tenant_id))).all())
        names = await category_names(session)
    rows = [CommunityRow(tid, slug, name, parent_name or "",
                         parts.get(tid, kept.Part()).figures(overdue.get(tid, 0), open_.get(tid, 0)))
            for tid, slug, name, parent_name in communities]

    tree = kept.Part()
    months: dict[str, int] = {}
    month = date_from.replace(day=1)
    while month <= date_to:
        part = by_month.get(month, kept.Part())
        tree.add(part)
        months[month.strftime("%Y-%m")] = part.counts["matters_completed"]
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    categories = sorted(((names.get(code, code), count) for code, count in tree.categories.items()),
                        key=lambda c: -c[1])
    most_overdue = sorted(((r.name, r.figures.overdue_action_items) for r in rows if r.figures.overdue_action_items),
                          key=lambda c: -c[1])
    return Dashboard(tree.figures(sum(overdue.values()), sum(open_.values())), await _subtree_size(scope), rows,
                     categories, list(months.items()), most_overdue)


def sort_rows(rows: list[CommunityRow], sort: str, descending: bool) -> list[CommunityRow]:
    """Sorted by the community's name, its parent's or one of its figures; rows without that figure (no rating
    yet) go last either way."""

    def value(row: CommunityRow) -> Any:
        return getattr(row, sort) if sort in ("name", "parent") else getattr(row.figures, sort)

    present = [r for r in rows if value(r) is not None]
    absent = [r for r in rows if value(r) is None]
    return sorted(present, key=lambda r: (value(r), r.name), reverse=descending) + absent
