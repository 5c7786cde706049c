"""The figures of the six steps, defined once: counted in a fixed number of queries (per tenant, or all together),
then added up into a tenant's own figures, its subtree's, each community's row of the district dashboard and a
portal's year."""

from __future__ import annotations

import dataclasses
import datetime
import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core import clock
from core.concerns.models import Concern
from core.concerns.services import category_names
from core.errors import InvalidInput
from core.events import PLUGINS_KEY
from core.inputs import label
from core.reporting import tallies as kept
from core.reporting.rates import COUNTED  # a merged duplicate is no concern of its own here either
from core.reporting.schemas import Figures, PublicStats, StatsOut
from core.tenancy.models import Tenant, live_communities_below
from core.tenancy.scope import TenantScope
from core.topics.models import ActionItem, FollowUp, Meeting, Rating, Topic

MAX_COMMUNITIES = 2000  # the dashboard's rows: every community below, bounded


def report_year(year: int | None) -> int:
    """The year a yearly report asks for: this year unless given, and from 2000 to this year (else a 422)."""
    this_year = clock.today().year
    if year is not None and not 2000 <= year <= this_year:
        raise InvalidInput("{name}须在 2000–{latest} 之间", field="year", name=label("year"), latest=this_year)
    return year or this_year


# --- the figures, per tenant ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one tenant's figures for a period are made of, in a form that adds up over tenants: counts, the
    ratings' sum and number (an average does not add up), the days each completed matter took (nor does a median)."""

    concerns_received: int = 0
    resolved_directly: int = 0
    topics: int = 0
    consultations_held: int = 0
    matters_completed: int = 0
    overdue_action_items: int = 0
    follow_ups: int = 0
    follow_ups_open: int = 0
    rating_total: int = 0
    ratings: int = 0
    days_to_completion: list[float] = field(default_factory=list)

    def __add__(self, other: Tally) -> Tally:
        return Tally(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self)})

    def figures(self) -> Figures:
        days = self.days_to_completion
        return Figures(
            concerns_received=self.concerns_received, resolved_directly=self.resolved_directly, topics=self.topics,
            consultations_held=self.consultations_held, matters_completed=self.matters_completed,
            median_days_to_completion=round(statistics.median(days), 1) if days else None,
            overdue_action_items=self.overdue_action_items,
            average_rating=round(self.rating_total / self.ratings, 2) if self.ratings else None,
            follow_ups=self.follow_ups, follow_ups_open=self.follow_ups_open)


def _during(column: Any, lo: datetime.datetime, hi: datetime.datetime) -> ColumnElement[bool]:
    return and_(column >= lo, column < hi)


def _overdue(today: datetime.date) -> list[ColumnElement[bool]]:
    """An action item overdue on `today`: still open past its due date."""
    return [ActionItem.status == "open", ActionItem.due_date < today]


_FOLLOW_UP_OPEN = FollowUp.status == "open"


def _counted(lo: datetime.datetime, hi: datetime.datetime,
             today: datetime.date) -> list[tuple[Any, list[ColumnElement[bool]], dict[str, Any]]]:
    """Every counted figure: the table, which of its rows (in the period [lo, hi), or open on `today`), and the
    Tally fields its aggregates fill. One grouped query each, whatever the number of tenants."""
    return [
        (Concern, [_during(Concern.created_at, lo, hi), COUNTED],
         {"concerns_received": func.count(), "resolved_directly": func.count().filter(Concern.status == "resolved")}),
        (Topic, [_during(Topic.created_at, lo, hi)], {"topics": func.count()}),
        (Meeting, [_during(Meeting.minutes_recorded_at, lo, hi)], {"consultations_held": func.count()}),
        (Topic, [_during(Topic.completed_at, lo, hi)], {"matters_completed": func.count()}),
        (ActionItem, _overdue(today), {"overdue_action_items": func.count()}),
        (Rating, [_during(Rating.created_at, lo, hi)], {"rating_total": func.sum(Rating.score), "ratings": func.count()}),
        (FollowUp, [_during(FollowUp.created_at, lo, hi)], {"follow_ups": func.count()}),
        (FollowUp, [_FOLLOW_UP_OPEN], {"follow_ups_open": func.count()}),
    ]


async def tallies(session: AsyncSession, date_from: datetime.date, date_to: datetime.date,
                  by_tenant: bool = True) -> dict[Any, Tally]:
    """The figures for the days [date_from, date_to] of every tenant the session reads (one tenant, or a subtree
    it was widened to), by tenant id; a tenant with nothing to count has no entry. Without `by_tenant`, all of
    them together under the key None, from plain aggregates (a group per tenant costs a district dearly)."""
    lo, hi = clock.day_range(date_from, date_to)
    by_key: defaultdict[Any, Tally] = defaultdict(Tally)

    def key(model: Any) -> Any:
        return model.tenant_id if by_tenant else null()

    for model, where, aggregates in _counted(lo, hi, clock.today()):
        query = select(key(model), *aggregates.values()).select_from(model).where(*where)
        for group, *values in await session.execute(query.group_by(model.tenant_id) if by_tenant else query):
            for name, value in zip(aggregates, values, strict=True):
                setattr(by_key[group], name, int(value or 0))
    # A matter's days run from each of its concerns' filing to the topic's completion.
    for group, filed, done in await session.execute(
            select(key(Concern), Concern.created_at, Topic.completed_at)
            .join(Topic, and_(Topic.tenant_id == Concern.tenant_id, Topic.id == Concern.topic_id))
            .where(_during(Topic.completed_at, lo, hi))):
        if done is not None:  # always, within a range
            by_key[group].days_to_completion.append((done - filed).total_seconds() / 86400)
    return dict(by_key)


def total(by_tenant: dict[Any, Tally]) -> Figures:
    """The figures of all those tenants together."""
    return sum(by_tenant.values(), Tally()).figures()


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

    The rows and the totals come from the same per-tenant tallies as the API's statistics: a fixed number of
    grouped queries whatever the number of communities, never a query per row."""
    session, tenant = scope.session, scope.tenant
    parent = aliased(Tenant)
    communities = (await session.execute(
        select(Tenant.id, Tenant.slug, Tenant.name, parent.name)
        .outerjoin(parent, parent.id == Tenant.parent_id)
        .where(live_communities_below(tenant))
        .order_by(Tenant.path).limit(MAX_COMMUNITIES))).all()
    lo, hi = clock.day_range(date_from, date_to)
    async with scope.subtree():
        by_tenant = await tallies(session, date_from, date_to)
        # The matters completed, as the figure counts them, by the month (Beijing's) they were completed in.
        completed = (await session.scalars(select(Topic.completed_at).where(_during(Topic.completed_at, lo, hi)))).all()
        by_category = (await session.execute(concerns_by_category(lo, hi))).all()
        names = await category_names(session)
    rows = [CommunityRow(tid, slug, name, parent_name or "", by_tenant.get(tid, Tally()).figures())
            for tid, slug, name, parent_name in communities]

    months: dict[str, int] = {}
    month = date_from.replace(day=1)
    while month <= date_to:
        months[month.strftime("%Y-%m")] = 0
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    for done in completed:
        if done is None:  # not reached: a NULL is in no range
            continue
        key = clock.local(done).strftime("%Y-%m")
        if key in months:
            months[key] += 1
    categories = sorted(((names.get(code, code), int(count)) for code, count in by_category), key=lambda c: -c[1])
    overdue = sorted(((r.name, r.figures.overdue_action_items) for r in rows if r.figures.overdue_action_items),
                     key=lambda c: -c[1])
    return Dashboard(total(by_tenant), await _subtree_size(scope), rows, categories, list(months.items()), overdue)


def concerns_by_category(lo: datetime.datetime, hi: datetime.datetime) -> Select[str, int]:
    """The concerns filed in [lo, hi) by category, of every tenant the session reads: on PostgreSQL from the
    index alone (ix_concern_tenant_status_created carries the category), one range per community."""
    return (select(Concern.category, func.count()).where(_during(Concern.created_at, lo, hi), COUNTED)
            .group_by(Concern.category))


def sort_rows(rows: list[CommunityRow], sort: str, descending: bool) -> list[CommunityRow]:
    """Sorted by the community's name, its parent's or one of its figures; rows without that figure (no rating
    yet) go last either way."""

    def value(row: CommunityRow) -> Any:
        return getattr(row, sort) if sort in ("name", "parent") else getattr(row.figures, sort)

    present = [r for r in rows if value(r) is not None]
    absent = [r for r in rows if value(r) is None]
    return sorted(present, key=lambda r: (value(r), r.name), reverse=descending) + absent
