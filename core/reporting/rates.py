"""The rates of 接诉即办 (docs/rates.md), defined once: counted from the concerns' clocks and the revisits in a
fixed number of queries (one tenant, a subtree together, or a row per tenant), then shown as each rate's
numerator, denominator and ratio — for a tenant and its subtree, the ranking of the communities below (红黑榜),
a portal's year and open data."""

from __future__ import annotations

import datetime
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core import clock
from core.concerns.models import Concern
from core.errors import MalformedInput
from core.reporting.schemas import PublicRates, RankedTenant, RankingOut, Rate, RateFigures, RatesOut
from core.tenancy.models import Tenant, live_communities_below
from core.tenancy.scope import TenantScope
from core.timelimits.models import Revisit

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
DEFAULT_MIN_CONCERNS = 10  # a community needs this many concerns received in the month to be ranked
MIN_CONCERNS_KEY = "rates_min_concerns"  # a portal setting: the minimum, set by a district (or a street) for below
LIST_LENGTH = 5  # each of the red and the black list
MAX_RANKED = 2000  # the ranking's rows: every community below, bounded
SATISFIED = ("satisfied", "basic")  # 满意 and 基本满意
RANKED_RATES = ("response", "on_time", "satisfied")  # the composite is their mean, where defined
# A duplicate merged into another concern is not a concern of its own: the survivor is counted, it is not (until
# the merge is undone); one its filer withdrew before triage (core.concerns.corrections) was never handled.
# Every count and median of concerns below takes this condition.
COUNTED = Concern.status.not_in(("merged", "withdrawn"))


def report_month(raw: str | None) -> datetime.date:
    """The first day of the month `YYYY-MM` asks for (this month unless given), from 2000-01 to this month."""
    today = clock.today()
    if raw is None or raw == "":
        return today.replace(day=1)
    found = MONTH_RE.match(raw.strip())
    first = None
    if found and 1 <= int(found.group(2)) <= 12:
        first = datetime.date(int(found.group(1)), int(found.group(2)), 1)
    if first is None or not datetime.date(2000, 1, 1) <= first <= today.replace(day=1):
        # A query parameter of the wrong shape, as Litestar answers for its own: 400, on every route that takes one.
        raise MalformedInput("月份须为 2000-01 至 {latest} 之间的年月，如 2026-11", field="month",
                             latest=today.strftime("%Y-%m"))
    return first


def month_range(first: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The moments of a month on Beijing time, half-open: 2026-11 is [11-01 00:00+08:00, 12-01 00:00+08:00)."""
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return clock.day_start(first), clock.day_start(following)


def year_range(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    return clock.day_start(datetime.date(year, 1, 1)), clock.day_start(datetime.date(year + 1, 1, 1))


# --- the counts ------------------------------------------------------------------------------------------------


@dataclass
class RateTally:
    """What one tenant's (or a subtree's) rates for a period are made of: each rate's two counts, and each
    median already taken (a median does not add up: a subtree's is counted over the subtree, never summed)."""

    concerns_received: int = 0
    responded_in_time: int = 0
    response_counted: int = 0
    closed_in_time: int = 0
    due: int = 0
    said_solved: int = 0
    answered_solved: int = 0
    satisfied: int = 0
    rated: int = 0
    reopened: int = 0
    resolutions: int = 0
    revisits_answered: int = 0
    revisits_asked: int = 0
    hours_to_respond: float | None = None
    hours_to_resolve: float | None = None
    samples: dict[str, list[float]] = field(default_factory=dict)  # SQLite's medians, before they are taken

    def figures(self) -> RateFigures:
        return RateFigures(
            concerns_received=self.concerns_received,
            response=rate(self.responded_in_time, self.response_counted),
            on_time=rate(self.closed_in_time, self.due),
            solved=rate(self.said_solved, self.answered_solved),
            satisfied=rate(self.satisfied, self.rated),
            reopened=rate(self.reopened, self.resolutions),
            revisited=rate(self.revisits_answered, self.revisits_asked),
            median_hours_to_respond=_round(self.hours_to_respond),
            median_hours_to_resolve=_round(self.hours_to_resolve))


def rate(numerator: int, denominator: int) -> Rate:
    return Rate(numerator=numerator, denominator=denominator,
                ratio=round(numerator / denominator, 4) if denominator else None)


def _round(hours: float | None) -> float | None:
    return round(hours, 1) if hours is not None else None


def _during(column: Any, lo: datetime.datetime, hi: datetime.datetime) -> ColumnElement[bool]:
    return and_(column >= lo, column < hi)


def _counted(lo: datetime.datetime, hi: datetime.datetime,
             now: datetime.datetime) -> list[tuple[Any, list[ColumnElement[bool]], dict[str, Any]]]:
    """Every counted rate (docs/rates.md): the table, which of its rows, and the RateTally fields its aggregates
    fill. One query each, whatever the number of tenants."""
    responded_in_time = and_(Concern.responded_at.is_not(None), Concern.responded_at <= Concern.respond_by)
    closed_in_time = and_(Concern.closed_at.is_not(None), Concern.closed_at <= Concern.resolve_by)
    return [
        # Received in the month; the response rate counts those with a limit once responded or due.
        (Concern, [_during(Concern.created_at, lo, hi)], {
            "concerns_received": func.count(),
            "response_counted": func.count().filter(Concern.respond_by.is_not(None), or_(
                Concern.responded_at.is_not(None), Concern.respond_by <= now)),
            "responded_in_time": func.count().filter(responded_in_time)}),
        # Due in the month, once closed or past due; a rejected concern is not a resolution.
        (Concern, [_during(Concern.resolve_by, lo, hi), Concern.status != "rejected",
                   or_(Concern.closed_at.is_not(None), Concern.resolve_by <= now)], {
            "due": func.count(), "closed_in_time": func.count().filter(closed_in_time)}),
        # Revisits answered in the month.
        (Revisit, [_during(Revisit.answered_at, lo, hi)], {
            "answered_solved": func.count().filter(Revisit.solved.is_not(None)),
            "said_solved": func.count().filter(Revisit.solved.is_(True)),
            "rated": func.count().filter(Revisit.satisfaction.is_not(None)),
            "satisfied": func.count().filter(Revisit.satisfaction.in_(SATISFIED))}),
        # Revisits asked in the month: one per resolution; 未解决 reopened it.
        (Revisit, [_during(Revisit.asked_at, lo, hi)], {
            "revisits_asked": func.count(), "resolutions": func.count(),
            "revisits_answered": func.count().filter(Revisit.answered_at.is_not(None)),
            "reopened": func.count().filter(Revisit.solved.is_(False))}),
    ]


def _medians(lo: datetime.datetime, hi: datetime.datetime) -> list[tuple[str, Any, Any, list[ColumnElement[bool]]]]:
    """Each median's field, the moments it runs between and which concerns (those responded, or resolved, in
    the month)."""
    return [
        ("hours_to_respond", Concern.created_at, Concern.responded_at, [_during(Concern.responded_at, lo, hi)]),
        ("hours_to_resolve", Concern.created_at, Concern.closed_at,
         [_during(Concern.closed_at, lo, hi), Concern.status != "rejected"]),
    ]


async def rate_tallies(session: AsyncSession, lo: datetime.datetime, hi: datetime.datetime,
                       by_tenant: bool = True) -> dict[Any, RateTally]:
    """The rates for the moments [lo, hi) of every tenant the session reads (one tenant, or a subtree it was
    widened to), by tenant id; a tenant with nothing to count has no entry. Without `by_tenant`, all of them
    together under the key None, from plain aggregates."""
    by_key: defaultdict[Any, RateTally] = defaultdict(RateTally)

    def key(model: Any) -> Any:
        return model.tenant_id if by_tenant else null()

    for model, where, aggregates in _counted(lo, hi, clock.now()):
        query = select(key(model), *aggregates.values()).select_from(model).where(*where)
        if model is Concern:
            query = query.where(COUNTED)
        for group, *values in await session.execute(query.group_by(model.tenant_id) if by_tenant else query):
            for name, value in zip(aggregates, values, strict=True):
                setattr(by_key[group], name, int(value or 0))
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    for name, start, end, where in _medians(lo, hi):
        where = [*where, COUNTED]
        if postgres:  # the database takes the median: no row leaves it
            taken = func.extract("epoch", end - start) / 3600
            query = select(key(Concern), func.percentile_cont(0.5).within_group(taken)).select_from(Concern).where(*where)
            for group, median in await session.execute(query.group_by(Concern.tenant_id) if by_tenant else query):
                setattr(by_key[group], name, float(median) if median is not None else None)
            continue
        for group, began, ended in await session.execute(select(key(Concern), start, end).where(*where)):
            by_key[group].samples.setdefault(name, []).append((ended - began).total_seconds() / 3600)
    for tally in by_key.values():
        for name, hours in tally.samples.items():
            setattr(tally, name, statistics.median(hours))
        tally.samples = {}
    return dict(by_key)


async def _together(session: AsyncSession, lo: datetime.datetime, hi: datetime.datetime) -> RateFigures:
    return (await rate_tallies(session, lo, hi, by_tenant=False)).get(None, RateTally()).figures()


# --- what reads them -------------------------------------------------------------------------------------------


async def min_concerns(session: AsyncSession, tenant: Tenant) -> int:
    """The fewest concerns received that make a tenant's rates fair to rank or show: set in a tenant's portal
    settings for every tenant below, the nearest one's applying (a district's, unless a street sets its own)."""
    ancestors = {t.id: t for t in (await session.scalars(select(Tenant).where(Tenant.id.in_(tenant.ancestor_ids)))).all()}
    for tenant_id in reversed(tenant.ancestor_ids):
        raw = (ancestors[tenant_id].portal or {}).get(MIN_CONCERNS_KEY) if tenant_id in ancestors else None
        if raw and str(raw).isdecimal() and int(raw) > 0:
            return int(raw)
    return DEFAULT_MIN_CONCERNS


async def tenant_rates(scope: TenantScope, first: datetime.date) -> RatesOut:
    """The scope's tenant's own rates for the month, then its subtree's: plain aggregates each time."""
    session, tenant = scope.session, scope.tenant
    lo, hi = month_range(first)
    own = await _together(session, lo, hi)
    async with scope.subtree():
        rollup = await _together(session, lo, hi)
    size = await session.scalar(select(func.count()).select_from(Tenant).where(Tenant.path.startswith(tenant.path)))
    return RatesOut(tenant=tenant.slug, month=first.strftime("%Y-%m"), own=own, rollup=rollup,
                    tenants_in_rollup=int(size or 0))


def composite(figures: RateFigures) -> float | None:
    """The ranking's score: the mean of 响应率, 按时办结率 and 满意率, over those with a denominator."""
    ratios = [r.ratio for r in (getattr(figures, name) for name in RANKED_RATES) if r.ratio is not None]
    return round(sum(ratios) / len(ratios), 4) if ratios else None


async def ranking(scope: TenantScope, first: datetime.date, minimum: int | None = None) -> RankingOut:
    """The communities below the scope's tenant for the month, ranked by their composite (a share of their own
    concerns, so volume does not rank them), best first; only those with at least `minimum` concerns received
    (else the setting that applies) are ranked. Grouped queries: their number does not grow with the communities."""
    session, tenant = scope.session, scope.tenant
    least = minimum if minimum is not None else await min_concerns(session, tenant)
    parent = aliased(Tenant)
    communities = (await session.execute(
        select(Tenant.id, Tenant.slug, Tenant.name, parent.name)
        .outerjoin(parent, parent.id == Tenant.parent_id)
        .where(live_communities_below(tenant))
        .order_by(Tenant.path).limit(MAX_RANKED))).all()
    lo, hi = month_range(first)
    async with scope.subtree():
        by_tenant = await rate_tallies(session, lo, hi)
    rows = [_row(slug, name, parent_name, by_tenant.get(tid, RateTally()).figures())
            for tid, slug, name, parent_name in communities]
    eligible = {r.slug for r in rows if r.figures.concerns_received >= least and r.composite is not None}
    ranked = sorted((r for r in rows if r.slug in eligible), key=lambda r: (-(r.composite or 0), -r.figures.concerns_received, r.name))
    for place, row in enumerate(ranked, 1):
        row.rank = place
    # Each list takes at most half of those ranked, so that no community is on both.
    length = min(LIST_LENGTH, len(ranked) // 2)
    return RankingOut(tenant=tenant.slug, month=first.strftime("%Y-%m"), min_concerns=least,
                      red=ranked[:length], black=ranked[::-1][:length], ranked=ranked,
                      too_few=[r for r in rows if r.slug not in eligible])


def _row(slug: str, name: str, parent_name: str | None, figures: RateFigures) -> RankedTenant:
    return RankedTenant(slug=slug, name=name, parent=parent_name or "", rank=None, composite=composite(figures),
                        figures=figures)


async def public_rates(session: AsyncSession, tenant: Tenant, year: int) -> PublicRates:
    """A portal's three rates for `year` so far, over the one tenant the public session reads."""
    lo, hi = year_range(year)
    figures = await _together(session, lo, hi)
    return PublicRates(year=year, min_concerns=await min_concerns(session, tenant), response=figures.response,
                       solved=figures.solved, satisfied=figures.satisfied)


async def monthly_rates(session: AsyncSession, months: list[datetime.date]) -> list[tuple[datetime.date, RateFigures]]:
    """The rates of each month given, over the tenant the session reads (open data)."""
    return [(first, await _together(session, *month_range(first))) for first in months]
