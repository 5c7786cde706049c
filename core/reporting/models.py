"""The figures' table: a tenant's additive figures per Beijing day and per month, its own and its subtree's, kept
by the fan-out of the event log (`core.reporting.tallies`) so that reading them never counts the concerns."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import Boolean, Date, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JsonB, TenantOwned


class DayTally(TenantOwned, Base):
    """What a tenant's figures add up from for one day (or, `month`, the month beginning on `day`): its own
    (`subtree` False), or its own and every tenant's below (`subtree` True, what a district's roll-up reads)."""

    __tablename__ = "day_tally"
    # The one index a read takes: a tenant's own or subtree rows, months then days, in order.
    __table_args__ = (UniqueConstraint("tenant_id", "subtree", "month", "day"),)

    subtree: Mapped[bool] = mapped_column(Boolean)
    month: Mapped[bool] = mapped_column(Boolean)
    day: Mapped[datetime.date] = mapped_column(Date)
    concerns_received: Mapped[int] = mapped_column(Integer, default=0)
    resolved_directly: Mapped[int] = mapped_column(Integer, default=0)
    topics: Mapped[int] = mapped_column(Integer, default=0)
    consultations_held: Mapped[int] = mapped_column(Integer, default=0)
    matters_completed: Mapped[int] = mapped_column(Integer, default=0)
    rating_total: Mapped[int] = mapped_column(Integer, default=0)
    ratings: Mapped[int] = mapped_column(Integer, default=0)
    follow_ups: Mapped[int] = mapped_column(Integer, default=0)
    # Each completed matter's time from filing to completion, in whole minutes → how many: a median over any
    # range is read from these (medians do not add up; histograms do).
    minutes_to_completion: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    # The concerns received, by category code → how many (what a district's dashboard charts).
    concerns_by_category: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
