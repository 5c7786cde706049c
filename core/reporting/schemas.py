"""What the figures look like when they leave: a period's figures, a tenant's with its roll-up, a portal's year."""

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
