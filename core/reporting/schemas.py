"""What the figures look like when they leave: a period's figures, a tenant's with its roll-up, a portal's year, and
the rates of a month with their ranking."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec


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


class Rate(msgspec.Struct):
    """One rate: how many of how many (docs/rates.md), and their ratio (null with nothing to count)."""

    numerator: int
    denominator: int
    ratio: float | None


class RateFigures(msgspec.Struct):
    concerns_received: int
    response: Rate  # 响应率
    on_time: Rate  # 按时办结率
    solved: Rate  # 解决率
    satisfied: Rate  # 满意率
    reopened: Rate  # 重办率
    revisited: Rate  # 回访率
    median_hours_to_respond: float | None
    median_hours_to_resolve: float | None


class RatesOut(msgspec.Struct):
    tenant: str
    month: str  # YYYY-MM, Beijing time
    own: RateFigures
    rollup: RateFigures  # every tenant below together, the tenant's own included
    tenants_in_rollup: int


class RankedTenant(msgspec.Struct):
    slug: str
    name: str
    parent: str
    rank: int | None  # 1 is the best; null: not ranked (too few concerns, or no rate to rank by)
    composite: float | None  # the mean of 响应率, 按时办结率 and 满意率, where defined
    figures: RateFigures


class RankingOut(msgspec.Struct):
    """红黑榜: the communities below for a month, best first."""

    tenant: str
    month: str
    min_concerns: int  # the fewest concerns received that a community is ranked with
    red: list[RankedTenant]  # 红榜: the best, best first
    black: list[RankedTenant]  # 黑榜: the worst, worst first
    ranked: list[RankedTenant]
    too_few: list[RankedTenant]  # not ranked


class PublicRates(msgspec.Struct):
    """What a community's portal shows of its year: 响应率, 解决率, 满意率, each with its denominator."""

    year: int
    min_concerns: int  # under this many, a rate is shown as 样本不足
    response: Rate
    solved: Rate
    satisfied: Rate
