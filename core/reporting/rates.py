"""The rates of 接诉即办 (docs/rates.md), defined once: read from the counts the fan-out keeps per tenant and day
(`core.reporting.tallies`: each rate's two counts by the day it counts a concern or revisit by, histograms for the
medians), less what is not yet due (counted live from the open concerns' deadlines still ahead), then shown as
each rate's numerator, denominator and ratio — for a tenant and its subtree, the ranking of the communities below
(红黑榜), a portal's year and open data. A fixed number of queries whatever the number of concerns or communities."""

from __future__ import annotations

import datetime
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core import clock
from core.concerns.models import Concern
from core.errors import MalformedInput
from core.reporting import tallies as kept
from core.reporting.schemas import PublicRates, RankedTenant, RankingOut, Rate, RateFigures, RatesOut
from core.reporting.tallies import COUNTED
from core.tenancy.models import Tenant, live_communities_below
from core.tenancy.scope import TenantScope

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
DEFAULT_MIN_CONCERNS = 10  # a community needs this many concerns received in the month to be ranked
MIN_CONCERNS_KEY = "rates_min_concerns"  # a portal setting: the minimum, set by a district (or a street) for below
LIST_LENGTH = 5  # each of the red and the black list
MAX_RANKED = 2000  # the ranking's rows: every community below, bounded
RANKED_RATES = ("response", "on_time", "satisfied")  # the composite is their mean, where defined


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


def month_end(first: datetime.date) -> datetime.date:
    """The last day of the month beginning on `first`."""
    return (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def month_range(first: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The moments of a month on Beijing time, half-open: 2026-11 is [11-01 00:00+08:00, 12-01 00:00+08:00)."""
    return clock.day_range(first, month_end(first))


# --- the counts ------------------------------------------------------------------------------------------------


@dataclass
class NotYetDue:
    """What the kept counts cannot know, for they change with the clock alone: the concerns whose deadline is still
    ahead, which a rate counts only once due (counted live, a small indexed set: a few days' deadlines)."""

    to_respond: int = 0  # received in the period, not responded to, the response deadline still ahead
    to_resolve: int = 0  # falling due in the period, not closed, the deadline still ahead


def rate(numerator: int, denominator: int) -> Rate:
    return Rate(numerator=numerator, denominator=denominator,
                ratio=round(numerator / denominator, 4) if denominator else None)


def _hours(minutes: float | None) -> float | None:
    return round(minutes / 60, 1) if minutes is not None else None


def rate_figures(part: kept.Part, not_yet: NotYetDue) -> RateFigures:
    """The rates of what `part` kept for a period, less what is not yet due. The live count can run ahead of the
    kept one for the seconds until the fan-out has counted a new concern: a denominator never falls below its
    numerator meanwhile."""
    c = part.counts
    return RateFigures(
        concerns_received=c["concerns_received"],
        response=rate(c["responded_in_time"], max(c["responded_in_time"], c["respond_limits"] - not_yet.to_respond)),
        on_time=rate(c["closed_in_time"], max(c["closed_in_time"], c["resolve_limits"] - not_yet.to_resolve)),
        solved=rate(c["said_solved"], c["answered_solved"]),
        satisfied=rate(c["satisfied"], c["rated"]),
        reopened=rate(c["reopened"], c["revisits_asked"]),
        revisited=rate(c["revisits_answered"], c["revisits_asked"]),
        median_hours_to_respond=_hours(part.median_minutes("minutes_to_respond")),
        median_hours_to_resolve=_hours(part.median_minutes("minutes_to_resolve")))


def _during(column: Any, lo: datetime.datetime, hi: datetime.datetime) -> ColumnElement[bool]:
    return and_(column >= lo, column < hi)


async def not_yet_due(session: AsyncSession, first: datetime.date, last: datetime.date) -> dict[uuid.UUID, NotYetDue]:
    """For every tenant the session reads (one, or a subtree it was widened to), what of the days [first, last] is
    not yet due now: two grouped counts over the open concerns' deadlines still ahead."""
    lo, hi = clock.day_range(first, last)
    now = clock.now()
    by_tenant: defaultdict[uuid.UUID, NotYetDue] = defaultdict(NotYetDue)
    awaiting = select(Concern.tenant_id, func.count()).where(
        Concern.responded_at.is_(None), Concern.respond_by > now, _during(Concern.created_at, lo, hi), COUNTED)
    for tenant_id, count in await session.execute(awaiting.group_by(Concern.tenant_id)):
        by_tenant[tenant_id].to_respond = int(count)
    if hi > now:  # a deadline in the period can still be ahead
        ahead = select(Concern.tenant_id, func.count()).where(
            Concern.resolve_by > now, _during(Concern.resolve_by, lo, hi), Concern.closed_at.is_(None),
            Concern.status != "rejected", COUNTED)
        for tenant_id, count in await session.execute(ahead.group_by(Concern.tenant_id)):
            by_tenant[tenant_id].to_resolve = int(count)
    return dict(by_tenant)


def _sum(ahead: dict[uuid.UUID, NotYetDue]) -> NotYetDue:
    return NotYetDue(sum(n.to_respond for n in ahead.values()), sum(n.to_resolve for n in ahead.values()))


async def _rolled_up(session: AsyncSession, tenant_id: uuid.UUID, first: datetime.date,
                     last: datetime.date) -> RateFigures:
    """The rates of the tenant and every tenant below it for the days [first, last], in a session that reads them
    all (`counting_below`): its subtree's kept rows, less what is not yet due in them."""
    _, tree = await kept.read(session, tenant_id, first, last)
    return rate_figures(tree, _sum(await not_yet_due(session, first, last)))


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
    """The scope's tenant's own rates for the month, and its subtree's: from its own kept rows and its subtree's
    (one query), less what is not yet due below it (two grouped counts)."""
    session, tenant = scope.session, scope.tenant
    last = month_end(first)
    own, tree = await kept.read(session, tenant.id, first, last)
    async with scope.subtree():
        ahead = await not_yet_due(session, first, last)
    size = await session.scalar(select(func.count()).select_from(Tenant).where(Tenant.path.startswith(tenant.path)))
    return RatesOut(tenant=tenant.slug, month=first.strftime("%Y-%m"),
                    own=rate_figures(own, ahead.get(tenant.id, NotYetDue())), rollup=rate_figures(tree, _sum(ahead)),
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
    last = month_end(first)
    async with scope.subtree():
        parts = await kept.read_below(session, first, last, ("minutes_to_respond", "minutes_to_resolve"))
        ahead = await not_yet_due(session, first, last)
    rows = [_row(slug, name, parent_name, rate_figures(parts.get(tid, kept.Part()), ahead.get(tid, NotYetDue())))
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
    """A portal's three rates for `year` so far: its tenant's and those below it (read within `counting_below`)."""
    figures = await _rolled_up(session, tenant.id, datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    return PublicRates(year=year, min_concerns=await min_concerns(session, tenant), response=figures.response,
                       solved=figures.solved, satisfied=figures.satisfied)


async def monthly_rates(session: AsyncSession, tenant_id: uuid.UUID,
                        months: list[datetime.date]) -> list[tuple[datetime.date, RateFigures]]:
    """The rates of the tenant and those below it for each month given (open data, within `counting_below`)."""
    return [(first, await _rolled_up(session, tenant_id, first, month_end(first))) for first in months]
